#include "params.h"

#include <ctype.h>
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Longest STRING value (paths, descriptions). A fixed bound keeps error
 * messages and manifests predictable; 1023 leaves room for the NUL in a
 * 1024-byte buffer. */
#define BS_PARAM_STR_MAX 1023

/* Integers are stored in a double, which is exact only up to 2^53. */
#define BS_PARAM_INT_LIMIT 9007199254740992.0

/* Edit distance that still counts as a likely typo in a suggestion. */
#define BS_SUGGEST_MAX_DIST 2

/* Names longer than this are not compared for suggestions (the distance
 * rows live on the stack). Real names are far shorter. */
#define BS_SUGGEST_MAX_LEN 127

struct bs_registry {
    /* Lookup is a linear scan: the registry has a few hundred entries and
     * is only searched during set-up (loading scenarios, derive
     * functions), never in the step loop, so a hash would buy nothing. */
    const bs_param_def **defs;
    size_t n, cap;
};

struct bs_paramset {
    const bs_registry *reg;
    size_t n; /* registry count when created; later tables are not covered */
    double *val; /* REAL/INT/BOOL value, CHOICE index; unused for STRING */
    char **str; /* STRING value owned here, or NULL for the default */
    unsigned char *set; /* 1 where a file, --set or code assigned the value */
};

/* ---- internal errors --------------------------------------------------- */

/* Misuse by code (unknown name in a getter, wrong type, bad index) aborts:
 * a derive function that reads a parameter that does not exist must fail on
 * the first run, not return a silent default. */
static _Noreturn void bs_param_die(const char *what, const char *name)
{
    fprintf(stderr, "bonesim: internal error: %s %s\n", what, name);
    abort();
}

/* ---- number formatting ------------------------------------------------- */

/* Shortest "%.Pg" (P >= 6) that reads back to exactly v. Starting at 6
 * keeps the familiar %g look ("0.25", "14") for values that round-trip;
 * values like 0.1+0.2 get the digits they need, at most 17. */
static void bs_fmt_real(char *buf, size_t n, double v)
{
    char tmp[64];
    for (int p = 6; p <= 17; p++) {
        snprintf(tmp, sizeof tmp, "%.*g", p, v);
        if (strtod(tmp, NULL) == v) break;
    }
    snprintf(buf, n, "%s", tmp);
}

/* The range part of messages: "5 .. 25 d". A unit of "1" (dimensionless)
 * or "" says nothing to the reader, so it is left out. */
static void bs_fmt_range(char *buf, size_t n, const bs_param_def *d)
{
    char lo[64], hi[64];
    if (d->type == BS_PT_INT) {
        snprintf(lo, sizeof lo, "%.0f", d->min);
        snprintf(hi, sizeof hi, "%.0f", d->max);
    } else {
        bs_fmt_real(lo, sizeof lo, d->min);
        bs_fmt_real(hi, sizeof hi, d->max);
    }
    int has_unit = d->unit && d->unit[0] && strcmp(d->unit, "1") != 0;
    snprintf(buf, n, "%s .. %s%s%s", lo, hi, has_unit ? " " : "", has_unit ? d->unit : "");
}

/* "a, b, c" for CHOICE messages. */
static void bs_fmt_choices(char *buf, size_t n, const bs_param_def *d)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t k = 0; d->choices && d->choices[k]; k++) {
        int w = snprintf(buf + used, n - used, "%s%s", k ? ", " : "", d->choices[k]);
        if (w < 0 || (size_t)w >= n - used) break; /* truncated: message stays readable */
        used += (size_t)w;
    }
}

/* "WHERE: " or nothing when called from code without a location. */
static const char *bs_where_sep(const char *where)
{
    return (where && where[0]) ? ": " : "";
}

static const char *bs_where_str(const char *where)
{
    return (where && where[0]) ? where : "";
}

/* ---- registry ---------------------------------------------------------- */

bs_registry *bs_registry_create(void)
{
    return calloc(1, sizeof(bs_registry));
}

void bs_registry_destroy(bs_registry *reg)
{
    if (!reg) return;
    free(reg->defs);
    free(reg);
}

static size_t bs_choice_count(const bs_param_def *d)
{
    size_t k = 0;
    while (d->choices && d->choices[k]) k++;
    return k;
}

/* Table mistakes are programming errors, but they are caught here with a
 * message rather than later as a baffling "out of range" on a default. */
