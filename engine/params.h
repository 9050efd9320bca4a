/* params.h — the one parameter registry.
 *
 * Every tunable number of the model is a bs_param_def with a name
 * "section.key", a default, a valid range, a physical unit and a help text
 * that names its source. Modules own static tables of definitions; the
 * program assembles them into one bs_registry (agents/catalog.c). The same
 * registry feeds the scenario loader, --set, `bonesim params`, the viewer's
 * sliders and the run manifest: there is never a second list.
 *
 * Values live in a bs_paramset (one double or string per definition).
 * Reading by name is for set-up code (derive functions), never the step
 * loop. */
#ifndef BS_PARAMS_H
#define BS_PARAMS_H

#include <stddef.h>

#include "bs_status.h"

typedef enum {
    BS_PT_REAL = 0, /* double in [min, max] */
    BS_PT_INT, /* integer in [min, max] */
    BS_PT_BOOL, /* 0/1, also "true/false/on/off/yes/no" in files */
    BS_PT_CHOICE, /* one of choices[] (stored as its index) */
    BS_PT_STRING /* free text (paths, descriptions); def_str */
} bs_param_type;

typedef struct {
    const char *name; /* "section.key", units in the key: "oc.lifespan_d" */
    bs_param_type type;
    double def, min, max;
    const char *unit; /* "d", "um", "1/h", "mmHg", "1" for dimensionless */
    const char *help; /* what it does; source: "Agerbaek 1991 (M✓)", "calibrated to B3" */
    const char *def_str; /* BS_PT_STRING default (may be "") */
    const char *const *choices; /* BS_PT_CHOICE: NULL-terminated list */
} bs_param_def;

typedef struct bs_registry bs_registry;

bs_registry *bs_registry_create(void);
void bs_registry_destroy(bs_registry *reg);
/* Adds n definitions (the table must outlive the registry). Fails on a
 * duplicate name. */
bs_status bs_registry_add(bs_registry *reg, const bs_param_def *defs, size_t n, bs_error *err);
size_t bs_registry_count(const bs_registry *reg);
const bs_param_def *bs_registry_at(const bs_registry *reg, size_t i);
/* Index of name, or -1. */
long bs_registry_find(const bs_registry *reg, const char *name);

/* A set of values for every definition of a registry. */
typedef struct bs_paramset bs_paramset;

bs_paramset *bs_paramset_create(const bs_registry *reg); /* all defaults */
void bs_paramset_destroy(bs_paramset *ps);
bs_paramset *bs_paramset_clone(const bs_paramset *ps);
const bs_registry *bs_paramset_registry(const bs_paramset *ps);
/* Exchanges the contents of two paramsets of the same registry (pointers
 * held elsewhere stay valid). Cannot fail: bs_config_load loads into a
 * clone and swaps it in only on success, so a bad file changes nothing. */
void bs_paramset_swap(bs_paramset *a, bs_paramset *b);

/* Parse text and set a value, checking type and range. `where` prefixes
 * error messages ("scen.ini:12" or "--set"). Never clamps: out of range,
 * NaN/inf, trailing junk and unknown names are errors, with the valid range
 * in the message. */
bs_status bs_paramset_set_text(bs_paramset *ps, const char *name, const char *text, const char *where, bs_error *err);

/* Getters by name; an unknown name is a programming error (abort with a
 * message), so every derive function is exercised by any run. */
double bs_param(const bs_paramset *ps, const char *name);
const char *bs_param_str(const bs_paramset *ps, const char *name); /* STRING or CHOICE text */
double bs_param_at(const bs_paramset *ps, size_t i);
const char *bs_param_str_at(const bs_paramset *ps, size_t i);
/* Set by code (viewer sliders, tests), range-checked. */
bs_status bs_param_set(bs_paramset *ps, const char *name, double value, bs_error *err);
/* Formats value i as it would be written in a scenario file. */
void bs_param_format(const bs_paramset *ps, size_t i, char *buf, size_t n);
/* Was value i set explicitly (file or --set), not left at its default? */
int bs_param_is_set(const bs_paramset *ps, size_t i);

#endif
