/* bench.c — `bonesim bench`: the benchmark workloads (see bench.h).
 *
 * Every workload builds its world the way `bonesim run` does (registry ->
 * scenario file -> lattice size -> bs_model_create), so it measures the
 * code users run, and reads the model's own per-phase timers. Timings are
 * wall-clock (omp_get_wtime) medians over --repeat runs; the min and max
 * of the headline figure come with it, and the 1-minute load average is
 * recorded, because a busy machine makes every figure worse (and its
 * thread scaling much worse). */
#define _POSIX_C_SOURCE 200809L
#include "bench.h"

#include <errno.h>
#include <math.h>
#include <omp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
#include <malloc.h>
#define BENCH_HAVE_MALLINFO2 1
#endif

#include "catalog.h"
#include "celltypes.h"
#include "datadir.h"
#include "config.h"
#include "kernels.h"
#include "model.h"
#include "version.h"

#define BENCH_MAX_LIST 16

enum { W_FIELDS = 1, W_AGENTS = 2, W_SCENARIO = 4, W_SCALING = 8, W_CONTENTION = 16, W_ALL = 31 };

typedef struct {
    unsigned which;
    int threads[BENCH_MAX_LIST], nthreads, threads_given;
    int sizes[BENCH_MAX_LIST], nsizes, sizes_given;
    int repeat;
    int quick;
    int full; /* --full: the large sizes and every workload */
    int libgomp_spin; /* --ablation: contention also with fixed threads, and as before issue 19 */
    double days; /* default-scenario run length; < 0: the scenario's run.days */
    const char *scenario; /* default scenario */
} bench_opts;

/* What the lines are measured on and under. */
typedef struct {
    char cpu[128];
    int cores;
} machine;

/* ---- small utilities -------------------------------------------------------- */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Median of n values (sorts a copy). */
static double median(const double *v, int n)
{
    if (n < 1) return 0.0;
    double tmp[64];
    if (n > 64) n = 64;
    memcpy(tmp, v, (size_t)n * sizeof *tmp);
    qsort(tmp, (size_t)n, sizeof *tmp, cmp_double);
    return n % 2 ? tmp[n / 2] : 0.5 * (tmp[n / 2 - 1] + tmp[n / 2]);
}

static double vmin(const double *v, int n)
{
    double m = v[0];
    for (int i = 1; i < n; ++i) m = v[i] < m ? v[i] : m;
    return m;
}

static double vmax(const double *v, int n)
{
    double m = v[0];
    for (int i = 1; i < n; ++i) m = v[i] > m ? v[i] : m;
    return m;
}

static double load_average(void)
{
    double l = -1.0;
    FILE *f = fopen("/proc/loadavg", "r");
    if (f) {
        if (fscanf(f, "%lf", &l) != 1) l = -1.0;
        fclose(f);
    }
    return l;
}

/* Resident memory now, bytes (Linux /proc/self/statm), or 0. */
static double rss_now(void)
{
    long pages = 0, res = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f) {
        if (fscanf(f, "%ld %ld", &pages, &res) != 2) res = 0;
        fclose(f);
    }
    return (double)res * (double)sysconf(_SC_PAGESIZE);
}

/* Heap bytes in use (glibc's mallinfo2: small blocks plus mmap'd ones), or
 * the resident size where that is not available. Differences of this
 * count what a model allocates, touched or not, and do not depend on the
 * allocator reusing freed memory the way resident-size differences do. */
static double heap_in_use(void)
{
#ifdef BENCH_HAVE_MALLINFO2
    struct mallinfo2 mi = mallinfo2();
    return (double)mi.uordblks + (double)mi.hblkhd;
#else
    return rss_now();
#endif
}

/* Peak resident memory of the process so far, bytes. */
static double rss_peak(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0) return 0.0;
    return (double)ru.ru_maxrss * 1024.0;
}

/* CPU time of the process so far (user + system, all threads), s. */
static double cpu_seconds(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0) return 0.0;
    return (double)ru.ru_utime.tv_sec + 1e-6 * (double)ru.ru_utime.tv_usec + (double)ru.ru_stime.tv_sec +
            1e-6 * (double)ru.ru_stime.tv_usec;
}

static double physical_memory(void)
{
    long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGESIZE);
    return pages > 0 && size > 0 ? (double)pages * (double)size : 0.0;
}

static void machine_info(machine *mc)
{
    snprintf(mc->cpu, sizeof mc->cpu, "unknown");
    mc->cores = omp_get_num_procs();
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f) return;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "model name", 10) == 0) {
            const char *v = strchr(line, ':');
            if (v) {
                v++;
                while (*v == ' ' || *v == '\t') v++;
                snprintf(mc->cpu, sizeof mc->cpu, "%s", v);
                mc->cpu[strcspn(mc->cpu, "\n")] = '\0';
            }
            break;
        }
    }
    fclose(f);
}

/* ---- JSON lines ------------------------------------------------------------- */

typedef struct {
    char buf[6144];
    size_t n;
} jline;

static void j_raw(jline *j, const char *s)
{
    size_t k = strlen(s);
    if (j->n + k + 1 < sizeof j->buf) {
        memcpy(j->buf + j->n, s, k);
        j->n += k;
        j->buf[j->n] = '\0';
    }
}

static void j_key(jline *j, const char *k)
{
    j_raw(j, j->n > 1 ? ", \"" : "\"");
    j_raw(j, k);
    j_raw(j, "\": ");
}

static void j_str(jline *j, const char *k, const char *v)
{
    char esc[512];
    size_t e = 0;
    for (const char *p = v; *p && e + 7 < sizeof esc; ++p) {
        unsigned char ch = (unsigned char)*p;
        if (ch == '"' || ch == '\\') {
            esc[e++] = '\\';
            esc[e++] = (char)ch;
        } else if (ch < 0x20) {
            e += (size_t)snprintf(esc + e, sizeof esc - e, "\\u%04x", ch);
        } else {
            esc[e++] = (char)ch;
        }
    }
    esc[e] = '\0';
    j_key(j, k);
    j_raw(j, "\"");
    j_raw(j, esc);
    j_raw(j, "\"");
}

static void j_int(jline *j, const char *k, long long v)
{
    char s[32];
    snprintf(s, sizeof s, "%lld", v);
    j_key(j, k);
    j_raw(j, s);
}

/* Numbers to 6 significant digits; a non-finite value becomes null. */
static void j_num(jline *j, const char *k, double v)
{
    char s[40];
    if (isfinite(v))
        snprintf(s, sizeof s, "%.6g", v);
    else
        snprintf(s, sizeof s, "null");
    j_key(j, k);
    j_raw(j, s);
}

/* Starts a line with the conditions every line carries. */
static void j_begin(jline *j, const char *bench, const machine *mc, int threads)
{
    j->n = 0;
    j->buf[0] = '\0';
    j_raw(j, "{");
    j_str(j, "bench", bench);
    j_str(j, "version", BS_VERSION);
    j_str(j, "commit", BS_GIT_COMMIT);
    j_str(j, "cpu", mc->cpu);
    j_int(j, "cores", mc->cores);
    j_int(j, "threads", threads);
    j_num(j, "loadavg", load_average());
}

/* 0 in the summary (no workload named, no --json): the lines are not printed */
static int g_emit = 1;

static void j_end(jline *j)
{
    j_raw(j, "}");
    if (!g_emit) return;
    printf("%s\n", j->buf);
    fflush(stdout);
}

/* ---- building worlds -------------------------------------------------------- */

static void scenario_path(const char *name, char *out, size_t n)
{
    if (strchr(name, '/') || (strlen(name) > 4 && strcmp(name + strlen(name) - 4, ".ini") == 0)) {
        snprintf(out, n, "%s", name);
        return;
    }
    if (!bs_scenario_find(name, out, n)) snprintf(out, n, "%s/%s.ini", bs_scenario_dir(), name);
}

/* A world as `bonesim run SCENARIO --set lattice.*=size` would build it
 * (size <= 0: the scenario's own lattice). Caller destroys *m, then *reg. */
static bs_status bench_world(const char *scenario, int size, bs_registry **reg, bs_model **m, bs_error *err)
{
    *m = NULL;
    *reg = bs_catalog_registry(err);
    if (!*reg) return BS_ERR_NOMEM;
    bs_paramset *ps = bs_paramset_create(*reg);
    if (!ps) return bs_fail(err, BS_ERR_NOMEM, "out of memory");
    char path[4096];
    scenario_path(scenario, path, sizeof path);
    bs_status st = bs_config_load(ps, path, err);
    if (st == BS_OK && size > 0) {
        st = bs_param_set(ps, "lattice.width_sites", size, err);
        if (st == BS_OK) st = bs_param_set(ps, "lattice.height_sites", size, err);
    }
    if (st == BS_OK) st = bs_model_create(m, ps, NULL, err);
    /* figures per thread count: every step at the count asked for */
    if (st == BS_OK) bs_pace_fix(&(*m)->pace);
    bs_paramset_destroy(ps);
    return st;
}

