#!/usr/bin/env bash
# End-to-end tests of `bonesim compare` and `bonesim sweep` on tiny runs
# (single_bmu: a 60 x 40 lattice, a few simulated days, 2-3 replicates).
set -uo pipefail
bin=$1
. "$(dirname "$0")/lib.sh"
export OMP_WAIT_POLICY=passive
seed_of() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['seed'])" "$1/manifest.json"; }
png_ok() { # a complete PNG: signature, IHDR of the expected size range, IEND at the end
  python3 - "$1" <<'EOF'
import struct, sys, zlib
d = open(sys.argv[1], 'rb').read()
assert d[:8] == b'\x89PNG\r\n\x1a\n', 'signature'
n, t = struct.unpack('>I4s', d[8:16])
assert t == b'IHDR'
w, h = struct.unpack('>II', d[16:24])
assert 200 <= w <= 4000 and 200 <= h <= 4000, (w, h)
assert d[-12:] == b'\x00\x00\x00\x00IEND\xaeB`\x82', 'IEND'
# every chunk's CRC holds
p = 8
while p < len(d):
    n, t = struct.unpack('>I4s', d[p:p + 8])
    assert zlib.crc32(d[p + 4:p + 8 + n]) == struct.unpack('>I', d[p + 8 + n:p + 12 + n])[0], t
    p += 12 + n
EOF
}
tiny=(--days 12 --csv-every 2)

# ---- help
"$bin" help compare | grep -q "usage: bonesim compare" && ok || bad "help compare"
"$bin" sweep --help | grep -q "usage: bonesim sweep" && ok || bad "sweep --help"
"$bin" --help | grep -q "compare A \[B\]" && "$bin" --help | grep -q "sweep SCENARIO" && ok || bad "main help lists compare and sweep"

# ---- compare: one scenario, per-arm variants
c="$tmp/cmp"
"$bin" compare single_bmu --set-b oc.lifespan_d=5 --replicates 3 --seed 40 --jobs 2 "${tiny[@]}" --at 4,12 \
  --out "$c" >"$tmp/cmp.out" 2>"$tmp/cmp.err" && ok || { bad "compare exit status"; cat "$tmp/cmp.err"; }
head -1 "$c/compare.csv" | grep -qx "column,day,median_a,median_b,effect,effect_median,effect_q25,effect_q75,boot95_lo,boot95_hi,n" \
  && ok || bad "compare.csv header: $(head -1 "$c/compare.csv")"
ncols=$(($(head -1 "$c/a/rep_0/timeseries.csv" | tr -cd , | wc -c))) # data columns besides time_days
rows=$(($(wc -l <"$c/compare.csv") - 1))
[ "$rows" -eq $((ncols * 2)) ] && ok || bad "compare.csv rows: $rows, expected $ncols columns x 2 days"
awk -F, 'NR > 1 && ($11 != 3 || ($5 != "ratio" && $5 != "difference") || ($2 != 4 && $2 != 12)) { exit 1 }' "$c/compare.csv" \
  && ok || bad "compare.csv: n, effect kind or day wrong"
# pairing: replicate i has the same seed in both arms, seeds 40, 41, 42
for i in 0 1 2; do
  sa=$(seed_of "$c/a/rep_$i") sb=$(seed_of "$c/b/rep_$i")
  [ "$sa" = "$((40 + i))" ] && [ "$sb" = "$sa" ] && ok || bad "pairing: rep_$i seeds a=$sa b=$sb, expected $((40 + i))"
done
grep -q '"oc.lifespan_d": {"value": 5' "$c/b/rep_0/manifest.json" && ! grep -q '"oc.lifespan_d": {"value": 5' "$c/a/rep_0/manifest.json" \
  && ok || bad "--set-b reaches arm B only"
