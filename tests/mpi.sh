#!/usr/bin/env bash
# Experiments over MPI ranks (issue 20, docs/cluster.md): a 12-run sweep
# over 3 ranks (mpirun --oversubscribe on one machine) gives the same
# summary.csv bytes and the same run outputs as the sweep on one machine;
# --resume over MPI finishes a partial sweep to the same bytes and reruns
# nothing already in summary.csv; compare (and validate) over 3 ranks give
# the same compare.csv and compare.png (results.json and figure); a rank
# stopped alone hands its runs back. The job-array alternative (--runs slices)
# merges to the same bytes. Built without MPI, a launch as several ranks is
# refused and the MPI part is skipped (exit 77, ctest SKIPPED).
# usage: mpi.sh BONESIM HAVE_MPI(ON|OFF)
set -u
bin=$1
have=${2:-OFF}
. "$(dirname "$0")/lib.sh"
export OMP_WAIT_POLICY=passive

grid=(single_bmu --set oc.lifespan_d=5,10,20 --set ob.form_um_per_day=0.4,1 --replicates 2 --seed 7
  --set lattice.width_sites=32 --set lattice.height_sites=24 --days 12 --csv-every 2)

# ---- the job-array alternative (no MPI needed): three --runs slices, each in
# its own folder, together give the whole sweep's summary.csv bytes
"$bin" sweep "${grid[@]}" --jobs 2 --quiet --out "$tmp/one" >/dev/null 2>"$tmp/one.err" && ok \
  || { bad "one-machine sweep"; cat "$tmp/one.err"; }
for t in 0 1 2; do
  "$bin" sweep "${grid[@]}" --jobs 2 --quiet --runs $((t * 4))-$((t * 4 + 3)) --out "$tmp/part_$t" >/dev/null \
    2>"$tmp/part.err" || bad "slice $t: $(cat "$tmp/part.err")"
done
{ head -1 "$tmp/part_0/summary.csv"; tail -q -n +2 "$tmp/part_0/summary.csv" "$tmp/part_1/summary.csv" \
  "$tmp/part_2/summary.csv"; } >"$tmp/merged.csv"
cmp "$tmp/one/summary.csv" "$tmp/merged.csv" && ok || bad "--runs slices merged differ from the whole sweep"
[ "$(($(wc -l <"$tmp/part_1/summary.csv") - 1))" -eq 4 ] && [ ! -e "$tmp/part_1/runs/run_3" ] && ok \
  || bad "slice 1 ran runs outside 4-7"
# --threads: each run on 2 threads (as a rank would with --threads), same rows
"$bin" sweep "${grid[@]}" --jobs 1 --threads 2 --quiet --runs 0-3 --out "$tmp/thr" >/dev/null 2>&1 \
  && grep -q '"threads": 2' "$tmp/thr/runs/run_0/manifest.json" && cmp "$tmp/part_0/summary.csv" "$tmp/thr/summary.csv" \
  && ok || bad "--threads 2 runs differ or did not use 2 threads"
expect_fail "--runs past the sweep" "this sweep has runs 0-11" "$bin" sweep "${grid[@]}" --runs 8-12 --out "$tmp/x"
expect_fail "--runs malformed" "must be FIRST-LAST" "$bin" sweep "${grid[@]}" --runs 5 --out "$tmp/x"

if [ "$have" != ON ]; then
  # A launcher's environment (as mpirun sets it) with 3 ranks: refused, nothing written.
  expect_fail "no-MPI build under a 3-rank launch" "built without MPI" \
    env OMPI_COMM_WORLD_SIZE=3 OMPI_COMM_WORLD_RANK=0 "$bin" sweep "${grid[@]}" --out "$tmp/refused"
  [ ! -e "$tmp/refused" ] && ok || bad "the refused sweep wrote $tmp/refused"
  echo "mpi: $pass checks passed, $fail failed (job-array slices and the refusal without MPI)"
  [ "$fail" -eq 0 ] || exit 1
  echo "SKIPPED: bonesim was built without MPI (BONESIM_WITH_MPI=OFF, or libopenmpi-dev not found);"
  echo "         install libopenmpi-dev openmpi-bin and reconfigure to run the MPI sweep test"
  exit 77
fi
if ! command -v mpirun >/dev/null; then
  echo "SKIPPED: built with MPI but no mpirun on PATH (apt-get install openmpi-bin)"
  exit 77
