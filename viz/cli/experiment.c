/* experiment.c — `bonesim compare` and `bonesim sweep` (experiment.h).
 *
 * Layout of the file: option parsing shared by both commands; compare
 * (table, compare.csv, compare.png); sweep (grid, summary.csv as results arrive, --resume). The job pool is in
 * exp_pool.c, reading run CSVs back in exp_table.c, statistics in
 * exp_stats.c. */
#define _POSIX_C_SOURCE 200809L
#include "experiment.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cliargs.h"
#include "config.h"
#include "exp_mpi.h"
#include "exp_pool.h"
#include "exp_stats.h"
#include "exp_table.h"
#include "fsutil.h"
#include "image.h"
#include "output.h"
#include "runner.h"
#include "sensitivity.h"
#include "version.h"

#define MAX_SEED 9007199254740991.0 /* 2^53 - 1, the largest `run --seed` */
#define MAX_RUNS 100000
#define MAX_LIST 64 /* --at days, --columns entries, sweep keys */

/* ---- small helpers -------------------------------------------------------------- */

/* s is a decimal number (bs_arg_decimal: the syntax every command reads)
 * in [lo, hi], and whole when asked. */
static int parse_num(const char *s, double lo, double hi, int whole, double *out)
{
    double v;
    if (!bs_arg_decimal(s, &v) || v < lo || v > hi) return 0;
    if (whole && v != floor(v)) return 0;
    *out = v;
    return 1;
}

/* Splits s at commas into out[] (pointers into buf, a copy of s). Empty
 * items are errors (returns -1), as are more than max items. */
static int split_list(const char *s, char *buf, size_t bufn, char **out, int max)
{
    if (strlen(s) >= bufn) return -1;
    strcpy(buf, s);
    int n = 0;
    char *p = buf;
    for (;;) {
        char *c = strchr(p, ',');
        if (c) *c = '\0';
        if (!*p || n == max) return -1;
        out[n++] = p;
        if (!c) break;
        p = c + 1;
    }
    return n;
}

static void list_columns(FILE *f)
{
    for (int c = 1; bs_csv_columns[c]; c++) fprintf(f, "%s%s", c > 1 ? ", " : "", bs_csv_columns[c]);
}

/* ---- labels and units ------------------------------------------------------------------- */

/* "resorbed_um2_per_day" -> "resorbed (um^2/day)", "n_dtc" -> "dtc (count)". */
static void column_label(const char *col, char *out, size_t n)
{
    static const struct {
        const char *suffix, *unit;
    } units[] = { { "_um2_per_day", "um^2/day" }, { "_per_day", "per day" }, { "_um2", "um^2" }, { "_mmHg", "mmHg" },
        { "_frac", "fraction" }, { "_days", "days" } };
    char base[128];
    snprintf(base, sizeof base, "%s", col);
    const char *unit = NULL;
    size_t len = strlen(base);
    for (size_t u = 0; u < sizeof units / sizeof units[0] && !unit; u++) {
        size_t sl = strlen(units[u].suffix);
        if (len > sl && strcmp(base + len - sl, units[u].suffix) == 0) {
            base[len - sl] = '\0';
            unit = units[u].unit;
        }
    }
    const char *b = base;
    if (!unit && strncmp(base, "n_", 2) == 0) {
        b = base + 2;
        unit = "count";
    }
    if (!unit && strcmp(base, "bv_tv") == 0) {
        snprintf(out, n, "BV/TV (fraction)");
        return;
    }
    char pretty[128];
    snprintf(pretty, sizeof pretty, "%s", b);
    for (char *p = pretty; *p; p++)
        if (*p == '_') *p = ' ';
    if (unit)
        snprintf(out, n, "%s (%s)", pretty, unit);
    else
        snprintf(out, n, "%s", pretty);
}

/* ---- shared options ---------------------------------------------------------------------- */

typedef struct {
    const char *pos[2];
    int npos;
    const char *sets[BS_CLI_MAX_SETS], *sets_a[BS_CLI_MAX_SETS], *sets_b[BS_CLI_MAX_SETS];
    int nsets, nsets_a, nsets_b;
    long replicates;
    long long seed;
    double days, csv_every;
    int jobs;
    const char *out, *at, *columns;
    int force, resume, quiet, help;
    int threads; /* --threads: OpenMP threads of each run (default 1) */
    const char *sample; /* sweep --sample lhs:N | morris:R (sensitivity.h) */
    const char *ranges[BS_SAMPLE_MAX_PARAMS]; /* sweep --range S.K[=LO:HI] */
    int nranges, levels; /* --levels: Morris grid levels (0: default) */
    long runs_first, runs_last; /* sweep --runs FIRST-LAST: only these runs (a job array's slice) */
    int has_runs;
} exp_opts;

/* --threads of the children (job_args); set once by exp_parse. */
static int g_child_threads = 1;

static int exp_parse(int is_sweep, int argc, char **argv, exp_opts *o, const char *cmd)
{
    memset(o, 0, sizeof *o);
    o->replicates = is_sweep ? 1 : 4;
    o->seed = 1;
    o->days = o->csv_every = -1.0;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            o->help = 1;
            return 0;
        }
        if (a[0] != '-' || a[1] == '\0') {
            if (o->npos == (is_sweep ? 1 : 2)) {
                fprintf(stderr, "bonesim %s: unexpected argument '%s' (see bonesim %s --help)\n", cmd, a, cmd);
                return -1;
            }
            o->pos[o->npos++] = a;
            continue;
        }
        int flag = strcmp(a, "--force") == 0 || strcmp(a, "--quiet") == 0 || (is_sweep && strcmp(a, "--resume") == 0);
        if (flag) {
            if (a[2] == 'f')
                o->force = 1;
            else if (a[2] == 'q')
                o->quiet = 1;
            else
                o->resume = 1;
            continue;
        }
        static const char *const valued[] = { "--set", "--set-a", "--set-b", "--replicates", "--seed", "--days",
            "--csv-every", "--jobs", "--out", "--at", "--columns", "--threads", "--sample", "--range", "--levels",
            "--runs" };
        int known = 0;
        for (size_t k = 0; k < sizeof valued / sizeof valued[0]; k++) known |= strcmp(a, valued[k]) == 0;
        int sweep_only = strcmp(a, "--sample") == 0 || strcmp(a, "--range") == 0 || strcmp(a, "--levels") == 0 ||
                strcmp(a, "--runs") == 0;
        if (!known || (!is_sweep && sweep_only) ||
                (is_sweep && (strcmp(a, "--set-a") == 0 || strcmp(a, "--set-b") == 0 || strcmp(a, "--at") == 0))) {
            fprintf(stderr, "bonesim %s: unknown option '%s' (see bonesim %s --help)\n", cmd, a, cmd);
            return -1;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "bonesim %s: %s needs a value (see bonesim %s --help)\n", cmd, a, cmd);
            return -1;
        }
        const char *v = argv[++i];
        double x;
        if (strncmp(a, "--set", 5) == 0) {
            int *np = a[5] == '\0' ? &o->nsets : a[6] == 'a' ? &o->nsets_a : &o->nsets_b;
            const char **arr = a[5] == '\0' ? o->sets : a[6] == 'a' ? o->sets_a : o->sets_b;
            if (*np == BS_CLI_MAX_SETS) {
                fprintf(stderr, "bonesim %s: too many %s options (at most %d)\n", cmd, a, BS_CLI_MAX_SETS);
                return -1;
            }
            arr[(*np)++] = v;
        } else if (strcmp(a, "--replicates") == 0) {
            if (!parse_num(v, 1, MAX_RUNS, 1, &x)) {
                fprintf(stderr, "bonesim %s: --replicates '%s' must be a whole number in 1 .. %d\n", cmd, v, MAX_RUNS);
                return -1;
            }
            o->replicates = (long)x;
        } else if (strcmp(a, "--seed") == 0) {
            if (!parse_num(v, 0, MAX_SEED, 1, &x)) {
                fprintf(stderr, "bonesim %s: --seed '%s' must be a whole number in 0 .. %.0f\n", cmd, v, MAX_SEED);
                return -1;
            }
            o->seed = (long long)x;
        } else if (strcmp(a, "--days") == 0) {
            if (!parse_num(v, 0, 36525, 0, &o->days) || o->days <= 0) {
                fprintf(stderr, "bonesim %s: --days '%s' must be a number in (0 .. 36525]\n", cmd, v);
                return -1;
            }
        } else if (strcmp(a, "--csv-every") == 0) {
            if (!parse_num(v, 0, 36525, 0, &o->csv_every) || o->csv_every <= 0) {
                fprintf(stderr, "bonesim %s: --csv-every '%s' must be a number in (0 .. 36525]\n", cmd, v);
                return -1;
            }
        } else if (strcmp(a, "--jobs") == 0) {
            if (!parse_num(v, 1, 1024, 1, &x)) {
                fprintf(stderr, "bonesim %s: --jobs '%s' must be a whole number in 1 .. 1024\n", cmd, v);
                return -1;
            }
            o->jobs = (int)x;
        } else if (strcmp(a, "--out") == 0) {
            if (!v[0]) {
                fprintf(stderr, "bonesim %s: --out needs a folder name\n", cmd);
                return -1;
            }
            o->out = v;
        } else if (strcmp(a, "--at") == 0) {
            o->at = v;
        } else if (strcmp(a, "--threads") == 0) {
            if (!parse_num(v, 1, 1024, 1, &x)) {
                fprintf(stderr, "bonesim %s: --threads '%s' must be a whole number in 1 .. 1024\n", cmd, v);
                return -1;
            }
            o->threads = (int)x;
        } else if (strcmp(a, "--sample") == 0) {
            o->sample = v;
        } else if (strcmp(a, "--range") == 0) {
            if (o->nranges == BS_SAMPLE_MAX_PARAMS) {
                fprintf(stderr, "bonesim %s: too many --range options (at most %d)\n", cmd, BS_SAMPLE_MAX_PARAMS);
                return -1;
            }
            o->ranges[o->nranges++] = v;
        } else if (strcmp(a, "--runs") == 0) {
            char *end, *end2 = NULL;
            errno = 0;
            long a0 = strtol(v, &end, 10), a1 = *end == '-' ? strtol(end + 1, &end2, 10) : -1;
            if (end == v || *end != '-' || errno || *end2 != '\0' || end2 == end + 1 || a0 < 0 || a1 < a0 ||
                    a1 >= MAX_RUNS) {
                fprintf(stderr, "bonesim %s: --runs '%s' must be FIRST-LAST, whole numbers, 0 <= FIRST <= LAST < %d\n",
                        cmd, v, MAX_RUNS);
                return -1;
            }
            o->runs_first = a0;
            o->runs_last = a1;
            o->has_runs = 1;
        } else if (strcmp(a, "--levels") == 0) {
            if (!parse_num(v, 2, 1000, 1, &x) || (int)x % 2) {
                fprintf(stderr, "bonesim %s: --levels '%s' must be an even whole number in 2 .. 1000\n", cmd, v);
                return -1;
            }
            o->levels = (int)x;
        } else {
            o->columns = v;
        }
    }
    if (o->jobs == 0 && bs_mpi_size() > 1) o->jobs = 1; /* under MPI the ranks are the parallelism */
    if (o->jobs == 0) {
        long nc = sysconf(_SC_NPROCESSORS_ONLN);
        o->jobs = nc > 0 ? (int)(nc > 1024 ? 1024 : nc) : 1;
    }
    if (o->threads == 0) o->threads = 1;
    g_child_threads = o->threads;
    return 0;
}

