#!/usr/bin/env bash
# Figures and video (issue 18 items 8-9): run --video (GIF through giflib, MP4
# through ffmpeg when it is installed), --png-region, the font fallback note.
# Usage: figures.sh BONESIM GIF(ON|OFF) FREETYPE(ON|OFF)
set -uo pipefail
bin=$1 have_gif=${2:-ON} have_ft=${3:-ON}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
ok() { :; }
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }
expect_fail() { # name, regex for stderr, command...
  local name=$1 re=$2
  shift 2
  if "$@" >"$tmp/out" 2>"$tmp/err"; then bad "$name: succeeded"; return; fi
  grep -Eq -- "$re" "$tmp/err" || bad "$name: stderr lacks /$re/: $(head -c 400 "$tmp/err")"
}
small=(--set lattice.width_sites=64 --set lattice.height_sites=56 --csv-every 1)

# frames of a GIF: walks the blocks (header, screen, colour table, then
# extensions and images up to the trailer); prints "W H FRAMES" or fails
gif_frames() {
  python3 - "$1" <<'EOF'
import sys
b = open(sys.argv[1], 'rb').read()
assert b[:6] in (b'GIF87a', b'GIF89a'), 'no GIF header'
w, h, flags = b[6] | b[7] << 8, b[8] | b[9] << 8, b[10]
i = 13 + (3 * 2 ** ((flags & 7) + 1) if flags & 0x80 else 0)
def skip_sub(i):
    while b[i]:
        i += b[i] + 1
    return i + 1
n = 0
while True:
    t = b[i]
    if t == 0x3B:
        break
    if t == 0x21:
        i = skip_sub(i + 2)
    elif t == 0x2C:
        f = b[i + 9]
        i += 10 + (3 * 2 ** ((f & 7) + 1) if f & 0x80 else 0)
        i = skip_sub(i + 1)  # LZW minimum code size, then the data
        n += 1
    else:
        raise SystemExit('bad block 0x%02x at %d' % (t, i))
assert i == len(b) - 1, 'bytes after the trailer'
print(w, h, n)
EOF
}
png_size() { python3 -c 'import sys,struct; b=open(sys.argv[1],"rb").read(24); assert b[:8]==b"\x89PNG\r\n\x1a\n"; print(*struct.unpack(">II", b[16:24]))' "$1"; }

