/* actions.c — live changes (therapy, inject, set, reset), their log
 * format and parser (see actions.h). */
#define _POSIX_C_SOURCE 200809L
#include "actions.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "celltypes.h"
#include "model.h"
#include "therapy.h"

static const bs_param_def live_params[] = {
    { "viewer.sliders", BS_PT_STRING, 0.0, 0.0, 0.0, "",
            "Parameters the live viewer offers as sliders, comma-separated registry names (e.g. "
            "\"dtc.prolif_per_d, oc.lifespan_d\"); ranges come from the registry. Presentation only",
            "", NULL },
    { "viewer.roi_um", BS_PT_STRING, 0.0, 0.0, 0.0, "",
            "Region of interest the live viewer's Z key frames and follows: \"x0, y0, x1, y1\" in um from the "
            "lattice's top-left corner; empty: the bounding box of the tumour cells (the lesion). Presentation only",
            "", NULL },
};

const bs_param_def *bs_live_params(size_t *n)
{
    *n = sizeof live_params / sizeof live_params[0];
    return live_params;
}

static const char *const kind_names[] = { "therapy", "inject", "set", "reset", "end" };

/* ---- parsing ---------------------------------------------------------------- */

#define MAX_TOK 8

/* Splits s (modified) on blanks; returns the number of tokens, or
 * MAX_TOK + 1 if there are more. */
static int tokenize(char *s, char **tok)
{
    int n = 0;
    char *p = s;
    for (;;) {
        while (*p == ' ' || *p == '\t' || *p == '\r') p++;
        if (!*p) return n;
        if (n == MAX_TOK) return MAX_TOK + 1;
        tok[n++] = p;
        while (*p && *p != ' ' && *p != '\t' && *p != '\r') p++;
        if (*p) *p++ = '\0';
    }
}

static int parse_u64(const char *s, uint64_t *out)
{
    if (!s[0]) return 0;
    uint64_t v = 0;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9') return 0;
        unsigned d = (unsigned)(*p - '0');
        if (v > (UINT64_MAX - d) / 10) return 0;
        v = v * 10 + d;
    }
    *out = v;
    return 1;
}

static int parse_int(const char *s, int lo, int hi, int *out)
{
    uint64_t v;
    if (!parse_u64(s, &v) || v < (uint64_t)lo || v > (uint64_t)hi) return 0;
    *out = (int)v;
    return 1;
}

static int find_cell_type(const char *name, size_t len)
{
    for (int t = 0; t < bs_celltype_count(); t++)
        if (strlen(bs_celltype_of(t)->name) == len && strncmp(bs_celltype_of(t)->name, name, len) == 0) return t;
    return -1;
}

static void list_cell_types(char *buf, size_t n)
{
    size_t k = 0;
    buf[0] = '\0';
    for (int t = 0; t < bs_celltype_count() && k < n; t++)
        k += (size_t)snprintf(buf + k, n - k, "%s%s", t ? ", " : "", bs_celltype_of(t)->name);
}

static void list_therapies(char *buf, size_t n)
{
    size_t k = 0;
    buf[0] = '\0';
    for (int t = 0; t < BS_THERAPY_COUNT && k < n; t++)
        k += (size_t)snprintf(buf + k, n - k, "%s%s", t ? ", " : "", bs_therapy_names[t]);
}

static int parse_cell(const char *s, const char *where, bs_action *a, bs_error *err)
{
    const char *dot = strchr(s, '.');
    size_t len = dot ? (size_t)(dot - s) : strlen(s);
    int t = find_cell_type(s, len);
    if (t < 0) {
        char valid[512];
        list_cell_types(valid, sizeof valid);
        bs_fail(err, BS_ERR_INVALID, "%s: unknown cell type '%.*s' (valid: %s)", where, (int)len, s, valid);
        return -1;
    }
    const bs_celltype *d = bs_celltype_of(t);
    int ns = d->n_states < 1 ? 1 : d->n_states, state = 0;
    if (dot) {
        const char *sn = dot + 1;
        state = -1;
        for (int k = 0; k < ns; k++)
            if (d->state_names[k] && strcmp(d->state_names[k], sn) == 0) state = k;
        if (state < 0 && !parse_int(sn, 0, ns - 1, &state)) {
            char valid[512];
            size_t k = 0;
            valid[0] = '\0';
            for (int j = 0; j < ns && k < sizeof valid; j++)
                k += (size_t)snprintf(valid + k, sizeof valid - k, "%s%s", j ? ", " : "",
                        d->state_names[j] ? d->state_names[j] : "?");
            bs_fail(err, BS_ERR_INVALID, "%s: cell type %s has no state '%s' (valid: %s, or 0 .. %d)", where, d->name,
                    sn, valid, ns - 1);
            return -1;
        }
    }
    a->id = t;
    a->on = state;
    return 0;
}