/* Resolves scenario + sets (sets_1 then sets_2) + --days/--seed like
 * `bonesim run` would, to report bad input before anything starts. Fills
 * scenario_path, *days and *csv_every (as resolved). */
static int exp_validate(const char *cmd, const char *scenario, const char *const *s1, int n1, const char *const *s2,
        int n2, const exp_opts *o, char *scenario_path, size_t pn, double *days, double *csv_every, char **ptext)
{
    bs_cli_opts c;
    memset(&c, 0, sizeof c);
    c.days = o->days;
    c.csv_every = o->csv_every;
    c.png_every = c.ckpt_every = c.max_memory_mb = -1.0;
    c.seed = o->seed;
    c.pos[0] = scenario;
    c.npos = 1;
    if (n1 + n2 > BS_CLI_MAX_SETS) {
        fprintf(stderr, "bonesim %s: too many --set options (at most %d per arm)\n", cmd, BS_CLI_MAX_SETS);
        return -1;
    }
    for (int k = 0; k < n1; k++) c.sets[c.nsets++] = s1[k];
    for (int k = 0; k < n2; k++) c.sets[c.nsets++] = s2[k];
    bs_registry *reg = NULL;
    bs_paramset *ps = NULL;
    bs_error err = { { 0 } };
    if (bs_resolve_params(&c, &reg, &ps, scenario_path, pn, &err) != BS_OK) {
        fprintf(stderr, "bonesim %s: %s\n", cmd, err.msg);
        return -1;
    }
    *days = bs_param(ps, "run.days");
    *csv_every = bs_param(ps, "run.csv_every_d");
    if (ptext) { /* every resolved parameter, "param.NAME = VALUE" a line */
        size_t np = bs_registry_count(reg), cap = 64 * np + 64, len = 0;
        char *t = malloc(cap);
        for (size_t i = 0; t && i < np; i++) {
            char v[1024];
            bs_param_format(ps, i, v, sizeof v);
            const char *name = bs_registry_at(reg, i)->name;
            size_t need = strlen(name) + strlen(v) + 16;
            if (len + need > cap) {
                char *nt = realloc(t, cap * 2 + need);
                if (!nt) {
                    free(t);
                    t = NULL;
                    break;
                }
                t = nt;
                cap = cap * 2 + need;
            }
            len += (size_t)snprintf(t + len, cap - len, "param.%s = %s\n", name, v);
        }
        *ptext = t;
        if (!t) {
            bs_paramset_destroy(ps);
            bs_registry_destroy(reg);
            fprintf(stderr, "bonesim %s: out of memory\n", cmd);
            return -1;
        }
    }
    bs_paramset_destroy(ps);
    bs_registry_destroy(reg);
    if (*days <= 0.0) {
        fprintf(stderr, "bonesim %s: %s runs for 0 days; give --days\n", cmd, scenario);
        return -1;
    }
    return 0;
}

/* The child's command line: bonesim run SCENARIO --seed S --days D
 * --csv-every C --threads 1 --quiet --no-png --out DIR [--force] [--set ..]. */
static int job_args(bs_job *j, const char *scenario_path, double days, double csv_every, int force)
{
    bs_argv *a = &j->args;
    char seed[32];
    snprintf(seed, sizeof seed, "%lld", j->seed);
    int bad = bs_argv_push(a, "bonesim") || bs_argv_push(a, "run") || bs_argv_push(a, scenario_path) ||
            bs_argv_push(a, "--seed") || bs_argv_push(a, seed) || bs_argv_push_num(a, "--days", days) ||
            bs_argv_push_num(a, "--csv-every", csv_every) || bs_argv_push_num(a, "--threads", g_child_threads) ||
            bs_argv_push(a, "--quiet") || bs_argv_push(a, "--no-png") || bs_argv_push(a, "--out") ||
            bs_argv_push(a, j->dir);
    if (!bad && force) bad = bs_argv_push(a, "--force");
    return bad ? -1 : 0;
}

static int add_sets(bs_job *j, const char *const *sets, int n)
{
    for (int k = 0; k < n; k++)
        if (bs_argv_push(&j->args, "--set") || bs_argv_push(&j->args, sets[k])) return -1;
    return 0;
}

/* ==== compare ========================================================================== */

void bs_usage_compare(FILE *f)
{
    fprintf(f,
            "usage: bonesim compare SCENARIO_A [SCENARIO_B] [options]\n"
            "\n"
            "Runs two arms over --replicates paired seeds (replicate i of both arms uses seed\n"
            "--seed + i) and compares them column by column. The arms are two scenarios, or one\n"
            "scenario with per-arm overrides (--set-a / --set-b). Every run is a child process\n"
            "`bonesim run ... --threads 1 --quiet --no-png`, at most --jobs at once.\n"
            "\n"
            "options:\n"
            "  --set S.K=VALUE     override a parameter in both arms (repeatable)\n"
            "  --set-a S.K=VALUE   override in arm A only (repeatable)\n"
            "  --set-b S.K=VALUE   override in arm B only (repeatable)\n"
            "  --replicates N      paired replicates per arm (default 4)\n"
            "  --seed S            seed of replicate 0 (default 1); replicate i uses S + i\n"
            "  --days D            simulated days (default: arm A's run.days; both arms run D)\n"
            "  --csv-every DAYS    CSV interval of the runs (default: arm A's run.csv_every_d)\n"
            "  --at D1,D2,...      days for the table (default: 1/4, 1/2, 3/4 of the run and the end)\n"
            "  --columns C1,C2,... columns for the table and the plot (default: table of every column\n"
            "                      that is not zero throughout, plot of up to 6 main ones)\n"
            "  --jobs J            runs at once (default: the number of cores; under mpirun: per rank,\n"
            "                      default 1; docs/cluster.md)\n"
            "  --threads T         OpenMP threads of each run (default 1); results are the same at any T\n"
            "  --out DIR           output folder (default: out/compare-A-vs-B)\n"
            "  --force             reuse an output folder that already holds a compare, removing what that\n"
            "                      compare wrote (listed in DIR/experiment-outputs.txt), nothing else\n"
            "  --quiet             no progress\n"
            "\n"
            "Per column and day it prints the median of each arm and the paired effect: the ratio\n"
            "B/A of each replicate when every A value is positive, else the difference B-A;\n"
            "the median effect, its IQR over replicates (the range, min .. max, with fewer than %d)\n"
            "and a bootstrap 95%% interval of the median (%d resamples, fixed RNG seed, so reruns\n"
            "print the same numbers; none from fewer than %d pairs: the boot95 fields stay empty).\n"
            "Writes DIR/compare.csv (one row per column x day), DIR/compare.png (median line and\n"
            "IQR band of both arms over time, a min-max band with fewer than %d replicates; bone\n"
            "area as %% of each run's day 0) and keeps every run under DIR/a/rep_K, DIR/b/rep_K\n"
            "(timeseries.csv, manifest.json, run.log).\n"
            "\n"
            "Example: bonesim compare vicious_cycle --set-b dtc.pthrp_per_h=0 --replicates 5 --days 180\n",
            BS_CI_MIN_PAIRS, BS_BOOT_N, BS_CI_MIN_PAIRS, BS_CI_MIN_PAIRS);
}

typedef struct {
    int col; /* index in bs_csv_columns */
    int row; /* row of the chosen day */
    double day; /* its time */
    double med_a, med_b, eff_med, q25, q75, boot_lo, boot_hi;
    double lo, hi; /* range of the effect over pairs */
    int ratio; /* 1: B/A, 0: B-A */
    int n;
} cmp_cell;

/* Can column col be compared as a ratio at every chosen row? Only when
 * every A value is positive and no B value negative; otherwise (counts
 * that touch zero, rates that vanish) the difference B-A is reported, for
 * the whole column so that its rows read alike. */
static int column_ratio_ok(const bs_table *ta, const bs_table *tb, int n, int col, const int *rows, int nrows)
{
    for (int d = 0; d < nrows; d++)
        for (int i = 0; i < n; i++)
            if (!(bs_tv(&ta[i], rows[d], col) > 0.0) || bs_tv(&tb[i], rows[d], col) < 0.0) return 0;
    return 1;
}

/* The paired effect (ratio if c->ratio, else difference) of column c->col
 * at row c->row over n replicate pairs. */
static void compare_cell(const bs_table *ta, const bs_table *tb, int n, cmp_cell *c, double *scratch, uint64_t key)
{
    double *a = scratch, *b = scratch + n, *e = scratch + 2 * n, *tmp = scratch + 3 * n, *boot = scratch + 4 * n;
    int ratio = c->ratio;
    for (int i = 0; i < n; i++) {
        a[i] = bs_tv(&ta[i], c->row, c->col);
        b[i] = bs_tv(&tb[i], c->row, c->col);
    }
    for (int i = 0; i < n; i++) e[i] = ratio ? b[i] / a[i] : b[i] - a[i];
    c->ratio = ratio;
    c->n = n;
    memcpy(tmp, e, (size_t)n * sizeof *e);
    c->eff_med = bs_quantile(tmp, n, 0.5);
    c->q25 = bs_quantile(tmp, n, 0.25);
    c->q75 = bs_quantile(tmp, n, 0.75);
    c->lo = bs_quantile(tmp, n, 0.0);
    c->hi = bs_quantile(tmp, n, 1.0);
    bs_boot_median_ci(e, n, key, boot, &c->boot_lo, &c->boot_hi);
    c->med_a = bs_quantile(a, n, 0.5);
    c->med_b = bs_quantile(b, n, 0.5);
}

/* ---- the plot ---------------------------------------------------------------------------- */

static const uint8_t P_BG[3] = { 0xFF, 0xFF, 0xFF };
static const uint8_t P_TEXT[3] = { 0x10, 0x10, 0x10 };
static const uint8_t P_GRID[3] = { 0xE2, 0xE2, 0xE2 };
static const uint8_t P_AXIS[3] = { 0x40, 0x40, 0x40 };
static const uint8_t P_ARM[2][3] = { { 0x00, 0x72, 0xB2 }, { 0xD5, 0x5E, 0x00 } }; /* Okabe-Ito blue, vermillion */

