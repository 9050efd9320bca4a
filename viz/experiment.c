/* experiment.c — `bonesim compare` and `bonesim sweep` (experiment.h).
 *
 * Layout of the file: option parsing shared by both commands; the job
 * pool (fork/exec of this program, progress, signals); reading run CSVs
 * back; statistics; compare (table, compare.csv, compare.png); sweep
 * (grid, summary.csv as results arrive, --resume). */
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
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "image.h"
#include "output.h"
#include "rng.h"
#include "runner.h"

#define MAX_SEED 9007199254740991.0 /* 2^53 - 1, the largest `run --seed` */
#define MAX_RUNS 100000
#define MAX_LIST 64 /* --at days, --columns entries, sweep keys */

/* ---- small helpers -------------------------------------------------------------- */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int parse_num(const char *s, double lo, double hi, int whole, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end != '\0' || errno || !isfinite(v) || v < lo || v > hi) return 0;
    if (whole && v != floor(v)) return 0;
    *out = v;
    return 1;
}

static int mkdir_p(const char *dir)
{
    char buf[4096];
    size_t n = strlen(dir);
    if (n == 0 || n >= sizeof buf) return -1;
    memcpy(buf, dir, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (buf[i] == '/' || buf[i] == '\0') {
            char c = buf[i];
            buf[i] = '\0';
            if (mkdir(buf, 0777) != 0 && errno != EEXIST) return -1;
            buf[i] = c;
        }
    }
    struct stat st;
    return stat(dir, &st) == 0 && S_ISDIR(st.st_mode) ? 0 : -1;
}

static int file_exists(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0;
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

static int column_index(const char *name)
{
    for (int c = 0; bs_csv_columns[c]; c++)
        if (strcmp(bs_csv_columns[c], name) == 0) return c;
    return -1;
}

static void list_columns(FILE *f)
{
    for (int c = 1; bs_csv_columns[c]; c++) fprintf(f, "%s%s", c > 1 ? ", " : "", bs_csv_columns[c]);
}

/* A growable argv for a child. */
typedef struct {
    char **v;
    int n, cap;
} argvec;

static int av_push(argvec *a, const char *s)
{
    if (a->n + 2 > a->cap) {
        int cap = a->cap ? a->cap * 2 : 32;
        char **v = realloc(a->v, (size_t)cap * sizeof *v);
        if (!v) return -1;
        a->v = v;
        a->cap = cap;
    }
    if (!(a->v[a->n] = strdup(s))) return -1;
    a->v[++a->n] = NULL;
    return 0;
}

static void av_free(argvec *a)
{
    for (int i = 0; i < a->n; i++) free(a->v[i]);
    free(a->v);
    memset(a, 0, sizeof *a);
}

/* ---- the job pool ----------------------------------------------------------------- */

enum { JOB_PENDING, JOB_RUNNING, JOB_OK, JOB_FAILED, JOB_SKIP };

typedef struct {
    argvec args;
    char dir[4096]; /* the run's output folder */
    char tag[64]; /* "a/rep_2", "run 17": for messages */
    long long seed;
    long index; /* run index (sweep) or replicate (compare) */
    int arm; /* compare: 0 = A, 1 = B */
    int state;
    pid_t pid;
    char why[512]; /* failure: exit status and the last line of the log */
} exp_job;

static volatile sig_atomic_t g_exp_stop; /* SIGINT/SIGTERM received */

static void exp_on_signal(int sig)
{
    g_exp_stop = sig;
}

static void exp_signals(int install)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = install ? exp_on_signal : SIG_DFL;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

/* Starts j: the child gets its own process group (a Ctrl-C at the
 * terminal reaches only the parent, which stops the children itself) and
 * writes stdout and stderr to DIR/run.log. */
static int job_start(exp_job *j)
{
    if (mkdir_p(j->dir) != 0) {
        snprintf(j->why, sizeof j->why, "cannot create %.400s (%s)", j->dir, strerror(errno));
        return -1;
    }
    char log[4200];
    snprintf(log, sizeof log, "%s/run.log", j->dir);
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(j->why, sizeof j->why, "cannot start a process (%s)", strerror(errno));
        return -1;
    }
    if (pid == 0) {
        setpgid(0, 0);
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0666);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
            if (fd > 2) close(fd);
        }
        execv("/proc/self/exe", j->args.v);
        dprintf(2, "bonesim: cannot run /proc/self/exe (%s)\n", strerror(errno));
        _exit(127);
    }
    j->pid = pid;
    j->state = JOB_RUNNING;
    return 0;
}