int bs_action_parse_line(const char *line, const char *where, bs_action *out, bs_error *err)
{
    char buf[512];
    size_t len = strlen(line);
    if (len >= sizeof buf) {
        bs_fail(err, BS_ERR_INVALID, "%s: line is %zu characters long (valid: at most %zu)", where, len,
                sizeof buf - 1);
        return -1;
    }
    memcpy(buf, line, len + 1);
    char *tok[MAX_TOK];
    int nt = tokenize(buf, tok);
    if (nt == 0 || tok[0][0] == '#') return 0;
    memset(out, 0, sizeof *out);
    if (nt > MAX_TOK) {
        bs_fail(err, BS_ERR_INVALID, "%s: too many fields (valid: STEP KIND ARGS, see actions.h)", where);
        return -1;
    }
    if (!parse_u64(tok[0], &out->step) || out->step > (1ULL << 53)) {
        bs_fail(err, BS_ERR_INVALID, "%s: '%s' is not a step number (valid: a whole number 0 .. 2^53)", where, tok[0]);
        return -1;
    }
    if (nt < 2) {
        bs_fail(err, BS_ERR_INVALID, "%s: step %s has no action (valid: therapy, inject, set, reset, end)", where,
                tok[0]);
        return -1;
    }
    int kind = -1;
    for (int k = 0; k < 5; k++)
        if (strcmp(tok[1], kind_names[k]) == 0) kind = k;
    static const int nargs[5] = { 2, 3, 2, 1, 0 };
    static const char *const usage[5] = { "STEP therapy NAME on|off", "STEP inject TYPE[.STATE] X Y",
        "STEP set NAME VALUE", "STEP reset SEED", "STEP end" };
    if (kind < 0) {
        bs_fail(err, BS_ERR_INVALID, "%s: unknown action '%s' (valid: therapy, inject, set, reset, end)", where,
                tok[1]);
        return -1;
    }
    if (nt - 2 != nargs[kind]) {
        bs_fail(err, BS_ERR_INVALID, "%s: %s takes %d argument%s, got %d (valid: %s)", where, kind_names[kind],
                nargs[kind], nargs[kind] == 1 ? "" : "s", nt - 2, usage[kind]);
        return -1;
    }
    out->kind = (bs_action_kind)kind;
    char **arg = tok + 2;
    switch (out->kind) {
    case BS_ACT_THERAPY: {
        out->id = bs_therapy_find(arg[0]);
        if (out->id < 0) {
            char valid[512];
            list_therapies(valid, sizeof valid);
            bs_fail(err, BS_ERR_INVALID, "%s: unknown therapy '%s' (valid: %s)", where, arg[0], valid);
            return -1;
        }
        if (strcmp(arg[1], "on") == 0)
            out->on = 1;
        else if (strcmp(arg[1], "off") == 0)
            out->on = 0;
        else {
            bs_fail(err, BS_ERR_INVALID, "%s: therapy switch '%s' (valid: on, off)", where, arg[1]);
            return -1;
        }
        break;
    }
    case BS_ACT_INJECT:
        if (parse_cell(arg[0], where, out, err) != 0) return -1;
        if (!parse_int(arg[1], 0, 1 << 20, &out->x) || !parse_int(arg[2], 0, 1 << 20, &out->y)) {
            bs_fail(err, BS_ERR_INVALID, "%s: site '%s %s' (valid: whole numbers X Y, 0 .. lattice size - 1)", where,
                    arg[1], arg[2]);
            return -1;
        }
        break;
    case BS_ACT_SET: {
        if (strlen(arg[0]) >= BS_ACTION_NAME_MAX || !strchr(arg[0], '.')) {
            bs_fail(err, BS_ERR_INVALID, "%s: '%s' is not a parameter name (valid: section.key, see bonesim params)",
                    where, arg[0]);
            return -1;
        }
        snprintf(out->name, sizeof out->name, "%s", arg[0]);
        char *end;
        errno = 0;
        out->value = strtod(arg[1], &end);
        if (end == arg[1] || *end || errno || !isfinite(out->value)) {
            bs_fail(err, BS_ERR_INVALID, "%s: value '%s' of %s is not a finite number", where, arg[1], arg[0]);
            return -1;
        }
        break;
    }
    case BS_ACT_RESET: {
        uint64_t seed;
        if (!parse_u64(arg[0], &seed) || seed > 9007199254740991ULL) {
            bs_fail(err, BS_ERR_INVALID, "%s: seed '%s' (valid: a whole number 0 .. 9007199254740991)", where, arg[0]);
            return -1;
        }
        out->value = (double)seed;
        break;
    }
    case BS_ACT_END: break;
    }
    return 1;
}