static bs_status bs_def_check(const bs_param_def *d, bs_error *err)
{
    if (!d->name || !d->name[0]) return bs_fail(err, BS_ERR_INTERNAL, "parameter definition without a name");
    switch (d->type) {
    case BS_PT_REAL:
    case BS_PT_INT:
        if (!isfinite(d->min) || !isfinite(d->max) || d->min > d->max)
            return bs_fail(err, BS_ERR_INTERNAL, "parameter '%s': invalid range", d->name);
        if (!(d->def >= d->min && d->def <= d->max))
            return bs_fail(err, BS_ERR_INTERNAL, "parameter '%s': default outside its range", d->name);
        if (d->type == BS_PT_INT &&
                (d->def != floor(d->def) || d->min != floor(d->min) || d->max != floor(d->max) ||
                        fabs(d->min) > BS_PARAM_INT_LIMIT || fabs(d->max) > BS_PARAM_INT_LIMIT))
            return bs_fail(err, BS_ERR_INTERNAL, "parameter '%s': non-integer INT bounds", d->name);
        break;
    case BS_PT_BOOL:
        if (d->def != 0.0 && d->def != 1.0)
            return bs_fail(err, BS_ERR_INTERNAL, "parameter '%s': BOOL default must be 0 or 1", d->name);
        break;
    case BS_PT_CHOICE: {
        size_t nc = bs_choice_count(d);
        if (nc == 0) return bs_fail(err, BS_ERR_INTERNAL, "parameter '%s': CHOICE without choices", d->name);
        if (!(d->def >= 0.0 && d->def < (double)nc && d->def == floor(d->def)))
            return bs_fail(err, BS_ERR_INTERNAL, "parameter '%s': default is not a choice index", d->name);
        break;
    }
    case BS_PT_STRING:
        if (d->def_str && strlen(d->def_str) > BS_PARAM_STR_MAX)
            return bs_fail(err, BS_ERR_INTERNAL, "parameter '%s': default string too long", d->name);
        break;
    default: return bs_fail(err, BS_ERR_INTERNAL, "parameter '%s': unknown type", d->name);
    }
    return BS_OK;
}

bs_status bs_registry_add(bs_registry *reg, const bs_param_def *defs, size_t n, bs_error *err)
{
    if (!reg || (n && !defs)) return bs_fail(err, BS_ERR_INTERNAL, "bs_registry_add: NULL argument");

    /* Check the whole table first so a failed add leaves the registry as
     * it was. */
    for (size_t i = 0; i < n; i++) {
        bs_status st = bs_def_check(&defs[i], err);
        if (st != BS_OK) return st;
        if (bs_registry_find(reg, defs[i].name) >= 0)
            return bs_fail(err, BS_ERR_INTERNAL, "duplicate parameter '%s'", defs[i].name);
        for (size_t j = 0; j < i; j++)
            if (strcmp(defs[i].name, defs[j].name) == 0)
                return bs_fail(err, BS_ERR_INTERNAL, "duplicate parameter '%s'", defs[i].name);
    }

    if (reg->n + n > reg->cap) {
        size_t cap = reg->cap ? reg->cap : 64;
        while (cap < reg->n + n) cap *= 2;
        const bs_param_def **p = realloc(reg->defs, cap * sizeof *p);
        if (!p) return bs_fail(err, BS_ERR_NOMEM, "out of memory adding parameters");
        reg->defs = p;
        reg->cap = cap;
    }
    for (size_t i = 0; i < n; i++) reg->defs[reg->n++] = &defs[i];
    return BS_OK;
}

size_t bs_registry_count(const bs_registry *reg)
{
    return reg ? reg->n : 0;
}

const bs_param_def *bs_registry_at(const bs_registry *reg, size_t i)
{
    return (reg && i < reg->n) ? reg->defs[i] : NULL;
}

long bs_registry_find(const bs_registry *reg, const char *name)
{
    if (!reg || !name) return -1;
    for (size_t i = 0; i < reg->n; i++)
        if (strcmp(reg->defs[i]->name, name) == 0) return (long)i;
    return -1;
}

/* ---- suggestions for unknown names ------------------------------------- */

/* Optimal string alignment distance (Levenshtein plus adjacent
 * transpositions), so "lifsepan" is one edit from "lifespan", as a human
 * would count it. Returns a large value for names too long to compare. */
