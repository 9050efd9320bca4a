#!/usr/bin/env bash
# Bounded fuzzing session: builds the libFuzzer targets (tests/fuzz/) with
# clang, ASan and UBSan, and runs each for FUZZ_SECONDS (default 25) on a
# copy of its seed corpus, $(nproc) at a time. Prints executions per target.
# A crash, leak, timeout or out-of-memory fails the session and leaves the
# input in build-fuzz/artifacts/: add it to tests/fuzz/regressions/TARGET/
# (ctest replays that folder in every build), then fix the bug.
set -euo pipefail
cd "$(dirname "$0")/.."
bash .ci/deps.sh fuzz
secs=${FUZZ_SECONDS:-25}
targets=(config set mask ckpt model)
B=build-fuzz
CC=clang cmake -S . -B $B -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBONESIM_FUZZ=ON >/dev/null
cmake --build $B -j "$(nproc)" --target bonesim $(printf 'fuzz_%s ' "${targets[@]}") >/dev/null
rm -rf $B/corpus $B/artifacts $B/logs
mkdir -p $B/artifacts $B/logs
for t in "${targets[@]}"; do
  mkdir -p $B/corpus/$t
  cp tests/fuzz/corpus/$t/* $B/corpus/$t/
  cp tests/fuzz/regressions/$t/* $B/corpus/$t/ 2>/dev/null || true
done
# fresh checkpoints from this build, and the parameter names as a dictionary
ASAN_OPTIONS=detect_leaks=0 $B/bonesim run homeostasis --days 2 --checkpoint-every 1 --quiet --force \
  --set lattice.width_sites=8 --set lattice.height_sites=8 --out $B/seedrun >/dev/null
cp $B/seedrun/*.ckpt $B/corpus/ckpt/
{
  echo '"include = "' ; echo '"["' ; echo '"]"' ; echo '" = "' ; echo '"--set"' ; echo '"--days"'
  # what the parser refuses (engine/config.c, params.c): CR, NUL, ':', hex, underflow, text after ']'
  echo '"\x0D"' ; echo '"\x00"' ; echo '": "' ; echo '"0x"' ; echo '"p3"' ; echo '"e-400"' ; echo '"] ; "' ; echo '"] x"'
  $B/bonesim params 2>/dev/null | awk '/^[a-z]/ { n = $1; print "\"" n "\""; sub(/.*\./, "", n); print "\"" n "\"" }' | sort -u
} >$B/params.dict
declare -A max_len=([config]=4096 [set]=1024 [mask]=8192 [ckpt]=65536 [model]=2048)
declare -A dict=([config]="-dict=$B/params.dict" [set]="-dict=$B/params.dict" [model]="-dict=$B/params.dict")
run_one() {
  local t=$1
  # stdin closed: an input that includes /dev/stdin must not wait for a terminal
  OMP_NUM_THREADS=1 ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    $B/tests/fuzz/fuzz_$t $B/corpus/$t -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len="${max_len[$t]}" \
    ${dict[$t]:-} -artifact_prefix=$B/artifacts/$t- -print_final_stats=1 </dev/null >$B/logs/$t.log 2>&1
}
export -f run_one
export B secs
status=0
pids=()
jobs_max=$(nproc)
for t in "${targets[@]}"; do
  run_one "$t" &
  pids+=($!)
  while [ "$(jobs -rp | wc -l)" -ge "$jobs_max" ]; do sleep 1; done
done
for p in "${pids[@]}"; do wait "$p" || status=1; done
printf '%-8s %8s %12s %8s %s\n' target seconds executions corpus result
for t in "${targets[@]}"; do
  execs=$(grep -o "stat::number_of_executed_units: [0-9]*" $B/logs/$t.log | awk "{print \$2}" | tail -1 || true)
  found=$(ls $B/artifacts/$t-* 2>/dev/null | wc -l || true)
  printf '%-8s %8s %12s %8s %s\n' "$t" "$secs" "${execs:-?}" "$(ls $B/corpus/$t | wc -l)" \
    "$([ "$found" -eq 0 ] && echo ok || echo "$found CRASHING INPUT(S)")"
done
if [ $status -ne 0 ] || ls $B/artifacts/* >/dev/null 2>&1; then
  for f in $B/artifacts/*; do
    [ -e "$f" ] || continue
    echo "== $f"
    grep -m 5 -E "ERROR|SUMMARY|runtime error|Assertion" $B/logs/"$(basename "$f" | cut -d- -f1)".log || true
  done
  echo "fuzz: failures above; keep each input in tests/fuzz/regressions/TARGET/ and fix the bug" >&2
  exit 1
fi
echo "fuzz: no crashes"
