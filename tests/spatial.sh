#!/usr/bin/env bash
# Spatial snapshots (OUT/spatial.h5, --cells-csv; docs/analysis.md):
# layout and units; the same datasets at 1 and 2 threads; a run resumed in
# place (its file holding snapshots past the checkpoint), into a new
# folder, after SIGTERM and after SIGKILL holds the same snapshot datasets
# as the uninterrupted run; bad options are usage errors.
#   spatial.sh BONESIM [HAVE_HDF5]   HAVE_HDF5 = 0: a build without HDF5,
#   which must refuse --spatial-every with exit 2 and name the package.
set -uo pipefail
bin=$1
have=${2:-1}
. "$(dirname "$0")/lib.sh"
export OMP_WAIT_POLICY=passive
small=(dormancy --set lattice.width_sites=64 --set lattice.height_sites=64 --quiet --no-png)

# exit_code WANT NAME PATTERN CMD...: CMD exits WANT, stderr matches PATTERN.
exit_code() {
  local want=$1 name=$2 pat=$3
  shift 3
  "$@" >"$tmp/out" 2>"$tmp/err"
  local rc=$?
  [ "$rc" -eq "$want" ] || { bad "$name: exit $rc, expected $want"; cat "$tmp/err"; return; }
  grep -Eq -e "$pat" "$tmp/err" && ok || { bad "$name: stderr lacks /$pat/:"; cat "$tmp/err"; }
}

if [ "$have" = 0 ]; then
  exit_code 2 "no HDF5: --spatial-every" "built without .*libhdf5-dev" \
    "$bin" run "${small[@]}" --days 2 --spatial-every 1 --out "$tmp/nohdf5"
  [ -e "$tmp/nohdf5" ] && bad "no HDF5: the refused run created its output folder" || ok
  exit_code 2 "no HDF5: run.spatial_every_d" "libhdf5-dev" \
    "$bin" run "${small[@]}" --days 2 --set run.spatial_every_d=5 --out "$tmp/nohdf5b"
  "$bin" run "${small[@]}" --days 2 --out "$tmp/plain" && ok || bad "no HDF5: a run without spatial output"
  finish spatial_no_hdf5
  exit
fi

py=
for p in python3 /usr/bin/python3; do
  if command -v "$p" >/dev/null && "$p" -c 'import h5py, numpy' 2>/dev/null; then py=$p; break; fi
done
[ -n "$py" ] || { echo "spatial: SKIP: no python3 with h5py and numpy (apt-get install python3-h5py)"; exit 77; }
chk() { "$py" "$(dirname "$0")/spatial_check.py" "$@" >"$tmp/chk" 2>&1 && ok || { bad "spatial_check $*"; cat "$tmp/chk"; }; }

run=("${small[@]}" --days 20 --spatial-every 3)

# 1. Layout: 0, 3, ..., 18 and the last snapshot at 20; the CSV tables.
"$bin" run "${run[@]}" --threads 2 --cells-csv --out "$tmp/full" || bad "full run"
chk check "$tmp/full/spatial.h5" --snapshots 8 --run-complete 1
n_csv=$(ls "$tmp"/full/cells_day*.csv 2>/dev/null | wc -l)
[ "$n_csv" -eq 8 ] && ok || bad "$n_csv cell tables, expected 8"
head -1 "$tmp/full/cells_day0020.000.csv" | grep -qx 'id,x_um,y_um,type,state,age_h,origin,kills,za_uptake,aux' && ok ||
  bad "cell table header: $(head -1 "$tmp/full/cells_day0020.000.csv")"
rows=$(($(wc -l <"$tmp/full/cells_day0020.000.csv") - 1))
cnt=$("$py" -c 'import h5py,sys; f=h5py.File(sys.argv[1]); print(int(f["snapshots/000007/cells"].attrs["count"]))' \
  "$tmp/full/spatial.h5")
[ "$rows" -eq "$cnt" ] && [ "$rows" -gt 0 ] && ok || bad "cell table has $rows rows, the HDF5 snapshot $cnt cells"
grep -q ',dtc,dormant,' "$tmp/full/cells_day0020.000.csv" && ok || bad "no dormant tumour cell in the last table"
whole "$tmp/full"

# 2. Thread count: the same datasets.
"$bin" run "${run[@]}" --threads 1 --out "$tmp/t1" || bad "1-thread run"
chk same "$tmp/full/spatial.h5" "$tmp/t1/spatial.h5"

# 3. Resume in place from day 7 of a run that went on to day 20 (its file
#    holds snapshots after the checkpoint: they are dropped and rewritten);
#    the cell tables continue too.
"$bin" run "${run[@]}" --threads 2 --cells-csv --checkpoint-every 7 --out "$tmp/inplace" || bad "run with checkpoints"
rm "$tmp"/inplace/cells_day0018.000.csv
"$bin" resume "$tmp/inplace/checkpoint_day0007.000.ckpt" --threads 1 --quiet || bad "resume in place"
chk same "$tmp/full/spatial.h5" "$tmp/inplace/spatial.h5"
chk check "$tmp/inplace/spatial.h5" --snapshots 8 --run-complete 1
cmp -s "$tmp/full/cells_day0018.000.csv" "$tmp/inplace/cells_day0018.000.csv" && ok ||
  bad "resumed run's cell table of day 18 differs"