static size_t bs_edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > BS_SUGGEST_MAX_LEN || lb > BS_SUGGEST_MAX_LEN) return (size_t)-1;
    size_t rows[3][BS_SUGGEST_MAX_LEN + 2];
    size_t *pp = rows[0], *prev = rows[1], *cur = rows[2];
    for (size_t j = 0; j <= lb; j++) prev[j] = j;
    for (size_t i = 1; i <= la; i++) {
        cur[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
            size_t best = prev[j] + 1;
            if (cur[j - 1] + 1 < best) best = cur[j - 1] + 1;
            if (prev[j - 1] + cost < best) best = prev[j - 1] + cost;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] && pp[j - 2] + 1 < best)
                best = pp[j - 2] + 1;
            cur[j] = best;
        }
        size_t *t = pp;
        pp = prev;
        prev = cur;
        cur = t;
    }
    return prev[lb];
}

static const char *bs_key_part(const char *name)
{
    const char *dot = strrchr(name, '.');
    return dot ? dot + 1 : name;
}

/* The registered name the user most likely meant, or NULL. A close
 * spelling wins; failing that, the same key in another section catches
 * "[ob] lifespan_d" written where "[oc]" was meant. */
static const char *bs_suggest(const bs_registry *reg, const char *name)
{
    const char *best = NULL;
    size_t best_d = BS_SUGGEST_MAX_DIST + 1;
    for (size_t i = 0; i < reg->n; i++) {
        size_t d = bs_edit_distance(name, reg->defs[i]->name);
        if (d < best_d) {
            best_d = d;
            best = reg->defs[i]->name;
        }
    }
    if (best) return best;
    const char *key = bs_key_part(name);
    for (size_t i = 0; i < reg->n; i++)
        if (strcmp(bs_key_part(reg->defs[i]->name), key) == 0) return reg->defs[i]->name;
    return NULL;
}

/* Length of the section part of a name ("dtc" of "dtc.seed_n", "" of a
 * name without a dot). */
static size_t bs_section_len(const char *name)
{
    const char *dot = strrchr(name, '.');
    return dot ? (size_t)(dot - name) : 0;
}

static int bs_same_section(const char *a, const char *b)
{
    size_t la = bs_section_len(a), lb = bs_section_len(b);
    return la == lb && strncmp(a, b, la) == 0;
}

/* Up to BS_LIST_MAX keys of one section, or sections, for an unknown
 * name: all of them when there are few, else the nearest by edit
 * distance (ties in registry order). */
#define BS_LIST_MAX 8

/* Appends "a, b, c" of the BS_LIST_MAX entries of cand[] (n of them)
 * nearest to `want`; returns how many were left out. */
static size_t bs_fmt_nearest(char *buf, size_t cap, const char *const *cand, size_t n, const char *want)
{
    size_t dist[BS_LIST_MAX], pick[BS_LIST_MAX], k = 0;
    for (size_t i = 0; i < n; i++) {
        size_t d = n <= BS_LIST_MAX ? i : bs_edit_distance(want, cand[i]);
        /* insertion into the sorted best list */
        size_t pos = k;
        while (pos > 0 && dist[pos - 1] > d) pos--;
        if (pos >= BS_LIST_MAX) continue;
        size_t last = k < BS_LIST_MAX ? k : BS_LIST_MAX - 1;
        for (size_t j = last; j > pos; j--) {
            dist[j] = dist[j - 1];
            pick[j] = pick[j - 1];
        }
        dist[pos] = d;
        pick[pos] = i;
        if (k < BS_LIST_MAX) k++;
    }
    size_t used = strlen(buf);
    for (size_t j = 0; j < k; j++) {
        int w = snprintf(buf + used, cap - used, "%s%s", j ? ", " : "", cand[pick[j]]);
        if (w < 0 || (size_t)w >= cap - used) break;
        used += (size_t)w;
    }
    return n - k;
}

