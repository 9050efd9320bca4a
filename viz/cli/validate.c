/* validate.c — `bonesim validate` (validate.h).
 *
 * Layout: the experiment files (parse, check, file:line errors); the
 * observables (CSV columns and derived quantities, per row) and the
 * per-run summaries over the window; the runs (deduplicated, kept, resumed)
 * through the job pool; statistics and verdicts; the report (report.md,
 * figures, results.json). */
#define _POSIX_C_SOURCE 200809L
#include "validate.h"

#include <dirent.h>
#include <stdarg.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "cliargs.h"
#include "datadir.h"
#include "exp_mpi.h"
#include "exp_pool.h"
#include "exp_stats.h"
#include "exp_table.h"
#include "experiment.h"
#include "output.h"
#include "runner.h"
#include "strbuf.h"
#include "version.h"

#define V_MAX_SETS 32
#define V_MAX_EXP 256
#define V_MAX_SEEDS 1000
#define V_DEFAULT_SEED 1000 /* validation seeds; calibration used 1-3 and 500-599 */
#define V_MIN_PAIRS_CI 5 /* fewer pairs: no interval, no test at 0.05 */
#define V_ALPHA 0.05
#define VNAN ((double)NAN)

enum { M_QUICK, M_FULL };
static const char *const mode_names[] = { "quick", "full" };

/* ---- observables ---------------------------------------------------------------------- */

/* Derived quantities: computed per CSV row from the run's columns. */
enum {
    D_DORMANT_FRAC,
    D_PROLIF_FRAC,
    D_EXTRAV_FRAC,
    D_TACTIVE_FRAC,
    D_REMODELING_FRAC,
    D_NET_RESORBED,
    D_BONE_LOSS,
    D_BONE_REL,
    D_NK_KILLS_PER_NK,
    D_T_KILLS_PER_T,
    D_O2_CONTRAST,
    D_LINEAGE_BRC_FRAC,
    D_LINEAGE_QUIESCENT_FRAC,
    D_OC_NEAR_TUMOUR_FRAC,
    D_DTC_ENDO_SHARE,
    D_DORMANT_BLOOD,
    D_DORMANT_QUIESCENT,
    D_DORMANT_BRC,
    D_DORMANT_BRC_VS_Q,
    D_CXCL12_SETTLED,
    D_RES_PER_EVENT,
    D_REV_PER_EVENT,
    D_FORM_PER_EVENT,
    D_EVENT_PER_EVENT,
    D_DEPTH_PER_EVENT,
    D_REFILL_PER_EVENT,
    D_T_KILLS_PER_CONTACT,
    D_NK_KILLS_PER_CONTACT,
    D_NK_KILLS_PER_CONTACT_HYP,
    D_NK_KILLS_PER_CONTACT_NORM,
    D_N
};
static const struct {
    const char *name, *unit, *what;
} derived[D_N] = {
    { "dormant_frac", "fraction", "n_dtc_dormant / n_dtc (rows with no tumour cells are skipped)" },
    { "proliferating_frac", "fraction", "n_dtc_proliferating / n_dtc (rows with no tumour cells are skipped)" },
    { "extravasated_frac", "fraction", "n_extravasated / n_ctc_arrived: share of arrived CTCs that crossed" },
    { "tcell_active_frac", "fraction", "n_tcells_active / n_tcells (rows with no T cells are skipped)" },
    { "remodeling_frac", "fraction", "1 - endosteum_quiescent_frac: share of the endosteum in remodeling" },
    { "net_resorbed_um2_per_day", "um^2/day", "resorbed_um2_per_day - formed_um2_per_day" },
    { "bone_loss_um2", "um^2", "bone_area_um2 at day 0 minus bone_area_um2 now" },
    { "bone_rel", "fraction", "bone_area_um2 / bone_area_um2 at day 0" },
    { "nk_kills_per_nk_day", "per day", "kills_nk_per_day / n_nk (rows with no NK cells are skipped)" },
    { "tcell_kills_per_tcell_day", "per day", "kills_tcell_per_day / n_tcells (rows with no T cells are skipped)" },
    { "o2_endosteal_minus_perisinusoidal_mmHg", "mmHg",
            "o2_endosteal_mmHg - o2_perisinusoidal_mmHg: the endosteal/perisinusoidal contrast of the O2 map" },
    { "brc_lineage_frac", "fraction",
            "n_dtc_lineage_brc / n_dtc: share of tumour cells whose founder landed in a remodeling compartment" },
    { "quiescent_lineage_frac", "fraction",
            "n_dtc_lineage_quiescent / n_dtc: share of tumour cells whose founder landed on quiescent endosteum" },
    { "oc_near_tumour_frac", "fraction",
            "n_osteoclasts_near_tumour / n_osteoclasts (rows with no osteoclasts are skipped)" },
    { "dtc_endosteal_share", "fraction",
            "n_dtc_endosteal / (n_dtc_endosteal + n_dtc_perivascular): share of the settled tumour cells on the "
            "endosteum (rows with none are skipped)" },
    { "dormant_frac_blood_landed", "fraction",
            "n_dtc_dormant_lineage_blood / n_dtc_lineage_blood: dormant share of the cells whose founder came from "
            "the blood (rows with none are skipped)" },
    { "dormant_frac_quiescent_landed", "fraction",
            "n_dtc_dormant_lineage_quiescent / n_dtc_lineage_quiescent: dormant share of the cells whose founder "
            "landed on quiescent endosteum (rows with none are skipped)" },
    { "dormant_frac_brc_landed", "fraction",
            "n_dtc_dormant_lineage_brc / n_dtc_lineage_brc: dormant share of the cells whose founder landed in a "
            "remodeling compartment (rows with none are skipped)" },
    { "dormant_frac_brc_vs_quiescent_landed", "ratio",
            "dormant_frac_brc_landed / dormant_frac_quiescent_landed within one run: the landing-site contrast "
            "(rows where either is undefined or the quiescent share is 0 are skipped)" },
    { "cxcl12_at_settled_cells", "au",
            "cxcl12_settled_dtc_au: mean CXCL12 at the settled (not migrating) tumour cells (rows with none are "
            "skipped)" },
    { "resorption_d_per_event", "days",
            "bmu_resorption_d: median over the finished remodeling events (opened at or after day 0) of first to "
            "last erosion (rows before the first finished event are skipped)" },
    { "reversal_d_per_event", "days",
            "bmu_reversal_d: median over the finished events of last erosion to the first osteoblast of the team "
            "(rows before the first finished event are skipped)" },
    { "formation_d_per_event", "days",
            "bmu_formation_d: median over the finished events of the team's arrival to the last mineral (rows "
            "before the first finished event are skipped)" },
    { "remodeling_d_per_event", "days",
            "bmu_event_d: median over the finished events of first erosion to the end of the event (rows before "
            "the first finished event are skipped)" },
    { "erosion_depth_um_per_event", "um",
            "bmu_depth_um: median over the finished events of the deepest cavity dug (rows before the first "
            "finished event are skipped)" },
    { "refill_frac_per_event", "fraction",
            "bmu_refill: median over the finished events of formed / resorbed area (rows before the first "
            "finished event are skipped)" },
    { "tcell_kills_per_contact_day", "per contact-day",
            "kills_tcell_per_day / tcell_contacts_mean: CTL kills per day an activated CTL spends on a target "
            "(rows with no contact are skipped)" },
    { "nk_kills_per_contact_day", "per contact-day",
            "kills_nk_per_day / nk_contacts_mean: NK kills per day an NK cell spends on a target (rows with no "
            "contact are skipped)" },
    { "nk_kills_per_contact_day_hypoxic", "per contact-day",
            "kills_nk_hypoxic_per_day / nk_contacts_hypoxic_mean: the same for contacts at pO2 below "
            "nk.hypoxia_mmHg (rows with no such contact are skipped)" },
    { "nk_kills_per_contact_day_normoxic", "per contact-day",
            "(kills_nk_per_day - kills_nk_hypoxic_per_day) / (nk_contacts_mean - nk_contacts_hypoxic_mean): the "
            "same for contacts at or above nk.hypoxia_mmHg (rows with no such contact are skipped)" },
};

/* Names that earlier versions listed as "not yet available": each is
 * now computed under the names given here (docs/validation.md), and a
 * file naming the old one is told which. */
static const char *const renamed[][2] = {
    { "dormant_share_by_landing_site",
            "dormant_frac_blood_landed, dormant_frac_quiescent_landed, dormant_frac_brc_landed or "
            "dormant_frac_brc_vs_quiescent_landed" },
    { "remodeling_phase_durations_per_event",
            "resorption_d_per_event, reversal_d_per_event, formation_d_per_event, remodeling_d_per_event or "
            "erosion_depth_um_per_event" },
    { "kills_per_contact_day",
            "tcell_kills_per_contact_day, nk_kills_per_contact_day, nk_kills_per_contact_day_hypoxic or "
            "nk_kills_per_contact_day_normoxic" },
    { NULL, NULL },
};

/* Summaries of one run's observable over the window. */
enum {
    S_MEAN,
    S_MEDIAN,
    S_FINAL,
    S_FIRST,
    S_MIN,
    S_MAX,
    S_CHANGE,
    S_REL_CHANGE,
    S_MAX_ABS_DEV,
    S_HALF_RATIO,
    S_SPAN_ABOVE,
    S_DAY_OF_MAX,
    S_DOUBLING,
    S_SLOPE_PER_Y,
    S_MAX_ABS_DEV_FIRST,
    S_DOUBLING_RATIO,
    S_N
};
static const struct {
    const char *name, *what;
} summaries[S_N] = {
    { "mean", "mean over the window's rows" },
    { "median", "median over the window's rows" },
    { "final", "value at the window's last row" },
    { "first", "value at the window's first row" },
    { "min", "minimum over the window" },
    { "max", "maximum over the window" },
    { "change", "last minus first row of the window" },
    { "rel_change", "(last - first) / first over the window" },
    { "max_abs_dev_frac", "largest |value / window mean - 1| over the window" },
    { "half_ratio", "mean of the window's second half / mean of its first half" },
    { "span_above", "days from the first to the last row above X (span_above:X), plus one CSV interval; 0 if none" },
    { "day_of_max", "day of the window's maximum, counted from the window start" },
    { "doubling_time", "(t1 - t0) ln 2 / ln(v1 / v0) between the window ends (NaN unless it grows)" },
    { "slope_per_y", "least-squares slope of the value against time over the window, per 365.25 d" },
    { "max_abs_dev_first", "largest |value / window's first row - 1| over the window" },
    { "doubling_ratio",
            "doubling_ratio:A:B:C: the doubling time from B to C times the window's first value over the one "
            "from A to B times it, each between the first rows at or above those levels (log-linear "
            "between rows); 1 = exponential, > 1 slows down; NaN unless C times is reached" },
};

enum { E_RATIO, E_DIFF, E_VALUE };
static const char *const effect_names[] = { "ratio", "difference", "value" };
enum { X_INCREASE, X_DECREASE, X_BAND, X_BAND_EVERY };
static const char *const expect_names[] = { "increase", "decrease", "band", "band_every_seed" };
#define X_IS_BAND(x) ((x) == X_BAND || (x) == X_BAND_EVERY)

/* ---- experiment files ------------------------------------------------------------------- */

typedef struct {
    char text[256];
    int line;
} vset;

typedef struct {
    char path[4096];
    char id[32], behaviour[16], title[256], source[512], control[256], treated[256];
    char rcontrol[256], rtreated[256]; /* the reference pair of a contrast experiment ("" if none) */
    vset sets[V_MAX_SETS], cset[V_MAX_SETS], tset[V_MAX_SETS], mset[2][V_MAX_SETS];
    vset rcset[V_MAX_SETS], rtset[V_MAX_SETS];
    int nsets, ncset, ntset, nmset[2], nrcset, nrtset;
    int contrast; /* four arms: the effect is the main pair's effect over (ratio) or minus (difference) the
                   * reference pair's, per seed */
    char observable[64];
    int col, der; /* CSV column index, or -1 and der = derived index */
    int summary;
    double summary_arg, summary_fold[3]; /* span_above:X; doubling_ratio:A:B:C */
    int effect, expect;
    double band[2];
    int has_band;
    double window[2][2]; /* [mode][from, to] */
    int has_window[3]; /* window, quick.window, full.window */
    double win_all[2];
    double days[2], csv_every;
    int seeds[2];
    int line_of[64]; /* first line of each key (for duplicates) */
    /* resolved */
    char cpath[4096], tpath[4096], rcpath[4096], rtpath[4096];
    long run_c[V_MAX_SEEDS], run_t[V_MAX_SEEDS]; /* indices into the run list */
    long run_rc[V_MAX_SEEDS], run_rt[V_MAX_SEEDS]; /* the reference pair's (contrast experiments) */
} vexp;

/* Arms: 0 control, 1 treated, and for a contrast experiment 2 the
 * reference control, 3 the reference treated arm. */
enum { A_C, A_T, A_RC, A_RT };
static const char *const arm_names[] = { "control", "treated", "reference control", "reference treated" };

static int n_arms(const vexp *e)
{
    return e->contrast ? 4 : e->effect == E_VALUE ? 1 : 2;
}

static const char *arm_scenario(const vexp *e, int arm)
{
    return arm == A_C ? e->control : arm == A_T ? e->treated : arm == A_RC ? e->rcontrol : e->rtreated;
}

static const char *arm_path(const vexp *e, int arm)
{
    return arm == A_C ? e->cpath : arm == A_T ? e->tpath : arm == A_RC ? e->rcpath : e->rtpath;
}

static long arm_run(const vexp *e, int arm, int i)
{
    return arm == A_C ? e->run_c[i] : arm == A_T ? e->run_t[i] : arm == A_RC ? e->run_rc[i] : e->run_rt[i];
}

