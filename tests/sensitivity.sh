#!/usr/bin/env bash
# Sensitivity end to end (issue 20): `sweep --sample morris:R|lhs:N` runs
# the design's points (one parameter moved at a time, by delta, along each
# Morris trajectory; every LHS stratum hit once), deterministic from
# --seed; `bonesim sensitivity` reads it back, and on a summary.csv whose
# output is a known function of the sampled parameters it reports the known
# effects. Bad input is refused with a reason. (The designs and the
# statistics themselves are unit-tested in test_sensitivity.)
set -u
bin=$1
. "$(dirname "$0")/lib.sh"
export OMP_WAIT_POLICY=passive
tiny=(--set lattice.width_sites=32 --set lattice.height_sites=24 --days 6 --csv-every 2)
rng=(--range oc.lifespan_d=5:20 --range ob.form_um_per_day=0.4:1.2 --range bmu.lining_rankl_per_h=0.1:0.8)

"$bin" sensitivity --help | grep -q "usage: bonesim sensitivity" && ok || bad "sensitivity --help"
"$bin" help sensitivity | grep -q "mu\*" && ok || bad "help sensitivity"
"$bin" sweep --help | grep -q -- "--sample morris:R" && ok || bad "sweep --help lacks --sample"

# ---- a tiny Morris sweep: 3 trajectories x (3 + 1) points
m="$tmp/morris"
"$bin" sweep single_bmu --sample morris:3 "${rng[@]}" "${tiny[@]}" --seed 5 --jobs 2 --quiet --out "$m" \
  >/dev/null 2>"$tmp/m.err" && ok || { bad "Morris sweep"; cat "$tmp/m.err"; }
[ "$(($(wc -l <"$m/summary.csv") - 1))" -eq 12 ] && ok || bad "Morris sweep: expected 12 rows"
[ "$(($(wc -l <"$m/design.csv") - 1))" -eq 12 ] && ok || bad "design.csv: expected 12 points"
head -1 "$m/summary.csv" | grep -q "^run,seed,replicate,oc.lifespan_d,ob.form_um_per_day,bmu.lining_rankl_per_h," \
  && ok || bad "Morris summary header: $(head -1 "$m/summary.csv")"
# along each trajectory (4 consecutive runs) exactly one parameter changes per
# step, by 2/3 of its range, and each parameter changes once
awk -F, 'NR > 1 { for (p = 4; p <= 6; p++) v[$1, p] = $p }
  END {
    lo[4] = 5; hi[4] = 20; lo[5] = 0.4; hi[5] = 1.2; lo[6] = 0.1; hi[6] = 0.8
    for (t = 0; t < 3; t++) {
      delete moved
      for (s = 1; s <= 3; s++) {
        r = t * 4 + s; n = 0
        for (p = 4; p <= 6; p++) {
          d = v[r, p] - v[r - 1, p]
          if (d != 0) { n++; moved[p]++; u = (d < 0 ? -d : d) / (hi[p] - lo[p]); if (u < 0.6666 || u > 0.6667) exit 1 }
        }
        if (n != 1) exit 1
      }
      for (p = 4; p <= 6; p++) if (moved[p] != 1) exit 1
    }
  }' "$m/summary.csv" && ok || bad "Morris trajectories do not move one parameter at a time by delta"
# the runs used the design's values
r5=$(awk -F, 'NR > 1 && $1 == 5 { print $4 }' "$m/summary.csv")
grep -q "\"oc.lifespan_d\": {\"value\": $r5" "$m/runs/run_5/manifest.json" && ok || bad "run 5 did not use oc.lifespan_d=$r5"
"$bin" sensitivity "$m" --columns bone_area_um2,n_osteoclasts_final >"$tmp/sens.out" 2>"$tmp/sens.err" && ok \
  || { bad "sensitivity exit status"; cat "$tmp/sens.err"; }
grep -q "bone_area_um2_final" "$tmp/sens.out" && grep -q "mu\*" "$tmp/sens.out" && ok || bad "sensitivity table"
[ "$(($(wc -l <"$m/sensitivity.csv") - 1))" -eq 6 ] && ok || bad "sensitivity.csv: expected 2 outputs x 3 parameters"
head -1 "$m/sensitivity.csv" | grep -qx "output,parameter,rank,mu_star,mu_star_lo95,mu_star_hi95,mu,sigma,n_effects" \
  && ok || bad "sensitivity.csv header"
