/* actions.h — live changes to a running model, and their log.
 *
 * Everything the viewer changes while a model runs (a therapy switched on
 * or off, cells injected, a parameter moved, a reset) is a bs_action. The
 * viewer applies each one with bs_action_apply and appends it to a text
 * log; `bonesim run SCENARIO --replay LOG` reads the log back and applies
 * the same actions at the same steps, so the headless run writes the same
 * CSV bytes as the live session.
 *
 * Log format (text, UTF-8/ASCII, one action per line; '#' starts a comment
 * line, blank lines are ignored; fields are separated by spaces):
 *
 *   STEP therapy NAME on|off      bs_therapy_switch (names: therapy.h)
 *   STEP inject TYPE[.STATE] X Y  one cell on marrow site (X, Y); TYPE is a
 *                                 cell-type name of agents/celltypes.h
 *                                 ("dtc", "tcell.activated"), STATE a
 *                                 state name or number (default 0)
 *   STEP set NAME VALUE           bs_model_set_param (a registry name)
 *   STEP reset SEED               a fresh model from the scenario with SEED;
 *                                 the steps of later lines count from 0 again
 *   STEP end                      the session stopped here (last line)
 *
 * STEP is the number of steps done (bs_model.step) when the action was
 * applied: at iteration STEP of the run loop, before that time's outputs
 * and before the step. Steps never decrease within a segment (between
 * resets). A replay runs the last segment only, with the seed of the last
 * reset (if any), and stops at `end`. The viewer starts every log with
 * `0 reset SEED`, so a log carries its seed. Errors are "file:line: what
 * (valid: ...)". */
#ifndef BS_ACTIONS_H
#define BS_ACTIONS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "bs_status.h"
#include "params.h"

struct bs_model;

typedef enum { BS_ACT_THERAPY = 0, BS_ACT_INJECT, BS_ACT_SET, BS_ACT_RESET, BS_ACT_END } bs_action_kind;

#define BS_ACTION_NAME_MAX 96

typedef struct {
    uint64_t step; /* model steps done when applied */
    bs_action_kind kind;
    int id; /* therapy id, or cell type */
    int on; /* therapy: 1 on, 0 off; inject: state */
    int x, y; /* inject: site */
    double value; /* set: value; reset: seed */
    char name[BS_ACTION_NAME_MAX]; /* set: parameter name */
    int line; /* line in the log file (0 when made live) */
} bs_action;

typedef struct {
    bs_action *a; /* owned */
    size_t n, cap;
    char path[1024]; /* for messages */
} bs_action_log;

/* Parses one line (without its newline) into *out; returns 0 for a blank
 * or comment line, 1 for an action, -1 on error (err says what, prefixed
 * with where, e.g. "session.log:12"). */
int bs_action_parse_line(const char *line, const char *where, bs_action *out, bs_error *err);

/* Reads a whole log: every line parsed, steps checked (never decreasing
 * within a segment, nothing after `end`). Caller frees with
 * bs_action_log_free. */
bs_status bs_action_log_read(const char *path, bs_action_log *log, bs_error *err);
void bs_action_log_free(bs_action_log *log);

/* Formats an action as one log line, with a trailing '\n'. */
void bs_action_format(const bs_action *a, char *buf, size_t n);

/* The replay: the index of the first action of the last segment (after
 * the last reset, which it is when there is one), the seed to use (-1:
 * the scenario's) and the end step (-1: none). */
void bs_action_log_replay_plan(const bs_action_log *log, size_t *first, long long *seed, long long *end_step);

/* Applies a therapy, inject or set action to the model (between steps).
 * reset and end are the caller's business (they rebuild or stop the run):
 * passing them is BS_ERR_INVALID. An inject on a site that is not free
 * marrow is an error (the viewer checks first, so a log never holds one). */
bs_status bs_action_apply(struct bs_model *m, const bs_action *a, bs_error *err);

/* Is site (x, y) one where bs_action_apply can inject a cell? */
int bs_action_can_inject(const struct bs_model *m, int x, int y);

/* Parameters of live sessions: viewer.sliders (the list of parameters the
 * viewer offers as sliders). Added to the registry by agents/catalog.c. */
const bs_param_def *bs_live_params(size_t *n);

#endif