static void world_free(bs_registry *reg, bs_model *m)
{
    bs_model_destroy(m);
    bs_registry_destroy(reg);
}

static long long live_agents(const bs_model *m)
{
    return m->store.count;
}

/* ---- fields ----------------------------------------------------------------- */

/* Bytes one SOR relaxation moves (field.c's sweep): the four conductances,
 * the scale, the right-hand side and the sink read (7 floats), the value
 * read and written (2), and about one float of the other colour's values
 * (each is read by the rows above, beside and below while they are in
 * cache). */
#define BENCH_BYTES_PER_RELAX 40.0
/* Bytes of a solve's setup per site: prepare reads c, fixed_val, src,
 * uptake, the cached conductance sum (20) and the Dirichlet flag (1), and
 * writes the scale, rhs, sink and packed value (16); unpack reads the
 * packed value and writes c (8); the change checks read the tissue and
 * Dirichlet maps and their copies (4). */
#define BENCH_BYTES_PER_SETUP 49.0

typedef struct {
    double t_step; /* median seconds to solve all fields for one step */
    double t_min, t_max;
    double t_best; /* mean over the steps of each step's fastest repeat */
    double t_one_by_one; /* median, solving the fields one bs_field_solve at a time */
    double sfu_per_s; /* site-field-updates per second (K n per step) */
    double sweeps; /* mean sweeps per solve (solves that swept) */
    double relax_per_sf; /* relaxations done per site-field */
    double solve_gbps; /* estimated bytes moved by the solves / time */
    double sweep_rps; /* relaxations per second in full sweeps */
    double sweep_gbps; /* their effective bandwidth */
    double sweep_ws; /* bytes a full sweep touches */
    double err_vs_converged; /* largest |c - c_converged| / scale over the fields, last recorded step */
    int err_field; /* the field it was found in */
    char err_field_name[32];
    double err_by_field[BS_FIELD_COUNT]; /* the same, per field */
    char err_names[BS_FIELD_COUNT][16];
    int steps; /* recorded steps replayed */
    int warm; /* model steps run before recording */
    int live_fields; /* fields that needed a sweep */
    double skipped_per_step; /* solves skipped (engine/field.c, solver.skip_budget) per replayed step */
    double skip_budget;
    long long agents;
} fields_result;

/* Puts a recorded step's uptake, held values and Dirichlet flags back into
 * F. A field whose inputs are the shared zero block (engine/field.h) had
 * them all zero when recorded and has them now: nothing to write, and the
 * block is read-only. */
static void replay_inputs(bs_field *F, const float *uptake, const float *fixed_val, const uint8_t *fixed, size_t n)
{
    if (bs_field_inputs_shared(F)) return;
    memcpy(F->uptake, uptake, n * sizeof(float));
    memcpy(F->fixed_val, fixed_val, n * sizeof(float));
    memcpy(F->fixed, fixed, n);
}

/* Records `steps` model steps (each field's value before the step, and the
 * sources, uptake, Dirichlet sites and tissue the step solved with), then
 * replays their field solves `repeat` times. The replay does exactly the
 * solves of those steps, warm-started from the same values. */
static bs_status run_fields(const bench_opts *o, int size, int threads, fields_result *res, bs_error *err)
{
    memset(res, 0, sizeof *res);
    omp_set_num_threads(threads);
    bs_registry *reg;
    bs_model *m;
    bs_status st = bench_world(o->scenario, size, &reg, &m, err);
    if (st != BS_OK) {
        world_free(reg, m);
        return st;
    }
    const int K = BS_FIELD_COUNT;
    const size_t n = (size_t)m->lat.w * (size_t)m->lat.h;
    /* past the cold start and the first remodeling events: 10 days, fewer
     * on large lattices (at least one day) to bound the time */
    int warm = (int)(6e7 / (double)n);
    warm = o->quick ? 4 : warm > 240 ? 240 : warm < 24 ? 24 : warm;
    for (int s = 0; s < warm; ++s) bs_model_step(m);
    res->warm = warm;
    /* as many recorded steps as fit in 256 MB, up to 12 (quick: 2) */
    const double per_step = (double)n * (17.0 * K + 1.0);
    int S = (int)(256e6 / per_step);
    int smax = o->quick ? 2 : 12;
    S = S < 1 ? 1 : S > smax ? smax : S;
    float *rec = malloc((size_t)S * (size_t)K * n * 4 * sizeof(float));
    uint8_t *recb = malloc((size_t)S * ((size_t)K + 1) * n);
    /* each field's skip state before the step (engine/field.h): whether a
     * solve is skipped is part of what the step does */
    bs_field_skip *recs = malloc((size_t)S * (size_t)K * sizeof *recs);
    if (!rec || !recb || !recs) {
        free(rec);
        free(recb);
        free(recs);
        world_free(reg, m);
        return bs_fail(err, BS_ERR_NOMEM, "bench fields: out of memory recording %d steps", S);
    }
#define REC(s, f, a) (rec + (((size_t)(s) * (size_t)K + (size_t)(f)) * 4 + (a)) * n)
#define RECB(s, f) (recb + ((size_t)(s) * ((size_t)K + 1) + (size_t)(f)) * n)
    for (int s = 0; s < S; ++s) {
        memcpy(RECB(s, K), m->lat.tissue, n);
        for (int f = 0; f < K; ++f) {
            memcpy(REC(s, f, 0), m->fields[f].c, n * sizeof(float));
            recs[(size_t)s * K + f] = m->fields[f].skip;
        }
        bs_model_step(m);
        for (int f = 0; f < K; ++f) {
            const bs_field *F = &m->fields[f];
            memcpy(REC(s, f, 1), F->src, n * sizeof(float));
            memcpy(REC(s, f, 2), F->uptake, n * sizeof(float));
            memcpy(REC(s, f, 3), F->fixed_val, n * sizeof(float));
            memcpy(RECB(s, f), F->fixed, n);
        }
    }
    res->agents = live_agents(m);
    res->steps = S;

    int reps = o->repeat;
    double t[64] = { 0 };
    double *best = malloc((size_t)S * sizeof *best); /* per recorded step, over repeats */
    if (!best) {
        free(rec);
        free(recs);
        free(recb);
        world_free(reg, m);
        return bs_fail(err, BS_ERR_NOMEM, "bench fields: out of memory");
    }
    uint64_t relax = 0, sweeps = 0, solves_swept = 0, skipped = 0;
    int live = 0;
    double t1b[64] = { 0 };
    for (int r = 0; r < 2 * reps; ++r) {
        /* even r: bs_field_solve_many; odd r: one bs_field_solve after
         * another, as a loop over the fields does */
        const int many = r % 2 == 0;
        double tr = 0.0;
        uint64_t rx = 0, sw = 0, ss = 0, sk = 0;
        int lv = 0;
        for (int s = 0; s < S; ++s) {
            memcpy(m->lat.tissue, RECB(s, K), n);
            for (int f = 0; f < K; ++f) {
                bs_field *F = &m->fields[f];
                memcpy(F->c, REC(s, f, 0), n * sizeof(float));
                F->skip = recs[(size_t)s * K + f];
                memcpy(F->src, REC(s, f, 1), n * sizeof(float));
                replay_inputs(F, REC(s, f, 2), REC(s, f, 3), RECB(s, f), n);
            }
            double t0 = omp_get_wtime();
            if (many)
                bs_field_solve_many(m->fields, K, &m->lat, m->dt_h, &m->solver);
            else
                for (int f = 0; f < K; ++f) bs_field_solve(&m->fields[f], &m->lat, m->dt_h, &m->solver);
            const double ts1 = omp_get_wtime() - t0;
            tr += ts1;
            if (many) best[s] = r == 0 || ts1 < best[s] ? ts1 : best[s];
            for (int f = 0; f < K; ++f) {
                rx += m->fields[f].last_site_updates;
                sw += (uint64_t)m->fields[f].last_iters;
                ss += m->fields[f].last_iters > 0;
                sk += (uint64_t)m->fields[f].last_skipped;
                lv += s == 0 && (m->fields[f].last_iters > 0 || m->fields[f].last_skipped);
            }
        }
        if (!many) {
            t1b[r / 2] = tr / S;
            continue;
        }
        t[r / 2] = tr / S;
        relax = rx;
        sweeps = sw;
        solves_swept = ss;
        skipped = sk;
        live = lv;
    }
    res->t_step = median(t, reps);
    res->t_one_by_one = median(t1b, reps);
    res->t_min = vmin(t, reps);
    res->t_max = vmax(t, reps);
    res->t_best = 0.0;
    for (int s = 0; s < S; ++s) res->t_best += best[s] / S;
    free(best);
    res->sfu_per_s = (double)K * (double)n / res->t_step;
    res->sweeps = solves_swept ? (double)sweeps / (double)solves_swept : 0.0;
    res->relax_per_sf = (double)relax / ((double)S * K * (double)n);
    res->live_fields = live;
    res->skipped_per_step = (double)skipped / S;
    res->skip_budget = m->solver.skip_budget;
    const double bytes =
            (double)relax * BENCH_BYTES_PER_RELAX + (double)solves_swept * (double)n * BENCH_BYTES_PER_SETUP;
    res->solve_gbps = bytes / S / res->t_step / 1e9;

    /* error of each field's solve of the last recorded step against a
     * converged solve of it (tolerance 1e-2 of the model's, from the same
     * start), relative to the field's scale: what the stopping rule and
     * the warm-start omega leave */
    res->err_vs_converged = 0.0;
    res->err_field = -1;
    {
        float *tight = malloc(n * sizeof(float));
        if (!tight) {
            free(rec);
            free(recs);
            free(recb);
            world_free(reg, m);
            return bs_fail(err, BS_ERR_NOMEM, "bench fields: out of memory");
        }
        bs_solver_opts conv = m->solver;
        /* 1/100 of the model's tolerance: near what float can resolve
         * (a tighter one runs to max_iters, which at 1024^2 takes minutes) */
        conv.tol = m->solver.tol * 1e-2;
        conv.max_iters = 20000;
        memcpy(m->lat.tissue, RECB(S - 1, K), n);
        for (int f = 0; f < K; ++f) {
            bs_field *Ff = &m->fields[f];
            memcpy(Ff->src, REC(S - 1, f, 1), n * sizeof(float));
            replay_inputs(Ff, REC(S - 1, f, 2), REC(S - 1, f, 3), RECB(S - 1, f), n);
            memcpy(Ff->c, REC(S - 1, f, 0), n * sizeof(float));
            bs_solver_opts conv_f = conv;
            conv_f.skip_budget = 0.0; /* the reference always solves */
            bs_field_solve(Ff, &m->lat, m->dt_h, &conv_f);
            memcpy(tight, Ff->c, n * sizeof(float));
            memcpy(Ff->c, REC(S - 1, f, 0), n * sizeof(float));
            Ff->skip = recs[(size_t)(S - 1) * K + f]; /* skipped here if the model skipped it */
            bs_field_solve(Ff, &m->lat, m->dt_h, &m->solver);
            const double sc = Ff->spec.scale > 0.0 ? Ff->spec.scale : 1.0;
            double ef = 0.0;
            for (size_t i = 0; i < n; ++i) {
                const double e = fabs((double)Ff->c[i] - (double)tight[i]) / sc;
                ef = e > ef ? e : ef;
            }
            res->err_by_field[f] = ef;
            if (ef > res->err_vs_converged) {
                res->err_vs_converged = ef;
                res->err_field = f;
            }
        }
        free(tight);
        for (int f = 0; f < K; ++f) snprintf(res->err_names[f], sizeof res->err_names[f], "%s", m->fields[f].spec.name);
        if (res->err_field >= 0)
            snprintf(res->err_field_name, sizeof res->err_field_name, "%s", m->fields[res->err_field].spec.name);
    }

    /* full sweeps on the O2 field of the last recorded step: the fastest
     * solve of M sweeps minus the fastest of one, so the setup cancels
     * (the fastest, as STREAM reports: a loaded machine only adds time) */
    bs_field *F = &m->fields[BS_FIELD_O2];
    const int M = o->quick ? 6 : 41;
    double t_one = 0.0, t_many = 0.0;
    for (int r = 0; r < reps + 2; ++r) {
        bs_solver_opts one = { 0.0, 1, 0.0, 0.0 }, many = { 0.0, M, 0.0, 0.0 };
        memcpy(F->c, REC(S - 1, BS_FIELD_O2, 0), n * sizeof(float));
        double t0 = omp_get_wtime();
        bs_field_solve(F, &m->lat, m->dt_h, &one);
        double t1 = omp_get_wtime();
        memcpy(F->c, REC(S - 1, BS_FIELD_O2, 0), n * sizeof(float));
        double t2 = omp_get_wtime();
        bs_field_solve(F, &m->lat, m->dt_h, &many);
        double t3 = omp_get_wtime();
        t_one = r == 0 || t1 - t0 < t_one ? t1 - t0 : t_one;
        t_many = r == 0 || t3 - t2 < t_many ? t3 - t2 : t_many;
    }
    double tsweep = (t_many - t_one) / (M - 1);
    if (!(tsweep > 0.0)) tsweep = t_many / M; /* timer noise larger than the difference */
    res->sweep_rps = (double)n / tsweep;
    res->sweep_gbps = (double)n * BENCH_BYTES_PER_RELAX / tsweep / 1e9;
    /* what a sweep streams: 7 coefficient floats and 1 value per site */
    res->sweep_ws = (double)n * 32.0;
#undef REC
#undef RECB
    free(rec);
    free(recs);
    free(recb);
    world_free(reg, m);
    return BS_OK;
}