/* "ratio", "difference", "value"; for a contrast "ratio of ratios" or
 * "difference of differences" */
static const char *effect_label(const vexp *e)
{
    if (!e->contrast) return effect_names[e->effect];
    return e->effect == E_RATIO ? "ratio of ratios" : "difference of differences";
}

/* One pair's paired effect from its two summaries (NaN when undefined). */
static double pair_effect(int effect, double c, double t)
{
    if (isnan(c) || isnan(t)) return VNAN;
    if (effect == E_RATIO) return c > 0 && t >= 0 ? t / c : VNAN;
    return t - c;
}

/* A contrast experiment's per-seed effect: the main pair's effect over
 * (ratios) or minus (differences) the reference pair's. A ratio of ratios
 * needs a positive reference ratio. */
static double contrast_effect(int effect, double e1, double e2)
{
    if (isnan(e1) || isnan(e2)) return VNAN;
    if (effect == E_RATIO) return e2 > 0 ? e1 / e2 : VNAN;
    return e1 - e2;
}

static const char *const keys[] = { "id", "behaviour", "title", "source", "control", "treated", "set", "control_set",
    "treated_set", "observable", "window", "summary", "effect", "expect", "band", "csv_every", "quick.days",
    "quick.seeds", "quick.set", "quick.window", "full.days", "full.seeds", "full.set", "full.window",
    "reference_control", "reference_treated", "reference_control_set", "reference_treated_set", NULL };
enum {
    K_ID,
    K_BEH,
    K_TITLE,
    K_SOURCE,
    K_CONTROL,
    K_TREATED,
    K_SET,
    K_CSET,
    K_TSET,
    K_OBS,
    K_WINDOW,
    K_SUMMARY,
    K_EFFECT,
    K_EXPECT,
    K_BAND,
    K_CSV,
    K_QDAYS,
    K_QSEEDS,
    K_QSET,
    K_QWINDOW,
    K_FDAYS,
    K_FSEEDS,
    K_FSET,
    K_FWINDOW,
    K_RCONTROL,
    K_RTREATED,
    K_RCSET,
    K_RTSET
};

static int vnum(const char *s, double *out)
{
    return bs_arg_decimal(s, out);
}

static int vpair(const char *s, double *a, double *b)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", s);
    char *sp = strpbrk(buf, " ,");
    if (!sp) return 0;
    *sp = '\0';
    char *q = sp + 1;
    while (*q == ' ' || *q == ',') q++;
    return vnum(buf, a) && vnum(q, b);
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t') s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n')) s[--n] = '\0';
    return s;
}

#define VERR(line, ...)                                                                                                \
    do {                                                                                                               \
        fprintf(stderr, "bonesim validate: %s:%d: ", e->path, line);                                                   \
        fprintf(stderr, __VA_ARGS__);                                                                                  \
        fputc('\n', stderr);                                                                                           \
        goto fail;                                                                                                     \
    } while (0)

static int obs_lookup(const char *name, int *col, int *der)
{
    *col = bs_column_index(name);
    *der = -1;
    if (*col > 0) return 1;
    *col = -1;
    for (int d = 0; d < D_N; d++)
        if (strcmp(derived[d].name, name) == 0) *der = d;
    return *der >= 0;
}

/* Parses one experiment file into e. Returns 0, or -1 after printing
 * "file:line: what is wrong (valid ...)". */
static int exp_load(const char *path, vexp *e)
{
    memset(e, 0, sizeof *e);
    snprintf(e->path, sizeof e->path, "%s", path);
    e->col = e->der = -1;
    e->summary = e->effect = e->expect = -1;
    e->csv_every = 1.0;
    struct stat fst;
    if (stat(path, &fst) != 0 || !S_ISREG(fst.st_mode) || fst.st_size > (1 << 20)) {
        fprintf(stderr, "bonesim validate: %s: %s\n", path,
                stat(path, &fst) != 0 ? strerror(errno) : "not a regular file of at most 1 MiB");
        return -1;
    }
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "bonesim validate: %s: cannot read (%s)\n", path, strerror(errno));
        return -1;
    }
    static char text[(1 << 20) + 1];
    size_t tlen = fread(text, 1, sizeof text - 1, f);
    int line = 0;
    if (ferror(f)) VERR(0, "read error (%s)", strerror(errno));
    fclose(f);
    f = NULL;
    text[tlen] = '\0';
    line = 1;
    for (size_t k = 0; k < tlen; k++) {
        if (text[k] == '\0') VERR(line, "NUL byte in the file");
        if (text[k] == '\r' && (k + 1 >= tlen || text[k + 1] != '\n'))
            VERR(line, "carriage return not followed by a line feed (use Unix or DOS line ends)");
        if (text[k] == '\n') line++;
    }
    line = 0;
    char raw[2048];
    for (const char *p = text; *p;) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        line++;
        if (len >= sizeof raw) VERR(line, "line longer than %d characters", (int)sizeof raw - 1);
        memcpy(raw, p, len);
        raw[len] = '\0';
        p = nl ? nl + 1 : p + len;
        char *s = trim(raw);
        if (!*s || *s == '#' || *s == ';') continue;
        char *eq = strchr(s, '=');
        if (!eq) VERR(line, "expected 'key = value', got '%.80s'", s);
        *eq = '\0';
        char *k = trim(s), *v = trim(eq + 1);
        int key = -1;
        for (int i = 0; keys[i]; i++)
            if (strcmp(keys[i], k) == 0) key = i;
        if (key < 0) {
            fprintf(stderr, "bonesim validate: %s:%d: unknown key '%s' (valid keys:", path, line, k);
            for (int i = 0; keys[i]; i++) fprintf(stderr, "%s %s", i ? "," : "", keys[i]);
            fprintf(stderr, ")\n");
            goto fail;
        }
        if (!*v) VERR(line, "%s has no value", k);
        int repeatable = key == K_SET || key == K_CSET || key == K_TSET || key == K_QSET || key == K_FSET ||
                key == K_RCSET || key == K_RTSET;
        if (!repeatable && e->line_of[key]) VERR(line, "%s given twice (first on line %d)", k, e->line_of[key]);
        if (!e->line_of[key]) e->line_of[key] = line;
        double x, y;
        switch (key) {
        case K_ID:
        case K_BEH:
            if (strlen(v) >= 16) VERR(line, "%s '%s' is too long (at most %d characters)", k, v, 15);
            for (const char *q = v; *q; q++)
                if (!((*q >= 'A' && *q <= 'Z') || (*q >= 'a' && *q <= 'z') || (*q >= '0' && *q <= '9') || *q == '_' ||
                            *q == '-'))
                    VERR(line, "%s '%s': only letters, digits, '_' and '-'", k, v);
            snprintf(key == K_ID ? e->id : e->behaviour, 16, "%s", v);
            break;
        case K_TITLE: snprintf(e->title, sizeof e->title, "%s", v); break;
        case K_SOURCE: snprintf(e->source, sizeof e->source, "%s", v); break;
        case K_CONTROL: snprintf(e->control, sizeof e->control, "%s", v); break;
        case K_TREATED: snprintf(e->treated, sizeof e->treated, "%s", v); break;
        case K_RCONTROL: snprintf(e->rcontrol, sizeof e->rcontrol, "%s", v); break;
        case K_RTREATED: snprintf(e->rtreated, sizeof e->rtreated, "%s", v); break;
        case K_SET:
        case K_CSET:
        case K_TSET:
        case K_QSET:
        case K_FSET:
        case K_RCSET:
        case K_RTSET: {
            vset *arr = key == K_SET ? e->sets
                    : key == K_CSET  ? e->cset
                    : key == K_TSET  ? e->tset
                    : key == K_QSET  ? e->mset[M_QUICK]
                    : key == K_FSET  ? e->mset[M_FULL]
                    : key == K_RCSET ? e->rcset
                                     : e->rtset;
            int *n = key == K_SET    ? &e->nsets
                    : key == K_CSET  ? &e->ncset
                    : key == K_TSET  ? &e->ntset
                    : key == K_QSET  ? &e->nmset[M_QUICK]
                    : key == K_FSET  ? &e->nmset[M_FULL]
                    : key == K_RCSET ? &e->nrcset
                                     : &e->nrtset;
            if (*n == V_MAX_SETS) VERR(line, "too many %s lines (at most %d)", k, V_MAX_SETS);
            if (!strchr(v, '=') || strlen(v) >= sizeof arr[0].text)
                VERR(line, "%s '%s': expected section.key=value", k, v);
            char tmp[256];
            snprintf(tmp, sizeof tmp, "%s", v);
            char *q = strchr(tmp, '=');
            *q = '\0';
            snprintf(arr[*n].text, sizeof arr[0].text, "%s=%s", trim(tmp), trim(q + 1));
            arr[*n].line = line;
            (*n)++;
            break;
        }
        case K_OBS:
            if (strlen(v) >= sizeof e->observable) VERR(line, "observable '%s' is too long", v);
            snprintf(e->observable, sizeof e->observable, "%s", v);
            if (!obs_lookup(v, &e->col, &e->der)) {
                for (int i = 0; renamed[i][0]; i++)
                    if (strcmp(renamed[i][0], v) == 0)
                        VERR(line, "observable '%s' is computed under other names: %s (docs/validation.md)", v,
                                renamed[i][1]);
                fprintf(stderr, "bonesim validate: %s:%d: unknown observable '%s' (a CSV column: ", path, line, v);
                for (int c = 1; bs_csv_columns[c]; c++) fprintf(stderr, "%s%s", c > 1 ? ", " : "", bs_csv_columns[c]);
                fprintf(stderr, "; or a derived quantity:");
                for (int d = 0; d < D_N; d++) fprintf(stderr, "%s %s", d ? "," : "", derived[d].name);
                fprintf(stderr, ")\n");
                goto fail;
            }
            break;
        case K_WINDOW:
        case K_QWINDOW:
        case K_FWINDOW:
            if (!vpair(v, &x, &y) || x < 0 || y <= x)
                VERR(line, "%s '%s': expected two days FROM TO with 0 <= FROM < TO", k, v);
            if (key == K_WINDOW) {
                e->win_all[0] = x;
                e->win_all[1] = y;
                e->has_window[0] = 1;
            } else {
                int m = key == K_QWINDOW ? M_QUICK : M_FULL;
                e->window[m][0] = x;
                e->window[m][1] = y;
                e->has_window[1 + m] = 1;
            }
            break;
        case K_SUMMARY: {
            char name[64];
            snprintf(name, sizeof name, "%s", v);
            char *colon = strchr(name, ':');
            if (colon) *colon = '\0';
            for (int i = 0; i < S_N; i++)
                if (strcmp(summaries[i].name, name) == 0) e->summary = i;
            if (e->summary < 0) {
                fprintf(stderr, "bonesim validate: %s:%d: unknown summary '%s' (valid:", path, line, name);
                for (int i = 0; i < S_N; i++) fprintf(stderr, "%s %s", i ? "," : "", summaries[i].name);
                fprintf(stderr, ")\n");
                goto fail;
            }
            if (e->summary == S_SPAN_ABOVE) {
                if (!colon || !vnum(colon + 1, &e->summary_arg))
                    VERR(line, "summary span_above needs a threshold: span_above:X (X a number)");
            } else if (e->summary == S_DOUBLING_RATIO) {
                /* three folds of the window's first value, 1 < A < B < C */
                char *a = colon ? colon + 1 : NULL, *b = a ? strchr(a, ':') : NULL, *c = b ? strchr(b + 1, ':') : NULL;
                if (b) *b++ = '\0';
                if (c) *c++ = '\0';
                if (!a || !b || !c || !vnum(a, &e->summary_fold[0]) || !vnum(b, &e->summary_fold[1]) ||
                        !vnum(c, &e->summary_fold[2]) || !(e->summary_fold[0] > 1.0) ||
                        !(e->summary_fold[1] > e->summary_fold[0]) || !(e->summary_fold[2] > e->summary_fold[1]))
                    VERR(line,
                            "summary doubling_ratio needs three folds of the first value: doubling_ratio:A:B:C "
                            "with 1 < A < B < C (e.g. doubling_ratio:10:30:100)");
            } else if (colon)
                VERR(line, "summary %s takes no ':' argument", name);
            break;
        }
        case K_EFFECT:
        case K_EXPECT: {
            const char *const *names = key == K_EFFECT ? effect_names : expect_names;
            int *dst = key == K_EFFECT ? &e->effect : &e->expect;
            const int nnames = key == K_EFFECT ? 3 : 4;
            for (int i = 0; i < nnames; i++)
                if (strcmp(names[i], v) == 0) *dst = i;
            if (*dst < 0 && key == K_EFFECT)
                VERR(line, "%s '%s' (valid: %s, %s, %s)", k, v, names[0], names[1], names[2]);
            if (*dst < 0) VERR(line, "%s '%s' (valid: %s, %s, %s, %s)", k, v, names[0], names[1], names[2], names[3]);
            break;
        }
        case K_BAND:
            if (!vpair(v, &x, &y) || y < x) VERR(line, "band '%s': expected two numbers LO HI with LO <= HI", v);
            e->band[0] = x;
            e->band[1] = y;
            e->has_band = 1;
            break;
        case K_CSV:
            if (!vnum(v, &x) || x <= 0 || x > 365) VERR(line, "csv_every '%s': a number of days in (0, 365]", v);
            e->csv_every = x;
            break;
        case K_QDAYS:
        case K_FDAYS:
            if (!vnum(v, &x) || x <= 0 || x > 36525) VERR(line, "%s '%s': a number of days in (0, 36525]", k, v);
            e->days[key == K_QDAYS ? M_QUICK : M_FULL] = x;
            break;
        case K_QSEEDS:
        case K_FSEEDS:
            if (!vnum(v, &x) || x < 1 || x > V_MAX_SEEDS || x != floor(x))
                VERR(line, "%s '%s': a whole number in 1 .. %d", k, v, V_MAX_SEEDS);
            e->seeds[key == K_QSEEDS ? M_QUICK : M_FULL] = (int)x;
            break;
        }
    }
    /* required keys and consistency (reported at the end of the file) */
    static const int required[] = { K_ID, K_BEH, K_TITLE, K_SOURCE, K_CONTROL, K_OBS, K_SUMMARY, K_EFFECT, K_EXPECT,
        K_QDAYS, K_QSEEDS, K_FDAYS, K_FSEEDS };
    for (size_t r = 0; r < sizeof required / sizeof required[0]; r++)
        if (!e->line_of[required[r]]) VERR(line, "missing key '%s' (required)", keys[required[r]]);
    for (int m = 0; m < 2; m++) {
        if (!e->has_window[1 + m]) {
            if (!e->has_window[0]) VERR(line, "missing key 'window' (or both quick.window and full.window)");
            e->window[m][0] = e->win_all[0];
            e->window[m][1] = e->win_all[1];
        }
        int wl = e->line_of[m ? K_FWINDOW : K_QWINDOW] ? e->line_of[m ? K_FWINDOW : K_QWINDOW] : e->line_of[K_WINDOW];
        if (e->window[m][1] > e->days[m] + 1e-9)
            VERR(wl, "the %s window ends at day %g, after the %s run's last day %g", mode_names[m], e->window[m][1],
                    mode_names[m], e->days[m]);
        if (e->window[m][1] - e->window[m][0] < e->csv_every)
            VERR(wl, "the %s window is shorter than one CSV interval (%g d)", mode_names[m], e->csv_every);
    }
    int paired = e->line_of[K_TREATED] || e->ntset > 0;
    if (e->effect == E_VALUE) {
        if (paired) VERR(e->line_of[K_EFFECT], "effect = value is one arm: no treated or treated_set");
        if (e->ncset) VERR(e->ncset ? e->cset[0].line : line, "effect = value: use set, not control_set");
        if (!X_IS_BAND(e->expect))
            VERR(e->line_of[K_EXPECT], "effect = value needs expect = band (or band_every_seed)");
    } else if (!paired) {
        VERR(e->line_of[K_EFFECT], "effect = %s compares two arms: give treated and/or treated_set",
                effect_names[e->effect]);
    }
    e->contrast = e->line_of[K_RCONTROL] || e->line_of[K_RTREATED] || e->nrcset > 0 || e->nrtset > 0;
    if (e->contrast) {
        int first = e->line_of[K_RCONTROL] ? e->line_of[K_RCONTROL]
                : e->line_of[K_RTREATED]   ? e->line_of[K_RTREATED]
                : e->nrcset                ? e->rcset[0].line
                                           : e->rtset[0].line;
        if (e->effect == E_VALUE)
            VERR(first, "a reference pair (reference_*) needs effect = ratio or difference, not value");
        if (!e->line_of[K_RCONTROL])
            VERR(first, "a reference pair needs reference_control (the reference pair's control scenario)");
        if (!e->line_of[K_RTREATED] && e->nrtset == 0)
            VERR(e->line_of[K_RCONTROL],
                    "the reference pair compares two arms: give reference_treated and/or reference_treated_set");
    }
    if (X_IS_BAND(e->expect) && !e->has_band)
        VERR(e->line_of[K_EXPECT], "expect = %s needs a band = LO HI line", expect_names[e->expect]);
    if (!X_IS_BAND(e->expect) && e->has_band)
        VERR(e->line_of[K_BAND], "band is only for expect = band or band_every_seed");
    if (!e->treated[0]) snprintf(e->treated, sizeof e->treated, "%s", e->control);
    if (e->contrast && !e->rtreated[0]) snprintf(e->rtreated, sizeof e->rtreated, "%s", e->rcontrol);
    return 0;
