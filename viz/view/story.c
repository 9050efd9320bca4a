/* story.c — story files and the step-event tracker (see story.h). */
#define _POSIX_C_SOURCE 200809L
#include "story.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "celltypes.h"
#include "model.h"
#include "therapy.h"

const char *const bs_story_field_names[] = { "o2", "cxcl12", "rankl", "opg", "tgfb", "ifng", "pthrp", "suppr",
    "chemokine" };
#define N_FIELD_NAMES ((int)(sizeof bs_story_field_names / sizeof bs_story_field_names[0]))

void bs_story_path_for(const char *scenario_path, char *out, size_t n)
{
    size_t len = strlen(scenario_path);
    if (len > 4 && strcmp(scenario_path + len - 4, ".ini") == 0) len -= 4;
    snprintf(out, n, "%.*s.story", (int)len, scenario_path);
}

/* ---- parsing ----------------------------------------------------------------- */

static char *trim(char *s)
{
    while (isspace((unsigned char)*s)) s++;
    size_t n = strlen(s);
    while (n > 0 && isspace((unsigned char)s[n - 1])) s[--n] = '\0';
    return s;
}

static int parse_num(const char *s, double lo, double hi, double *out)
{
    char *end;
    errno = 0;
    double x = strtod(s, &end);
    while (isspace((unsigned char)*end)) end++;
    if (end == s || *end || errno || !(x >= lo && x <= hi)) return -1;
    *out = x;
    return 0;
}

/* TYPE or TYPE.STATE by name; state -1 for all states. */
static int parse_cells(const char *s, int *type, int *state)
{
    char name[64];
    snprintf(name, sizeof name, "%s", s);
    char *dot = strchr(name, '.');
    if (dot) *dot++ = '\0';
    int ty = bs_celltype_find(name);
    if (ty < 0) return -1;
    *type = ty;
    *state = -1;
    if (dot) {
        const bs_celltype *d = bs_celltype_of(ty);
        for (int k = 0; k < d->n_states && k < BS_MAX_STATES; k++)
            if (d->state_names[k] && strcmp(d->state_names[k], dot) == 0) *state = k;
        if (*state < 0) return -2;
    }
    return 0;
}

static void type_list(char *buf, size_t n)
{
    size_t k = 0;
    buf[0] = '\0';
    for (int ty = 0; ty < bs_celltype_count(); ty++)
        k += (size_t)snprintf(buf + k, k < n ? n - k : 0, "%s%s", ty ? ", " : "", bs_celltype_of(ty)->name);
}

static bs_status cells_err(bs_error *err, const char *where, const char *s, int r)
{
    char types[512];
    type_list(types, sizeof types);
    if (r == -2) return bs_fail(err, BS_ERR_INVALID, "%s: '%s' names no state of that cell type", where, s);
    return bs_fail(err, BS_ERR_INVALID, "%s: '%s' is not a cell type (valid: %s, optionally .STATE)", where, s, types);
}