/* The last non-empty line of DIR/run.log, for failure messages. */
static void last_log_line(const char *dir, char *out, size_t n)
{
    char path[4200], buf[4096];
    out[0] = '\0';
    snprintf(path, sizeof path, "%s/run.log", dir);
    FILE *f = fopen(path, "rb");
    if (!f) return;
    if (fseek(f, 0, SEEK_END) == 0) {
        long len = ftell(f);
        fseek(f, len > (long)sizeof buf - 1 ? len - (long)sizeof buf + 1 : 0, SEEK_SET);
    }
    size_t got = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[got] = '\0';
    while (got > 0 && (buf[got - 1] == '\n' || buf[got - 1] == '\r' || buf[got - 1] == ' ')) buf[--got] = '\0';
    const char *src = strrchr(buf, '\n');
    src = src ? src + 1 : buf;
    size_t l = strlen(src);
    if (l >= n) l = n - 1;
    memcpy(out, src, l);
    out[l] = '\0';
}

typedef void (*job_done_fn)(void *ctx, exp_job *j);

typedef struct {
    const char *what; /* "compare", "sweep" */
    int max_jobs, quiet;
    job_done_fn done;
    void *ctx;
} pool_opts;

static void progress_line(
        const pool_opts *po, int tty, long done, long failed, long running, long total, double t0, int final)
{
    if (po->quiet) return;
    double el = now_s() - t0;
    char eta[32] = "";
    if (done > 0 && done < total) snprintf(eta, sizeof eta, ", ETA %.0f s", el / (double)done * (double)(total - done));
    fprintf(stderr, "%sbonesim %s: %ld / %ld runs done (%ld running, %ld failed), %.0f s%s%s", tty ? "\r" : "",
            po->what, done, total, running, failed, el, eta, tty ? "   " : "\n");
    if (tty && final) fputc('\n', stderr);
    fflush(stderr);
}

/* Runs the pending jobs, at most po->max_jobs at once, calling po->done
 * (in the parent, serially) as each finishes. On SIGINT/SIGTERM it stops
 * launching, sends SIGTERM to the running children (they finish their
 * step and exit) and waits for them. Returns the signal number, or 0. */
static int pool_run(exp_job *jobs, long n, const pool_opts *po, long *nfailed)
{
    long total = 0, done = 0, running = 0, next = 0;
    for (long k = 0; k < n; k++)
        if (jobs[k].state == JOB_PENDING) total++;
    *nfailed = 0;
    int tty = isatty(2);
    double t0 = now_s(), last_print = 0.0;
    int stopping = 0, dirty = 1;
    while (done + *nfailed < total || running > 0) {
        if (g_exp_stop && !stopping) {
            stopping = 1;
            for (long k = 0; k < n; k++)
                if (jobs[k].state == JOB_RUNNING) kill(jobs[k].pid, SIGTERM);
        }
        while (!stopping && running < po->max_jobs && next < n) {
            exp_job *j = &jobs[next++];
            if (j->state != JOB_PENDING) continue;
            if (job_start(j) == 0) {
                running++;
            } else {
                j->state = JOB_FAILED;
                (*nfailed)++;
                fprintf(stderr, "%sbonesim %s: %s (seed %lld) failed: %s\n", tty && !po->quiet ? "\n" : "", po->what,
                        j->tag, j->seed, j->why);
            }
        }
        if (dirty) {
            progress_line(po, tty, done, *nfailed, running, total, t0, 0);
            last_print = now_s();
            dirty = 0;
        }
        if (stopping && running == 0) break;
        if (running == 0 && next >= n) break;
        int status;
        pid_t pid = waitpid(-1, &status, WNOHANG);
        if (pid < 0 && errno != EINTR && errno != ECHILD) break;
        if (pid <= 0) {
            struct timespec ts = { 0, 50 * 1000 * 1000 };
            nanosleep(&ts, NULL);
            if (tty && now_s() - last_print > 0.5) {
                progress_line(po, tty, done, *nfailed, running, total, t0, 0);
                last_print = now_s();
            }
            continue;
        }
        exp_job *j = NULL;
        for (long k = 0; k < n && !j; k++)
            if (jobs[k].state == JOB_RUNNING && jobs[k].pid == pid) j = &jobs[k];
        if (!j) continue;
        running--;
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
            j->state = JOB_OK;
            done++;
            if (po->done) po->done(po->ctx, j);
        } else {
            j->state = JOB_FAILED;
            if (stopping) continue; /* stopped by us: neither done nor a failure */
            (*nfailed)++;
            char line[400];
            last_log_line(j->dir, line, sizeof line);
            if (WIFEXITED(status))
                snprintf(j->why, sizeof j->why, "exit status %d: %s", WEXITSTATUS(status), line);
            else
                snprintf(j->why, sizeof j->why, "killed by signal %d (crash?): %s", WTERMSIG(status), line);
            fprintf(stderr, "%sbonesim %s: %s (seed %lld) failed, %s\n  log: %s/run.log\n",
                    tty && !po->quiet ? "\n" : "", po->what, j->tag, j->seed, j->why, j->dir);
        }
        dirty = 1;
    }
    if (tty || dirty) progress_line(po, tty, done, *nfailed, running, total, t0, 1);
    return stopping ? (int)g_exp_stop : 0;
}

