# The story of radiotherapy.ini for `bonesim view radiotherapy --story`
# (format: viz/view/story.h, docs/viewer.md). About 3 minutes.
title = Radiotherapy: 20 Gy in 5 fractions to a bone lesion
about = The immune_surveillance lesion: tumour cells (reddish purple) on bone, with T cells (bluish green), NK cells (orange) and MDSCs (grey).
about = From day 12 the whole slice gets 4 Gy a day for 5 days. Each fraction flashes the view's border yellow and is labelled on the plot.
about = The plot: tumour cells, dormant tumour cells and immune cells (left axis), bone as % of day 0 (right axis, dashed).
try = F7 | give one more fraction now
try = slider dtc.prolif_per_d | a faster growing tumour
try = R | start again
plot = dtc.proliferating, dtc.dormant, tcell, nk, bone
speed = 1

[beat]
when = day 0
view = lesion
highlight = dtc
caption = A lesion, and the immune cells it calls in
text = Before treatment, T cells and NK cells arrive and start to kill.
mark = start

[beat]
when = fraction 1
by = 13
view = lesion
caption = Fraction 1: 4 Gy
text = Every cell survives the dose with its own probability. CD8 T cells are very sensitive: almost all of them die at once.
mark = RT 1

[beat]
when = fraction 3
by = 15
view = lesion
highlight = dtc.dormant
caption = Fraction 3
text = Cycling tumour cells die more than dormant ones (sky-blue rings): dormant cells are about half as sensitive.
mark = RT 3
pause = yes

[beat]
when = fraction 5
by = 17
view = lesion
caption = Fraction 5: 20 Gy in total
text = Osteoblasts, osteoclasts and MDSCs are radioresistant and stay. Watch the plot over the next weeks.
mark = RT 5
speed = 2

[beat]
when = day 50
view = whole
highlight = tcell, nk, dtc
caption = Weeks after the last fraction
text = Immune cells come back from the blood only while a tumour calls them: with surviving tumour cells, new unirradiated T cells and NK cells arrive. Which happened here? Look at the plot, and press I for things to try.
mark = day 50
