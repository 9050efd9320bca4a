#!/usr/bin/env bash
# The README's test command: install dependencies, build, run every test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash .ci/deps.sh
# Tests run side by side (ctest -j) with 2 OpenMP threads each: spinning
# waits would oversubscribe the cores and slow the runs many times over.
export OMP_WAIT_POLICY=passive
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release ${BONESIM_CMAKE_FLAGS:-} >/dev/null
cmake --build build -j "$(nproc)"
ctest --test-dir build --output-on-failure -j 2
