#!/usr/bin/env bash
# The run side of issue 13's attack, one reproducer per failure: output
# intervals below one step (the hang), a single SIGTERM, file-size limits
# (SIGXFSZ / EFBIG), a locked output folder, what --force removes, and the
# smaller ones (--no-png across resume, a full disk at the start, stale
# checkpoint temporaries, a damaged version byte, long messages, an
# out-of-lattice inject in a replay log). Each block failed before its fix.
set -uo pipefail
bin=$1
. "$(dirname "$0")/lib.sh"
export OMP_WAIT_POLICY=passive OMP_NUM_THREADS=1
small=(--set lattice.width_sites=16 --set lattice.height_sites=16)
sc=$(cd "$(dirname "$0")/../scenarios" && pwd)

# 1. Intervals below one step are refused (they made the schedule spin
#    forever), from the command line, --set and a scenario file; 0 is fine.
#    `timeout` turns the old hang into a failure instead of a stuck test.
for opt in --csv-every --png-every --checkpoint-every; do
  expect_fail "$opt 1e-13" "$opt 1e-13: .*shorter than one step.*valid: 0 .* or 0\.0416667 \.\. 36525 days" \
    timeout -k 2 10 "$bin" run homeostasis "${small[@]}" --days 1 $opt 1e-13 --out "$tmp/i" --force --quiet
done
expect_fail "--set run.png_every_d=1e-10" "--set run.png_every_d=1e-10: .*shorter than one step" \
  timeout -k 2 10 "$bin" run homeostasis "${small[@]}" --days 1 --set run.png_every_d=1e-10 --out "$tmp/i" --force --quiet
printf 'include = %s/homeostasis.ini\n[run]\ncsv_every_d = 1e-300\n' "$sc" >"$tmp/tiny.ini"
expect_fail "csv_every_d = 1e-300 in a file" "tiny.ini:3: run.csv_every_d: .*shorter than one step" \
  timeout -k 2 10 "$bin" run "$tmp/tiny.ini" "${small[@]}" --days 1 --out "$tmp/i" --force --quiet
timeout -k 2 60 "$bin" run homeostasis "${small[@]}" --days 1 --csv-every 0 --png-every 0 --checkpoint-every 0 \
  --out "$tmp/zero" --quiet && ok || bad "intervals of 0 refused"
[ "$(wc -l <"$tmp/zero/timeseries.csv")" = 3 ] && ok || bad "--csv-every 0: rows at the start and the end only"
timeout -k 2 60 "$bin" run homeostasis "${small[@]}" --days 1 --csv-every 0.0416667 --checkpoint-every 1 \
  --out "$tmp/step" --quiet && ok || bad "an interval of one step refused"
expect_fail "resume --csv-every 1e-13" "--csv-every 1e-13: .*shorter than one step" \
  timeout -k 2 10 "$bin" resume "$tmp/step/checkpoint_day0001.000.ckpt" --days 2 --csv-every 1e-13 --out "$tmp/r" --quiet

# 2. A single SIGTERM stops a run writing a row every step: checkpoint, 143.
"$bin" run homeostasis --set lattice.width_sites=64 --set lattice.height_sites=64 --days 3000 --csv-every 0.0416667 \
  --png-every 0 --quiet --out "$tmp/term" 2>"$tmp/term.err" &
pid=$!
for _ in $(seq 200); do [ "$( { wc -l <"$tmp/term/timeseries.csv"; } 2>/dev/null || echo 0)" -ge 20 ] && break; sleep 0.05; done
kill -TERM $pid
rc=0
for _ in $(seq 100); do kill -0 $pid 2>/dev/null || break; sleep 0.1; done
if kill -0 $pid 2>/dev/null; then bad "one SIGTERM did not stop the run in 10 s"; kill -KILL $pid; fi
wait $pid
rc=$?
[ $rc = 143 ] && ok || bad "SIGTERM: exit $rc (expected 143)"
ls "$tmp"/term/checkpoint_day*.ckpt >/dev/null 2>&1 && ok || bad "SIGTERM: no checkpoint"
whole "$tmp/term"

# 3. Over a file-size limit (ulimit -f, in KiB): the write error is reported
#    (EFBIG, "File too large") with exit 1 instead of death by SIGXFSZ, and
#    no temporary file is left. 2 KiB: the manifest does not fit; 20 KiB:
#    the CSV fills up mid-run and keeps its whole rows.
imm=(immune_surveillance --set lattice.width_sites=64 --set lattice.height_sites=64 --no-png)
for kb in 2 20; do
  d=$tmp/fsize$kb
  bash -c "ulimit -f $kb; exec \"\$0\" \"\$@\"" "$bin" run "${imm[@]}" --days 60 --csv-every 0.25 --quiet --out "$d" 2>"$tmp/err"
  rc=$?
  [ $rc = 1 ] && ok || bad "ulimit -f $kb: exit $rc (expected 1)"
  grep -q "File too large" "$tmp/err" && ok || bad "ulimit -f $kb: no EFBIG message: $(cat "$tmp/err")"
  ls "$d"/*.tmp.* >/dev/null 2>&1 && bad "ulimit -f $kb: temporary files left: $(ls "$d")"
  [ -e "$d/timeseries.csv" ] && whole "$d"
done
# resume into a new folder copies the rows before the checkpoint: too big
"$bin" run "${imm[@]}" --days 20 --csv-every 0.0416667 --checkpoint-every 20 --out "$tmp/big" --quiet || bad "big CSV run"
bash -c 'ulimit -f 40; exec "$0" "$@"' "$bin" resume "$tmp/big/checkpoint_day0020.000.ckpt" --days 21 --out "$tmp/bigr" \
  --quiet 2>"$tmp/err"
rc=$?
[ $rc = 1 ] && ok || bad "resume copying a large CSV under ulimit -f: exit $rc (expected 1)"
grep -q "cannot copy the rows before the checkpoint (File too large)" "$tmp/err" && ok || bad "resume copy: message: $(cat "$tmp/err")"
ls "$tmp"/bigr/*.tmp.* >/dev/null 2>&1 && bad "resume copy: temporary files left"
[ ! -e "$tmp/bigr/timeseries.csv" ] && ok || bad "resume copy: a partial CSV left behind"

finish run_guards