ls "$c"/a/rep_0/*.png >/dev/null 2>&1 && bad "child runs wrote PNGs" || ok
png_ok "$c/compare.png" && ok || bad "compare.png is not a valid PNG"
grep -q "bone_area_um2" "$tmp/cmp.out" && grep -q "median A" "$tmp/cmp.out" && ok || bad "compare table on stdout"
# 3 pairs: the spread is a range and there is no "95% CI" (at least 5 pairs needed)
grep -q "range of pairs" "$tmp/cmp.out" && grep -q "none (n < 5)" "$tmp/cmp.out" && ! grep -q "bootstrap 95% CI" "$tmp/cmp.out" \
  && awk -F, 'NR > 1 && ($9 != "" || $10 != "") { exit 1 }' "$c/compare.csv" && ok || bad "compare with 3 pairs claims an IQR or a 95% CI"
grep -q "6 / 6 runs done" "$tmp/cmp.err" && ok || bad "progress on stderr"

# ---- compare: identical arms give ratio 1 (difference 0) exactly, with zero spread
i="$tmp/same"
"$bin" compare single_bmu single_bmu --replicates 2 "${tiny[@]}" --out "$i" --quiet >/dev/null 2>"$tmp/same.err" && ok || bad "identical compare"
# (2 pairs: effect and its quantiles, but no bootstrap interval: boot95 fields empty)
awk -F, 'NR > 1 { want = ($5 == "ratio") ? 1 : 0; for (k = 6; k <= 8; k++) if ($k + 0 != want) exit 1; if ($9 != "" || $10 != "") exit 1 }' "$i/compare.csv" \
  && ok || bad "identical arms: effect not exactly 1 / 0: $(awk -F, 'NR > 1' "$i/compare.csv" | head -3)"
grep -q ",ratio," "$i/compare.csv" && ok || bad "identical arms: no ratio rows"
# a second compare into the same folder is refused without --force
expect_fail "compare existing out" "already holds a compare" "$bin" compare single_bmu --replicates 2 "${tiny[@]}" --out "$i" --quiet
"$bin" compare single_bmu --replicates 2 "${tiny[@]}" --out "$i" --quiet --force >/dev/null 2>&1 && ok || bad "compare --force"

# ---- compare: bad input
expect_fail "compare unknown scenario" "no scenario 'nope'" "$bin" compare single_bmu nope --out "$tmp/x1"
expect_fail "compare unknown key" "unknown parameter 'oc.lifspan_d'" "$bin" compare single_bmu --set-b oc.lifspan_d=3 --out "$tmp/x2"
expect_fail "compare bad value" "out of range" "$bin" compare single_bmu --set-a oc.lifespan_d=900 --out "$tmp/x3"
expect_fail "compare unknown column" "unknown column 'bone'" "$bin" compare single_bmu --columns bone --out "$tmp/x4"
expect_fail "compare --replicates 0" "--replicates '0'" "$bin" compare single_bmu --replicates 0 --out "$tmp/x5"
expect_fail "compare --at past the end" "--at day '99'" "$bin" compare single_bmu "${tiny[@]}" --at 99 --out "$tmp/x6"
[ ! -e "$tmp/x2/a" ] && ok || bad "bad input started runs"
# a failed child run: clear message, non-zero exit, the other runs kept
mkdir -p "$tmp/cf/b/rep_1" && echo "x" >"$tmp/cf/b/rep_1/timeseries.csv"
expect_fail "compare failed child" "b/rep_1 \(seed 2\) failed, exit status 1: .*already exists" \
  "$bin" compare single_bmu --replicates 2 "${tiny[@]}" --out "$tmp/cf" --jobs 1
[ -s "$tmp/cf/a/rep_0/timeseries.csv" ] && [ -s "$tmp/cf/a/rep_1/timeseries.csv" ] && ok || bad "finished runs kept after a failure"
grep -q "runs failed" "$tmp/err" && ok || bad "failure summary"

# ---- sweep: grid x replicates, one row per run, distinct seeds
s="$tmp/sw"
"$bin" sweep single_bmu --set oc.lifespan_d=5,10,20 --set ob.form_um_per_day=0.4,1 --set run.csv_every_d=3 \
  --replicates 2 --seed 7 "${tiny[@]}" --out "$s" --columns bone_area_um2,min:bone_area_um2,max:n_osteoclasts \
  >"$tmp/sw.out" 2>"$tmp/sw.err" && ok || { bad "sweep exit status"; cat "$tmp/sw.err"; }
head -1 "$s/summary.csv" | grep -qx "run,seed,replicate,oc.lifespan_d,ob.form_um_per_day,bone_area_um2_final,bone_area_um2_min,n_osteoclasts_max" \
  && ok || bad "summary header: $(head -1 "$s/summary.csv")"
[ "$(($(wc -l <"$s/summary.csv") - 1))" -eq 12 ] && ok || bad "summary rows: expected 3 x 2 x 2 = 12"
[ "$(tail -n +2 "$s/summary.csv" | cut -d, -f2 | sort -u | wc -l)" -eq 12 ] && ok || bad "sweep seeds not distinct"
[ "$(tail -n +2 "$s/summary.csv" | cut -d, -f1 | sort -n | tr '\n' ' ')" = "0 1 2 3 4 5 6 7 8 9 10 11 " ] && ok || bad "run indices"
awk -F, 'NR > 1 && $2 != $1 + 7 { exit 1 }' "$s/summary.csv" && ok || bad "seed = base + run index"
# the row's parameters are what the run used
r=$(awk -F, 'NR > 1 && $1 == 9 { print $4 " " $5 }' "$s/summary.csv")
[ "$r" = "20 0.4" ] && grep -q '"oc.lifespan_d": {"value": 20' "$s/runs/run_9/manifest.json" \
  && grep -q '"seed": 16' "$s/runs/run_9/manifest.json" && ok || bad "run 9: grid point '$r' or manifest"
awk -F, 'NR > 1 && $7 > $6 + 1e-6 { exit 1 }' "$s/summary.csv" && ok || bad "min > final"

# ---- sweep: SIGINT after a few rows keeps a valid summary; --resume finishes it
g="$tmp/int"
sargs=(single_bmu --set oc.lifespan_d=5,10,15,20,25,30 --replicates 4 --days 60 --jobs 1 --out "$g")
"$bin" sweep "${sargs[@]}" --quiet >/dev/null 2>"$tmp/int.err" &
pid=$!
for _ in $(seq 6000); do # until 3 rows are in (at most 5 min, for slow sanitizer builds)
  [ "$( { wc -l <"$g/summary.csv"; } 2>/dev/null || echo 0)" -ge 4 ] && break
  sleep 0.05
done
kill -INT "$pid"
wait "$pid"
rc=$?
[ "$rc" -eq 130 ] && ok || bad "interrupted sweep exit status $rc, expected 130"
got=$(($(wc -l <"$g/summary.csv") - 1))
[ "$got" -ge 3 ] && [ "$got" -lt 24 ] && ok || bad "interrupted sweep kept $got rows"
[ -z "$(tail -c 1 "$g/summary.csv")" ] && awk -F, 'NR == 1 { n = NF } NF != n { exit 1 }' "$g/summary.csv" \
  && ok || bad "interrupted summary.csv has a partial row"
grep -q "continue with the same command and --resume" "$tmp/int.err" && ok || bad "interrupt message"

# ---- children stop with the parent (issue 13): the check looks at the
# children recorded while the parent ran, not at `pgrep -P` of a parent
# that `wait` has already reaped (its orphans would belong to init).
kids_of() { # PID: its children, once at least $2 of them run (at most 60 s)
  local k
  for _ in $(seq 1200); do
    k=$(pgrep -P "$1" 2>/dev/null | tr '\n' ' ')
    [ "$(echo $k | wc -w)" -ge "$2" ] && { echo "$k"; return; }
    sleep 0.05
  done
}
alive() { # PIDS: those still running (not gone, not zombies)
  local k out=
  for k in $*; do
    [ -e "/proc/$k" ] && ! grep -q '^State:.*Z' "/proc/$k/status" 2>/dev/null && out="$out $k"
  done
  echo $out
}
stop_left() { local k; for k in $(alive $*); do kill -KILL "$k" 2>/dev/null; done; }
long=(--days 20000 --csv-every 100) # about 2 minutes a run: the parent is stopped long before
# SIGINT: the sweep stops its running children and exits 130
"$bin" sweep single_bmu --set oc.lifespan_d=5,10,15 "${long[@]}" --jobs 2 --quiet --out "$tmp/kint" >/dev/null 2>&1 &
pid=$!
kids=$(kids_of "$pid" 2)
[ -n "$kids" ] && ok || bad "sweep started no children"
kill -INT "$pid"
wait "$pid"
rc=$?
[ "$rc" -eq 130 ] && ok || bad "SIGINT sweep: exit $rc, expected 130"
left=$(alive $kids)
[ -z "$left" ] && ok || { bad "SIGINT sweep left children running: $left"; stop_left $kids; }
# SIGKILL of compare: it cannot stop its children itself; they die with it
"$bin" compare single_bmu --replicates 2 "${long[@]}" --jobs 2 --quiet --out "$tmp/kkill" >/dev/null 2>&1 &
pid=$!
kids=$(kids_of "$pid" 2)
[ -n "$kids" ] && ok || bad "compare started no children"
kill -KILL "$pid"
wait "$pid" 2>/dev/null
for _ in $(seq 100); do [ -z "$(alive $kids)" ] && break; sleep 0.05; done
left=$(alive $kids)
[ -z "$left" ] && ok || { bad "SIGKILL of compare left its children running: $left"; stop_left $kids; }

expect_fail "sweep existing summary" "already exists: add --resume" "$bin" sweep "${sargs[@]}"
"$bin" sweep "${sargs[@]}" --resume --jobs 2 --quiet >/dev/null 2>&1 && ok || bad "sweep --resume"
[ "$(tail -n +2 "$g/summary.csv" | cut -d, -f1 | sort -n | uniq | wc -l)" -eq 24 ] \
  && [ "$(($(wc -l <"$g/summary.csv") - 1))" -eq 24 ] && ok || bad "resumed summary: not 24 distinct runs"

# ---- sweep --resume refuses another configuration (issue 13), saying what differs
expect_fail "resume with other days" "days: stored 60, now 30" "$bin" sweep "${sargs[@]}" --resume --days 30
expect_fail "resume with other fixed set" "fixed.ob.form_um_per_day: not in the stored sweep, now 0.5" \
  "$bin" sweep "${sargs[@]}" --resume --set ob.form_um_per_day=0.5
expect_fail "resume: the resolved parameter is named" "param.ob.form_um_per_day: stored .*, now 0.5" \
  "$bin" sweep "${sargs[@]}" --resume --set ob.form_um_per_day=0.5
expect_fail "resume with other scenario" "scenario: stored .*single_bmu.ini, now .*homeostasis.ini" \
  "$bin" sweep homeostasis "${sargs[@]:1}" --resume
expect_fail "resume with other values" "swept.oc.lifespan_d: stored 5,10,15,20,25,30, now 5,10,15,20,25,31" \
  "$bin" sweep single_bmu --set oc.lifespan_d=5,10,15,20,25,31 "${sargs[@]:3}" --resume
expect_fail "resume with other seeds" "seed: stored 1, now 3" "$bin" sweep "${sargs[@]}" --resume --seed 3
sed -i 's/^version = .*/version = 0.0.1/' "$g/sweep-config.txt"
expect_fail "resume by another version" "version: stored 0.0.1, now " "$bin" sweep "${sargs[@]}" --resume
rm "$g/sweep-config.txt"
expect_fail "resume without a stored configuration" "sweep-config.txt is missing" "$bin" sweep "${sargs[@]}" --resume
[ "$(($(wc -l <"$g/summary.csv") - 1))" -eq 24 ] && ok || bad "refused resumes changed summary.csv"
# a key given twice is refused, not silently dropped
expect_fail "sweep key given twice" "oc.lifespan_d is given twice" \
  "$bin" sweep single_bmu --set oc.lifespan_d=5,10 --set oc.lifespan_d=20 --out "$tmp/y10"
