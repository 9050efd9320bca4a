# The story of anti_pd1.ini for `bonesim view anti_pd1 --story`
# (format: viz/view/story.h, docs/viewer.md). About 3 minutes.
title = Anti-PD-1: releasing the brake on T cells
about = A bone lesion crowded by MDSCs (grey squares), the suppressor cells that shield the tumour (reddish purple) from CD8 T cells (bluish green).
about = Anti-PD-1 is given every 14 days from day 0; blue flashes mark each dose and the plot labels it. Red crosses mark kills.
about = The plot: tumour cells, T cells and MDSCs (left axis); the drug level (right axis, dashed).
try = F4 | switch anti-PD-1 off: the brake comes back
try = F5 | anti-Gr1 depletes MDSCs as well
try = 8 | the immunosuppression map
try = slider tcell.pdl1_kill_factor | the PD-L1 brake itself
plot = dtc, tcell, mdsc, level anti_pd1
speed = 1

[beat]
when = dose anti_pd1
by = 1
view = lesion
highlight = dtc
caption = The first dose of anti-PD-1
text = Tumour cells show PD-L1, which tells T cells to stop. The antibody blocks PD-1 on the T cells, so they kill on.
mark = dose 1

[beat]
when = count tcell >= 1
by = 15
view = lesion
highlight = tcell, mdsc
caption = T cells arrive, and so do MDSCs
text = The MDSCs (grey) still brake nearby T cells: anti-PD-1 lifts only one of the brakes.
mark = T cells

[beat]
when = kill
by = 25
view = lesion
highlight = tcell.activated
caption = A kill
text = Red crosses mark the tumour cells killed; the red ticks on the plot count them per day.
late = No kill yet: watch for red crosses.
mark = kill

[beat]
when = count dtc.proliferating <= 5
by = 60
view = lesion
highlight = dtc
caption = The cycling cells fall
text = Dormant tumour cells (sky-blue rings) show little antigen and survive, treated or not.
late = The cycling cells are still there: the MDSCs' brake has held in this run. Try F5 (anti-Gr1) to deplete them.
mark = low
speed = 2

[beat]
when = day 88
view = whole
caption = Three months of treatment
text = Press O and open mdsc_suppression for the same lesion without the drug, or F4 to stop it here.
mark = end
