#!/usr/bin/env bash
# Signals: SIGINT/SIGTERM finish the step, write a checkpoint and the
# manifest, exit 130/143 and print how to resume; a second SIGINT stops at
# once, leaving every file already written whole (no partial CSV row, no
# temporary files, every PNG and checkpoint complete).
set -uo pipefail
bin=$1
. "$(dirname "$0")/lib.sh"
export OMP_WAIT_POLICY=passive
# long enough that no signal below comes after the end
run=(homeostasis --seed 2 --days 3000 --csv-every 0.5 --png-every 5 --checkpoint-every 5 --threads 2 --quiet
     --set lattice.width_sites=64 --set lattice.height_sites=48 --set run.png_px_per_site=8)

# wait_rows DIR N: until DIR's CSV has N lines (or 5 s)
wait_rows() {
  for _ in $(seq 100); do
    [ "$( { wc -l <"$1/timeseries.csv"; } 2>/dev/null || echo 0)" -ge "$2" ] && return
    sleep 0.05
  done
}

# complete DIR: every file whole (lib.sh) and the manifest parses
complete() {
  whole "$1"
  python3 -c "import json,sys; json.load(open(sys.argv[1]))" "$1/manifest.json" 2>/dev/null || bad "$1: manifest"
}

# 1. SIGINT and SIGTERM: graceful stop, checkpoint, status, resume hint.
for sig in INT TERM; do
  d=$tmp/$sig
  "$bin" run "${run[@]}" --out "$d" 2>"$tmp/err_$sig" &
  pid=$!
  wait_rows "$d" 12
  kill -$sig $pid
  wait $pid
  rc=$?
  want=$([ $sig = INT ] && echo 130 || echo 143)
  [ $rc -eq "$want" ] || bad "SIG$sig: exit status $rc (expected $want)"
  grep -q "stopped by SIG$sig" "$tmp/err_$sig" || bad "SIG$sig: no stop message"
  grep -q "continue with: bonesim resume $d/checkpoint_day" "$tmp/err_$sig" || bad "SIG$sig: no resume hint"
  complete "$d"
  c=$(grep -o "bonesim resume [^ ]*" "$tmp/err_$sig" | head -1 | cut -d' ' -f3)
  [ -f "$c" ] || bad "SIG$sig: the checkpoint named in the hint does not exist"
done
# the hint works: resume a little further (to the next whole day + 1)
c=$(grep -o "bonesim resume [^ ]*" "$tmp/err_INT" | head -1 | cut -d' ' -f3)
day=$(echo "$c" | sed 's/.*checkpoint_day0*\([0-9]*\)\..*/\1/')
"$bin" resume "$c" --days $((day + 2)) --quiet || bad "resume from the SIGINT checkpoint"
complete "$tmp/INT"

# 2. A second SIGINT stops at once. The lattice is big enough that the
#    graceful stop (finish the step, write a checkpoint of tens of MB, the
#    manifest) takes far longer than the 1-10 ms between the two signals, so
#    the second one always lands during it and must cut it short: the
#    "second interrupt" message, no "stopped by" (the graceful end), status
#    130 (killed by SIGINT), no final checkpoint, and every file whole.
#    Several tries at different moments, some while a PNG or checkpoint is
#    being written.
big=("${run[@]}" --set lattice.width_sites=512 --set lattice.height_sites=512 --set run.png_px_per_site=1
     --csv-every 0.0416667 --png-every 1 --checkpoint-every 1)
for k in 1 2 3 4; do
  d=$tmp/twice$k
  "$bin" run "${big[@]}" --out "$d" 2>"$tmp/err2" &
  pid=$!
  wait_rows "$d" $((4 + 7 * k))
  kill -INT $pid
  ck_before=$(ls "$d"/*.ckpt 2>/dev/null | wc -l)
  sleep "$(echo "0.001 0.003 0.005 0.01" | cut -d' ' -f$k)"
  kill -INT $pid 2>/dev/null || bad "try $k: the run had ended before the second SIGINT (the graceful stop was too quick to test)"
  wait $pid
  rc=$?
  [ $rc -eq 130 ] || bad "try $k: second SIGINT: status $rc (expected 130, killed by SIGINT)"
  grep -q "second interrupt: stopping now" "$tmp/err2" || bad "try $k: no 'second interrupt' message: $(cat "$tmp/err2")"
  grep -q "stopped by SIGINT" "$tmp/err2" && bad "try $k: the run stopped gracefully despite the second SIGINT"
  ck_after=$(ls "$d"/*.ckpt 2>/dev/null | wc -l)
  [ "$ck_after" -le "$ck_before" ] || [ "$ck_after" -le $((ck_before + 1)) ] || bad "try $k: checkpoints appeared after the second SIGINT"
  complete "$d"
  # each checkpoint passes its checks (the tiny memory limit stops the
  # resume right after the checksum and version checks)
  for c in "$d"/*.ckpt; do
    [ -e "$c" ] || continue
    "$bin" resume "$c" --out "$tmp/check" --force --quiet --days 3000 --checkpoint-every 0 --max-memory-mb 1 2>"$tmp/err3"
    grep -q "corrupt\|not a bonesim" "$tmp/err3" && bad "$c is damaged: $(cat "$tmp/err3")"
  done
  rm -rf "$d"
done

[ $fail -eq 0 ] && echo "signals: SIGINT -> 130, SIGTERM -> 143 with checkpoint and hint; a second SIGINT stops at once (4 of 4 tries), leaving whole files"
exit $((fail > 0))