/* STREAM triad with arrays far larger than any cache, measured once per
 * thread count (best and median GB/s). */
static void dram_triad(const bench_opts *o, int threads, double *best, double *med)
{
    static struct {
        int threads;
        double best, med;
    } cache[BENCH_MAX_LIST];
    static int ncache;
    for (int i = 0; i < ncache; ++i)
        if (cache[i].threads == threads) {
            *best = cache[i].best;
            *med = cache[i].med;
            return;
        }
    omp_set_num_threads(threads);
    /* 3 x 128 MB (quick: 3 x 2 MB, which fits in the caches of many machines) */
    size_t n = o->quick ? (size_t)1 << 18 : (size_t)1 << 24;
    *best = bs_triad_gbps(n, o->quick ? 3 : 10, med);
    if (ncache < BENCH_MAX_LIST) {
        cache[ncache].threads = threads;
        cache[ncache].best = *best;
        cache[ncache].med = *med;
        ncache++;
    }
}

static int bench_fields(const bench_opts *o, const machine *mc, int size, int threads)
{
    fields_result r;
    bs_error err;
    fprintf(stderr, "bench fields: %d x %d sites, %d threads ...\n", size, size, threads);
    if (run_fields(o, size, threads, &r, &err) != BS_OK) {
        fprintf(stderr, "bonesim bench: %s\n", err.msg);
        return 1;
    }
    double dram_best = 0.0, dram_med = 0.0, match_med = 0.0;
    dram_triad(o, threads, &dram_best, &dram_med);
    omp_set_num_threads(threads);
    double match_best = bs_triad_gbps((size_t)(r.sweep_ws / 24.0), o->quick ? 3 : 20, &match_med);
    omp_set_num_threads(1);
    int adi_steps = (int)(4e6 / ((double)size * size));
    adi_steps = adi_steps < 2 ? 2 : adi_steps > 50 ? 50 : adi_steps;
    double adi = bs_adi_site_updates_per_s(size, size, o->quick ? 2 : adi_steps);

    jline j;
    j_begin(&j, "fields", mc, threads);
    j_str(&j, "scenario", o->scenario);
    j_int(&j, "w", size);
    j_int(&j, "h", size);
    j_int(&j, "sites", (long long)size * size);
    j_int(&j, "fields", BS_FIELD_COUNT);
    j_int(&j, "fields_solved", r.live_fields);
    j_int(&j, "agents", r.agents);
    j_int(&j, "warmup_steps", r.warm);
    j_int(&j, "steps", r.steps);
    j_int(&j, "repeat", o->repeat);
    j_num(&j, "step_solve_s", r.t_step);
    j_num(&j, "step_solve_s_min", r.t_min);
    j_num(&j, "step_solve_s_max", r.t_max);
    j_num(&j, "step_solve_s_best", r.t_best);
    j_num(&j, "step_solve_s_one_by_one", r.t_one_by_one);
    j_num(&j, "site_field_updates_per_s", r.sfu_per_s);
    j_num(&j, "site_field_updates_per_s_per_core", r.sfu_per_s / threads);
    j_num(&j, "site_field_updates_per_s_best", BS_FIELD_COUNT * (double)size * size / r.t_best);
    j_num(&j, "ns_per_site_field", 1e9 / r.sfu_per_s);
    j_num(&j, "sweeps_per_solve", r.sweeps);
    j_num(&j, "skip_budget", r.skip_budget);
    j_num(&j, "solves_skipped_per_step", r.skipped_per_step);
    j_num(&j, "relaxations_per_site_field", r.relax_per_sf);
    j_num(&j, "solve_GBps_est", r.solve_gbps);
    j_num(&j, "sweep_relax_per_s", r.sweep_rps);
    j_num(&j, "sweep_bytes_per_relax", BENCH_BYTES_PER_RELAX);
    j_num(&j, "sweep_GBps", r.sweep_gbps);
    j_num(&j, "sweep_working_set_MB", r.sweep_ws / 1e6);
    j_num(&j, "triad_matched_GBps", match_best);
    j_num(&j, "triad_matched_GBps_median", match_med);
    j_num(&j, "triad_dram_GBps", dram_best);
    j_num(&j, "triad_dram_GBps_median", dram_med);
    j_num(&j, "sweep_over_triad_matched", r.sweep_gbps / match_best);
    j_num(&j, "adi_double_site_updates_per_s_1core", adi);
    j_num(&j, "per_core_over_adi", r.sfu_per_s / threads / adi);
    j_num(&j, "err_vs_converged_over_scale", r.err_vs_converged);
    j_str(&j, "err_vs_converged_field", r.err_field >= 0 ? r.err_field_name : "none");
    for (int f = 0; f < BS_FIELD_COUNT; ++f) {
        char key[48];
        snprintf(key, sizeof key, "err_vs_converged_%s", r.err_names[f]);
        j_num(&j, key, r.err_by_field[f]);
    }
    j_num(&j, "per_core_over_adi_best", BS_FIELD_COUNT * (double)size * size / r.t_best / threads / adi);
    j_end(&j);
    return 0;
}