expect_fail "sweep fixed key given twice" "ob.form_um_per_day is given twice" \
  "$bin" sweep single_bmu --set oc.lifespan_d=5,10 --set ob.form_um_per_day=1 --set ob.form_um_per_day=2 --out "$tmp/y11"

# ---- sweep: bad input
expect_fail "sweep unknown fixed key" "unknown parameter 'oc.bogus_d'" "$bin" sweep single_bmu --set oc.lifespan_d=1,2 --set oc.bogus_d=1 --out "$tmp/y0"
expect_fail "sweep unknown swept key" "unknown parameter 'oc.lifspn_d'" "$bin" sweep single_bmu --set oc.lifspn_d=1,2 --out "$tmp/y1"
expect_fail "sweep bad value list" "bad value list" "$bin" sweep single_bmu --set oc.lifespan_d=5,,10 --out "$tmp/y2"
expect_fail "sweep value out of range" "out of range" "$bin" sweep single_bmu --set oc.lifespan_d=5,900 --out "$tmp/y3"
expect_fail "sweep non-number" "oc.lifespan_d" "$bin" sweep single_bmu --set oc.lifespan_d=5,abc --out "$tmp/y4"
expect_fail "sweep --replicates 0" "--replicates '0'" "$bin" sweep single_bmu --set oc.lifespan_d=5,10 --replicates 0 --out "$tmp/y5"
expect_fail "sweep nothing swept" "nothing to sweep" "$bin" sweep single_bmu --out "$tmp/y6"
expect_fail "sweep seed overflow" "largest seed" "$bin" sweep single_bmu --set oc.lifespan_d=5,10 --seed 9007199254740991 --out "$tmp/y7"
expect_fail "sweep unknown column" "unknown column 'nope'" "$bin" sweep single_bmu --set oc.lifespan_d=5,10 --columns max:nope --out "$tmp/y8"
expect_fail "sweep bad summary" "unknown summary 'median'" "$bin" sweep single_bmu --set oc.lifespan_d=5,10 --columns median:n_dtc --out "$tmp/y9"
[ ! -e "$tmp/y3/summary.csv" ] && ok || bad "bad sweep input wrote a summary"

