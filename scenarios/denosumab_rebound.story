# The story of denosumab_rebound.ini for `bonesim view denosumab_rebound --story`
# (format: viz/view/story.h, docs/viewer.md). About 4 minutes.
title = Denosumab on and off: bone gained, then the rebound
about = Healthy trabecular bone remodelling: osteoclasts (vermillion) dig small pits, osteoblasts (blue) refill them.
about = Denosumab is given every 28 days from day 60 to day 240: it blocks RANKL, the signal that makes osteoclasts.
about = The plot: osteoclasts (left axis), bone as % of day 0 and RANKL blocked by the drug (right axis, dashed).
try = 3 | the RANKL map
try = F3 | switch denosumab on or off yourself
try = R | start again
plot = osteoclast, osteoblast, bone, dmab_occupancy
speed = 5

[beat]
when = day 0
view = bmu
highlight = osteoclast
caption = Healthy bone is rebuilt all the time
text = Osteoclasts dig, osteoblasts follow and refill: a remodelling unit. Across the slice several units are open at any time.
mark = start

[beat]
when = dose denosumab
by = 61
view = whole
caption = Denosumab: the first dose
text = The antibody binds RANKL. Watch the dashed occupancy line rise: almost all RANKL is blocked, no new osteoclasts form.
mark = dose 1

[beat]
when = day 150
view = whole
caption = While the drug is there, no new pits open
text = The pits already dug are refilled and no new ones open: watch the dashed bone line climb. Meanwhile osteoclast precursors pile up, unseen.
mark = gain

[beat]
when = day 240
view = whole
caption = The last dose
text = The drug washes out with a half-life of about 26 days. Watch the occupancy fall, then the osteoclast line.
mark = stop

[beat]
when = count osteoclast >= 15
by = 400
view = whole
highlight = osteoclast
caption = The rebound
text = The piled-up precursors turn into osteoclasts in a burst: more dig at once than before the drug, and the bone line falls. This is why doctors do not simply stop denosumab.
late = No burst of osteoclasts yet in this run; watch the osteoclast line and the dashed bone line from here.
mark = rebound

[beat]
when = day 470
view = whole
caption = After the rebound
text = Try it: press R, and at day 240 switch zoledronic acid on (F2), as clinicians do to soften the rebound.
mark = end
