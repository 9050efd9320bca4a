#!/usr/bin/env bash
# `bonesim bench all --quick` runs every workload and prints JSON lines that
# parse, one or more per workload, each with the conditions it ran under.
# Times are never checked: the benchmark is a measuring tool.
set -euo pipefail
bin=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$bin" bench --help > "$tmp/help.txt"
grep -q "usage: bonesim bench" "$tmp/help.txt"
if "$bin" bench --repeat 0 > /dev/null 2>&1; then echo "FAIL: --repeat 0 accepted"; exit 1; fi
if "$bin" bench nonsense > /dev/null 2>&1; then echo "FAIL: unknown workload accepted"; exit 1; fi
"$bin" bench all --quick --repeat 2 --threads 1,2 > "$tmp/out.jsonl"
# no workload named: the short suite's one-screen summary (not JSON)
"$bin" bench --quick --repeat 1 > "$tmp/summary.txt"
for want in "site-field-updates/s" "bytes per site" "one core busy: plain loop" "two runs at once"; do
  grep -q "$want" "$tmp/summary.txt" || { echo "FAIL: summary has no '$want'"; cat "$tmp/summary.txt"; exit 1; }
done
[ "$(wc -l < "$tmp/summary.txt")" -le 24 ] || { echo "FAIL: summary longer than a screen"; exit 1; }
python3 - "$tmp/out.jsonl" <<'PY'
import json, math, sys
lines = [l for l in open(sys.argv[1]) if l.strip()]
need = {"bench", "version", "commit", "cpu", "cores", "threads", "loadavg"}
seen = {}
for n, l in enumerate(lines, 1):
    d = json.loads(l)  # raises on a line that is not JSON
    missing = need - d.keys()
    assert not missing, f"line {n}: missing {sorted(missing)}"
    for k, v in d.items():
        assert v is None or isinstance(v, (str, int, float)), f"line {n}: {k} is {type(v)}"
        if isinstance(v, float):
            assert math.isfinite(v), f"line {n}: {k} = {v}"
    seen.setdefault(d["bench"], []).append(d)
for b, keys in {"fields": ["site_field_updates_per_s", "sweep_GBps", "triad_dram_GBps",
                           "adi_double_site_updates_per_s_1core", "w", "h", "fields", "steps"],
                "agents": ["agent_updates_per_s", "agents", "steps"],
                "scenario": ["sim_days_per_wall_s", "fields_s", "agents_s", "output_s",
                             "peak_rss_MB", "bytes_per_site", "bytes_per_agent_slot"],
                "scaling": ["parallel_efficiency", "speedup"],
                "contention": ["condition", "wall_s_1thread", "wall_s_threads", "speed_ratio_threads_vs_1",
                               "loadavg_min", "loadavg_max", "variant"]}.items():
    assert b in seen, f"no {b} line"
    for d in seen[b]:
        for k in keys:
            if b == "scaling" and d.get("workload") == "sizes":
                continue
            assert k in d and d[k] is not None, f"{b}: no {k}"
            if isinstance(d[k], (int, float)):
                assert d[k] > 0, f"{b}: {k} = {d[k]}"
assert {d["threads"] for d in seen["fields"]} == {1, 2}, "fields not run at 1 and 2 threads"
assert any(d.get("workload") == "sizes" for d in seen["scaling"]), "no size-scaling line"
assert {d["condition"] for d in seen["contention"]} == {"idle", "one_core_busy_loop", "openmp_program_niced",
                                                       "two_runs_at_once"}, "contention conditions"
print(f"bench_quick: {len(lines)} JSON lines parse: " +
      ", ".join(f"{k} {len(v)}" for k, v in sorted(seen.items())))
PY
