#!/usr/bin/env bash
# The README's main job: install dependencies, build, run the headline
# scenario (metastasis: the natural history of a bone metastasis) headless. Extra arguments go to `bonesim run`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash .ci/deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j "$(nproc)"
./build/bonesim run metastasis --out out/metastasis --force "$@"