static bs_status bs_fail_unknown(const bs_registry *reg, const char *name, const char *where, bs_error *err)
{
    const char *W = bs_where_str(where), *S = bs_where_sep(where);
    const char *s = bs_suggest(reg, name);
    if (s) return bs_fail(err, BS_ERR_INVALID, "%s%sunknown parameter '%s' (did you mean '%s'?)", W, S, name, s);

    /* No likely typo: the keys of the section, or the nearest sections. */
    const char **cand = malloc((reg->n + 1) * sizeof *cand);
    if (!cand) return bs_fail(err, BS_ERR_INVALID, "%s%sunknown parameter '%s'", W, S, name);
    size_t n = 0, sl = bs_section_len(name);
    for (size_t i = 0; i < reg->n; i++)
        if (bs_same_section(reg->defs[i]->name, name)) cand[n++] = bs_key_part(reg->defs[i]->name);
    char list[640] = "";
    bs_status st;
    if (n > 0) {
        size_t more = bs_fmt_nearest(list, sizeof list, cand, n, bs_key_part(name));
        char tail[96] = "";
        if (more) snprintf(tail, sizeof tail, "; %zu more: bonesim params lists them", more);
        char sec[BS_SUGGEST_MAX_LEN + 24];
        if (sl == 0)
            snprintf(sec, sizeof sec, "before the first [section]");
        else
            snprintf(sec, sizeof sec, "in [%.*s]", (int)(sl < BS_SUGGEST_MAX_LEN ? sl : BS_SUGGEST_MAX_LEN), name);
        st = bs_fail(err, BS_ERR_INVALID, "%s%sunknown parameter '%s' (%s keys %s: %s%s)", W, S, name,
                more ? "nearest" : "valid", sec, list, tail);
    } else {
        /* distinct sections, in registry order */
        char *names = malloc((reg->n + 1) * (BS_SUGGEST_MAX_LEN + 1));
        if (!names) {
            free(cand);
            return bs_fail(err, BS_ERR_INVALID, "%s%sunknown parameter '%s'", W, S, name);
        }
        char want[BS_SUGGEST_MAX_LEN + 1];
        snprintf(want, sizeof want, "%.*s", (int)sl, name);
        for (size_t i = 0; i < reg->n; i++) {
            const char *d = reg->defs[i]->name;
            size_t dl = bs_section_len(d);
            if (dl == 0 || dl > BS_SUGGEST_MAX_LEN) continue;
            size_t j = 0;
            while (j < n && !(strlen(cand[j]) == dl && strncmp(cand[j], d, dl) == 0)) j++;
            if (j < n) continue;
            char *slot = names + n * (BS_SUGGEST_MAX_LEN + 1);
            memcpy(slot, d, dl);
            slot[dl] = '\0';
            cand[n++] = slot;
        }
        size_t more = bs_fmt_nearest(list, sizeof list, cand, n, want);
        if (sl == 0)
            st = bs_fail(err, BS_ERR_INVALID,
                    "%s%sunknown parameter '%s' (every parameter is in a section: [section] then key = value; "
                    "sections: %s%s)",
                    W, S, name, list, more ? ", ..." : "");
        else
            st = bs_fail(err, BS_ERR_INVALID, "%s%sunknown parameter '%s': there is no section [%s] (%s: %s%s)", W, S,
                    name, want, more ? "nearest sections" : "sections", list, more ? ", ..." : "");
        free(names);
    }
    free(cand);
    return st;
}

/* ---- paramset ---------------------------------------------------------- */

static bs_paramset *bs_paramset_alloc(const bs_registry *reg, size_t n)
{
    bs_paramset *ps = calloc(1, sizeof *ps);
    if (!ps) return NULL;
    ps->reg = reg;
    ps->n = n;
    /* n + 1 so an empty registry still gets real (non-NULL) arrays. */
    ps->val = calloc(n + 1, sizeof *ps->val);
    ps->str = calloc(n + 1, sizeof *ps->str);
    ps->set = calloc(n + 1, sizeof *ps->set);
    if (!ps->val || !ps->str || !ps->set) {
        bs_paramset_destroy(ps);
        return NULL;
    }
    return ps;
}

bs_paramset *bs_paramset_create(const bs_registry *reg)
{
    if (!reg) return NULL;
    bs_paramset *ps = bs_paramset_alloc(reg, reg->n);
    if (!ps) return NULL;
    for (size_t i = 0; i < ps->n; i++) ps->val[i] = reg->defs[i]->def;
    return ps;
}

void bs_paramset_destroy(bs_paramset *ps)
{
    if (!ps) return;
    if (ps->str)
        for (size_t i = 0; i < ps->n; i++) free(ps->str[i]);
    free(ps->val);
    free(ps->str);
    free(ps->set);
    free(ps);
}

static char *bs_strdup(const char *s)
{
    size_t len = strlen(s);
    char *p = malloc(len + 1);
    if (p) memcpy(p, s, len + 1);
    return p;
}