static void px_blend(bs_image *im, int x, int y, const uint8_t c[3], int alpha /* 0..256 */)
{
    if (x < 0 || y < 0 || x >= im->w || y >= im->h) return;
    uint8_t *p = im->rgb + ((size_t)y * (size_t)im->w + (size_t)x) * 3;
    for (int k = 0; k < 3; k++) p[k] = (uint8_t)((p[k] * (256 - alpha) + c[k] * alpha) >> 8);
}

static void line_thick(bs_image *im, int x0, int y0, int x1, int y1, const uint8_t c[3])
{
    int dx = abs(x1 - x0), sx = x0 < x1 ? 1 : -1, dy = -abs(y1 - y0), sy = y0 < y1 ? 1 : -1, e = dx + dy;
    for (;;) {
        bs_image_fill_rect(im, x0 - 1, y0 - 1, 3, 3, c);
        if (x0 == x1 && y0 == y1) break;
        int e2 = 2 * e;
        if (e2 >= dy) {
            e += dy;
            x0 += sx;
        }
        if (e2 <= dx) {
            e += dx;
            y0 += sy;
        }
    }
}

static double nice_step(double range, int target)
{
    double raw = range / target, mag = pow(10.0, floor(log10(raw))), f = raw / mag;
    return (f < 1.5 ? 1.0 : f < 3.5 ? 2.0 : f < 7.5 ? 5.0 : 10.0) * mag;
}

/* Short tick labels: "0", "250", "1.5e6", "0.02". */
static void fmt_tick(double v, double step, char *out, size_t n)
{
    if (fabs(v) < step * 1e-6) v = 0.0;
    double a = fabs(v);
    if (a != 0.0 && (a >= 1e5 || a < 1e-3)) {
        /* the mantissa keeps as many decimals as the step needs, so
         * neighbouring ticks never print alike (1.55e6, 1.60e6) */
        int ex = (int)floor(log10(a));
        double m = v / pow(10.0, ex), rel = step / pow(10.0, ex);
        int dec = rel >= 1.0 ? 0 : (int)ceil(-log10(rel) - 1e-9);
        snprintf(out, n, "%.*fe%d", dec > 6 ? 6 : dec, m, ex);
    } else {
        int dec = step >= 1.0 ? 0 : (int)ceil(-log10(step) - 1e-9);
        snprintf(out, n, "%.*f", dec, v);
    }
}

/* Per-arm summary over replicates at every row: median, q25, q75. */
typedef struct {
    double *med[2], *lo[2], *hi[2];
} series;

static void draw_panel(bs_image *im, int px, int py, int pw, int ph, const char *title, const double *t, int nrow,
        const series *s, double t_end, int narms, double w0, double w1)
{
    const int ts = 2, ch = bs_text_height(ts);
    int left = px + 14 * ts * 6 / 2 + 8, top = py + ch + 14, right = px + pw - 28, bottom = py + ph - 2 * ch - 20;
    bs_image_text(im, px + 8, py + 4, ts, P_TEXT, title);
    double lo = HUGE_VAL, hi = -HUGE_VAL;
    for (int arm = 0; arm < narms; arm++)
        for (int r = 0; r < nrow; r++) {
            if (isnan(s->med[arm][r])) continue;
            lo = fmin(lo, fmin(s->lo[arm][r], s->med[arm][r]));
            hi = fmax(hi, fmax(s->hi[arm][r], s->med[arm][r]));
        }
    if (!(hi > lo)) {
        double d = fabs(hi) > 0 ? fabs(hi) * 0.1 : 1.0;
        lo -= d;
        hi += d;
    }
    double pad = 0.05 * (hi - lo);
    if (lo >= 0.0 && lo - pad < 0.0)
        lo = 0.0;
    else
        lo -= pad;
    hi += pad;
    double ystep = nice_step(hi - lo, 5), xstep = nice_step(t_end > 0 ? t_end : 1.0, 6);
    int W = right - left, H = bottom - top;
#define XPIX(tt) (left + (int)lround((tt) / (t_end > 0 ? t_end : 1.0) * W))
#define YPIX(vv) (bottom - (int)lround(((vv)-lo) / (hi - lo) * H))
    for (double y = ceil(lo / ystep) * ystep; y <= hi + 1e-9 * ystep; y += ystep) {
        int yy = YPIX(y);
        bs_image_fill_rect(im, left, yy, W, 1, P_GRID);
        char lab[32];
        fmt_tick(y, ystep, lab, sizeof lab);
        bs_image_text(im, left - 6 - bs_text_width(ts, lab), yy - ch / 2, ts, P_TEXT, lab);
    }
    for (double x = 0.0; x <= t_end + 1e-9 * xstep; x += xstep) {
        int xx = XPIX(x);
        bs_image_fill_rect(im, xx, top, 1, H, P_GRID);
        bs_image_fill_rect(im, xx, bottom, 1, 5, P_AXIS);
        char lab[32];
        fmt_tick(x, xstep, lab, sizeof lab);
        bs_image_text(im, xx - bs_text_width(ts, lab) / 2, bottom + 8, ts, P_TEXT, lab);
    }
    if (w1 > w0) { /* the analysis window: a grey span with edges */
        static const uint8_t P_WIN[3] = { 0x60, 0x60, 0x60 };
        int xa = XPIX(w0), xb = XPIX(w1);
        for (int x = xa; x <= xb; x++)
            for (int y = top; y <= bottom; y++) px_blend(im, x, y, P_WIN, 22);
        bs_image_fill_rect(im, xa, top, 1, H, P_WIN);
        bs_image_fill_rect(im, xb, top, 1, H, P_WIN);
    }
    const char *xl = "time (days)";
    bs_image_text(im, left + (W - bs_text_width(ts, xl)) / 2, bottom + ch + 14, ts, P_TEXT, xl);
    /* IQR bands: one vertical span per pixel column, interpolated. */
    for (int arm = 0; arm < narms; arm++)
        for (int r = 0; r + 1 < nrow; r++) {
            if (isnan(s->med[arm][r]) || isnan(s->med[arm][r + 1])) continue;
            int x0 = XPIX(t[r]), x1 = XPIX(t[r + 1]);
            for (int x = x0; x < x1 || (x == x0 && x1 == x0); x++) {
                double f = x1 > x0 ? (double)(x - x0) / (x1 - x0) : 0.0;
                int y0 = YPIX(s->hi[arm][r] + f * (s->hi[arm][r + 1] - s->hi[arm][r]));
                int y1 = YPIX(s->lo[arm][r] + f * (s->lo[arm][r + 1] - s->lo[arm][r]));
                for (int y = y0; y <= y1; y++) px_blend(im, x, y, P_ARM[arm], 70);
                if (x1 == x0) break;
            }
        }
    for (int arm = 0; arm < narms; arm++)
        for (int r = 0; r + 1 < nrow; r++)
            if (!isnan(s->med[arm][r]) && !isnan(s->med[arm][r + 1]))
                line_thick(im, XPIX(t[r]), YPIX(s->med[arm][r]), XPIX(t[r + 1]), YPIX(s->med[arm][r + 1]), P_ARM[arm]);
#undef XPIX
#undef YPIX
    bs_image_fill_rect(im, left, top, 1, H + 1, P_AXIS);
    bs_image_fill_rect(im, left, bottom, W + 1, 1, P_AXIS);
}

/* Picks the plotted columns: --columns, else up to 6 of a preferred list
 * that are not zero throughout, topped up with other such columns. */
static int plot_columns(const int *cols, int ncols, int given, const int *nonzero, int *out)
{
    if (given) {
        int n = ncols > 12 ? 12 : ncols;
        memcpy(out, cols, (size_t)n * sizeof *out);
        return n;
    }
    static const char *const pref[] = { "bone_area_um2", "n_osteoclasts", "tumour_area_um2", "n_dtc_dormant",
        "n_dtc_proliferating", "n_tcells_active", "resorbed_um2_per_day", "n_mdsc" };
    int n = 0;
    for (size_t k = 0; k < sizeof pref / sizeof pref[0] && n < 6; k++) {
        int c = bs_column_index(pref[k]);
        if (c >= 0 && nonzero[c]) out[n++] = c;
    }
    for (int c = 1; bs_csv_columns[c] && n < 6; c++) {
        int have = 0;
        for (int k = 0; k < n; k++) have |= out[k] == c;
        if (!have && nonzero[c]) out[n++] = c;
    }
    return n;
}