void bs_action_log_free(bs_action_log *log)
{
    free(log->a);
    log->a = NULL;
    log->n = log->cap = 0;
}

bs_status bs_action_log_read(const char *path, bs_action_log *log, bs_error *err)
{
    memset(log, 0, sizeof *log);
    snprintf(log->path, sizeof log->path, "%s", path);
    FILE *f = fopen(path, "r");
    if (!f) return bs_fail(err, BS_ERR_IO, "%s: cannot read (%s)", path, strerror(errno));
    char *line = NULL, where[1100];
    size_t linecap = 0;
    ssize_t got;
    int lineno = 0, ended = 0;
    uint64_t last_step = 0;
    bs_status st = BS_OK;
    while ((got = getline(&line, &linecap, f)) >= 0) {
        lineno++;
        snprintf(where, sizeof where, "%s:%d", path, lineno);
        size_t len = (size_t)got;
        if (len && line[len - 1] == '\n') line[--len] = '\0';
        if (strlen(line) != len) {
            st = bs_fail(err, BS_ERR_INVALID, "%s: NUL byte in the line (valid: text)", where);
            break;
        }
        bs_action a;
        int r = bs_action_parse_line(line, where, &a, err);
        if (r < 0) {
            st = BS_ERR_INVALID;
            break;
        }
        if (r == 0) continue;
        if (ended) {
            st = bs_fail(err, BS_ERR_INVALID, "%s: action after 'end' (valid: end is the last action)", where);
            break;
        }
        if (a.step < last_step) {
            st = bs_fail(err, BS_ERR_INVALID,
                    "%s: step %llu is before the previous action's step %llu (valid: steps never decrease "
                    "between resets)",
                    where, (unsigned long long)a.step, (unsigned long long)last_step);
            break;
        }
        a.line = lineno;
        last_step = a.kind == BS_ACT_RESET ? 0 : a.step;
        ended = a.kind == BS_ACT_END;
        if (log->n == log->cap) {
            size_t cap = log->cap ? 2 * log->cap : 64;
            bs_action *na = realloc(log->a, cap * sizeof *na);
            if (!na) {
                st = bs_fail(err, BS_ERR_NOMEM, "%s: out of memory", where);
                break;
            }
            log->a = na;
            log->cap = cap;
        }
        log->a[log->n++] = a;
    }
    if (st == BS_OK && ferror(f)) st = bs_fail(err, BS_ERR_IO, "%s: read error", path);
    free(line);
    fclose(f);
    if (st != BS_OK) bs_action_log_free(log);
    return st;
}