/* ---- agents ----------------------------------------------------------------- */

/* Density of the tumour cells added on free marrow sites (a third each
 * migrating, dormant and cycling), so every rule's path is taken. */
#define BENCH_DTC_DENSITY 0.2

typedef struct {
    double t_step, t_min, t_max; /* median seconds per agent phase */
    double aups; /* agent-updates per second */
    long long agents, by_type[BS_MAX_CELL_TYPES], updates_per_step;
    int steps;
} agents_result;

/* The agent phase of the model's own step (its tile loop over the spatial
 * colouring, every rule of every cell type, and the reduction), timed by
 * the model's t_agents_s, on a population that is the same in every
 * repeat: each repeat rebuilds the world from the scenario (same seed,
 * same steps), adds the tumour cells, and times `steps` steps. */
static bs_status run_agents(const bench_opts *o, int size, int threads, agents_result *res, bs_error *err)
{
    memset(res, 0, sizeof *res);
    omp_set_num_threads(threads);
    const int warm = o->quick ? 2 : 24;
    const int N = o->quick ? 2 : 24;
    double t[64] = { 0 };
    long long acted = 0;
    for (int r = 0; r < o->repeat; ++r) {
        bs_registry *reg;
        bs_model *m;
        bs_status st = bench_world("vicious_cycle", size, &reg, &m, err);
        if (st != BS_OK) {
            world_free(reg, m);
            return st;
        }
        for (int s = 0; s < warm; ++s) bs_model_step(m);
        /* tumour cells on free marrow sites, chosen by a hash of the site */
        const int n = m->lat.w * m->lat.h;
        for (int i = 0; i < n; ++i) {
            if (m->lat.tissue[i] != BS_TISSUE_MARROW || m->store.occ[i] >= 0) continue;
            uint64_t hsh = bs_store_child_id(0xbe7cULL, (uint64_t)i, 0);
            if ((double)(hsh >> 11) * 0x1.0p-53 >= BENCH_DTC_DENSITY) continue;
            uint8_t state = (uint8_t)((hsh & 0xffu) % 3u);
            int slot = bs_store_spawn(&m->store, i, BS_CELL_DTC, state, bs_store_child_id(0xbe7cULL, (uint64_t)i, 1));
            if (slot >= 0) m->store.aux[slot] = BS_DTC_FROM_VESSEL;
        }
        res->agents = live_agents(m);
        memset(res->by_type, 0, sizeof res->by_type);
        for (int i = 0; i < n; ++i) {
            int slot = m->store.occ[i];
            if (slot >= 0 && m->store.type[slot] < bs_celltype_count()) res->by_type[m->store.type[slot]]++;
        }
        const double a0 = m->t_agents_s;
        acted = 0;
        for (int s = 0; s < N; ++s) {
            bs_model_step(m);
            acted += (long long)m->last.agents_acted;
        }
        t[r] = (m->t_agents_s - a0) / N;
        world_free(reg, m);
    }
    res->steps = N;
    res->t_step = median(t, o->repeat);
    res->t_min = vmin(t, o->repeat);
    res->t_max = vmax(t, o->repeat);
    res->updates_per_step = acted / N;
    res->aups = (double)acted / N / res->t_step;
    return BS_OK;
}

static int bench_agents(const bench_opts *o, const machine *mc, int size, int threads)
{
    agents_result r;
    bs_error err;
    fprintf(stderr, "bench agents: %d x %d sites, %d threads ...\n", size, size, threads);
    if (run_agents(o, size, threads, &r, &err) != BS_OK) {
        fprintf(stderr, "bonesim bench: %s\n", err.msg);
        return 1;
    }
    jline j;
    j_begin(&j, "agents", mc, threads);
    j_str(&j, "scenario", "vicious_cycle");
    j_int(&j, "w", size);
    j_int(&j, "h", size);
    j_int(&j, "sites", (long long)size * size);
    j_int(&j, "agents", r.agents);
    for (int t = 0; t < bs_celltype_count(); ++t) {
        char key[64];
        snprintf(key, sizeof key, "n_%s", bs_celltype_of(t)->name);
        for (char *c = key; *c; ++c)
            if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9'))) *c = '_';
        j_int(&j, key, r.by_type[t]);
    }
    j_num(&j, "dtc_density_added", BENCH_DTC_DENSITY);
    j_int(&j, "steps", r.steps);
    j_int(&j, "repeat", o->repeat);
    j_num(&j, "agent_phase_s", r.t_step);
    j_num(&j, "agent_phase_s_min", r.t_min);
    j_num(&j, "agent_phase_s_max", r.t_max);
    j_int(&j, "agent_updates_per_step", r.updates_per_step);
    j_num(&j, "agent_updates_per_s", r.aups);
    j_num(&j, "agent_updates_per_s_per_core", r.aups / threads);
    j_num(&j, "ns_per_agent_update", 1e9 / r.aups);
    j_num(&j, "site_visits_per_s", (double)size * size / r.t_step);
    j_end(&j);
    return 0;
}

/* ---- scenario ---------------------------------------------------------------- */

/* Bytes the BMU pool's records and origins in use take (agents/bmu.c: a
 * reservation outside the heap, memory only for the records used). */
static double bmu_pool_bytes(const bs_model *m)
{
    return (double)m->bmu_n * (double)(sizeof *m->bmu_pool + sizeof *m->bmu_origin);
}

typedef struct {
    double wall, t_fields, t_agents, t_output; /* medians, s */
    double cpu; /* median CPU time of the run, s */
    double wall_min, wall_max;
    double days;
    long long steps, agents_end;
    int w, h;
    double model_bytes; /* heap allocated by building the world (registry, model) */
    int model_bytes_estimated; /* 1: the heap could not be measured; the estimate */
    double estimate_bytes; /* bs_model_estimate_bytes */
    double peak_rss; /* process peak resident size so far */
    double rss_end; /* resident size at the end of the run */
    double field_site_updates; /* relaxations (model counter) per run */
    double store_slot_bytes_end; /* the agent store's slot arrays at the end (the most agents alive at once) */
    double store_site_bytes; /* the store's per-site occupancy (occ and its bits) */
    int bmu_n_end; /* open BMUs at the end (records in the pool) */
} scenario_result;

/* The fields' shared zero block (engine/field.h), counted once although
 * it takes address space, not memory: mapped outside the heap (where the
 * system has mmap, as every system this bench runs on), so the heap figure
 * misses it (a calloc'd fallback would be counted twice: 4 B/site). */
static double zero_block_bytes(const bs_model *m)
{
    for (int f = 0; f < BS_FIELD_COUNT; ++f)
        if (bs_field_inputs_shared(&m->fields[f])) return (double)bs_field_zero_block_bytes(&m->fields[f]);
    return 0.0;
}

/* Runs `scenario` at `size` (0: its own lattice): `warm` untimed steps, then
 * `days` simulated days (steps = days * 24 / dt), with an observation (the
 * CSV row's work) every simulated day, timed as the output phase. */