static int write_plot(const char *path, const bs_table *ta, const bs_table *tb, int n, const int *cols, int ncols,
        const char *label_a, const char *label_b, const char *both, double t_end, char *why, size_t whyn)
{
    const int ts = 2, pw = 560, ph = 340, ch = bs_text_height(ts);
    int per_row = ncols > 1 ? 2 : 1, rows = (ncols + per_row - 1) / per_row;
    int head = (both[0] ? 4 : 3) * (ch + 10) + 14;
    bs_image im = { 0 };
    bs_error err = { { 0 } };
    if (bs_image_init(&im, per_row * pw, head + rows * ph, &err) != BS_OK) {
        snprintf(why, whyn, "%s", err.msg);
        return -1;
    }
    bs_image_fill_rect(&im, 0, 0, im.w, im.h, P_BG);
    char title[256];
    int few = n < BS_CI_MIN_PAIRS;
    if (n == 1)
        snprintf(title, sizeof title, "bonesim compare: one run per arm (no spread to show)");
    else if (few)
        snprintf(title, sizeof title, "bonesim compare: median and range (min to max) of %d paired replicates", n);
    else
        snprintf(title, sizeof title, "bonesim compare: median and IQR (band) of %d paired replicates", n);
    bs_image_text(&im, 10, 8, ts, P_TEXT, title);
    const char *labels[2] = { label_a, label_b };
    for (int arm = 0; arm < 2; arm++) {
        int y = 8 + (ch + 10) * (arm + 1);
        bs_image_fill_rect(&im, 10, y + ch / 2 - 2, 30, 5, P_ARM[arm]);
        char lab[300];
        snprintf(lab, sizeof lab, "%c: %s", arm ? 'B' : 'A', labels[arm]);
        bs_image_text(&im, 48, y, ts, P_TEXT, lab);
    }
    if (both[0]) {
        char lab[300];
        snprintf(lab, sizeof lab, "both arms: %.280s", both);
        bs_image_text(&im, 48, 8 + (ch + 10) * 3, ts, P_TEXT, lab);
    }
    int nrow = ta[0].nrow;
    double *t = malloc((size_t)nrow * sizeof *t), *buf = malloc((size_t)(6 * nrow + n) * sizeof *buf);
    if (!t || !buf) {
        free(t);
        free(buf);
        bs_image_free(&im);
        snprintf(why, whyn, "out of memory");
        return -1;
    }
    for (int r = 0; r < nrow; r++) t[r] = bs_tv(&ta[0], r, 0);
    series s;
    for (int arm = 0; arm < 2; arm++) {
        s.med[arm] = buf + (size_t)(3 * arm) * (size_t)nrow;
        s.lo[arm] = s.med[arm] + nrow;
        s.hi[arm] = s.lo[arm] + nrow;
    }
    double *x = buf + 6 * nrow;
    int bone_col = bs_column_index("bone_area_um2");
    for (int k = 0; k < ncols; k++) {
        /* bone as % of each run's own start: a loss of a few % is visible */
        int pct = cols[k] == bone_col;
        for (int i = 0; i < n && pct; i++) pct = bs_tv(&ta[i], 0, cols[k]) > 0.0 && bs_tv(&tb[i], 0, cols[k]) > 0.0;
        for (int arm = 0; arm < 2; arm++) {
            const bs_table *tt = arm ? tb : ta;
            for (int r = 0; r < nrow; r++) {
                for (int i = 0; i < n; i++) {
                    double v = bs_tv(&tt[i], r, cols[k]), v0 = bs_tv(&tt[i], 0, cols[k]);
                    x[i] = pct ? 100.0 * v / v0 : v;
                }
                s.med[arm][r] = bs_quantile(x, n, 0.5);
                s.lo[arm][r] = bs_quantile(x, n, few ? 0.0 : 0.25);
                s.hi[arm][r] = bs_quantile(x, n, few ? 1.0 : 0.75);
            }
        }
        char label[200];
        if (pct)
            snprintf(label, sizeof label, "bone area (%% of day 0)");
        else
            column_label(bs_csv_columns[cols[k]], label, sizeof label);
        if (bs_text_truetype()) { /* "um^2" -> "µm²" where the font has them */
            char *u = strstr(label, "um^2");
            if (u) {
                char tail[200];
                snprintf(tail, sizeof tail, "%s", u + 4);
                snprintf(u, sizeof label - (size_t)(u - label), BS_UM "\xC2\xB2%s", tail);
            }
        }
        draw_panel(&im, (k % per_row) * pw, head + (k / per_row) * ph, pw, ph, label, t, nrow, &s, t_end, 2, 0.0, 0.0);
    }
    free(t);
    free(buf);
    bs_status st = bs_png_write(path, &im, &err);
    bs_image_free(&im);
    if (st != BS_OK) {
        snprintf(why, whyn, "%s", err.msg);
        return -1;
    }
    return 0;
}

int bs_plot_arms(const char *path, const char *const *lines, int nlines, const char *const *labels, int narms,
        const char *ylabel, const double *t, int nrow, const double *const *med, const double *const *lo,
        const double *const *hi, double t_end, double w0, double w1, char *why, size_t whyn)
{
    const int ts = 2, pw = 1200, ph = 440, ch = bs_text_height(ts);
    int head = (nlines + narms) * (ch + 10) + 14;
    bs_image im = { 0 };
    bs_error err = { { 0 } };
    if (bs_image_init(&im, pw, head + ph, &err) != BS_OK) {
        snprintf(why, whyn, "%s", err.msg);
        return -1;
    }
    bs_image_fill_rect(&im, 0, 0, im.w, im.h, P_BG);
    int y = 8;
    for (int k = 0; k < nlines; k++, y += ch + 10) bs_image_text(&im, 10, y, ts, P_TEXT, lines[k]);
    for (int arm = 0; arm < narms; arm++, y += ch + 10) {
        bs_image_fill_rect(&im, 10, y + ch / 2 - 2, 30, 5, P_ARM[arm]);
        bs_image_text(&im, 48, y, ts, P_TEXT, labels[arm]);
    }
    series s;
    for (int arm = 0; arm < 2; arm++) {
        s.med[arm] = (double *)med[arm < narms ? arm : 0];
        s.lo[arm] = (double *)lo[arm < narms ? arm : 0];
        s.hi[arm] = (double *)hi[arm < narms ? arm : 0];
    }
    draw_panel(&im, 0, head, pw, ph, ylabel, t, nrow, &s, t_end, narms, w0, w1);
    bs_status st = bs_png_write(path, &im, &err);
    bs_image_free(&im);
    if (st != BS_OK) {
        snprintf(why, whyn, "%s", err.msg);
        return -1;
    }
    return 0;
}

/* ---- compare: the command ----------------------------------------------------------------- */

/* "vicious_cycle dtc.pthrp_per_h=0": the scenario and the arm's own sets. */
static void arm_label(const char *scenario, const char *const *sets, int nsets, char *out, size_t n)
{
    char name[256];
    bs_scenario_name(scenario, name, sizeof name);
    size_t k = (size_t)snprintf(out, n, "%s", name);
    for (int i = 0; i < nsets && k < n; i++) k += (size_t)snprintf(out + k, n - k, " %s", sets[i]);
}

