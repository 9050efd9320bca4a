# The story of zoledronic_acid.ini for `bonesim view zoledronic_acid --story`
# (format: viz/view/story.h, docs/viewer.md). About 3-4 minutes.
title = Zoledronic acid: poisoning the osteoclasts of the vicious cycle
about = The vicious_cycle lesion (reddish-purple tumour cells on bone) treated with zoledronic acid every 28 days from day 0.
about = Blue flashes around the view mark each dose; the plot labels them. Vermillion squares are osteoclasts.
about = The plot: osteoclasts and tumour cells (left axis), bone as % of day 0 and the drug bound to bone (right axis, dashed).
try = right-click | a bone site: the inspector shows how much drug is bound there
try = F2 | switch the drug off, and watch osteoclasts come back
try = R | start again; compare with bonesim view vicious_cycle --story (press O to open it)
plot = osteoclast, dtc, bone, za_bound
speed = 2

[beat]
when = dose zoledronic_acid
by = 1
view = lesion
caption = The first dose of zoledronic acid
text = The bisphosphonate binds to exposed bone mineral and stays there for years. The dashed blue line on the plot follows the drug on the bone.
mark = dose 1

[beat]
when = count osteoclast >= 1
by = 30
view = lesion
highlight = osteoclast
caption = An osteoclast starts to dig ...
text = ... and takes the drug up from the bone it resorbs. The drug blocks an enzyme it needs (FPPS): it dies within days.
mark = osteoclast

[beat]
when = dose zoledronic_acid
by = 60
view = lesion
caption = The next dose, four weeks later
text = Compare the osteoclast line with the vicious cycle without the drug: far fewer osteoclasts, and less bone lost.
mark = dose 2
pause = no

[beat]
when = day 150
view = lesion
highlight = dtc
caption = The bone is protected, the tumour much less so
text = The drug works on bone, not on the tumour cells: the lesion can still grow. This is the modest effect on tumour burden seen in patients.
mark = day 150

[beat]
when = day 240
view = whole
caption = Eight months of treatment
text = Press O and open vicious_cycle to compare with no drug, or F2 to stop the drug here and watch.
mark = end