[ "$(tail -c 8 "$m/sensitivity.png" | head -c 4)" = "IEND" ] && ok || bad "sensitivity.png is not a whole PNG"
cp "$m/sensitivity.csv" "$tmp/first.csv"
"$bin" sensitivity "$m" --columns bone_area_um2,n_osteoclasts_final --quiet && cmp -s "$tmp/first.csv" "$m/sensitivity.csv" \
  && ok || bad "sensitivity not reproducible"
# same seed, same design; another seed, another one
"$bin" sweep single_bmu --sample morris:3 "${rng[@]}" "${tiny[@]}" --seed 5 --days 2 --quiet --out "$tmp/m5" >/dev/null 2>&1
"$bin" sweep single_bmu --sample morris:3 "${rng[@]}" "${tiny[@]}" --seed 6 --days 2 --quiet --out "$tmp/m6" >/dev/null 2>&1
cmp -s "$m/design.csv" "$tmp/m5/design.csv" && ok || bad "same --seed, different design"
cmp -s "$m/design.csv" "$tmp/m6/design.csv" && bad "another --seed, same design" || ok

# ---- a known answer through the command: replace the outputs with
# y = 3 u(lifespan) + 10 (u(rankl) - 1/2)^2 (u = value scaled to its range):
# mu*(lifespan) = 3 exactly with sigma 0, mu*(form) = 0, mu*(rankl) = 10/3
s="$tmp/synthetic"
mkdir -p "$s" && cp "$m/design.csv" "$m/design_ranges.csv" "$s/"
awk -F, -v OFS=, 'NR == 1 { print "run,seed,replicate,oc.lifespan_d,ob.form_um_per_day,bmu.lining_rankl_per_h,y_final"; next }
  { u1 = ($4 - 5) / 15; u3 = ($6 - 0.1) / 0.7; printf "%s,%s,%s,%s,%s,%s,%.12g\n", $1, $2, $3, $4, $5, $6, 3 * u1 + 10 * (u3 - 0.5) ^ 2 }' \
  "$m/summary.csv" >"$s/summary.csv"
"$bin" sensitivity "$s" --quiet && ok || bad "sensitivity on the synthetic summary"
awk -F, 'NR > 1 { ms[$2] = $4; sg[$2] = $8; rk[$2] = $3 }
  END {
    d = ms["oc.lifespan_d"] - 3; if (d < 0) d = -d; if (d > 1e-5 || sg["oc.lifespan_d"] > 1e-5) exit 1
    if (ms["ob.form_um_per_day"] != 0) exit 1
    d = ms["bmu.lining_rankl_per_h"] - 10 / 3; if (d < 0) d = -d; if (d > 1e-4) exit 1
    if (rk["bmu.lining_rankl_per_h"] != 1 || rk["oc.lifespan_d"] != 2 || rk["ob.form_um_per_day"] != 3) exit 1
  }' "$s/sensitivity.csv" && ok || { bad "synthetic effects not recovered:"; cat "$s/sensitivity.csv"; }

# ---- replicates: averaged per point; with every second replicate's row lost
# the analysis still maps runs to points (run = point x 2 + replicate)
r="$tmp/reps"
"$bin" sweep single_bmu --sample morris:2 --range oc.lifespan_d=5:20 --range ob.form_um_per_day=0.4:1.2 "${tiny[@]}" \
  --replicates 2 --jobs 2 --quiet --out "$r" >/dev/null 2>"$tmp/r.err" && ok || { bad "Morris sweep x 2"; cat "$tmp/r.err"; }
grep -q ",2$" "$r/design_ranges.csv" && ok || bad "design_ranges.csv lacks the replicates"
awk -F, 'NR == 1 || $3 == 0' "$r/summary.csv" >"$tmp/r0.csv" && mv "$tmp/r0.csv" "$r/summary.csv"
"$bin" sensitivity "$r" --columns bone_area_um2 --quiet && awk -F, 'NR > 1 && $9 != 2 { exit 1 }' "$r/sensitivity.csv" \
  && ok || { bad "replicate-0 rows only: effects lost"; cat "$r/sensitivity.csv"; }