int bs_cmd_compare(int argc, char **argv)
{
    exp_opts o;
    if (exp_parse(0, argc, argv, &o, "compare") != 0) return BS_EXIT_USAGE;
    if (o.help) {
        bs_usage_compare(stdout);
        return 0;
    }
    if (o.npos == 0) {
        fprintf(stderr, "bonesim compare: missing SCENARIO_A (see bonesim compare --help)\n");
        return BS_EXIT_USAGE;
    }
    const char *scen[2] = { o.pos[0], o.npos == 2 ? o.pos[1] : o.pos[0] };
    char path[2][4096];
    double days[2], csv[2];
    const char *const *arm_sets[2] = { o.sets_a, o.sets_b };
    int arm_n[2] = { o.nsets_a, o.nsets_b };
    for (int arm = 0; arm < 2; arm++)
        if (exp_validate("compare", scen[arm], o.sets, o.nsets, arm_sets[arm], arm_n[arm], &o, path[arm],
                    sizeof path[arm], &days[arm], &csv[arm], NULL) != 0)
            return BS_EXIT_USAGE;
    double run_days = o.days > 0 ? o.days : days[0], csv_every = o.csv_every > 0 ? o.csv_every : csv[0];
    if (o.seed + (double)(o.replicates - 1) > MAX_SEED) {
        fprintf(stderr, "bonesim compare: --seed %lld + %ld replicates passes the largest seed %.0f\n", o.seed,
                o.replicates, MAX_SEED);
        return BS_EXIT_USAGE;
    }
    /* days for the bs_table */
    double at[MAX_LIST];
    int nat = 0;
    char buf[4096];
    if (o.at) {
        char *items[MAX_LIST];
        nat = split_list(o.at, buf, sizeof buf, items, MAX_LIST);
        if (nat < 0) {
            fprintf(stderr, "bonesim compare: --at '%s' is not a comma-separated list of days (at most %d)\n", o.at,
                    MAX_LIST);
            return BS_EXIT_USAGE;
        }
        for (int k = 0; k < nat; k++)
            if (!parse_num(items[k], 0, run_days, 0, &at[k])) {
                fprintf(stderr, "bonesim compare: --at day '%s' is not a number in 0 .. %g (the run's days)\n",
                        items[k], run_days);
                return BS_EXIT_USAGE;
            }
    } else {
        for (int k = 1; k <= 4; k++) at[nat++] = run_days * k / 4.0;
    }
    int cols[MAX_LIST], ncols = 0;
    if (o.columns) {
        char *items[MAX_LIST];
        ncols = split_list(o.columns, buf, sizeof buf, items, MAX_LIST);
        if (ncols < 0) {
            fprintf(stderr, "bonesim compare: --columns '%s' is not a comma-separated list of columns\n", o.columns);
            return BS_EXIT_USAGE;
        }
        for (int k = 0; k < ncols; k++)
            if ((cols[k] = bs_column_index(items[k])) <= 0) {
                fprintf(stderr, "bonesim compare: unknown column '%s' (columns: ", items[k]);
                list_columns(stderr);
                fprintf(stderr, ")\n");
                return BS_EXIT_USAGE;
            }
    }
    char out[3000];
    if (o.out && strlen(o.out) >= sizeof out - 100) {
        fprintf(stderr, "bonesim compare: --out folder name too long\n");
        return BS_EXIT_USAGE;
    }
    if (o.out)
        snprintf(out, sizeof out, "%s", o.out);
    else {
        char na[256], nb[256];
        bs_scenario_name(path[0], na, sizeof na);
        bs_scenario_name(path[1], nb, sizeof nb);
        snprintf(out, sizeof out, "out/compare-%s-vs-%s", na, nb);
    }
    char cpath[4200], ppath[4200];
    snprintf(cpath, sizeof cpath, "%s/compare.csv", out);
    snprintf(ppath, sizeof ppath, "%s/compare.png", out);
    char a0[4200];
    snprintf(a0, sizeof a0, "%s/a", out);
    if (!o.force && (bs_path_exists(cpath) || bs_path_exists(a0))) {
        fprintf(stderr, "bonesim compare: %s already holds a compare: choose another --out or add --force\n", out);
        return BS_EXIT_USAGE;
    }
    if (bs_mkdir_p(out) != 0) {
        fprintf(stderr, "bonesim compare: cannot create %s (%s)\n", out, strerror(errno));
        return BS_EXIT_ERROR;
    }
    /* --force: remove the earlier compare's outputs (its list), then list this one's */
    if (o.force && bs_outlist_remove_old(out, "compare") != 0) return BS_EXIT_ERROR;
    {
        bs_outlist ol = { 0 };
        bs_outlist_add(&ol, "file", "compare.csv");
        bs_outlist_add(&ol, "file", "compare.png");
        for (long i = 0; i < o.replicates; i++)
            for (int arm = 0; arm < 2; arm++) {
                char rn[64];
                snprintf(rn, sizeof rn, "%c/rep_%ld", arm ? 'b' : 'a', i);
                bs_outlist_add(&ol, "run", rn);
            }
        bs_outlist_add(&ol, "dir", "a");
        bs_outlist_add(&ol, "dir", "b");
        if (bs_outlist_write(&ol, out, "compare") != 0) return BS_EXIT_ERROR;
    }

    long n = o.replicates, njobs = 2 * n;
    bs_job *jobs = calloc((size_t)njobs, sizeof *jobs);
    if (!jobs) {
        fprintf(stderr, "bonesim compare: out of memory\n");
        return BS_EXIT_ERROR;
    }
    int bad = 0;
    for (long i = 0; i < n && !bad; i++)
        for (int arm = 0; arm < 2 && !bad; arm++) {
            bs_job *j = &jobs[2 * i + arm]; /* interleaved: finished runs come in pairs */
            j->arm = arm;
            j->index = i;
            j->seed = o.seed + i;
            snprintf(j->dir, sizeof j->dir, "%s/%c/rep_%ld", out, arm ? 'b' : 'a', i);
            snprintf(j->tag, sizeof j->tag, "%c/rep_%ld", arm ? 'b' : 'a', i);
            bad = job_args(j, path[arm], run_days, csv_every, o.force) || add_sets(j, o.sets, o.nsets) ||
                    add_sets(j, arm_sets[arm], arm_n[arm]);
        }
    if (bad) {
        bs_jobs_free(jobs, njobs);
        fprintf(stderr, "bonesim compare: out of memory\n");
        return BS_EXIT_ERROR;
    }
    char label[2][1024], both[1024] = "";
    for (int arm = 0; arm < 2; arm++) arm_label(path[arm], arm_sets[arm], arm_n[arm], label[arm], sizeof label[arm]);
    for (int k = 0, len = 0; k < o.nsets && len < (int)sizeof both; k++)
        len += snprintf(both + len, sizeof both - (size_t)len, "%s%s", k ? " " : "", o.sets[k]);
    if (!o.quiet)
        fprintf(stderr,
                "bonesim compare: A = %s\n                 B = %s\n%s%s%s  %ld paired replicates (seeds "
                "%lld..%lld), %g days, %d at once, outputs in %s\n",
                label[0], label[1], both[0] ? "  both: " : "", both, both[0] ? "\n" : "", n, o.seed, o.seed + n - 1,
                run_days, o.jobs, out);
    double t0 = bs_now_s();
    bs_pool_opts po = { "compare", o.jobs, o.quiet, NULL, NULL };
    long nfailed = 0;
    bs_pool_signals(1);
    int sig = bs_pool_run(jobs, njobs, &po, &nfailed);
    bs_pool_signals(0);
    double wall = bs_now_s() - t0;
    if (sig) {
        bs_jobs_free(jobs, njobs);
        fprintf(stderr, "bonesim compare: stopped by %s; the finished runs are kept in %s\n",
                sig == SIGTERM ? "SIGTERM" : "SIGINT", out);
        return sig == SIGTERM ? BS_EXIT_SIGTERM : BS_EXIT_SIGINT;
    }
    if (nfailed) {
        bs_jobs_free(jobs, njobs);
        fprintf(stderr, "bonesim compare: %ld of %ld runs failed (see above); the finished runs are kept in %s\n",
                nfailed, njobs, out);
        return BS_EXIT_ERROR;
    }

    /* read back */
    bs_table *tab = calloc((size_t)njobs, sizeof *tab);
    int rc = BS_EXIT_OK;
    char why[BS_ERROR_MAX] = "";
    for (long k = 0; k < njobs && tab && rc == BS_EXIT_OK; k++)
        if (bs_table_read(jobs[k].dir, &tab[k], why, sizeof why) != 0) rc = BS_EXIT_ERROR;
    bs_table *ta = NULL, *tb = NULL;
    if (!tab) {
        snprintf(why, sizeof why, "out of memory");
        rc = BS_EXIT_ERROR;
    }
    if (rc == BS_EXIT_OK) {
        ta = malloc((size_t)n * sizeof *ta);
        tb = malloc((size_t)n * sizeof *tb);
        if (!ta || !tb) {
            snprintf(why, sizeof why, "out of memory");
            rc = BS_EXIT_ERROR;
        }
    }
    for (long i = 0; i < n && rc == BS_EXIT_OK; i++) {
        ta[i] = tab[2 * i];
        tb[i] = tab[2 * i + 1];
        for (int arm = 0; arm < 2 && rc == BS_EXIT_OK; arm++) {
            const bs_table *t = arm ? &tb[i] : &ta[i];
            int same = t->nrow == ta[0].nrow;
            for (int r = 0; r < t->nrow && same; r++) same = bs_tv(t, r, 0) == bs_tv(&ta[0], r, 0);
            if (!same) {
                snprintf(why, sizeof why, "%.2000s/timeseries.csv: its days differ from %.2000s/timeseries.csv",
                        jobs[2 * i + arm].dir, jobs[0].dir);
                rc = BS_EXIT_ERROR;
            }
        }
    }
    int ncol = ta && rc == BS_EXIT_OK ? ta[0].ncol : 0;
    int nonzero[256] = { 0 };
    for (int c = 0; c < ncol && c < 256; c++)
        for (long i = 0; i < n && !nonzero[c]; i++)
            for (int r = 0; r < ta[0].nrow && !nonzero[c]; r++)
                nonzero[c] = bs_tv(&ta[i], r, c) != 0.0 || bs_tv(&tb[i], r, c) != 0.0;

    /* statistics, table, compare.csv */
    double *scratch = rc == BS_EXIT_OK ? malloc((size_t)(5 * n + BS_BOOT_N) * sizeof *scratch) : NULL;
    if (rc == BS_EXIT_OK && !scratch) {
        snprintf(why, sizeof why, "out of memory");
        rc = BS_EXIT_ERROR;
    }
    size_t csv_cap = 1 << 16, csv_len = 0;
    char *csvtext = rc == BS_EXIT_OK ? malloc(csv_cap) : NULL;
    if (rc == BS_EXIT_OK && !csvtext) {
        snprintf(why, sizeof why, "out of memory");
        rc = BS_EXIT_ERROR;
    }
#define CSV_PUT(...)                                                                                                   \
    do {                                                                                                               \
        int need_ = snprintf(NULL, 0, __VA_ARGS__);                                                                    \
        if (csv_len + (size_t)need_ + 1 > csv_cap) {                                                                   \
            char *p_ = realloc(csvtext, csv_cap * 2 + (size_t)need_);                                                  \
            if (!p_) {                                                                                                 \
                rc = BS_EXIT_ERROR;                                                                                    \
                snprintf(why, sizeof why, "out of memory");                                                            \
                break;                                                                                                 \
            }                                                                                                          \
            csvtext = p_;                                                                                              \
            csv_cap = csv_cap * 2 + (size_t)need_;                                                                     \
        }                                                                                                              \
        csv_len += (size_t)snprintf(csvtext + csv_len, csv_cap - csv_len, __VA_ARGS__);                                \
    } while (0)
    if (rc == BS_EXIT_OK) {
        CSV_PUT("column,day,median_a,median_b,effect,effect_median,effect_q25,effect_q75,boot95_lo,boot95_hi,n\n");
        printf("bonesim compare: %ld paired replicates (seeds %lld..%lld), %g days, %.1f s wall (%d at once%s)\n"
               "  A = %s\n  B = %s\n%s%s%s",
                n, o.seed, o.seed + n - 1, run_days, wall, o.jobs, bs_mpi_size() > 1 ? " per MPI rank" : "", label[0],
                label[1], both[0] ? "  both: " : "", both, both[0] ? "\n" : "");
        if (n >= BS_CI_MIN_PAIRS)
            printf("effect: ratio B/A of each pair when every A is positive, else difference B-A; median over "
                   "pairs,\nIQR over pairs, bootstrap 95%% interval of the median\n");
        else
            printf("effect: ratio B/A of each pair when every A is positive, else difference B-A; median over "
                   "pairs,\nrange (min .. max) over pairs; no bootstrap interval from %ld pair%s (at least %d "
                   "needed; add --replicates)\n",
                    n, n == 1 ? "" : "s", BS_CI_MIN_PAIRS);
        int omitted = 0;
        for (int c = 1; c < ncol; c++) {
            int chosen = !o.columns;
            for (int k = 0; k < ncols; k++) chosen |= cols[k] == c;
            if (!chosen) continue;
            int print_it = o.columns || nonzero[c];
            if (!print_it) omitted++;
            char lab[160];
            column_label(bs_csv_columns[c], lab, sizeof lab);
            if (print_it)
                printf("\n%s  [%s]\n  %8s %12s %12s %7s %10s %21s %21s\n", bs_csv_columns[c], lab, "day", "median A",
                        "median B", "effect", "median", n >= BS_CI_MIN_PAIRS ? "IQR of pairs" : "range of pairs",
                        n >= BS_CI_MIN_PAIRS ? "bootstrap 95% CI" : "95% CI");
            int rows[MAX_LIST];
            for (int d = 0; d < nat; d++) rows[d] = bs_table_nearest_row(&ta[0], at[d]);
            int ratio = column_ratio_ok(ta, tb, (int)n, c, rows, nat);
            for (int d = 0; d < nat && rc == BS_EXIT_OK; d++) {
                cmp_cell cell = { 0 };
                cell.col = c;
                cell.ratio = ratio;
                cell.row = rows[d];
                cell.day = bs_tv(&ta[0], cell.row, 0);
                compare_cell(ta, tb, (int)n, &cell, scratch, (uint64_t)c * 1000u + (uint64_t)d);
                const char *eff = cell.ratio ? "B/A" : "B-A";
                if (print_it) {
                    char iqr[64], ci[64];
                    if (n >= BS_CI_MIN_PAIRS) {
                        snprintf(iqr, sizeof iqr, "%.4g .. %.4g", cell.q25, cell.q75);
                        snprintf(ci, sizeof ci, "%.4g .. %.4g", cell.boot_lo, cell.boot_hi);
                    } else {
                        snprintf(iqr, sizeof iqr, "%.4g .. %.4g", cell.lo, cell.hi);
                        snprintf(ci, sizeof ci, "none (n < %d)", BS_CI_MIN_PAIRS);
                    }
                    printf("  %8.1f %12.5g %12.5g %7s %10.4g %21s %21s\n", cell.day, cell.med_a, cell.med_b, eff,
                            cell.eff_med, iqr, ci);
                }
                /* no bootstrap interval from fewer than BS_CI_MIN_PAIRS pairs: empty fields */
                char blo[32] = "", bhi[32] = "";
                if (n >= BS_CI_MIN_PAIRS) {
                    snprintf(blo, sizeof blo, "%.10g", cell.boot_lo);
                    snprintf(bhi, sizeof bhi, "%.10g", cell.boot_hi);
                }
                CSV_PUT("%s,%.4f,%.10g,%.10g,%s,%.10g,%.10g,%.10g,%s,%s,%d\n", bs_csv_columns[c], cell.day, cell.med_a,
                        cell.med_b, cell.ratio ? "ratio" : "difference", cell.eff_med, cell.q25, cell.q75, blo, bhi,
                        cell.n);
            }
        }
        if (omitted)
            printf("\n(%d columns that are zero throughout in both arms are left out of this table; they are in "
                   "compare.csv)\n",
                    omitted);
    }
#undef CSV_PUT
    bs_error err = { { 0 } };
    if (rc == BS_EXIT_OK && bs_write_file_atomic(cpath, csvtext, csv_len, &err) != BS_OK) {
        snprintf(why, sizeof why, "%s", err.msg);
        rc = BS_EXIT_ERROR;
    }
    if (rc == BS_EXIT_OK) {
        int pc[16];
        int np = plot_columns(cols, ncols, o.columns != NULL, nonzero, pc);
        if (np == 0) pc[np++] = bs_column_index("bone_area_um2");
        char l0[300], l1[300];
        snprintf(l0, sizeof l0, "%.290s", label[0]);
        snprintf(l1, sizeof l1, "%.290s", label[1]);
        if (write_plot(ppath, ta, tb, (int)n, pc, np, l0, l1, both, run_days, why, sizeof why) != 0) rc = BS_EXIT_ERROR;
    }
    if (rc == BS_EXIT_OK)
        printf("\nwrote %s, %s; runs in %s/a, %s/b\n", cpath, ppath, out, out);
    else
        fprintf(stderr, "bonesim compare: %s\n", why);
    free(csvtext);
    free(scratch);
    if (tab)
        for (long k = 0; k < njobs; k++) free(tab[k].v);
    free(tab);
    free(ta);
    free(tb);
    bs_jobs_free(jobs, njobs);
    return rc;
}

