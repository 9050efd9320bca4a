/* runner.c — options, set-up and the run loop of `bonesim run` and
 * `bonesim resume` (see runner.h). */
#define _POSIX_C_SOURCE 200809L
#include "runner.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <omp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "actions.h"
#include "catalog.h"
#include "config.h"
#include "model.h"
#include "output.h"
#include "render.h"
#include "version.h"

/* ---- options ---------------------------------------------------------------- */

enum { FOR_RUN = 1u, FOR_RESUME = 2u, FOR_PARAMS = 4u };

typedef enum {
    O_DAYS,
    O_SEED,
    O_THREADS,
    O_OUT,
    O_SET,
    O_CSV,
    O_PNG,
    O_CKPT,
    O_MAXMEM,
    O_FORCE,
    O_QUIET,
    O_TIMINGS,
    O_MARKDOWN,
    O_NOPNG,
    O_REPLAY
} opt_id;

static const struct {
    const char *name;
    opt_id id;
    int has_value;
    unsigned cmds;
    const char *why_not; /* shown when a command does not take it */
} cli_table[] = {
    { "--days", O_DAYS, 1, FOR_RUN | FOR_RESUME | FOR_PARAMS, "" },
    { "--seed", O_SEED, 1, FOR_RUN | FOR_PARAMS, "a resumed run keeps the seed of its checkpoint" },
    { "--threads", O_THREADS, 1, FOR_RUN | FOR_RESUME, "" },
    { "--out", O_OUT, 1, FOR_RUN | FOR_RESUME, "" },
    { "--set", O_SET, 1, FOR_RUN | FOR_PARAMS, "a resumed run keeps the parameters of its checkpoint" },
    { "--csv-every", O_CSV, 1, FOR_RUN | FOR_RESUME | FOR_PARAMS, "" },
    { "--png-every", O_PNG, 1, FOR_RUN | FOR_RESUME | FOR_PARAMS, "" },
    { "--checkpoint-every", O_CKPT, 1, FOR_RUN | FOR_RESUME, "" },
    { "--max-memory-mb", O_MAXMEM, 1, FOR_RUN | FOR_RESUME, "" },
    { "--force", O_FORCE, 0, FOR_RUN | FOR_RESUME, "" },
    { "--quiet", O_QUIET, 0, FOR_RUN | FOR_RESUME, "" },
    { "--timings", O_TIMINGS, 0, FOR_RUN | FOR_RESUME, "" },
    { "--markdown", O_MARKDOWN, 0, FOR_PARAMS, "" },
    { "--no-png", O_NOPNG, 0, FOR_RUN, "" },
    { "--replay", O_REPLAY, 1, FOR_RUN, "" },
};

static bs_status parse_number(const char *opt, const char *s, double lo, double hi, double *out, bs_error *err)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end != '\0' || errno || !isfinite(v) || v < lo || v > hi)
        return bs_fail(err, BS_ERR_INVALID, "%s '%s' is not a number in range (valid: %g .. %g)", opt, s, lo, hi);
    *out = v;
    return BS_OK;
}

bs_status bs_cli_parse(bs_cmd cmd, int argc, char **argv, bs_cli_opts *o, bs_error *err)
{
    static const char *const cmd_names[] = { "run", "resume", "params" };
    unsigned mask = cmd == BS_CMD_RUN ? FOR_RUN : cmd == BS_CMD_RESUME ? FOR_RESUME : FOR_PARAMS;
    memset(o, 0, sizeof *o);
    o->days = o->csv_every = o->png_every = o->ckpt_every = o->max_memory_mb = -1.0;
    o->seed = -1;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            o->help = 1;
            return BS_OK;
        }
        if (a[0] != '-' || a[1] == '\0') {
            if (o->npos == 1)
                return bs_fail(
                        err, BS_ERR_INVALID, "unexpected argument '%s' (see bonesim %s --help)", a, cmd_names[cmd]);
            o->pos[o->npos++] = a;
            continue;
        }
        size_t k = 0, n = sizeof cli_table / sizeof cli_table[0];
        while (k < n && strcmp(cli_table[k].name, a) != 0) k++;
        if (k == n) return bs_fail(err, BS_ERR_INVALID, "unknown option '%s' (see --help)", a);
        if (!(cli_table[k].cmds & mask))
            return bs_fail(err, BS_ERR_INVALID, "bonesim %s does not take %s%s%s", cmd_names[cmd], a,
                    cli_table[k].why_not[0] ? ": " : "", cli_table[k].why_not);
        const char *v = NULL;
        if (cli_table[k].has_value) {
            if (i + 1 >= argc) return bs_fail(err, BS_ERR_INVALID, "%s needs a value (see --help)", a);
            v = argv[++i];
        }
        double x = 0.0;
        bs_status st = BS_OK;
        switch (cli_table[k].id) {
        case O_DAYS: st = parse_number(a, v, 0.0, 36525.0, &o->days, err); break;
        case O_SEED:
            st = parse_number(a, v, 0.0, 9007199254740991.0, &x, err);
            if (st == BS_OK && x != floor(x))
                st = bs_fail(err, BS_ERR_INVALID, "--seed '%s' must be a whole number", v);
            o->seed = (long long)x;
            break;
        case O_THREADS:
            st = parse_number(a, v, 1.0, 1024.0, &x, err);
            if (st == BS_OK && x != floor(x))
                st = bs_fail(err, BS_ERR_INVALID, "--threads '%s' must be a whole number", v);
            o->threads = (int)x;
            break;
        case O_OUT:
            if (!v[0]) st = bs_fail(err, BS_ERR_INVALID, "--out needs a folder name");
            o->out = v;
            break;
        case O_SET:
            if (o->nsets == BS_CLI_MAX_SETS)
                return bs_fail(err, BS_ERR_INVALID, "too many --set options (at most %d)", BS_CLI_MAX_SETS);
            o->sets[o->nsets++] = v;
            break;
        case O_CSV: st = parse_number(a, v, 0.0, 36525.0, &o->csv_every, err); break;
        case O_PNG: st = parse_number(a, v, 0.0, 36525.0, &o->png_every, err); break;
        case O_CKPT: st = parse_number(a, v, 0.0, 36525.0, &o->ckpt_every, err); break;
        case O_MAXMEM: st = parse_number(a, v, 1.0, 1e12, &o->max_memory_mb, err); break;
        case O_FORCE: o->force = 1; break;
        case O_QUIET: o->quiet = 1; break;
        case O_TIMINGS: o->timings = 1; break;
        case O_MARKDOWN: o->markdown = 1; break;
        case O_NOPNG: o->no_png = 1; break;
        case O_REPLAY:
            if (!v[0]) st = bs_fail(err, BS_ERR_INVALID, "--replay needs a log file");
            o->replay = v;
            break;
        }
        if (st != BS_OK) return st;
    }
    return BS_OK;
}

