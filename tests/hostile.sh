#!/usr/bin/env bash
# Hostile input and a hostile environment, end to end: bad numbers, absurd
# lattices, broken masks, too little memory, a full disk, an unwritable
# folder. Each must give a clear message and a usage/error status, never a
# crash (status >= 128), a hang or a half-written file.
set -uo pipefail
bin=$1
. "$(dirname "$0")/lib.sh"
mnt=""
cleanup() { [ -n "$mnt" ] && umount "$mnt" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
export OMP_WAIT_POLICY=passive
# expect NAME STATUS PATTERN CMD...: exit status STATUS, stderr matching PATTERN
expect() {
  local name=$1 want=$2 pat=$3
  shift 3
  "$@" >"$tmp/out" 2>"$tmp/err"
  local rc=$?
  if [ $rc -ne "$want" ]; then bad "$name: status $rc (expected $want): $(head -3 "$tmp/err")"; return; fi
  grep -Eq -e "$pat" "$tmp/err" && ok || { bad "$name: stderr lacks /$pat/:"; cat "$tmp/err"; }
}
small=(single_bmu --days 1 --quiet --force)

# ---- numbers on the command line ------------------------------------------
for v in nan NaN inf -inf -1 1e400 abc 5x "" 1e5 0x10 0x1p3 1e-400; do
  expect "--days '$v'" 2 "--days '.*' is not a number in range" "$bin" run "${small[@]}" --days "$v" --out "$tmp/o"
done
for v in 0 -1 1.5 nan 1e9; do
  expect "--threads '$v'" 2 "--threads" "$bin" run "${small[@]}" --threads "$v" --out "$tmp/o"
done
for v in -1 1.5 1e20 nan; do
  expect "--seed '$v'" 2 "--seed" "$bin" run "${small[@]}" --seed "$v" --out "$tmp/o"
done
for o in --csv-every --png-every --checkpoint-every --max-memory-mb; do
  for v in -1 nan inf; do
    expect "$o '$v'" 2 "$o '.*' is not a number" "$bin" run "${small[@]}" "$o" "$v" --out "$tmp/o"
  done
done
expect "--max-memory-mb 0" 2 "not a number in range" "$bin" run "${small[@]}" --max-memory-mb 0 --out "$tmp/o"
expect "missing value" 2 "--days needs a value" "$bin" run single_bmu --days
expect "empty --out" 2 "--out needs a folder name" "$bin" run single_bmu --out ""

# ---- parameters: --set and scenario files ------------------------------------
for v in nan inf -inf -1 1e400 1e-400 "" " " 3x "1 2"; do
  expect "--set oc.lifespan_d='$v'" 2 "oc.lifespan_d" "$bin" run "${small[@]}" --set "oc.lifespan_d=$v" --out "$tmp/o"
done
expect "zero lattice" 2 "lattice.width_sites = 0 is out of range \(valid: 8 \.\. 16384 sites\)" \
  "$bin" run "${small[@]}" --set lattice.width_sites=0 --out "$tmp/o"
expect "negative lattice" 2 "lattice.height_sites = -5 is out of range" \
  "$bin" run "${small[@]}" --set lattice.height_sites=-5 --out "$tmp/o"
expect "huge lattice" 2 "out of range" "$bin" run "${small[@]}" --set lattice.width_sites=1e9 --out "$tmp/o"
expect "fractional lattice" 2 "not an integer" "$bin" run "${small[@]}" --set lattice.width_sites=20.5 --out "$tmp/o"
expect "absurd rate" 2 "out of range" "$bin" run "${small[@]}" --set oc.lifespan_d=1e300 --out "$tmp/o"
printf '[oc]\nlifespan_d = nan\n' >"$tmp/nan.ini"
expect "NaN in a file" 2 "nan.ini:2: oc.lifespan_d = 'nan' is not a finite number" "$bin" run "$tmp/nan.ini" --days 1 --out "$tmp/o"
printf '[lattice]\nwidth_sites = 0\n' >"$tmp/zero.ini"
expect "zero lattice in a file" 2 "zero.ini:2: lattice.width_sites = 0 is out of range" "$bin" run "$tmp/zero.ini" --out "$tmp/o"
printf '[run]\ndays = 1\n[lattice\n' >"$tmp/syntax.ini"
expect "syntax error" 2 "syntax.ini:3: syntax error" "$bin" run "$tmp/syntax.ini" --out "$tmp/o"
head -c 3000 /dev/urandom >"$tmp/random.ini"
"$bin" run "$tmp/random.ini" --days 1 --out "$tmp/o" --quiet >/dev/null 2>&1
rc=$?
[ $rc -lt 128 ] && ok || bad "random bytes as a scenario: status $rc"
printf 'include = /dev/zero\n' >"$tmp/zeroinc.ini"
expect "include of /dev/zero" 2 "zeroinc.ini:1: include file '/dev/zero' is not a regular file \(a character device\)" \
  timeout 10 "$bin" run "$tmp/zeroinc.ini" --out "$tmp/o"
# what inih alone misreads silently, exit 0 (issue 13 item 2): each an error with file:line
printf '[run] days = 3\n' >"$tmp/after.ini"
expect "text after ]" 2 "after.ini:1: text after '\]' \('days = 3'\)" "$bin" run "$tmp/after.ini" --days 0 --out "$tmp/o"
printf '[run]\rdays = 3\r[lattice]\rwidth_sites = 16\r' >"$tmp/cr.ini"
expect "CR-only line ends" 2 "cr.ini:1: carriage return without a line feed at column 6" "$bin" run "$tmp/cr.ini" --days 0 --out "$tmp/o"
printf '[run]\ndays = 1\0\n' >"$tmp/nul.ini"
expect "NUL byte" 2 "nul.ini:2: NUL byte at column 9" "$bin" run "$tmp/nul.ini" --days 0 --out "$tmp/o"
printf '[run]\ndays: 3\n' >"$tmp/colon.ini"
expect "key: value" 2 "colon.ini:2: 'key: value' is not accepted \(valid: 'key = value'\)" "$bin" run "$tmp/colon.ini" --days 0 --out "$tmp/o"
for v in 0x10 0X1p3 -0x1; do
  printf '[run]\ndays = %s\n' "$v" >"$tmp/hex.ini"
  expect "hex '$v' in a file" 2 "hex.ini:2: run.days = '$v' is hexadecimal \(valid: a decimal number, 0 \.\. 36525 d\)" \
    "$bin" run "$tmp/hex.ini" --days 0 --out "$tmp/o"
  expect "--set hex '$v'" 2 "--set: lattice.width_sites = '$v' is hexadecimal" "$bin" run "${small[@]}" --set "lattice.width_sites=$v" --out "$tmp/o"
done
printf '[run]\ncsv_every_d = 1e-400\n' >"$tmp/under.ini"
expect "underflow in a file" 2 "under.ini:2: run.csv_every_d = '1e-400' underflows" "$bin" run "$tmp/under.ini" --days 0 --out "$tmp/o"
printf '[run]\nday_count = 3\n' >"$tmp/unk.ini"
expect "unknown key lists the section's keys" 2 "unk.ini:2: unknown parameter 'run.day_count' \(valid keys in \[run\]: days, .*seed, dt_h" \
  "$bin" run "$tmp/unk.ini" --days 0 --out "$tmp/o"
printf '[runn]\nxyz = 3\n' >"$tmp/unks.ini"
expect "unknown section lists sections" 2 "unks.ini:2: unknown parameter 'runn.xyz': there is no section \[runn\] \(nearest sections: run," \
  "$bin" run "$tmp/unks.ini" --days 0 --out "$tmp/o"
mkfifo "$tmp/fifo.ini"
printf 'include = fifo.ini\n' >"$tmp/fifoinc.ini"
expect "include of a FIFO" 2 "fifoinc.ini:1: include file '.*fifo.ini' is not a regular file \(a FIFO\)" \
  timeout 10 "$bin" run "$tmp/fifoinc.ini" --days 0 --out "$tmp/o"

# ---- PNG masks ------------------------------------------------------------------
"$bin" run single_bmu --days 0 --quiet --out "$tmp/png" || bad "making a PNG"
snap=$tmp/png/snapshot_day0000.0.png
mask_ini() {  # FILE MASK
  printf '[lattice]\nwidth_sites = 60\nheight_sites = 40\n[geometry]\nsource = mask\nmask_png = %s\n' "$2" >"$1"
}
python3 - "$tmp/good.png" <<'EOF'
import struct, sys, zlib
w, h = 60, 40
rows = b"".join(b"\0" + bytes(255 if y < 12 else 0 for x in range(w)) for y in range(h))
def chunk(t, d):
    return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xffffffff)
