#!/usr/bin/env bash
# `bonesim run --replay LOG` (agents/actions.h) without a display: a log
# replays at its steps, stops at `end`, a reset's seed wins, and bad logs
# fail with file:line.
set -uo pipefail
bin=$1
. "$(dirname "$0")/lib.sh"
export OMP_NUM_THREADS=1
args=(single_bmu --set lattice.width_sites=60 --set lattice.height_sites=40 --quiet --force)
col() { awk -F, -v c="$1" -v r="$2" 'NR == r + 2 { print $c }' "$3"; }

# Find free marrow sites by trying: the first inject that works is used.
"$bin" run --help | grep -q -- "--replay LOG" && ok || bad "run --help lists --replay"

# 1. injected tumour cells are in the row of the step they were injected at
#    (actions come before that step's outputs), and `end` sets the length.
printf '# test\n24 inject dtc 30 5\n24 inject dtc 31 5\n24 therapy denosumab on\n48 end\n' >"$tmp/a.log"
if "$bin" run "${args[@]}" --replay "$tmp/a.log" --out "$tmp/a" 2>"$tmp/err"; then
  rows=$(($(wc -l <"$tmp/a/timeseries.csv") - 1))
  [ "$rows" = 3 ] && ok || bad "end at step 48 should give 3 rows (day 0, 1, 2), got $rows"
  [ "$(col 10 0 "$tmp/a/timeseries.csv")" = 0 ] && ok || bad "no tumour cells before the inject"
  [ "$(col 10 1 "$tmp/a/timeseries.csv")" = 2 ] && ok || bad "2 tumour cells in the day-1 row: $(col 10 1 "$tmp/a/timeseries.csv")"
else
  bad "replay a.log failed: $(cat "$tmp/err")"
fi

# 2. determinism: the same log twice gives the same bytes; a reset's seed is used
printf '5 set oc.lifespan_d 5\n30 reset 9\n10 inject dtc 30 5\n30 end\n' >"$tmp/b.log"
"$bin" run "${args[@]}" --replay "$tmp/b.log" --out "$tmp/b1" 2>/dev/null && ok || bad "replay b.log"
"$bin" run "${args[@]}" --replay "$tmp/b.log" --out "$tmp/b2" 2>/dev/null && ok || bad "replay b.log again"
cmp -s "$tmp/b1/timeseries.csv" "$tmp/b2/timeseries.csv" && ok || bad "same log, different CSV"
grep -q '"run.seed": {"value": 9,' "$tmp/b1/manifest.json" && ok || bad "the reset's seed 9 is not in the manifest"
printf '10 inject dtc 30 5\n30 end\n' >"$tmp/c.log"
"$bin" run "${args[@]}" --seed 9 --replay "$tmp/c.log" --out "$tmp/c" 2>/dev/null && ok || bad "replay c.log"
cmp -s "$tmp/b1/timeseries.csv" "$tmp/c/timeseries.csv" && ok || bad "the segment after the reset should equal a run with seed 9"

# 3. bad logs: file:line, exit 2
printf '1 therapy denosumab on\n2 therapy aspirin on\n' >"$tmp/bad1.log"
expect_fail "unknown therapy" "bad1.log:2: unknown therapy 'aspirin'" "$bin" run "${args[@]}" --replay "$tmp/bad1.log" --out "$tmp/x"
printf '0 inject dtc 0 0\n0 inject dtc 0 0\n' >"$tmp/bad2.log"
expect_fail "inject on a taken site" "bad2.log:2: .*not a free marrow site" "$bin" run "${args[@]}" --replay "$tmp/bad2.log" --out "$tmp/x"
printf '3 set lattice.width_sites 80\n' >"$tmp/bad3.log"
expect_fail "fixed parameter" "bad3.log:1: .*cannot change while the model runs" "$bin" run "${args[@]}" --replay "$tmp/bad3.log" --out "$tmp/x"
expect_fail "missing log" "nope.log: cannot read" "$bin" run "${args[@]}" --replay "$tmp/nope.log" --out "$tmp/x"
expect_fail "replay + checkpoints" "cannot be combined with --checkpoint-every" "$bin" run "${args[@]}" --replay "$tmp/a.log" --checkpoint-every 1 --out "$tmp/x"
expect_fail "resume takes no --replay" "does not take --replay" "$bin" resume "$tmp/none.ckpt" --replay "$tmp/a.log"

finish replay
