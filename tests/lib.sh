# lib.sh — what the end-to-end test scripts share. Source it right after
# reading the binary's path:  . "$(dirname "$0")/lib.sh"
# It gives $tmp (a scratch folder removed at exit; a script that needs more
# clean-up sets its own EXIT trap and removes $tmp there), the pass/fail
# counters with ok / bad, expect_fail, whole and finish.

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0
fail=0
ok() { pass=$((pass + 1)); }
bad() { echo "FAIL: $*"; fail=$((fail + 1)); }

# expect_fail NAME PATTERN CMD...: CMD exits non-zero and its stderr
# matches the extended regular expression PATTERN.
expect_fail() {
  local name=$1 pat=$2
  shift 2
  if "$@" >"$tmp/out" 2>"$tmp/err"; then bad "$name: exited 0"; return; fi
  grep -Eq -e "$pat" "$tmp/err" && ok || { bad "$name: stderr lacks /$pat/:"; cat "$tmp/err"; }
}

# whole DIR: no temporary files left, the CSV ends with a whole row and
# every row has the header's columns, every PNG ends with its IEND chunk.
whole() {
  local d=$1 cols
  ls "$d"/*.tmp.* >/dev/null 2>&1 && bad "$d: temporary files left: $(ls "$d"/*.tmp.*)"
  [ -z "$(tail -c 1 "$d/timeseries.csv")" ] || bad "$d: CSV ends inside a row"
  cols=$(head -1 "$d/timeseries.csv" | tr -cd , | wc -c)
  awk -F, -v c="$cols" 'NF - 1 != c { exit 1 }' "$d/timeseries.csv" || bad "$d: CSV has a partial row"
  for p in "$d"/*.png; do
    [ -e "$p" ] || continue
    tail -c 8 "$p" | od -An -tx1 | grep -q "49 45 4e 44 ae 42 60 82" || bad "$p is not a complete PNG"
  done
}

# finish NAME: the summary line; the status is 0 only when nothing failed.
finish() {
  echo "$1: $pass passed, $fail failed"
  [ "$fail" -eq 0 ]
}