# ---- --force removes exactly what the earlier compare / sweep wrote, nothing else
f="$tmp/force"
"$bin" compare single_bmu --set-b oc.lifespan_d=5 --replicates 3 "${tiny[@]}" --out "$f" --quiet >/dev/null 2>&1 \
  && ok || bad "force: first compare"
echo mine >"$f/notes.txt"
echo mine >"$f/a/rep_2/my.txt"
"$bin" compare single_bmu --set-b oc.lifespan_d=5 --replicates 2 --days 8 --csv-every 2 --out "$f" --force --quiet \
  >/dev/null 2>"$tmp/force.err" && ok || { bad "force: second compare"; cat "$tmp/force.err"; }
[ ! -e "$f/b/rep_2" ] && [ -d "$f/a/rep_1" ] && [ -d "$f/b/rep_1" ] && ok || bad "compare --force left b/rep_2: $(ls "$f/b")"
[ "$(ls -A "$f/a/rep_2" 2>/dev/null)" = "my.txt" ] && ok || bad "compare --force: a/rep_2 should hold only the user's my.txt: $(ls -A "$f/a/rep_2" 2>&1)"
[ "$(cat "$f/notes.txt")" = mine ] && [ "$(cat "$f/a/rep_2/my.txt")" = mine ] && ok || bad "compare --force removed a user's file"
awk -F, 'NR > 1 && ($11 != 2 || $2 > 8) { exit 1 }' "$f/compare.csv" && ok || bad "compare.csv after --force is not the new run's (n 2, days <= 8)"
w="$tmp/forcesw"
"$bin" sweep single_bmu --set oc.lifespan_d=5,10,15 "${tiny[@]}" --jobs 2 --out "$w" --quiet >/dev/null 2>&1 && ok || bad "force: first sweep"
echo mine >"$w/runs/mine.txt"
"$bin" sweep single_bmu --set oc.lifespan_d=5,10 "${tiny[@]}" --jobs 2 --out "$w" --force --quiet >/dev/null 2>"$tmp/forcesw.err" \
  && ok || { bad "force: second sweep"; cat "$tmp/forcesw.err"; }
[ ! -e "$w/runs/run_2" ] && [ -d "$w/runs/run_1" ] && [ "$(cat "$w/runs/mine.txt")" = mine ] && ok \
  || bad "sweep --force: runs/ holds $(ls "$w/runs")"
[ "$(($(wc -l <"$w/summary.csv") - 1))" -eq 2 ] && ok || bad "sweep --force: summary.csv has $(($(wc -l <"$w/summary.csv") - 1)) rows, expected 2"

finish experiments
