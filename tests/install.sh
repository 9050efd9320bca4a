#!/usr/bin/env bash
# `cmake --install` into a temporary prefix: the program, the scenarios
# (share/bonesim/scenarios), the docs, libbonesim with its headers,
# bonesim.pc and the CMake package; docs/embedding/example.c builds against
# the installed library via pkg-config and via find_package, and runs.
#   install.sh BUILD_DIR [EXTRA_FLAGS]   (EXTRA_FLAGS: e.g. the sanitizer
#   flags the library was built with)
set -uo pipefail
build=$1
extra=${2:-}
. "$(dirname "$0")/lib.sh"
src="$(cd "$(dirname "$0")/.." && pwd)"
prefix="$tmp/prefix"
export OMP_WAIT_POLICY=passive
cmake --install "$build" --prefix "$prefix" >"$tmp/install.log" 2>&1 || { bad "cmake --install"; cat "$tmp/install.log"; }
for f in bin/bonesim lib/libbonesim.a include/bonesim/model.h include/bonesim/catalog.h include/bonesim/config.h \
  lib/pkgconfig/bonesim.pc lib/cmake/bonesim/bonesimConfig.cmake lib/cmake/bonesim/bonesimTargets.cmake \
  share/bonesim/scenarios/homeostasis.ini share/bonesim/scenarios/vicious_cycle.ini \
  share/doc/bonesim/embedding.md share/doc/bonesim/analysis.md; do
  [ -e "$prefix/$f" ] && ok || bad "not installed: $f"
done
n_src=$(ls "$src"/scenarios/*.ini | wc -l)
n_inst=$(ls "$prefix"/share/bonesim/scenarios/*.ini | wc -l)
[ "$n_src" -eq "$n_inst" ] && ok || bad "$n_inst scenarios installed, $n_src shipped"

# expect_days OUT: the example printed days 1..10 with numbers.
expect_days() {
  [ "$(grep -c '^day ' "$1")" -eq 10 ] && grep -q '^day  10.0  BV/TV 0\.[0-9]*  osteoclasts' "$1" && ok ||
    { bad "example output:"; cat "$1"; }
}

# 1. pkg-config (from outside the source tree: only the prefix is used).
mkdir -p "$tmp/pc" && cp "$src/docs/embedding/example.c" "$tmp/pc/"
(
  cd "$tmp/pc" &&
    PKG_CONFIG_PATH="$prefix/lib/pkgconfig" cc -std=c17 $extra example.c -o example \
      $(PKG_CONFIG_PATH="$prefix/lib/pkgconfig" pkg-config --cflags --libs bonesim)
) >"$tmp/pc.log" 2>&1 || { bad "build via pkg-config"; cat "$tmp/pc.log"; }
[ -x "$tmp/pc/example" ] && { "$tmp/pc/example" >"$tmp/pc.out" 2>&1 || bad "example (pkg-config) failed"; expect_days "$tmp/pc.out"; }

# 2. find_package(bonesim) in a CMake project.
mkdir -p "$tmp/cm" && cp "$src/docs/embedding/example.c" "$tmp/cm/"
cat >"$tmp/cm/CMakeLists.txt" <<CM
cmake_minimum_required(VERSION 3.20)
project(bonesim_example C)
find_package(bonesim 0.1 REQUIRED)
add_executable(example example.c)
target_compile_options(example PRIVATE $extra)
target_link_options(example PRIVATE $extra)
target_link_libraries(example PRIVATE bonesim::bonesim)
CM
{ cmake -S "$tmp/cm" -B "$tmp/cm/build" -DCMAKE_PREFIX_PATH="$prefix" && cmake --build "$tmp/cm/build"; } \
  >"$tmp/cm.log" 2>&1 || { bad "build via find_package"; cat "$tmp/cm.log"; }
[ -x "$tmp/cm/build/example" ] && { "$tmp/cm/build/example" >"$tmp/cm.out" 2>&1 || bad "example (CMake) failed"; expect_days "$tmp/cm.out"; }
cmp -s "$tmp/pc.out" "$tmp/cm.out" && ok || bad "the two builds of the example print different results"

# 3. The installed program finds its scenarios relative to itself
#    (../share/bonesim/scenarios): run by name from elsewhere, no variables.
(cd "$tmp" && env -u BONESIM_SCENARIOS -u BONESIM_DATA "$prefix/bin/bonesim" run homeostasis --days 2 --threads 1 --quiet --no-png \
  --set lattice.width_sites=32 --set lattice.height_sites=32 --out "$tmp/run") || bad "installed bonesim run"
[ -s "$tmp/run/timeseries.csv" ] && ok || bad "installed bonesim wrote no CSV"
finish install