# ---- LHS: every stratum of every parameter hit once; Spearman analysis
l="$tmp/lhs"
"$bin" sweep single_bmu --sample lhs:6 --range oc.lifespan_d=5:20 --range ob.form_um_per_day=0.4:1.2 "${tiny[@]}" \
  --jobs 2 --quiet --out "$l" >/dev/null 2>"$tmp/l.err" && ok || { bad "LHS sweep"; cat "$tmp/l.err"; }
awk -F, 'NR > 1 { s4[int(($4 - 5) / 15 * 6)]++; s5[int(($5 - 0.4) / 0.8 * 6)]++; n++ }
  END { if (n != 6) exit 1; for (k = 0; k < 6; k++) if (s4[k] != 1 || s5[k] != 1) exit 1 }' "$l/summary.csv" \
  && ok || bad "LHS strata not each hit once"
"$bin" sensitivity "$l" --columns bone_area_um2 --quiet && head -1 "$l/sensitivity.csv" | grep -q spearman_rho \
  && ok || bad "LHS sensitivity"

# known answer for LHS: y strictly increasing in lifespan only -> rho = 1
# (interval [1, 1]) for it
awk -F, -v OFS=, 'NR == 1 { print "run,seed,replicate,oc.lifespan_d,ob.form_um_per_day,y_final"; next }
  { printf "%s,%s,%s,%s,%s,%.12g\n", $1, $2, $3, $4, $5, exp(0.2 * $4) }' "$l/summary.csv" >"$tmp/lsyn.csv"
mkdir -p "$tmp/lsyn" && cp "$l/design.csv" "$l/design_ranges.csv" "$tmp/lsyn/" && mv "$tmp/lsyn.csv" "$tmp/lsyn/summary.csv"
"$bin" sensitivity "$tmp/lsyn" --quiet && awk -F, '$2 == "oc.lifespan_d" { f = ($3 == 1 && $4 == 1 && $5 == 1 && $6 == 1) }
  END { exit !f }' "$tmp/lsyn/sensitivity.csv" && ok || { bad "LHS: rho of a monotone function is not 1:"; cat "$tmp/lsyn/sensitivity.csv"; }

# ---- bad input
expect_fail "--sample without --range" "needs the parameters to sample" \
  "$bin" sweep single_bmu --sample morris:3 --out "$tmp/x1"
expect_fail "--range without --sample" "need --sample" \
  "$bin" sweep single_bmu --range oc.lifespan_d=5:20 --out "$tmp/x2"
expect_fail "unknown sampled parameter" "no parameter nosuch.key" \
  "$bin" sweep single_bmu --sample lhs:4 --range nosuch.key=0:1 --out "$tmp/x3"
expect_fail "range outside the registry" "valid range" \
  "$bin" sweep single_bmu --sample lhs:4 --range oc.lifespan_d=-5:20 --out "$tmp/x4"
expect_fail "bad --sample" "expected lhs:N" "$bin" sweep single_bmu --sample sobol:4 --range oc.lifespan_d --out "$tmp/x5"
expect_fail "--levels with lhs" "morris:R only" \
  "$bin" sweep single_bmu --sample lhs:4 --levels 6 --range oc.lifespan_d=5:20 --out "$tmp/x6"
expect_fail "--sample with a grid" "replaces the grid" \
  "$bin" sweep single_bmu --sample lhs:4 --range oc.lifespan_d=5:20 --set ob.form_um_per_day=0.4,1 --out "$tmp/x7"
expect_fail "sampled and fixed" "both sampled" \
  "$bin" sweep single_bmu --sample lhs:4 --range oc.lifespan_d=5:20 --set oc.lifespan_d=9 --out "$tmp/x8"
"$bin" sweep single_bmu --set oc.lifespan_d=5,10 "${tiny[@]}" --quiet --out "$tmp/grid" >/dev/null 2>&1
expect_fail "sensitivity of a grid sweep" "design_ranges.csv.*--sample" "$bin" sensitivity "$tmp/grid"
expect_fail "sensitivity unknown column" "no output column 'nosuch'" "$bin" sensitivity "$m" --columns nosuch
expect_fail "sensitivity without a folder" "missing SWEEP_DIR" "$bin" sensitivity
for x in 1 2 3 4 5 6 7 8; do [ -e "$tmp/x$x" ] && bad "refused sweep x$x wrote its folder"; done
ok

echo "sensitivity: $pass checks passed, $fail failed"
[ "$fail" -eq 0 ]