bs_paramset *bs_paramset_clone(const bs_paramset *ps)
{
    if (!ps) return NULL;
    bs_paramset *c = bs_paramset_alloc(ps->reg, ps->n);
    if (!c) return NULL;
    memcpy(c->val, ps->val, ps->n * sizeof *c->val);
    memcpy(c->set, ps->set, ps->n * sizeof *c->set);
    for (size_t i = 0; i < ps->n; i++) {
        if (ps->str[i] && !(c->str[i] = bs_strdup(ps->str[i]))) {
            bs_paramset_destroy(c);
            return NULL;
        }
    }
    return c;
}

void bs_paramset_swap(bs_paramset *a, bs_paramset *b)
{
    if (a->reg != b->reg || a->n != b->n) bs_param_die("bs_paramset_swap:", "paramsets of different registries");
    bs_paramset t = *a;
    *a = *b;
    *b = t;
}

const bs_registry *bs_paramset_registry(const bs_paramset *ps)
{
    return ps ? ps->reg : NULL;
}

/* ---- parsing ----------------------------------------------------------- */

/* What bs_parse_real found. */
enum { BS_NUM_BAD = 0, BS_NUM_OK = 1, BS_NUM_HEX = 2, BS_NUM_UNDERFLOW = 3 };

/* Parses a double; the whole (trimmed) text must be consumed. The C locale
 * is assumed (bonesim never calls setlocale), so '.' is the decimal point in
 * files on every machine. Infinities and NaN parse (bs_check_number refuses
 * them with the range). Refused: hexadecimal and hex floats ("0x10",
 * "0x1p3"), which strtod reads but nobody means in a scenario, and values
 * that underflow (1e-400 would silently become 0, 1e-310 a number of
 * reduced precision): 0 is written as 0. */
static int bs_parse_real(const char *s, double *out)
{
    if (!s[0]) return BS_NUM_BAD;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end != '\0') return BS_NUM_BAD;
    if (isfinite(v) && strpbrk(s, "xX")) return BS_NUM_HEX;
    if (errno == ERANGE && isfinite(v) && fabs(v) < DBL_MIN) return BS_NUM_UNDERFLOW;
    *out = v;
    return BS_NUM_OK;
}

static int bs_ieq(const char *a, const char *b)
{
    for (; *a && *b; a++, b++)
        if (tolower((unsigned char)*a) != tolower((unsigned char)*b)) return 0;
    return *a == *b;
}

static int bs_parse_bool(const char *s, double *out)
{
    static const char *const yes[] = { "1", "true", "yes", "on" };
    static const char *const no[] = { "0", "false", "no", "off" };
    for (size_t k = 0; k < sizeof yes / sizeof yes[0]; k++) {
        if (bs_ieq(s, yes[k])) {
            *out = 1.0;
            return 1;
        }
        if (bs_ieq(s, no[k])) {
            *out = 0.0;
            return 1;
        }
    }
    return 0;
}

/* Validates a number for definition d (already parsed, finite or not) and
 * writes the message that names the valid range. `shown` is how the value
 * is echoed back: the user's own text where there is one. */
static bs_status bs_check_number(const bs_param_def *d, double v, const char *shown, const char *where, bs_error *err)
{
    char range[160];
    bs_fmt_range(range, sizeof range, d);
    if (!isfinite(v))
        return bs_fail(err, BS_ERR_INVALID, "%s%s%s = '%s' is not a finite number (valid: %s)", bs_where_str(where),
                bs_where_sep(where), d->name, shown, range);
    if (d->type == BS_PT_INT && v != floor(v))
        return bs_fail(err, BS_ERR_INVALID, "%s%s%s = %s is not an integer (valid: %s)", bs_where_str(where),
                bs_where_sep(where), d->name, shown, range);
    if (v < d->min || v > d->max)
        return bs_fail(err, BS_ERR_INVALID, "%s%s%s = %s is out of range (valid: %s)", bs_where_str(where),
                bs_where_sep(where), d->name, shown, range);
    return BS_OK;
}

static void bs_set_string(bs_paramset *ps, size_t i, char *owned)
{
    free(ps->str[i]);
    ps->str[i] = owned;
    ps->set[i] = 1;
}

/* Index of name in ps, -1 if unknown, -2 if it belongs to a table added
 * to the registry after ps was created (a set-up order bug: the paramset's
 * arrays do not cover it). */