static bs_status parse_when(bs_story_beat *b, char *v, const char *where, bs_error *err)
{
    char *tok[5] = { 0 };
    int nt = 0;
    char buf[256];
    snprintf(buf, sizeof buf, "%s", v);
    snprintf(b->when_text, sizeof b->when_text, "%s", v);
    char *save = NULL;
    for (char *p = strtok_r(buf, " \t", &save); p && nt < 5; p = strtok_r(NULL, " \t", &save)) tok[nt++] = p;
    static const char *valid = "valid: day D, after D, first_dormant, colony N, count TYPE[.STATE] >= N, "
                               "count TYPE[.STATE] <= N, dose THERAPY, fraction N, bone_below P, kill";
    if (nt == 0) return bs_fail(err, BS_ERR_INVALID, "%s: empty trigger (%s)", where, valid);
    const char *k = tok[0];
    if ((strcmp(k, "day") == 0 || strcmp(k, "after") == 0) && nt == 2) {
        b->trig = k[0] == 'd' ? BS_TRIG_DAY : BS_TRIG_AFTER;
        if (parse_num(tok[1], 0.0, 1e5, &b->a) != 0)
            return bs_fail(err, BS_ERR_INVALID, "%s: %s '%s' (valid: days, 0 .. 100000)", where, k, tok[1]);
    } else if (strcmp(k, "first_dormant") == 0 && nt == 1) {
        b->trig = BS_TRIG_COUNT_GE;
        b->a = 1;
        if (parse_cells("dtc.dormant", &b->type, &b->state) != 0)
            return bs_fail(err, BS_ERR_INVALID, "%s: first_dormant needs the dtc type with a dormant state", where);
    } else if (strcmp(k, "colony") == 0 && nt == 2) {
        b->trig = BS_TRIG_COUNT_GE;
        if (parse_num(tok[1], 1, 1e7, &b->a) != 0)
            return bs_fail(err, BS_ERR_INVALID, "%s: colony '%s' (valid: a cell count, 1 .. 1e7)", where, tok[1]);
        if (parse_cells("dtc.proliferating", &b->type, &b->state) != 0)
            return bs_fail(err, BS_ERR_INVALID, "%s: colony needs the dtc type with a proliferating state", where);
    } else if (strcmp(k, "count") == 0 && nt == 4) {
        int r = parse_cells(tok[1], &b->type, &b->state);
        if (r != 0) return cells_err(err, where, tok[1], r);
        if (strcmp(tok[2], ">=") == 0)
            b->trig = BS_TRIG_COUNT_GE;
        else if (strcmp(tok[2], "<=") == 0)
            b->trig = BS_TRIG_COUNT_LE;
        else
            return bs_fail(err, BS_ERR_INVALID, "%s: count ... '%s' (valid: >= or <=)", where, tok[2]);
        if (parse_num(tok[3], 0, 1e7, &b->a) != 0)
            return bs_fail(err, BS_ERR_INVALID, "%s: count '%s' (valid: 0 .. 1e7)", where, tok[3]);
    } else if (strcmp(k, "dose") == 0 && nt == 2) {
        b->trig = BS_TRIG_DOSE;
        b->therapy = bs_therapy_find(tok[1]);
        if (b->therapy < 0 || b->therapy == BS_THERAPY_RADIOTHERAPY) {
            char names[512];
            size_t q = 0;
            for (int i = 0; i < BS_THERAPY_COUNT; i++)
                if (i != BS_THERAPY_RADIOTHERAPY)
                    q += (size_t)snprintf(names + q, q < sizeof names ? sizeof names - q : 0, "%s%s", q ? ", " : "",
                            bs_therapy_names[i]);
            return bs_fail(err, BS_ERR_INVALID, "%s: dose '%s' (valid: %s; radiotherapy is `fraction N`)", where,
                    tok[1], names);
        }
    } else if (strcmp(k, "fraction") == 0 && nt == 2) {
        b->trig = BS_TRIG_FRACTION;
        if (parse_num(tok[1], 1, 1000, &b->a) != 0 || b->a != floor(b->a))
            return bs_fail(err, BS_ERR_INVALID, "%s: fraction '%s' (valid: a whole number, 1 .. 1000)", where, tok[1]);
    } else if (strcmp(k, "bone_below") == 0 && nt == 2) {
        b->trig = BS_TRIG_BONE_BELOW;
        if (parse_num(tok[1], 0.1, 100, &b->a) != 0)
            return bs_fail(
                    err, BS_ERR_INVALID, "%s: bone_below '%s' (valid: percent of day 0, 0.1 .. 100)", where, tok[1]);
    } else if (strcmp(k, "kill") == 0 && nt == 1) {
        b->trig = BS_TRIG_KILL;
    } else {
        return bs_fail(err, BS_ERR_INVALID, "%s: cannot read trigger '%s' (%s)", where, v, valid);
    }
    return BS_OK;
}

