# The story of immune_surveillance.ini for `bonesim view immune_surveillance --story`
# (format: viz/view/story.h, docs/viewer.md). About 4 minutes.
title = Immune surveillance: T cells and NK cells hunt a bone lesion
about = A 2.5 x 2.5 mm slice of bone marrow with a small lesion of lung-cancer cells (reddish-purple discs) on a bone surface.
about = Bluish-green rings are CD8 T cells not yet activated, bluish-green discs activated ones, black squares exhausted ones; orange diamonds are NK cells, grey squares MDSCs (suppressor cells).
about = Red crosses flash where a tumour cell is killed; the plot marks the kills of each day as red ticks under its time axis.
try = 6 | the IFN-gamma map: what activated T cells secrete
try = 8 | the immunosuppression map made by MDSCs and the tumour
try = slider tcell.pdl1_kill_factor | drag it to 1: no PD-L1 brake on the T cells
try = slider tcell.kill_rate_per_h_contact | slower or faster killing
plot = dtc, tcell, nk, mdsc, bone
speed = 1

[beat]
when = day 0
view = lesion
highlight = dtc
caption = A growing lesion calls in the immune system
text = The tumour cells release chemokines that draw immune cells out of the nearby blood vessels (red).
mark = start

[beat]
when = count tcell >= 1
by = 15
view = lesion
highlight = tcell, nk
caption = The first killer cells arrive
text = CD8 T cells (bluish green) must recognise a tumour cell and become activated before they kill; NK cells (orange) kill without that step.
mark = T cells

[beat]
when = kill
by = 25
view = lesion
highlight = tcell.activated, nk
caption = A kill
text = The red cross marks the tumour cell that died. Activated T cells also secrete IFN-gamma, which slows osteoclast formation.
late = No kill yet: the T cells have not found and recognised a tumour cell. Watch for red crosses.
mark = kill

[beat]
when = count dtc.proliferating <= 5
by = 60
view = lesion
highlight = dtc
caption = The cycling tumour cells are cleared
text = Count the red ticks on the plot. Dormant cells (sky-blue rings) show little antigen: they are the ones that survive.
late = The cycling tumour cells are still there: the immune cells have not kept up with their divisions in this run. Press R for another run with the same seed, Shift+R for a new seed.
mark = cleared
speed = 5

[beat]
when = day 150
view = whole
caption = What is left
text = Try it yourself: press I, then drag tcell.pdl1_kill_factor or press R to see another run of the same story.
mark = day 150
