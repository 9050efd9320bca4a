#!/usr/bin/env bash
# Memcheck (valgrind) on short runs of small scenarios: every rule, the
# field solver, output, a checkpoint written, resumed and stepped on. Any
# invalid read or write, use of an uninitialised value or definite leak
# fails (--error-exitcode). Issue 13 item 7: the solver cache was copied
# from an uninitialised stack header in bs_field_init, which this found.
# Usage: tests/valgrind.sh path/to/bonesim   (about a minute on 2 cores)
set -uo pipefail
bin=$1
. "$(dirname "$0")/lib.sh"
command -v valgrind >/dev/null || { echo "valgrind: not installed (bash .ci/deps.sh)"; exit 1; }
export OMP_WAIT_POLICY=passive
vg=(valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite --show-leak-kinds=definite --track-origins=yes)
size=(--set lattice.width_sites=40 --set lattice.height_sites=40 --quiet --force)
# memcheck NAME CMD...: exit 0 and nothing reported
memcheck() {
  local name=$1
  shift
  "${vg[@]}" "$@" >"$tmp/out" 2>"$tmp/err"
  local rc=$?
  if [ $rc -eq 0 ] && [ ! -s "$tmp/err" ]; then ok; else bad "$name: status $rc"; head -40 "$tmp/err"; fi
}
# 2 threads: the OpenMP paths; valgrind runs them one at a time
memcheck "vicious_cycle" "$bin" run vicious_cycle "${size[@]}" --days 3 --threads 2 --out "$tmp/vc"
memcheck "immune_surveillance" "$bin" run immune_surveillance "${size[@]}" --days 2 --threads 2 --out "$tmp/is"
memcheck "anti_pd1_zoledronic" "$bin" run anti_pd1_zoledronic "${size[@]}" --days 2 --threads 1 \
  --set therapy.anti_pd1.start_day=0 --set therapy.zoledronic_acid.start_day=0 --out "$tmp/tz"
memcheck "checkpoint" "$bin" run homeostasis "${size[@]}" --days 2 --checkpoint-every 1 --threads 1 --out "$tmp/ck"
c=$(ls "$tmp"/ck/*.ckpt 2>/dev/null | head -1)
[ -n "$c" ] && memcheck "resume" "$bin" resume "$c" --days 3 --threads 1 --quiet --out "$tmp/ck2" || bad "no checkpoint written"
finish valgrind
