#!/usr/bin/env bash
# End-to-end tests of `bonesim validate` on tiny experiments (single_bmu,
# 60 x 40 sites, 20 days): pairing and seeds, the statistics of a known
# case, the report, --resume, a failed run, and bad experiment files.
set -uo pipefail
bin=$1
. "$(dirname "$0")/lib.sh"
export OMP_WAIT_POLICY=passive
ex="$tmp/exp"
mkdir -p "$ex"
js() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); $2" "$3"; }
# fixture DIR NAME LABEL: validate the experiments in DIR (one job) into $tmp/NAME
# and set csv to its seed-1000 timeseries
fixture() {
  "$bin" validate --experiments "$1" --jobs 1 --out "$tmp/$2" --quiet >/dev/null 2>"$tmp/$2.err" && ok || { bad "validate $3"; cat "$tmp/$2.err"; }
  csv=$(ls "$tmp/$2"/runs/*/seed_1000/timeseries.csv)
}

# ---- help
"$bin" validate --help | grep -q "usage: bonesim validate" && ok || bad "validate --help"
"$bin" help validate | grep -q "Wilcoxon" && ok || bad "help validate"
"$bin" --help | grep -q "validate \[B...\]" && ok || bad "main help lists validate"

# ---- two tiny experiments: a real effect (longer-lived osteoclasts resorb
# more in days 0-20) and a known case (identical arms: every ratio is 1)
cat >"$ex/t1.ini" <<'INI'
# longer-lived osteoclasts: more resorption early in the event
id = T1
behaviour = T
title = longer-lived osteoclasts resorb more
source = test fixture
control = single_bmu
control_set = oc.lifespan_d=6
treated_set = oc.lifespan_d=30
observable = resorbed_um2_per_day
window = 0 20
summary = mean
effect = ratio
expect = increase
quick.days = 20
quick.seeds = 5
full.days = 20
full.seeds = 6
INI
cat >"$ex/t2.ini" <<'INI'
id = T2
behaviour = T
title = identical arms
source = test fixture
control = single_bmu
treated = single_bmu
observable = bone_area_um2
window = 0 20
summary = final
effect = ratio
expect = decrease
quick.days = 20
quick.seeds = 5
full.days = 20
full.seeds = 3
INI
o="$tmp/v1"
"$bin" validate --experiments "$ex" --jobs 2 --out "$o" >"$tmp/v1.out" 2>"$tmp/v1.err"
rc=$?
[ "$rc" -eq 3 ] && ok || { bad "validate exit $rc, expected 3 (T2 fails by design)"; cat "$tmp/v1.err"; }
grep -q "15 distinct runs" "$tmp/v1.err" && ok || bad "identical arms not shared: $(head -1 "$tmp/v1.err")"
grep -q "ETA" "$tmp/v1.err" && ok || bad "no progress with ETA"
# pairing: for each seed both arms of T1 ran with that seed; seeds 1000..1004 by default
seeds=$(for m in "$o"/runs/*/seed_*/manifest.json; do js "$m" "print(d['seed'])" "$m"; done | sort | uniq -c | awk '{print $1 "x" $2}' | tr '\n' ' ')
[ "$seeds" = "3x1000 3x1001 3x1002 3x1003 3x1004 " ] && ok || bad "seeds per run: $seeds"
js "$o/results.json" "e=d['experiments'][0]; assert e['id']=='T1' and e['seeds']==[1000,1001,1002,1003,1004]; \
assert e['n']==5 and e['ci95'] is not None and e['test']['n']>=1 and e['spread']['kind']=='iqr'; \
assert all(abs(t/c-x)<1e-9 for c,t,x in zip(e['control_values'],e['treated_values'],e['effects']))" "$o/results.json" \
  && ok || bad "results.json T1: seeds, n, interval, test or effects = treated/control"
# the known case: identical arms, every ratio exactly 1, zero-width interval, no test (all pairs tied), FAIL
js "$o/results.json" "e=d['experiments'][1]; assert e['effects']==[1.0]*5 and e['median']==1.0 and e['ci95']==[1.0,1.0]; \
assert e['test'] is None and e['verdict']=='FAIL'" "$o/results.json" && ok || bad "results.json T2 (identical arms)"
# the test's p-value is the exact one for the signs and ranks of the log ratios
js "$o/results.json" "
import itertools, math
e=d['experiments'][0]; l=[math.log(x) for x in e['effects'] if x!=1.0]
a=sorted(abs(v) for v in l); r={v:(sum(i+1 for i,u in enumerate(a) if u==v)/a.count(v)) for v in a}
w=sum(r[abs(v)] for v in l if v>0); n=len(l)
p=sum(1 for s in itertools.product([0,1],repeat=n) if sum(r[a[i]] for i in range(n) if s[i])>=w-1e-9)/2**n
assert abs(p-e['test']['p'])<1e-9, (p, e['test'])" "$o/results.json" && ok || bad "Wilcoxon p differs from a brute-force count"
grep -q "^| \[T1\](#T1) | T |" "$o/report.md" && grep -q "^| \[T2\](#T2) | T |" "$o/report.md" && ok || bad "report.md summary table"
grep -q "one-sided Wilcoxon signed-rank" "$o/report.md" && grep -q "seeds 1000 .. 1004" "$o/report.md" && ok || bad "report.md names test and seeds"
for f in T1 T2; do
  [ "$(head -c 8 "$o/fig/$f.png" | od -An -tx1 | tr -d ' \n')" = "89504e470d0a1a0a" ] && ok || bad "fig/$f.png missing or not a PNG"
done
# fewer than 5 pairs: no interval, said why; the spread is a range
"$bin" validate T1 --experiments "$ex" --seeds 3 --jobs 2 --out "$tmp/v3" --quiet >/dev/null 2>&1
js "$tmp/v3/results.json" "e=d['experiments'][0]; assert e['ci95'] is None and 'fewer than 5' in e['ci95_why'] and e['spread']['kind']=='range'; \
assert e['verdict']=='direction only' or e['verdict']=='FAIL'" "$tmp/v3/results.json" && ok || bad "3 pairs: interval or spread label"
grep -q "range (fewer than 5, so not an IQR)" "$tmp/v3/report.md" && ok || bad "report labels a 3-pair spread as a range"

# ---- the cost table: CPU seconds per experiment, per seed, and the estimate at the file's seeds
grep -q "^### CPU time per experiment" "$o/report.md" && grep -Eq "^\| T1 \| 5 \| 10 \| [0-9.]+ \| [0-9.]+ \| 5 \| [0-9]+ \|$" "$o/report.md" \
  && grep -Eq "^All 15 distinct runs: [0-9]+ CPU s measured" "$o/report.md" && ok || bad "report.md cost table"
# --seeds 1 under --full estimates the file's full.seeds (6 for T1)
"$bin" validate T1 --experiments "$ex" --full --seeds 1 --jobs 1 --out "$tmp/vc" --quiet >/dev/null 2>&1
grep -Eq "^\| T1 \| 1 \| 2 \| [0-9.]+ \| [0-9.]+ \| 6 \| [0-9]+ \|$" "$tmp/vc/report.md" && ok || bad "--full --seeds 1 cost estimate"
js "$tmp/vc/results.json" "e=d['cost'][0]; assert e['id']=='T1' and e['cpu_s']>0 and abs(e['cpu_s_at_file_seeds']-6*e['cpu_s'])<0.1" "$tmp/vc/results.json" \
  && ok || bad "results.json cost fields"
# ---- a derived quantity from the spatial columns: the one event's resorption phase (days) is the CSV's
# bmu_resorption_d at the window's end, rows before the event finished skipped
ex2="$tmp/exp2" && mkdir -p "$ex2"
cat >"$ex2/t4.ini" <<'INI'
id = T4
behaviour = T
title = one event's resorption phase from the per-event column
source = test fixture
control = single_bmu
observable = resorption_d_per_event
window = 0 160
summary = mean
effect = value
expect = band
band = 0 1000
quick.days = 160
quick.seeds = 1
full.days = 160
full.seeds = 1
INI
fixture "$ex2" v6 T4
python3 -c "
import csv,json,sys
rows=[r for r in csv.DictReader(open(sys.argv[1])) if int(r['bmu_events_done'])>0]
v=json.load(open(sys.argv[2]))['experiments'][0]['control_values'][0]
want=sum(float(r['bmu_resorption_d']) for r in rows)/len(rows)
assert rows and 10<want<40 and abs(v-want)<1e-9, (v, want, len(rows))" "$csv" "$tmp/v6/results.json" && ok || bad "T4: resorption_d_per_event"

# ---- slope_per_y and max_abs_dev_first against the CSV, and expect = band_every_seed (every seed, not
# the median): S1 passes with a wide band, S2's band holds the median but not every seed, so it fails
exS="$tmp/expS" && mkdir -p "$exS"
for t in S1:slope_per_y:-1e9:1e9 S2:max_abs_dev_first:LO:HI; do
  IFS=: read -r id sm lo hi <<<"$t"
  cat >"$exS/$id.ini" <<INI
id = $id
behaviour = T
title = $sm of bone area during one event
source = test fixture
control = single_bmu
observable = bone_area_um2
window = 0 30
summary = $sm
effect = value
expect = band_every_seed
band = $lo $hi
quick.days = 30
quick.seeds = 3
full.days = 30
full.seeds = 3
INI
done
# S2's band: from the median of the per-seed values (known after one run of S1's seeds) up
sed -i 's/^band = LO HI$/band = 0 1e9/' "$exS/S2.ini"
"$bin" validate --experiments "$exS" --jobs 1 --out "$tmp/vS" --quiet >/dev/null 2>"$tmp/vS.err" && ok || { bad "validate S1/S2"; cat "$tmp/vS.err"; }
python3 -c "
import csv,json,sys,glob
d=json.load(open(sys.argv[1]))['experiments']
e5=[e for e in d if e['id']=='S1'][0]; e6=[e for e in d if e['id']=='S2'][0]
assert e5['expect']=='band_every_seed' and e5['verdict']=='pass' and e6['verdict']=='pass'
for i,s in enumerate(e5['seeds']):
    r=list(csv.DictReader(open(glob.glob(sys.argv[2]+'/runs/*/seed_%d/timeseries.csv'%s)[0])))
    r=[x for x in r if float(x['time_days'])<=30+1e-9]
    t=[float(x['time_days']) for x in r]; v=[float(x['bone_area_um2']) for x in r]
    tm=sum(t)/len(t); vm=sum(v)/len(v)
    sl=365.25*sum((a-tm)*(b-vm) for a,b in zip(t,v))/sum((a-tm)**2 for a in t)
    dv=max(abs(b/v[0]-1) for b in v)
    assert abs(e5['control_values'][i]-sl)<=1e-6*max(1,abs(sl)), (s, e5['control_values'][i], sl)
    assert abs(e6['control_values'][i]-dv)<=1e-9 and dv>0, (s, e6['control_values'][i], dv)
vals=sorted(e6['control_values']); assert vals[0]<vals[-1], vals
open(sys.argv[3],'w').write('0 %.17g\n'%(0.5*(vals[1]+vals[-1])))
" "$tmp/vS/results.json" "$tmp/vS" "$tmp/tsband" && ok || bad "S1/S2: slope_per_y or max_abs_dev_first differ from the CSV"
# a band that holds the median seed but not the largest value: band = FAIL, band_every_seed = FAIL naming it
if [ -s "$tmp/tsband" ]; then
  read -r lo hi <"$tmp/tsband"
  sed -i "s/^band = .*/band = $lo $hi/" "$exS/S2.ini"
  "$bin" validate S2 --experiments "$exS" --jobs 1 --out "$tmp/vS" --resume --quiet >/dev/null 2>&1
  js "$tmp/vS/results.json" "e=d['experiments'][0]; assert e['verdict']=='FAIL' and '2 of 3 seeds inside' in e['why'] and 'farthest out: seed 10' in e['why'], e['why']" "$tmp/vS/results.json" \
    && ok || bad "band_every_seed: one seed outside must fail and be named"
  sed -i 's/^expect = band_every_seed$/expect = band/' "$exS/S2.ini"
  "$bin" validate S2 --experiments "$exS" --jobs 1 --out "$tmp/vS" --resume --quiet >/dev/null 2>&1
  js "$tmp/vS/results.json" "e=d['experiments'][0]; assert e['verdict']=='pass', e['why']" "$tmp/vS/results.json" \
    && ok || bad "expect = band on the same values: the median is inside"
fi
# ---- a contrast of two paired effects (four arms, issue 17: B18 in bone vs soft tissue): per seed the
# main pair's ratio over the reference pair's; runs shared across pairs run once; a reference pair equal
# to the main pair gives exactly 1 on every seed
ex3="$tmp/exp3" && mkdir -p "$ex3"
# T5 is T1 (lifespan x5 against 6 d) with a reference pair (x2 against 6 d) on lines 8-10 and 5 full seeds
sed -e '/^#/d' -e 's/^id = T1/id = T5/' -e 's/^title = .*/title = osteoclast lifespan x5 vs x2: the contrast of two paired effects/' \
  -e '/^treated_set = /a reference_control = single_bmu\nreference_control_set = oc.lifespan_d=6\nreference_treated_set = oc.lifespan_d=12' \
  -e 's/^full.seeds = 6/full.seeds = 5/' "$ex/t1.ini" >"$ex3/t5.ini"
sed -e 's/^id = T5/id = T6/' -e 's/^reference_treated_set = .*/reference_treated_set = oc.lifespan_d=30/' \
  -e 's/^expect = increase/expect = band\nband = 0.999 1.001/' "$ex3/t5.ini" >"$ex3/t6.ini"
sed -e 's/^id = T5/id = T7/' -e 's/^effect = ratio/effect = difference/' "$ex3/t5.ini" >"$ex3/t7.ini"
"$bin" validate --experiments "$ex3" --jobs 2 --out "$tmp/v7" --quiet >"$tmp/v7.out" 2>"$tmp/v7.err" \
  && ok || { bad "validate contrast experiments"; cat "$tmp/v7.err" "$tmp/v7.out"; }
grep -q "^All 15 distinct runs" "$tmp/v7/report.md" && ok || bad "contrast runs not shared: $(grep '^All' "$tmp/v7/report.md")"
js "$tmp/v7/results.json" "
t5,t6,t7=d['experiments']
assert t5['contrast'] and t5['reference_control'].startswith('single_bmu') and 'oc.lifespan_d=12' in t5['reference_treated']
for e in (t5,t6):
  for c,t,rc,rt,e1,e2,x in zip(e['control_values'],e['treated_values'],e['reference_control_values'],
      e['reference_treated_values'],e['main_effects'],e['reference_effects'],e['effects']):
    assert abs(e1-t/c)<1e-9 and abs(e2-rt/rc)<1e-9 and abs(x-e1/e2)<1e-9, (e['id'],c,t,rc,rt,x)
assert t6['effects']==[1.0]*5 and t6['verdict']=='pass'
assert t5['n']==5 and t5['test'] is not None and t5['verdict'] in ('pass','not significant','FAIL')
for c,t,rc,rt,x in zip(t7['control_values'],t7['treated_values'],t7['reference_control_values'],
    t7['reference_treated_values'],t7['effects']):
  assert abs(x-((t-c)-(rt-rc)))<1e-6*max(1,abs(x)), (c,t,rc,rt,x)
" "$tmp/v7/results.json" && ok || bad "contrast: per-seed effects are not main/reference (ratio) or main-reference (difference)"
grep -q "^| seed | control | treated | ratio | reference control | reference treated | reference ratio | ratio of ratios |" \
  "$tmp/v7/report.md" && grep -q "^- reference treated: \`single_bmu oc.lifespan_d=12\`" "$tmp/v7/report.md" \
  && ok || bad "report.md: the contrast's arms and per-seed table"
[ "$(head -c 8 "$tmp/v7/fig/T5.png" | od -An -tx1 | tr -d ' \n')" = "89504e470d0a1a0a" ] && ok || bad "fig/T5.png"
# bad contrast files: the reference pair needs its control, two arms, and a paired effect
mkdir -p "$tmp/b_c1" "$tmp/b_c2" "$tmp/b_c3" "$tmp/b_c4"
grep -v '^reference_control = ' "$ex3/t5.ini" >"$tmp/b_c1/x.ini"
expect_fail "contrast without reference_control" "x.ini:8: a reference pair needs reference_control" \
  "$bin" validate --experiments "$tmp/b_c1" --out "$tmp/bo_c1"
grep -v '^reference_treated_set = ' "$ex3/t5.ini" >"$tmp/b_c2/x.ini"
expect_fail "contrast with one reference arm" "x.ini:8: the reference pair compares two arms" \
  "$bin" validate --experiments "$tmp/b_c2" --out "$tmp/bo_c2"
sed 's/^reference_treated_set = .*/reference_treated_set = oc.lifspn_d=12/' "$ex3/t5.ini" >"$tmp/b_c3/x.ini"
expect_fail "contrast: bad reference parameter" "x.ini:10: .*unknown parameter 'oc.lifspn_d'" \
  "$bin" validate --experiments "$tmp/b_c3" --out "$tmp/bo_c3"
sed 's/^reference_control = .*/reference_control = nope/' "$ex3/t5.ini" >"$tmp/b_c4/x.ini"
expect_fail "contrast: bad reference scenario" "x.ini:8: .*no scenario 'nope'" \
  "$bin" validate --experiments "$tmp/b_c4" --out "$tmp/bo_c4"
for k in 1 2 3 4; do [ ! -e "$tmp/bo_c$k/runs" ] || bad "bad contrast file $k started runs"; done

# ---- doubling_ratio:A:B:C: the doubling time from B to C times the first value over the one from A to B,
# each level's crossing day log-linear between the rows around it (a growing lesion, 60 x 60 sites)
ex4="$tmp/exp4" && mkdir -p "$ex4"
cat >"$ex4/t8.ini" <<'INI'
id = T8
behaviour = T
title = doubling ratio of a growing lesion
source = test fixture
control = vicious_cycle_mouse
observable = n_dtc
window = 0 12
summary = doubling_ratio:2:4:8
effect = value
expect = band
band = 0 100
quick.days = 12
quick.seeds = 1
quick.set = lattice.width_sites=60
quick.set = lattice.height_sites=60
full.days = 12
full.seeds = 1
INI
fixture "$ex4" v8 T8
python3 -c "
import csv,json,math,sys
r=list(csv.DictReader(open(sys.argv[1])))
t=[float(x['time_days']) for x in r]; v=[float(x['n_dtc']) for x in r]
def cross(f):
    for i in range(1,len(v)):
        if v[i]>=f*v[0]:
            return t[i-1]+(t[i]-t[i-1])*math.log(f*v[0]/v[i-1])/math.log(v[i]/v[i-1]) if v[i]>v[i-1]>0 else t[i]
c=[cross(f) for f in (2,4,8)]
want=((c[2]-c[1])*math.log(2)/math.log(2))/((c[1]-c[0])*math.log(2)/math.log(2))
got=json.load(open(sys.argv[2]))['experiments'][0]['control_values'][0]
assert abs(got-want)<1e-9*max(1,abs(want)) and 0.2<want<5, (got,want,c)" "$csv" "$tmp/v8/results.json" && ok || bad "T8: doubling_ratio"
grep -q "doubling_ratio:A:B:C" "$tmp/v8/report.md" && ok || bad "report names doubling_ratio:A:B:C"

# ---- --force removes exactly the earlier validation's outputs: fewer seeds leave no old seed folders
last=$(ls -d "$tmp"/v3/runs/*/seed_* | sort -t_ -k2 -n | tail -1)
echo mine >"$tmp/v3/notes.txt"
"$bin" validate T1 --experiments "$ex" --seeds 2 --jobs 2 --out "$tmp/v3" --force --quiet >/dev/null 2>"$tmp/v5.err" \
  && ok || { bad "validate --force"; cat "$tmp/v5.err"; }
[ -n "$last" ] && [ ! -e "$last" ] && [ "$(ls -d "$tmp"/v3/runs/*/seed_* | wc -l)" -eq 4 ] && ok \
  || bad "validate --force left earlier seed folders: $(ls -d "$tmp"/v3/runs/*/seed_*)"
[ "$(cat "$tmp/v3/notes.txt")" = mine ] && ok || bad "validate --force removed a user's file"

# ---- an existing validation is refused without --resume/--force
expect_fail "validate existing out" "already holds a validation" "$bin" validate --experiments "$ex" --out "$o"
# ---- --resume reruns only what is missing, and gives the same numbers
victim=$(ls -d "$o"/runs/*/seed_1003 | head -1)
rm "$victim/validate-run.txt"
keep=$(ls "$o"/runs/*/seed_1000/validate-run.txt | head -1)
before=$(stat -c %Y.%y "$keep")
cp "$o/results.json" "$tmp/r1.json"
"$bin" validate --experiments "$ex" --jobs 2 --out "$o" --resume >/dev/null 2>"$tmp/v2.err"
grep -q "(14 kept from before, 1 to run)" "$tmp/v2.err" && ok || bad "resume: $(head -1 "$tmp/v2.err")"
[ "$(stat -c %Y.%y "$keep")" = "$before" ] && ok || bad "resume reran a finished run"
python3 -c "
import json,sys
a=json.load(open(sys.argv[1])); b=json.load(open(sys.argv[2]))
for x,y in zip(a['experiments'],b['experiments']): assert x['effects']==y['effects'] and x['ci95']==y['ci95'], x['id']" \
  "$tmp/r1.json" "$o/results.json" && ok || bad "resumed results differ"
# ---- a failed run: reported with its seed and command, exit 1, the others kept
rm -rf "$victim" && echo x >"$victim"
"$bin" validate --experiments "$ex" --jobs 2 --out "$o" --resume >/dev/null 2>"$tmp/v4.err"
rc=$?
[ "$rc" -eq 1 ] && ok || bad "failed run: exit $rc, expected 1"
grep -q "(seed 1003) failed" "$tmp/v4.err" && ok || bad "failed run not reported with its seed: $(cat "$tmp/v4.err")"
grep -q "^- seed 1003, .*: \`bonesim run .*single_bmu.ini .*--seed 1003 --out " "$o/report.md" && ok || bad "report.md lists the failed run's seed and command"
js "$o/results.json" "assert d['failed_runs'][0]['seed']==1003 and 'bonesim run' in d['failed_runs'][0]['command']" "$o/results.json" \
  && ok || bad "results.json failed_runs"
grep -q "| \*\*error\*\* |" "$o/report.md" && ok || bad "the experiment with a failed run is an error"

# ---- bad experiment files: file:line, what is wrong, nothing run
bad_file() { # NAME PATTERN LINE-TO-REPLACE REPLACEMENT
  mkdir -p "$tmp/b_$1"
  sed "s|^$3\$|$4|" "$ex/t1.ini" >"$tmp/b_$1/x.ini"
  expect_fail "bad file: $1" "$2" "$bin" validate --experiments "$tmp/b_$1" --out "$tmp/bo_$1"
  [ ! -e "$tmp/bo_$1/runs" ] || bad "bad file $1 started runs"
}
bad_file unknown_key "x.ini:4: unknown key 'titel' \(valid keys: id, behaviour" "title = .*" "titel = x"
bad_file bad_param "x.ini:7: .*unknown parameter 'oc.lifspn_d'" "control_set = .*" "control_set = oc.lifspn_d=6"
bad_file out_of_range "x.ini:8: .*oc.lifespan_d" "treated_set = .*" "treated_set = oc.lifespan_d=9000"
bad_file bad_scenario "x.ini:6: .*no scenario 'nope'" "control = .*" "control = nope"
bad_file bad_observable "x.ini:9: unknown observable 'bone'" "observable = .*" "observable = bone"
bad_file renamed "x.ini:9: observable 'kills_per_contact_day' is computed under other names: tcell_kills_per_contact_day" "observable = .*" "observable = kills_per_contact_day"
bad_file window_past_end "x.ini:10: the quick window ends at day 50, after" "window = .*" "window = 0 50"
bad_file bad_number "x.ini:15: quick.seeds '0x5'" "quick.seeds = .*" "quick.seeds = 0x5"
bad_file bad_summary "x.ini:11: unknown summary 'average'" "summary = .*" "summary = average"
bad_file bad_expect "x.ini:13: expect 'band_every' \\(valid: increase, decrease, band, band_every_seed\\)" "expect = .*" "expect = band_every"
bad_file bad_doubling_ratio "x.ini:11: summary doubling_ratio needs three folds" "summary = .*" "summary = doubling_ratio:10:30"
bad_file doubling_ratio_order "x.ini:11: summary doubling_ratio needs three folds" "summary = .*" "summary = doubling_ratio:30:10:100"
bad_file missing_key "x.ini:[0-9]+: missing key 'source'" "source = .*" ""
bad_file twice "x.ini:12: id given twice \(first on line 2\)" "effect = ratio" "id = X"
printf 'id = A\r\nbehaviour = T\rtitle = x\n' >"$tmp/b_cr.ini"
mkdir -p "$tmp/b_cr" && mv "$tmp/b_cr.ini" "$tmp/b_cr/x.ini"
expect_fail "bad file: bare CR" "x.ini:2: carriage return not followed by a line feed" "$bin" validate --experiments "$tmp/b_cr" --out "$tmp/bo_cr"
expect_fail "unknown selection" "no experiment 'B99'" "$bin" validate B99 --experiments "$ex" --out "$tmp/bo_sel"
expect_fail "quick and full" "contradict" "$bin" validate --quick --full --experiments "$ex"
# ---- the shipped experiment files all parse and resolve
"$bin" validate --list >"$tmp/list" 2>&1 && ok || { bad "validate --list"; cat "$tmp/list"; }
for b in B1 B2 B3 B4 B5 B6 B7 B8 B9 B10 B11 B12 B13 B14 B15 B16 B17 B18 B19 B20 B21 B22 B23 B24; do
  grep -q " $b " "$tmp/list" || bad "no shipped experiment for $b"
done

finish validate