fi
# Under AddressSanitizer (.ci/run) the ranks' leak check is off: Open MPI
# never frees what MPI_Init allocates, much of it in components it has
# unloaded by exit (no module name to suppress). bonesim's own paths are
# leak-checked in the one-machine runs of this script and elsewhere.
mpi=(env "ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" mpirun --oversubscribe -np 3)
[ "$(id -u)" -eq 0 ] && mpi+=(--allow-run-as-root)

# ---- the same sweep on one machine (above) and over 3 ranks
"${mpi[@]}" "$bin" sweep "${grid[@]}" --out "$tmp/three" >"$tmp/three.out" 2>"$tmp/three.err" && ok \
  || { bad "MPI sweep exit status"; cat "$tmp/three.err"; }
[ "$(($(wc -l <"$tmp/three/summary.csv") - 1))" -eq 12 ] && ok || bad "MPI sweep: expected 12 rows"
cmp "$tmp/one/summary.csv" "$tmp/three/summary.csv" && ok || bad "summary.csv differs between one machine and 3 ranks"
[ "$(tail -n +2 "$tmp/three/summary.csv" | cut -d, -f1 | tr '\n' ' ')" = "0 1 2 3 4 5 6 7 8 9 10 11 " ] && ok \
  || bad "MPI summary rows not in run order"
for r in $(seq 0 11); do
  cmp -s "$tmp/one/runs/run_$r/timeseries.csv" "$tmp/three/runs/run_$r/timeseries.csv" || bad "run $r: timeseries.csv differs"
done
ok
# the runs were spread: at least two ranks finished runs
grep -q "runs finished per rank:" "$tmp/three.err" && ok || bad "no per-rank line: $(cat "$tmp/three.err")"
nr=$(grep "runs finished per rank:" "$tmp/three.err" | tr ' ' '\n' | grep -cE '^[0-9]+:[1-9]')
[ "$nr" -ge 2 ] && ok || bad "runs not spread over ranks: $(grep 'per rank' "$tmp/three.err")"

# ---- --resume over MPI: keep runs 0, 3 and 7 (plus a torn last row), finish the rest
cp -r "$tmp/three" "$tmp/res"
{ head -1 "$tmp/three/summary.csv"; awk -F, '$1 == 0 || $1 == 3 || $1 == 7' "$tmp/three/summary.csv"
  printf '5,12,1,5'; } >"$tmp/res/summary.csv"
rm -rf "$tmp/res/runs/run_0" "$tmp/res/runs/run_3" "$tmp/res/runs/run_7"
"${mpi[@]}" "$bin" sweep "${grid[@]}" --out "$tmp/res" --resume >/dev/null 2>"$tmp/res.err" && ok \
  || { bad "MPI --resume exit status"; cat "$tmp/res.err"; }
cmp "$tmp/one/summary.csv" "$tmp/res/summary.csv" && ok || bad "resumed MPI summary.csv differs from one machine"
[ ! -e "$tmp/res/runs/run_0" ] && [ ! -e "$tmp/res/runs/run_3" ] && [ ! -e "$tmp/res/runs/run_7" ] && ok \
  || bad "--resume reran runs already in summary.csv"

# ---- one rank alone stopped (SIGTERM to rank 2 while it runs a run): rank 0
# hands its runs to the others, the stopped run is redone, same bytes
long=("${grid[@]}" --days 60)
"$bin" sweep "${long[@]}" --jobs 2 --quiet --out "$tmp/long1" >/dev/null 2>&1 && ok || bad "one-machine 60-day sweep"
"${mpi[@]}" "$bin" sweep "${long[@]}" --out "$tmp/long3" >/dev/null 2>"$tmp/long3.err" &
mp=$!
r2=""
for _ in $(seq 1 400); do # up to 20 s: rank 2's process, once it has a child run
  for p in $(pgrep -f -- "--out $tmp/long3"); do
    { tr '\0' '\n' <"/proc/$p/environ"; } 2>/dev/null | grep -qx "OMPI_COMM_WORLD_RANK=2" && pgrep -P "$p" >/dev/null \
      && r2=$p
  done
  [ -n "$r2" ] && break
  sleep 0.05
done
[ -n "$r2" ] && kill -TERM "$r2"
wait "$mp" && ok || { bad "sweep with rank 2 stopped: exit status"; cat "$tmp/long3.err"; }
[ -n "$r2" ] && grep -q "rank 2 .* was stopped; its runs go elsewhere" "$tmp/long3.err" && ok \
  || bad "rank 2 not found running, or its stop not reported: $(cat "$tmp/long3.err")"