static bs_status parse_series(bs_story *s, char *v, const char *where, bs_error *err)
{
    char *save = NULL;
    s->nseries = 0;
    for (char *p = strtok_r(v, ",", &save); p; p = strtok_r(NULL, ",", &save)) {
        char *item = trim(p);
        if (s->nseries == BS_STORY_MAX_SERIES)
            return bs_fail(err, BS_ERR_INVALID, "%s: plot lists more than %d series", where, BS_STORY_MAX_SERIES);
        bs_series *q = &s->series[s->nseries];
        memset(q, 0, sizeof *q);
        q->state = -1;
        if (strcmp(item, "bone") == 0) {
            q->kind = BS_SER_BONE;
            snprintf(q->label, sizeof q->label, "bone, %% of day 0");
        } else if (strcmp(item, "dmab_occupancy") == 0) {
            q->kind = BS_SER_DMAB_OCC;
            snprintf(q->label, sizeof q->label, "RANKL blocked by denosumab (0-100 %%)");
        } else if (strcmp(item, "za_bound") == 0) {
            q->kind = BS_SER_ZA_BOUND;
            snprintf(q->label, sizeof q->label, "zoledronic acid on bone (0-100 %% of a dose)");
        } else if (strncmp(item, "level ", 6) == 0) {
            q->kind = BS_SER_LEVEL;
            const char *name = trim(item + 6);
            q->therapy = bs_therapy_find(name);
            if (q->therapy < 0)
                return bs_fail(err, BS_ERR_INVALID, "%s: plot: level '%s' is not a therapy (see bonesim view --help)",
                        where, name);
            snprintf(q->label, sizeof q->label, "%s level (0-100 %%)", name);
        } else {
            q->kind = BS_SER_CELLS;
            int r = parse_cells(item, &q->type, &q->state);
            if (r != 0) {
                char types[512];
                type_list(types, sizeof types);
                return bs_fail(err, BS_ERR_INVALID,
                        "%s: plot: cannot read '%s' (valid: TYPE or TYPE.STATE with TYPE one of %s; bone; level "
                        "THERAPY; dmab_occupancy; za_bound)",
                        where, item, types);
            }
            const bs_celltype *d = bs_celltype_of(q->type);
            if (q->state >= 0)
                snprintf(
                        q->label, sizeof q->label, "%s, %s", d->plural ? d->plural : d->name, d->state_names[q->state]);
            else
                snprintf(q->label, sizeof q->label, "%s", d->plural ? d->plural : d->name);
        }
        s->nseries++;
    }
    if (s->nseries == 0) return bs_fail(err, BS_ERR_INVALID, "%s: plot lists no series", where);
    return BS_OK;
}

static int speed_ok(double x)
{
    static const double ok[] = { 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 50.0 };
    for (size_t k = 0; k < sizeof ok / sizeof ok[0]; k++)
        if (x == ok[k]) return 1;
    return 0;
}

static void append_line(char *dst, size_t n, const char *s)
{
    size_t len = strlen(dst);
    snprintf(dst + len, n - len, "%s%s", len ? "\n" : "", s);
}