static long bs_lookup(const bs_paramset *ps, const char *name)
{
    long i = bs_registry_find(ps->reg, name);
    if (i >= 0 && (size_t)i >= ps->n) return -2;
    return i;
}

/* The error for a failed bs_lookup. */
static bs_status bs_fail_lookup(const bs_paramset *ps, long idx, const char *name, const char *where, bs_error *err)
{
    if (idx == -2)
        return bs_fail(err, BS_ERR_INTERNAL, "%s%sparameter '%s' was registered after this paramset was created",
                bs_where_str(where), bs_where_sep(where), name);
    return bs_fail_unknown(ps->reg, name, where, err);
}

bs_status bs_paramset_set_text(bs_paramset *ps, const char *name, const char *text, const char *where, bs_error *err)
{
    if (!ps || !name || !text) return bs_fail(err, BS_ERR_INTERNAL, "bs_paramset_set_text: NULL argument");
    long idx = bs_lookup(ps, name);
    if (idx < 0) return bs_fail_lookup(ps, idx, name, where, err);
    size_t i = (size_t)idx;
    const bs_param_def *d = ps->reg->defs[i];
    const char *W = bs_where_str(where), *S = bs_where_sep(where);

    if (d->type == BS_PT_STRING) {
        /* Free text is kept verbatim: the caller (INI reader, --set)
         * already trimmed what it considers surrounding whitespace. */
        if (strlen(text) > BS_PARAM_STR_MAX)
            return bs_fail(err, BS_ERR_INVALID, "%s%s%s is too long (valid: at most %d characters)", W, S, name,
                    BS_PARAM_STR_MAX);
        char *copy = bs_strdup(text);
        if (!copy) return bs_fail(err, BS_ERR_NOMEM, "%s%sout of memory setting %s", W, S, name);
        bs_set_string(ps, i, copy);
        return BS_OK;
    }

    /* Trim so " 5" and "5 " are treated alike (strtod alone would accept
     * the first and reject the second). */
    char buf[BS_PARAM_STR_MAX + 1];
    while (isspace((unsigned char)*text)) text++;
    size_t len = strlen(text);
    while (len && isspace((unsigned char)text[len - 1])) len--;
    if (len > BS_PARAM_STR_MAX)
        return bs_fail(err, BS_ERR_INVALID, "%s%s%s: value is too long (valid: at most %d characters)", W, S, name,
                BS_PARAM_STR_MAX);
    memcpy(buf, text, len);
    buf[len] = '\0';

    char valid[512];
    double v;
    switch (d->type) {
    case BS_PT_REAL:
    case BS_PT_INT:
        bs_fmt_range(valid, sizeof valid, d);
        if (!buf[0]) return bs_fail(err, BS_ERR_INVALID, "%s%s%s has no value (valid: %s)", W, S, name, valid);
        switch (bs_parse_real(buf, &v)) {
        case BS_NUM_OK: break;
        case BS_NUM_HEX:
            return bs_fail(err, BS_ERR_INVALID, "%s%s%s = '%s' is hexadecimal (valid: a decimal number, %s)", W, S,
                    name, buf, valid);
        case BS_NUM_UNDERFLOW:
            return bs_fail(err, BS_ERR_INVALID,
                    "%s%s%s = '%s' underflows (below %g, it would not be read exactly; write 0 for zero; valid: %s)", W,
                    S, name, buf, DBL_MIN, valid);
        default:
            return bs_fail(err, BS_ERR_INVALID, "%s%s%s = '%s' is not a number (valid: %s)", W, S, name, buf, valid);
        }
        {
            bs_status st = bs_check_number(d, v, buf, where, err);
            if (st != BS_OK) return st;
        }
        break;
    case BS_PT_BOOL:
        if (!bs_parse_bool(buf, &v))
            return bs_fail(err, BS_ERR_INVALID,
                    "%s%s%s = '%s' is not a boolean (valid: true, false, yes, no, on, off, "
                    "1, 0)",
                    W, S, name, buf);
        break;
    case BS_PT_CHOICE: {
        size_t k = 0;
        while (d->choices[k] && strcmp(d->choices[k], buf) != 0) k++;
        if (!d->choices[k]) {
            bs_fmt_choices(valid, sizeof valid, d);
            return bs_fail(
                    err, BS_ERR_INVALID, "%s%s%s = '%s' is not a valid choice (valid: %s)", W, S, name, buf, valid);
        }
        v = (double)k;
        break;
    }
    default: return bs_fail(err, BS_ERR_INTERNAL, "%s%s%s has an unknown type", W, S, name);
    }
    ps->val[i] = v;
    ps->set[i] = 1;
    return BS_OK;
}

