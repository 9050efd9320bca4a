#!/usr/bin/env bash
# Exact restart: a run split at checkpoints and resumed (in place and into
# a new folder, at 1 and 2 threads) writes the same CSV and PNG bytes as
# the uninterrupted run; damaged and foreign checkpoints are refused.
set -uo pipefail
bin=$1
. "$(dirname "$0")/lib.sh"
# same_outputs REF DIR: every CSV and PNG of REF is in DIR, byte for byte
same_outputs() {
  local ref=$1 dir=$2 n=0
  for f in "$ref"/timeseries.csv "$ref"/*.png; do
    cmp -s "$f" "$dir/$(basename "$f")" || { bad "$(basename "$f") differs between $ref and $dir"; return; }
    n=$((n + 1))
  done
  echo "  $dir: $n files identical"
}
export OMP_WAIT_POLICY=passive
# single_bmu: osteoclasts dig, die and leave, osteoblasts arrive: the agent
# store churns (free list reuse) across every split point.
run=(single_bmu --seed 3 --csv-every 1 --png-every 4 --quiet)

"$bin" run "${run[@]}" --days 24 --threads 1 --out "$tmp/full" || bad "full run"

# 1. Checkpointing does not perturb the run.
"$bin" run "${run[@]}" --days 24 --threads 2 --checkpoint-every 4 --out "$tmp/ck" || bad "run with checkpoints"
same_outputs "$tmp/full" "$tmp/ck"
ls "$tmp"/ck/checkpoint_day0004.000.ckpt "$tmp"/ck/checkpoint_day0024.000.ckpt >/dev/null || bad "checkpoint files"
ls "$tmp"/ck/*.tmp.* >/dev/null 2>&1 && bad "temporary files left behind"

# 2. Split at three points (days 8, 12, 20): each leg stops, the next
#    resumes in place, alternating thread counts.
"$bin" run "${run[@]}" --days 8 --threads 2 --checkpoint-every 4 --out "$tmp/legs" || bad "leg 1"
"$bin" resume "$tmp/legs/checkpoint_day0008.000.ckpt" --days 12 --threads 1 --quiet || bad "leg 2"
"$bin" resume "$tmp/legs/checkpoint_day0012.000.ckpt" --days 20 --threads 2 --quiet || bad "leg 3"
"$bin" resume "$tmp/legs/checkpoint_day0020.000.ckpt" --days 24 --threads 1 --quiet || bad "leg 4"
same_outputs "$tmp/full" "$tmp/legs"

# 3. Resume from a mid-run checkpoint into new folders (the earlier rows
#    are copied over) at 1 and 2 threads.
for t in 1 2; do
  "$bin" resume "$tmp/ck/checkpoint_day0016.000.ckpt" --days 24 --threads $t --out "$tmp/new$t" --quiet || bad "resume into new folder, $t threads"
  cmp -s "$tmp/full/timeseries.csv" "$tmp/new$t/timeseries.csv" || bad "CSV of resume into new folder ($t threads)"
  for d in 16 20 24; do
    f=snapshot_day00$d.0.png
    cmp -s "$tmp/full/$f" "$tmp/new$t/$f" || bad "$f of resume into new folder ($t threads)"
  done
done

# 4. A crashed run: the CSV has rows past the checkpoint; resuming in place
#    cuts them and continues to the same bytes.
cp -r "$tmp/ck" "$tmp/crash"
"$bin" resume "$tmp/crash/checkpoint_day0012.000.ckpt" --threads 2 --quiet || bad "resume after crash"
same_outputs "$tmp/full" "$tmp/crash"

# 5. Homeostasis (random remodeling everywhere), stopped by SIGINT at a
#    random moment and resumed at the other thread count.
# Busy remodeling (BMUs open every few days and their phases end mid-leg),
# so every piece of surface state (phase, opening step) matters.
hom=(homeostasis --seed 5 --days 60 --csv-every 1 --png-every 20 --quiet --set lattice.width_sites=48
     --set lattice.height_sites=40 --set bmu.activation_per_site_per_y=20 --set bmu.resorption_phase_d=6)
"$bin" run "${hom[@]}" --threads 2 --out "$tmp/hfull" || bad "homeostasis full"
"$bin" run "${hom[@]}" --threads 1 --out "$tmp/hsig" &
pid=$!
# signal once the run is under way (a few rows written)
for _ in $(seq 100); do
  [ "$( { wc -l <"$tmp/hsig/timeseries.csv"; } 2>/dev/null || echo 0)" -ge 10 ] && break
  sleep 0.05
done
kill -INT $pid 2>/dev/null
wait $pid
rc=$?
if [ $rc -eq 130 ]; then
  c=$(ls "$tmp"/hsig/checkpoint_day*.ckpt | tail -1)
  "$bin" resume "$c" --threads 2 --quiet || bad "resume after SIGINT"
  same_outputs "$tmp/hfull" "$tmp/hsig"
  # and stopped at two more points, 13 and 27 days
  "$bin" run "${hom[@]}" --days 13 --checkpoint-every 13 --threads 2 --out "$tmp/hsplit" || bad "busy leg 1"
  "$bin" resume "$tmp/hsplit/checkpoint_day0013.000.ckpt" --days 27 --checkpoint-every 27 --threads 1 --quiet || bad "busy leg 2"
  "$bin" resume "$tmp/hsplit/checkpoint_day0027.000.ckpt" --days 60 --threads 2 --quiet || bad "busy leg 3"
  same_outputs "$tmp/hfull" "$tmp/hsplit"
elif [ $rc -eq 0 ]; then
  echo "  (the run finished before the signal; nothing to resume)"
else
  bad "SIGINT exit status $rc (expected 130)"
fi

# 6. Every shipped scenario (tumour cells, therapies, whatever is added
#    later): full run vs stopped at day 7 and resumed at the other thread
#    count, on a small lattice where the scenario allows one.
for sc in $("$bin" scenarios | awk 'NR > 1 {print $1}'); do
  args=("$sc" --seed 7 --csv-every 1 --png-every 4 --quiet)
  size=(--set lattice.width_sites=48 --set lattice.height_sites=40)
  "$bin" run "${args[@]}" "${size[@]}" --days 0 --out "$tmp/probe_$sc" >/dev/null 2>&1 || size=()
  "$bin" run "${args[@]}" "${size[@]}" --days 12 --threads 2 --out "$tmp/sc_full_$sc" || { bad "$sc: full run"; continue; }
  "$bin" run "${args[@]}" "${size[@]}" --days 7 --threads 1 --checkpoint-every 7 --out "$tmp/sc_$sc" || { bad "$sc: leg 1"; continue; }
  "$bin" resume "$tmp/sc_$sc/checkpoint_day0007.000.ckpt" --days 12 --threads 2 --quiet || { bad "$sc: leg 2"; continue; }
  same_outputs "$tmp/sc_full_$sc" "$tmp/sc_$sc"
done

# 7. Damaged and foreign checkpoints are refused with a clear message.
ck=$tmp/ck/checkpoint_day0012.000.ckpt
expect() {  # NAME PATTERN FILE
  if "$bin" resume "$3" --out "$tmp/x" --force --quiet >/dev/null 2>"$tmp/err"; then bad "$1: accepted"; return; fi
  grep -Eq -e "$2" "$tmp/err" || { bad "$1: stderr lacks /$2/:"; cat "$tmp/err"; }
}
cp "$ck" "$tmp/flip.ckpt"
printf '\xff' | dd of="$tmp/flip.ckpt" bs=1 seek=5000 conv=notrunc 2>/dev/null
expect "flipped byte" "corrupted or truncated checkpoint \(checksum mismatch\)" "$tmp/flip.ckpt"
head -c 100000 "$ck" >"$tmp/trunc.ckpt"
expect "truncated" "corrupted or truncated checkpoint" "$tmp/trunc.ckpt"
cp "$ck" "$tmp/v2.ckpt"
printf '\x02' | dd of="$tmp/v2.ckpt" bs=1 seek=8 conv=notrunc 2>/dev/null
expect "damaged version byte" "corrupted or truncated checkpoint \(checksum mismatch\)" "$tmp/v2.ckpt"
# a whole file of another format version (re-signed) is named as such
python3 - "$tmp/v2.ckpt" <<'EOF_PY'
import struct, sys
data = bytearray(open(sys.argv[1], "rb").read())
h = 0xcbf29ce484222325
for b in data[:-8]:
    h = ((h ^ b) * 0x100000001b3) & 0xffffffffffffffff
struct.pack_into("<Q", data, len(data) - 8, h)
open(sys.argv[1], "wb").write(data)
EOF_PY
expect "other format version" "format version 2 is not supported \(valid: version 1\)" "$tmp/v2.ckpt"
expect "not a checkpoint" "not a bonesim checkpoint" "$tmp/full/snapshot_day0004.0.png"
# written by another bonesim version (section rewritten, file re-signed)
python3 - "$ck" "$tmp/oldver.ckpt" <<'EOF_PY'
import struct, sys
data = bytearray(open(sys.argv[1], "rb").read())
pos = 24
while pos < len(data) - 24:
    nl, = struct.unpack_from("<I", data, pos)
    name = bytes(data[pos + 4:pos + 4 + nl]).decode()
    es, n = struct.unpack_from("<IQ", data, pos + 4 + nl)
    body = pos + 4 + nl + 12
    if name == "run.version":
        data[body:body + es * n] = b"0.0.1".ljust(es * n, b"\0")
    pos = body + es * n
h = 0xcbf29ce484222325
for b in data[:-8]:
    h = ((h ^ b) * 0x100000001b3) & 0xffffffffffffffff
struct.pack_into("<Q", data, len(data) - 8, h)
open(sys.argv[2], "wb").write(data)
EOF_PY
expect "other bonesim version" "was written by bonesim 0\.0\.1; this is bonesim" "$tmp/oldver.ckpt"
: >"$tmp/empty.ckpt"
expect "empty file" "not a bonesim checkpoint" "$tmp/empty.ckpt"
expect "missing file" "cannot open checkpoint" "$tmp/nope.ckpt"
"$bin" resume "$ck" --days 5 --out "$tmp/early" --quiet 2>"$tmp/err" && bad "--days before the checkpoint accepted"
grep -q "would end before it" "$tmp/err" || bad "--days before the checkpoint: message"
"$bin" resume "$ck" --set oc.lifespan_d=3 2>"$tmp/err" && bad "resume --set accepted"
grep -q "does not take --set" "$tmp/err" || bad "resume --set: message"
# an edited CSV in place is not silently continued
cp -r "$tmp/ck" "$tmp/edited"
sed -i '3s/^./X/' "$tmp/edited/timeseries.csv"
"$bin" resume "$tmp/edited/checkpoint_day0012.000.ckpt" --quiet 2>"$tmp/err" && bad "edited CSV accepted"
grep -q "does not hold the rows" "$tmp/err" || bad "edited CSV: message"

[ $fail -eq 0 ] && echo "checkpoint: identical outputs: single_bmu split at 8/12/20 d and resumed into new folders and after a crash; busy homeostasis split by SIGINT and at 13/27 d; every scenario split at 7 d (1 vs 2 threads throughout)"
exit $((fail > 0))
