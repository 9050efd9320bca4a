/* story.h — the viewer's companion file of a scenario, scenarios/NAME.story:
 * a story told in beats (`bonesim view NAME --story`), the notes of the I
 * panel, and the series the plot shows. No SDL here: the parser and the
 * event tracker are plain C, read by viewer.c.
 *
 * File format (UTF-8 text, one `key = value` a line; '#' starts a comment
 * line; blank lines are ignored). Keys before the first [beat] describe
 * the whole file:
 *   title = TEXT            the story's name (the I panel, the first caption)
 *   about = TEXT            what is on screen, one line each (repeatable)
 *   try = KEY | TEXT        a thing to try, as a key and what it shows (repeatable)
 *   plot = SERIES, ...      the plot's series (default: every cell type and bone):
 *                             TYPE or TYPE.STATE   cells of a type (agents/celltypes.h names)
 *                             bone                 bone area, % of day 0 (right axis)
 *                             level THERAPY        systemic drug level, % of a full dose (right axis)
 *                             dmab_occupancy       RANKL occupied by denosumab, % (right axis)
 *                             za_bound             zoledronic acid bound per bone site, % of one dose (right axis)
 *   speed = DAYS_PER_S      the playing speed the story starts at (one of the viewer's speeds)
 * Each [beat] is one step of the story, armed when the beat before it has
 * fired (the first at once):
 *   when = TRIGGER          day D | after D (days since the last beat) | first_dormant |
 *                           colony N (N proliferating tumour cells) | count TYPE[.STATE] >= N |
 *                           count TYPE[.STATE] <= N | dose THERAPY (its next dose) |
 *                           fraction N (N radiotherapy fractions given) | bone_below P (% of day 0) |
 *                           kill (the next tumour cell killed by a T or NK cell)
 *   by = DAY                fire at this day at the latest (the caption then says the event had not come)
 *   late = TEXT             what to say instead of the text when it fired by its `by` day
 *   caption = TEXT          the large caption (required)
 *   text = TEXT             smaller lines under it (repeatable)
 *   view = keep | whole | lesion | bmu | point X Y W | box X0 Y0 X1 Y1   (um; default keep)
 *   show = tissue | o2 | cxcl12 | rankl | opg | tgfb | ifng | pthrp | suppr | chemokine   (default keep)
 *   highlight = TYPE[.STATE], ...    rings around those cells while the beat is shown
 *   mark = TEXT             the beat's label on the plot (default: the beat's number)
 *   pause = yes | no        stop the clock when the beat fires (default yes)
 *   speed = DAYS_PER_S      the speed after the beat
 * Errors are "file:line: what (valid: ...)". */
#ifndef BS_STORY_H
#define BS_STORY_H

#include <stddef.h>
#include <stdint.h>

#include "bs_status.h"

struct bs_model;

#define BS_STORY_MAX_BEATS 48
#define BS_STORY_MAX_HL 8
#define BS_STORY_MAX_SERIES 10
#define BS_STORY_MAX_NOTES 12

typedef enum {
    BS_TRIG_DAY,
    BS_TRIG_AFTER,
    BS_TRIG_COUNT_GE,
    BS_TRIG_COUNT_LE,
    BS_TRIG_DOSE,
    BS_TRIG_FRACTION,
    BS_TRIG_BONE_BELOW,
    BS_TRIG_KILL
} bs_trig_kind;

typedef enum { BS_SV_KEEP, BS_SV_WHOLE, BS_SV_LESION, BS_SV_BMU, BS_SV_POINT, BS_SV_BOX } bs_story_view;

typedef enum {
    BS_SER_CELLS, /* type, state (-1: all states) */
    BS_SER_BONE,
    BS_SER_LEVEL, /* therapy id */
    BS_SER_DMAB_OCC,
    BS_SER_ZA_BOUND
} bs_series_kind;

typedef struct {
    int kind, type, state, therapy;
    char label[64];
} bs_series;