fail:
    if (f) fclose(f);
    return -1;
}

/* The sets of one arm in a mode, in order: set, mode.set, arm's sets. */
static int arm_sets(const vexp *e, int arm, int mode, const vset **out)
{
    int n = 0;
    for (int k = 0; k < e->nsets; k++) out[n++] = &e->sets[k];
    for (int k = 0; k < e->nmset[mode]; k++) out[n++] = &e->mset[mode][k];
    const vset *a = arm == A_C ? e->cset : arm == A_T ? e->tset : arm == A_RC ? e->rcset : e->rtset;
    int na = arm == A_C ? e->ncset : arm == A_T ? e->ntset : arm == A_RC ? e->nrcset : e->nrtset;
    for (int k = 0; k < na; k++) out[n++] = &a[k];
    return n;
}

/* Resolves an arm like `bonesim run` would, so bad scenarios and keys are
 * reported before anything starts, with the line of the set at fault. */
static int arm_resolve(
        const vexp *e, int arm, int mode, const vset *const *sv, int n, char *spath, size_t pn, bs_error *err)
{
    bs_cli_opts c;
    memset(&c, 0, sizeof c);
    c.days = e->days[mode];
    c.csv_every = e->csv_every;
    c.png_every = c.ckpt_every = c.max_memory_mb = -1.0;
    c.seed = V_DEFAULT_SEED;
    c.pos[0] = arm_scenario(e, arm);
    c.npos = 1;
    for (int k = 0; k < n; k++) c.sets[c.nsets++] = sv[k]->text;
    bs_registry *reg = NULL;
    bs_paramset *ps = NULL;
    if (bs_resolve_params(&c, &reg, &ps, spath, pn, err) != BS_OK) return -1;
    bs_paramset_destroy(ps);
    bs_registry_destroy(reg);
    return 0;
}

static int arm_check(const vexp *e, int arm, int mode, char *spath, size_t pn)
{
    const vset *sv[3 * V_MAX_SETS];
    int n = arm_sets(e, arm, mode, sv);
    bs_error err = { { 0 } };
    if (arm_resolve(e, arm, mode, sv, n, spath, pn, &err) == 0) return 0;
    if (arm_resolve(e, arm, mode, sv, 0, spath, pn, &err) != 0) {
        static const int key_of[] = { K_CONTROL, K_TREATED, K_RCONTROL, K_RTREATED };
        int l = e->line_of[key_of[arm]] ? e->line_of[key_of[arm]]
                : arm >= A_RC           ? e->line_of[K_RCONTROL]
                                        : e->line_of[K_CONTROL];
        fprintf(stderr, "bonesim validate: %s:%d: %s\n", e->path, l, err.msg);
        return -1;
    }
    for (int upto = 1; upto <= n; upto++)
        if (arm_resolve(e, arm, mode, sv, upto, spath, pn, &err) != 0) {
            fprintf(stderr, "bonesim validate: %s:%d: %s\n", e->path, sv[upto - 1]->line, err.msg);
            return -1;
        }
    fprintf(stderr, "bonesim validate: %s: the %s arm does not resolve\n", e->path, arm_names[arm]);
    return -1;
}

/* ---- runs ------------------------------------------------------------------------------- */

typedef struct {
    char *cmd; /* the command line, for messages, the marker and dedup */
    char dir[4096];
    long long seed;
    int job; /* index in the job array, -1 if already done */
    double wall_s, cpu_s; /* seconds the run took, its CPU seconds (this invocation), 0 if kept */
    double cpu_any_s; /* its CPU seconds, this invocation's or (kept) those its marker recorded */
    double scale; /* the cost table: the most (file seeds / seeds run) of the experiments that use it */
    int mark; /* scratch: counted for the current experiment */
    int failed;
    bs_table tab;
    int loaded;
} vrun;

typedef struct {
    vrun *r;
    long n, cap;
} vruns;

static uint64_t fnv1a(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++) h = (h ^ (uint8_t)*s) * 1099511628211ull;
    return h;
}

/* The run of (experiment, arm, mode, seed): found in the list when an
 * identical one exists, else added. Returns its index or -1. */
static long run_get(vruns *R, const vexp *e, int arm, int mode, long long seed, const char *out)
{
    const vset *sv[3 * V_MAX_SETS];
    int n = arm_sets(e, arm, mode, sv);
    const char *spath = arm_path(e, arm);
    bs_strbuf key = { 0 };
    bs_sb_put(&key, "%s --days %.17g --csv-every %.17g", spath, e->days[mode], e->csv_every);
    for (int k = 0; k < n; k++) bs_sb_put(&key, " --set %s", sv[k]->text);
    if (key.oom) return -1;
    uint64_t h = fnv1a(key.s);
    bs_sb_put(&key, " --seed %lld", seed);
    if (key.oom) return -1;
    for (long i = 0; i < R->n; i++)
        if (strcmp(R->r[i].cmd, key.s) == 0) {
            free(key.s);
            return i;
        }
    if (R->n == R->cap) {
        long cap = R->cap ? R->cap * 2 : 256;
        vrun *nr = realloc(R->r, (size_t)cap * sizeof *nr);
        if (!nr) {
            free(key.s);
            return -1;
        }
        R->r = nr;
        R->cap = cap;
    }
    vrun *r = &R->r[R->n];
    memset(r, 0, sizeof *r);
    r->cmd = key.s;
    r->seed = seed;
    r->job = -1;
    char name[256];
    bs_scenario_name(spath, name, sizeof name);
    snprintf(r->dir, sizeof r->dir, "%.2000s/runs/%.200s-%016llx/seed_%lld", out, name, (unsigned long long)h, seed);
    return R->n++;
}

/* DIR/validate-run.txt: written when a run finished; its text is the run's
 * command, so a changed experiment never reuses an old run. */
static FILE *open_marker(const vrun *r)
{
    char p[4200];
    snprintf(p, sizeof p, "%s/validate-run.txt", r->dir);
    return fopen(p, "rb");
}

static int run_finished(const vrun *r)
{
    FILE *f = open_marker(r);
    if (!f) return 0;
    char buf[16384];
    size_t got = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[got] = '\0';
    size_t l = strlen(r->cmd);
    return got >= l + 1 && strncmp(buf, r->cmd, l) == 0 && buf[l] == '\n';
}

/* the CPU seconds a kept run took when it ran (its marker's cpu_s line);
 * 0 when the marker does not say */
static double run_marker_cpu(const vrun *r)
{
    FILE *f = open_marker(r);
    if (!f) return 0.0;
    char line[16384];
    double cpu = 0.0;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, "cpu_s = ", 8) == 0) {
            char *end;
            double x = strtod(line + 8, &end);
            if (end != line + 8 && isfinite(x) && x >= 0) cpu = x;
        }
    fclose(f);
    return cpu;
}

static void run_done_cb(void *ctx, bs_job *j)
{
    vruns *R = ctx;
    vrun *r = &R->r[j->index];
    char p[4200];
    snprintf(p, sizeof p, "%s/validate-run.txt", r->dir);
    bs_strbuf b = { 0 };
    bs_sb_put(&b, "%s\nwall_s = %.2f\ncpu_s = %.2f\n", r->cmd, j->wall_s, j->cpu_s);
    r->wall_s = j->wall_s;
    r->cpu_s = j->cpu_s;
    bs_error err = { { 0 } };
    if (b.oom || bs_write_file_atomic(p, b.s, b.n, &err) != BS_OK)
        fprintf(stderr, "\nbonesim validate: %s: %s (the run will be redone by --resume)\n", p, err.msg);
    free(b.s);
}

static int job_args_for(bs_job *j, const vexp *e, int arm, int mode, const vrun *r, int force)
{
    const vset *sv[3 * V_MAX_SETS];
    int n = arm_sets(e, arm, mode, sv);
    bs_argv *a = &j->args;
    char seed[32];
    snprintf(seed, sizeof seed, "%lld", r->seed);
    int bad = bs_argv_push(a, "bonesim") || bs_argv_push(a, "run") || bs_argv_push(a, arm_path(e, arm)) ||
            bs_argv_push(a, "--seed") || bs_argv_push(a, seed) || bs_argv_push_num(a, "--days", e->days[mode]) ||
            bs_argv_push_num(a, "--csv-every", e->csv_every) || bs_argv_push(a, "--threads") || bs_argv_push(a, "1") ||
            bs_argv_push(a, "--quiet") || bs_argv_push(a, "--no-png") || bs_argv_push(a, "--out") ||
            bs_argv_push(a, r->dir) || bs_argv_push(a, "--force");
    (void)force;
    for (int k = 0; k < n && !bad; k++) bad = bs_argv_push(a, "--set") || bs_argv_push(a, sv[k]->text);
    return bad ? -1 : 0;
}

/* ---- per-run observable and summary ------------------------------------------------------- */

