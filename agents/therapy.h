/* therapy.h — therapies as mechanisms on the rules, with schedules.
 *
 * Each therapy of the review is a mechanism acting on the model's rules
 * (agents/therapy.c): a systemic drug level with its half-life, a per-site
 * bone load, a one-off dose to a region, a changed vessel O2. Its schedule
 * comes from the parameter registry, section `therapy.NAME` (keys
 * start_day, stop_day and the drug's dose/interval keys), so it works from
 * a scenario file and from `--set therapy.NAME.start_day=...` on any
 * scenario.
 *
 * The schedule and a live switch (the viewer's keys, a replayed log) go
 * through the same function, bs_therapy_switch. Scheduled events fire at
 * the first step whose start time is at or after the scheduled day; a live
 * switch takes effect at the next step. What a therapy leaves in the model
 * (drug levels, pools, switch state) is model state: it lives in
 * bs_model.therapy and is checkpointed (agents/model_io.c). */
#ifndef BS_THERAPY_H
#define BS_THERAPY_H

#include <stddef.h>
#include <stdint.h>

#include "params.h"

typedef enum {
    BS_THERAPY_ZOLEDRONIC_ACID = 0,
    BS_THERAPY_DENOSUMAB,
    BS_THERAPY_ANTI_PD1,
    BS_THERAPY_ANTI_GR1,
    BS_THERAPY_CXCR4_ANTAGONIST,
    BS_THERAPY_RADIOTHERAPY,
    BS_THERAPY_HYPEROXIA,
    BS_THERAPY_MNO2,
    BS_THERAPY_HDAC_INHIBITOR,
    BS_THERAPY_COUNT
} bs_therapy_id;

/* What every therapy has; therapy.c may add what its mechanisms need
 * (everything here is state and must be listed in model_io.c's table). */
typedef struct {
    uint8_t on[BS_THERAPY_COUNT];     /* switched on now (dosing / exposure) */
    float level[BS_THERAPY_COUNT];    /* systemic level 0..1 (1 = a full dose's effect) */
    double last_dose_d[BS_THERAPY_COUNT]; /* day of the last dose, -1 = never */
    float dmab_precursors;            /* denosumab: osteoclast-precursor pool built up under RANKL blockade */
    float gr1_myeloid;                /* anti-Gr1: osteoclast-competent myeloid pool */
} bs_therapy_state;

/* Names exactly as in the scenario files ("zoledronic_acid", ...). */
extern const char *const bs_therapy_names[BS_THERAPY_COUNT];
/* One line each, for help screens and the viewer ("bisphosphonate: ..."). */
extern const char *const bs_therapy_blurbs[BS_THERAPY_COUNT];
/* Index of a name, or -1. */
int bs_therapy_find(const char *name);

/* Parameter definitions of all therapies (schedules and mechanisms), added
 * to the registry by agents/catalog.c. */
const bs_param_def *bs_therapy_params(size_t *n);

struct bs_model;

/* Switches a therapy on (1) or off (0) now: what a schedule's start/stop
 * does and what the viewer's key does. Switching a dosed drug on gives its
 * first dose at once; radiotherapy delivers its dose (to its region) at
 * once and stays "off". Call between steps. */
void bs_therapy_switch(struct bs_model *m, bs_therapy_id id, int on);
static inline int bs_therapy_is_on(const bs_therapy_state *t, bs_therapy_id id) { return t->on[id] != 0; }

/* Called by bs_model_step before anything else: fires the events
 * scheduled for this step (start, repeat doses, stop), advances drug
 * levels over the step and sets the rule effects (bs_rules.cxcr4_block,
 * pd1_block, ...). Serial; does not allocate. */
void bs_therapy_step(struct bs_model *m);

/* The scheduled window of a therapy in days ([start, stop); start < 0 when
 * it is not scheduled) — for plots that mark therapy periods. */
void bs_therapy_window(const struct bs_model *m, bs_therapy_id id, double *start_d, double *stop_d);

#endif