/* ---- scenarios and parameters --------------------------------------------------- */

static int file_exists(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

void bs_scenario_name(const char *path, char *out, size_t n)
{
    const char *b = strrchr(path, '/');
    b = b ? b + 1 : path;
    size_t len = strlen(b);
    if (len >= n) len = n - 1;
    memcpy(out, b, len);
    out[len] = '\0';
    char *dot = strrchr(out, '.');
    if (dot && strcmp(dot, ".ini") == 0) *dot = '\0';
}

/* A scenario is a path, or a name looked up in the data folders
 * (engine/datadir.h: $BONESIM_SCENARIOS, $BONESIM_DATA, ./scenarios, then
 * relative to the executable). */
static int resolve_scenario(const char *arg, char *out, size_t n)
{
    if (file_exists(arg)) {
        snprintf(out, n, "%s", arg);
        return 1;
    }
    return bs_scenario_find(arg, out, n);
}

static bs_status set_number(bs_paramset *ps, const char *name, double v, const char *opt, bs_error *err)
{
    char num[64];
    snprintf(num, sizeof num, "%.17g", v);
    return bs_paramset_set_text(ps, name, num, opt, err);
}

bs_status bs_resolve_params(
        const bs_cli_opts *o, bs_registry **reg_out, bs_paramset **ps_out, char *scenario_path, size_t n, bs_error *err)
{
    *reg_out = NULL;
    *ps_out = NULL;
    scenario_path[0] = '\0';
    bs_registry *reg = bs_catalog_registry(err);
    if (!reg) return BS_ERR_INTERNAL;
    bs_paramset *ps = bs_paramset_create(reg);
    bs_status st = ps ? BS_OK : bs_fail(err, BS_ERR_NOMEM, "out of memory");
    if (st == BS_OK && o->npos > 0) {
        if (!resolve_scenario(o->pos[0], scenario_path, n)) {
            const char *dirs[BS_DATADIR_MAX];
            int nd = bs_scenario_dirs(dirs);
            char where[8192] = "";
            for (int d = 0; d < nd; d++)
                snprintf(where + strlen(where), sizeof where - strlen(where), "%s%s", d ? ", " : "", dirs[d]);
            st = bs_fail(err, BS_ERR_INVALID,
                    "no scenario '%s' (not a file, not in %s; set BONESIM_DATA or BONESIM_SCENARIOS, see bonesim "
                    "scenarios)",
                    o->pos[0], where);
        } else
            st = bs_config_load(ps, scenario_path, err);
    }
    for (int k = 0; k < o->nsets && st == BS_OK; k++) st = bs_config_set(ps, o->sets[k], err);
    if (st == BS_OK && o->days >= 0.0) st = set_number(ps, "run.days", o->days, "--days", err);
    if (st == BS_OK && o->seed >= 0) st = set_number(ps, "run.seed", (double)o->seed, "--seed", err);
    if (st == BS_OK && o->csv_every >= 0.0) st = set_number(ps, "run.csv_every_d", o->csv_every, "--csv-every", err);
    if (st == BS_OK && o->png_every >= 0.0) st = set_number(ps, "run.png_every_d", o->png_every, "--png-every", err);
    if (st != BS_OK) {
        bs_paramset_destroy(ps);
        bs_registry_destroy(reg);
        return st;
    }
    *reg_out = reg;
    *ps_out = ps;
    return BS_OK;
}

/* Loads the PNG mask named by geometry.mask_png (relative to the scenario
 * file's folder) when geometry.source = mask; *classes stays NULL
 * otherwise. */
static bs_status load_mask(const bs_paramset *ps, const char *scenario_path, uint8_t **classes, bs_error *err)
{
    *classes = NULL;
    if (strcmp(bs_param_str(ps, "geometry.source"), "mask") != 0) return BS_OK;
    const char *mask = bs_param_str(ps, "geometry.mask_png");
    if (!mask[0]) return bs_fail(err, BS_ERR_INVALID, "geometry.source = mask needs geometry.mask_png");
    char path[8300];
    if (mask[0] != '/' && scenario_path[0]) {
        const char *slash = strrchr(scenario_path, '/');
        int dlen = slash ? (int)(slash - scenario_path) : 1;
        snprintf(path, sizeof path, "%.*s/%s", dlen, slash ? scenario_path : ".", mask);
    } else {
        snprintf(path, sizeof path, "%s", mask);
    }
    int w = (int)bs_param(ps, "lattice.width_sites"), h = (int)bs_param(ps, "lattice.height_sites");
    return bs_mask_load(path, &w, &h, classes, err);
}

/* ---- bounded memory --------------------------------------------------------------- */

static void fmt_bytes(char *buf, size_t n, double b)
{
    if (b >= 1024.0 * 1048576.0)
        snprintf(buf, n, "%.1f GiB", b / (1024.0 * 1048576.0));
    else
        snprintf(buf, n, "%.0f MiB", ceil(b / 1048576.0));
}

/* Refuses a run whose model and snapshot would not fit: the limit is
 * --max-memory-mb, else the smaller of physical memory and the
 * address-space limit (ulimit -v). Checked before anything big is
 * allocated, so a typo like width_sites = 16000 is a message, not a
 * machine swapping itself to death or an OOM kill hours later. */
static bs_status check_memory(const bs_paramset *ps, double max_mb, bs_error *err)
{
    double w = bs_param(ps, "lattice.width_sites"), h = bs_param(ps, "lattice.height_sites");
    double px = bs_param(ps, "run.png_px_per_site"), sites = w * h;
    double need = bs_model_estimate_bytes(ps);
    /* The snapshot (RGB, legend panel included, about half as wide again)
     * and a mask being decoded (RGBA + classes). */
    need += sites * px * px * 3.0 * 1.5;
    if (strcmp(bs_param_str(ps, "geometry.source"), "mask") == 0) need += sites * 5.0;
    double limit;
    const char *why;
    if (max_mb > 0.0) {
        limit = max_mb * 1048576.0;
        why = "set by --max-memory-mb";
    } else {
        long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
        limit = pages > 0 && page > 0 ? (double)pages * (double)page : HUGE_VAL;
        why = "the machine's physical memory; lower it with --max-memory-mb";
        struct rlimit rl;
        if (getrlimit(RLIMIT_AS, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && (double)rl.rlim_cur < limit) {
            limit = (double)rl.rlim_cur;
            why = "the address-space limit, ulimit -v";
        }
    }
    if (need <= limit) return BS_OK;
    char nb[32], lb[32];
    fmt_bytes(nb, sizeof nb, need);
    fmt_bytes(lb, sizeof lb, limit);
    return bs_fail(err, BS_ERR_NOMEM,
            "a %.0f x %.0f lattice needs about %s of memory (%.0f bytes per site: lattice, agent store, %d "
            "fields, snapshot), more than the limit of %s (%s); use a smaller lattice "
            "(lattice.width_sites, lattice.height_sites)",
            w, h, nb, need / sites, BS_FIELD_COUNT, lb, why);
}

/* ---- signals ------------------------------------------------------------------------ */

static volatile sig_atomic_t g_stop; /* first SIGINT/SIGTERM received, 0 if none */
static volatile sig_atomic_t g_tmp_active; /* g_tmp names a temporary file being written */
static char g_tmp[4400];

static void write_err(const char *s)
{
    ssize_t r = write(2, s, strlen(s));
    (void)r;
}

/* First signal: ask the loop to stop after the step. Second: stop now.
 * Only async-signal-safe calls here (write, unlink, signal, raise). The
 * files already written stay whole: the CSV takes one write per row and
 * every other file is renamed into place complete; the one temporary file
 * being written, if any, is removed. */
static void on_signal(int sig)
{
    if (g_stop) {
        if (g_tmp_active) unlink(g_tmp);
        write_err("\nbonesim: second interrupt: stopping now, without a final checkpoint\n");
        /* Die of the signal itself, so a calling shell script sees an
         * interrupted child (and stops too). The signal is blocked while
         * its handler runs: unblock it, or raise would only queue it. */
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, sig);
        signal(sig, SIG_DFL);
        sigprocmask(SIG_UNBLOCK, &set, NULL);
        raise(sig);
        _exit(128 + sig);
    }
    g_stop = sig;
    write_err("\nbonesim: interrupt: finishing the step, then writing a checkpoint (interrupt again to stop now)\n");
}

static void install_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    /* Over a file-size limit (ulimit -f) a write should fail with EFBIG
     * and a message, not kill the process. */
    signal(SIGXFSZ, SIG_IGN);
}

