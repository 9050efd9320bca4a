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

# 4. One run per output folder: a second run into a folder in use is
#    refused, --force or not, naming the holder's pid; the first run's CSV
#    stays whole.
long=(homeostasis --set lattice.width_sites=64 --set lattice.height_sites=64 --days 3000 --csv-every 0.0416667
      --png-every 0 --quiet)
"$bin" run "${long[@]}" --out "$tmp/lock" 2>/dev/null &
pid=$!
for _ in $(seq 200); do [ "$( { wc -l <"$tmp/lock/timeseries.csv"; } 2>/dev/null || echo 0)" -ge 5 ] && break; sleep 0.05; done
expect_fail "second run into a folder in use (--force)" "in use by another bonesim run \(pid $pid" \
  timeout -k 2 10 "$bin" run single_bmu --days 2 --out "$tmp/lock" --force --quiet
expect_fail "resume into a folder in use" "in use by another bonesim run \(pid $pid" \
  timeout -k 2 10 "$bin" resume "$tmp/step/checkpoint_day0001.000.ckpt" --days 2 --out "$tmp/lock" --force --quiet
kill -INT $pid
wait $pid
whole "$tmp/lock"
"$bin" run single_bmu --days 1 --out "$tmp/lock" --force --quiet && ok || bad "the folder is free again after the run"

# 5. --force removes what the earlier run wrote there (the manifest's
#    "outputs") and nothing else.
f=$tmp/force
"$bin" run single_bmu --days 12 --csv-every 3 --png-every 2 --checkpoint-every 4 --out "$f" --quiet || bad "force: first run"
grep -q '"outputs": \["timeseries.csv", "manifest.json", .*"snapshot_day0010.0.png".*"checkpoint_day0012.000.ckpt"' \
  "$f/manifest.json" && ok || bad "the manifest lists the run's outputs"
echo mine >"$f/notes.txt"
mkdir "$f/analysis" && echo x >"$f/analysis/fig.csv"
echo user >"$f/snapshot_mine.png"
"$bin" run single_bmu --days 4 --csv-every 3 --png-every 2 --out "$f" --force --quiet || bad "force: second run"
left=$(cd "$f" && ls | tr '\n' ' ')
[ "$left" = "analysis manifest.json notes.txt snapshot_day0000.0.png snapshot_day0002.0.png snapshot_day0004.0.png snapshot_mine.png timeseries.csv " ] \
  && ok || bad "after --force: $left"
[ -f "$f/analysis/fig.csv" ] && ok || bad "--force removed a folder of the user's"

# 6. --no-png is carried in the checkpoint; resume takes --no-png.
"$bin" run single_bmu --days 4 --no-png --checkpoint-every 2 --out "$tmp/np" --quiet || bad "--no-png run"
"$bin" resume "$tmp/np/checkpoint_day0002.000.ckpt" --days 6 --out "$tmp/np2" --quiet || bad "resume of a --no-png run"
ls "$tmp"/np2/*.png >/dev/null 2>&1 && bad "a resumed --no-png run wrote PNGs" || ok
"$bin" run single_bmu --days 4 --checkpoint-every 2 --out "$tmp/p" --quiet || bad "PNG run"
"$bin" resume "$tmp/p/checkpoint_day0002.000.ckpt" --days 6 --no-png --out "$tmp/p2" --quiet && ok || bad "resume --no-png refused"
ls "$tmp"/p2/*.png >/dev/null 2>&1 && bad "resume --no-png wrote PNGs" || ok

# 7. A full disk at the start (here: a file-size limit of 0) leaves no empty
#    timeseries.csv that would make the next attempt need --force.
bash -c 'ulimit -f 0; exec "$0" "$@"' "$bin" run single_bmu --days 1 --out "$tmp/full0" --quiet 2>"$tmp/err"
[ $? = 1 ] && ok || bad "full disk at start: exit status"
[ ! -e "$tmp/full0/timeseries.csv" ] && ok || bad "full disk at start left $(ls -la "$tmp/full0")"
"$bin" run single_bmu --days 1 --out "$tmp/full0" --quiet 2>"$tmp/err" && ok || bad "retry after a full disk: $(cat "$tmp/err")"

# 8. A checkpoint temporary left by a killed write is removed by the next
#    run or resume in that folder (which holds the folder's lock).
touch "$tmp/np/checkpoint_day0003.000.ckpt.tmp.4242" "$tmp/np/snapshot_day0003.0.png.tmp.77" "$tmp/np/keep.tmp.1"
"$bin" resume "$tmp/np/checkpoint_day0002.000.ckpt" --days 5 2>"$tmp/err" >/dev/null || bad "resume in place"
[ ! -e "$tmp/np/checkpoint_day0003.000.ckpt.tmp.4242" ] && [ ! -e "$tmp/np/snapshot_day0003.0.png.tmp.77" ] && ok \
  || bad "stale temporaries not removed: $(ls "$tmp/np")"
[ -e "$tmp/np/keep.tmp.1" ] && ok || bad "a file not named like bonesim's was removed"
grep -q "removed 2 temporary files" "$tmp/err" && ok || bad "no note on the removed temporaries"

# 9. A damaged version byte is damage (checksum), not "version 0 is not
#    supported"; a whole file of another format version is named as such.
c=$tmp/step/checkpoint_day0001.000.ckpt
cp "$c" "$tmp/v0.ckpt"
printf '\x00' | dd of="$tmp/v0.ckpt" bs=1 seek=8 conv=notrunc 2>/dev/null
expect_fail "damaged version byte" "corrupted or truncated checkpoint \(checksum mismatch\)" \
  "$bin" resume "$tmp/v0.ckpt" --out "$tmp/x" --quiet

# 10. Messages are not cut at 1 KB: a 1500-character path is named whole.
deep=$tmp/$(printf 'd%.0s' $(seq 250))/$(printf 'e%.0s' $(seq 250))/$(printf 'f%.0s' $(seq 250))/$(printf 'g%.0s' $(seq 250))/$(printf 'h%.0s' $(seq 250))/$(printf 'i%.0s' $(seq 200))
expect_fail "long message" "$(printf 'i%.0s' $(seq 200))/x.ckpt: cannot open checkpoint \(No such file or directory\)" \
  "$bin" resume "$deep/x.ckpt" --quiet

# 11. An out-of-lattice inject in a replay log is found when the log is
#    read: exit 2, file:line, no output folder.
printf '0 inject dtc 5 5\n10 inject dtc 200 3\n20 end\n' >"$tmp/off.log"
expect_fail "inject off the lattice" "off.log:2: inject at \(200, 3\) is outside the 60 x 40 lattice \(valid: x 0 \.\. 59, y 0 \.\. 39\)" \
  "$bin" run single_bmu --set lattice.width_sites=60 --set lattice.height_sites=40 --replay "$tmp/off.log" --out "$tmp/off" --quiet
[ $(grep -c . "$tmp/err") -ge 1 ] && [ ! -e "$tmp/off/timeseries.csv" ] && ok || bad "the bad log left an output"
"$bin" run single_bmu --set lattice.width_sites=60 --set lattice.height_sites=40 --replay "$tmp/off.log" --out "$tmp/off" --quiet 2>/dev/null
[ $? = 2 ] && ok || bad "inject off the lattice: exit status not 2"

finish run_guards