static double obs_at(const vexp *e, const bs_table *t, int r)
{
    if (e->col > 0) return bs_tv(t, r, e->col);
#define C(name) bs_tv(t, r, bs_column_index(name))
    double a, b;
    switch (e->der) {
    case D_DORMANT_FRAC: b = C("n_dtc"); return b > 0 ? C("n_dtc_dormant") / b : VNAN;
    case D_PROLIF_FRAC: b = C("n_dtc"); return b > 0 ? C("n_dtc_proliferating") / b : VNAN;
    case D_EXTRAV_FRAC: b = C("n_ctc_arrived"); return b > 0 ? C("n_extravasated") / b : VNAN;
    case D_TACTIVE_FRAC: b = C("n_tcells"); return b > 0 ? C("n_tcells_active") / b : VNAN;
    case D_REMODELING_FRAC: return 1.0 - C("endosteum_quiescent_frac");
    case D_NET_RESORBED: return C("resorbed_um2_per_day") - C("formed_um2_per_day");
    case D_BONE_LOSS: a = bs_tv(t, 0, bs_column_index("bone_area_um2")); return a - C("bone_area_um2");
    case D_BONE_REL: a = bs_tv(t, 0, bs_column_index("bone_area_um2")); return a > 0 ? C("bone_area_um2") / a : VNAN;
    case D_NK_KILLS_PER_NK: b = C("n_nk"); return b > 0 ? C("kills_nk_per_day") / b : VNAN;
    case D_T_KILLS_PER_T: b = C("n_tcells"); return b > 0 ? C("kills_tcell_per_day") / b : VNAN;
    case D_O2_CONTRAST: return C("o2_endosteal_mmHg") - C("o2_perisinusoidal_mmHg");
    case D_LINEAGE_BRC_FRAC: b = C("n_dtc"); return b > 0 ? C("n_dtc_lineage_brc") / b : VNAN;
    case D_LINEAGE_QUIESCENT_FRAC: b = C("n_dtc"); return b > 0 ? C("n_dtc_lineage_quiescent") / b : VNAN;
    case D_OC_NEAR_TUMOUR_FRAC: b = C("n_osteoclasts"); return b > 0 ? C("n_osteoclasts_near_tumour") / b : VNAN;
    case D_DTC_ENDO_SHARE:
        b = C("n_dtc_endosteal") + C("n_dtc_perivascular");
        return b > 0 ? C("n_dtc_endosteal") / b : VNAN;
    case D_DORMANT_BLOOD: b = C("n_dtc_lineage_blood"); return b > 0 ? C("n_dtc_dormant_lineage_blood") / b : VNAN;
    case D_DORMANT_QUIESCENT:
        b = C("n_dtc_lineage_quiescent");
        return b > 0 ? C("n_dtc_dormant_lineage_quiescent") / b : VNAN;
    case D_DORMANT_BRC: b = C("n_dtc_lineage_brc"); return b > 0 ? C("n_dtc_dormant_lineage_brc") / b : VNAN;
    case D_DORMANT_BRC_VS_Q: {
        double nq = C("n_dtc_lineage_quiescent"), nb = C("n_dtc_lineage_brc");
        if (!(nq > 0) || !(nb > 0)) return VNAN;
        double fq = C("n_dtc_dormant_lineage_quiescent") / nq, fb = C("n_dtc_dormant_lineage_brc") / nb;
        return fq > 0 ? fb / fq : VNAN;
    }
    case D_CXCL12_SETTLED: return C("n_dtc_settled") > 0 ? C("cxcl12_settled_dtc_au") : VNAN;
    case D_RES_PER_EVENT: return C("bmu_events_done") > 0 ? C("bmu_resorption_d") : VNAN;
    case D_REV_PER_EVENT: return C("bmu_events_done") > 0 ? C("bmu_reversal_d") : VNAN;
    case D_FORM_PER_EVENT: return C("bmu_events_done") > 0 ? C("bmu_formation_d") : VNAN;
    case D_EVENT_PER_EVENT: return C("bmu_events_done") > 0 ? C("bmu_event_d") : VNAN;
    case D_DEPTH_PER_EVENT: return C("bmu_events_done") > 0 ? C("bmu_depth_um") : VNAN;
    case D_REFILL_PER_EVENT: return C("bmu_events_done") > 0 ? C("bmu_refill") : VNAN;
    case D_T_KILLS_PER_CONTACT: b = C("tcell_contacts_mean"); return b > 0 ? C("kills_tcell_per_day") / b : VNAN;
    case D_NK_KILLS_PER_CONTACT: b = C("nk_contacts_mean"); return b > 0 ? C("kills_nk_per_day") / b : VNAN;
    case D_NK_KILLS_PER_CONTACT_HYP:
        b = C("nk_contacts_hypoxic_mean");
        return b > 0 ? C("kills_nk_hypoxic_per_day") / b : VNAN;
    case D_NK_KILLS_PER_CONTACT_NORM:
        b = C("nk_contacts_mean") - C("nk_contacts_hypoxic_mean");
        return b > 1e-12 ? (C("kills_nk_per_day") - C("kills_nk_hypoxic_per_day")) / b : VNAN;
    }
#undef C
    return VNAN;
}

/* The run's summary of the observable over [w0, w1]; NaN when the window
 * holds no usable row. */
static double run_summary(const vexp *e, const bs_table *t, double w0, double w1)
{
    int n = 0, cap = t->nrow;
    double *v = malloc((size_t)(cap > 0 ? cap : 1) * sizeof *v), *tt = malloc((size_t)(cap > 0 ? cap : 1) * sizeof *tt);
    if (!v || !tt) {
        free(v);
        free(tt);
        return VNAN;
    }
    for (int r = 0; r < t->nrow; r++) {
        double day = bs_tv(t, r, 0);
        if (day < w0 - 1e-9 || day > w1 + 1e-9) continue;
        double x = obs_at(e, t, r);
        if (isnan(x)) continue;
        v[n] = x;
        tt[n++] = day;
    }
    double res = VNAN;
    if (n > 0) {
        double sum = 0, mx = v[0], mn = v[0];
        int imax = 0;
        for (int i = 0; i < n; i++) {
            sum += v[i];
            if (v[i] > mx) {
                mx = v[i];
                imax = i;
            }
            mn = fmin(mn, v[i]);
        }
        double mean = sum / n;
        switch (e->summary) {
        case S_MEAN: res = mean; break;
        case S_MEDIAN: res = bs_median_of(v, n); break;
        case S_FINAL: res = v[n - 1]; break;
        case S_FIRST: res = v[0]; break;
        case S_MIN: res = mn; break;
        case S_MAX: res = mx; break;
        case S_CHANGE: res = v[n - 1] - v[0]; break;
        case S_REL_CHANGE: res = v[0] != 0 ? (v[n - 1] - v[0]) / v[0] : VNAN; break;
        case S_MAX_ABS_DEV:
            res = 0;
            if (mean == 0) {
                res = VNAN;
                break;
            }
            for (int i = 0; i < n; i++) res = fmax(res, fabs(v[i] / mean - 1.0));
            break;
        case S_HALF_RATIO: {
            double s1 = 0, s2 = 0;
            int n1 = 0, n2 = 0;
            double mid = 0.5 * (w0 + w1);
            for (int i = 0; i < n; i++) {
                if (tt[i] < mid) {
                    s1 += v[i];
                    n1++;
                } else {
                    s2 += v[i];
                    n2++;
                }
            }
            res = n1 && n2 && s1 != 0 ? (s2 / n2) / (s1 / n1) : VNAN;
            break;
        }
        case S_SPAN_ABOVE: {
            int first = -1, last = -1;
            for (int i = 0; i < n; i++)
                if (v[i] > e->summary_arg) {
                    if (first < 0) first = i;
                    last = i;
                }
            res = first < 0 ? 0.0 : tt[last] - tt[first] + e->csv_every;
            break;
        }
        case S_DAY_OF_MAX: res = tt[imax] - w0; break;
        case S_DOUBLING:
            res = n >= 2 && v[0] > 0 && v[n - 1] > v[0] ? (tt[n - 1] - tt[0]) * log(2.0) / log(v[n - 1] / v[0]) : VNAN;
            break;
        case S_SLOPE_PER_Y: {
            /* ordinary least squares, time in days, centred for accuracy */
            double tm = 0, sxy = 0, sxx = 0;
            for (int i = 0; i < n; i++) tm += tt[i];
            tm /= n;
            for (int i = 0; i < n; i++) {
                sxy += (tt[i] - tm) * (v[i] - mean);
                sxx += (tt[i] - tm) * (tt[i] - tm);
            }
            res = sxx > 0 ? 365.25 * sxy / sxx : VNAN;
            break;
        }
        case S_MAX_ABS_DEV_FIRST:
            res = 0;
            if (v[0] == 0) {
                res = VNAN;
                break;
            }
            for (int i = 0; i < n; i++) res = fmax(res, fabs(v[i] / v[0] - 1.0));
            break;
        case S_DOUBLING_RATIO: {
            /* the day each level is first reached, log-linear between the
             * row below it and the row at or above it */
            double tc[3];
            int ok = v[0] > 0;
            for (int k = 0; k < 3 && ok; k++) {
                double lvl = e->summary_fold[k] * v[0];
                int i = 1;
                while (i < n && v[i] < lvl) i++;
                if (i >= n) {
                    ok = 0;
                    break;
                }
                double a = v[i - 1], b = v[i];
                tc[k] = a > 0 && b > a ? tt[i - 1] + (tt[i] - tt[i - 1]) * log(lvl / a) / log(b / a) : tt[i];
            }
            if (ok) {
                double d1 = (tc[1] - tc[0]) * log(2.0) / log(e->summary_fold[1] / e->summary_fold[0]);
                double d2 = (tc[2] - tc[1]) * log(2.0) / log(e->summary_fold[2] / e->summary_fold[1]);
                res = d1 > 0 ? d2 / d1 : VNAN;
            }
            break;
        }
        }
    }
    free(v);
    free(tt);
    return res;
}

/* ---- statistics and verdicts ---------------------------------------------------------------- */

typedef struct {
    int n; /* usable pairs (or runs for effect = value) */
    double *c, *t, *eff; /* per seed (NaN when unusable) */
    double *rc, *rt, *e1, *e2; /* contrast experiments: the reference pair's summaries, the main and the
                                * reference pair's effects per seed */
    double median, spread_lo, spread_hi, ci_lo, ci_hi, p, w_plus;
    int has_ci, has_p, m_used;
    int verdict; /* V_PASS ... */
    char why[512], ci_why[256];
    int failed_runs;
    double cpu_s, cpu_est_s; /* the cost table: CPU s of its runs, and at the file's seeds */
} vresult;

enum { V_PASS, V_FAIL, V_WEAK, V_DIRECTION_ONLY, V_ERROR };
static const char *const verdict_names[] = { "pass", "FAIL", "not significant", "direction only", "error" };

static void evaluate(const vexp *e, int nseeds, long long seed0, vresult *res)
{
    double *x = malloc((size_t)nseeds * sizeof *x), *tmp = malloc((size_t)(nseeds + BS_BOOT_N) * sizeof *tmp);
    int n = 0;
    for (int i = 0; i < nseeds; i++)
        if (!isnan(res->eff[i])) x[n++] = res->eff[i];
    res->n = n;
    if (res->failed_runs) {
        res->verdict = V_ERROR;
        snprintf(res->why, sizeof res->why, "%d run%s failed (listed below)", res->failed_runs,
                res->failed_runs == 1 ? "" : "s");
        free(x);
        free(tmp);
        return;
    }
    if (n == 0) {
        res->verdict = V_ERROR;
        snprintf(res->why, sizeof res->why,
                "no usable value: the observable is undefined in the window for every seed%s",
                e->effect == E_RATIO ? " (or the control is not positive, so no ratio)" : "");
        free(x);
        free(tmp);
        return;
    }
    res->median = bs_median_of(x, n);
    memcpy(tmp, x, (size_t)n * sizeof *x);
    if (n >= V_MIN_PAIRS_CI) {
        res->spread_lo = bs_quantile(tmp, n, 0.25);
        res->spread_hi = bs_quantile(tmp, n, 0.75);
        bs_boot_median_ci(x, n, fnv1a(e->id), tmp, &res->ci_lo, &res->ci_hi);
        res->has_ci = 1;
    } else {
        qsort(tmp, (size_t)n, sizeof *tmp, bs_cmp_dbl);
        res->spread_lo = tmp[0];
        res->spread_hi = tmp[n - 1];
        snprintf(res->ci_why, sizeof res->ci_why, "no interval: %d %s, fewer than %d", n,
                e->effect == E_VALUE ? "runs" : "pairs", V_MIN_PAIRS_CI);
    }
    double null = e->effect == E_RATIO ? 1.0 : 0.0;
    if (e->expect == X_BAND_EVERY) {
        /* every usable seed inside the band, not only the median; a seed
         * without a value counts as outside */
        int nin = 0, worst = -1;
        double worst_d = -1.0;
        for (int i = 0; i < nseeds; i++) {
            const double v = res->eff[i];
            const double d = isnan(v) ? (double)INFINITY
                    : v < e->band[0]  ? e->band[0] - v
                    : v > e->band[1]  ? v - e->band[1]
                                      : 0;
            if (d == 0) nin++;
            if (d > worst_d) {
                worst_d = d;
                worst = i;
            }
        }
        res->verdict = nin == nseeds ? V_PASS : V_FAIL;
        if (nin == nseeds)
            snprintf(res->why, sizeof res->why, "every seed (%d of %d) is inside the band %g .. %g; median %.4g", nin,
                    nseeds, e->band[0], e->band[1], res->median);
        else
            snprintf(res->why, sizeof res->why,
                    "%d of %d seeds inside the band %g .. %g; farthest out: seed %lld, value %.4g; median %.4g", nin,
                    nseeds, e->band[0], e->band[1], seed0 + worst, res->eff[worst], res->median);
    } else if (e->expect == X_BAND) {
        int in = res->median >= e->band[0] && res->median <= e->band[1];
        res->verdict = in ? V_PASS : V_FAIL;
        snprintf(res->why, sizeof res->why, "median %.4g is %s the band %g .. %g", res->median,
                in ? "inside" : "outside", e->band[0], e->band[1]);
    } else {
        int alt = e->expect == X_INCREASE ? 1 : -1;
        double *d = malloc((size_t)n * sizeof *d);
        for (int i = 0; i < n; i++) d[i] = e->effect == E_RATIO ? log(x[i]) : x[i];
        res->p = bs_wilcoxon_signed_rank(d, n, alt, &res->m_used, &res->w_plus);
        res->has_p = !isnan(res->p);
        free(d);
        int right = alt > 0 ? res->median > null : res->median < null;
        if (!right) {
            res->verdict = V_FAIL;
            snprintf(res->why, sizeof res->why, "median %s %.4g is not %s %g", effect_label(e), res->median,
                    alt > 0 ? "above" : "below", null);
        } else if (n < V_MIN_PAIRS_CI || res->m_used < V_MIN_PAIRS_CI) {
            res->verdict = V_DIRECTION_ONLY;
            snprintf(res->why, sizeof res->why,
                    "median in the expected direction, but %d non-tied pairs cannot give p < %.2f (the smallest "
                    "one-sided p is 2^-%d = %.3g)",
                    res->m_used, V_ALPHA, res->m_used, pow(2.0, -res->m_used));
        } else if (res->p < V_ALPHA) {
            res->verdict = V_PASS;
            snprintf(res->why, sizeof res->why, "median in the expected direction, one-sided p = %.3g < %.2f", res->p,
                    V_ALPHA);
        } else {
            res->verdict = V_WEAK;
            snprintf(res->why, sizeof res->why, "median in the expected direction, but one-sided p = %.3g >= %.2f",
                    res->p, V_ALPHA);
        }
    }
    free(x);
    free(tmp);
}