# 4. Resume into a new folder: the snapshots before day 14 are copied over.
"$bin" resume "$tmp/inplace/checkpoint_day0014.000.ckpt" --out "$tmp/newdir" --threads 2 --quiet || bad "resume --out"
chk same "$tmp/full/spatial.h5" "$tmp/newdir/spatial.h5"
whole "$tmp/newdir"

# 4b. A spatial.h5 of another run (another seed) in the checkpoint's folder
#     is not continued: the file starts at the checkpoint, with a note.
"$bin" run "${small[@]}" --days 4 --seed 9 --spatial-every 3 --out "$tmp/other" || bad "seed-9 run"
cp "$tmp/other/spatial.h5" "$tmp/inplace/spatial.h5"
"$bin" resume "$tmp/inplace/checkpoint_day0014.000.ckpt" 2>"$tmp/err" >/dev/null || bad "resume over a foreign file"
grep -q "is from another run (seed 9" "$tmp/err" && ok || { bad "no note on the foreign file:"; cat "$tmp/err"; }
first=$("$py" -c 'import h5py,sys; print(h5py.File(sys.argv[1])["snapshots/000000"].attrs["time_days"])' \
  "$tmp/inplace/spatial.h5")
[ "$first" = 14.0 ] && ok || bad "the file continued over a foreign one starts at day $first, expected 14"

# after_checkpoint DIR PID: waits (up to 120 s) until the run PID has
# written its first checkpoint in DIR, then a little longer.
after_checkpoint() {
  local k
  for k in $(seq 1200); do
    ls "$1"/checkpoint_day*.ckpt >/dev/null 2>&1 && break
    kill -0 "$2" 2>/dev/null || break
    sleep 0.1
  done
  sleep 0.4
}

# 5. SIGTERM: the file is whole, says the run is not complete, and resumes.
long=("${small[@]}" --days 30 --spatial-every 0.5 --checkpoint-every 2 --threads 1)
"$bin" run "${long[@]}" --out "$tmp/ref" || bad "30-day reference run"
"$bin" run "${long[@]}" --out "$tmp/term" 2>"$tmp/term.err" &
pid=$!
after_checkpoint "$tmp/term" "$pid"
kill -TERM "$pid"
wait "$pid"
rc=$?
if [ "$rc" -eq 143 ]; then
  chk check "$tmp/term/spatial.h5" --run-complete 0
  "$bin" resume "$(ls "$tmp"/term/checkpoint_day*.ckpt | tail -1)" --quiet || bad "resume after SIGTERM"
  chk same "$tmp/ref/spatial.h5" "$tmp/term/spatial.h5"
else
  echo "  note: the run ended (exit $rc) before SIGTERM; part 5 not exercised"
fi
whole "$tmp/term"

# 6. SIGKILL, at any moment (often inside an append: snapshots every 12 h):
#    resuming from the last checkpoint gives the uninterrupted datasets.
"$bin" run "${long[@]}" --out "$tmp/kill" &
pid=$!
after_checkpoint "$tmp/kill" "$pid"
kill -KILL "$pid"
wait "$pid" 2>/dev/null
last=$(ls "$tmp"/kill/checkpoint_day*.ckpt 2>/dev/null | tail -1)
if [ -n "$last" ]; then
  "$bin" resume "$last" --quiet 2>"$tmp/err" || { bad "resume after SIGKILL"; cat "$tmp/err"; }
  chk same "$tmp/ref/spatial.h5" "$tmp/kill/spatial.h5"
else
  bad "no checkpoint before SIGKILL"
fi

# 6b. A full disk (here a file-size limit) mid-run: exit 1 with the
#     system's reason, no crash; the snapshots before it stay complete.
(ulimit -f 300; exec "$bin" run "${small[@]}" --days 20 --spatial-every 0.5 --threads 1 --out "$tmp/fsz") 2>"$tmp/err"
rc=$?
[ "$rc" -eq 1 ] && grep -q "spatial.h5: .*File too large" "$tmp/err" && ok ||
  { bad "file-size limit: exit $rc, expected 1 with the reason"; cat "$tmp/err"; }
if command -v h5clear >/dev/null; then
  h5clear -s "$tmp/fsz/spatial.h5" 2>/dev/null
  chk check "$tmp/fsz/spatial.h5" --run-complete 0
fi

# 7. Bad options.
exit_code 2 "--spatial-every -1" "--spatial-every '-1' is not a number" "$bin" run "${small[@]}" --spatial-every -1
exit_code 2 "--spatial-every junk" "not a number" "$bin" run "${small[@]}" --spatial-every 2x
exit_code 2 "--cells-csv alone" "--cells-csv .*--spatial-every" "$bin" run "${small[@]}" --cells-csv --out "$tmp/x"
exit_code 2 "--spatial-every on resume, bad" "not a number" \
  "$bin" resume "$tmp/inplace/checkpoint_day0007.000.ckpt" --spatial-every nan
finish spatial