/* ---- reading a run's CSV ------------------------------------------------------------- */

typedef struct {
    int ncol, nrow;
    double *v; /* nrow x ncol, row-major; owned */
} table;

/* Reads DIR/timeseries.csv; its header must be exactly bs_csv_columns. */
static int table_read(const char *dir, table *t, char *why, size_t whyn)
{
    memset(t, 0, sizeof *t);
    char path[4200];
    snprintf(path, sizeof path, "%s/timeseries.csv", dir);
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(why, whyn, "%s: cannot read (%s)", path, strerror(errno));
        return -1;
    }
    char line[8192];
    int ncol = 0;
    while (bs_csv_columns[ncol]) ncol++;
    char want[8192];
    size_t k = 0;
    for (int c = 0; c < ncol; c++)
        k += (size_t)snprintf(want + k, sizeof want - k, "%s%s", c ? "," : "", bs_csv_columns[c]);
    if (!fgets(line, sizeof line, f) || (line[strcspn(line, "\r\n")] = '\0', strcmp(line, want) != 0)) {
        snprintf(why, whyn, "%s: unexpected header (not written by this bonesim?)", path);
        fclose(f);
        return -1;
    }
    int cap = 0;
    t->ncol = ncol;
    while (fgets(line, sizeof line, f)) {
        if (line[0] == '\n' || line[0] == '\0') continue;
        if (t->nrow == cap) {
            cap = cap ? cap * 2 : 256;
            double *nv = realloc(t->v, (size_t)cap * (size_t)ncol * sizeof *nv);
            if (!nv) {
                snprintf(why, whyn, "out of memory");
                fclose(f);
                return -1;
            }
            t->v = nv;
        }
        char *p = line;
        for (int c = 0; c < ncol; c++) {
            char *end;
            double x = strtod(p, &end);
            if (end == p || (c < ncol - 1 && *end != ',')) {
                snprintf(why, whyn, "%s:%d: malformed row", path, t->nrow + 2);
                fclose(f);
                return -1;
            }
            t->v[(size_t)t->nrow * (size_t)ncol + (size_t)c] = x;
            p = end + 1;
        }
        t->nrow++;
    }
    fclose(f);
    if (t->nrow == 0) {
        snprintf(why, whyn, "%s: no rows", path);
        return -1;
    }
    return 0;
}

static double tv(const table *t, int row, int col)
{
    return t->v[(size_t)row * (size_t)t->ncol + (size_t)col];
}

/* ---- statistics ------------------------------------------------------------------------ */

static int cmp_dbl(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Quantile q of x[0..n) (linear interpolation between order statistics,
 * "type 7"); sorts x in place. */
static double quantile(double *x, int n, double q)
{
    qsort(x, (size_t)n, sizeof *x, cmp_dbl);
    double h = (n - 1) * q;
    int lo = (int)floor(h);
    if (lo >= n - 1) return x[n - 1];
    return x[lo] + (h - lo) * (x[lo + 1] - x[lo]);
}

#define BOOT_N 2000
#define BOOT_SEED 0xB0075EEDu

/* Percentile bootstrap 95% interval of the median of e[0..n), with a
 * fixed counter-based RNG key, so the same data give the same interval.
 * scratch holds n + BOOT_N doubles. */
static void boot_median_ci(const double *e, int n, uint64_t key, double *scratch, double *lo, double *hi)
{
    double *res = scratch, *meds = scratch + n;
    for (int b = 0; b < BOOT_N; b++) {
        for (int i = 0; i < n; i++)
            res[i] = e[bs_rng_below(BOOT_SEED, BS_STREAM_USER + 11, key, (uint64_t)b, (uint32_t)i, (uint32_t)n)];
        meds[b] = quantile(res, n, 0.5);
    }
    *lo = quantile(meds, BOOT_N, 0.025);
    *hi = quantile(meds, BOOT_N, 0.975);
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
} exp_opts;

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
            "--csv-every", "--jobs", "--out", "--at", "--columns" };
        int known = 0;
        for (size_t k = 0; k < sizeof valued / sizeof valued[0]; k++) known |= strcmp(a, valued[k]) == 0;
        if (!known ||
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
        } else {
            o->columns = v;
        }
    }
    if (o->jobs == 0) {
        long nc = sysconf(_SC_NPROCESSORS_ONLN);
        o->jobs = nc > 0 ? (int)(nc > 1024 ? 1024 : nc) : 1;
    }
    return 0;
}