/* ---- the report ------------------------------------------------------------------------------ */

static void json_num(bs_strbuf *b, double v)
{
    if (isfinite(v))
        bs_sb_put(b, "%.10g", v);
    else
        bs_sb_put(b, "null");
}

static void md_cell(bs_strbuf *b, const char *s)
{
    for (; *s; s++) bs_sb_put(b, *s == '|' ? "\\|" : "%c", *s);
}

static void obs_label(const vexp *e, char *out, size_t n)
{
    if (e->der >= 0)
        snprintf(out, n, "%s (%s, derived)", e->observable, derived[e->der].unit);
    else
        snprintf(out, n, "%s", e->observable);
}

static void arm_text(const vexp *e, int arm, int mode, char *out, size_t n)
{
    const vset *sv[3 * V_MAX_SETS];
    int k = arm_sets(e, arm, mode, sv);
    size_t len = (size_t)snprintf(out, n, "%s", arm_scenario(e, arm));
    for (int i = 0; i < k && len < n; i++) len += (size_t)snprintf(out + len, n - len, " %s", sv[i]->text);
}

/* The figure: the observable per row, median and IQR (range when fewer
 * than 5 runs) over seeds, per arm. */
static int write_figure(const char *path, const vexp *e, const vresult *res, int mode, int nseeds, const vruns *R,
        char *why, size_t whyn)
{
    /* a contrast experiment draws its two pairs' per-row effects (series 0
     * the main pair, 1 the reference pair); the others their arms */
    int narms = e->effect == E_VALUE ? 1 : 2;
    const bs_table *t0 = &R->r[e->run_c[0]].tab;
    int nrow = t0->nrow;
    for (int arm = 0; arm < n_arms(e); arm++)
        for (int i = 0; i < nseeds; i++) {
            const bs_table *t = &R->r[arm_run(e, arm, i)].tab;
            if (t->nrow < nrow) nrow = t->nrow;
        }
    double *buf = malloc((size_t)(7 * nrow + nseeds + 1) * sizeof *buf);
    if (!buf) {
        snprintf(why, whyn, "out of memory");
        return -1;
    }
    double *tt = buf, *med[2], *lo[2], *hi[2], *x = buf + 7 * nrow;
    for (int arm = 0; arm < 2; arm++) {
        med[arm] = buf + nrow * (1 + 3 * arm);
        lo[arm] = med[arm] + nrow;
        hi[arm] = lo[arm] + nrow;
    }
    for (int r = 0; r < nrow; r++) tt[r] = bs_tv(t0, r, 0);
    int band_iqr = 1;
    for (int arm = 0; arm < narms; arm++)
        for (int r = 0; r < nrow; r++) {
            int n = 0;
            for (int i = 0; i < nseeds; i++) {
                double v;
                if (e->contrast)
                    v = pair_effect(e->effect, obs_at(e, &R->r[arm_run(e, arm ? A_RC : A_C, i)].tab, r),
                            obs_at(e, &R->r[arm_run(e, arm ? A_RT : A_T, i)].tab, r));
                else
                    v = obs_at(e, &R->r[arm ? e->run_t[i] : e->run_c[i]].tab, r);
                if (!isnan(v)) x[n++] = v;
            }
            if (n == 0) {
                med[arm][r] = lo[arm][r] = hi[arm][r] = VNAN;
                continue;
            }
            if (n < V_MIN_PAIRS_CI) band_iqr = 0;
            med[arm][r] = bs_quantile(x, n, 0.5);
            lo[arm][r] = n >= V_MIN_PAIRS_CI ? bs_quantile(x, n, 0.25) : x[0];
            hi[arm][r] = n >= V_MIN_PAIRS_CI ? bs_quantile(x, n, 0.75) : x[n - 1];
        }
    char l0[300], l1[300], l2[300], a0[600], a1[600], ylab[160];
    snprintf(l0, sizeof l0, "%s (%s): %.200s", e->id, e->behaviour, e->title);
    snprintf(l1, sizeof l1, "verdict: %s. %.220s", verdict_names[res->verdict], res->why);
    snprintf(l2, sizeof l2, "line: median of %d seeds; band: %s; grey: window %g-%g d", nseeds,
            band_iqr ? "IQR" : "min-max range (<5 seeds)", e->window[mode][0], e->window[mode][1]);
    char t[500], u[500];
    arm_text(e, 0, mode, t, sizeof t);
    arm_text(e, 1, mode, u, sizeof u);
    if (e->contrast) { /* the scenario names only: the sets are in report.md */
        snprintf(a0, sizeof a0, "main pair, %s: %.120s %s %.120s%s", effect_names[e->effect], e->treated,
                e->effect == E_RATIO ? "/" : "-", e->control, e->ntset || e->ncset ? " (with its sets)" : "");
        snprintf(a1, sizeof a1, "reference pair, %s: %.120s %s %.120s%s", effect_names[e->effect], e->rtreated,
                e->effect == E_RATIO ? "/" : "-", e->rcontrol, e->nrtset || e->nrcset ? " (with its sets)" : "");
    } else {
        snprintf(a0, sizeof a0, "%s: %.280s", narms == 1 ? "runs" : "control", t);
        snprintf(a1, sizeof a1, "treated: %.280s", u);
    }
    obs_label(e, ylab, sizeof ylab);
    if (e->contrast) {
        char ob[160];
        snprintf(ob, sizeof ob, "%s", ylab);
        snprintf(ylab, sizeof ylab, "%s of %.120s per row", e->effect == E_RATIO ? "ratio" : "difference", ob);
    }
    /* the heading wrapped at spaces to fit the 1200-pixel figure (98 characters a line) */
    static char wrapped[8][128];
    const char *lines[8], *src[3] = { l0, l1, l2 };
    int nl = 0;
    for (int k = 0; k < 3; k++) {
        const char *p = src[k];
        while (*p && nl < 8) {
            size_t len = strlen(p), take = len;
            if (len > 98) {
                take = 98;
                while (take > 40 && p[take] != ' ') take--;
            }
            snprintf(wrapped[nl], sizeof wrapped[nl], "%s%.*s", p == src[k] ? "" : "  ", (int)take, p);
            lines[nl] = wrapped[nl];
            nl++;
            p += take;
            while (*p == ' ') p++;
        }
    }
    const char *labels[2] = { a0, a1 };
    const double *m2[2] = { med[0], med[1] }, *lo2[2] = { lo[0], lo[1] }, *hi2[2] = { hi[0], hi[1] };
    int rc = bs_plot_arms(path, lines, nl, labels, narms, ylab, tt, nrow, m2, lo2, hi2, e->days[mode],
            e->window[mode][0], e->window[mode][1], why, whyn);
    free(buf);
    return rc;
}

/* ---- the command -------------------------------------------------------------------------------- */