bs_status bs_story_load(const char *path, double width_um, double height_um, bs_story *s, bs_error *err)
{
    memset(s, 0, sizeof *s);
    snprintf(s->path, sizeof s->path, "%s", path);
    s->speed = -1.0;
    FILE *f = fopen(path, "r");
    if (!f) return bs_fail(err, BS_ERR_IO, "%s: cannot read (%s)", path, strerror(errno));
    char line[2048], where[1100];
    int ln = 0;
    bs_story_beat *b = NULL;
    bs_status st = BS_OK;
    while (st == BS_OK && fgets(line, sizeof line, f)) {
        ln++;
        snprintf(where, sizeof where, "%s:%d", path, ln);
        if (!strchr(line, '\n') && !feof(f)) {
            st = bs_fail(err, BS_ERR_INVALID, "%s: line longer than %zu bytes", where, sizeof line - 2);
            break;
        }
        char *p = trim(line);
        if (!*p || *p == '#') continue;
        if (strcmp(p, "[beat]") == 0) {
            if (s->nbeats == BS_STORY_MAX_BEATS) {
                st = bs_fail(err, BS_ERR_INVALID, "%s: more than %d beats", where, BS_STORY_MAX_BEATS);
                break;
            }
            if (b && !b->caption[0]) {
                st = bs_fail(
                        err, BS_ERR_INVALID, "%s:%d: beat has no caption (caption = TEXT is required)", path, b->line);
                break;
            }
            if (b && b->line && !b->when_text[0]) {
                st = bs_fail(err, BS_ERR_INVALID, "%s:%d: beat has no trigger (when = ... is required)", path, b->line);
                break;
            }
            b = &s->beat[s->nbeats++];
            memset(b, 0, sizeof *b);
            b->line = ln;
            b->by_day = -1.0;
            b->field = -2;
            b->pause = 1;
            b->speed = -1.0;
            b->view = BS_SV_KEEP;
            continue;
        }
        if (*p == '[') {
            st = bs_fail(err, BS_ERR_INVALID, "%s: unknown section '%s' (valid: [beat])", where, p);
            break;
        }
        char *eq = strchr(p, '=');
        if (!eq) {
            st = bs_fail(err, BS_ERR_INVALID, "%s: expected 'key = value', got '%s'", where, p);
            break;
        }
        *eq = '\0';
        char *k = trim(p), *v = trim(eq + 1);
        if (!*v) {
            st = bs_fail(err, BS_ERR_INVALID, "%s: %s has no value", where, k);
            break;
        }
        if (!b) {
            if (strcmp(k, "title") == 0)
                snprintf(s->title, sizeof s->title, "%s", v);
            else if (strcmp(k, "about") == 0) {
                if (s->nabout == BS_STORY_MAX_NOTES)
                    st = bs_fail(err, BS_ERR_INVALID, "%s: more than %d about lines", where, BS_STORY_MAX_NOTES);
                else
                    snprintf(s->about[s->nabout++], sizeof s->about[0], "%s", v);
            } else if (strcmp(k, "try") == 0) {
                char *bar = strchr(v, '|');
                if (!bar)
                    st = bs_fail(err, BS_ERR_INVALID, "%s: try '%s' (valid: KEY | what it shows)", where, v);
                else if (s->ntry == BS_STORY_MAX_NOTES)
                    st = bs_fail(err, BS_ERR_INVALID, "%s: more than %d try lines", where, BS_STORY_MAX_NOTES);
                else {
                    *bar = '\0';
                    snprintf(s->try_key[s->ntry], sizeof s->try_key[0], "%s", trim(v));
                    snprintf(s->try_text[s->ntry], sizeof s->try_text[0], "%s", trim(bar + 1));
                    s->ntry++;
                }
            } else if (strcmp(k, "plot") == 0)
                st = parse_series(s, v, where, err);
            else if (strcmp(k, "speed") == 0) {
                if (parse_num(v, 0.1, 50, &s->speed) != 0 || !speed_ok(s->speed))
                    st = bs_fail(err, BS_ERR_INVALID, "%s: speed '%s' (valid: 0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 50)",
                            where, v);
            } else
                st = bs_fail(err, BS_ERR_INVALID,
                        "%s: unknown key '%s' before the first [beat] (valid: title, about, try, plot, speed)", where,
                        k);
            continue;
        }
        if (strcmp(k, "when") == 0)
            st = parse_when(b, v, where, err);
        else if (strcmp(k, "by") == 0) {
            if (parse_num(v, 0.0, 1e5, &b->by_day) != 0)
                st = bs_fail(err, BS_ERR_INVALID, "%s: by '%s' (valid: a day, 0 .. 100000)", where, v);
        } else if (strcmp(k, "caption") == 0)
            snprintf(b->caption, sizeof b->caption, "%s", v);
        else if (strcmp(k, "text") == 0)
            append_line(b->text, sizeof b->text, v);
        else if (strcmp(k, "late") == 0)
            snprintf(b->late, sizeof b->late, "%s", v);
        else if (strcmp(k, "mark") == 0)
            snprintf(b->mark, sizeof b->mark, "%s", v);
        else if (strcmp(k, "pause") == 0) {
            if (strcmp(v, "yes") == 0)
                b->pause = 1;
            else if (strcmp(v, "no") == 0)
                b->pause = 0;
            else
                st = bs_fail(err, BS_ERR_INVALID, "%s: pause '%s' (valid: yes, no)", where, v);
        } else if (strcmp(k, "speed") == 0) {
            if (parse_num(v, 0.1, 50, &b->speed) != 0 || !speed_ok(b->speed))
                st = bs_fail(
                        err, BS_ERR_INVALID, "%s: speed '%s' (valid: 0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 50)", where, v);
        } else if (strcmp(k, "show") == 0) {
            if (strcmp(v, "tissue") == 0)
                b->field = -1;
            else {
                b->field = -3;
                for (int i = 0; i < N_FIELD_NAMES; i++)
                    if (strcmp(v, bs_story_field_names[i]) == 0) b->field = i;
                if (b->field == -3)
                    st = bs_fail(err, BS_ERR_INVALID,
                            "%s: show '%s' (valid: tissue, o2, cxcl12, rankl, opg, tgfb, ifng, pthrp, suppr, "
                            "chemokine)",
                            where, v);
            }
        } else if (strcmp(k, "highlight") == 0) {
            char *save = NULL;
            b->nhl = 0;
            for (char *q = strtok_r(v, ",", &save); q && st == BS_OK; q = strtok_r(NULL, ",", &save)) {
                char *item = trim(q);
                if (b->nhl == BS_STORY_MAX_HL) {
                    st = bs_fail(err, BS_ERR_INVALID, "%s: highlight lists more than %d", where, BS_STORY_MAX_HL);
                    break;
                }
                int r = parse_cells(item, &b->hl_type[b->nhl], &b->hl_state[b->nhl]);
                if (r != 0)
                    st = cells_err(err, where, item, r);
                else
                    b->nhl++;
            }
        } else if (strcmp(k, "view") == 0) {
            double q[4];
            char tail;
            if (strcmp(v, "keep") == 0)
                b->view = BS_SV_KEEP;
            else if (strcmp(v, "whole") == 0)
                b->view = BS_SV_WHOLE;
            else if (strcmp(v, "lesion") == 0)
                b->view = BS_SV_LESION;
            else if (strcmp(v, "bmu") == 0)
                b->view = BS_SV_BMU;
            else if (sscanf(v, "point %lf %lf %lf %c", &q[0], &q[1], &q[2], &tail) == 3) {
                if (!(q[0] >= 0 && q[0] <= width_um && q[1] >= 0 && q[1] <= height_um && q[2] > 0))
                    st = bs_fail(err, BS_ERR_INVALID,
                            "%s: view point %g %g %g (valid: X in 0 .. %.0f, Y in 0 .. %.0f um, W > 0 um)", where, q[0],
                            q[1], q[2], width_um, height_um);
                b->view = BS_SV_POINT;
                memcpy(b->vq, q, sizeof q);
            } else if (sscanf(v, "box %lf %lf %lf %lf %c", &q[0], &q[1], &q[2], &q[3], &tail) == 4) {
                if (!(q[0] >= 0 && q[1] >= 0 && q[2] > q[0] && q[3] > q[1] && q[2] <= width_um && q[3] <= height_um))
                    st = bs_fail(err, BS_ERR_INVALID,
                            "%s: view box %g %g %g %g (valid: 0 <= X0 < X1 <= %.0f, 0 <= Y0 < Y1 <= %.0f um)", where,
                            q[0], q[1], q[2], q[3], width_um, height_um);
                b->view = BS_SV_BOX;
                memcpy(b->vq, q, sizeof q);
            } else
                st = bs_fail(err, BS_ERR_INVALID,
                        "%s: view '%s' (valid: keep, whole, lesion, bmu, point X Y W, box X0 Y0 X1 Y1; um)", where, v);
        } else
            st = bs_fail(err, BS_ERR_INVALID,
                    "%s: unknown beat key '%s' (valid: when, by, late, caption, text, view, show, highlight, mark, "
                    "pause, speed)",
                    where, k);
    }
    fclose(f);
    if (st != BS_OK) return st;
    if (b && !b->caption[0])
        return bs_fail(err, BS_ERR_INVALID, "%s:%d: beat has no caption (caption = TEXT is required)", path, b->line);
    if (b && !b->when_text[0])
        return bs_fail(err, BS_ERR_INVALID, "%s:%d: beat has no trigger (when = ... is required)", path, b->line);
    for (int i = 0; i < s->nbeats; i++)
        if (!s->beat[i].mark[0]) snprintf(s->beat[i].mark, sizeof s->beat[i].mark, "%d", i + 1);
    return BS_OK;
}

