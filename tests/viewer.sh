#!/usr/bin/env bash
# The live viewer, driven by a script without a display (SDL's dummy video
# driver and software renderer): keys, clicks, a drag, therapy keys, a
# screenshot and a dump of the renderer's image. Checks:
#   - the screenshot is a valid PNG of the window's size;
#   - the injected cells exist (in the CSV row of the step they were put in);
#   - the therapy switched on at the logged tick;
#   - the viewer's image equals the headless PNG of the same step, byte for byte;
#   - `bonesim run --replay` of the session's log gives the same CSV bytes.
set -uo pipefail
bin=$1
. "$(dirname "$0")/lib.sh"
export OMP_NUM_THREADS=1 SDL_VIDEODRIVER=${SDL_VIDEODRIVER:-dummy}
scen=(homeostasis --seed 3)

"$bin" view --help | grep -q -- "--script FILE" && ok || bad "view --help"

# Tab Tab: the third cell type of the registry (tumour cells) is selected.
cat >"$tmp/script.txt" <<'S'
# scripted session
key Tab
key Tab
until 24
drag 20 125 230 125
key F3
until 48
key 1
rclick 125 125
screenshot SHOT
key 0
dump DUMP
key shift+S
until 72
key F1
key I
key T
quit
S
sed -i "s|SHOT|$tmp/shot.png|; s|DUMP|$tmp/dump48.png|" "$tmp/script.txt"
if ! "$bin" view "${scen[@]}" --script "$tmp/script.txt" --out "$tmp/live" --size 1280x720 --px 2 >"$tmp/out" 2>"$tmp/err"; then
  bad "view exited non-zero: $(cat "$tmp/err")"
fi

# the screenshot: PNG signature and IHDR size
if [ -f "$tmp/shot.png" ]; then
  sig=$(head -c 8 "$tmp/shot.png" | od -An -tx1 | tr -d ' \n')
  [ "$sig" = 89504e470d0a1a0a ] && ok || bad "screenshot is not a PNG ($sig)"
  size=$(od -An -tu1 -j16 -N8 "$tmp/shot.png" | awk '{print $1*16777216+$2*65536+$3*256+$4 "x" $5*16777216+$6*65536+$7*256+$8}')
  [ "$size" = 1280x720 ] && ok || bad "screenshot is $size, not 1280x720"
else
  bad "no screenshot"
fi

log=$tmp/live/actions.log
csv=$tmp/live/timeseries.csv
# injected tumour cells: logged at step 24, and in the day-1 row (column 10)
n_inj=$(grep -c '^24 inject dtc[. ]' "$log")
[ "$n_inj" -gt 5 ] && ok || bad "the drag injected $n_inj tumour cells (expected a line of them)"
n_csv=$(awk -F, 'NR == 3 { print $10 }' "$csv")
[ "$n_csv" = "$n_inj" ] && ok || bad "day-1 row has $n_csv tumour cells, the log injected $n_inj"
# the therapy: on at the logged tick (the log line and the viewer's message)
grep -qx '24 therapy denosumab on' "$log" && ok || bad "log lacks '24 therapy denosumab on'"
grep -q 'denosumab ON (step 24)' "$tmp/err" && ok || bad "viewer did not report denosumab on at step 24"
grep -qx '72 end' "$log" && ok || bad "log does not end at step 72: $(tail -1 "$log")"
rows=$(($(wc -l <"$csv") - 1))
[ "$rows" = 4 ] && ok || bad "live CSV has $rows rows (expected days 0, 1, 2, 3)"

# replay headless: same CSV bytes; its day-2 snapshot is the viewer's image at step 48
grep -qx '0 reset 3' "$log" && ok || bad "log does not start with the seed: $(grep -v '^#' "$log" | head -1)"
# no --seed: the log carries it
if "$bin" run homeostasis --replay "$log" --png-every 1 --out "$tmp/replay" --quiet 2>"$tmp/rerr"; then
  cmp -s "$csv" "$tmp/replay/timeseries.csv" && ok || { bad "replayed CSV differs:"; diff "$csv" "$tmp/replay/timeseries.csv" | head; }
  cmp -s "$tmp/dump48.png" "$tmp/replay/snapshot_day0002.0.png" && ok || bad "viewer image at step 48 differs from the headless PNG"
