#!/usr/bin/env bash
# The analysis example (docs/analysis.md): a short dormancy run with
# spatial snapshots, then docs/analysis/dormant_distance.py draws its figure;
# the figure must be a whole PNG of the expected size and the table must
# have a row per snapshot with tumour cells counted.
set -uo pipefail
bin=$1
. "$(dirname "$0")/lib.sh"
export OMP_WAIT_POLICY=passive
script="$(dirname "$0")/../docs/analysis/dormant_distance.py"
py=
for p in python3 /usr/bin/python3; do
  if command -v "$p" >/dev/null && "$p" -c 'import h5py, numpy, matplotlib' 2>/dev/null; then py=$p; break; fi
done
[ -n "$py" ] || { echo "analysis: SKIP: no python3 with h5py, numpy and matplotlib (see .ci/deps.sh)"; exit 77; }

"$bin" run dormancy --set lattice.width_sites=64 --set lattice.height_sites=64 --days 30 --threads 2 \
  --spatial-every 2 --no-png --quiet --out "$tmp/run" || bad "dormancy run"
"$py" "$script" "$tmp/run" --out "$tmp/fig.png" --csv "$tmp/fig.csv" >"$tmp/log" 2>&1 || { bad "script failed"; cat "$tmp/log"; }
"$py" - "$tmp/fig.png" <<'PY' && ok || bad "fig.png is not a valid PNG of the expected size"
import struct, sys, zlib
b = open(sys.argv[1], "rb").read()
assert b[:8] == b"\x89PNG\r\n\x1a\n", "signature"
pos, seen = 8, []
while pos < len(b):
    n, kind = struct.unpack(">I4s", b[pos:pos + 8])
    data, crc = b[pos + 8:pos + 8 + n], struct.unpack(">I", b[pos + 8 + n:pos + 12 + n])[0]
    assert zlib.crc32(kind + data) == crc, "CRC of %s" % kind
    seen.append(kind)
    if kind == b"IHDR":
        w, h = struct.unpack(">II", data[:8])
        assert w >= 1000 and h >= 400, (w, h)
    pos += 12 + n
assert seen[0] == b"IHDR" and seen[-1] == b"IEND" and b"IDAT" in seen, seen
print("fig.png: %d x %d, %d chunks" % (w, h, len(seen)))
PY
rows=$(($(wc -l <"$tmp/fig.csv") - 1))
[ "$rows" -eq 16 ] && ok || bad "table has $rows rows, expected 16 (days 0, 2, ..., 30)"
awk -F, 'NR > 1 && $2 + $6 > 0 { n++ } END { exit !(n == NR - 1) }' "$tmp/fig.csv" && ok ||
  bad "a snapshot without tumour cells counted: $(cat "$tmp/fig.csv")"
# Garbage in: a file that is not a spatial file is refused with a message.
echo junk >"$tmp/junk.h5"
if "$py" "$script" "$tmp/junk.h5" >/dev/null 2>"$tmp/err"; then bad "junk file accepted"; else
  grep -q "cannot open" "$tmp/err" && ok || { bad "junk file: unclear message"; cat "$tmp/err"; }
fi
finish analysis
