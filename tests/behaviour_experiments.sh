#!/usr/bin/env bash
# A behaviour test as a thin wrapper over the experiment files that
# `bonesim validate` runs (scenarios/validation/*.ini): one definition of
# each claim (scenario, arms, observable, window, expectation and its
# source) serves both. The test runs the named experiments at their quick
# size on the behaviour tests' own seeds (FIRST .. FIRST+N-1; never the
# validation seeds, which start at 1000, nor the calibration seeds
# 500-599) and requires the verdict "pass" for each: the median effect in
# the expected direction with a one-sided Wilcoxon p < 0.05 (with 5 seeds:
# every seed agrees), or the median inside the file's band.
#   behaviour_experiments.sh BONESIM FIRST_SEED NSEEDS ID...
set -uo pipefail
bin=$1 first=$2 nseeds=$3
shift 3
. "$(dirname "$0")/lib.sh"
export OMP_WAIT_POLICY=passive
"$bin" validate "$@" --quick --seed "$first" --seeds "$nseeds" --jobs 1 --quiet --out "$tmp/v" >"$tmp/out" 2>"$tmp/err"
rc=$?
[ "$rc" -eq 0 ] || [ "$rc" -eq 3 ] || { bad "bonesim validate exited $rc"; cat "$tmp/err"; }
for id in "$@"; do
  python3 - "$tmp/v/results.json" "$id" <<'PY' && ok || bad "$id: verdict is not pass"
import json, sys
d = json.load(open(sys.argv[1]))
hit = [e for e in d["experiments"] if e["id"] == sys.argv[2] or e["behaviour"] == sys.argv[2]]
assert hit, "no experiment " + sys.argv[2]
good = True
for e in hit:
    print("# %s (%s): %s; seeds %s; control %s; treated %s; effects %s; median %s; p %s; verdict %s" % (
        e["id"], e["title"], e["observable"], e["seeds"], e["control_values"], e.get("treated_values"),
        e["effects"], e["median"], (e["test"] or {}).get("p"), e["verdict"]))
    good &= e["verdict"] == "pass"
sys.exit(0 if good else 1)
PY
done
finish "behaviour experiments $*"
