#!/usr/bin/env bash
# The README's test command: install dependencies, build, run every test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash .ci/deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release ${BONESIM_CMAKE_FLAGS:-} >/dev/null
cmake --build build -j "$(nproc)"
ctest --test-dir build --output-on-failure -j 2
