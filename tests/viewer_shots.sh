#!/usr/bin/env bash
# The README's viewer screenshots, made by script so picture and caption
# agree (issue 18). `viewer_shots.sh BIN` makes them in a scratch folder and
# checks them; `viewer_shots.sh BIN --docs` also copies them to docs/.
#   docs/viewer-dark.png:   vicious_cycle seed 4, zoledronic acid switched on
#                           (F2) at day 20, at day 60, Z (view on the lesion),
#                           1920x1080, presentation layout (M)
#   docs/viewer-fields.png: the same session's PTHrP heat map (key 7), light
#                           theme (T), at day 60
#   docs/viewer-story.png:  vicious_cycle seed 4 --story --present, at its
#                           third beat (osteoclasts form next to the tumour)
# Checks: both are 1920x1080 PNGs; the session's log has zoledronic acid
# switched on at step 480 (day 20) and ends at step 1440 (day 60).
set -uo pipefail
bin=$1
docs=${2:-}
. "$(dirname "$0")/lib.sh"
export OMP_NUM_THREADS=1 SDL_VIDEODRIVER=${SDL_VIDEODRIVER:-dummy}
cat >"$tmp/s.txt" <<S
key M
until 480
key F2
until 1440
key Z
screenshot $tmp/viewer-dark.png
key 7
key T
screenshot $tmp/viewer-fields.png
quit
S
if ! "$bin" view vicious_cycle --seed 4 --script "$tmp/s.txt" --out "$tmp/o" --size 1920x1080 >/dev/null 2>"$tmp/err"; then
  bad "view exited non-zero: $(cat "$tmp/err")"
fi
cat >"$tmp/st.txt" <<S
beat 3
wait 2
screenshot $tmp/viewer-story.png
quit
S
if ! "$bin" view vicious_cycle --seed 4 --story --present --script "$tmp/st.txt" --out "$tmp/o-story" \
    --size 1920x1080 >/dev/null 2>"$tmp/err-story"; then
  bad "view --story exited non-zero: $(cat "$tmp/err-story")"
fi
grep -q 'story beat 3 of [0-9]* at day' "$tmp/err-story" && ok || bad "the story's beat 3 never fired"
for f in viewer-dark viewer-fields viewer-story; do
  p=$tmp/$f.png
  if [ -f "$p" ]; then
    size=$(od -An -tu1 -j16 -N8 "$p" | awk '{print $1*16777216+$2*65536+$3*256+$4 "x" $5*16777216+$6*65536+$7*256+$8}')
    [ "$size" = 1920x1080 ] && ok || bad "$f is $size"
    tail -c 8 "$p" | od -An -tx1 | grep -q "49 45 4e 44 ae 42 60 82" && ok || bad "$f is not a complete PNG"
  else
    bad "no $f.png"
  fi
done
log=$tmp/o/actions.log
grep -qx '480 therapy zoledronic_acid on' "$log" && ok || bad "log lacks '480 therapy zoledronic_acid on'"
grep -qx '1440 end' "$log" && ok || bad "log does not end at step 1440: $(tail -1 "$log")"
if [ -n "$docs" ] && [ "$fail" -eq 0 ]; then
  cp "$tmp/viewer-dark.png" "$tmp/viewer-fields.png" "$tmp/viewer-story.png" "$(dirname "$0")/../docs/"
  echo "viewer_shots: docs/viewer-dark.png, docs/viewer-fields.png and docs/viewer-story.png written"
fi
finish viewer_shots