void bs_action_format(const bs_action *a, char *buf, size_t n)
{
    unsigned long long s = (unsigned long long)a->step;
    switch (a->kind) {
    case BS_ACT_THERAPY:
        snprintf(buf, n, "%llu therapy %s %s\n", s, bs_therapy_names[a->id], a->on ? "on" : "off");
        break;
    case BS_ACT_INJECT: {
        const bs_celltype *d = bs_celltype_of(a->id);
        if (d->n_states > 1 && d->state_names[a->on])
            snprintf(buf, n, "%llu inject %s.%s %d %d\n", s, d->name, d->state_names[a->on], a->x, a->y);
        else
            snprintf(buf, n, "%llu inject %s %d %d\n", s, d->name, a->x, a->y);
        break;
    }
    case BS_ACT_SET:
        /* %.17g round-trips a double exactly; the C locale's '.' is assumed
         * (the viewer never calls setlocale). */
        snprintf(buf, n, "%llu set %s %.17g\n", s, a->name, a->value);
        break;
    case BS_ACT_RESET: snprintf(buf, n, "%llu reset %.0f\n", s, a->value); break;
    case BS_ACT_END: snprintf(buf, n, "%llu end\n", s); break;
    }
}

void bs_action_log_replay_plan(const bs_action_log *log, size_t *first, long long *seed, long long *end_step)
{
    *first = 0;
    *seed = -1;
    *end_step = -1;
    for (size_t i = 0; i < log->n; i++) {
        if (log->a[i].kind == BS_ACT_RESET) {
            *first = i + 1;
            *seed = (long long)log->a[i].value;
        }
        if (log->a[i].kind == BS_ACT_END) *end_step = (long long)log->a[i].step;
    }
}

/* ---- applying ----------------------------------------------------------------- */

int bs_action_can_inject(const bs_model *m, int x, int y)
{
    if (x < 0 || y < 0 || x >= m->lat.w || y >= m->lat.h) return 0;
    int i = y * m->lat.w + x;
    return m->lat.tissue[i] == BS_TISSUE_MARROW && m->store.occ[i] < 0;
}

bs_status bs_action_apply(bs_model *m, const bs_action *a, bs_error *err)
{
    switch (a->kind) {
    case BS_ACT_THERAPY:
        if (a->id < 0 || a->id >= BS_THERAPY_COUNT)
            return bs_fail(err, BS_ERR_INVALID, "therapy %d (valid: 0 .. %d)", a->id, BS_THERAPY_COUNT - 1);
        bs_therapy_switch(m, (bs_therapy_id)a->id, a->on);
        return BS_OK;
    case BS_ACT_INJECT: {
        if (a->id < 0 || a->id >= bs_celltype_count())
            return bs_fail(err, BS_ERR_INVALID, "cell type %d (valid: 0 .. %d)", a->id, bs_celltype_count() - 1);
        if (a->x >= m->lat.w || a->y >= m->lat.h)
            return bs_fail(err, BS_ERR_INVALID,
                    "inject at site %d %d: outside the %d x %d lattice (valid: 0 .. %d, "
                    "0 .. %d)",
                    a->x, a->y, m->lat.w, m->lat.h, m->lat.w - 1, m->lat.h - 1);
        if (!bs_action_can_inject(m, a->x, a->y))
            return bs_fail(err, BS_ERR_INVALID,
                    "inject at site %d %d: not a free marrow site at step %llu (valid: "
                    "marrow without a cell)",
                    a->x, a->y, (unsigned long long)m->step);
        int i = a->y * m->lat.w + a->x;
        /* One injection per site and step, so (site, step) makes the id. */
        uint64_t id = bs_store_child_id((uint64_t)i ^ 0x696e6a6563740000ULL, m->step, (uint32_t)a->id);
        int slot = bs_store_spawn(&m->store, i, (uint8_t)a->id, (uint8_t)a->on, id);
        if (slot < 0) return bs_fail(err, BS_ERR_NOMEM, "inject at site %d %d: the agent store is full", a->x, a->y);
        return BS_OK;
    }
    case BS_ACT_SET: return bs_model_set_param(m, a->name, a->value, err);
    case BS_ACT_RESET:
    case BS_ACT_END: break;
    }
    return bs_fail(err, BS_ERR_INVALID, "%s is not applied to a model (the run loop handles it)", kind_names[a->kind]);
}