bs_status bs_param_set(bs_paramset *ps, const char *name, double value, bs_error *err)
{
    if (!ps || !name) return bs_fail(err, BS_ERR_INTERNAL, "bs_param_set: NULL argument");
    long idx = bs_lookup(ps, name);
    if (idx < 0) return bs_fail_lookup(ps, idx, name, NULL, err);
    const bs_param_def *d = ps->reg->defs[idx];
    char shown[64];
    bs_fmt_real(shown, sizeof shown, value);

    switch (d->type) {
    case BS_PT_REAL:
    case BS_PT_INT: {
        bs_status st = bs_check_number(d, value, shown, NULL, err);
        if (st != BS_OK) return st;
        break;
    }
    case BS_PT_BOOL:
        if (value != 0.0 && value != 1.0)
            return bs_fail(err, BS_ERR_INVALID, "%s = %s is not a boolean (valid: 0, 1)", name, shown);
        break;
    case BS_PT_CHOICE: {
        size_t nc = bs_choice_count(d);
        if (!(value >= 0.0 && value < (double)nc && value == floor(value))) {
            char valid[512];
            bs_fmt_choices(valid, sizeof valid, d);
            return bs_fail(err, BS_ERR_INVALID, "%s = %s is not a choice index (valid: 0 .. %zu for %s)", name, shown,
                    nc - 1, valid);
        }
        break;
    }
    default: return bs_fail(err, BS_ERR_INVALID, "%s is a string parameter; set it as text", name);
    }
    ps->val[idx] = value;
    ps->set[idx] = 1;
    return BS_OK;
}

/* ---- getters ----------------------------------------------------------- */

double bs_param_at(const bs_paramset *ps, size_t i)
{
    if (!ps || i >= ps->n) bs_param_die("parameter index out of range in", "bs_param_at");
    if (ps->reg->defs[i]->type == BS_PT_STRING)
        bs_param_die("numeric read of string parameter", ps->reg->defs[i]->name);
    return ps->val[i];
}

const char *bs_param_str_at(const bs_paramset *ps, size_t i)
{
    if (!ps || i >= ps->n) bs_param_die("parameter index out of range in", "bs_param_str_at");
    const bs_param_def *d = ps->reg->defs[i];
    if (d->type == BS_PT_CHOICE) return d->choices[(size_t)ps->val[i]];
    if (d->type != BS_PT_STRING) bs_param_die("text read of numeric parameter", d->name);
    if (ps->str[i]) return ps->str[i];
    return d->def_str ? d->def_str : "";
}

double bs_param(const bs_paramset *ps, const char *name)
{
    long i = ps && name ? bs_lookup(ps, name) : -1;
    if (i == -2) bs_param_die("parameter registered after the paramset was created:", name);
    if (i < 0) bs_param_die("unknown parameter", name ? name : "(null)");
    return bs_param_at(ps, (size_t)i);
}

const char *bs_param_str(const bs_paramset *ps, const char *name)
{
    long i = ps && name ? bs_lookup(ps, name) : -1;
    if (i == -2) bs_param_die("parameter registered after the paramset was created:", name);
    if (i < 0) bs_param_die("unknown parameter", name ? name : "(null)");
    return bs_param_str_at(ps, (size_t)i);
}

int bs_param_is_set(const bs_paramset *ps, size_t i)
{
    return ps && i < ps->n ? ps->set[i] : 0;
}

void bs_param_format(const bs_paramset *ps, size_t i, char *buf, size_t n)
{
    if (!buf || n == 0) return;
    if (!ps || i >= ps->n) {
        buf[0] = '\0';
        return;
    }
    const bs_param_def *d = ps->reg->defs[i];
    switch (d->type) {
    case BS_PT_INT: snprintf(buf, n, "%.0f", ps->val[i]); break;
    case BS_PT_BOOL: snprintf(buf, n, "%s", ps->val[i] != 0.0 ? "true" : "false"); break;
    case BS_PT_CHOICE:
    case BS_PT_STRING: snprintf(buf, n, "%s", bs_param_str_at(ps, i)); break;
    default: bs_fmt_real(buf, n, ps->val[i]); break;
    }
}