typedef struct {
    int line;
    int trig; /* bs_trig_kind */
    double a; /* day, days after, count, fraction, percent */
    int type, state; /* count: cell type, state (-1 all) */
    int therapy; /* dose */
    double by_day; /* < 0: none */
    char when_text[96];
    int view; /* bs_story_view */
    double vq[4]; /* um */
    int field; /* -2 keep, -1 tissue, else the field id */
    int nhl, hl_type[BS_STORY_MAX_HL], hl_state[BS_STORY_MAX_HL];
    int pause;
    double speed; /* < 0: keep */
    char caption[256];
    char text[1024];
    char mark[64];
    char late[512]; /* shown instead of the text when the beat fired by its `by` day */
} bs_story_beat;

typedef struct {
    char path[1024];
    char title[160];
    int nabout;
    char about[BS_STORY_MAX_NOTES][200];
    int ntry;
    char try_key[BS_STORY_MAX_NOTES][40], try_text[BS_STORY_MAX_NOTES][200];
    int nseries; /* 0: the default plot */
    bs_series series[BS_STORY_MAX_SERIES];
    double speed; /* < 0: the viewer's default */
    int nbeats;
    bs_story_beat beat[BS_STORY_MAX_BEATS];
} bs_story;

/* Reads and checks a story file; lattice width and height in um bound the
 * view regions. */
bs_status bs_story_load(const char *path, double width_um, double height_um, bs_story *s, bs_error *err);

/* The story file beside a scenario file: its path with ".ini" replaced by
 * ".story" (out must hold n bytes). */
void bs_story_path_for(const char *scenario_path, char *out, size_t n);

/* ---- events, seen by comparing the model before and after a step -----------
 * What happened in the step, with where: no engine hook, the tracker keeps
 * a copy of the agent store's per-slot type/id and the mineral per site. */
typedef enum {
    BS_EV_DIVISION, /* a new tumour cell (a division, or an arrival from the blood) */
    BS_EV_TUMOUR_DEATH, /* a tumour cell gone (a kill when the step's kill counters say so) */
    BS_EV_KILL,
    BS_EV_OC_FORMED, /* an osteoclast that was not one before (fusion or an MDSC turned osteoclast) */
    BS_EV_RESORBED, /* mineral removed at a site */
    BS_EV_DOSE, /* a drug dose (therapy id in .aux) */
    BS_EV_FRACTION, /* a radiotherapy fraction (its number in .aux) */
    BS_EV_KINDS
} bs_event_kind;

typedef struct {
    int kind, x, y, aux;
    double day;
    long frame; /* the frame it was first drawn (set by the viewer) */
} bs_event;

#define BS_EVENT_RING 2048
#define BS_DAY_BINS 4096

typedef struct {
    int w, h, cap;
    uint8_t *type; /* per slot, 0xff free */
    uint64_t *id;
    int32_t *site;
    float *mineral; /* per site */
    uint64_t kills; /* m->n_kills_tcell + n_kills_nk at the copy */
    double last_dose_d[16];
    int rt_given;
    int ready;
    bs_event ring[BS_EVENT_RING];
    uint64_t n; /* events recorded (ring index n % BS_EVENT_RING) */
    /* per simulated day d (d < BS_DAY_BINS): events of each kind, and um^2 resorbed */
    float day_count[BS_DAY_BINS][BS_EV_KINDS];
    /* since the story's last beat (the triggers read them) */
    uint64_t since_kills, since_dose[16];
    /* totals since day 0 */
    uint64_t total[BS_EV_KINDS];
} bs_event_tracker;

bs_status bs_events_init(bs_event_tracker *t, const struct bs_model *m, bs_error *err);
void bs_events_free(bs_event_tracker *t);
/* The copy taken again (a new model, a reset): no events from the jump. */
void bs_events_rebase(bs_event_tracker *t, const struct bs_model *m);
/* After a step: the events of the step recorded, the copy updated. */
void bs_events_after_step(bs_event_tracker *t, const struct bs_model *m);

/* ---- beats ------------------------------------------------------------------- */
/* Has beat b's trigger happened? since_day: the day the beat before it fired
 * (0 for the first). *late: fired only because of `by`. */
int bs_story_due(const bs_story_beat *b, const struct bs_model *m, const bs_event_tracker *t, double since_day,
        double bone0_um2, int *late);

/* A series' value now (cells; percent for the right-axis kinds). */
double bs_series_value(const bs_series *s, const struct bs_model *m, double bone0_um2);
int bs_series_right_axis(const bs_series *s);

/* Field names as the story file spells them (model.c's order). */
extern const char *const bs_story_field_names[];

#endif
