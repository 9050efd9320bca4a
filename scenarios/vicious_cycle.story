# The story of vicious_cycle.ini for `bonesim view vicious_cycle --story`
# (format: viz/view/story.h, docs/viewer.md). About 4 minutes at 2 days/s.
title = The vicious cycle: a tumour that makes bone eat itself
about = A 2.5 x 2.5 mm slice of bone marrow: trabecular bone, marrow between, blood vessels (sinusoids).
about = Reddish-purple discs are proliferating lung-cancer cells, sky-blue rings dormant ones; vermillion squares are osteoclasts (they dig bone), blue ones osteoblasts (they rebuild it).
about = The plot: tumour cells and osteoclasts on the left axis, bone area as % of day 0 on the right (dashed).
try = 7 | the PTHrP the tumour secretes, as a heat map (0 goes back to the tissue colours)
try = F2 | zoledronic acid on: osteoclasts die where they take it up from the bone
try = slider pthrp.rankl_gain | drag it to 0: PTHrP no longer drives RANKL, the cycle is cut
try = Z | follow the lesion; Home shows the whole slice
plot = dtc.proliferating, dtc.dormant, osteoclast, bone
speed = 2

[beat]
when = day 0
view = lesion
highlight = dtc
caption = Thirty lung-cancer cells have settled on a bone surface
text = They sit in a remodelling unit, where osteoclasts and osteoblasts take turns. The ringed cells are the tumour.
mark = start

[beat]
when = after 2
show = pthrp
view = lesion
caption = The tumour cells secrete PTHrP
text = Bright means more PTHrP. It tells the bone-lining cells nearby to make RANKL, the signal that makes osteoclasts.
mark = PTHrP

[beat]
when = count osteoclast >= 6
by = 60
show = tissue
view = lesion
highlight = osteoclast
caption = More osteoclasts form next to the tumour
text = Orange flashes mark new osteoclasts, yellow dots bone they resorb. The box at the top right counts each day's events.
mark = osteoclasts

[beat]
when = bone_below 98
by = 120
view = lesion
show = tgfb
caption = Resorbed bone releases TGF-beta, and the tumour grows faster
text = Growth factors stored in the bone matrix come free where osteoclasts dig: the cycle closes. Watch the dashed bone line on the plot.
mark = TGF-beta

[beat]
when = day 250
show = tissue
view = lesion
highlight = dtc.proliferating
caption = Months later: the lesion and the hole it has dug
text = Compare the bone here with the first picture. Some tumour cells have gone dormant (sky-blue rings): they are the ones a later relapse can come from.
mark = month 8

[beat]
when = day 365
view = whole
caption = One year: bone lost where the tumour sits
text = Try it yourself: press I for things to try, e.g. drag pthrp.rankl_gain to 0 and press R to start again.
mark = 1 year