static bs_status run_scenario(const bench_opts *o, const char *scenario, int size, double days, int warm, int threads,
        scenario_result *res, bs_error *err)
{
    memset(res, 0, sizeof *res);
    omp_set_num_threads(threads);
    double wall[64] = { 0 }, tf[64] = { 0 }, ta[64] = { 0 }, to[64] = { 0 }, cpu[64] = { 0 };
    for (int r = 0; r < o->repeat; ++r) {
        double heap0 = heap_in_use();
        bs_registry *reg;
        bs_model *m;
        bs_status st = bench_world(scenario, size, &reg, &m, err);
        if (st != BS_OK) {
            world_free(reg, m);
            return st;
        }
        res->estimate_bytes = bs_model_estimate_bytes(m->ps);
        /* the store's slot arrays are a reservation outside the heap
         * (engine/store.h): counted by the slots written so far */
        res->model_bytes = heap_in_use() - heap0 + (m->store.slot_mem_mapped ? bs_store_slot_bytes(&m->store) : 0.0) +
                (m->bmu_mem_mapped ? bmu_pool_bytes(m) : 0.0) + zero_block_bytes(m);
        /* an allocator that mallinfo2 does not see (a sanitizer's): the
         * model's own estimate instead */
        res->model_bytes_estimated = !(res->model_bytes > 0.0);
        if (res->model_bytes_estimated) res->model_bytes = res->estimate_bytes;
        if (days < 0.0) days = bs_param(m->ps, "run.days");
        for (int s = 0; s < warm; ++s) bs_model_step(m);
        const double f0 = m->t_fields_s, a0 = m->t_agents_s;
        const uint64_t u0 = m->field_site_updates;
        const long long steps = (long long)llround(days * 24.0 / m->dt_h);
        const long long per_day = (long long)llround(24.0 / m->dt_h);
        double t_out = 0.0;
        bs_obs obs;
        const double c0 = cpu_seconds();
        double t0 = omp_get_wtime();
        for (long long s = 0; s < steps; ++s) {
            bs_model_step(m);
            if ((s + 1) % per_day == 0 || s + 1 == steps) {
                double q = omp_get_wtime();
                bs_model_observe(m, &obs, m->last.resorbed_um2, m->last.formed_um2, 1.0);
                t_out += omp_get_wtime() - q;
            }
        }
        wall[r] = omp_get_wtime() - t0;
        cpu[r] = cpu_seconds() - c0;
        tf[r] = m->t_fields_s - f0;
        ta[r] = m->t_agents_s - a0;
        to[r] = t_out;
        res->days = days;
        res->steps = steps;
        res->agents_end = live_agents(m);
        res->store_slot_bytes_end = bs_store_slot_bytes(&m->store);
        res->bmu_n_end = m->bmu_n;
        res->store_site_bytes = (double)m->lat.w * m->lat.h * sizeof *m->store.occ +
                (double)m->store.bits_stride * m->lat.h * sizeof *m->store.occ_bits;
        res->w = m->lat.w;
        res->h = m->lat.h;
        res->field_site_updates = (double)(m->field_site_updates - u0);
        res->peak_rss = rss_peak();
        res->rss_end = rss_now();
        world_free(reg, m);
    }
    res->wall = median(wall, o->repeat);
    res->wall_min = vmin(wall, o->repeat);
    res->wall_max = vmax(wall, o->repeat);
    res->t_fields = median(tf, o->repeat);
    res->t_agents = median(ta, o->repeat);
    res->t_output = median(to, o->repeat);
    res->cpu = median(cpu, o->repeat);
    return BS_OK;
}

/* Bytes per agent slot of the store (engine/store.h: the slots take
 * memory as agents appear, up to one slot per site). */
static double store_bytes_per_slot(void)
{
    return (double)bs_store_bytes_per_slot();
}

static int emit_scenario(
        const bench_opts *o, const machine *mc, const char *scenario, int size, double days, int warm, int threads)
{
    scenario_result r;
    bs_error err;
    if (size > 0)
        fprintf(stderr, "bench scenario: %s at %d x %d, %g days, %d threads ...\n", scenario, size, size, days,
                threads);
    else
        fprintf(stderr, "bench scenario: %s as shipped, %g days (< 0: its run.days), %d threads ...\n", scenario, days,
                threads);
    if (size > 0) {
        /* refuse what cannot fit: a lattice needing over half the memory */
        bs_registry *reg = bs_catalog_registry(&err);
        bs_paramset *ps = reg ? bs_paramset_create(reg) : NULL;
        double need = 0.0;
        if (ps && bs_param_set(ps, "lattice.width_sites", size, &err) == BS_OK &&
                bs_param_set(ps, "lattice.height_sites", size, &err) == BS_OK)
            need = bs_model_estimate_bytes(ps);
        bs_paramset_destroy(ps);
        bs_registry_destroy(reg);
        double phys = physical_memory();
        if (phys > 0.0 && need > 0.5 * phys) {
            fprintf(stderr, "bench scenario: skipping %d x %d (needs ~%.0f MB of %.0f MB)\n", size, size, need / 1e6,
                    phys / 1e6);
            return 0;
        }
    }
    if (run_scenario(o, scenario, size, days, warm, threads, &r, &err) != BS_OK) {
        fprintf(stderr, "bonesim bench: %s\n", err.msg);
        return 1;
    }
    const double sites = (double)r.w * r.h;
    jline j;
    j_begin(&j, "scenario", mc, threads);
    j_str(&j, "scenario", scenario);
    j_int(&j, "w", r.w);
    j_int(&j, "h", r.h);
    j_int(&j, "sites", (long long)sites);
    j_int(&j, "fields", BS_FIELD_COUNT);
    j_int(&j, "agents", r.agents_end);
    j_int(&j, "warmup_steps", warm);
    j_int(&j, "steps", r.steps);
    j_num(&j, "days", r.days);
    j_int(&j, "repeat", o->repeat);
    j_num(&j, "wall_s", r.wall);
    j_num(&j, "wall_s_min", r.wall_min);
    j_num(&j, "wall_s_max", r.wall_max);
    j_num(&j, "sim_days_per_wall_s", r.days / r.wall);
    j_num(&j, "fields_s", r.t_fields);
    j_num(&j, "agents_s", r.t_agents);
    j_num(&j, "output_s", r.t_output);
    j_num(&j, "other_s", r.wall - r.t_fields - r.t_agents - r.t_output);
    /* below 1: the run waited for CPUs (a loaded machine) or at barriers */
    j_num(&j, "cpu_s", r.cpu);
    j_num(&j, "cpu_per_wall_per_thread", r.cpu / r.wall / threads);
    j_num(&j, "ns_per_site_step", r.wall / (double)r.steps / sites * 1e9);
    j_num(&j, "field_relaxations_per_site_step", r.field_site_updates / (double)r.steps / sites);
    j_num(&j, "peak_rss_MB", r.peak_rss / 1e6);
    j_num(&j, "rss_end_MB", r.rss_end / 1e6);
    j_num(&j, "model_MB", r.model_bytes / 1e6);
    j_str(&j, "model_MB_from", r.model_bytes_estimated ? "estimate" : "heap");
    j_num(&j, "estimate_MB", r.estimate_bytes / 1e6);
    j_num(&j, "bytes_per_site", r.model_bytes / sites);
    j_num(&j, "bytes_per_agent_slot", store_bytes_per_slot());
    /* agent storage by agents: the slot arrays at the end over the agents
     * alive then (above 30: more were alive at once earlier), and the
     * per-site occupancy beside it */
    j_num(&j, "store_slots_MB_end", r.store_slot_bytes_end / 1e6);
    j_num(&j, "store_bytes_per_agent_end", r.agents_end > 0 ? r.store_slot_bytes_end / (double)r.agents_end : 0.0);
    j_num(&j, "store_occupancy_bytes_per_site", r.store_site_bytes / sites);
    j_int(&j, "bmu_records_end", r.bmu_n_end);
    j_end(&j);
    return 0;
}

/* ---- scaling ------------------------------------------------------------------ */

/* Thread scaling of the three workloads at the default lattice, then
 * size scaling of the fields and agents workloads at the largest thread
 * count: cost per site-field and per agent update, relative to the
 * smallest size. */