/* Resolves scenario + sets (sets_1 then sets_2) + --days/--seed like
 * `bonesim run` would, to report bad input before anything starts. Fills
 * scenario_path, *days and *csv_every (as resolved). */
static int exp_validate(const char *cmd, const char *scenario, const char *const *s1, int n1, const char *const *s2,
        int n2, const exp_opts *o, char *scenario_path, size_t pn, double *days, double *csv_every)
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
    bs_paramset_destroy(ps);
    bs_registry_destroy(reg);
    if (*days <= 0.0) {
        fprintf(stderr, "bonesim %s: %s runs for 0 days; give --days\n", cmd, scenario);
        return -1;
    }
    return 0;
}

static int push_num(argvec *a, const char *opt, double v)
{
    char num[64];
    snprintf(num, sizeof num, "%.17g", v);
    return av_push(a, opt) || av_push(a, num);
}

/* The child's command line: bonesim run SCENARIO --seed S --days D
 * --csv-every C --threads 1 --quiet --no-png --out DIR [--force] [--set ..]. */
static int job_args(exp_job *j, const char *scenario_path, double days, double csv_every, int force)
{
    argvec *a = &j->args;
    char seed[32];
    snprintf(seed, sizeof seed, "%lld", j->seed);
    int bad = av_push(a, "bonesim") || av_push(a, "run") || av_push(a, scenario_path) || av_push(a, "--seed") ||
            av_push(a, seed) || push_num(a, "--days", days) || push_num(a, "--csv-every", csv_every) ||
            av_push(a, "--threads") || av_push(a, "1") || av_push(a, "--quiet") || av_push(a, "--no-png") ||
            av_push(a, "--out") || av_push(a, j->dir);
    if (!bad && force) bad = av_push(a, "--force");
    return bad ? -1 : 0;
}

static int add_sets(exp_job *j, const char *const *sets, int n)
{
    for (int k = 0; k < n; k++)
        if (av_push(&j->args, "--set") || av_push(&j->args, sets[k])) return -1;
    return 0;
}

static void jobs_free(exp_job *jobs, long n)
{
    if (!jobs) return;
    for (long k = 0; k < n; k++) av_free(&jobs[k].args);
    free(jobs);
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
            "  --jobs J            runs at once (default: the number of cores)\n"
            "  --out DIR           output folder (default: out/compare-A-vs-B)\n"
            "  --force             reuse an output folder that already holds a compare\n"
            "  --quiet             no progress\n"
            "\n"
            "Per column and day it prints the median of each arm and the paired effect: the ratio\n"
            "B/A of each replicate when every A value is positive, else the difference B-A;\n"
            "the median effect, its IQR over replicates and a bootstrap 95%% interval of the\n"
            "median (%d resamples, fixed RNG seed, so reruns print the same numbers).\n"
            "Writes DIR/compare.csv (one row per column x day), DIR/compare.png (median line and\n"
            "IQR band of both arms over time) and keeps every run under DIR/a/rep_K, DIR/b/rep_K\n"
            "(timeseries.csv, manifest.json, run.log).\n"
            "\n"
            "Example: bonesim compare vicious_cycle --set-b dtc.pthrp_per_h=0 --replicates 4 --days 180\n",
            BOOT_N);
}

typedef struct {
    int col; /* index in bs_csv_columns */
    int row; /* row of the chosen day */
    double day; /* its time */
    double med_a, med_b, eff_med, q25, q75, boot_lo, boot_hi;
    int ratio; /* 1: B/A, 0: B-A */
    int n;
} cmp_cell;

/* Can column col be compared as a ratio at every chosen row? Only when
 * every A value is positive and no B value negative; otherwise (counts
 * that touch zero, rates that vanish) the difference B-A is reported, for
 * the whole column so that its rows read alike. */
static int column_ratio_ok(const table *ta, const table *tb, int n, int col, const int *rows, int nrows)
{
    for (int d = 0; d < nrows; d++)
        for (int i = 0; i < n; i++)
            if (!(tv(&ta[i], rows[d], col) > 0.0) || tv(&tb[i], rows[d], col) < 0.0) return 0;
    return 1;
}

/* The paired effect (ratio if c->ratio, else difference) of column c->col
 * at row c->row over n replicate pairs. */