static void restore_signals(void)
{
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
}

/* Writes go to PATH.tmp.PID (output.c, image.c, checkpoint.c share the
 * convention); the handler removes it if a second signal comes mid-write. */
static void tmp_begin(const char *path)
{
    g_tmp_active = 0;
    bs_ckpt_temp_path(path, g_tmp, sizeof g_tmp);
    g_tmp_active = 1;
}

static void tmp_end(void)
{
    g_tmp_active = 0;
}

/* ---- the run ------------------------------------------------------------------------ */

typedef struct {
    bs_paramset *ps;
    bs_registry *reg;
    bs_model *m;
    bs_output out;
    bs_run_state rs;
    char outdir[4096];
    char csv_path[4200];
    long long csv_len; /* bytes of whole rows in the CSV */
    uint64_t csv_hash; /* FNV-1a of those bytes */
    char last_ckpt[4400];
    long nckpt;
    int csv_rfd; /* read-only descriptor of the CSV, -1 until opened */
    int threads, quiet, timings;
    int no_png; /* --no-png: no snapshots at all (compare and sweep children) */
    double days;
    long steps;
    uint64_t k0;
    bs_action_log log; /* --replay: the actions, applied from log.a[next_action] on */
    size_t next_action;
} runner;

static void runner_init(runner *R)
{
    memset(R, 0, sizeof *R);
    R->csv_rfd = -1;
}

