#!/usr/bin/env bash
# End-to-end tests of the bonesim command line.
set -uo pipefail
bin=$1
. "$(dirname "$0")/lib.sh"
# expect_fail NAME PATTERN CMD...: non-zero exit and stderr matching PATTERN
# help and version
"$bin" --help | grep -q "usage: bonesim" && ok || bad "--help"
"$bin" run --help | grep -q -- "--csv-every" && ok || bad "run --help"
"$bin" params --help | grep -q "usage: bonesim params" && ok || bad "params --help"
"$bin" scenarios --help | grep -q "usage: bonesim scenarios" && ok || bad "scenarios --help"
"$bin" --version | grep -Eq "^bonesim [0-9]+\.[0-9]+\.[0-9]+" && ok || bad "--version"

# scenarios and params
"$bin" scenarios >"$tmp/sc" && grep -q "homeostasis" "$tmp/sc" && grep -q "single_bmu" "$tmp/sc" && ok || bad "scenarios list"
"$bin" params >"$tmp/p" && grep -q "oc.lifespan_d" "$tmp/p" && grep -q "Agerbaek" "$tmp/p" && ok || bad "params list"
"$bin" params single_bmu | grep -A0 "bmu.activation_per_site_per_y" | grep -q "(set)" && ok || bad "params SCENARIO marks set values"
"$bin" params --markdown >"$tmp/md" && head -1 "$tmp/md" | grep -q "| name |" && ok || bad "params --markdown"

# a short run: CSV header with exact column names, rows, manifest, PNGs
out="$tmp/run"
"$bin" run single_bmu --days 12 --csv-every 3 --png-every 6 --out "$out" --seed 3 >"$tmp/summary" || bad "run exit status"
head -1 "$out/timeseries.csv" | grep -qx "time_days,bone_area_um2,bv_tv,endosteum_quiescent_frac,n_osteoclasts,n_osteoblasts,resorbed_um2_per_day,formed_um2_per_day,o2_median_mmHg,n_dtc,n_dtc_dormant,n_dtc_proliferating,n_ctc_arrived,n_extravasated,tumour_area_um2,n_tcells,n_tcells_active,n_nk,n_mdsc,kills_tcell_per_day,kills_nk_per_day,store_full_refusals,o2_p5_mmHg,o2_p95_mmHg,o2_perisinusoidal_mmHg,o2_endosteal_mmHg,tumour_hypoxic_frac,o2_tumour_min_mmHg,n_osteoclasts_near_tumour,n_dtc_lineage_blood,n_dtc_lineage_quiescent,n_dtc_lineage_brc,n_dtc_endosteal,n_dtc_perivascular,serum_za_doses,bone_za_surface_load_doses,serum_denosumab_doses,dmab_precursor_pool_frac,serum_anti_pd1_doses,serum_chemo_doses,dtc_egress_per_day,ctc_mobilised_circulating,n_chemo_killed,o2_tumour_mmHg,tgfb_tcell_au,suppr_tcell_au,n_myeloid_oc_pool,n_dtc_dormant_lineage_blood,n_dtc_dormant_lineage_quiescent,n_dtc_dormant_lineage_brc,bone_lost_near_lesion_um2,n_dtc_settled,cxcl12_settled_dtc_au,bmu_events_done,bmu_resorption_d,bmu_reversal_d,bmu_formation_d,bmu_event_d,bmu_depth_um,bmu_refill,tcell_contacts_mean,nk_contacts_mean,nk_contacts_hypoxic_mean,kills_nk_hypoxic_per_day,n_tregs,n_macrophages_m1,n_macrophages_m2" && ok || bad "CSV header"
rows=$(($(wc -l <"$out/timeseries.csv") - 1))
[ "$rows" -eq 5 ] && ok || bad "CSV rows: expected 5 (days 0,3,6,9,12), got $rows"
grep -q '"seed": 3' "$out/manifest.json" && grep -q '"oc.lifespan_d"' "$out/manifest.json" && ok || bad "manifest"
python3 -c "import json,sys; json.load(open(sys.argv[1]))" "$out/manifest.json" 2>/dev/null && ok || bad "manifest is not valid JSON"
[ -f "$out/snapshot_day0000.0.png" ] && [ -f "$out/snapshot_day0006.0.png" ] && [ -f "$out/snapshot_day0012.0.png" ] && ok || bad "PNG snapshots"
head -c 8 "$out/snapshot_day0012.0.png" | od -An -tx1 | grep -q "89 50 4e 47" && ok || bad "PNG signature"
grep -q "bone area" "$tmp/summary" && grep -q "quiescent" "$tmp/summary" && ok || bad "summary"

# outputs are not silently overwritten
expect_fail "existing output" "already exists.*--force" "$bin" run single_bmu --days 1 --out "$out" --quiet
"$bin" run single_bmu --days 1 --out "$out" --quiet --force && ok || bad "--force"

# --set and overrides are recorded
"$bin" run single_bmu --days 1 --out "$tmp/set" --quiet --set oc.lifespan_d=10 && grep -q '"oc.lifespan_d": {"value": 10' "$tmp/set/manifest.json" && ok || bad "--set recorded in manifest"

# bad input: clear message, non-zero exit
expect_fail "unknown scenario" "no scenario 'nope'" "$bin" run nope
expect_fail "unknown option" "unknown option '--bogus'" "$bin" run single_bmu --bogus
expect_fail "unknown command" "unknown command" "$bin" frobnicate
expect_fail "bad days" "--days 'abc' is not a number" "$bin" run single_bmu --days abc
expect_fail "unknown --set key" "unknown parameter 'oc.lifspan_d'.*did you mean 'oc.lifespan_d'" "$bin" run single_bmu --set oc.lifspan_d=3
expect_fail "out of range --set" "out of range \(valid: 1 \.\. 100 d\)" "$bin" run single_bmu --set oc.lifespan_d=900
expect_fail "NaN --set" "oc.lifespan_d" "$bin" run single_bmu --set oc.lifespan_d=nan
expect_fail "malformed --set" "expected section.key=value" "$bin" run single_bmu --set oc.lifespan_d
printf '[oc]\nlifespan_d = 10\nlifespn_d = 3\n' >"$tmp/bad.ini"
expect_fail "unknown key in file" "bad.ini:3: unknown parameter 'oc.lifspn_d'|bad.ini:3: unknown parameter 'oc.lifespn_d'" "$bin" run "$tmp/bad.ini" --days 1 --out "$tmp/x1"
printf '[oc]\nlifespan_d = 1e9\n' >"$tmp/range.ini"
expect_fail "range in file" "range.ini:2: .*out of range \(valid: 1 \.\. 100 d\)" "$bin" run "$tmp/range.ini" --days 1 --out "$tmp/x2"
[ ! -e "$tmp/x1/timeseries.csv" ] && ok || bad "failed run left an output"

# include mechanism works from the command line
printf 'include = %s\n[run]\ndays = 2\n' "$(dirname "$0")/../scenarios/single_bmu.ini" >"$tmp/inc.ini"
"$bin" run "$tmp/inc.ini" --out "$tmp/inc" --quiet && [ "$(tail -1 "$tmp/inc/timeseries.csv" | cut -d, -f1)" = "2.0000" ] && ok || bad "include"

finish cli_e2e
