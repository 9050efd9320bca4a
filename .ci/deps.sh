#!/usr/bin/env bash
# Installs the Debian packages bonesim needs to build and test.
# As root it runs apt-get; otherwise it prints the exact command to run.
# Idempotent: does nothing when everything is present.
set -euo pipefail
pkgs=(build-essential cmake pkg-config libpng-dev libinih-dev libcmocka-dev python3)
# CI extras: static analysis (.ci/run); `deps.sh fuzz`: clang, libFuzzer and
# clang's OpenMP runtime for the fuzz session (.ci/fuzz.sh).
pkgs+=(cppcheck)
# Memcheck on short runs (tests/valgrind.sh, from .ci/run).
pkgs+=(valgrind)
# The live viewer (bonesim view): SDL2, SDL2_ttf and a TrueType font; Xvfb
# (with xauth for xvfb-run) to try it and measure it without a screen.
pkgs+=(libsdl2-dev libsdl2-ttf-dev fonts-dejavu-core xvfb xauth)
# Experiments across MPI ranks (docs/cluster.md) and their test (tests/mpi.sh).
pkgs+=(libopenmpi-dev openmpi-bin)
# Spatial snapshots (run --spatial-every) and the analysis example
# (docs/analysis.md): libhdf5, h5clear/h5ls, Python with h5py, numpy, matplotlib.
pkgs+=(libhdf5-dev hdf5-tools python3-h5py python3-numpy python3-matplotlib)
# Figures and video (README, "Figures and video"): FreeType (and fontconfig,
# to find the font) for text in PNGs, giflib for GIF videos, ffmpeg for MP4
# videos and its ffprobe for the test (tests/figures.sh).
pkgs+=(libfreetype-dev libfontconfig-dev libgif-dev ffmpeg)
[ "${1:-}" = fuzz ] && pkgs+=(clang libclang-rt-14-dev libomp-14-dev)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "bonesim needs these Debian packages: ${missing[*]}" >&2
  echo "install them with:  sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq "${missing[@]}" >/dev/null
echo "installed: ${missing[*]}"