static int bench_scaling(const bench_opts *o, const machine *mc, const int *tl, int nt)
{
    const int size = o->quick ? 64 : 250;
    const double days = o->quick ? 1.0 : 30.0;
    double base[3] = { 0.0, 0.0, 0.0 };
    int base_t = tl[0];
    for (int k = 0; k < nt; ++k) base_t = tl[k] < base_t ? tl[k] : base_t;
    int order[BENCH_MAX_LIST];
    int no = 0;
    /* the smallest count first: it is the reference */
    order[no++] = base_t;
    for (int k = 0; k < nt; ++k)
        if (tl[k] != base_t) order[no++] = tl[k];
    for (int w = 0; w < 3; ++w) {
        for (int k = 0; k < no; ++k) {
            const int t = order[k];
            bs_error err;
            double time = 0.0, rate = 0.0;
            const char *what = w == 0 ? "fields" : w == 1 ? "agents" : "scenario";
            fprintf(stderr, "bench scaling: %s, %d threads ...\n", what, t);
            bs_status st;
            if (w == 0) {
                fields_result r;
                st = run_fields(o, size, t, &r, &err);
                time = r.t_step;
                rate = r.sfu_per_s;
            } else if (w == 1) {
                agents_result r;
                st = run_agents(o, size, t, &r, &err);
                time = r.t_step;
                rate = r.aups;
            } else {
                scenario_result r;
                st = run_scenario(o, o->scenario, size, days, 0, t, &r, &err);
                time = r.wall;
                rate = r.days / r.wall;
            }
            if (st != BS_OK) {
                fprintf(stderr, "bonesim bench: %s\n", err.msg);
                return 1;
            }
            if (k == 0) base[w] = time;
            const double speedup = base[w] / time * base_t;
            jline j;
            j_begin(&j, "scaling", mc, t);
            j_str(&j, "workload", what);
            j_str(&j, "scenario", w == 1 ? "vicious_cycle" : o->scenario);
            j_int(&j, "w", size);
            j_int(&j, "h", size);
            j_int(&j, "repeat", o->repeat);
            if (w == 2) j_num(&j, "days", days);
            j_num(&j, "time_s", time);
            j_str(&j, "rate_unit",
                    w == 0           ? "site_field_updates_per_s"
                            : w == 1 ? "agent_updates_per_s"
                                     : "sim_days_per_wall_s");
            j_num(&j, "rate", rate);
            j_int(&j, "reference_threads", base_t);
            j_num(&j, "speedup", speedup);
            j_num(&j, "parallel_efficiency", speedup / t);
            j_end(&j);
        }
    }
    /* size scaling */
    int tmax = tl[0];
    for (int k = 0; k < nt; ++k) tmax = tl[k] > tmax ? tl[k] : tmax;
    static const int def_sizes[] = { 256, 512, 1024 };
    static const int quick_sizes[] = { 32, 64 };
    const int *sz = o->sizes_given ? o->sizes : o->quick ? quick_sizes : def_sizes;
    const int ns = o->sizes_given ? o->nsizes : o->quick ? 2 : 3;
    double ref_f = 0.0, ref_a = 0.0;
    for (int k = 0; k < ns; ++k) {
        bs_error err;
        fields_result fr;
        agents_result ar;
        fprintf(stderr, "bench scaling: sizes, %d x %d, %d threads ...\n", sz[k], sz[k], tmax);
        if (run_fields(o, sz[k], tmax, &fr, &err) != BS_OK || run_agents(o, sz[k], tmax, &ar, &err) != BS_OK) {
            fprintf(stderr, "bonesim bench: %s\n", err.msg);
            return 1;
        }
        const double nsf = 1e9 / fr.sfu_per_s, nsa = 1e9 / ar.aups;
        if (k == 0) {
            ref_f = nsf;
            ref_a = nsa;
        }
        jline j;
        j_begin(&j, "scaling", mc, tmax);
        j_str(&j, "workload", "sizes");
        j_int(&j, "w", sz[k]);
        j_int(&j, "h", sz[k]);
        j_int(&j, "sites", (long long)sz[k] * sz[k]);
        j_int(&j, "agents", ar.agents);
        j_int(&j, "repeat", o->repeat);
        j_num(&j, "ns_per_site_field", nsf);
        j_num(&j, "relaxations_per_site_field", fr.relax_per_sf);
        j_num(&j, "ns_per_agent_update", nsa);
        j_num(&j, "site_field_cost_vs_smallest", nsf / ref_f);
        j_num(&j, "agent_cost_vs_smallest", nsa / ref_a);
        j_end(&j);
    }
    return 0;
}

/* ---- contention --------------------------------------------------------------- */

/* What the OpenMP start-up code of the program did (engine/waitpolicy.c,
 * linked into the bonesim executable; weak so a build without it links). */
extern const char *bs_wait_policy(void) __attribute__((weak));

static const char *wait_policy_desc(void)
{
    return bs_wait_policy ? bs_wait_policy() : "unknown";
}

static double wall_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* The environment a run child starts with. Variant 0: as a user's shell
 * has it (no OpenMP wait settings, so the program chooses its own spin,
 * and the step picks its thread count, engine/pace.h); 1: the program's
 * spin but every step at the thread count asked for
 * (BONESIM_FIXED_THREADS=1); 2: also libgomp's default spin
 * (GOMP_SPINCOUNT=300000): the program as it was before issue 19. */
enum { V_PROGRAM, V_FIXED, V_BEFORE, V_COUNT };
static const char *const variant_name[V_COUNT] = { "the program's own (spin ~50 us, threads per step by pace)",
    "spin ~50 us, fixed thread count (BONESIM_FIXED_THREADS=1)",
    "before issue 19: libgomp's spin (GOMP_SPINCOUNT=300000), fixed thread count" };

static void child_env(int variant)
{
    unsetenv("OMP_WAIT_POLICY");
    unsetenv("BONESIM_GOMP_SPINCOUNT");
    unsetenv("OMP_DISPLAY_ENV");
    if (variant == V_BEFORE)
        setenv("GOMP_SPINCOUNT", "300000", 1);
    else
        unsetenv("GOMP_SPINCOUNT");
    if (variant == V_PROGRAM)
        unsetenv("BONESIM_FIXED_THREADS");
    else
        setenv("BONESIM_FIXED_THREADS", "1", 1);
}

/* Starts `bonesim run SCENARIO --days D --threads T` (quiet, no PNGs) into
 * dir; nice_inc > 0 lowers its priority. Returns the pid, or -1. */
static pid_t spawn_run(const char *scenario, double days, int threads, const char *dir, int nice_inc, int variant)
{
    char d[32], t[16];
    snprintf(d, sizeof d, "%g", days);
    snprintf(t, sizeof t, "%d", threads);
    fflush(NULL);
    pid_t pid = fork();
    if (pid != 0) return pid;
    child_env(variant);
    if (nice_inc > 0 && setpriority(PRIO_PROCESS, 0, nice_inc) != 0) _exit(126);
    int fd = open("/dev/null", O_WRONLY);
    if (fd >= 0) {
        dup2(fd, STDOUT_FILENO);
        dup2(fd, STDERR_FILENO);
    }
    char *const args[] = { "bonesim", "run", (char *)scenario, "--days", d, "--threads", t, "--quiet", "--no-png",
        "--out", (char *)dir, NULL };
    execv("/proc/self/exe", args);
    _exit(127);
}

/* A plain CPU-bound loop in a child process (no OpenMP, no system calls). */
static pid_t spawn_spinner(void)
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid != 0) return pid;
    volatile unsigned long x = 0;
    for (;;) x = x + 1;
}

static void stop_child(pid_t pid)
{
    if (pid <= 0) return;
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
}

static int rm_tree(const char *dir)
{
    /* the run folders hold only files (timeseries.csv, manifest.json, ...) */
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *e;
        char p[4200];
        while ((e = readdir(d))) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
            snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
            unlink(p);
        }
        closedir(d);
    }
    return rmdir(dir);
}

enum { C_IDLE, C_LOOP, C_OMP, C_PAIR, C_COUNT };
static const char *const cond_name[C_COUNT] = { "idle", "one_core_busy_loop", "openmp_program_niced",
    "two_runs_at_once" };
static const char *const cond_what[C_COUNT] = { "nothing else started by the bench",
    "a plain CPU-bound loop in another process",
    "another OpenMP program (bonesim, all cores, libgomp's default spin, nice 10)",
    "two runs started together (each timed)" };

/* One timed measurement: wall seconds of the run (for C_PAIR the slower of
 * the two, *other the faster), or < 0 on failure. */
static double contention_once(
        const bench_opts *o, const char *tmp, int cond, int threads, int variant, double *other, double *load)
{
    char dir[2][4096], ldir[4096];
    static int serial = 0;
    for (int k = 0; k < 2; ++k) snprintf(dir[k], sizeof dir[k], "%s/run%d", tmp, serial++);
    snprintf(ldir, sizeof ldir, "%s/load%d", tmp, serial++);
    pid_t load_pid = -1;
    if (cond == C_LOOP) load_pid = spawn_spinner();
    if (cond == C_OMP) load_pid = spawn_run(o->scenario, 36500.0, omp_get_num_procs(), ldir, 10, V_BEFORE);
    if (load_pid > 0) {
        struct timespec ramp = { 0, 300000000L }; /* let the load get going */
        nanosleep(&ramp, NULL);
    }
    *load = load_average();
    const double days = o->days > 0.0 ? o->days : 20.0;
    double t0 = wall_now(), t[2] = { -1.0, -1.0 };
    pid_t p[2] = { spawn_run(o->scenario, days, threads, dir[0], 0, variant), -1 };
    if (cond == C_PAIR) p[1] = spawn_run(o->scenario, days, threads, dir[1], 0, variant);
    int bad = p[0] < 0 || (cond == C_PAIR && p[1] < 0);
    for (int n = 0; n < (cond == C_PAIR ? 2 : 1); ++n) {
        int ws = 0;
        pid_t w = waitpid(-1, &ws, 0);
        while (w > 0 && w != p[0] && w != p[1]) w = waitpid(-1, &ws, 0); /* the load cannot end first */
        if (w <= 0) {
            bad = 1;
            break;
        }
        if (!WIFEXITED(ws) || WEXITSTATUS(ws) != 0) bad = 1;
        t[w == p[0] ? 0 : 1] = wall_now() - t0;
    }
    stop_child(load_pid);
    for (int k = 0; k < 2; ++k) rm_tree(dir[k]);
    rm_tree(ldir);
    if (bad) return -1.0;
    if (cond != C_PAIR) return t[0];
    *other = t[0] < t[1] ? t[0] : t[1];
    return t[0] > t[1] ? t[0] : t[1];
}

/* The table of issue 19: each condition at 1 thread and at the default
 * (all cores), measured in alternation round by round (1, T, 1, T ...),
 * medians of the rounds and the ratio of the speeds. */
typedef struct {
    double t1[C_COUNT], tT[C_COUNT], ratio[C_COUNT], load_min, load_max;
    int T, rounds;
    double days;
} contention_result;

