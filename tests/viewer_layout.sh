#!/usr/bin/env bash
# The viewer's layout at 1920x1080 (SDL's dummy driver; BONESIM_VIEW_LAYOUT
# makes it report what each screenshot frame drew). Checks:
#   - nothing is left out at --ui-scale 1.3 or in presentation mode: every
#     panel block (cell types with their states, therapies, sliders) and
#     every plot legend entry is drawn;
#   - presentation (--present, and the M key): text >= 28 px, the lattice
#     >= 70 % of the window's height;
#   - the lattice fills the view (non-integer zoom) and Z zooms in on the
#     lesion (vicious_cycle) and back out;
#   - --fullscreen under Xvfb without a window manager: the screenshot is
#     the display's size and its top bar is drawn (not a black band), when
#     xvfb-run and python3 are there.
set -uo pipefail
bin=$1
. "$(dirname "$0")/lib.sh"
export OMP_NUM_THREADS=1 BONESIM_VIEW_LAYOUT=1

# layout NAME: the layout line of the screenshot NAME from $tmp/err
layout() { grep "bonesim view: layout " "$tmp/err" | sed -n "${1}p"; }
field() { sed -E "s/.*$1.*/\\1/"; }
all_shown() {
  local l=$1 what=$2
  echo "$l" | grep -Eq ' ([0-9]+) of \1 panel blocks, ([0-9]+) of \2 plot legend entries' && ok ||
    bad "$what: something left out: $l"
}

cat >"$tmp/s.txt" <<'S'
until 48
screenshot SHOT1
key Z
screenshot SHOT2
key Z
key M
screenshot SHOT3
quit
S
sed -i "s|SHOT1|$tmp/a.png|; s|SHOT2|$tmp/b.png|; s|SHOT3|$tmp/c.png|" "$tmp/s.txt"
for ui in 1 1.3; do
  if SDL_VIDEODRIVER=dummy "$bin" view vicious_cycle --script "$tmp/s.txt" --out "$tmp/o$ui" --size 1920x1080 \
    --ui-scale $ui >/dev/null 2>"$tmp/err"; then
    l1=$(layout 1) l2=$(layout 2) l3=$(layout 3)
    all_shown "$l1" "ui-scale $ui"
    all_shown "$l3" "ui-scale $ui, M"
    z1=$(echo "$l1" | field 'zoom ([0-9.]+)') z2=$(echo "$l2" | field 'zoom ([0-9.]+)')
    # fit: the lattice's height is the view's (within a pixel), by a real zoom
    awk -v a="$z1" -v b="$z2" 'BEGIN { exit !(b > 2 * a) }' && ok || bad "Z did not zoom in on the lesion ($z1 -> $z2)"
    pct=$(echo "$l3" | field '\(([0-9]+) % of the height\)') px=$(echo "$l3" | field 'text ([0-9]+) px')
    [ "$pct" -ge 70 ] && ok || bad "presentation (M): lattice $pct % of the height: $l3"
    [ "$px" -ge 28 ] && ok || bad "presentation (M): text $px px: $l3"
  else
    bad "view at ui-scale $ui exited non-zero: $(cat "$tmp/err")"
  fi
done
# the fitted zoom is not an integer for the 250-site lattice at 1920x1080
echo "$l1" | grep -Eq 'zoom [0-9]+\.000$' && bad "fitted zoom is an integer: $l1" || ok

# --present from the command line
printf 'until 2\nscreenshot %s\nquit\n' "$tmp/p.png" >"$tmp/p.txt"
if SDL_VIDEODRIVER=dummy "$bin" view immune_surveillance --present --script "$tmp/p.txt" --out "$tmp/op" \
  --size 1920x1080 >/dev/null 2>"$tmp/err"; then
  l=$(layout 1)
  all_shown "$l" "--present"
  pct=$(echo "$l" | field '\(([0-9]+) % of the height\)') px=$(echo "$l" | field 'text ([0-9]+) px')
  [ "$pct" -ge 70 ] && [ "$px" -ge 28 ] && ok || bad "--present: $l"
else
  bad "--present exited non-zero: $(cat "$tmp/err")"
fi

# --fullscreen without a window manager (Xvfb alone)
if command -v xvfb-run >/dev/null && command -v python3 >/dev/null; then
  printf 'until 2\nscreenshot %s\nquit\n' "$tmp/f.png" >"$tmp/f.txt"
  # A real X connection loads libX11, libdbus and driver modules that keep
  # allocations to the end (some in modules unloaded before the report, so
  # no suppression by library name can match them): leak checking is off
  # for this one run. Every other viewer run (dummy driver) keeps it.
  if env -u SDL_VIDEODRIVER ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" xvfb-run -a -s "-screen 0 1920x1080x24" "$bin" view homeostasis --fullscreen \
    --script "$tmp/f.txt" --out "$tmp/of" >/dev/null 2>"$tmp/err"; then
    # size, and the mean brightness of the top-left 200x60 (the top bar)
    r=$(python3 - "$tmp/f.png" <<'P'
import struct, sys, zlib
d = open(sys.argv[1], 'rb').read()
w, h = struct.unpack('>II', d[16:24])
idat, i = b'', 8
while i < len(d):
    n, t = struct.unpack('>I4s', d[i:i + 8])
    if t == b'IDAT': idat += d[i + 8:i + 8 + n]
    i += 12 + n
raw, bpp, stride, prev, tot = zlib.decompress(idat), 3, w * 3, bytearray(w * 3), 0
for y in range(60):
    f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
    for x in range(stride):
        a = line[x - bpp] if x >= bpp else 0
        b, c = prev[x], prev[x - bpp] if x >= bpp else 0
        p = a + b - c
        pr = a if abs(p - a) <= abs(p - b) and abs(p - a) <= abs(p - c) else b if abs(p - b) <= abs(p - c) else c
        line[x] = (line[x] + [0, a, b, (a + b) // 2, pr][f]) & 255
    tot += sum(line[:600])
    prev = line
print(w, h, tot / (60 * 600))
P
    )
    set -- $r
    [ "${1:-0}x${2:-0}" = 1920x1080 ] && ok || bad "fullscreen screenshot is ${1:-?}x${2:-?}"
    awk -v m="${3:-0}" 'BEGIN { exit !(m > 20) }' && ok || bad "fullscreen: the top bar is not drawn (mean ${3:-?})"
  else
    bad "fullscreen under Xvfb exited non-zero: $(cat "$tmp/err")"
  fi
else
  echo "viewer_layout: no xvfb-run or python3, the --fullscreen case is skipped"
fi

finish viewer_layout