/* ==== sweep ========================================================================== */

void bs_usage_sweep(FILE *f)
{
    fprintf(f,
            "usage: bonesim sweep SCENARIO --set S.K=V1,V2,... [--set S.K2=...] [options]\n"
            "       bonesim sweep SCENARIO --sample lhs:N|morris:R --range S.K[=LO:HI] ... [options]\n"
            "       mpirun -np N bonesim sweep ...   (the runs spread over N MPI ranks; docs/cluster.md)\n"
            "\n"
            "Runs every combination of the listed values (the cartesian product) x --replicates,\n"
            "each as a child process `bonesim run ... --threads T --quiet --no-png` (T: --threads,\n"
            "default 1), at most --jobs at once, and appends one row per finished run to\n"
            "DIR/summary.csv as results arrive\n"
            "(written and fsync'ed row by row, so an interrupted sweep keeps what it finished).\n"
            "A --set with one value applies to every run; a key may be given only once.\n"
            "\n"
            "options:\n"
            "  --set S.K=V1,V2,... parameter values to sweep (repeatable; one value: fixed)\n"
            "  --sample lhs:N      instead of a grid: N points of a Latin hypercube over the --range\n"
            "                      parameters (each range cut in N strata, each stratum hit once)\n"
            "  --sample morris:R   instead of a grid: R Morris trajectories of k + 1 points (k the\n"
            "                      number of --range parameters), one parameter moved at a time;\n"
            "                      analyse with `bonesim sensitivity DIR`. Both are deterministic\n"
            "                      from --seed and written to DIR/design.csv\n"
            "  --range S.K=LO:HI   a sampled parameter and its range (repeatable; real-valued\n"
            "                      parameters only; S.K alone: the registry's min:max)\n"
            "  --levels P          Morris grid levels per parameter (even, default 4)\n"
            "  --replicates N      runs per grid or design point (default 1)\n"
            "  --seed S            base seed (default 1): run r uses seed S + r, where\n"
            "                      r = grid_point x N + replicate, so no two runs share a seed\n"
            "  --days D, --csv-every DAYS   as for run\n"
            "  --columns LIST      outputs per run: COL (value in the last CSV row), min:COL, max:COL,\n"
            "                      mean:COL (over the run) (default: the last row's every column)\n"
            "  --jobs J            runs at once (default: the number of cores; under MPI: per rank,\n"
            "                      default 1)\n"
            "  --threads T         OpenMP threads of each run (default 1); results are the same at any T\n"
            "  --runs FIRST-LAST   only runs FIRST..LAST of the sweep (a slice, e.g. one task of a Slurm\n"
            "                      job array, each into its own --out); the slices' summary.csv rows\n"
            "                      together are the whole sweep's (docs/cluster.md)\n"
            "  --out DIR           output folder (default: out/sweep-SCENARIO); runs in DIR/runs/run_R\n"
            "  --resume            continue a sweep: keep summary.csv, skip the runs already in it;\n"
            "                      refused (listing what differs) unless scenario, days, seeds,\n"
            "                      replicates, columns, every --set, every resolved parameter and the\n"
            "                      program version and commit equal those stored in\n"
            "                      DIR/sweep-config.txt when the sweep started\n"
            "  --force             start over in a folder that holds a sweep, removing what that sweep\n"
            "                      wrote (listed in DIR/experiment-outputs.txt), nothing else\n"
            "  --quiet             no progress\n"
            "\n"
            "summary.csv columns: run, seed, replicate, each swept parameter, then the outputs\n"
            "(COL_final, COL_min, COL_max, COL_mean). Rows are appended in the order runs finish;\n"
            "once every run is in, the file is rewritten (atomically) in run order, so the same\n"
            "sweep gives the same bytes on one machine or over MPI ranks. SIGINT/SIGTERM stop\n"
            "launching, stop the running children and exit 130/143 with the rows written so far;\n"
            "continue with the same command and --resume.\n"
            "\n"
            "Example: bonesim sweep vicious_cycle --set dtc.pthrp_per_h=0,10,20 --replicates 3 --days 120\n");
}

enum { AGG_FINAL, AGG_MIN, AGG_MAX, AGG_MEAN };
static const char *const agg_names[] = { "final", "min", "max", "mean" };

typedef struct {
    int col, agg;
} out_spec;

typedef struct {
    int fd;
    char path[4200];
    out_spec outs[MAX_LIST * 4];
    int nouts;
    char *const *vals[MAX_LIST]; /* per key: its values */
    int nvals[MAX_LIST], nkeys;
    long reps;
    int zip; /* --sample: run r is design point r / reps for every key (not a grid) */
    long written;
    int io_error;
} sweep_ctx;

/* Values of the swept parameters of run r (last key varies fastest). */
static void grid_point(const sweep_ctx *S, long r, int *idx)
{
    long g = r / S->reps;
    for (int k = 0; k < S->nkeys && S->zip; k++) idx[k] = (int)g;
    for (int k = S->nkeys - 1; k >= 0 && !S->zip; k--) {
        idx[k] = (int)(g % S->nvals[k]);
        g /= S->nvals[k];
    }
}

static void sweep_done(void *ctx, bs_job *j)
{
    sweep_ctx *S = ctx;
    bs_table t;
    char why[BS_ERROR_MAX];
    if (bs_table_read(j->dir, &t, why, sizeof why) != 0) {
        fprintf(stderr, "\nbonesim sweep: %s: %s (no summary row)\n", j->tag, why);
        S->io_error = 1;
        return;
    }
    char row[16384];
    int idx[MAX_LIST];
    grid_point(S, j->index, idx);
    size_t k = (size_t)snprintf(row, sizeof row, "%ld,%lld,%ld", j->index, j->seed, j->index % S->reps);
    for (int p = 0; p < S->nkeys && k < sizeof row; p++)
        k += (size_t)snprintf(row + k, sizeof row - k, ",%s", S->vals[p][idx[p]]);
    for (int q = 0; q < S->nouts && k < sizeof row; q++) {
        int c = S->outs[q].col;
        double v = bs_tv(&t, t.nrow - 1, c);
        if (S->outs[q].agg != AGG_FINAL) {
            double acc = S->outs[q].agg == AGG_MEAN ? 0.0 : bs_tv(&t, 0, c);
            for (int r = 0; r < t.nrow; r++) {
                double x = bs_tv(&t, r, c);
                if (S->outs[q].agg == AGG_MIN)
                    acc = fmin(acc, x);
                else if (S->outs[q].agg == AGG_MAX)
                    acc = fmax(acc, x);
                else
                    acc += x;
            }
            v = S->outs[q].agg == AGG_MEAN ? acc / t.nrow : acc;
        }
        k += (size_t)snprintf(row + k, sizeof row - k, ",%.10g", v);
    }
    free(t.v);
    if (k + 2 > sizeof row) {
        fprintf(stderr, "\nbonesim sweep: %s: summary row too long\n", j->tag);
        S->io_error = 1;
        return;
    }
    row[k++] = '\n';
    /* One write per row (O_APPEND), then fsync: a crash or a signal leaves
     * whole rows on disk. */
    if (write(S->fd, row, k) != (ssize_t)k || fsync(S->fd) != 0) {
        fprintf(stderr, "\nbonesim sweep: %s: write failed (%s)\n", S->path, strerror(errno));
        S->io_error = 1;
        return;
    }
    S->written++;
}

/* --resume: reads the run indices already in summary.csv (its header must
 * be `header`), cutting off a partial last line. */
static int read_done(
        const char *path, const char *header, long long seed0, long total, unsigned char *done, long *ndone)
{
    FILE *f = fopen(path, "r+");
    if (!f) {
        fprintf(stderr, "bonesim sweep: --resume: cannot read %s (%s)\n", path, strerror(errno));
        return -1;
    }
    char line[16384];
    *ndone = 0;
    if (!fgets(line, sizeof line, f) || strcmp(line, header) != 0) {
        fprintf(stderr,
                "bonesim sweep: --resume: the header of %s is not that of this sweep (other --set keys or "
                "--columns?); start over with --force or use another --out\n",
                path);
        fclose(f);
        return -1;
    }
    long good = ftell(f), lineno = 1;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        size_t len = strlen(line);
        if (len == 0 || line[len - 1] != '\n') break; /* a partial row: cut off below */
        char *end;
        long r = strtol(line, &end, 10);
        long long s = *end == ',' ? strtoll(end + 1, NULL, 10) : -1;
        if (end == line || *end != ',' || r < 0 || r >= total || s != seed0 + r) {
            fprintf(stderr,
                    "bonesim sweep: --resume: %s:%ld: run %ld with seed %lld does not belong to this sweep "
                    "(other --seed or grid?)\n",
                    path, lineno, r, s);
            fclose(f);
            return -1;
        }
        if (!done[r]) (*ndone)++;
        done[r] = 1;
        good = ftell(f);
    }
    int rc = ftruncate(fileno(f), (off_t)good);
    fclose(f);
    return rc == 0 ? 0 : -1;
}

/* The configuration of a sweep as text, "key = value" a line: version,
 * commit, scenario, days, csv interval, seed, replicates, columns, every
 * fixed and swept --set, then every resolved parameter of the base
 * configuration (scenario + fixed sets), so that an edited scenario file
 * counts as a different configuration too. Returns malloc'd text. */
