# The story of metastasis.ini for `bonesim view metastasis --story`
# (format: viz/view/story.h, docs/viewer.md). About 4-5 minutes.
# Written against the events every metastasis goes through (arrival from the
# blood, dormancy, a colony, osteolysis); each beat has a `by` day so the
# story goes on whatever the seed.
title = Bone metastasis: from one tumour cell in the blood to a lesion in the bone
about = A slice of bone marrow: trabecular bone (beige), marrow (dark), blood vessels (red sinusoids, purple arterioles).
about = Yellow diamonds are tumour cells homing from the blood, sky-blue rings dormant ones, reddish-purple discs proliferating ones; vermillion squares are osteoclasts, blue ones osteoblasts.
about = The plot: tumour cells by state and osteoclasts (left axis), bone as % of day 0 (right axis, dashed).
try = 2 | the CXCL12 map: the signal that draws tumour cells to their niche
try = 1 | the oxygen map: where the marrow is most hypoxic
try = F6 | a CXCR4 antagonist: tumour cells can no longer follow CXCL12
try = F2 | zoledronic acid: poison the osteoclasts
plot = dtc.homing, dtc.dormant, dtc.proliferating, osteoclast, bone
speed = 2

[beat]
when = day 0
view = whole
caption = Lung-cancer cells reach the bone marrow through the blood
text = A small colony already sits on the bone in the middle; on day 5 a shower of tumour cells arrives in the blood. Watch for yellow diamonds by the sinusoids.
mark = start

[beat]
when = count dtc.homing >= 1
by = 30
view = lesion
highlight = dtc
caption = A tumour cell has left the blood
text = It follows CXCL12, a signal made by the cells that line the bone and the vessels, to its niche (press 2 to see the signal).
late = No tumour cell has left the blood yet in this run; watch the sinusoids.
mark = arrival

[beat]
when = first_dormant
by = 120
view = lesion
highlight = dtc.dormant
caption = In its niche it falls asleep
text = Dormant cells (sky-blue rings) do not divide: they can wait for years, and most drugs cannot reach them.
late = No cell has gone dormant yet in this run.
mark = dormant

[beat]
when = after 60
view = lesion
highlight = dtc.proliferating
caption = Weeks later: which cells divide?
text = Green flashes mark new tumour cells: most come from the colony on the bone, while the newcomers mostly sleep. Osteoclasts digging nearby can wake dormant cells.
mark = colony
speed = 5

[beat]
when = bone_below 98
by = 320
view = lesion
show = pthrp
caption = The colony makes the bone dissolve
text = Its PTHrP (bright) drives RANKL and osteoclasts; the resorbed bone releases growth factors that feed the tumour: the vicious cycle.
late = The bone has not fallen by 2 % yet in this run: the colony is small, or there is none.
mark = osteolysis

[beat]
when = day 300
show = tissue
view = whole
caption = A bone metastasis
text = Press I for things to try: block CXCR4 (F6) and press R to start again, or open vicious_cycle with O to follow the cycle on its own.
mark = lesion