static void compare_cell(const table *ta, const table *tb, int n, cmp_cell *c, double *scratch, uint64_t key)
{
    double *a = scratch, *b = scratch + n, *e = scratch + 2 * n, *tmp = scratch + 3 * n, *boot = scratch + 4 * n;
    int ratio = c->ratio;
    for (int i = 0; i < n; i++) {
        a[i] = tv(&ta[i], c->row, c->col);
        b[i] = tv(&tb[i], c->row, c->col);
    }
    for (int i = 0; i < n; i++) e[i] = ratio ? b[i] / a[i] : b[i] - a[i];
    c->ratio = ratio;
    c->n = n;
    memcpy(tmp, e, (size_t)n * sizeof *e);
    c->eff_med = quantile(tmp, n, 0.5);
    c->q25 = quantile(tmp, n, 0.25);
    c->q75 = quantile(tmp, n, 0.75);
    boot_median_ci(e, n, key, boot, &c->boot_lo, &c->boot_hi);
    c->med_a = quantile(a, n, 0.5);
    c->med_b = quantile(b, n, 0.5);
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
        const series *s, double t_end)
{
    const int ts = 2, ch = bs_text_height(ts);
    int left = px + 14 * ts * 6 / 2 + 8, top = py + ch + 14, right = px + pw - 28, bottom = py + ph - 2 * ch - 20;
    bs_image_text(im, px + 8, py + 4, ts, P_TEXT, title);
    double lo = HUGE_VAL, hi = -HUGE_VAL;
    for (int arm = 0; arm < 2; arm++)
        for (int r = 0; r < nrow; r++) {
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
    const char *xl = "time (days)";
    bs_image_text(im, left + (W - bs_text_width(ts, xl)) / 2, bottom + ch + 14, ts, P_TEXT, xl);
    /* IQR bands: one vertical span per pixel column, interpolated. */
    for (int arm = 0; arm < 2; arm++)
        for (int r = 0; r + 1 < nrow; r++) {
            int x0 = XPIX(t[r]), x1 = XPIX(t[r + 1]);
            for (int x = x0; x < x1 || (x == x0 && x1 == x0); x++) {
                double f = x1 > x0 ? (double)(x - x0) / (x1 - x0) : 0.0;
                int y0 = YPIX(s->hi[arm][r] + f * (s->hi[arm][r + 1] - s->hi[arm][r]));
                int y1 = YPIX(s->lo[arm][r] + f * (s->lo[arm][r + 1] - s->lo[arm][r]));
                for (int y = y0; y <= y1; y++) px_blend(im, x, y, P_ARM[arm], 70);
                if (x1 == x0) break;
            }
        }
    for (int arm = 0; arm < 2; arm++)
        for (int r = 0; r + 1 < nrow; r++)
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
        int c = column_index(pref[k]);
        if (c >= 0 && nonzero[c]) out[n++] = c;
    }
    for (int c = 1; bs_csv_columns[c] && n < 6; c++) {
        int have = 0;
        for (int k = 0; k < n; k++) have |= out[k] == c;
        if (!have && nonzero[c]) out[n++] = c;
    }
    return n;
}