static void runner_free(runner *R)
{
    if (R->out.csv) fclose(R->out.csv);
    if (R->csv_rfd >= 0) close(R->csv_rfd);
    bs_model_destroy(R->m);
    bs_action_log_free(&R->log);
    bs_paramset_destroy(R->ps);
    bs_registry_destroy(R->reg);
}

/* Hashes bytes [from, to) of the file open as fd. */
static bs_status hash_range(int fd, const char *path, long long from, long long to, uint64_t *h, bs_error *err)
{
    char buf[1 << 14];
    while (from < to) {
        size_t want = to - from > (long long)sizeof buf ? sizeof buf : (size_t)(to - from);
        ssize_t got = pread(fd, buf, want, (off_t)from);
        if (got <= 0)
            return bs_fail(err, BS_ERR_IO, "%s: cannot read back (%s)", path, got < 0 ? strerror(errno) : "short file");
        *h = bs_fnv1a(*h, buf, (size_t)got);
        from += got;
    }
    return BS_OK;
}

/* After a row was written: extend the length and hash of whole rows. The
 * rows are read back through a descriptor of our own (output.c opens the
 * CSV write-only), and only flushed bytes are read. */
static bs_status csv_track(runner *R, bs_error *err)
{
    long long now = (long long)ftello(R->out.csv);
    if (now < R->csv_len) return bs_fail(err, BS_ERR_IO, "%s: cannot tell file position", R->csv_path);
    if (R->csv_rfd < 0 && (R->csv_rfd = open(R->csv_path, O_RDONLY)) < 0)
        return bs_fail(err, BS_ERR_IO, "%s: cannot read back (%s)", R->csv_path, strerror(errno));
    bs_status st = hash_range(R->csv_rfd, R->csv_path, R->csv_len, now, &R->csv_hash, err);
    if (st == BS_OK) R->csv_len = now;
    return st;
}

/* A failed row may have left part of itself on disk (a full disk takes
 * what fits): cut the file back to its last whole row. */
static void csv_rollback(runner *R)
{
    if (R->out.csv) fclose(R->out.csv);
    R->out.csv = NULL;
    if (truncate(R->csv_path, (off_t)R->csv_len) != 0) {
        /* Nothing more to do; the error being reported says why. */
    }
}

static bs_status save_checkpoint(runner *R, bs_error *err)
{
    char path[4400];
    snprintf(path, sizeof path, "%s/checkpoint_day%08.3f.ckpt", R->outdir, bs_model_time_days(R->m));
    R->rs.csv_bytes = R->csv_len;
    R->rs.csv_hash = R->csv_hash;
    tmp_begin(path);
    bs_status st = bs_model_save(R->m, &R->rs, path, err);
    tmp_end();
    if (st == BS_OK) {
        snprintf(R->last_ckpt, sizeof R->last_ckpt, "%s", path);
        R->nckpt++;
    }
    return st;
}

static void progress(double done, double total, double wall_s)
{
    int width = 40, filled = total > 0 ? (int)(width * done / total) : width;
    double eta = done > 0 ? wall_s * (total - done) / done : 0.0;
    fprintf(stderr, "\r[");
    for (int k = 0; k < width; k++) fputc(k < filled ? '#' : '.', stderr);
    fprintf(stderr, "] day %7.1f / %.1f  %5.1fs  ETA %5.1fs ", done, total, wall_s, eta);
    fflush(stderr);
}

int bs_run_due(double t, double every, double *next)
{
    if (every <= 0.0) return 0;
    if (t + 1e-9 >= *next) {
        while (*next <= t + 1e-9) *next += every;
        return 1;
    }
    return 0;
}

typedef enum { LOOP_DONE, LOOP_STOPPED, LOOP_FAILED } loop_end;

/* The loop. Each iteration k (time t = k dt): stop if asked (checkpoint
 * first), a checkpoint if one is due, then the outputs due at t, then one
 * step. A checkpoint therefore holds the state before t's outputs, and a
 * resumed run starts with them: same rows, same images. */