static char *sweep_config_text(const exp_opts *o, const char *scenario_path, double days, double csv_every,
        const char *const *fixed, int nfixed, const char *const *keys, const sweep_ctx *S, const char *ptext)
{
    size_t cap = strlen(ptext) + 65536, len = 0;
    char *t = malloc(cap);
    if (!t) return NULL;
#define PUT(...) len += (size_t)snprintf(t + len, len < cap ? cap - len : 0, __VA_ARGS__)
    PUT("# bonesim sweep configuration (written when the sweep starts; sweep --resume refuses a different one)\n");
    PUT("version = %s\ncommit = %s\nscenario = %s\ndays = %.17g\ncsv_every_d = %.17g\nseed = %lld\n", BS_VERSION,
            BS_GIT_COMMIT, scenario_path, days, csv_every, o->seed);
    PUT("replicates = %ld\ncolumns = %s\n", o->replicates, o->columns ? o->columns : "(every column, final)");
    if (o->has_runs) PUT("runs = %ld-%ld\n", o->runs_first, o->runs_last);
    for (int k = 0; k < nfixed && len < cap; k++) {
        const char *eq = strchr(fixed[k], '=');
        PUT("fixed.%.*s = %s\n", (int)(eq - fixed[k]), fixed[k], eq + 1);
    }
    if (S->zip) { /* --sample: the design (design.csv) stands for the values */
        PUT("sample = %s\nlevels = %d\n", o->sample, o->levels);
        for (int k = 0; k < o->nranges && len < cap; k++) {
            const char *eq = strchr(o->ranges[k], '=');
            if (eq)
                PUT("range.%.*s = %s\n", (int)(eq - o->ranges[k]), o->ranges[k], eq + 1);
            else
                PUT("range.%s = (the registry's min:max)\n", o->ranges[k]);
        }
    }
    for (int k = 0; k < S->nkeys && len < cap && !S->zip; k++) {
        PUT("swept.%s = ", keys[k]);
        for (int v = 0; v < S->nvals[k]; v++) PUT("%s%s", v ? "," : "", S->vals[k][v]);
        PUT("\n");
    }
    if (len + strlen(ptext) + 1 < cap) PUT("%s", ptext);
#undef PUT
    if (len >= cap) {
        free(t);
        return NULL;
    }
    return t;
}

/* Looks up key in "key = value" lines; copies its value (or "") to out. */
static int conf_value(const char *text, const char *key, char *out, size_t n)
{
    size_t kl = strlen(key);
    for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
        if (strncmp(p, key, kl) == 0 && strncmp(p + kl, " = ", 3) == 0) {
            const char *v = p + kl + 3, *e = strchr(v, '\n');
            size_t l = e ? (size_t)(e - v) : strlen(v);
            snprintf(out, n, "%.*s", (int)l, v);
            return 1;
        }
    }
    out[0] = '\0';
    return 0;
}

/* --resume: the stored configuration must equal this one; else prints
 * every difference (at most 20) and returns -1. */
static int sweep_config_check(const char *cpath, const char *now)
{
    FILE *f = fopen(cpath, "rb");
    if (!f) {
        fprintf(stderr,
                "bonesim sweep: --resume: %s is missing (%s), so the configuration of the sweep in this folder "
                "cannot be checked; start over with --force or use another --out\n",
                cpath, strerror(errno));
        return -1;
    }
    size_t cap = 1 << 16, len = 0;
    char *old = malloc(cap);
    size_t got;
    while (old && (got = fread(old + len, 1, cap - len - 1, f)) > 0) {
        len += got;
        if (len + 1 == cap) {
            char *no = realloc(old, cap * 2);
            if (!no) {
                free(old);
                old = NULL;
                break;
            }
            old = no;
            cap *= 2;
        }
    }
    fclose(f);
    if (!old) {
        fprintf(stderr, "bonesim sweep: out of memory\n");
        return -1;
    }
    old[len] = '\0';
    int ndiff = 0;
    /* keys of both texts, in the order they appear (stored first) */
    for (int pass = 0; pass < 2; pass++) {
        const char *a = pass ? now : old, *b = pass ? old : now;
        for (const char *p = a; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
            const char *eq = strstr(p, " = "), *nl = strchr(p, '\n');
            if (*p == '#' || !eq || (nl && eq > nl)) continue;
            char key[512], va[1024], vb[1024];
            snprintf(key, sizeof key, "%.*s", (int)(eq - p), p);
            conf_value(a, key, va, sizeof va);
            int inb = conf_value(b, key, vb, sizeof vb);
            if (pass == 1 && inb) continue; /* reported in pass 0 */
            if (inb && strcmp(va, vb) == 0) continue;
            if (ndiff == 0)
                fprintf(stderr, "bonesim sweep: --resume: this is not the sweep in %s; it differs in:\n", cpath);
            if (ndiff < 20) {
                if (pass == 0 && inb)
                    fprintf(stderr, "  %s: stored %s, now %s\n", key, va, vb);
                else if (pass == 0)
                    fprintf(stderr, "  %s: stored %s, now not given\n", key, va);
                else
                    fprintf(stderr, "  %s: not in the stored sweep, now %s\n", key, va);
            }
            ndiff++;
        }
    }
    free(old);
    if (ndiff) {
        if (ndiff > 20) fprintf(stderr, "  ... and %d more\n", ndiff - 20);
        fprintf(stderr,
                "rerun with the stored configuration to continue it, or start over with --force or another "
                "--out\n");
        return -1;
    }
    return 0;
}