else
  bad "replay failed: $(cat "$tmp/rerr")"
fi

# a second session: a slider (homeostasis lists oc.lifespan_d in viewer.sliders),
# a reset with a new seed, an inject after it; replayed, the same CSV bytes
cat >"$tmp/script2.txt" <<'S'
until 12
slider oc.lifespan_d 5
until 20
key shift+R
until 30
click 125 125
click 126 125
slider oc.lifespan_d 30
until 40
key V
wait 2
key V
quit
S
if "$bin" view "${scen[@]}" --script "$tmp/script2.txt" --out "$tmp/live2" --size 1024x640 >/dev/null 2>"$tmp/err"; then
  log2=$tmp/live2/actions.log
  grep -qx '12 set oc.lifespan_d 5' "$log2" && grep -qx '20 reset 4' "$log2" && grep -qx '40 end' "$log2" && ok ||
    { bad "session 2 log:"; cat "$log2"; }
  # V records a video: an MP4 when ffmpeg is on PATH, else a GIF (viz/image/video.h)
  rec=$(ls "$tmp"/live2/rec-homeostasis-seed4-1.mp4 "$tmp"/live2/rec-homeostasis-seed4-1.gif 2>/dev/null | head -1)
  case "$rec" in
  *.gif) [ "$(head -c 6 "$rec")" = GIF89a ] && ok || bad "recorded GIF has no GIF89a header" ;;
  *.mp4)
    if command -v ffprobe >/dev/null; then
      nrec=$(ffprobe -v error -count_frames -select_streams v:0 -show_entries stream=nb_read_frames -of csv=p=0 "$rec")
      [ "${nrec:-0}" -ge 2 ] && ok || bad "recorded MP4 has ${nrec:-no} frames"
    else
      [ "$(head -c 8 "$rec" | tail -c 4)" = ftyp ] && ok || bad "recorded MP4 has no ftyp box"
    fi ;;
  *) bad "V recorded no video (rec-homeostasis-seed4-1.mp4 or .gif): $(ls "$tmp/live2")" ;;
  esac
  if "$bin" run homeostasis --replay "$log2" --out "$tmp/replay2" --quiet 2>"$tmp/rerr"; then
    cmp -s "$tmp/live2/timeseries.csv" "$tmp/replay2/timeseries.csv" && ok || bad "session 2: replayed CSV differs"
  else
    bad "session 2 replay failed: $(cat "$tmp/rerr")"
  fi
else
  bad "session 2 exited non-zero: $(cat "$tmp/err")"
fi

# errors: bad script line with file:line, missing font, no scenario
printf 'key NoSuchKey\n' >"$tmp/bad.txt"
if "$bin" view "${scen[@]}" --script "$tmp/bad.txt" --out "$tmp/bad" >/dev/null 2>"$tmp/err"; then bad "bad script exited 0"
else grep -q "bad.txt:1: unknown key 'NoSuchKey'" "$tmp/err" && ok || bad "bad script message: $(cat "$tmp/err")"; fi
if "$bin" view "${scen[@]}" --font /nonexistent.ttf --out "$tmp/nf" >/dev/null 2>"$tmp/err"; then bad "missing font exited 0"
else grep -q "font /nonexistent.ttf cannot be read" "$tmp/err" && ok || bad "missing font message: $(cat "$tmp/err")"; fi
if "$bin" view "${scen[@]}" --set viewer.sliders=lattice.h_um --out "$tmp/bs" >/dev/null 2>"$tmp/err"; then bad "fixed-parameter slider exited 0"
else grep -q "viewer.sliders: lattice.h_um cannot change while the model runs" "$tmp/err" && ok || bad "slider message: $(cat "$tmp/err")"; fi
if "$bin" view no_such_scenario >/dev/null 2>"$tmp/err"; then bad "unknown scenario exited 0"
else grep -q "no scenario 'no_such_scenario'" "$tmp/err" && ok || bad "unknown scenario message: $(cat "$tmp/err")"; fi

finish viewer