static loop_end run_loop(runner *R, bs_obs *obs, double *wall, double *t_out, bs_error *err)
{
    bs_model *m = R->m;
    bs_run_state *rs = &R->rs;
    double csv_every = bs_param(R->ps, "run.csv_every_d"), png_every = bs_param(R->ps, "run.png_every_d");
    int tty = isatty(2) && !R->quiet;
    double wall0 = omp_get_wtime(), t_start = bs_model_time_days(m);
    bs_status st = BS_OK;
    loop_end end = LOOP_DONE;
    for (uint64_t k = R->k0;; k++) {
        double t = bs_model_time_days(m);
        int last = k == (uint64_t)R->steps;
        double to0 = omp_get_wtime();
        if (g_stop) {
            st = save_checkpoint(R, err);
            end = st == BS_OK ? LOOP_STOPPED : LOOP_FAILED;
            break;
        }
        /* A replayed action at step k goes in before k's outputs, as in
         * the viewer, where it happens while the model sits at step k. */
        while (st == BS_OK && R->next_action < R->log.n && R->log.a[R->next_action].step == k) {
            const bs_action *a = &R->log.a[R->next_action++];
            if (a->kind == BS_ACT_END) continue;
            bs_error e2;
            st = bs_action_apply(m, a, &e2);
            if (st != BS_OK) bs_fail(err, st, "%s:%d: %s", R->log.path, a->line, e2.msg);
        }
        if (st != BS_OK) break;
        if (rs->ckpt_every_d > 0.0 && (bs_run_due(t, rs->ckpt_every_d, &rs->next_ckpt_d) || (last && k != R->k0))) {
            st = save_checkpoint(R, err);
            if (st != BS_OK) break;
        }
        if (bs_run_due(t, csv_every, &rs->next_csv_d) || last || k == 0) {
            bs_model_observe(m, obs, rs->acc_resorbed_um2, rs->acc_formed_um2, t - rs->last_row_d);
            if (k == 0) rs->first_bone_area_um2 = obs->bone_area_um2;
            st = bs_output_row(&R->out, obs, err);
            if (st == BS_OK) st = csv_track(R, err);
            if (st != BS_OK) {
                csv_rollback(R);
                break;
            }
            rs->acc_resorbed_um2 = rs->acc_formed_um2 = 0.0;
            rs->last_row_d = t;
        }
        if (!R->no_png && (bs_run_due(t, png_every, &rs->next_png_d) || last)) {
            char png[4400];
            snprintf(png, sizeof png, "%s/snapshot_day%06.1f.png", R->outdir, t);
            tmp_begin(png);
            st = bs_output_png(&R->out, m, rs->scenario, err);
            tmp_end();
            if (st != BS_OK) break;
            rs->png_count++;
        }
        *t_out += omp_get_wtime() - to0;
        if (last) break;
        bs_model_step(m);
        rs->acc_resorbed_um2 += m->last.resorbed_um2;
        rs->acc_formed_um2 += m->last.formed_um2;
        if (tty && (k % 24 == 0)) progress(bs_model_time_days(m) - t_start, R->days - t_start, omp_get_wtime() - wall0);
    }
    *wall = omp_get_wtime() - wall0;
    if (tty) {
        if (end == LOOP_DONE && st == BS_OK) progress(R->days - t_start, R->days - t_start, *wall);
        fputc('\n', stderr);
    }
    return st != BS_OK ? LOOP_FAILED : end;
}

static void print_resume_hint(const runner *R, const char *what)
{
    if (R->last_ckpt[0])
        fprintf(stderr, "  %s; the last checkpoint is %s\n  continue with: bonesim resume %s --days %g\n", what,
                R->last_ckpt, R->last_ckpt, R->days);
    else
        fprintf(stderr, "  %s; no checkpoint was written (use --checkpoint-every DAYS to be able to resume)\n", what);
}

static int finish(runner *R, loop_end end, const bs_obs *obs, double wall, double t_out, bs_error *err)
{
    bs_model *m = R->m;
    const char *name = R->rs.scenario;
    if (end == LOOP_FAILED) {
        fprintf(stderr, "bonesim: %s\n", err->msg);
        print_resume_hint(R, "rows, snapshots and checkpoints finished before the error are complete");
        return BS_EXIT_ERROR;
    }
    bs_run_info info = { R->rs.scenario_arg, R->rs.scenario_path, R->threads, R->days };
    bs_status st = bs_output_close(&R->out, err);
    if (st == BS_OK) {
        char mpath[4400];
        snprintf(mpath, sizeof mpath, "%s/manifest.json", R->outdir);
        tmp_begin(mpath);
        st = bs_output_manifest(&R->out, R->ps, &info, err);
        tmp_end();
    }
    if (st != BS_OK) {
        fprintf(stderr, "bonesim: %s\n", err->msg);
        return BS_EXIT_ERROR;
    }
    if (end == LOOP_STOPPED) {
        int code = g_stop == SIGTERM ? BS_EXIT_SIGTERM : BS_EXIT_SIGINT;
        fprintf(stderr,
                "bonesim: stopped by %s at day %.3f; CSV flushed, manifest and checkpoint written:\n  %s\n"
                "  continue with: bonesim resume %s --days %g\n",
                g_stop == SIGTERM ? "SIGTERM" : "SIGINT", bs_model_time_days(m), R->last_ckpt, R->last_ckpt, R->days);
        return code;
    }
    double simulated = R->days - (double)R->k0 * m->dt_h / 24.0;
    if (!R->quiet) {
        long long seed = (long long)bs_param(R->ps, "run.seed");
        printf("bonesim %s: scenario %s, seed %lld, %d thread%s\n", BS_VERSION, name, seed, R->threads,
                R->threads == 1 ? "" : "s");
        if (R->k0 > 0)
            printf("  resumed        at day %.3f (step %llu)\n", (double)R->k0 * m->dt_h / 24.0,
                    (unsigned long long)R->k0);
        printf("  simulated      %.1f days (%ld steps of %.2g h) in %.2f s wall (%.1f days/s)\n", simulated,
                R->steps - (long)R->k0, m->dt_h, wall, wall > 0 ? simulated / wall : 0.0);
        printf("  lattice        %d x %d sites of %.3g um (%.2f x %.2f mm)\n", m->lat.w, m->lat.h, m->lat.h_um,
                m->lat.w * m->lat.h_um / 1000.0, m->lat.h * m->lat.h_um / 1000.0);
        double first = R->rs.first_bone_area_um2;
        printf("  bone area      %.4g um^2 -> %.4g um^2 (%+.2f%%), BV/TV %.3f\n", first, obs->bone_area_um2,
                first > 0 ? 100.0 * (obs->bone_area_um2 / first - 1.0) : 0.0, obs->bv_tv);
        printf("  endosteum      %.1f%% quiescent\n", 100.0 * obs->endosteum_quiescent_frac);
        printf("  cells          %ld osteoclasts, %ld osteoblasts\n", obs->n_osteoclasts, obs->n_osteoblasts);
        printf("  oxygen         median marrow pO2 %.1f mmHg\n", obs->o2_median_mmHg);
        printf("  outputs        %s/timeseries.csv, manifest.json, %lld PNG snapshot%s\n", R->outdir,
                (long long)R->rs.png_count, R->rs.png_count == 1 ? "" : "s");
        if (R->nckpt) printf("  checkpoints    %ld written, the last %s\n", R->nckpt, R->last_ckpt);
    }
    if (R->timings) {
        double sites = (double)m->lat.w * m->lat.h;
        printf("timings (%d threads): fields %.2f s, agents %.2f s, output %.2f s, total %.2f s\n", R->threads,
                m->t_fields_s, m->t_agents_s, t_out, wall);
        printf("  field solver   %.3g site-updates/s (%.3g relaxations per site over %.0f sites x %d fields)\n",
                m->t_fields_s > 0 ? (double)m->field_site_updates / m->t_fields_s : 0.0,
                (double)m->field_site_updates / sites, sites, BS_FIELD_COUNT);
        printf("  agent loop     %.3g agent-updates/s, %.3g site-visits/s (%llu agent updates)\n",
                m->t_agents_s > 0 ? (double)m->agent_updates / m->t_agents_s : 0.0,
                m->t_agents_s > 0 ? sites * (double)(m->step - m->step0 - R->k0) / m->t_agents_s : 0.0,
                (unsigned long long)m->agent_updates);
    }
    return BS_EXIT_OK;
}