void bs_usage_validate(FILE *f)
{
    fprintf(f,
            "usage: bonesim validate [B...] [--quick | --full] [--seeds N] [--seed S] [--jobs J]\n"
            "                        [--out DIR] [--resume | --force] [--experiments DIR] [--list] [--quiet]\n"
            "\n"
            "Runs each behaviour's virtual experiment: the control and treated arms on the same\n"
            "seeds (paired), the observable summarised over its window per run, the paired effect\n"
            "(ratio treated/control, difference, or the value of one arm) per seed; then the median\n"
            "effect, its IQR (a range when fewer than %d pairs), a bootstrap 95%% interval of the\n"
            "median (%d resamples, fixed RNG key; none with fewer than %d pairs), a one-sided\n"
            "Wilcoxon signed-rank p-value (exact; on log ratios for ratios) against the expected\n"
            "direction, and a verdict: pass (direction with p < %.2f, or median inside the band),\n"
            "FAIL, not significant, direction only (too few pairs to test), or error (a run failed).\n"
            "\n"
            "Experiments are data files, one per behaviour claim, in scenarios/validation/*.ini\n"
            "(or --experiments DIR); the format is in docs/validation.md. B... selects behaviours\n"
            "(B5) or experiment ids (B5a) or files; default all. Identical runs shared by several\n"
            "experiments run once. A file with a reference pair (reference_control, reference_treated)\n"
            "is a contrast: per seed the main pair's effect over (ratio) or minus (difference) the\n"
            "reference pair's, tested like any paired effect.\n"
            "\n"
            "options:\n"
            "  --quick             reduced sizes, days and seeds from each file's quick.* keys (default)\n"
            "  --full              full sizes, days and seeds from the files' full.* keys\n"
            "  --seeds N           seeds per experiment instead of the file's (1 .. %d)\n"
            "  --seed S            first seed (default %d; seeds S .. S+N-1; the calibration used\n"
            "                      other seeds, see docs/calibration.md)\n"
            "  --jobs J            runs at once (default: the number of cores)\n"
            "  --out DIR           output folder (default: out/validate-quick or out/validate-full)\n"
            "  --resume            finish an interrupted validation in DIR: runs whose marker\n"
            "                      (validate-run.txt, the run's command) matches are kept\n"
            "  --force             start over in a DIR that holds a validation, removing what that\n"
            "                      validation wrote (listed in DIR/experiment-outputs.txt), nothing else\n"
            "  --experiments DIR   read the experiment files from DIR\n"
            "  --list              check every experiment file (scenarios and overrides resolve) and\n"
            "                      list the experiments, then exit\n"
            "  --quiet             no progress\n"
            "\n"
            "Writes DIR/report.md (summary table, per-experiment sections with the per-seed values,\n"
            "the seeds and commands, and a cost table: the CPU seconds per experiment and per seed and\n"
            "the cost at the files' seeds, so --seeds 1 estimates a whole run), DIR/fig/ID.png\n"
            "(both arms over time: median and IQR or range, "
            "the window shaded, the verdict), DIR/results.json, and keeps every run in DIR/runs/.\n"
            "Exit status: 0 all pass or untestable, %d an expectation failed, 1 a run failed, 2 bad\n"
            "input, 130/143 stopped by a signal (continue with --resume).\n",
            V_MIN_PAIRS_CI, BS_BOOT_N, V_MIN_PAIRS_CI, V_ALPHA, V_MAX_SEEDS, V_DEFAULT_SEED, BS_EXIT_VALIDATE_FAILED);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int has_suffix(const char *s, const char *suf)
{
    size_t a = strlen(s), b = strlen(suf);
    return a > b && strcmp(s + a - b, suf) == 0;
}

int bs_cmd_validate(int argc, char **argv)
{
    int mode = M_QUICK, mode_given = 0, resume = 0, force = 0, quiet = 0, list = 0, jobs = 0, nseeds_opt = 0;
    long long seed0 = V_DEFAULT_SEED;
    const char *out_opt = NULL, *expdir = NULL;
    const char *sel[V_MAX_EXP];
    int nsel = 0;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            bs_usage_validate(stdout);
            return 0;
        }
        if (strcmp(a, "--quick") == 0 || strcmp(a, "--full") == 0) {
            int m = a[2] == 'q' ? M_QUICK : M_FULL;
            if (mode_given && m != mode) {
                fprintf(stderr, "bonesim validate: --quick and --full contradict each other\n");
                return BS_EXIT_USAGE;
            }
            mode = m;
            mode_given = 1;
        } else if (strcmp(a, "--resume") == 0)
            resume = 1;
        else if (strcmp(a, "--force") == 0)
            force = 1;
        else if (strcmp(a, "--quiet") == 0)
            quiet = 1;
        else if (strcmp(a, "--list") == 0)
            list = 1;
        else if (strcmp(a, "--seeds") == 0 || strcmp(a, "--seed") == 0 || strcmp(a, "--jobs") == 0 ||
                strcmp(a, "--out") == 0 || strcmp(a, "--experiments") == 0) {
            if (i + 1 >= argc) {
                fprintf(stderr, "bonesim validate: %s needs a value (see bonesim validate --help)\n", a);
                return BS_EXIT_USAGE;
            }
            const char *v = argv[++i];
            double x;
            if (strcmp(a, "--out") == 0 || strcmp(a, "--experiments") == 0) {
                if (!v[0] || strlen(v) > 2000) {
                    fprintf(stderr, "bonesim validate: %s needs a folder name (at most 2000 characters)\n", a);
                    return BS_EXIT_USAGE;
                }
                if (a[2] == 'o')
                    out_opt = v;
                else
                    expdir = v;
            } else if (strcmp(a, "--seeds") == 0) {
                if (!vnum(v, &x) || x < 1 || x > V_MAX_SEEDS || x != floor(x)) {
                    fprintf(stderr, "bonesim validate: --seeds '%s' must be a whole number in 1 .. %d\n", v,
                            V_MAX_SEEDS);
                    return BS_EXIT_USAGE;
                }
                nseeds_opt = (int)x;
            } else if (strcmp(a, "--seed") == 0) {
                if (!vnum(v, &x) || x < 0 || x > 9007199254740991.0 - V_MAX_SEEDS || x != floor(x)) {
                    fprintf(stderr, "bonesim validate: --seed '%s' must be a whole number in 0 .. %.0f\n", v,
                            9007199254740991.0 - V_MAX_SEEDS);
                    return BS_EXIT_USAGE;
                }
                seed0 = (long long)x;
            } else {
                if (!vnum(v, &x) || x < 1 || x > 1024 || x != floor(x)) {
                    fprintf(stderr, "bonesim validate: --jobs '%s' must be a whole number in 1 .. 1024\n", v);
                    return BS_EXIT_USAGE;
                }
                jobs = (int)x;
            }
        } else if (a[0] == '-') {
            fprintf(stderr, "bonesim validate: unknown option '%s' (see bonesim validate --help)\n", a);
            return BS_EXIT_USAGE;
        } else {
            if (nsel == V_MAX_EXP) {
                fprintf(stderr, "bonesim validate: too many selections (at most %d)\n", V_MAX_EXP);
                return BS_EXIT_USAGE;
            }
            sel[nsel++] = a;
        }
    }
    if (resume && force) {
        fprintf(stderr, "bonesim validate: --resume and --force contradict each other (continue, or start over?)\n");
        return BS_EXIT_USAGE;
    }
    if (jobs == 0 && bs_mpi_size() > 1) jobs = 1; /* under MPI: per rank (docs/cluster.md) */
    if (jobs == 0) {
        long nc = sysconf(_SC_NPROCESSORS_ONLN);
        jobs = nc > 0 ? (int)(nc > 1024 ? 1024 : nc) : 1;
    }
    /* the experiment files */
    char dirbuf[4096];
    if (!expdir) {
        /* the first scenario folder (engine/datadir.h order) that has a validation/ folder */
        const char *dirs[BS_DATADIR_MAX];
        int nd = bs_scenario_dirs(dirs);
        snprintf(dirbuf, sizeof dirbuf, "%s/validation", bs_scenario_dir());
        for (int k = nd - 1; k >= 0; k--) {
            char cand[4096];
            struct stat cs;
            snprintf(cand, sizeof cand, "%.4000s/validation", dirs[k]);
            if (stat(cand, &cs) == 0 && S_ISDIR(cs.st_mode)) snprintf(dirbuf, sizeof dirbuf, "%s", cand);
        }
        expdir = dirbuf;
    }
    char *files[V_MAX_EXP];
    int nfiles = 0;
    DIR *d = opendir(expdir);
    if (!d) {
        fprintf(stderr, "bonesim validate: %s: cannot read the experiment folder (%s)\n", expdir, strerror(errno));
        return BS_EXIT_USAGE;
    }
    struct dirent *de;
    int too_many = 0;
    while ((de = readdir(d))) {
        if (!has_suffix(de->d_name, ".ini") || de->d_name[0] == '.') continue;
        if (nfiles == V_MAX_EXP) {
            too_many = 1;
            break;
        }
        char p[4400];
        snprintf(p, sizeof p, "%s/%s", expdir, de->d_name);
        files[nfiles++] = strdup(p);
    }
    closedir(d);
    int rc = BS_EXIT_OK;
    vexp *E = calloc(V_MAX_EXP, sizeof *E);
    int nexp = 0;
    if (!E || too_many) {
        fprintf(stderr, "bonesim validate: %s\n", too_many ? "more than 256 experiment files" : "out of memory");
        rc = too_many ? BS_EXIT_USAGE : BS_EXIT_ERROR;
    }
    /* selections that are files are read too */
    for (int s = 0; s < nsel && rc == BS_EXIT_OK; s++)
        if (has_suffix(sel[s], ".ini")) {
            if (nfiles == V_MAX_EXP) {
                rc = BS_EXIT_USAGE;
                break;
            }
            files[nfiles++] = strdup(sel[s]);
        }
    qsort(files, (size_t)nfiles, sizeof *files, cmp_str);
    for (int k = 0; k < nfiles && rc == BS_EXIT_OK; k++) {
        if (exp_load(files[k], &E[nexp]) != 0) {
            rc = BS_EXIT_USAGE;
            break;
        }
        int keep = nsel == 0;
        for (int s = 0; s < nsel; s++)
            keep |= strcmp(sel[s], E[nexp].id) == 0 || strcmp(sel[s], E[nexp].behaviour) == 0 ||
                    strcmp(sel[s], files[k]) == 0;
        for (int p = 0; p < nexp && keep; p++)
            if (strcmp(E[p].id, E[nexp].id) == 0) {
                fprintf(stderr, "bonesim validate: %s:%d: id %s is also the id of %s\n", files[k],
                        E[nexp].line_of[K_ID], E[nexp].id, E[p].path);
                rc = BS_EXIT_USAGE;
            }
        if (keep) nexp++;
    }
    for (int s = 0; s < nsel && rc == BS_EXIT_OK; s++) {
        int hit = 0;
        for (int k = 0; k < nexp; k++)
            hit |= strcmp(sel[s], E[k].id) == 0 || strcmp(sel[s], E[k].behaviour) == 0 ||
                    strcmp(sel[s], E[k].path) == 0;
        if (!hit) {
            fprintf(stderr, "bonesim validate: no experiment '%s' in %s (see bonesim validate --list)\n", sel[s],
                    expdir);
            rc = BS_EXIT_USAGE;
        }
    }
    if (rc == BS_EXIT_OK && nexp == 0) {
        fprintf(stderr, "bonesim validate: no experiment files (*.ini) in %s\n", expdir);
        rc = BS_EXIT_USAGE;
    }
    for (int k = 0; k < nfiles; k++) free(files[k]);
    /* resolve every arm before anything starts */
    for (int k = 0; k < nexp && rc == BS_EXIT_OK; k++)
        for (int arm = 0; arm < n_arms(&E[k]) && rc == BS_EXIT_OK; arm++) {
            char *pb = arm == A_C ? E[k].cpath : arm == A_T ? E[k].tpath : arm == A_RC ? E[k].rcpath : E[k].rtpath;
            if (arm_check(&E[k], arm, mode, pb, sizeof E[k].cpath) != 0) rc = BS_EXIT_USAGE;
        }
    if (rc != BS_EXIT_OK) {
        free(E);
        return rc;
    }
    if (rc == BS_EXIT_OK && list) {
        printf("%-8s %-5s %-10s %-30s %s\n", "id", "B", "effect", "observable", "title");
        for (int k = 0; k < nexp; k++)
            printf("%-8s %-5s %-10s %-30s %s\n", E[k].id, E[k].behaviour, effect_label(&E[k]), E[k].observable,
                    E[k].title);
        free(E);
        return 0;
    }
    /* the output folder */
    char out[2200];
    snprintf(out, sizeof out, "%s", out_opt ? out_opt : mode == M_QUICK ? "out/validate-quick" : "out/validate-full");
    char rj[2400], rm[2400], runs_dir[2400], figdir[2400];
    snprintf(rj, sizeof rj, "%s/results.json", out);
    snprintf(rm, sizeof rm, "%s/report.md", out);
    snprintf(runs_dir, sizeof runs_dir, "%s/runs", out);
    snprintf(figdir, sizeof figdir, "%s/fig", out);
    struct stat st;
    if (!resume && !force && (stat(runs_dir, &st) == 0 || stat(rj, &st) == 0)) {
        fprintf(stderr,
                "bonesim validate: %s already holds a validation: add --resume to finish it, --force to start over, "
                "or choose another --out\n",
                out);
        free(E);
        return BS_EXIT_USAGE;
    }
    /* --force: remove the earlier validation's outputs (its list) first */
    if (force && bs_outlist_remove_old(out, "validate") != 0) {
        free(E);
        return BS_EXIT_ERROR;
    }
    if (bs_mkdir_p(out) != 0 || bs_mkdir_p(runs_dir) != 0 || bs_mkdir_p(figdir) != 0) {
        fprintf(stderr, "bonesim validate: cannot create %s (%s)\n", out, strerror(errno));
        free(E);
        return BS_EXIT_ERROR;
    }
    /* runs */
    vruns R = { 0 };
    int seeds_of[V_MAX_EXP] = { 0 };
    for (int k = 0; k < nexp && rc == BS_EXIT_OK; k++) {
        vexp *e = &E[k];
        int ns = nseeds_opt ? nseeds_opt : e->seeds[mode];
        seeds_of[k] = ns;
        for (int i = 0; i < ns && rc == BS_EXIT_OK; i++) {
            e->run_c[i] = run_get(&R, e, 0, mode, seed0 + i, out);
            e->run_t[i] = e->effect == E_VALUE ? e->run_c[i] : run_get(&R, e, 1, mode, seed0 + i, out);
            e->run_rc[i] = e->contrast ? run_get(&R, e, A_RC, mode, seed0 + i, out) : e->run_c[i];
            e->run_rt[i] = e->contrast ? run_get(&R, e, A_RT, mode, seed0 + i, out) : e->run_t[i];
            if (e->run_c[i] < 0 || e->run_t[i] < 0 || e->run_rc[i] < 0 || e->run_rt[i] < 0) rc = BS_EXIT_ERROR;
        }
    }
    /* list this validation's outputs before writing any (a resume adds to the list) */
    if (rc == BS_EXIT_OK) {
        bs_outlist ol = { 0 };
        if (resume) bs_outlist_load(&ol, out);
        bs_outlist_add(&ol, "file", "results.json");
        bs_outlist_add(&ol, "file", "report.md");
        for (int k = 0; k < nexp; k++) {
            char fn[64];
            snprintf(fn, sizeof fn, "fig/%s.png", E[k].id);
            bs_outlist_add(&ol, "file", fn);
        }
        size_t skip = strlen(out) + 1;
        for (long i = 0; i < R.n; i++) {
            char rel[4300];
            snprintf(rel, sizeof rel, "%s/validate-run.txt", R.r[i].dir + skip);
            bs_outlist_add(&ol, "file", rel);
            snprintf(rel, sizeof rel, "%s", R.r[i].dir + skip);
            bs_outlist_add(&ol, "run", rel);
            char *slash = strrchr(rel, '/');
            if (slash) *slash = '\0';
            bs_outlist_add(&ol, "dir", rel);
        }
        bs_outlist_add(&ol, "dir", "runs");
        bs_outlist_add(&ol, "dir", "fig");
        if (bs_outlist_write(&ol, out, "validate") != 0) rc = BS_EXIT_ERROR;
    }
    bs_job *J = rc == BS_EXIT_OK ? calloc((size_t)(R.n > 0 ? R.n : 1), sizeof *J) : NULL;
    if (!J) rc = BS_EXIT_ERROR;
    long njobs = 0, nkept = 0;
    /* which experiment/arm made each run (for its argv) */
    for (int k = 0; k < nexp && rc == BS_EXIT_OK; k++)
        for (int i = 0; i < seeds_of[k] && rc == BS_EXIT_OK; i++)
            for (int arm = 0; arm < n_arms(&E[k]); arm++) {
                long ri = arm_run(&E[k], arm, i);
                vrun *r = &R.r[ri];
                if (r->job >= 0 || r->loaded) continue;
                if (resume && run_finished(r)) {
                    r->loaded = 2; /* kept: read below */
                    r->cpu_any_s = run_marker_cpu(r);
                    nkept++;
                    continue;
                }
                char mk[4200];
                snprintf(mk, sizeof mk, "%s/validate-run.txt", r->dir);
                if (unlink(mk) != 0 && errno != ENOENT && errno != ENOTDIR) {
                    fprintf(stderr, "bonesim validate: %s: cannot remove (%s)\n", mk, strerror(errno));
                    rc = BS_EXIT_ERROR;
                    break;
                }
                bs_job *j = &J[njobs];
                j->index = ri;
                j->seed = r->seed;
                snprintf(j->dir, sizeof j->dir, "%s", r->dir);
                char nm[64];
                bs_scenario_name(arm_path(&E[k], arm), nm, sizeof nm);
                snprintf(j->tag, sizeof j->tag, "%.20s %s run %.30s", E[k].id, arm_names[arm], nm);
                if (job_args_for(j, &E[k], arm, mode, r, force) != 0) {
                    fprintf(stderr, "bonesim validate: out of memory\n");
                    rc = BS_EXIT_ERROR;
                }
                r->job = (int)njobs++;
            }
    int sig = 0;
    double t0 = bs_now_s();
    if (rc == BS_EXIT_OK) {
        if (!quiet)
            fprintf(stderr,
                    "bonesim validate: %d experiment%s (%s), %ld distinct runs (%ld kept from before, %ld to run), "
                    "seeds from %lld, %d at once, outputs in %s\n",
                    nexp, nexp == 1 ? "" : "s", mode_names[mode], R.n, nkept, njobs, seed0, jobs, out);
        bs_pool_opts po = { "validate", jobs, quiet, run_done_cb, &R };
        long nfailed = 0;
        bs_pool_signals(1);
        sig = bs_pool_run(J, njobs, &po, &nfailed);
        bs_pool_signals(0);
        if (sig) {
            fprintf(stderr,
                    "bonesim validate: stopped by %s; the finished runs are kept in %s; continue with the same "
                    "command and --resume\n",
                    sig == SIGTERM ? "SIGTERM" : "SIGINT", runs_dir);
            rc = sig == SIGTERM ? BS_EXIT_SIGTERM : BS_EXIT_SIGINT;
        }
        for (long k = 0; k < njobs; k++)
            if (J[k].state == BS_JOB_FAILED) R.r[J[k].index].failed = 1;
    }
    double wall = bs_now_s() - t0;
    /* read the tables back */
    if (rc == BS_EXIT_OK)
        for (long i = 0; i < R.n; i++) {
            vrun *r = &R.r[i];
            if (r->failed) continue;
            char why[4400];
            if (bs_table_read(r->dir, &r->tab, why, sizeof why) != 0) {
                fprintf(stderr, "bonesim validate: %s\n", why);
                r->failed = 1;
                continue;
            }
            r->loaded = 1;
        }
    /* evaluate, report */
    vresult *res = rc == BS_EXIT_OK ? calloc((size_t)nexp, sizeof *res) : NULL;
    if (rc == BS_EXIT_OK && !res) rc = BS_EXIT_ERROR;
    int nfail_exp = 0, nrun_failed = 0;
    for (long i = 0; i < R.n; i++) nrun_failed += R.r[i].failed;
    bs_strbuf md = { 0 }, js = { 0 };
    if (rc == BS_EXIT_OK) {
        struct utsname un;
        char machine[512] = "unknown";
        if (uname(&un) == 0)
            snprintf(machine, sizeof machine, "%s %s %s, %ld cores", un.sysname, un.release, un.machine,
                    sysconf(_SC_NPROCESSORS_ONLN));
        time_t now = time(NULL);
        char when[64];
        strftime(when, sizeof when, "%Y-%m-%d %H:%M UTC", gmtime(&now));
        for (int k = 0; k < nexp; k++) {
            vexp *e = &E[k];
            vresult *x = &res[k];
            int ns = seeds_of[k];
            x->c = malloc((size_t)ns * sizeof(double));
            x->t = malloc((size_t)ns * sizeof(double));
            x->eff = malloc((size_t)ns * sizeof(double));
            x->rc = malloc((size_t)ns * sizeof(double));
            x->rt = malloc((size_t)ns * sizeof(double));
            x->e1 = malloc((size_t)ns * sizeof(double));
            x->e2 = malloc((size_t)ns * sizeof(double));
            if (!x->c || !x->t || !x->eff || !x->rc || !x->rt || !x->e1 || !x->e2) {
                rc = BS_EXIT_ERROR;
                break;
            }
            for (int i = 0; i < ns; i++) {
                vrun *rc_ = &R.r[e->run_c[i]], *rt_ = &R.r[e->run_t[i]];
                x->c[i] = x->t[i] = x->eff[i] = x->rc[i] = x->rt[i] = x->e1[i] = x->e2[i] = VNAN;
                int nfailed = 0;
                for (int arm = 0; arm < n_arms(e); arm++) nfailed += R.r[arm_run(e, arm, i)].failed;
                if (nfailed) {
                    x->failed_runs += nfailed;
                    continue;
                }
                if (e->contrast) {
                    const double w0 = e->window[mode][0], w1 = e->window[mode][1];
                    x->c[i] = run_summary(e, &rc_->tab, w0, w1);
                    x->t[i] = run_summary(e, &rt_->tab, w0, w1);
                    x->rc[i] = run_summary(e, &R.r[e->run_rc[i]].tab, w0, w1);
                    x->rt[i] = run_summary(e, &R.r[e->run_rt[i]].tab, w0, w1);
                    x->e1[i] = pair_effect(e->effect, x->c[i], x->t[i]);
                    x->e2[i] = pair_effect(e->effect, x->rc[i], x->rt[i]);
                    x->eff[i] = contrast_effect(e->effect, x->e1[i], x->e2[i]);
                    continue;
                }
                x->c[i] = run_summary(e, &rc_->tab, e->window[mode][0], e->window[mode][1]);
                if (e->effect == E_VALUE) {
                    x->eff[i] = x->c[i];
                    continue;
                }
                x->t[i] = run_summary(e, &rt_->tab, e->window[mode][0], e->window[mode][1]);
                if (e->effect == E_RATIO)
                    x->eff[i] = x->c[i] > 0 && x->t[i] >= 0 ? x->t[i] / x->c[i] : VNAN;
                else
                    x->eff[i] = x->t[i] - x->c[i];
            }
            evaluate(e, ns, seed0, x);
            if (x->verdict == V_FAIL) nfail_exp++;
            char fp[2600], why[4400];
            snprintf(fp, sizeof fp, "%s/%s.png", figdir, e->id);
            unlink(fp); /* a figure of an earlier invocation must not stand for this one */
            if (!x->failed_runs && write_figure(fp, e, x, mode, ns, &R, why, sizeof why) != 0) {
                fprintf(stderr, "bonesim validate: %s\n", why);
                rc = BS_EXIT_ERROR;
            }
        }
        /* report.md */
        int counts[5] = { 0 }, max_seeds = 1;
        for (int k = 0; k < nexp; k++) max_seeds = seeds_of[k] > max_seeds ? seeds_of[k] : max_seeds;
        for (int k = 0; k < nexp && rc == BS_EXIT_OK; k++) counts[res[k].verdict]++;
        bs_sb_put(&md, "# bonesim validate --%s\n\n", mode_names[mode]);
        bs_sb_put(&md,
                "bonesim %s (commit %s), %s, %s; %d experiments, %ld distinct runs, %.0f s wall at %d runs at once "
                "(%ld runs kept from an earlier invocation).\n\n",
                BS_VERSION, BS_GIT_COMMIT, machine, when, nexp, R.n, wall, jobs, nkept);
        bs_sb_put(&md,
                "Verdicts: %d pass, %d FAIL, %d not significant, %d direction only (too few pairs to test), %d "
                "error.\n\n",
                counts[V_PASS], counts[V_FAIL], counts[V_WEAK], counts[V_DIRECTION_ONLY], counts[V_ERROR]);
        bs_sb_put(&md,
                "Method: each run's observable is summarised over the window; the effect per seed is the ratio "
                "treated/control, the difference treated - control, or (one-arm experiments) the value itself. "
                "Spread: IQR over seeds with at least %d, else the range (min - max). Interval: percentile bootstrap "
                "95%% of the median (%d resamples, fixed key), only with at least %d pairs. Test: one-sided Wilcoxon "
                "signed-rank, exact, zero differences dropped, on log ratios for ratios; pass needs p < %.2f. Band "
                "experiments pass when the median lies in the band. Seeds: %lld .. %lld (validation seeds; the "
                "calibration used other seeds, docs/calibration.md).\n\n",
                V_MIN_PAIRS_CI, BS_BOOT_N, V_MIN_PAIRS_CI, V_ALPHA, seed0, seed0 + max_seeds - 1);
        bs_sb_put(&md,
                "| id | B | claim | observable, summary over window | effect | median [95%% CI] | spread | "
                "p (Wilcoxon) | expected | verdict |\n|---|---|---|---|---|---|---|---|---|---|\n");
        for (int k = 0; k < nexp && rc == BS_EXIT_OK; k++) {
            vexp *e = &E[k];
            vresult *x = &res[k];
            char ob[200], med[128], sp[128], pv[64], ex[128];
            obs_label(e, ob, sizeof ob);
            if (x->n == 0)
                snprintf(med, sizeof med, "-");
            else if (x->has_ci)
                snprintf(med, sizeof med, "%.4g [%.4g, %.4g]", x->median, x->ci_lo, x->ci_hi);
            else
                snprintf(med, sizeof med, "%.4g (no CI, n=%d)", x->median, x->n);
            if (x->n == 0)
                snprintf(sp, sizeof sp, "-");
            else
                snprintf(sp, sizeof sp, "%s %.4g .. %.4g", x->has_ci ? "IQR" : "range", x->spread_lo, x->spread_hi);
            if (x->has_p)
                snprintf(pv, sizeof pv, "%.3g (n=%d)", x->p, x->m_used);
            else
                snprintf(pv, sizeof pv, "-");
            if (X_IS_BAND(e->expect))
                snprintf(ex, sizeof ex, "%s%g .. %g", e->expect == X_BAND_EVERY ? "every seed " : "", e->band[0],
                        e->band[1]);
            else
                snprintf(ex, sizeof ex, "%s (%s %s %g)", expect_names[e->expect], effect_label(e),
                        e->expect == X_INCREASE ? ">" : "<", e->effect == E_RATIO ? 1.0 : 0.0);
            bs_sb_put(&md, "| [%s](#%s) | %s | ", e->id, e->id, e->behaviour);
            md_cell(&md, e->title);
            bs_sb_put(&md, " | %s, %s%s%s over days %g-%g | %s | %s | %s | %s | %s | **%s** |\n", ob,
                    summaries[e->summary].name, e->summary == S_SPAN_ABOVE || e->summary == S_DOUBLING_RATIO ? ":" : "",
                    e->summary == S_SPAN_ABOVE               ? "X"
                            : e->summary == S_DOUBLING_RATIO ? "A:B:C"
                                                             : "",
                    e->window[mode][0], e->window[mode][1], effect_label(e), med, sp, pv, ex,
                    verdict_names[x->verdict]);
        }
        for (int k = 0; k < nexp && rc == BS_EXIT_OK; k++) {
            vexp *e = &E[k];
            vresult *x = &res[k];
            int ns = seeds_of[k];
            char a0[1200], a1[1200], ob[200];
            arm_text(e, 0, mode, a0, sizeof a0);
            arm_text(e, 1, mode, a1, sizeof a1);
            obs_label(e, ob, sizeof ob);
            bs_sb_put(&md, "\n<a id=\"%s\"></a>\n## %s (%s): ", e->id, e->id, e->behaviour);
            md_cell(&md, e->title);
            bs_sb_put(&md, "\n\n- experiment file: `%s`\n- source of the expectation: ", e->path);
            md_cell(&md, e->source);
            bs_sb_put(&md, "\n- %s: `%s`\n", e->effect == E_VALUE ? "runs" : "control", a0);
            if (e->effect != E_VALUE) bs_sb_put(&md, "- treated: `%s`\n", a1);
            if (e->contrast) {
                char r0[1200], r1[1200];
                arm_text(e, A_RC, mode, r0, sizeof r0);
                arm_text(e, A_RT, mode, r1, sizeof r1);
                bs_sb_put(&md,
                        "- reference control: `%s`\n- reference treated: `%s`\n- contrast: per seed, the %s of the "
                        "main pair (treated vs control) %s that of the reference pair, on the same seed\n",
                        r0, r1, effect_names[e->effect], e->effect == E_RATIO ? "divided by" : "minus");
            }
            bs_sb_put(&md, "- %g days, CSV every %g d; observable `%s` (%s), summary `%s` (%s) over days %g-%g\n",
                    e->days[mode], e->csv_every, e->observable, e->der >= 0 ? derived[e->der].what : "a CSV column",
                    summaries[e->summary].name, summaries[e->summary].what, e->window[mode][0], e->window[mode][1]);
            if (e->summary == S_SPAN_ABOVE) bs_sb_put(&md, "  (X = %g)\n", e->summary_arg);
            if (e->summary == S_DOUBLING_RATIO)
                bs_sb_put(&md, "  (A = %g, B = %g, C = %g)\n", e->summary_fold[0], e->summary_fold[1],
                        e->summary_fold[2]);
            bs_sb_put(&md, "- seeds %lld .. %lld (%d); verdict **%s**: %s\n", seed0, seed0 + ns - 1, ns,
                    verdict_names[x->verdict], x->why);
            if (x->n > 0) {
                bs_sb_put(&md, "- median %s %.4g; %s %.4g .. %.4g; ", effect_label(e), x->median,
                        x->has_ci ? "IQR" : "range (fewer than 5, so not an IQR)", x->spread_lo, x->spread_hi);
                if (x->has_ci)
                    bs_sb_put(&md, "bootstrap 95%% CI of the median %.4g .. %.4g\n", x->ci_lo, x->ci_hi);
                else
                    bs_sb_put(&md, "%s\n", x->ci_why);
                if (x->has_p)
                    bs_sb_put(&md,
                            "- one-sided Wilcoxon signed-rank (H1: %s), %d non-zero pairs, W+ = %.1f, p = %.4g\n",
                            expect_names[e->expect], x->m_used, x->w_plus, x->p);
            }
            if (e->contrast)
                bs_sb_put(&md,
                        "\n| seed | control | treated | %s | reference control | reference treated | reference %s | "
                        "%s |\n|---|---|---|---|---|---|---|---|\n",
                        effect_names[e->effect], effect_names[e->effect], effect_label(e));
            else
                bs_sb_put(&md, "\n| seed | %s | %s | %s |\n|---|---|---|---|\n",
                        e->effect == E_VALUE ? "value" : "control", e->effect == E_VALUE ? "" : "treated",
                        e->effect == E_VALUE ? "" : effect_names[e->effect]);
            for (int i = 0; i < ns; i++) {
                if (e->contrast)
                    bs_sb_put(&md, "| %lld | %.6g | %.6g | %.6g | %.6g | %.6g | %.6g | %.6g |\n", seed0 + i, x->c[i],
                            x->t[i], x->e1[i], x->rc[i], x->rt[i], x->e2[i], x->eff[i]);
                else if (e->effect == E_VALUE)
                    bs_sb_put(&md, "| %lld | %.6g | | |\n", seed0 + i, x->c[i]);
                else
                    bs_sb_put(&md, "| %lld | %.6g | %.6g | %.6g |\n", seed0 + i, x->c[i], x->t[i], x->eff[i]);
            }
            char fp[2600];
            snprintf(fp, sizeof fp, "%s/%s.png", figdir, e->id);
            struct stat fs;
            if (stat(fp, &fs) == 0 && !x->failed_runs)
                bs_sb_put(&md, "\n![%s](fig/%s.png)\n", e->id, e->id);
            else
                bs_sb_put(&md, "\n(no figure: a run of this experiment failed)\n");
        }
        {
            double tot = 0, cpu = 0;
            long nr = 0;
            for (long i = 0; i < R.n; i++)
                if (R.r[i].wall_s > 0) {
                    tot += R.r[i].wall_s;
                    cpu += R.r[i].cpu_s;
                    nr++;
                }
            bs_sb_put(&md,
                    "\n## Cost\n\n%ld runs ran in this invocation: %.0f s of run time, %.0f CPU seconds in all (one "
                    "thread each; on an otherwise idle machine with J cores the wall time is about CPU seconds / J).",
                    nr, tot, cpu);
            if (nr) bs_sb_put(&md, " The slowest (run time, CPU):\n\n");
            for (int top = 0; top < 5; top++) {
                long best = -1;
                for (long i = 0; i < R.n; i++)
                    if (R.r[i].wall_s > 0 && (best < 0 || R.r[i].wall_s > R.r[best].wall_s)) best = i;
                if (best < 0) break;
                bs_sb_put(&md, "- %.1f s, %.1f CPU s: `bonesim run %s`\n", R.r[best].wall_s, R.r[best].cpu_s,
                        R.r[best].cmd);
                R.r[best].wall_s = -R.r[best].wall_s; /* taken */
            }
            for (long i = 0; i < R.n; i++) R.r[i].wall_s = fabs(R.r[i].wall_s);
            bs_sb_put(&md, "\n");
        }
        /* the cost per experiment: measured CPU per seed, and the cost at
         * the seeds its file asks for in this mode (--seeds 1 makes this a
         * cheap estimate of a whole --full) */
        {
            for (long i = 0; i < R.n; i++) {
                if (R.r[i].cpu_s > 0) R.r[i].cpu_any_s = R.r[i].cpu_s; /* else: a kept run's marker (or 0) */
                R.r[i].scale = 0.0;
            }
            bs_sb_put(&md,
                    "\n### CPU time per experiment\n\nMeasured: the CPU seconds of the runs each experiment used (one "
                    "thread each; a run shared by several experiments counts in each), per seed; estimated: that "
                    "per-seed cost times the seeds the file asks for in --%s. Run with `--seeds 1` to estimate a "
                    "whole validation cheaply; one seed's cost stands for the others' (same sizes and days; tumour "
                    "runs vary with the lesion's growth).\n\n"
                    "| id | seeds run | distinct runs | CPU s measured | CPU s per seed | file seeds | estimated CPU s "
                    "|\n|---|---|---|---|---|---|---|\n",
                    mode_names[mode]);
            double est_exp = 0.0;
            for (int k = 0; k < nexp; k++) {
                vexp *e = &E[k];
                int ns = seeds_of[k], nd = 0;
                double cpu = 0.0;
                for (long i = 0; i < R.n; i++) R.r[i].mark = 0;
                for (int i = 0; i < ns; i++)
                    for (int arm = 0; arm < n_arms(e); arm++) {
                        vrun *r = &R.r[arm_run(e, arm, i)];
                        if (r->mark) continue;
                        r->mark = 1;
                        nd++;
                        cpu += r->cpu_any_s;
                        double sc = (double)e->seeds[mode] / (double)ns;
                        if (sc > r->scale) r->scale = sc;
                    }
                double per = cpu / ns, est = per * e->seeds[mode];
                est_exp += est;
                res[k].cpu_s = cpu;
                res[k].cpu_est_s = est;
                bs_sb_put(&md, "| %s | %d | %d | %.1f | %.2f | %d | %.0f |\n", e->id, ns, nd, cpu, per, e->seeds[mode],
                        est);
            }
            double meas = 0.0, est_d = 0.0;
            for (long i = 0; i < R.n; i++) {
                meas += R.r[i].cpu_any_s;
                est_d += R.r[i].cpu_any_s * R.r[i].scale;
            }
            bs_sb_put(&md,
                    "\nAll %ld distinct runs: %.0f CPU s measured; at the files' seeds about %.0f CPU s (%.1f CPU "
                    "hours; each distinct run scaled by the largest seed factor of the experiments that share it; "
                    "the per-experiment column sums to %.0f because shared runs count in each). Wall time on J idle "
                    "cores: about CPU s / J.\n",
                    R.n, meas, est_d, est_d / 3600.0, est_exp);
        }
        if (nrun_failed) {
            bs_sb_put(&md, "\n## Failed runs\n\n");
            for (long k = 0; k < njobs; k++)
                if (J[k].state == BS_JOB_FAILED) {
                    bs_sb_put(&md, "- seed %lld, %s: `bonesim run %s --out %s` (log: %s/run.log)\n", J[k].seed,
                            J[k].why, R.r[J[k].index].cmd, J[k].dir, J[k].dir);
                }
        }
        /* results.json */
        bs_sb_put(&js, "{\n  \"bonesim\": ");
        bs_sb_json_str(&js, BS_VERSION);
        bs_sb_put(&js, ",\n  \"commit\": ");
        bs_sb_json_str(&js, BS_GIT_COMMIT);
        bs_sb_put(&js, ",\n  \"machine\": ");
        bs_sb_json_str(&js, machine);
        double cpu_all = 0;
        for (long i = 0; i < R.n; i++) cpu_all += R.r[i].cpu_s;
        bs_sb_put(&js,
                ",\n  \"mode\": \"%s\",\n  \"first_seed\": %lld,\n  \"wall_s\": %.1f,\n  \"runs_cpu_s\": %.1f,\n  "
                "\"experiments\": [",
                mode_names[mode], seed0, wall, cpu_all);
        for (int k = 0; k < nexp && rc == BS_EXIT_OK; k++) {
            vexp *e = &E[k];
            vresult *x = &res[k];
            int ns = seeds_of[k];
            char a[1200];
            bs_sb_put(&js, "%s\n    {\"id\": ", k ? "," : "");
            bs_sb_json_str(&js, e->id);
            bs_sb_put(&js, ", \"behaviour\": ");
            bs_sb_json_str(&js, e->behaviour);
            bs_sb_put(&js, ", \"title\": ");
            bs_sb_json_str(&js, e->title);
            bs_sb_put(&js, ", \"source\": ");
            bs_sb_json_str(&js, e->source);
            bs_sb_put(&js, ", \"file\": ");
            bs_sb_json_str(&js, e->path);
            arm_text(e, 0, mode, a, sizeof a);
            bs_sb_put(&js, ",\n     \"control\": ");
            bs_sb_json_str(&js, a);
            if (e->effect != E_VALUE) {
                arm_text(e, 1, mode, a, sizeof a);
                bs_sb_put(&js, ", \"treated\": ");
                bs_sb_json_str(&js, a);
            }
            if (e->contrast) {
                arm_text(e, A_RC, mode, a, sizeof a);
                bs_sb_put(&js, ", \"reference_control\": ");
                bs_sb_json_str(&js, a);
                arm_text(e, A_RT, mode, a, sizeof a);
                bs_sb_put(&js, ", \"reference_treated\": ");
                bs_sb_json_str(&js, a);
            }
            bs_sb_put(&js, ", \"days\": %g, \"observable\": ", e->days[mode]);
            bs_sb_json_str(&js, e->observable);
            bs_sb_put(&js,
                    ", \"derived\": %s, \"summary\": \"%s\", \"window\": [%g, %g], \"effect\": \"%s\", \"expect\": "
                    "\"%s\"",
                    e->der >= 0 ? "true" : "false", summaries[e->summary].name, e->window[mode][0], e->window[mode][1],
                    effect_names[e->effect], expect_names[e->expect]);
            if (X_IS_BAND(e->expect)) bs_sb_put(&js, ", \"band\": [%g, %g]", e->band[0], e->band[1]);
            bs_sb_put(&js, ", \"contrast\": %s", e->contrast ? "true" : "false");
            bs_sb_put(&js, ",\n     \"seeds\": [");
            for (int i = 0; i < ns; i++) bs_sb_put(&js, "%s%lld", i ? ", " : "", seed0 + i);
            bs_sb_put(&js, "], \"control_values\": [");
            for (int i = 0; i < ns; i++) {
                bs_sb_put(&js, i ? ", " : "");
                json_num(&js, x->c[i]);
            }
            if (e->effect != E_VALUE) {
                bs_sb_put(&js, "], \"treated_values\": [");
                for (int i = 0; i < ns; i++) {
                    bs_sb_put(&js, i ? ", " : "");
                    json_num(&js, x->t[i]);
                }
            }
            if (e->contrast) {
                const double *arr[4] = { x->rc, x->rt, x->e1, x->e2 };
                static const char *const nm[4] = { "reference_control_values", "reference_treated_values",
                    "main_effects", "reference_effects" };
                for (int q = 0; q < 4; q++) {
                    bs_sb_put(&js, "], \"%s\": [", nm[q]);
                    for (int i = 0; i < ns; i++) {
                        bs_sb_put(&js, i ? ", " : "");
                        json_num(&js, arr[q][i]);
                    }
                }
            }
            bs_sb_put(&js, "], \"effects\": [");
            for (int i = 0; i < ns; i++) {
                bs_sb_put(&js, i ? ", " : "");
                json_num(&js, x->eff[i]);
            }
            bs_sb_put(&js, "],\n     \"n\": %d, \"median\": ", x->n);
            json_num(&js, x->n ? x->median : VNAN);
            bs_sb_put(&js, ", \"spread\": {\"kind\": \"%s\", \"lo\": ", x->has_ci ? "iqr" : "range");
            json_num(&js, x->n ? x->spread_lo : VNAN);
            bs_sb_put(&js, ", \"hi\": ");
            json_num(&js, x->n ? x->spread_hi : VNAN);
            bs_sb_put(&js, "}, \"ci95\": ");
            if (x->has_ci) {
                bs_sb_put(&js, "[");
                json_num(&js, x->ci_lo);
                bs_sb_put(&js, ", ");
                json_num(&js, x->ci_hi);
                bs_sb_put(&js, "]");
            } else {
                bs_sb_put(&js, "null, \"ci95_why\": ");
                bs_sb_json_str(&js, x->ci_why);
            }
            bs_sb_put(&js, ", \"test\": ");
            if (x->has_p) {
                bs_sb_put(&js,
                        "{\"name\": \"one-sided Wilcoxon signed-rank, exact\", \"n\": %d, \"w_plus\": %.1f, \"p\": ",
                        x->m_used, x->w_plus);
                json_num(&js, x->p);
                bs_sb_put(&js, "}");
            } else
                bs_sb_put(&js, "null");
            bs_sb_put(&js, ", \"verdict\": \"%s\", \"why\": ", verdict_names[x->verdict]);
            bs_sb_json_str(&js, x->why);
            bs_sb_put(&js, ", \"figure\": \"fig/%s.png\"}", e->id);
        }
        /* the cost table, one line per experiment (timings: they differ
         * from run to run, so they stay off the experiments' lines) */
        bs_sb_put(&js, "\n  ],\n  \"cost\": [");
        for (int k = 0; k < nexp && rc == BS_EXIT_OK; k++) {
            bs_sb_put(&js, "%s\n    {\"id\": ", k ? "," : "");
            bs_sb_json_str(&js, E[k].id);
            bs_sb_put(&js, ", \"cpu_s\": %.2f, \"cpu_s_at_file_seeds\": %.1f}", res[k].cpu_s, res[k].cpu_est_s);
        }
        bs_sb_put(&js, "\n  ],\n  \"failed_runs\": [");
        int first = 1;
        for (long k = 0; k < njobs; k++)
            if (J[k].state == BS_JOB_FAILED) {
                bs_sb_put(&js, "%s\n    {\"seed\": %lld, \"command\": ", first ? "" : ",", J[k].seed);
                char cmd[20000];
                snprintf(cmd, sizeof cmd, "bonesim run %s --out %s", R.r[J[k].index].cmd, J[k].dir);
                bs_sb_json_str(&js, cmd);
                bs_sb_put(&js, ", \"why\": ");
                bs_sb_json_str(&js, J[k].why);
                bs_sb_put(&js, "}");
                first = 0;
            }
        bs_sb_put(&js, "%s]\n}\n", first ? "" : "\n  ");
        bs_error err = { { 0 } };
        if (md.oom || js.oom) {
            fprintf(stderr, "bonesim validate: out of memory\n");
            rc = BS_EXIT_ERROR;
        } else if (rc == BS_EXIT_OK &&
                (bs_write_file_atomic(rm, md.s, md.n, &err) != BS_OK ||
                        bs_write_file_atomic(rj, js.s, js.n, &err) != BS_OK)) {
            fprintf(stderr, "bonesim validate: %s\n", err.msg);
            rc = BS_EXIT_ERROR;
        }
        if (rc == BS_EXIT_OK) {
            printf("bonesim validate --%s: %d experiments, %.0f s wall\n", mode_names[mode], nexp, wall);
            for (int k = 0; k < nexp; k++) {
                vresult *x = &res[k];
                char med[64] = "-";
                if (x->n) snprintf(med, sizeof med, "%.4g", x->median);
                printf("  %-8s %-4s %-16s median %-10s %s\n", E[k].id, E[k].behaviour, verdict_names[x->verdict], med,
                        x->why);
            }
            printf("wrote %s, %s, figures in %s\n", rm, rj, figdir);
            if (nrun_failed)
                rc = BS_EXIT_ERROR;
            else if (nfail_exp)
                rc = BS_EXIT_VALIDATE_FAILED;
        }
    }
    free(md.s);
    free(js.s);
    if (res)
        for (int k = 0; k < nexp; k++) {
            free(res[k].c);
            free(res[k].t);
            free(res[k].eff);
            free(res[k].rc);
            free(res[k].rt);
            free(res[k].e1);
            free(res[k].e2);
        }
    free(res);
    for (long i = 0; i < R.n; i++) {
        free(R.r[i].cmd);
        bs_table_free(&R.r[i].tab);
    }
    free(R.r);
    bs_jobs_free(J, njobs);
    free(E);
    return rc;
}
