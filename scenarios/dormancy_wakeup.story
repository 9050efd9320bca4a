# The story of dormancy_wakeup.ini for `bonesim view dormancy_wakeup --story`
# (format: viz/view/story.h, docs/viewer.md). About 3 minutes.
title = Sleeping tumour cells, and the osteoclasts that wake them
about = A 1.6 mm strip of bone surface (beige slab) with marrow above it and blood vessels (red).
about = Sky-blue rings are dormant tumour cells, reddish-purple discs proliferating ones; vermillion squares are osteoclasts digging the surface.
about = The plot: dormant and proliferating tumour cells (left axis) and bone as % of day 0 (right axis, dashed).
try = Space | pause, then right-click a tumour cell to see its state and age
try = 1 | the oxygen map: dormant cells sit in the low-oxygen marrow by the bone
try = F10 | the HDAC inhibitor: pushes cells back to sleep
try = R | start again; Shift+R with a new seed
plot = dtc.dormant, dtc.proliferating, osteoclast, bone
speed = 2

[beat]
when = day 0
view = whole
highlight = dtc
caption = Eighty lung-cancer cells have reached the bone surface
text = They arrived through the blood and settled on the quiet, lining-cell covered surface of the bone.
mark = arrival

[beat]
when = count dtc.dormant >= 20
by = 10
view = whole
highlight = dtc.dormant
caption = Most of them fall asleep
text = Signals from the bone-lining cells (through the receptor LIFR) switch them to dormancy: sky-blue rings. Dormant cells do not divide and escape most drugs.
mark = dormant
speed = 5

[beat]
when = count osteoclast >= 2
by = 40
view = whole
highlight = osteoclast
caption = Osteoclasts open a remodelling site
text = Where an osteoclast digs within about 20 µm of a dormant cell, it remodels the niche and can wake the cell.
mark = digging

[beat]
when = after 30
view = whole
highlight = dtc.proliferating
caption = Awake cells divide while their site is open
text = Look for reddish-purple discs beside the osteoclasts, and green flashes where new tumour cells appear. Cells on still-quiet surface sleep on.
mark = awake

[beat]
when = day 300
view = whole
caption = Most of a year later
text = Compare the dormant and proliferating lines on the plot. Press I for things to try: the HDAC inhibitor (F10) sends cells back to sleep.
mark = day 300