static int run_and_finish(runner *R)
{
    bs_error err = { { 0 } };
    bs_obs obs;
    memset(&obs, 0, sizeof obs);
    double wall = 0.0, t_out = 0.0;
    install_signals();
    loop_end end = run_loop(R, &obs, &wall, &t_out, &err);
    int code = finish(R, end, &obs, wall, t_out, &err);
    restore_signals();
    return code;
}

static int fail(runner *R, const bs_error *err, int code)
{
    fprintf(stderr, "bonesim: %s\n", err->msg);
    runner_free(R);
    return code;
}

static int set_threads(runner *R, int threads)
{
    if (threads > 0) omp_set_num_threads(threads);
    R->threads = omp_get_max_threads();
    return R->threads;
}

static long steps_for(const bs_model *m, double days)
{
    return lround(days * 24.0 / m->dt_h);
}

int bs_cmd_run(const bs_cli_opts *o)
{
    runner R;
    runner_init(&R);
    bs_error err = { { 0 } };
    if (o->npos != 1) {
        fprintf(stderr, "bonesim run: missing SCENARIO (see bonesim run --help)\n");
        return BS_EXIT_USAGE;
    }
    bs_run_state *rs = &R.rs;
    if (bs_resolve_params(o, &R.reg, &R.ps, rs->scenario_path, sizeof rs->scenario_path, &err) != BS_OK)
        return fail(&R, &err, BS_EXIT_USAGE);
    long long replay_end = -1;
    if (o->replay) {
        if (o->ckpt_every > 0.0) {
            bs_fail(&err, BS_ERR_INVALID,
                    "--replay cannot be combined with --checkpoint-every (a resumed run "
                    "would not replay the later actions)");
            return fail(&R, &err, BS_EXIT_USAGE);
        }
        if (bs_action_log_read(o->replay, &R.log, &err) != BS_OK) return fail(&R, &err, BS_EXIT_USAGE);
        long long seed;
        bs_action_log_replay_plan(&R.log, &R.next_action, &seed, &replay_end);
        if (seed >= 0 && o->seed >= 0 && o->seed != seed && !o->quiet)
            fprintf(stderr, "bonesim: note: %s resets to seed %lld, which replaces --seed %lld\n", o->replay, seed,
                    o->seed);
        if (seed >= 0 && set_number(R.ps, "run.seed", (double)seed, o->replay, &err) != BS_OK)
            return fail(&R, &err, BS_EXIT_USAGE);
        if (replay_end >= 0 &&
                set_number(R.ps, "run.days", (double)replay_end * bs_param(R.ps, "run.dt_h") / 24.0, o->replay, &err) !=
                        BS_OK)
            return fail(&R, &err, BS_EXIT_USAGE);
    }
    snprintf(rs->version, sizeof rs->version, "%s", BS_VERSION);
    snprintf(rs->commit, sizeof rs->commit, "%s", BS_GIT_COMMIT);
    snprintf(rs->scenario_arg, sizeof rs->scenario_arg, "%s", o->pos[0]);
    bs_scenario_name(rs->scenario_path, rs->scenario, sizeof rs->scenario);
    rs->ckpt_every_d = o->ckpt_every > 0.0 ? o->ckpt_every : 0.0;
    rs->next_ckpt_d = rs->ckpt_every_d;
    set_threads(&R, o->threads);
    R.quiet = o->quiet;
    R.timings = o->timings;
    R.no_png = o->no_png;
    long long seed = (long long)bs_param(R.ps, "run.seed");
    if (o->out)
        snprintf(R.outdir, sizeof R.outdir, "%s", o->out);
    else
        snprintf(R.outdir, sizeof R.outdir, "out/%s-seed%lld", rs->scenario, seed);

    if (check_memory(R.ps, o->max_memory_mb, &err) != BS_OK) return fail(&R, &err, BS_EXIT_ERROR);
    uint8_t *classes = NULL;
    if (load_mask(R.ps, rs->scenario_path, &classes, &err) != BS_OK) return fail(&R, &err, BS_EXIT_USAGE);
    bs_status st = bs_model_create(&R.m, R.ps, classes, &err);
    free(classes);
    if (st != BS_OK) return fail(&R, &err, st == BS_ERR_NOMEM ? BS_EXIT_ERROR : BS_EXIT_USAGE);

    if (bs_output_open(&R.out, R.outdir, o->force, &err) != BS_OK) return fail(&R, &err, BS_EXIT_ERROR);
    snprintf(R.csv_path, sizeof R.csv_path, "%s/timeseries.csv", R.outdir);
    R.csv_hash = BS_FNV1A_INIT;
    if (csv_track(&R, &err) != BS_OK) return fail(&R, &err, BS_EXIT_ERROR);
    R.days = bs_param(R.ps, "run.days");
    bs_run_info info = { rs->scenario_arg, rs->scenario_path, R.threads, R.days };
    if (bs_output_manifest(&R.out, R.ps, &info, &err) != BS_OK) return fail(&R, &err, BS_EXIT_ERROR);
    R.steps = replay_end >= 0 ? (long)replay_end : steps_for(R.m, R.days);
    R.k0 = 0;
    if (R.next_action < R.log.n && R.log.a[R.log.n - 1].step > (uint64_t)R.steps && !R.quiet)
        fprintf(stderr, "bonesim: note: %s has actions after the run's last step %ld; they are not applied\n",
                o->replay, R.steps);
    int code = run_and_finish(&R);
    runner_free(&R);
    return code;
}