static int write_plot(const char *path, const table *ta, const table *tb, int n, const int *cols, int ncols,
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
    snprintf(title, sizeof title, "bonesim compare: median and IQR of %d paired replicates", n);
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
    for (int r = 0; r < nrow; r++) t[r] = tv(&ta[0], r, 0);
    series s;
    for (int arm = 0; arm < 2; arm++) {
        s.med[arm] = buf + (size_t)(3 * arm) * (size_t)nrow;
        s.lo[arm] = s.med[arm] + nrow;
        s.hi[arm] = s.lo[arm] + nrow;
    }
    double *x = buf + 6 * nrow;
    for (int k = 0; k < ncols; k++) {
        for (int arm = 0; arm < 2; arm++) {
            const table *tt = arm ? tb : ta;
            for (int r = 0; r < nrow; r++) {
                for (int i = 0; i < n; i++) x[i] = tv(&tt[i], r, cols[k]);
                s.med[arm][r] = quantile(x, n, 0.5);
                s.lo[arm][r] = quantile(x, n, 0.25);
                s.hi[arm][r] = quantile(x, n, 0.75);
            }
        }
        char label[160];
        column_label(bs_csv_columns[cols[k]], label, sizeof label);
        draw_panel(&im, (k % per_row) * pw, head + (k / per_row) * ph, pw, ph, label, t, nrow, &s, t_end);
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

/* ---- compare: the command ----------------------------------------------------------------- */

/* "vicious_cycle dtc.pthrp_per_h=0": the scenario and the arm's own sets. */
static void arm_label(const char *scenario, const char *const *sets, int nsets, char *out, size_t n)
{
    char name[256];
    bs_scenario_name(scenario, name, sizeof name);
    size_t k = (size_t)snprintf(out, n, "%s", name);
    for (int i = 0; i < nsets && k < n; i++) k += (size_t)snprintf(out + k, n - k, " %s", sets[i]);
}

static int nearest_row(const table *t, double day)
{
    int best = 0;
    for (int r = 1; r < t->nrow; r++)
        if (fabs(tv(t, r, 0) - day) < fabs(tv(t, best, 0) - day)) best = r;
    return best;
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
                    sizeof path[arm], &days[arm], &csv[arm]) != 0)
            return BS_EXIT_USAGE;
    double run_days = o.days > 0 ? o.days : days[0], csv_every = o.csv_every > 0 ? o.csv_every : csv[0];
    if (o.seed + (double)(o.replicates - 1) > MAX_SEED) {
        fprintf(stderr, "bonesim compare: --seed %lld + %ld replicates passes the largest seed %.0f\n", o.seed,
                o.replicates, MAX_SEED);
        return BS_EXIT_USAGE;
    }
    /* days for the table */
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
            if ((cols[k] = column_index(items[k])) <= 0) {
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
    if (!o.force && (file_exists(cpath) || file_exists(a0))) {
        fprintf(stderr, "bonesim compare: %s already holds a compare: choose another --out or add --force\n", out);
        return BS_EXIT_USAGE;
    }
    if (mkdir_p(out) != 0) {
        fprintf(stderr, "bonesim compare: cannot create %s (%s)\n", out, strerror(errno));
        return BS_EXIT_ERROR;
    }

    long n = o.replicates, njobs = 2 * n;
    exp_job *jobs = calloc((size_t)njobs, sizeof *jobs);
    if (!jobs) {
        fprintf(stderr, "bonesim compare: out of memory\n");
        return BS_EXIT_ERROR;
    }
    int bad = 0;
    for (long i = 0; i < n && !bad; i++)
        for (int arm = 0; arm < 2 && !bad; arm++) {
            exp_job *j = &jobs[2 * i + arm]; /* interleaved: finished runs come in pairs */
            j->arm = arm;
            j->index = i;
            j->seed = o.seed + i;
            snprintf(j->dir, sizeof j->dir, "%s/%c/rep_%ld", out, arm ? 'b' : 'a', i);
            snprintf(j->tag, sizeof j->tag, "%c/rep_%ld", arm ? 'b' : 'a', i);
            bad = job_args(j, path[arm], run_days, csv_every, o.force) || add_sets(j, o.sets, o.nsets) ||
                    add_sets(j, arm_sets[arm], arm_n[arm]);
        }
    if (bad) {
        jobs_free(jobs, njobs);
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
    double t0 = now_s();
    pool_opts po = { "compare", o.jobs, o.quiet, NULL, NULL };
    long nfailed = 0;
    exp_signals(1);
    int sig = pool_run(jobs, njobs, &po, &nfailed);
    exp_signals(0);
    double wall = now_s() - t0;
    if (sig) {
        jobs_free(jobs, njobs);
        fprintf(stderr, "bonesim compare: stopped by %s; the finished runs are kept in %s\n",
                sig == SIGTERM ? "SIGTERM" : "SIGINT", out);
        return sig == SIGTERM ? BS_EXIT_SIGTERM : BS_EXIT_SIGINT;
    }
    if (nfailed) {
        jobs_free(jobs, njobs);
        fprintf(stderr, "bonesim compare: %ld of %ld runs failed (see above); the finished runs are kept in %s\n",
                nfailed, njobs, out);
        return BS_EXIT_ERROR;
    }

    /* read back */
    table *tab = calloc((size_t)njobs, sizeof *tab);
    int rc = BS_EXIT_OK;
    char why[BS_ERROR_MAX] = "";
    for (long k = 0; k < njobs && tab && rc == BS_EXIT_OK; k++)
        if (table_read(jobs[k].dir, &tab[k], why, sizeof why) != 0) rc = BS_EXIT_ERROR;
    table *ta = NULL, *tb = NULL;
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
            const table *t = arm ? &tb[i] : &ta[i];
            int same = t->nrow == ta[0].nrow;
            for (int r = 0; r < t->nrow && same; r++) same = tv(t, r, 0) == tv(&ta[0], r, 0);
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
                nonzero[c] = tv(&ta[i], r, c) != 0.0 || tv(&tb[i], r, c) != 0.0;

    /* statistics, table, compare.csv */
    double *scratch = rc == BS_EXIT_OK ? malloc((size_t)(5 * n + BOOT_N) * sizeof *scratch) : NULL;
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
        printf("bonesim compare: %ld paired replicates (seeds %lld..%lld), %g days, %.1f s wall (%d at once)\n"
               "  A = %s\n  B = %s\n%s%s%s",
                n, o.seed, o.seed + n - 1, run_days, wall, o.jobs, label[0], label[1], both[0] ? "  both: " : "", both,
                both[0] ? "\n" : "");
        printf("effect: ratio B/A of each pair when every A is positive, else difference B-A; median over pairs,\n"
               "IQR over pairs, bootstrap 95%% interval of the median\n");
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
                        "median B", "effect", "median", "IQR of pairs", "bootstrap 95% CI");
            int rows[MAX_LIST];
            for (int d = 0; d < nat; d++) rows[d] = nearest_row(&ta[0], at[d]);
            int ratio = column_ratio_ok(ta, tb, (int)n, c, rows, nat);
            for (int d = 0; d < nat && rc == BS_EXIT_OK; d++) {
                cmp_cell cell = { 0 };
                cell.col = c;
                cell.ratio = ratio;
                cell.row = rows[d];
                cell.day = tv(&ta[0], cell.row, 0);
                compare_cell(ta, tb, (int)n, &cell, scratch, (uint64_t)c * 1000u + (uint64_t)d);
                const char *eff = cell.ratio ? "B/A" : "B-A";
                if (print_it) {
                    char iqr[64], ci[64];
                    snprintf(iqr, sizeof iqr, "%.4g .. %.4g", cell.q25, cell.q75);
                    snprintf(ci, sizeof ci, "%.4g .. %.4g", cell.boot_lo, cell.boot_hi);
                    printf("  %8.1f %12.5g %12.5g %7s %10.4g %21s %21s\n", cell.day, cell.med_a, cell.med_b, eff,
                            cell.eff_med, iqr, ci);
                }
                CSV_PUT("%s,%.4f,%.10g,%.10g,%s,%.10g,%.10g,%.10g,%.10g,%.10g,%d\n", bs_csv_columns[c], cell.day,
                        cell.med_a, cell.med_b, cell.ratio ? "ratio" : "difference", cell.eff_med, cell.q25, cell.q75,
                        cell.boot_lo, cell.boot_hi, cell.n);
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
        if (np == 0) pc[np++] = column_index("bone_area_um2");
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
    jobs_free(jobs, njobs);
    return rc;
}

/* ==== sweep ========================================================================== */

void bs_usage_sweep(FILE *f)
{
    fprintf(f,
            "usage: bonesim sweep SCENARIO --set S.K=V1,V2,... [--set S.K2=...] [options]\n"
            "\n"
            "Runs every combination of the listed values (the cartesian product) x --replicates,\n"
            "each as a child process `bonesim run ... --threads 1 --quiet --no-png`, at most --jobs\n"
            "at once, and appends one row per finished run to DIR/summary.csv as results arrive\n"
            "(written and fsync'ed row by row, so an interrupted sweep keeps what it finished).\n"
            "A --set with one value applies to every run.\n"
            "\n"
            "options:\n"
            "  --set S.K=V1,V2,... parameter values to sweep (repeatable; one value: fixed)\n"
            "  --replicates N      runs per grid point (default 1)\n"
            "  --seed S            base seed (default 1): run r uses seed S + r, where\n"
            "                      r = grid_point x N + replicate, so no two runs share a seed\n"
            "  --days D, --csv-every DAYS   as for run\n"
            "  --columns LIST      outputs per run: COL (value in the last CSV row), min:COL, max:COL,\n"
            "                      mean:COL (over the run) (default: the last row's every column)\n"
            "  --jobs J            runs at once (default: the number of cores)\n"
            "  --out DIR           output folder (default: out/sweep-SCENARIO); runs in DIR/runs/run_R\n"
            "  --resume            continue a sweep: keep summary.csv, skip the runs already in it\n"
            "  --force             start over in a folder that holds a sweep\n"
            "  --quiet             no progress\n"
            "\n"
            "summary.csv columns: run, seed, replicate, each swept parameter, then the outputs\n"
            "(COL_final, COL_min, COL_max, COL_mean). Rows come in the order runs finish; sort by\n"
            "run. SIGINT/SIGTERM stop launching, stop the running children and exit 130/143 with\n"
            "the rows written so far; continue with the same command and --resume.\n"
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
    long written;
    int io_error;
} sweep_ctx;

/* Values of the swept parameters of run r (last key varies fastest). */
static void grid_point(const sweep_ctx *S, long r, int *idx)
{
    long g = r / S->reps;
    for (int k = S->nkeys - 1; k >= 0; k--) {
        idx[k] = (int)(g % S->nvals[k]);
        g /= S->nvals[k];
    }
}

static void sweep_done(void *ctx, exp_job *j)
{
    sweep_ctx *S = ctx;
    table t;
    char why[BS_ERROR_MAX];
    if (table_read(j->dir, &t, why, sizeof why) != 0) {
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
        double v = tv(&t, t.nrow - 1, c);
        if (S->outs[q].agg != AGG_FINAL) {
            double acc = S->outs[q].agg == AGG_MEAN ? 0.0 : tv(&t, 0, c);
            for (int r = 0; r < t.nrow; r++) {
                double x = tv(&t, r, c);
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
        for (int p = 0; p < k; p++)
            if (strcmp(keys[p], keybuf[k]) == 0) {
                fprintf(stderr, "bonesim sweep: %s is swept twice; give all its values in one --set\n", keybuf[k]);
                return BS_EXIT_USAGE;
            }
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
    if (S.nkeys == 0) {
        fprintf(stderr, "bonesim sweep: nothing to sweep: give at least one --set S.K=V1,V2,...\n");
        return BS_EXIT_USAGE;
    }
    char path[4096];
    double days, csv;
    if (exp_validate("sweep", o.pos[0], fixed, nfixed, NULL, 0, &o, path, sizeof path, &days, &csv) != 0)
        return BS_EXIT_USAGE;
    /* each swept value on its own, with the fixed sets */
    for (int k = 0; k < S.nkeys; k++)
        for (int v = 0; v < S.nvals[k]; v++) {
            char one[4700], p2[4096];
            double d2, c2;
            snprintf(one, sizeof one, "%s=%s", keys[k], S.vals[k][v]);
            const char *ov[1] = { one };
            if (exp_validate("sweep", o.pos[0], fixed, nfixed, ov, 1, &o, p2, sizeof p2, &d2, &c2) != 0)
                return BS_EXIT_USAGE;
        }
    double run_days = o.days > 0 ? o.days : days, csv_every = o.csv_every > 0 ? o.csv_every : csv;
    double grid = 1.0;
    for (int k = 0; k < S.nkeys; k++) grid *= S.nvals[k];
    double totald = grid * (double)o.replicates;
    if (totald > MAX_RUNS) {
        fprintf(stderr, "bonesim sweep: %.0f grid points x %ld replicates = %.0f runs, more than %d\n", grid,
                o.replicates, totald, MAX_RUNS);
        return BS_EXIT_USAGE;
    }
    long total = (long)totald;
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
            int c = column_index(name);
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
    if (mkdir_p(out) != 0) {
        fprintf(stderr, "bonesim sweep: cannot create %s (%s)\n", out, strerror(errno));
        return BS_EXIT_ERROR;
    }
    unsigned char *done = calloc((size_t)total, 1);
    exp_job *jobs = calloc((size_t)total, sizeof *jobs);
    if (!done || !jobs) {
        free(done);
        free(jobs);
        fprintf(stderr, "bonesim sweep: out of memory\n");
        return BS_EXIT_ERROR;
    }
    long ndone = 0;
    int exists = file_exists(S.path);
    if (exists && !o.resume && !o.force) {
        fprintf(stderr,
                "bonesim sweep: %s already exists: add --resume to continue that sweep or --force to start "
                "over\n",
                S.path);
        free(done);
        free(jobs);
        return BS_EXIT_USAGE;
    }
    if (exists && o.resume) {
        if (read_done(S.path, header, o.seed, total, done, &ndone) != 0) {
            free(done);
            free(jobs);
            return BS_EXIT_USAGE;
        }
        S.fd = open(S.path, O_WRONLY | O_APPEND);
    } else {
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
        exp_job *j = &jobs[r];
        j->index = r;
        j->seed = o.seed + r;
        j->state = done[r] ? JOB_SKIP : JOB_PENDING;
        snprintf(j->dir, sizeof j->dir, "%s/runs/run_%ld", out, r);
        snprintf(j->tag, sizeof j->tag, "run %ld", r);
        if (done[r]) continue;
        int idx[MAX_LIST];
        grid_point(&S, r, idx);
        bad = job_args(j, path, run_days, csv_every, o.force || o.resume) || add_sets(j, fixed, nfixed);
        for (int k = 0; k < S.nkeys && !bad; k++) {
            char one[4700];
            snprintf(one, sizeof one, "%s=%s", keys[k], S.vals[k][idx[k]]);
            bad = av_push(&j->args, "--set") || av_push(&j->args, one);
        }
    }
    if (bad) {
        close(S.fd);
        free(done);
        jobs_free(jobs, total);
        fprintf(stderr, "bonesim sweep: out of memory\n");
        return BS_EXIT_ERROR;
    }
    if (!o.quiet) {
        fprintf(stderr,
                "bonesim sweep: %s, %.0f grid points x %ld replicates = %ld runs (seeds %lld..%lld), %g days, "
                "%d at once\n",
                path, grid, o.replicates, total, o.seed, o.seed + total - 1, run_days, o.jobs);
        if (ndone) fprintf(stderr, "  --resume: %ld runs already in %s, %ld to go\n", ndone, S.path, total - ndone);
    }
    pool_opts po = { "sweep", o.jobs, o.quiet, sweep_done, &S };
    long nfailed = 0;
    exp_signals(1);
    int sig = pool_run(jobs, total, &po, &nfailed);
    exp_signals(0);
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
    } else if (!o.quiet) {
        printf("bonesim sweep: %ld runs done; summary in %s (one row per run), runs in %s/runs\n", total, S.path, out);
    }
    free(done);
    jobs_free(jobs, total);
    return rc;
}