/* ---- events ------------------------------------------------------------------ */

bs_status bs_events_init(bs_event_tracker *t, const bs_model *m, bs_error *err)
{
    memset(t, 0, sizeof *t);
    t->w = m->lat.w;
    t->h = m->lat.h;
    t->cap = m->store.capacity;
    size_t ns = (size_t)t->w * (size_t)t->h;
    t->type = malloc((size_t)t->cap);
    t->id = malloc((size_t)t->cap * sizeof *t->id);
    t->site = malloc((size_t)t->cap * sizeof *t->site);
    t->mineral = malloc(ns * sizeof *t->mineral);
    if (!t->type || !t->id || !t->site || !t->mineral) {
        bs_events_free(t);
        return bs_fail(err, BS_ERR_NOMEM, "out of memory for the event tracker");
    }
    bs_events_rebase(t, m);
    return BS_OK;
}

void bs_events_free(bs_event_tracker *t)
{
    free(t->type);
    free(t->id);
    free(t->site);
    free(t->mineral);
    t->type = NULL;
    t->id = NULL;
    t->site = NULL;
    t->mineral = NULL;
}

void bs_events_rebase(bs_event_tracker *t, const bs_model *m)
{
    if (m->store.capacity != t->cap || m->lat.w != t->w || m->lat.h != t->h) return; /* same scenario: same sizes */
    memcpy(t->type, m->store.type, (size_t)t->cap);
    memcpy(t->id, m->store.id, (size_t)t->cap * sizeof *t->id);
    memcpy(t->site, m->store.site, (size_t)t->cap * sizeof *t->site);
    memcpy(t->mineral, m->lat.mineral, (size_t)t->w * (size_t)t->h * sizeof *t->mineral);
    t->kills = m->n_kills_tcell + m->n_kills_nk;
    for (int k = 0; k < BS_THERAPY_COUNT && k < 16; k++) t->last_dose_d[k] = m->therapy.last_dose_d[k];
    t->rt_given = m->therapy.rt_fractions_given;
    t->n = 0;
    memset(t->day_count, 0, sizeof t->day_count);
    memset(t->total, 0, sizeof t->total);
    t->since_kills = 0;
    memset(t->since_dose, 0, sizeof t->since_dose);
    t->ready = 1;
}