cmp "$tmp/long1/summary.csv" "$tmp/long3/summary.csv" && ok || bad "summary.csv differs after rank 2 was stopped"

# ---- a Morris sample over MPI: same design, same rows
samp=(single_bmu --sample morris:2 --range oc.lifespan_d=5:20 --range ob.form_um_per_day=0.4:1.2
  --set lattice.width_sites=32 --set lattice.height_sites=24 --days 6 --csv-every 2 --seed 3)
"$bin" sweep "${samp[@]}" --jobs 2 --quiet --out "$tmp/m1" >/dev/null 2>&1 && ok || bad "one-machine Morris sweep"
"${mpi[@]}" "$bin" sweep "${samp[@]}" --quiet --out "$tmp/m3" >/dev/null 2>"$tmp/m3.err" && ok \
  || { bad "MPI Morris sweep"; cat "$tmp/m3.err"; }
cmp "$tmp/m1/summary.csv" "$tmp/m3/summary.csv" && cmp "$tmp/m1/design.csv" "$tmp/m3/design.csv" && ok \
  || bad "Morris sweep differs over MPI"

# ---- compare over 3 ranks
cmpa=(single_bmu --set-b oc.lifespan_d=5 --replicates 3 --set lattice.width_sites=32 --set lattice.height_sites=24
  --days 12 --csv-every 2)
"$bin" compare "${cmpa[@]}" --jobs 2 --quiet --out "$tmp/c1" >/dev/null 2>&1 && ok || bad "one-machine compare"
"${mpi[@]}" "$bin" compare "${cmpa[@]}" --quiet --out "$tmp/c3" >/dev/null 2>"$tmp/c3.err" && ok \
  || { bad "MPI compare"; cat "$tmp/c3.err"; }
cmp "$tmp/c1/compare.csv" "$tmp/c3/compare.csv" && cmp "$tmp/c1/compare.png" "$tmp/c3/compare.png" && ok \
  || bad "compare differs over MPI"

# ---- validate over 3 ranks: one tiny experiment, the same results.json (but the
# wall and CPU times) and figure
mkdir -p "$tmp/vexp"
cat >"$tmp/vexp/T5a.ini" <<'INI'
# A tiny copy of the B5a experiment (more RANKL, more osteoclasts) for this test.
id = T5a
behaviour = B5
title = More RANKL: more osteoclasts (tiny)
source = tests/mpi.sh
control = homeostasis
treated_set = bmu.lining_rankl_per_h=0.4
observable = n_osteoclasts
quick.window = 5 20
full.window = 5 20
summary = mean
effect = ratio
expect = increase
quick.days = 20
quick.seeds = 3
quick.set = lattice.width_sites=40
quick.set = lattice.height_sites=40
full.days = 20
full.seeds = 3
full.set = lattice.width_sites=40
full.set = lattice.height_sites=40
INI
"$bin" validate --experiments "$tmp/vexp" --jobs 2 --quiet --out "$tmp/v1" >/dev/null 2>"$tmp/v1.err" && ok \
  || { bad "one-machine validate"; cat "$tmp/v1.err"; }
"${mpi[@]}" "$bin" validate --experiments "$tmp/vexp" --quiet --out "$tmp/v3" >/dev/null 2>"$tmp/v3.err" && ok \
  || { bad "MPI validate"; cat "$tmp/v3.err"; }
# (all but the wall time)
tm='"(wall_s|runs_cpu_s|cpu_s_at_file_seeds)"'
cmp <(grep -Ev "$tm" "$tmp/v1/results.json") <(grep -Ev "$tm" "$tmp/v3/results.json") \
  && cmp "$tmp/v1/fig/T5a.png" "$tmp/v3/fig/T5a.png" && ok || bad "validate differs over MPI"

# ---- bad input under MPI: a usage error on rank 0 ends every rank, non-zero
if "${mpi[@]}" "$bin" sweep single_bmu --set nosuch.key=1,2 --out "$tmp/badmpi" >/dev/null 2>"$tmp/bad.err"; then
  bad "MPI sweep with a bad --set exited 0"
else
  grep -q "nosuch.key" "$tmp/bad.err" && ok || bad "MPI bad --set: no message: $(cat "$tmp/bad.err")"
fi

echo "mpi: $pass checks passed, $fail failed"
[ "$fail" -eq 0 ]