int bs_cmd_sweep(int argc, char **argv)
{
    exp_opts o;
    if (exp_parse(1, argc, argv, &o, "sweep") != 0) return BS_EXIT_USAGE;
    if (o.help) {
        bs_usage_sweep(stdout);
        return 0;
    }
    if (o.npos == 0) {
        fprintf(stderr, "bonesim sweep: missing SCENARIO (see bonesim sweep --help)\n");
        return BS_EXIT_USAGE;
    }
    if (o.resume && o.force) {
        fprintf(stderr, "bonesim sweep: --resume and --force contradict each other (continue, or start over?)\n");
        return BS_EXIT_USAGE;
    }
    static sweep_ctx S;
    memset(&S, 0, sizeof S);
    S.fd = -1;
    S.reps = o.replicates;
    /* --set: swept keys (several values) and fixed ones */
    static char keybuf[MAX_LIST][512];
    static char valbuf[MAX_LIST][4096];
    static char *items[MAX_LIST][MAX_LIST];
    const char *keys[MAX_LIST], *fixed[BS_CLI_MAX_SETS];
    int nfixed = 0;
    for (int s = 0; s < o.nsets; s++) {
        const char *a = o.sets[s], *eq = strchr(a, '=');
        if (!eq || eq == a) {
            fprintf(stderr, "bonesim sweep: --set '%s': expected section.key=V1,V2,...\n", a);
            return BS_EXIT_USAGE;
        }
        /* a key given twice (swept or fixed) is refused, not resolved by order */
        for (int p = 0; p < s; p++) {
            const char *b = o.sets[p], *eb = strchr(b, '=');
            if (eb && eb - b == eq - a && strncmp(a, b, (size_t)(eq - a)) == 0) {
                fprintf(stderr,
                        "bonesim sweep: %.*s is given twice (--set '%s' and --set '%s'); give all its values in one "
                        "--set\n",
                        (int)(eq - a), a, b, a);
                return BS_EXIT_USAGE;
            }
        }
        if (!strchr(eq + 1, ',')) {
            fixed[nfixed++] = a;
            continue;
        }
        if (S.nkeys == MAX_LIST || (size_t)(eq - a) >= sizeof keybuf[0]) {
            fprintf(stderr, "bonesim sweep: too many swept parameters (at most %d)\n", MAX_LIST);
            return BS_EXIT_USAGE;
        }
        int k = S.nkeys;
        snprintf(keybuf[k], sizeof keybuf[k], "%.*s", (int)(eq - a), a);
        int nv = split_list(eq + 1, valbuf[k], sizeof valbuf[k], items[k], MAX_LIST);
        if (nv < 0) {
            fprintf(stderr,
                    "bonesim sweep: --set '%s': bad value list (comma-separated values, none empty, at most %d)\n", a,
                    MAX_LIST);
            return BS_EXIT_USAGE;
        }
        keys[k] = keybuf[k];
        S.vals[k] = items[k];
        S.nvals[k] = nv;
        S.nkeys++;
    }
    /* --sample: the design's points replace the grid (sensitivity.h) */
    static bs_design D;
    static char **dvals;
    if (o.sample || o.nranges || o.levels) {
        char why[1024];
        bs_design_free(&D);
        if (dvals) free(dvals[0]);
        free(dvals);
        dvals = NULL;
        if (bs_sweep_design(o.sample, o.ranges, o.nranges, o.levels, (uint64_t)o.seed, &D, &dvals, why, sizeof why)) {
            fprintf(stderr, "bonesim sweep: %s\n", why);
            return BS_EXIT_USAGE;
        }
        D.replicates = o.replicates;
        if (S.nkeys > 0) {
            fprintf(stderr, "bonesim sweep: --sample replaces the grid: give --set with one value only (fixed)\n");
            return BS_EXIT_USAGE;
        }
        for (int p = 0; p < D.nparams; p++) {
            size_t nl = strlen(D.par[p].name);
            for (int f = 0; f < nfixed; f++)
                if (strncmp(fixed[f], D.par[p].name, nl) == 0 && fixed[f][nl] == '=') {
                    fprintf(stderr, "bonesim sweep: %s is both sampled (--range) and fixed (--set)\n", D.par[p].name);
                    return BS_EXIT_USAGE;
                }
            keys[p] = D.par[p].name;
            S.vals[p] = dvals + (size_t)p * (size_t)D.npoints;
            S.nvals[p] = (int)D.npoints;
        }
        S.nkeys = D.nparams;
        S.zip = 1;
    }
    if (S.nkeys == 0) {
        fprintf(stderr, "bonesim sweep: nothing to sweep: give at least one --set S.K=V1,V2,... or --sample\n");
        return BS_EXIT_USAGE;
    }
    char path[4096];
    double days, csv;
    if (exp_validate("sweep", o.pos[0], fixed, nfixed, NULL, 0, &o, path, sizeof path, &days, &csv, NULL) != 0)
        return BS_EXIT_USAGE;
    /* each swept value on its own, with the fixed sets (sampled: both ends of the range) */
    for (int k = 0; k < S.nkeys; k++)
        for (int v = 0; v < (S.zip ? 2 : S.nvals[k]); v++) {
            char one[4700], p2[4096];
            double d2, c2;
            if (S.zip)
                snprintf(one, sizeof one, "%s=%.17g", keys[k], v ? D.par[k].hi : D.par[k].lo);
            else
                snprintf(one, sizeof one, "%s=%s", keys[k], S.vals[k][v]);
            const char *ov[1] = { one };
            if (exp_validate("sweep", o.pos[0], fixed, nfixed, ov, 1, &o, p2, sizeof p2, &d2, &c2, NULL) != 0)
                return BS_EXIT_USAGE;
        }
    double run_days = o.days > 0 ? o.days : days, csv_every = o.csv_every > 0 ? o.csv_every : csv;
    double grid = 1.0;
    for (int k = 0; k < S.nkeys && !S.zip; k++) grid *= S.nvals[k];
    if (S.zip) grid = (double)D.npoints;
    double totald = grid * (double)o.replicates;
    if (totald > MAX_RUNS) {
        fprintf(stderr, "bonesim sweep: %.0f grid points x %ld replicates = %.0f runs, more than %d\n", grid,
                o.replicates, totald, MAX_RUNS);
        return BS_EXIT_USAGE;
    }
    long total = (long)totald;
    if (o.has_runs && o.runs_last >= total) {
        fprintf(stderr, "bonesim sweep: --runs %ld-%ld: this sweep has runs 0-%ld\n", o.runs_first, o.runs_last,
                total - 1);
        return BS_EXIT_USAGE;
    }
    if ((double)o.seed + (double)(total - 1) > MAX_SEED) {
        fprintf(stderr, "bonesim sweep: seeds --seed %lld + run index (up to %ld) pass the largest seed %.0f\n", o.seed,
                total - 1, MAX_SEED);
        return BS_EXIT_USAGE;
    }
    /* outputs */
    char obuf[4096];
    if (o.columns) {
        char *it[MAX_LIST];
        int n = split_list(o.columns, obuf, sizeof obuf, it, MAX_LIST);
        if (n < 0) {
            fprintf(stderr, "bonesim sweep: --columns '%s' is not a comma-separated list\n", o.columns);
            return BS_EXIT_USAGE;
        }
        for (int q = 0; q < n; q++) {
            int agg = AGG_FINAL;
            const char *name = it[q], *colon = strchr(name, ':');
            if (colon) {
                agg = -1;
                for (int a = 0; a < 4; a++)
                    if ((size_t)(colon - name) == strlen(agg_names[a]) &&
                            strncmp(name, agg_names[a], (size_t)(colon - name)) == 0)
                        agg = a;
                if (agg < 0) {
                    fprintf(stderr, "bonesim sweep: --columns '%s': unknown summary '%.*s' (final, min, max, mean)\n",
                            it[q], (int)(colon - name), name);
                    return BS_EXIT_USAGE;
                }
                name = colon + 1;
            }
            int c = bs_column_index(name);
            if (c <= 0) {
                fprintf(stderr, "bonesim sweep: unknown column '%s' (columns: ", name);
                list_columns(stderr);
                fprintf(stderr, ")\n");
                return BS_EXIT_USAGE;
            }
            S.outs[S.nouts++] = (out_spec){ c, agg };
        }
    } else {
        for (int c = 1; bs_csv_columns[c]; c++) S.outs[S.nouts++] = (out_spec){ c, AGG_FINAL };
    }
    char header[16384];
    size_t hk = (size_t)snprintf(header, sizeof header, "run,seed,replicate");
    for (int k = 0; k < S.nkeys; k++) hk += (size_t)snprintf(header + hk, sizeof header - hk, ",%s", keys[k]);
    for (int q = 0; q < S.nouts; q++)
        hk += (size_t)snprintf(
                header + hk, sizeof header - hk, ",%s_%s", bs_csv_columns[S.outs[q].col], agg_names[S.outs[q].agg]);
    hk += (size_t)snprintf(header + hk, sizeof header - hk, "\n");

    char out[3000];
    if (o.out && strlen(o.out) >= sizeof out - 100) {
        fprintf(stderr, "bonesim sweep: --out folder name too long\n");
        return BS_EXIT_USAGE;
    }
    if (o.out)
        snprintf(out, sizeof out, "%s", o.out);
    else {
        char nm[256];
        bs_scenario_name(path, nm, sizeof nm);
        snprintf(out, sizeof out, "out/sweep-%s", nm);
    }
    snprintf(S.path, sizeof S.path, "%s/summary.csv", out);
    if (bs_mkdir_p(out) != 0) {
        fprintf(stderr, "bonesim sweep: cannot create %s (%s)\n", out, strerror(errno));
        return BS_EXIT_ERROR;
    }
    unsigned char *done = calloc((size_t)total, 1);
    bs_job *jobs = calloc((size_t)total, sizeof *jobs);
    if (!done || !jobs) {
        free(done);
        free(jobs);
        fprintf(stderr, "bonesim sweep: out of memory\n");
        return BS_EXIT_ERROR;
    }
    long ndone = 0;
    int exists = bs_path_exists(S.path);
    if (exists && !o.resume && !o.force) {
        fprintf(stderr,
                "bonesim sweep: %s already exists: add --resume to continue that sweep or --force to start "
                "over\n",
                S.path);
        free(done);
        free(jobs);
        return BS_EXIT_USAGE;
    }
    /* Not resuming: with --force remove the earlier sweep's outputs (its
     * list), then list this one's before writing any (a resume keeps the list). */
    if (!(exists && o.resume)) {
        int orc = o.force ? bs_outlist_remove_old(out, "sweep") : 0;
        bs_outlist ol = { 0 };
        bs_outlist_add(&ol, "file", "summary.csv");
        bs_outlist_add(&ol, "file", "sweep-config.txt");
        if (S.zip) bs_outlist_add(&ol, "file", "design.csv");
        for (long r = 0; r < total; r++) {
            char rn[64];
            snprintf(rn, sizeof rn, "runs/run_%ld", r);
            bs_outlist_add(&ol, "run", rn);
        }
        bs_outlist_add(&ol, "dir", "runs");
        if (orc == 0) orc = bs_outlist_write(&ol, out, "sweep");
        free(ol.s);
        if (orc != 0) {
            free(done);
            free(jobs);
            return BS_EXIT_ERROR;
        }
    }
    if (S.zip && bs_sweep_design_check(&D, out, exists && o.resume) != 0) {
        free(done);
        free(jobs);
        return BS_EXIT_USAGE;
    }
    /* the sweep's configuration, stored beside summary.csv and checked by --resume */
    char *conf = NULL;
    {
        char p2[4096], *ptext = NULL;
        double d2, c2;
        if (exp_validate("sweep", o.pos[0], fixed, nfixed, NULL, 0, &o, p2, sizeof p2, &d2, &c2, &ptext) == 0) {
            conf = sweep_config_text(&o, path, run_days, csv_every, fixed, nfixed, keys, &S, ptext);
            free(ptext);
        }
        if (!conf) {
            free(done);
            free(jobs);
            fprintf(stderr, "bonesim sweep: out of memory\n");
            return BS_EXIT_ERROR;
        }
    }
    char cpath[4200];
    snprintf(cpath, sizeof cpath, "%s/sweep-config.txt", out);
    if (exists && o.resume) {
        int crc = sweep_config_check(cpath, conf);
        free(conf);
        conf = NULL;
        if (crc != 0 || read_done(S.path, header, o.seed, total, done, &ndone) != 0) {
            free(done);
            free(jobs);
            return BS_EXIT_USAGE;
        }
        S.fd = open(S.path, O_WRONLY | O_APPEND);
    } else {
        bs_error cerr = { { 0 } };
        if (bs_write_file_atomic(cpath, conf, strlen(conf), &cerr) != BS_OK) {
            fprintf(stderr, "bonesim sweep: %s\n", cerr.msg);
            free(conf);
            free(done);
            free(jobs);
            return BS_EXIT_ERROR;
        }
        free(conf);
        conf = NULL;
        S.fd = open(S.path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0666);
        if (S.fd >= 0 && (write(S.fd, header, hk) != (ssize_t)hk || fsync(S.fd) != 0)) {
            close(S.fd);
            S.fd = -1;
        }
    }
    if (S.fd < 0) {
        fprintf(stderr, "bonesim sweep: %s: cannot write (%s)\n", S.path, strerror(errno));
        free(done);
        free(jobs);
        return BS_EXIT_ERROR;
    }
    int bad = 0;
    for (long r = 0; r < total && !bad; r++) {
        bs_job *j = &jobs[r];
        j->index = r;
        j->seed = o.seed + r;
        int outside = o.has_runs && (r < o.runs_first || r > o.runs_last); /* --runs: another slice's */
        j->state = done[r] || outside ? BS_JOB_SKIP : BS_JOB_PENDING;
        snprintf(j->dir, sizeof j->dir, "%s/runs/run_%ld", out, r);
        snprintf(j->tag, sizeof j->tag, "run %ld", r);
        if (done[r] || outside) continue;
        int idx[MAX_LIST];
        grid_point(&S, r, idx);
        bad = job_args(j, path, run_days, csv_every, o.force || o.resume) || add_sets(j, fixed, nfixed);
        for (int k = 0; k < S.nkeys && !bad; k++) {
            char one[4700];
            snprintf(one, sizeof one, "%s=%s", keys[k], S.vals[k][idx[k]]);
            bad = bs_argv_push(&j->args, "--set") || bs_argv_push(&j->args, one);
        }
    }
    if (bad) {
        close(S.fd);
        free(done);
        bs_jobs_free(jobs, total);
        fprintf(stderr, "bonesim sweep: out of memory\n");
        return BS_EXIT_ERROR;
    }
    if (!o.quiet) {
        fprintf(stderr,
                "bonesim sweep: %s, %.0f %s points x %ld replicates = %ld runs (seeds %lld..%lld), %g days, "
                "%d at once%s\n",
                path, grid, S.zip ? (D.method == BS_SAMPLE_LHS ? "LHS" : "Morris") : "grid", o.replicates, total,
                o.seed, o.seed + total - 1, run_days, o.jobs, bs_mpi_size() > 1 ? " per MPI rank" : "");
        if (ndone) fprintf(stderr, "  --resume: %ld runs already in %s, %ld to go\n", ndone, S.path, total - ndone);
    }
    bs_pool_opts po = { "sweep", o.jobs, o.quiet, sweep_done, &S };
    long nfailed = 0;
    bs_pool_signals(1);
    int sig = bs_pool_run(jobs, total, &po, &nfailed);
    bs_pool_signals(0);
    close(S.fd);
    long have = ndone + S.written;
    int rc = BS_EXIT_OK;
    if (sig) {
        fprintf(stderr,
                "bonesim sweep: stopped by %s: %ld of %ld runs in %s; continue with the same command and "
                "--resume\n",
                sig == SIGTERM ? "SIGTERM" : "SIGINT", have, total, S.path);
        rc = sig == SIGTERM ? BS_EXIT_SIGTERM : BS_EXIT_SIGINT;
    } else if (nfailed || S.io_error) {
        fprintf(stderr,
                "bonesim sweep: %ld run%s failed; %ld of %ld runs in %s (rerun the failed ones with "
                "--resume)\n",
                nfailed + (S.io_error ? 1 : 0), nfailed == 1 ? "" : "s", have, total, S.path);
        rc = BS_EXIT_ERROR;
    } else if (bs_summary_sort_by_run(S.path) != 0) {
        rc = BS_EXIT_ERROR; /* the rows are intact, in finishing order; the message said why */
    } else if (!o.quiet) {
        printf("bonesim sweep: %ld runs done; summary in %s (one row per run), runs in %s/runs\n",
                o.has_runs ? o.runs_last - o.runs_first + 1 : total, S.path, out);
    }
    free(done);
    bs_jobs_free(jobs, total);
    return rc;
}
