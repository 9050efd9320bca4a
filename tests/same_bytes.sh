#!/usr/bin/env bash
# same_bytes.sh — do two builds write the same bytes? For refactors that
# promise identical output: every shipped scenario (scenarios/*.ini, found at
# run time, include-only fragments _*.ini skipped) at 64 x 64 and at the
# scenario's own size (250 x 250), SB_DAYS simulated days (default 60), CSV
# every day and PNGs every SB_PNG_EVERY days (default 20), at 1 and 2 threads.
# Every file a run writes is compared byte for byte except manifest.json,
# which records the build (version, commit) and wall-clock times.
# It compares two builds; it is not a golden-hash test.
#
# usage:
#   same_bytes.sh compare BIN_A BIN_B        run both, report differences
#   same_bytes.sh record BIN DIR             keep BIN's outputs in DIR
#   same_bytes.sh check BIN DIR              run BIN, compare with DIR
# environment:
#   SB_DAYS (60), SB_BIG_DAYS (SB_DAYS; days at the full size),
#   SB_SIZES ("64 full"), SB_THREADS ("1 2"), SB_PNG_EVERY (20),
#   SB_ONLY (a grep -E pattern on scenario names), SB_SCENARIOS (folder)
# Exit status: 0 identical, 1 a difference or a failed run, 2 usage.
set -uo pipefail
export OMP_WAIT_POLICY=passive
here=$(cd "$(dirname "$0")" && pwd)
scen_dir=${SB_SCENARIOS:-$here/../scenarios}
days=${SB_DAYS:-60}
big_days=${SB_BIG_DAYS:-$days}
sizes=${SB_SIZES:-64 full}
threads=${SB_THREADS:-1 2}
png_every=${SB_PNG_EVERY:-20}
only=${SB_ONLY:-.}
# a 64 x 64 section holds bone under its centre only with trabeculae drawn
# closer (as tests/scenarios_all.sh does)
small=(--set lattice.width_sites=64 --set lattice.height_sites=64 --set geometry.trab_spacing_um=400)

usage() {
  sed -n '2,/^set -uo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//' >&2
  exit 2
}

# run_all BIN DIR: every case's outputs under DIR/<scenario>-<size>-t<threads>
run_all() {
  local bin=$1 dir=$2 f name size t out args d rc=0
  mkdir -p "$dir" || return 1
  shopt -s nullglob
  local files=("$scen_dir"/*.ini)
  [ ${#files[@]} -gt 0 ] || { echo "FAIL: no scenarios in $scen_dir" >&2; return 1; }
  for f in "${files[@]}"; do
    name=$(basename "$f" .ini)
    case $name in _*) continue ;; esac
    echo "$name" | grep -Eq -- "$only" || continue
    for size in $sizes; do
      if [ "$size" = 64 ]; then args=("${small[@]}"); d=$days; else args=(); d=$big_days; fi
      for t in $threads; do
        out="$dir/$name-$size-t$t"
        if ! "$bin" run "$f" --days "$d" --threads "$t" --quiet --force --png-every "$png_every" --csv-every 1 \
            "${args[@]}" --out "$out" >"$out.log" 2>&1; then
          echo "FAIL: $bin run $name ($size, $t threads) exited non-zero:"
          tail -3 "$out.log"
          rc=1
        fi
        rm -f "$out/manifest.json"
      done
    done
  done
  return $rc
}

# compare_dirs A B: reports every case whose files differ
compare_dirs() {
  local a=$1 b=$2 n=0 bad=0 c f
  for c in "$a"/*/; do
    c=$(basename "$c")
    n=$((n + 1))
    if [ ! -d "$b/$c" ]; then
      echo "DIFF: $c: missing from $b"
      bad=$((bad + 1))
      continue
    fi
    local same=1
    for f in $( (cd "$a/$c" && ls; cd "$b/$c" && ls) | sort -u); do
      if ! cmp -s "$a/$c/$f" "$b/$c/$f"; then
        same=0
        if [ ! -e "$a/$c/$f" ] || [ ! -e "$b/$c/$f" ]; then
          echo "DIFF: $c/$f: only in one of them"
        elif [ "${f##*.}" = csv ]; then
          echo "DIFF: $c/$f: first differing line:"
          diff <(cat "$a/$c/$f") <(cat "$b/$c/$f") | head -4 | sed 's/^/    /'
        else
          echo "DIFF: $c/$f: $(cmp "$a/$c/$f" "$b/$c/$f" 2>&1 | head -1)"
        fi
      fi
    done
    [ $same -eq 1 ] || bad=$((bad + 1))
  done
  echo "$n cases compared, $bad differ"
  [ $n -gt 0 ] && [ $bad -eq 0 ]
}

[ $# -ge 1 ] || usage
cmd=$1
shift
case $cmd in
compare)
  [ $# -eq 2 ] || usage
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  run_all "$1" "$tmp/a" || exit 1
  run_all "$2" "$tmp/b" || exit 1
  compare_dirs "$tmp/a" "$tmp/b"
  ;;
record)
  [ $# -eq 2 ] || usage
  run_all "$1" "$2" || exit 1
  echo "recorded $(ls -d "$2"/*/ | wc -l) cases in $2"
  ;;
check)
  [ $# -eq 2 ] || usage
  [ -d "$2" ] || { echo "same_bytes.sh: no recorded outputs in $2" >&2; exit 2; }
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  run_all "$1" "$tmp/b" || exit 1
  compare_dirs "$2" "$tmp/b"
  ;;
-h | --help | help) usage ;;
*) usage ;;
esac
