#!/usr/bin/env bash
# Issue 19: bonesim's OpenMP threads spin briefly before they sleep. libgomp
# reads GOMP_SPINCOUNT before main; the program sets it first (or starts
# itself again), never over a user's own setting. OMP_DISPLAY_ENV makes
# libgomp print what it read at its start-up.
set -euo pipefail
bin=$1
shown() { env -u OMP_WAIT_POLICY -u GOMP_SPINCOUNT -u BONESIM_GOMP_SPINCOUNT OMP_DISPLAY_ENV=verbose "$@" \
  "$bin" --version 2>&1; }
u=$(shown BS_NONE=1)
if ! grep -q "GOMP_SPINCOUNT = " <<<"$u"; then
  echo "waitpolicy: skipped (not libgomp: no GOMP_SPINCOUNT in OMP_DISPLAY_ENV)"; exit 0
fi
# the last one shown: where libgomp is a shared library the program starts
# itself again, and the first process's libgomp shows its defaults too
spin=$(shown BS_NONE=1 | sed -n "s/.*GOMP_SPINCOUNT = '\([0-9]*\)'.*/\1/p" | tail -n 1)
[[ "$spin" =~ ^[0-9]+$ ]] || { echo "FAIL: no spin count shown ('$spin')"; exit 1; }
# libgomp's own default is 300000 rounds (~19 ms of PAUSE on Zen 4)
if [ "$spin" -ge 300000 ] || [ "$spin" -lt 100 ]; then echo "FAIL: spin count $spin (expected 100 .. 299999)"; exit 1; fi
# the user's choice stands
u=$(shown GOMP_SPINCOUNT=12345); grep -q "GOMP_SPINCOUNT = '12345'" <<<"$u" || { echo "FAIL: user GOMP_SPINCOUNT overridden"; exit 1; }
u=$(shown OMP_WAIT_POLICY=active); grep -q "OMP_WAIT_POLICY = 'ACTIVE'" <<<"$u" || { echo "FAIL: user OMP_WAIT_POLICY overridden"; exit 1; }
a=$(shown OMP_WAIT_POLICY=active | sed -n "s/.*GOMP_SPINCOUNT = '\([0-9]*\)'.*/\1/p" | tail -n 1)
[ "$a" != "$spin" ] || { echo "FAIL: OMP_WAIT_POLICY=active still got bonesim's spin count"; exit 1; }
echo "waitpolicy: spin count $spin set before libgomp started; user settings kept"