static int bench_contention(const bench_opts *o, const machine *mc, contention_result *out)
{
    const int T = o->threads_given ? o->threads[o->nthreads - 1] : mc->cores;
    const int rounds = o->repeat;
    const double days = o->days > 0.0 ? o->days : 20.0;
    char tmp[] = "/tmp/bonesim-bench-XXXXXX";
    if (!mkdtemp(tmp)) {
        fprintf(stderr, "bonesim bench: cannot create a scratch folder in /tmp (%s)\n", strerror(errno));
        return 1;
    }
    const int nspin = o->libgomp_spin ? V_COUNT : 1;
    double t[V_COUNT][C_COUNT][2][64], tf[V_COUNT][C_COUNT][2][64], ld[V_COUNT][C_COUNT][2][64];
    int rc = 0;
    for (int r = 0; r < rounds && !rc; ++r)
        for (int sp = 0; sp < nspin && !rc; ++sp)
            for (int c = 0; c < C_COUNT && !rc; ++c)
                for (int k = 0; k < 2 && !rc; ++k) {
                    const int th = k == 0 ? 1 : T;
                    fprintf(stderr, "bench contention: round %d/%d, %s, %d thread%s%s ...\n", r + 1, rounds,
                            cond_name[c], th, th == 1 ? "" : "s",
                            sp == V_FIXED            ? " (fixed threads)"
                                    : sp == V_BEFORE ? " (as before issue 19)"
                                                     : "");
                    double other = 0.0, load = 0.0;
                    double w = contention_once(o, tmp, c, th, sp, &other, &load);
                    if (w < 0.0) {
                        fprintf(stderr, "bonesim bench: a contention run failed (%s, %d threads)\n", cond_name[c], th);
                        rc = 1;
                        break;
                    }
                    t[sp][c][k][r] = w;
                    tf[sp][c][k][r] = c == C_PAIR ? other : w;
                    ld[sp][c][k][r] = load;
                }
    rm_tree(tmp);
    if (rc) return rc;
    if (out) {
        out->T = T;
        out->rounds = rounds;
        out->days = days;
        out->load_min = 1e30;
        out->load_max = -1e30;
    }
    for (int sp = 0; sp < nspin; ++sp)
        for (int c = 0; c < C_COUNT; ++c) {
            const double t1 = median(t[sp][c][0], rounds), tT = median(t[sp][c][1], rounds);
            double ratio[64] = { 0 };
            for (int r = 0; r < rounds; ++r) ratio[r] = t[sp][c][0][r] / t[sp][c][1][r];
            jline j;
            j_begin(&j, "contention", mc, T);
            j_str(&j, "condition", cond_name[c]);
            j_str(&j, "condition_is", cond_what[c]);
            j_str(&j, "variant", variant_name[sp]);
            j_str(&j, "scenario", o->scenario);
            j_num(&j, "days", days);
            j_int(&j, "rounds", rounds);
            j_num(&j, "wall_s_1thread", t1);
            j_num(&j, "wall_s_threads", tT);
            if (c == C_PAIR) {
                j_num(&j, "wall_s_1thread_faster_of_two", median(tf[sp][c][0], rounds));
                j_num(&j, "wall_s_threads_faster_of_two", median(tf[sp][c][1], rounds));
            }
            /* the speed at T threads over the speed at 1 (target >= 0.95
             * under load; at idle it is the speedup) */
            j_num(&j, "speed_ratio_threads_vs_1", median(ratio, rounds));
            j_num(&j, "speed_ratio_min", vmin(ratio, rounds));
            j_num(&j, "speed_ratio_max", vmax(ratio, rounds));
            if (c == C_IDLE) j_num(&j, "parallel_efficiency", median(ratio, rounds) / T);
            if (out && sp == 0) {
                out->t1[c] = t1;
                out->tT[c] = tT;
                out->ratio[c] = median(ratio, rounds);
                for (int k = 0; k < 2; ++k) {
                    out->load_min = fmin(out->load_min, vmin(ld[sp][c][k], rounds));
                    out->load_max = fmax(out->load_max, vmax(ld[sp][c][k], rounds));
                }
            }
            j_num(&j, "loadavg_min",
                    vmin(ld[sp][c][0], rounds) < vmin(ld[sp][c][1], rounds) ? vmin(ld[sp][c][0], rounds)
                                                                            : vmin(ld[sp][c][1], rounds));
            j_num(&j, "loadavg_max",
                    vmax(ld[sp][c][0], rounds) > vmax(ld[sp][c][1], rounds) ? vmax(ld[sp][c][0], rounds)
                                                                            : vmax(ld[sp][c][1], rounds));
            j_str(&j, "program_wait_policy", wait_policy_desc());
            j_end(&j);
        }
    return 0;
}

/* ---- summary (no workload named) ------------------------------------------------ */

/* The short suite and a one-screen table: fields, agents and 30 days of
 * the default scenario at 1 thread and at all cores, memory, and the
 * contention table on 5-day runs. A few minutes on 2 cores; --full runs
 * every workload at every size instead. */
static int bench_summary(bench_opts *o, const machine *mc)
{
    const double w0 = wall_now(), l0 = load_average();
    const int T = o->threads_given ? o->threads[o->nthreads - 1] : mc->cores;
    const int size = 250;
    bs_error err;
    fields_result fr[2];
    agents_result ar[2];
    scenario_result sr[2];
    for (int k = 0; k < 2; ++k) {
        const int th = k == 0 ? 1 : T;
        fprintf(stderr, "bench: fields, agents, 30 days of %s at %d x %d, %d thread%s ...\n", o->scenario, size, size,
                th, th == 1 ? "" : "s");
        if (run_fields(o, size, th, &fr[k], &err) != BS_OK || run_agents(o, size, th, &ar[k], &err) != BS_OK ||
                run_scenario(o, o->scenario, 0, o->quick ? 1.0 : 30.0, 0, th, &sr[k], &err) != BS_OK) {
            fprintf(stderr, "bonesim bench: %s\n", err.msg);
            return 1;
        }
    }
    contention_result cr;
    bench_opts oc = *o;
    if (!(oc.days > 0.0)) oc.days = o->quick ? 0.5 : 5.0;
    if (bench_contention(&oc, mc, &cr) != 0) return 1;
    const double l1 = load_average();
    printf("bonesim bench %s (commit %s): %s, %d cores; OpenMP waits: %s\n", BS_VERSION, BS_GIT_COMMIT, mc->cpu,
            mc->cores, wait_policy_desc());
    printf("load average %.2f at the start, %.2f at the end (above %d: other programs shared the cores; every\n"
           "figure is then lower, the %d-thread ones most)\n\n",
            l0, l1, mc->cores - 1, T);
    char tcol[32];
    snprintf(tcol, sizeof tcol, "%d thread%s", T, T == 1 ? "" : "s");
    printf("%-44s %11s %11s %7s\n", "", "1 thread", tcol, "ratio");
    printf("%-44s %11.3g %11.3g %7.2f\n", "fields 250^2: site-field-updates/s", fr[0].sfu_per_s, fr[1].sfu_per_s,
            fr[1].sfu_per_s / fr[0].sfu_per_s);
    printf("%-44s %11.3g %11.3g %7.2f\n", "agents 250^2 (vicious_cycle+DTC): updates/s", ar[0].aups, ar[1].aups,
            ar[1].aups / ar[0].aups);
    char lab[64];
    snprintf(lab, sizeof lab, "%s %g d: simulated days per wall s", o->scenario, sr[0].days);
    printf("%-44s %11.3g %11.3g %7.2f\n", lab, sr[0].days / sr[0].wall, sr[1].days / sr[1].wall,
            sr[0].wall / sr[1].wall);
    printf("%-44s %11.0f\n", "memory: bytes per site (whole model)", sr[0].model_bytes / ((double)sr[0].w * sr[0].h));
    printf("\ncontention: %s, %g days per run, medians of %d alternating rounds (load %.1f-%.1f)\n", o->scenario,
            cr.days, cr.rounds, cr.load_min, cr.load_max);
    printf("%-44s %10s %10s %7s  %s\n", "condition", "1 thread", tcol, "speed", "target");
    static const char *const tgt[C_COUNT] = { ">= 0.85 x threads (efficiency)", ">= 0.95", ">= 0.95",
        ">= 1 (each run, vs a 1-thread pair)" };
    static const char *const lbl[C_COUNT] = { "idle (nothing started by the bench)", "one core busy: plain loop",
        "another OpenMP program (nice 10)", "two runs at once (the slower)" };
    for (int c = 0; c < C_COUNT; ++c)
        printf("%-44s %9.2fs %9.2fs %7.2f  %s\n", lbl[c], cr.t1[c], cr.tT[c], cr.ratio[c], tgt[c]);
    printf("\n(speed: wall at 1 thread / wall at %d threads; `bonesim bench contention` for more rounds and JSON;\n"
           "--full for every workload and the large lattices) %.0f s\n",
            T, wall_now() - w0);
    return 0;
}

/* ---- options and main ---------------------------------------------------------- */