# ---- GIF: 4 days, a frame a day and the end = 5 frames, the PNG's size
if [ "$have_gif" = ON ]; then
  "$bin" run homeostasis --days 4 --seed 3 --threads 1 --png-every 4 --quiet "${small[@]}" --out "$tmp/g1" \
    --video "$tmp/g1/movie.gif" --video-every 1 2>"$tmp/g1.err" || bad "run --video gif: $(cat "$tmp/g1.err")"
  read -r gw gh gn < <(gif_frames "$tmp/g1/movie.gif") || bad "movie.gif is not a valid GIF"
  read -r pw ph < <(png_size "$tmp/g1/snapshot_day0004.0.png")
  [ "${gn:-0}" = 5 ] || bad "GIF has ${gn:-?} frames, expected 5 (days 0..4)"
  [ "${gw:-0}x${gh:-0}" = "${pw}x${ph}" ] || bad "GIF is ${gw}x${gh}, the snapshots ${pw}x${ph}"
  grep -q '"movie.gif"' "$tmp/g1/manifest.json" || bad "manifest does not list movie.gif"
  ls "$tmp"/g1/*.tmp.* >/dev/null 2>&1 && bad "a temporary file was left"
  # same seed, other thread count: the same GIF bytes
  "$bin" run homeostasis --days 4 --seed 3 --threads 2 --png-every 4 --quiet "${small[@]}" --out "$tmp/g2" \
    --video "$tmp/g2/movie.gif" --video-every 1 || bad "run --video gif at 2 threads"
  cmp -s "$tmp/g1/movie.gif" "$tmp/g2/movie.gif" || bad "GIF bytes differ between 1 and 2 threads"
  # frames default to run.png_every_d, at a given frame rate
  "$bin" run homeostasis --days 4 --seed 3 --threads 1 --png-every 2 --quiet "${small[@]}" --out "$tmp/g3" \
    --video "$tmp/g3/m.gif" --video-fps 4 || bad "run --video gif, --png-every frames"
  read -r _ _ gn3 < <(gif_frames "$tmp/g3/m.gif")
  [ "${gn3:-0}" = 3 ] || bad "GIF on --png-every 2 over 4 days has ${gn3:-?} frames, expected 3"
  # a cropped video has the cropped snapshots' size
  "$bin" run homeostasis --days 2 --seed 3 --threads 1 --png-every 2 --quiet "${small[@]}" --out "$tmp/g4" \
    --video "$tmp/g4/m.gif" --png-region 100,100,400,300 || bad "run --video with --png-region"
  read -r cw ch _ < <(gif_frames "$tmp/g4/m.gif")
  read -r qw qh < <(png_size "$tmp/g4/snapshot_day0002.0.png")
  [ "${cw:-0}x${ch:-0}" = "${qw}x${qh}" ] || bad "cropped GIF ${cw}x${ch} vs cropped PNG ${qw}x${qh}"
else
  expect_fail "gif without giflib" "built without giflib" "$bin" run homeostasis --days 1 --out "$tmp/x0" --video "$tmp/x0.gif"
fi

# ---- MP4 through ffmpeg, when there is one
if command -v ffmpeg >/dev/null && command -v ffprobe >/dev/null; then
  "$bin" run homeostasis --days 4 --seed 3 --threads 2 --png-every 4 --quiet "${small[@]}" --out "$tmp/m1" \
    --video "$tmp/m1/movie.mp4" --video-every 0.5 2>"$tmp/m1.err" || bad "run --video mp4: $(cat "$tmp/m1.err")"
  info=$(ffprobe -v error -count_frames -select_streams v:0 -show_entries stream=codec_type,nb_read_frames,width,height \
    -of csv=p=0 "$tmp/m1/movie.mp4" 2>&1)
  read -r pw ph < <(png_size "$tmp/m1/snapshot_day0004.0.png")
  ew=$(((pw + 1) / 2 * 2)) eh=$(((ph + 1) / 2 * 2))
  [ "$info" = "video,$ew,$eh,9" ] || bad "ffprobe says '$info', expected video,$ew,$eh,9 (9 frames, even size)"
  # Ctrl-C at a terminal signals the whole process group: bonesim stops with
  # a checkpoint and still finishes the MP4 (ffmpeg runs in its own group)
  if command -v setsid >/dev/null; then
    setsid "$bin" run homeostasis --days 3000 --seed 3 --threads 1 --png-every 0 --quiet "${small[@]}" \
      --out "$tmp/m2" --video "$tmp/m2/movie.mp4" --video-every 1 --checkpoint-every 1000 2>"$tmp/m2.err" &
    pid=$!
    for _ in $(seq 50); do [ -s "$tmp/m2/timeseries.csv" ] && [ "$(wc -l <"$tmp/m2/timeseries.csv")" -gt 20 ] && break; sleep 0.2; done
    kill -INT -- -"$pid" 2>/dev/null
    wait "$pid"
    rc=$?
    n2=$(ffprobe -v error -count_frames -select_streams v:0 -show_entries stream=nb_read_frames -of csv=p=0 "$tmp/m2/movie.mp4" 2>/dev/null)
    [ "$rc" = 130 ] && [ "${n2:-0}" -ge 2 ] || bad "SIGINT to the group: exit $rc (expected 130), MP4 frames '${n2:-none}': $(head -c 300 "$tmp/m2.err")"
  fi
else
  echo "figures: no ffmpeg/ffprobe here, the MP4 check is skipped"
fi
expect_fail "mp4 without ffmpeg" "needs the ffmpeg program on PATH" \
  env BONESIM_FFMPEG=none "$bin" run homeostasis --days 1 --out "$tmp/x1" --video "$tmp/x1.mp4"

# ---- bad video input (with a video type this build can write)
expect_fail "unknown video type" "unknown video type .*\.mp4.*\.gif" "$bin" run homeostasis --days 1 --out "$tmp/x2" --video "$tmp/x2.avi"
vext=
[ "$have_gif" = ON ] && vext=gif
[ -z "$vext" ] && command -v ffmpeg >/dev/null && vext=mp4
if [ -n "$vext" ]; then
  expect_fail "video without frames" "a video needs frames" \
    "$bin" run homeostasis --days 1 --png-every 0 --out "$tmp/x3" --video "$tmp/x3.$vext"
  expect_fail "video-every under a step" "shorter than one step" \
    "$bin" run homeostasis --days 1 --out "$tmp/x4" --video "$tmp/x4.$vext" --video-every 0.001
  expect_fail "video-fps out of range" "--video-fps '90'" \
    "$bin" run homeostasis --days 1 --out "$tmp/x5" --video "$tmp/x5.$vext" --video-fps 90
  [ -e "$tmp/x3.$vext" ] && bad "a refused video left a file"
  expect_fail "video into a missing folder" "nofolder/m.$vext: cannot write" \
    "$bin" run homeostasis --days 1 --out "$tmp/x9" --video "$tmp/nofolder/m.$vext"
fi
expect_fail "resume --video" "does not take --video" "$bin" resume "$tmp/none.ckpt" --video "$tmp/x6.gif"
[ -e "$tmp/x2.avi" ] && bad "a refused video left a file"

# ---- --png-region: the crop's size, and bad regions
"$bin" run homeostasis --days 1 --seed 3 --threads 1 --png-every 1 --quiet "${small[@]}" --out "$tmp/r0" || bad "full run"
"$bin" run homeostasis --days 1 --seed 3 --threads 1 --png-every 1 --quiet "${small[@]}" --out "$tmp/r1" \
  --png-region 105,0,405,555 || bad "run --png-region"
read -r fw fh < <(png_size "$tmp/r0/snapshot_day0001.0.png")
read -r rw rh < <(png_size "$tmp/r1/snapshot_day0001.0.png")
# 64 sites wide -> sites 10..40 (105 um rounds down, 405 up): 31 sites of 2 px, so 66 px narrower
[ $((fw - rw)) = $(((64 - 31) * 2)) ] || bad "cropped PNG is ${rw} px wide, the full one ${fw}: expected 66 px less"
cmp -s "$tmp/r0/timeseries.csv" "$tmp/r1/timeseries.csv" || bad "--png-region changed the simulation"
expect_fail "region not four numbers" "not four numbers X0,Y0,X1,Y1" "$bin" run homeostasis --png-region 1,2,3 --out "$tmp/x7"
expect_fail "region hex" "not four numbers" "$bin" run homeostasis --png-region 0x10,0,100,100 --out "$tmp/x7"
expect_fail "region negative" "not four numbers" "$bin" run homeostasis --png-region -5,0,100,100 --out "$tmp/x7"
expect_fail "region corners swapped" "X0 < X1 and Y0 < Y1" "$bin" run homeostasis --png-region 300,0,100,100 --out "$tmp/x7"
expect_fail "region outside" "reaches outside the lattice, which is 640 x 560 um .*valid: 0 <= X0 < X1 <= 640" \
  "$bin" run homeostasis "${small[@]}" --png-region 0,0,700,100 --out "$tmp/x8"

# ---- the font: a missing font file falls back to the bitmap font, said once
if [ "$have_ft" = ON ]; then
  BONESIM_IMAGE_FONT=/nonexistent.ttf "$bin" run homeostasis --days 2 --png-every 1 "${small[@]}" --out "$tmp/f1" \
    >/dev/null 2>"$tmp/f1.err" || bad "run with a missing font"
  [ "$(grep -c "images use the built-in 5x7 font" "$tmp/f1.err")" = 1 ] || bad "fallback note not said exactly once: $(cat "$tmp/f1.err")"
  BONESIM_IMAGE_FONT=builtin "$bin" run homeostasis --days 1 --png-every 1 --seed 3 --threads 1 --quiet "${small[@]}" \
    --out "$tmp/f2" || bad "run with the builtin font"
  cmp -s "$tmp/f2/snapshot_day0001.0.png" "$tmp/r0/snapshot_day0001.0.png" &&
    { [ -n "$(ls /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf 2>/dev/null)" ] && bad "TrueType and bitmap snapshots are the same bytes"; }
else
  "$bin" run homeostasis --days 1 --png-every 1 "${small[@]}" --out "$tmp/f1" >/dev/null 2>"$tmp/f1.err"
  grep -q "built without FreeType" "$tmp/f1.err" || bad "no note that text falls back to the bitmap font"
fi

[ $fails -eq 0 ] && echo "figures: all checks passed" || { echo "figures: $fails failed"; exit 1; }