static void record(bs_event_tracker *t, int kind, int site, int aux, double day, float weight)
{
    bs_event *e = &t->ring[t->n % BS_EVENT_RING];
    e->kind = kind;
    e->x = site >= 0 ? site % t->w : -1;
    e->y = site >= 0 ? site / t->w : -1;
    e->aux = aux;
    e->day = day;
    e->frame = -1;
    t->n++;
    int d = (int)floor(day);
    if (d >= 0 && d < BS_DAY_BINS) t->day_count[d][kind] += weight;
    t->total[kind]++;
}

void bs_events_after_step(bs_event_tracker *t, const bs_model *m)
{
    if (!t->ready || m->store.capacity != t->cap) return;
    double day = bs_model_time_days(m);
    const bs_store *s = &m->store;
    int dtc = bs_celltype_find("dtc"), oc = bs_celltype_find("osteoclast");
    uint64_t kills = m->n_kills_tcell + m->n_kills_nk, new_kills = kills - t->kills;
    uint64_t kills_left = new_kills;
    for (int slot = 0; slot < t->cap; slot++) {
        uint8_t ty = s->type[slot];
        int alive = ty != 0xff, was = t->type[slot] != 0xff;
        int same = alive && was && s->id[slot] == t->id[slot];
        if (was && !same && t->type[slot] == dtc) {
            /* a tumour cell gone: a kill while the step's kill count lasts */
            int kill = kills_left > 0;
            if (kill) kills_left--;
            record(t, kill ? BS_EV_KILL : BS_EV_TUMOUR_DEATH, t->site[slot], 0, day, 1.0f);
        }
        if (alive && !same && ty == dtc) record(t, BS_EV_DIVISION, s->site[slot], 0, day, 1.0f);
        if (alive && ty == oc && (!same || t->type[slot] != oc))
            record(t, BS_EV_OC_FORMED, s->site[slot], 0, day, 1.0f);
        t->type[slot] = ty;
        t->id[slot] = s->id[slot];
        t->site[slot] = s->site[slot];
    }
    /* kills whose victim the store no longer shows as a tumour cell change
     * (none expected) still count */
    t->since_kills += new_kills;
    t->kills = kills;
    /* resorption: mineral removed; one event per site and step, the area in
     * the day's bin (um^2) */
    size_t ns = (size_t)t->w * (size_t)t->h;
    double a_um2 = m->lat.h_um * m->lat.h_um;
    for (size_t i = 0; i < ns; i++) {
        float d = t->mineral[i] - m->lat.mineral[i];
        if (d > 1e-6f) {
            /* the day's bin holds the area (um^2), the total counts sites */
            record(t, BS_EV_RESORBED, (int)i, 0, day, (float)((double)d * a_um2));
        }
        t->mineral[i] = m->lat.mineral[i];
    }
    for (int k = 0; k < BS_THERAPY_COUNT && k < 16; k++) {
        if (k == BS_THERAPY_RADIOTHERAPY) continue;
        if (m->therapy.last_dose_d[k] != t->last_dose_d[k] && m->therapy.last_dose_d[k] >= 0) {
            record(t, BS_EV_DOSE, -1, k, day, 1.0f);
            t->since_dose[k]++;
        }
        t->last_dose_d[k] = m->therapy.last_dose_d[k];
    }
    while (t->rt_given < m->therapy.rt_fractions_given) {
        t->rt_given++;
        record(t, BS_EV_FRACTION, -1, t->rt_given, day, 1.0f);
    }
}