static void usage(FILE *f)
{
    fprintf(f,
            "usage: bonesim bench [fields|agents|scenario|scaling|contention|all] [options]\n"
            "\n"
            "With no workload named: a short suite (fields, agents and 30 days of the\n"
            "default scenario at 1 thread and at all cores, memory, the contention table\n"
            "on 5-day runs; a few minutes on 2 cores) and a one-screen summary on stdout.\n"
            "A workload named, or --full: one JSON object per line (stdout):\n"
            "  fields    the field solver alone, replaying recorded steps of the default\n"
            "            scenario: site-field-updates/s, effective bandwidth, next to a\n"
            "            STREAM triad and a double-precision ADI step measured in the same run\n"
            "  agents    the agent loop alone on a fixed population (vicious_cycle plus\n"
            "            tumour cells on %.0f%% of free marrow): agent-updates/s\n"
            "  scenario  full runs: the default scenario for its run.days (or --days), then\n"
            "            48 steps (after 24 untimed) at each size: simulated days per second,\n"
            "            time per phase, peak RSS, bytes per site and per agent slot\n"
            "  scaling   thread scaling (parallel efficiency) and size scaling (cost per site)\n"
            "  contention  `bonesim run` of the default scenario (--days, default 20) at 1\n"
            "            thread and at all cores (or the last of --threads), alternated for\n"
            "            --repeat rounds: idle, with a plain CPU-bound loop, with another\n"
            "            OpenMP program (nice 10), two runs at once: speed ratios\n"
            "  all       every workload (what --full runs)\n"
            "\n"
            "options:\n"
            "  --threads LIST  thread counts, e.g. 1,2,4 (default: all cores; scaling: 1,2,4,..\n"
            "                  up to the core count)\n"
            "  --sizes LIST    lattice edges in sites, e.g. 256,512 (defaults: fields 250,1024;\n"
            "                  agents 250; scenario 256,512,1024,2048; scaling 256,512,1024)\n"
            "  --repeat N      runs per figure; the median is reported (default 3)\n"
            "  --days D        length of the default-scenario run (default: its run.days)\n"
            "  --scenario S    default scenario (default: homeostasis)\n"
            "  --full          every workload at every size (tens of minutes on 2 cores)\n"
            "  --ablation      contention: also with a fixed thread count, and as before\n"
            "                  issue 19 (libgomp's 300000-round spin, fixed thread count)\n"
            "  --quick         tiny lattices and few steps (seconds; for tests)\n"
            "  --help          this help\n"
            "\n"
            "Progress goes to stderr. Figures depend on the machine and its load (each line\n"
            "records the load average): compare runs on a quiet machine. bench/README.md\n"
            "explains every key.\n",
            BENCH_DTC_DENSITY * 100.0);
}

static int parse_list(const char *s, int *out, int *n, int lo, int hi)
{
    *n = 0;
    const char *p = s;
    while (*p) {
        char *end;
        errno = 0;
        long v = strtol(p, &end, 10);
        if (end == p || errno || v < lo || v > hi || *n >= BENCH_MAX_LIST) return 0;
        out[(*n)++] = (int)v;
        p = end;
        if (*p == ',')
            p++;
        else if (*p)
            return 0;
    }
    return *n > 0;
}

int bs_bench_main(int argc, char **argv)
{
    bench_opts o;
    memset(&o, 0, sizeof o);
    o.repeat = 3;
    o.days = -1.0;
    o.scenario = "homeostasis";
    for (int i = 0; i < argc; ++i) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(a, "fields") == 0) {
            o.which |= W_FIELDS;
        } else if (strcmp(a, "agents") == 0) {
            o.which |= W_AGENTS;
        } else if (strcmp(a, "scenario") == 0) {
            o.which |= W_SCENARIO;
        } else if (strcmp(a, "scaling") == 0) {
            o.which |= W_SCALING;
        } else if (strcmp(a, "contention") == 0) {
            o.which |= W_CONTENTION;
        } else if (strcmp(a, "all") == 0) {
            o.which |= W_ALL;
        } else if (strcmp(a, "--full") == 0) {
            o.full = 1;
        } else if (strcmp(a, "--ablation") == 0) {
            o.libgomp_spin = 1;
        } else if (strcmp(a, "--quick") == 0) {
            o.quick = 1;
        } else if (strcmp(a, "--threads") == 0 || strcmp(a, "--sizes") == 0 || strcmp(a, "--repeat") == 0 ||
                strcmp(a, "--days") == 0 || strcmp(a, "--scenario") == 0) {
            if (!v) {
                fprintf(stderr, "bonesim bench: %s needs a value\n", a);
                return 2;
            }
            i++;
            int ok = 1;
            if (strcmp(a, "--threads") == 0) {
                ok = parse_list(v, o.threads, &o.nthreads, 1, 4096);
                o.threads_given = 1;
            } else if (strcmp(a, "--sizes") == 0) {
                ok = parse_list(v, o.sizes, &o.nsizes, 8, 16384);
                o.sizes_given = 1;
            } else if (strcmp(a, "--repeat") == 0) {
                int n1;
                int r[BENCH_MAX_LIST];
                ok = parse_list(v, r, &n1, 1, 64) && n1 == 1;
                o.repeat = r[0];
            } else if (strcmp(a, "--days") == 0) {
                char *end;
                errno = 0;
                o.days = strtod(v, &end);
                ok = end != v && !*end && !errno && isfinite(o.days) && o.days > 0.0 && o.days <= 36525.0;
            } else {
                o.scenario = v;
            }
            if (!ok) {
                fprintf(stderr,
                        "bonesim bench: bad value '%s' for %s (valid: --threads 1..4096 and "
                        "--sizes 8..16384 as comma lists, --repeat 1..64, --days 0..36525)\n",
                        v, a);
                return 2;
            }
        } else {
            fprintf(stderr, "bonesim bench: unknown argument '%s' (try bonesim bench --help)\n", a);
            return 2;
        }
    }
    if (o.full && !o.which) o.which = W_ALL;
    machine mc = { 0 };
    machine_info(&mc);
    if (!o.which) {
        g_emit = 0;
        int rc0 = bench_summary(&o, &mc);
        g_emit = 1;
        return rc0;
    }
    if (o.quick && o.days < 0.0) o.days = 1.0;

    const int prev_threads = omp_get_max_threads();
    int def_threads[1] = { prev_threads };
    const int *tl = o.threads_given ? o.threads : def_threads;
    const int nt = o.threads_given ? o.nthreads : 1;
    int rc = 0;

    if (o.which & W_FIELDS) {
        static const int def[] = { 250, 1024 }, quick[] = { 64 };
        const int *sz = o.sizes_given ? o.sizes : o.quick ? quick : def;
        const int ns = o.sizes_given ? o.nsizes : o.quick ? 1 : 2;
        for (int k = 0; k < ns && !rc; ++k)
            for (int t = 0; t < nt && !rc; ++t) rc = bench_fields(&o, &mc, sz[k], tl[t]);
    }
    if ((o.which & W_AGENTS) && !rc) {
        static const int def[] = { 250 }, quick[] = { 64 };
        const int *sz = o.sizes_given ? o.sizes : o.quick ? quick : def;
        const int ns = o.sizes_given ? o.nsizes : 1;
        for (int k = 0; k < ns && !rc; ++k)
            for (int t = 0; t < nt && !rc; ++t) rc = bench_agents(&o, &mc, sz[k], tl[t]);
    }
    if ((o.which & W_SCENARIO) && !rc) {
        /* the default scenario as shipped, then the sizes */
        for (int t = 0; t < nt && !rc; ++t) rc = emit_scenario(&o, &mc, o.scenario, o.quick ? 64 : 0, o.days, 0, tl[t]);
        static const int def[] = { 256, 512, 1024, 2048 }, quick[] = { 48 };
        const int *sz = o.sizes_given ? o.sizes : o.quick ? quick : def;
        const int ns = o.sizes_given ? o.nsizes : o.quick ? 1 : 4;
        for (int k = 0; k < ns && !rc; ++k)
            for (int t = 0; t < nt && !rc; ++t)
                rc = emit_scenario(&o, &mc, o.scenario, sz[k], o.quick ? 0.25 : 2.0, o.quick ? 2 : 24, tl[t]);
    }
    if ((o.which & W_SCALING) && !rc) {
        int st[BENCH_MAX_LIST], ns = 0;
        if (o.threads_given) {
            memcpy(st, o.threads, sizeof st);
            ns = o.nthreads;
        } else {
            for (int t = 1; t <= mc.cores && ns < BENCH_MAX_LIST; t *= 2) st[ns++] = t;
            if (o.quick && ns < 2) st[ns++] = 2;
        }
        rc = bench_scaling(&o, &mc, st, ns);
    }
    if ((o.which & W_CONTENTION) && !rc) {
        bench_opts oc = o;
        if (!(oc.days > 0.0) || (o.which & W_SCENARIO)) oc.days = o.quick ? 0.25 : 20.0;
        rc = bench_contention(&oc, &mc, NULL);
    }
    omp_set_num_threads(prev_threads);
    return rc;
}