png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0)) \
    + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")
open(sys.argv[1], "wb").write(png)
EOF
mask_ini "$tmp/good.ini" good.png
"$bin" run "$tmp/good.ini" --days 1 --quiet --out "$tmp/o" --force && ok || bad "a good mask"
cp "$snap" "$tmp/wrong.png"
mask_ini "$tmp/wrong.ini" wrong.png
expect "mask of the wrong size" 2 "wrong.png: mask is [0-9]+x[0-9]+ pixels \(valid: exactly 60x40" "$bin" run "$tmp/wrong.ini" --days 1 --out "$tmp/o"
# cut inside the pixel data of a mask of the right size (the header is
# checked first: a truncated file of another size is a size error)
head -c $(($(wc -c <"$tmp/good.png") - 20)) "$tmp/good.png" >"$tmp/trunc.png"
mask_ini "$tmp/trunc.ini" trunc.png
expect "truncated mask" 2 "trunc.png: not a valid PNG" "$bin" run "$tmp/trunc.ini" --days 1 --out "$tmp/o"
head -c 400 "$tmp/good.png" | head -c 60 >"$tmp/short.png"
mask_ini "$tmp/short.ini" short.png
expect "mask cut inside its header" 2 "short.png: not a valid PNG" "$bin" run "$tmp/short.ini" --days 1 --out "$tmp/o"
: >"$tmp/empty.png"
mask_ini "$tmp/empty.ini" empty.png
expect "empty mask" 2 "empty.png: not a valid PNG \(file is empty\)" "$bin" run "$tmp/empty.ini" --days 1 --out "$tmp/o"
echo "not a png at all" >"$tmp/text.png"
mask_ini "$tmp/text.ini" text.png
expect "text as a mask" 2 "text.png: not a valid PNG" "$bin" run "$tmp/text.ini" --days 1 --out "$tmp/o"
mask_ini "$tmp/none.ini" missing.png
expect "missing mask" 2 "missing.png: cannot open" "$bin" run "$tmp/none.ini" --days 1 --out "$tmp/o"
# a huge mask for a small lattice: refused from its header, before decoding
# (issue 13 item 8: it was decoded whole, 205 MB resident, before the size
# error, even with --max-memory-mb 20); peak memory measured by python
python3 - "$tmp/huge.png" "$tmp/m64.png" <<'EOF'
import struct, sys, zlib
def png(path, w, h):
    c = zlib.compressobj(9)
    data = b"".join(c.compress(b"\0" + bytes(w)) for _ in range(h)) + c.flush()
    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xffffffff)
    open(path, "wb").write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0))
                           + chunk(b"IDAT", data) + chunk(b"IEND", b""))