/* ---- beats and series ----------------------------------------------------------- */

static long count_cells(const bs_model *m, int type, int state)
{
    long n = 0;
    const bs_store *s = &m->store;
    for (int slot = 0; slot < s->capacity; slot++)
        if (s->type[slot] == type && (state < 0 || s->state[slot] == state)) n++;
    return n;
}

int bs_story_due(const bs_story_beat *b, const bs_model *m, const bs_event_tracker *t, double since_day,
        double bone0_um2, int *late)
{
    double day = bs_model_time_days(m);
    int due = 0;
    *late = 0;
    switch (b->trig) {
    case BS_TRIG_DAY: due = day + 1e-9 >= b->a; break;
    case BS_TRIG_AFTER: due = day + 1e-9 >= since_day + b->a; break;
    case BS_TRIG_COUNT_GE: due = (double)count_cells(m, b->type, b->state) >= b->a; break;
    case BS_TRIG_COUNT_LE: due = (double)count_cells(m, b->type, b->state) <= b->a; break;
    case BS_TRIG_DOSE: due = b->therapy >= 0 && b->therapy < 16 && t->since_dose[b->therapy] > 0; break;
    case BS_TRIG_FRACTION: due = m->therapy.rt_fractions_given >= (int)b->a; break;
    case BS_TRIG_BONE_BELOW: due = bone0_um2 > 0 && 100.0 * bs_lattice_bone_area_um2(&m->lat) / bone0_um2 < b->a; break;
    case BS_TRIG_KILL: due = t->since_kills > 0; break;
    default: break;
    }
    if (!due && b->by_day >= 0 && day + 1e-9 >= b->by_day) {
        due = 1;
        *late = 1;
    }
    return due;
}

int bs_series_right_axis(const bs_series *s)
{
    return s->kind != BS_SER_CELLS;
}

double bs_series_value(const bs_series *s, const bs_model *m, double bone0_um2)
{
    switch (s->kind) {
    case BS_SER_CELLS: return (double)count_cells(m, s->type, s->state);
    case BS_SER_BONE: return bone0_um2 > 0 ? 100.0 * bs_lattice_bone_area_um2(&m->lat) / bone0_um2 : 0.0;
    case BS_SER_LEVEL: return 100.0 * (double)m->therapy.level[s->therapy];
    case BS_SER_DMAB_OCC: return 100.0 * (double)bs_therapy_dmab_occupancy(m);
    case BS_SER_ZA_BOUND: {
        if (!m->lat.za_load) return 0.0;
        size_t ns = (size_t)m->lat.w * (size_t)m->lat.h;
        double sum = 0.0;
        long nb = 0;
        for (size_t i = 0; i < ns; i++)
            if (m->lat.tissue[i] == BS_TISSUE_BONE) {
                sum += (double)m->lat.za_load[i];
                nb++;
            }
        double per_dose = bs_param(m->ps, "za.bone_load_per_dose");
        return nb && per_dose > 0 ? 100.0 * sum / (double)nb / per_dose : 0.0;
    }
    default: return 0.0;
    }
}