/* ---- resume ------------------------------------------------------------------------- */

static void dir_of(const char *path, char *out, size_t n)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        snprintf(out, n, ".");
    else if (slash == path)
        snprintf(out, n, "/");
    else
        snprintf(out, n, "%.*s", (int)(slash - path), path);
}

static int same_dir(const char *a, const char *b)
{
    struct stat sa, sb;
    return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

/* Does the first `len` bytes of the file at fp hash to `hash`? */
static int prefix_matches(FILE *fp, const char *path, long long len, uint64_t hash)
{
    struct stat sb;
    if (fstat(fileno(fp), &sb) != 0 || (long long)sb.st_size < len) return 0;
    uint64_t h = BS_FNV1A_INIT;
    bs_error e;
    return hash_range(fileno(fp), path, 0, len, &h, &e) == BS_OK && h == hash;
}

/* Continuing in the checkpoint's own folder: the CSV is cut back to the
 * rows it had when the checkpoint was taken (a crashed run may have
 * written more), after checking they are the rows of this run. */
static bs_status reopen_in_place(runner *R, bs_error *err)
{
    FILE *fp = fopen(R->csv_path, "r+");
    if (!fp)
        return bs_fail(err, BS_ERR_IO, "%s: cannot open to continue (%s); resume into a new folder with --out DIR",
                R->csv_path, strerror(errno));
    if (!prefix_matches(fp, R->csv_path, R->rs.csv_bytes, R->rs.csv_hash)) {
        fclose(fp);
        return bs_fail(err, BS_ERR_INVALID,
                "%s does not hold the rows this checkpoint was taken after (edited, or from another run); "
                "resume into a new folder with --out DIR",
                R->csv_path);
    }
    if (ftruncate(fileno(fp), (off_t)R->rs.csv_bytes) != 0 || fseeko(fp, 0, SEEK_END) != 0) {
        int e = errno;
        fclose(fp);
        return bs_fail(err, BS_ERR_IO, "%s: cannot cut back to the checkpoint (%s)", R->csv_path, strerror(e));
    }
    R->out.csv = fp;
    snprintf(R->out.dir, sizeof R->out.dir, "%s", R->outdir);
    R->csv_len = R->rs.csv_bytes;
    R->csv_hash = R->rs.csv_hash;
    return BS_OK;
}

/* A new folder: copy the rows before the checkpoint from the original
 * folder's CSV when it is there and matches, so the new CSV is the whole
 * series; otherwise the new CSV starts at the checkpoint (and says so). */
static bs_status open_new_folder(runner *R, const char *src_dir, int force, bs_error *err)
{
    bs_status st = bs_output_open(&R->out, R->outdir, force, err);
    if (st != BS_OK) return st;
    R->csv_len = 0;
    R->csv_hash = BS_FNV1A_INIT;
    char src[4200];
    snprintf(src, sizeof src, "%s/timeseries.csv", src_dir);
    FILE *in = fopen(src, "rb");
    int copied = 0;
    if (in && prefix_matches(in, src, R->rs.csv_bytes, R->rs.csv_hash)) {
        if (ftruncate(fileno(R->out.csv), 0) != 0 || fseeko(R->out.csv, 0, SEEK_SET) != 0)
            st = bs_fail(err, BS_ERR_IO, "%s: cannot write (%s)", R->csv_path, strerror(errno));
        char buf[1 << 14];
        long long left = R->rs.csv_bytes;
        while (st == BS_OK && left > 0) {
            size_t want = left > (long long)sizeof buf ? sizeof buf : (size_t)left;
            ssize_t got = pread(fileno(in), buf, want, (off_t)(R->rs.csv_bytes - left));
            if (got <= 0 || fwrite(buf, 1, (size_t)got, R->out.csv) != (size_t)got)
                st = bs_fail(err, BS_ERR_IO, "%s: cannot copy the rows before the checkpoint", R->csv_path);
            else
                left -= got;
        }
        if (st == BS_OK && fflush(R->out.csv) != 0)
            st = bs_fail(err, BS_ERR_IO, "%s: write failed (%s)", R->csv_path, strerror(errno));
        copied = 1;
    }
    if (in) fclose(in);
    if (st == BS_OK) st = csv_track(R, err);
    if (st == BS_OK && !copied && !R->quiet)
        fprintf(stderr, "bonesim: note: %s is missing or does not match the checkpoint; %s starts at day %.3f\n", src,
                R->csv_path, bs_model_time_days(R->m));
    return st;
}

int bs_cmd_resume(const bs_cli_opts *o)
{
    runner R;
    runner_init(&R);
    bs_error err = { { 0 } };
    if (o->npos != 1) {
        fprintf(stderr, "bonesim resume: missing CHECKPOINT (see bonesim resume --help)\n");
        return BS_EXIT_USAGE;
    }
    const char *ckpt = o->pos[0];
    bs_ckpt_reader *rd = NULL;
    if (bs_ckpt_open(&rd, ckpt, &err) != BS_OK) return fail(&R, &err, BS_EXIT_ERROR);
    R.reg = bs_catalog_registry(&err);
    bs_status st = R.reg ? bs_model_load_params(rd, R.reg, &R.ps, &R.rs, &err) : BS_ERR_INTERNAL;
    bs_run_state *rs = &R.rs;
    if (st == BS_OK && strcmp(rs->version, BS_VERSION) != 0)
        st = bs_fail(&err, BS_ERR_INVALID,
                "%s was written by bonesim %s; this is bonesim %s (resume it with the version that wrote it)", ckpt,
                rs->version, BS_VERSION);
    if (st != BS_OK) {
        bs_ckpt_close(rd);
        return fail(&R, &err, BS_EXIT_ERROR);
    }
    if (strcmp(rs->commit, BS_GIT_COMMIT) != 0 && !o->quiet)
        fprintf(stderr,
                "bonesim: note: %s was written by commit %s, this is %s; results may differ from an "
                "uninterrupted run if the model changed in between\n",
                ckpt, rs->commit, BS_GIT_COMMIT);

    /* What only the loop reads may change: the end, the output intervals. */
    double old_csv = bs_param(R.ps, "run.csv_every_d"), old_png = bs_param(R.ps, "run.png_every_d");
    if (o->days >= 0.0) st = set_number(R.ps, "run.days", o->days, "--days", &err);
    if (st == BS_OK && o->csv_every >= 0.0) st = set_number(R.ps, "run.csv_every_d", o->csv_every, "--csv-every", &err);
    if (st == BS_OK && o->png_every >= 0.0) st = set_number(R.ps, "run.png_every_d", o->png_every, "--png-every", &err);
    if (st == BS_OK) st = check_memory(R.ps, o->max_memory_mb, &err);
    if (st == BS_OK) st = bs_model_load(rd, R.ps, &R.m, &err);
    bs_ckpt_close(rd);
    if (st != BS_OK) return fail(&R, &err, BS_EXIT_ERROR);

    bs_model *m = R.m;
    double t = bs_model_time_days(m);
    R.days = bs_param(R.ps, "run.days");
    R.steps = steps_for(m, R.days);
    R.k0 = m->step - m->step0; /* steps since day 0 (after any burn-in), as the loop counts them */
    if (R.steps < 0 || (uint64_t)R.steps < R.k0) {
        bs_fail(&err, BS_ERR_INVALID,
                "%s is at day %.3f: --days %g would end before it (--days is the total simulated time, not the "
                "time to add)",
                ckpt, t, R.days);
        return fail(&R, &err, BS_EXIT_USAGE);
    }
    /* A changed interval restarts its schedule at the checkpoint. */
    if (bs_param(R.ps, "run.csv_every_d") != old_csv) rs->next_csv_d = t;
    if (bs_param(R.ps, "run.png_every_d") != old_png) rs->next_png_d = t;
    if (o->ckpt_every >= 0.0 && o->ckpt_every != rs->ckpt_every_d) {
        rs->ckpt_every_d = o->ckpt_every;
        rs->next_ckpt_d = t + o->ckpt_every;
    }
    set_threads(&R, o->threads);
    R.quiet = o->quiet;
    R.timings = o->timings;

    char src_dir[4096];
    dir_of(ckpt, src_dir, sizeof src_dir);
    int in_place = !o->out || same_dir(o->out, src_dir);
    snprintf(R.outdir, sizeof R.outdir, "%s", in_place ? src_dir : o->out);
    snprintf(R.csv_path, sizeof R.csv_path, "%s/timeseries.csv", R.outdir);
    st = in_place ? reopen_in_place(&R, &err) : open_new_folder(&R, src_dir, o->force, &err);
    if (st != BS_OK) return fail(&R, &err, BS_EXIT_ERROR);
    bs_run_info info = { rs->scenario_arg, rs->scenario_path, R.threads, R.days };
    if (bs_output_manifest(&R.out, R.ps, &info, &err) != BS_OK) return fail(&R, &err, BS_EXIT_ERROR);
    snprintf(R.last_ckpt, sizeof R.last_ckpt, "%s", ckpt);
    int code = run_and_finish(&R);
    runner_free(&R);
    return code;
}