png(sys.argv[1], 8192, 8192)
png(sys.argv[2], 64, 64)
EOF
cat >"$tmp/peak.py" <<'EOF'
import resource, subprocess, sys
r = subprocess.run(sys.argv[2:], stdout=subprocess.DEVNULL, stderr=open(sys.argv[1], "w"))
print(r.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
EOF
# peak_kb CMD...: runs it, prints "STATUS PEAK_RSS_KB"; its stderr goes to $tmp/err
peak_kb() { python3 "$tmp/peak.py" "$tmp/err" "$@"; }
printf '[lattice]\nwidth_sites = 64\nheight_sites = 64\n[geometry]\nsource = mask\nmask_png = huge.png\n' >"$tmp/huge.ini"
read -r rc kb < <(peak_kb "$bin" run "$tmp/huge.ini" --days 0 --max-memory-mb 20 --quiet --out "$tmp/o")
[ "$rc" -eq 2 ] && grep -q "huge.png: mask is 8192x8192 pixels (valid: exactly 64x64" "$tmp/err" && ok || bad "huge mask: status $rc: $(cat "$tmp/err")"
[ "$kb" -lt 80000 ] && ok || bad "huge mask for a 64 x 64 lattice: peak $kb kB resident (decoded before the size check?)"
# lattice size unset: it is the mask's, and the memory limit counts it
printf '[geometry]\nsource = mask\nmask_png = huge.png\n' >"$tmp/hugeu.ini"
read -r rc kb < <(peak_kb "$bin" run "$tmp/hugeu.ini" --days 0 --max-memory-mb 20 --quiet --out "$tmp/o")
[ "$rc" -eq 1 ] && grep -q "a 8192 x 8192 lattice needs about .* more than the limit of 20 MiB" "$tmp/err" && ok || bad "huge mask, size unset: status $rc: $(cat "$tmp/err")"
[ "$kb" -lt 80000 ] && ok || bad "huge mask, size unset: peak $kb kB resident"
printf '[geometry]\nsource = mask\nmask_png = m64.png\n' >"$tmp/m64.ini"
"$bin" run "$tmp/m64.ini" --days 1 --quiet --force --out "$tmp/m64" 2>"$tmp/err" && ok || bad "mask, size unset: $(cat "$tmp/err")"
grep -q '"lattice.width_sites": {"value": 64' "$tmp/m64/manifest.json" && ok || bad "mask, size unset: lattice is not the mask's"
"$bin" params "$tmp/m64.ini" | grep -E "^lattice.height_sites +64 " >/dev/null && ok || bad "params: lattice is not the mask's"
expect "mask, one side set" 2 "m64.png: mask is 64x64 pixels \(valid: exactly 32x250, .* or leave lattice.width_sites and lattice.height_sites unset" \
  "$bin" run "$tmp/m64.ini" --days 1 --set lattice.width_sites=32 --out "$tmp/o"
mkfifo "$tmp/fifo.png"
mask_ini "$tmp/fifo.ini2" fifo.png
expect "FIFO as a mask" 2 "fifo.png: not a regular file \(a FIFO\)" timeout 10 "$bin" run "$tmp/fifo.ini2" --days 1 --out "$tmp/o"
mkdir -p "$tmp/dir.png"
mask_ini "$tmp/dir.ini" dir.png
expect "folder as a mask" 2 "dir.png" "$bin" run "$tmp/dir.ini" --days 1 --out "$tmp/o"

# ---- a full agent store is not silent (issue 13 item 9) ------------------------------
"$bin" run homeostasis --set lattice.width_sites=16 --set lattice.height_sites=16 --set dtc.seed_lesion_n=100000 \
  --days 1 --force --out "$tmp/full" >"$tmp/out" 2>"$tmp/err"
rc=$?
n=$(grep -o '"store_full_refusals": [0-9]*' "$tmp/full/manifest.json" 2>/dev/null | awk '{print $2}')
placed=$(awk -F, 'NR == 2 { print $10 }' "$tmp/full/timeseries.csv" 2>/dev/null)
[ $rc -eq 0 ] && [ -n "$n" ] && [ -n "$placed" ] && [ $((n + placed)) -eq 100000 ] && ok || bad "full store: status $rc, manifest refusals '$n', placed '$placed'"
grep -q "warning: $n cell placements refused for want of room at set-up" "$tmp/err" && grep -q "refused for want of room since day 0" "$tmp/err" && ok || bad "full store: no warning on stderr: $(cat "$tmp/err")"
grep -Eq "^  refused +$n cell placements" "$tmp/out" && ok || bad "full store: not in the summary"
awk -F, -v n="$n" 'NR == 1 { for (k = 1; k <= NF; k++) if ($k == "store_full_refusals") c = k; if (!c) exit 1; next }
  $c != n { exit 1 }' "$tmp/full/timeseries.csv" \
  && ok || bad "full store: CSV column store_full_refusals missing or wrong"
"$bin" run homeostasis --set lattice.width_sites=16 --set lattice.height_sites=16 --days 1 --quiet --force --out "$tmp/notfull" 2>"$tmp/err"
[ ! -s "$tmp/err" ] && grep -q '"store_full_refusals": 0' "$tmp/notfull/manifest.json" && ok || bad "no refusals: $(cat "$tmp/err")"

# ---- memory limit ------------------------------------------------------------------
expect "memory limit" 1 "a 4000 x 4000 lattice needs about [0-9.]+ GiB of memory \([0-9]+ bytes per site: .*\), more than the limit of 100 MiB \(set by --max-memory-mb\)" \
  "$bin" run "${small[@]}" --set lattice.width_sites=4000 --set lattice.height_sites=4000 --max-memory-mb 100 --out "$tmp/o"
[ ! -e "$tmp/o/timeseries.csv" ] || [ "$tmp/o/timeseries.csv" -ot "$tmp/err" ] && ok || bad "memory limit: outputs were started"
mem_kb=$(awk '/MemTotal/ {print $2}' /proc/meminfo 2>/dev/null || echo 0)
if [ "${mem_kb:-0}" -gt 0 ] && [ "$mem_kb" -lt 100000000 ]; then
  expect "16384 x 16384 vs physical memory" 1 "needs about .* more than the limit of .* \(the machine's physical memory" \
    "$bin" run "${small[@]}" --set lattice.width_sites=16384 --set lattice.height_sites=16384 --out "$tmp/o"
fi
(ulimit -v 400000 && exec "$bin" run "${small[@]}" --set lattice.width_sites=3000 --set lattice.height_sites=3000 --out "$tmp/o") >/dev/null 2>"$tmp/err"
grep -q "ulimit -v" "$tmp/err" && ok || bad "address-space limit: $(cat "$tmp/err")"

# ---- full disk, file-size limit, unwritable folder ------------------------------------
# CSV over the limit (bash counts ulimit -f in KiB): 64 KiB of rows (the manifest,
# which lists every parameter, is about 22 KiB and must fit)
(ulimit -f 64 && exec "$bin" run single_bmu --days 100 --csv-every 0.05 --png-every 0 --quiet --out "$tmp/fsz1") 2>"$tmp/err"
rc=$?
[ $rc -eq 1 ] && grep -q "timeseries.csv: write failed (File too large)" "$tmp/err" && ok || bad "CSV over ulimit -f: status $rc: $(cat "$tmp/err")"
grep -q "finished before the error are complete" "$tmp/err" && ok || bad "CSV over ulimit -f: no note on what is kept"
whole "$tmp/fsz1"
[ "$(wc -l <"$tmp/fsz1/timeseries.csv")" -gt 20 ] && ok || bad "CSV over ulimit -f: rows lost"
# a checkpoint over the limit: refused whole, run stops, earlier files kept
(ulimit -f 120 && exec "$bin" run single_bmu --days 10 --checkpoint-every 2 --png-every 1 --quiet --out "$tmp/fsz2") 2>"$tmp/err"
rc=$?
[ $rc -eq 1 ] && grep -q "cannot write checkpoint (File too large)" "$tmp/err" && ok || bad "checkpoint over ulimit -f: status $rc: $(cat "$tmp/err")"
whole "$tmp/fsz2"
ls "$tmp"/fsz2/*.ckpt >/dev/null 2>&1 && bad "a partial checkpoint was left under its final name"
# a snapshot over the limit (the manifest, ~22 KiB with every parameter, must fit;
# the 2000 x 2000 px PNG, ~41 KiB, does not)
(ulimit -f 32 && exec "$bin" run homeostasis --days 0 --set run.png_px_per_site=8 --quiet --out "$tmp/fsz3") 2>"$tmp/err"
rc=$?
[ $rc -eq 1 ] && grep -q "snapshot_day0000.0.png: cannot write" "$tmp/err" && ok || bad "PNG over ulimit -f: status $rc: $(cat "$tmp/err")"
whole "$tmp/fsz3"
# a really full filesystem, where we may mount one
if [ "$(id -u)" -eq 0 ] && mkdir -p "$tmp/mnt" && mount -t tmpfs -o size=600k tmpfs "$tmp/mnt" 2>/dev/null; then
  mnt=$tmp/mnt
  "$bin" run single_bmu --days 60 --checkpoint-every 1 --png-every 1 --quiet --out "$mnt/run" 2>"$tmp/err"
  rc=$?
  [ $rc -eq 1 ] && grep -q "No space left on device" "$tmp/err" && ok || bad "full tmpfs: status $rc: $(cat "$tmp/err")"
  whole "$mnt/run"
  # the last checkpoint named in the message resumes once there is room
  c=$(grep -o "the last checkpoint is [^ ]*" "$tmp/err" | awk '{print $5}')
  if [ -n "$c" ]; then
    "$bin" resume "$c" --days 3 --out "$tmp/afterfull" --quiet && ok || bad "resume after a full disk"
  fi
  umount "$mnt" && mnt=""
else
  echo "  (no tmpfs mount here: the full-disk case is covered by ulimit -f only)"
fi
touch "$tmp/afile"
expect "output under a file" 1 "cannot create folder" "$bin" run "${small[@]}" --out "$tmp/afile/sub"
if [ "$(id -u)" -ne 0 ]; then
  mkdir -p "$tmp/ro" && chmod 500 "$tmp/ro"
  expect "read-only folder" 1 "Permission denied" "$bin" run "${small[@]}" --out "$tmp/ro/x"
fi

finish hostile
