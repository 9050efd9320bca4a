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
#include <dirent.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "actions.h"
#include "catalog.h"
#include "cliargs.h"
#include "config.h"
#include "fsutil.h"
#include "model.h"
#include "output.h"
#include "render.h"
#include "session.h"
#include "spatial_output.h"
#include "version.h"
#include "video.h"

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
    O_REPLAY,
    O_SPATIAL,
    O_CELLS_CSV,
    O_REGION,
    O_VIDEO,
    O_VIDEO_EVERY,
    O_VIDEO_FPS
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
    { "--no-png", O_NOPNG, 0, FOR_RUN | FOR_RESUME, "" },
    { "--replay", O_REPLAY, 1, FOR_RUN, "" },
    { "--spatial-every", O_SPATIAL, 1, FOR_RUN | FOR_RESUME | FOR_PARAMS, "" },
    { "--cells-csv", O_CELLS_CSV, 0, FOR_RUN | FOR_RESUME, "" },
    { "--png-region", O_REGION, 1, FOR_RUN | FOR_RESUME, "" },
    { "--video", O_VIDEO, 1, FOR_RUN,
            "a video is written in one piece by one run (give --video to the run, or run the resumed part anew)" },
    { "--video-every", O_VIDEO_EVERY, 1, FOR_RUN, "--video is for bonesim run" },
    { "--video-fps", O_VIDEO_FPS, 1, FOR_RUN, "--video is for bonesim run" },
};

/* "X0,Y0,X1,Y1": four decimal numbers >= 0, X0 < X1, Y0 < Y1. */
static bs_status parse_region(const char *v, double r[4], bs_error *err)
{
    char buf[256];
    if (strlen(v) >= sizeof buf)
        return bs_fail(err, BS_ERR_INVALID, "--png-region '%.40s...' is too long (valid: X0,Y0,X1,Y1 in um)", v);
    snprintf(buf, sizeof buf, "%s", v);
    int n = 0;
    char *p = buf;
    while (n < 5) {
        char *c = strchr(p, ',');
        if (c) *c = '\0';
        if (n < 4 && (!bs_arg_decimal(p, &r[n]) || r[n] < 0.0)) n = 5;
        n++;
        if (!c) break;
        p = c + 1;
    }
    if (n != 4)
        return bs_fail(err, BS_ERR_INVALID,
                "--png-region '%s' is not four numbers X0,Y0,X1,Y1 (um from the lattice's top-left corner, each >= "
                "0), e.g. --png-region 500,500,1500,1200",
                v);
    if (!(r[0] < r[2]) || !(r[1] < r[3]))
        return bs_fail(err, BS_ERR_INVALID,
                "--png-region '%s': the corners must be top-left then bottom-right (valid: X0 < X1 and Y0 < Y1)", v);
    return BS_OK;
}

bs_status bs_png_region_sites(const bs_cli_opts *o, int w, int h, double h_um, int region[4], bs_error *err)
{
    memset(region, 0, 4 * sizeof *region);
    if (!o->has_region) return BS_OK;
    const double *r = o->png_region_um;
    double wu = w * h_um, hu = h * h_um;
    if (r[2] > wu + 1e-9 || r[3] > hu + 1e-9)
        return bs_fail(err, BS_ERR_INVALID,
                "--png-region %g,%g,%g,%g reaches outside the lattice, which is %g x %g um (%d x %d sites of %g "
                "um; valid: 0 <= X0 < X1 <= %g, 0 <= Y0 < Y1 <= %g)",
                r[0], r[1], r[2], r[3], wu, hu, w, h, h_um, wu, hu);
    region[0] = (int)floor(r[0] / h_um + 1e-9);
    region[1] = (int)floor(r[1] / h_um + 1e-9);
    region[2] = (int)ceil(r[2] / h_um - 1e-9);
    region[3] = (int)ceil(r[3] / h_um - 1e-9);
    if (region[2] > w) region[2] = w;
    if (region[3] > h) region[3] = h;
    if (region[2] <= region[0]) region[2] = region[0] + 1;
    if (region[3] <= region[1]) region[3] = region[1] + 1;
    return BS_OK;
}

static bs_status parse_number(const char *opt, const char *s, double lo, double hi, double *out, bs_error *err)
{
    double v = 0;
    if (!bs_arg_decimal(s, &v) || v < lo || v > hi)
        return bs_fail(err, BS_ERR_INVALID, "%s '%s' is not a number in range (valid: %g .. %g)", opt, s, lo, hi);
    *out = v;
    return BS_OK;
}

bs_status bs_cli_parse(bs_cmd cmd, int argc, char **argv, bs_cli_opts *o, bs_error *err)
{
    static const char *const cmd_names[] = { "run", "resume", "params" };
    unsigned mask = cmd == BS_CMD_RUN ? FOR_RUN : cmd == BS_CMD_RESUME ? FOR_RESUME : FOR_PARAMS;
    memset(o, 0, sizeof *o);
    o->days = o->csv_every = o->png_every = o->ckpt_every = o->max_memory_mb = o->spatial_every = -1.0;
    o->video_every = -1.0;
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
        case O_SPATIAL: st = parse_number(a, v, 0.0, 36525.0, &o->spatial_every, err); break;
        case O_CELLS_CSV: o->cells_csv = 1; break;
        case O_REGION:
            st = parse_region(v, o->png_region_um, err);
            o->has_region = st == BS_OK;
            break;
        case O_VIDEO:
            o->video = v;
            st = bs_video_check(v, err);
            break;
        case O_VIDEO_EVERY: st = parse_number(a, v, 0.0, 36525.0, &o->video_every, err); break;
        case O_VIDEO_FPS:
            st = parse_number(a, v, 1.0, 60.0, &x, err);
            if (st == BS_OK && x != floor(x))
                st = bs_fail(err, BS_ERR_INVALID, "--video-fps '%s' must be a whole number (valid: 1 .. 60)", v);
            o->video_fps = (int)x;
            break;
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
    if (bs_is_file(arg)) {
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

static bs_status take_mask_size(bs_paramset *ps, const char *scenario_path, bs_error *err);

/* run.species_timescale = mouse: the preset scenarios/presets/mouse.ini
 * (found like a scenario: BONESIM_SCENARIOS, BONESIM_DATA, ./scenarios, the
 * installed and build-tree folders) fills every parameter the scenario, its
 * includes and --set left unset. human: nothing changes. */
static bs_status apply_timescale(bs_paramset *ps, bs_error *err)
{
    const char *ts = bs_param_str(ps, "run.species_timescale");
    if (strcmp(ts, "human") == 0) return BS_OK;
    char name[64], path[4096];
    snprintf(name, sizeof name, "presets/%s", ts);
    if (!bs_scenario_find(name, path, sizeof path))
        return bs_fail(err, BS_ERR_INVALID,
                "run.species_timescale = %s needs the preset %s.ini in a scenario folder (see bonesim scenarios; set "
                "BONESIM_DATA or BONESIM_SCENARIOS)",
                ts, name);
    return bs_config_apply_preset(ps, path, NULL, err);
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
    if (st == BS_OK && o->spatial_every >= 0.0)
        st = set_number(ps, "run.spatial_every_d", o->spatial_every, "--spatial-every", err);
    if (st == BS_OK) st = apply_timescale(ps, err);
    if (st == BS_OK) st = take_mask_size(ps, scenario_path, err);
    if (st != BS_OK) {
        bs_paramset_destroy(ps);
        bs_registry_destroy(reg);
        return st;
    }
    *reg_out = reg;
    *ps_out = ps;
    return BS_OK;
}

/* The line of `path` that sets [section] key, 0 if none (only the file
 * itself, not its includes: enough to point at the usual place). */
static int find_key_line(const char *path, const char *section, const char *key)
{
    FILE *fp = path[0] ? fopen(path, "r") : NULL;
    if (!fp) return 0;
    char line[4096], cur[256] = "";
    int n = 0, found = 0;
    size_t kl = strlen(key);
    while (!found && fgets(line, sizeof line, fp)) {
        n++;
        char *p = line;
        while (*p == ' ' || *p == '\t') p++;
        if (*p == '[') {
            char *e = strchr(p, ']');
            if (e) snprintf(cur, sizeof cur, "%.*s", (int)(e - p - 1), p + 1);
            continue;
        }
        if (strcmp(cur, section) == 0 && strncmp(p, key, kl) == 0) {
            char *q = p + kl;
            while (*q == ' ' || *q == '\t') q++;
            if (*q == '=' || *q == ':') found = n;
        }
    }
    fclose(fp);
    return found;
}

/* Where an interval parameter came from, for its error message. */
static void interval_origin(const bs_cli_opts *o, const char *name, double cli, const char *opt,
        const char *scenario_path, char *buf, size_t n)
{
    if (cli >= 0.0) {
        snprintf(buf, n, "%s %g", opt, cli);
        return;
    }
    size_t nl = strlen(name);
    for (int k = o ? o->nsets - 1 : -1; k >= 0; k--)
        if (strncmp(o->sets[k], name, nl) == 0 && o->sets[k][nl] == '=') {
            snprintf(buf, n, "--set %s", o->sets[k]);
            return;
        }
    const char *dot = strchr(name, '.');
    char section[64];
    snprintf(section, sizeof section, "%.*s", (int)(dot - name), name);
    int line = find_key_line(scenario_path, section, dot + 1);
    if (line > 0)
        snprintf(buf, n, "%s:%d: %s", scenario_path, line, name);
    else
        snprintf(buf, n, "%s%s%s", scenario_path, scenario_path[0] ? ": " : "", name);
}

/* An output interval shorter than one step cannot be honoured (the
 * schedule would have to advance by less than the rounding of the time),
 * and below the rounding step it never advances at all: a run that spins
 * forever. So an interval is 0 (none in between) or at least run.dt_h. */
static bs_status check_interval(double every, double dt_h, const char *origin, bs_error *err)
{
    double dt_d = dt_h / 24.0;
    if (every == 0.0 || every >= dt_d * (1.0 - 1e-12)) return BS_OK;
    return bs_fail(err, BS_ERR_INVALID,
            "%s: an output interval of %g days is shorter than one step (run.dt_h = %g h = %.6g days); "
            "valid: 0 (none between the first and the last) or %.6g .. 36525 days",
            origin, every, dt_h, dt_d, dt_d);
}

/* The three output intervals of a run: CSV and PNG (parameters, from the
 * command line, --set or the scenario file) and checkpoints (command line;
 * ckpt_every < 0: not given). */
bs_status bs_check_intervals(
        const bs_cli_opts *o, const bs_paramset *ps, double ckpt_every, const char *scenario_path, bs_error *err)
{
    double dt_h = bs_param(ps, "run.dt_h");
    char origin[8400];
    interval_origin(o, "run.csv_every_d", o ? o->csv_every : -1.0, "--csv-every", scenario_path, origin, sizeof origin);
    bs_status st = check_interval(bs_param(ps, "run.csv_every_d"), dt_h, origin, err);
    if (st != BS_OK) return st;
    interval_origin(o, "run.png_every_d", o ? o->png_every : -1.0, "--png-every", scenario_path, origin, sizeof origin);
    st = check_interval(bs_param(ps, "run.png_every_d"), dt_h, origin, err);
    if (st != BS_OK || ckpt_every < 0.0) return st;
    snprintf(origin, sizeof origin, "--checkpoint-every %g", ckpt_every);
    return check_interval(ckpt_every, dt_h, origin, err);
}

/* The path of geometry.mask_png (relative to the scenario file's folder). */
static void mask_path(const bs_paramset *ps, const char *scenario_path, char *path, size_t n)
{
    const char *mask = bs_param_str(ps, "geometry.mask_png");
    if (mask[0] != '/' && scenario_path[0]) {
        const char *slash = strrchr(scenario_path, '/');
        int dlen = slash ? (int)(slash - scenario_path) : 1;
        snprintf(path, n, "%.*s/%s", dlen, slash ? scenario_path : ".", mask);
    } else {
        snprintf(path, n, "%s", mask);
    }
}

/* With geometry.source = mask and neither lattice side set (by the
 * scenario, its includes or --set), the lattice takes the mask's size, read
 * from the PNG header alone. */
static bs_status take_mask_size(bs_paramset *ps, const char *scenario_path, bs_error *err)
{
    if (strcmp(bs_param_str(ps, "geometry.source"), "mask") != 0 || !bs_param_str(ps, "geometry.mask_png")[0])
        return BS_OK;
    const bs_registry *reg = bs_paramset_registry(ps);
    if (bs_param_is_set(ps, (size_t)bs_registry_find(reg, "lattice.width_sites")) ||
            bs_param_is_set(ps, (size_t)bs_registry_find(reg, "lattice.height_sites")))
        return BS_OK;
    char path[8300];
    mask_path(ps, scenario_path, path, sizeof path);
    int w, h;
    bs_status st = bs_mask_size(path, &w, &h, err);
    if (st == BS_OK) st = set_number(ps, "lattice.width_sites", w, path, err);
    if (st == BS_OK) st = set_number(ps, "lattice.height_sites", h, path, err);
    return st;
}

/* Loads the PNG mask named by geometry.mask_png when geometry.source =
 * mask; *classes stays NULL otherwise. The decode counts against
 * --max-memory-mb (max_mb > 0). */
static bs_status load_mask(
        const bs_paramset *ps, const char *scenario_path, double max_mb, uint8_t **classes, bs_error *err)
{
    *classes = NULL;
    if (strcmp(bs_param_str(ps, "geometry.source"), "mask") != 0) return BS_OK;
    if (!bs_param_str(ps, "geometry.mask_png")[0])
        return bs_fail(err, BS_ERR_INVALID, "geometry.source = mask needs geometry.mask_png");
    char path[8300];
    mask_path(ps, scenario_path, path, sizeof path);
    int w = (int)bs_param(ps, "lattice.width_sites"), h = (int)bs_param(ps, "lattice.height_sites");
    return bs_mask_load_limited(path, &w, &h, classes, max_mb > 0.0 ? max_mb * 1048576.0 : 0.0, err);
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

static void print_resume_hint(const bs_session *R, const char *what)
{
    if (R->last_ckpt[0])
        fprintf(stderr, "  %s; the last checkpoint is %s\n  continue with: bonesim resume %s --days %g\n", what,
                R->last_ckpt, R->last_ckpt, R->days);
    else
        fprintf(stderr, "  %s; no checkpoint was written (use --checkpoint-every DAYS to be able to resume)\n", what);
}

/* A full agent store is never silent (issue 13 item 9): cells asked for
 * that found no room, on stderr even with --quiet. */
static void print_refusals(const bs_model *m, const char *when)
{
    fprintf(stderr,
            "bonesim: warning: %llu cell placement%s refused for want of room %s (no free marrow site where "
            "they were to go; the store holds one cell per site, %d x %d here): lower the scenario's initial "
            "counts (e.g. dtc.seed_lesion_n) or use a larger lattice; counted in the CSV column "
            "store_full_refusals and the manifest\n",
            (unsigned long long)m->store.full_refusals, m->store.full_refusals == 1 ? "" : "s", when, m->lat.w,
            m->lat.h);
}

/* Text in images falls back to the bitmap font: say so once per run
 * (unless nothing is drawn or the run is quiet). */
static void print_font_note(int quiet)
{
    const char *note = bs_text_font_note();
    if (note && !quiet) fprintf(stderr, "bonesim: note: %s\n", note);
}

static int finish(bs_session *R, int timings, bs_loop_end end, double wall, bs_error *err)
{
    long vframes = bs_video_frames(R->video);
    char vpath[4096];
    snprintf(vpath, sizeof vpath, "%s", R->video ? bs_video_path(R->video) : "");
    bs_model *m = R->m;
    const char *name = R->rs.scenario;
    const bs_obs *obs = &R->obs;
    double t_out = R->t_out_s;
    int sig = bs_session_stop_signal();
    if (end == BS_LOOP_FAILED) {
        fprintf(stderr, "bonesim: %s\n", err->msg);
        print_resume_hint(R, "rows, snapshots and checkpoints finished before the error are complete");
        return BS_EXIT_ERROR;
    }
    bs_status st = bs_session_finish(R, err);
    if (st != BS_OK) {
        fprintf(stderr, "bonesim: %s\n", err->msg);
        return BS_EXIT_ERROR;
    }
    if (end == BS_LOOP_STOPPED) {
        int code = sig == SIGTERM ? BS_EXIT_SIGTERM : BS_EXIT_SIGINT;
        fprintf(stderr,
                "bonesim: stopped by %s at day %.3f; CSV flushed, manifest and checkpoint written:\n  %s\n"
                "  continue with: bonesim resume %s --days %g\n",
                sig == SIGTERM ? "SIGTERM" : "SIGINT", bs_model_time_days(m), R->last_ckpt, R->last_ckpt, R->days);
        return code;
    }
    if (m->store.full_refusals > 0) print_refusals(m, "since day 0");
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
        printf("  oxygen         median marrow pO2 %.1f mmHg (5th percentile %.1f; perisinusoidal %.1f, endosteal "
               "%.1f)\n",
                obs->o2_median_mmHg, obs->sp.o2_p5_mmHg, obs->sp.o2_perisinusoidal_mmHg, obs->sp.o2_endosteal_mmHg);
        if (obs->n_ctc_arrived > 0)
            printf("  dissemination  %ld CTCs arrived, %ld crossed into the marrow\n", obs->n_ctc_arrived,
                    obs->n_extravasated);
        if (obs->n_dtc > 0 || obs->n_ctc_arrived > 0)
            printf("  tumour         %ld cells (%ld dormant, %ld cycling; %ld settled on the endosteum, %ld next to "
                   "vessels), %.3g um^2\n",
                    obs->n_dtc, obs->n_dtc_dormant, obs->n_dtc_proliferating, obs->n_dtc_endosteal,
                    obs->n_dtc_perivascular, obs->tumour_area_um2);
        if (obs->n_tcells + obs->n_nk + obs->n_mdsc > 0)
            printf("  immune         %ld CD8 T cells (%ld activated), %ld NK cells, %ld MDSCs\n", obs->n_tcells,
                    obs->n_tcells_active, obs->n_nk, obs->n_mdsc);
        printf("  outputs        %s/timeseries.csv, manifest.json, %lld PNG snapshot%s\n", R->outdir,
                (long long)R->rs.png_count, R->rs.png_count == 1 ? "" : "s");
        if (vpath[0]) printf("  video          %s, %ld frames\n", vpath, vframes);
        if (R->nckpt) printf("  checkpoints    %ld written, the last %s\n", R->nckpt, R->last_ckpt);
        if (m->store.full_refusals > 0)
            printf("  refused        %llu cell placement%s for want of room (store_full_refusals)\n",
                    (unsigned long long)m->store.full_refusals, m->store.full_refusals == 1 ? "" : "s");
    }
    if (timings) {
        double sites = (double)m->lat.w * m->lat.h;
        printf("timings (%d threads): fields %.2f s, agents %.2f s, output %.2f s, total %.2f s\n", R->threads,
                m->t_fields_s, m->t_agents_s, t_out, wall);
        printf("  field solver   %.3g site-updates/s (%.3g relaxations per site over %.0f sites x %d fields)\n",
                m->t_fields_s > 0 ? (double)m->field_site_updates / m->t_fields_s : 0.0,
                (double)m->field_site_updates / sites, sites, BS_FIELD_COUNT);
        if (m->t_fields_team_s > 0)
            printf("  field phase    threads idle %.1f%% of it, waiting for the last field (whole fields per thread)\n",
                    100.0 * m->t_fields_idle_s / m->t_fields_team_s);
        /* where the solver's work goes: the fields that were solved, the
         * largest first (relaxations, solves done, solves skipped as settled) */
        int ord[BS_FIELD_COUNT] = { 0 };
        for (int f = 0; f < BS_FIELD_COUNT; f++) {
            int k = f;
            while (k > 0 && m->field_updates_by[ord[k - 1]] < m->field_updates_by[f]) {
                ord[k] = ord[k - 1];
                --k;
            }
            ord[k] = f;
        }
        for (int k = 0; k < BS_FIELD_COUNT; k++) {
            int f = ord[k];
            if (m->field_updates_by[f] == 0 && m->field_solves_by[f] == 0) continue;
            uint32_t solves = m->field_solves_by[f];
            printf("  %-14s %4.1f%% of relaxations; %u solves of %.2f sweeps (%.2f lattices relaxed) each; %u "
                   "skipped\n",
                    m->fields[f].spec.name,
                    m->field_site_updates ? 100.0 * (double)m->field_updates_by[f] / (double)m->field_site_updates
                                          : 0.0,
                    solves, solves ? (double)m->field_sweeps_by[f] / solves : 0.0,
                    solves ? (double)m->field_updates_by[f] / sites / solves : 0.0, m->field_skips_by[f]);
        }
        printf("  agent loop     %.3g agent-updates/s, %.3g site-visits/s (%llu agent updates)\n",
                m->t_agents_s > 0 ? (double)m->agent_updates / m->t_agents_s : 0.0,
                m->t_agents_s > 0 ? sites * (double)(m->step - m->step0 - R->k0) / m->t_agents_s : 0.0,
                (unsigned long long)m->agent_updates);
    }
    return BS_EXIT_OK;
}

static int run_and_finish(bs_session *R, int timings)
{
    bs_error err = { { 0 } };
    double wall = 0.0;
    bs_loop_end end = bs_session_run(R, &wall, &err);
    return finish(R, timings, end, wall, &err);
}

static int fail(bs_session *R, const bs_error *err, int code)
{
    fprintf(stderr, "bonesim: %s\n", err->msg);
    bs_session_abandon(R);
    /* Stopped by a signal before the loop began: nothing new to save (the
     * state is the scenario's start or the checkpoint given). */
    int sig = bs_session_stop_signal();
    if (sig) code = sig == SIGTERM ? BS_EXIT_SIGTERM : BS_EXIT_SIGINT;
    bs_session_free(R);
    return code;
}

static int set_threads(bs_session *R, int threads)
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
    bs_session_signals();
    bs_session R;
    bs_session_init(&R);
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
        if (bs_action_log_read(o->replay, &R.replay, &err) != BS_OK) return fail(&R, &err, BS_EXIT_USAGE);
        long long seed;
        bs_action_log_replay_plan(&R.replay, &R.next_action, &seed, &replay_end);
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
    if (bs_check_intervals(o, R.ps, o->ckpt_every, rs->scenario_path, &err) != BS_OK)
        return fail(&R, &err, BS_EXIT_USAGE);
    if (bs_spatial_check(R.ps, o->cells_csv, &err) != BS_OK) return fail(&R, &err, BS_EXIT_USAGE);
    snprintf(rs->version, sizeof rs->version, "%s", BS_VERSION);
    snprintf(rs->commit, sizeof rs->commit, "%s", BS_GIT_COMMIT);
    snprintf(rs->scenario_arg, sizeof rs->scenario_arg, "%s", o->pos[0]);
    bs_scenario_name(rs->scenario_path, rs->scenario, sizeof rs->scenario);
    rs->ckpt_every_d = o->ckpt_every > 0.0 ? o->ckpt_every : 0.0;
    rs->next_ckpt_d = rs->ckpt_every_d;
    set_threads(&R, o->threads);
    R.quiet = o->quiet;
    R.progress = !o->quiet;
    R.no_png = o->no_png;
    rs->no_png = o->no_png;
    long long seed = (long long)bs_param(R.ps, "run.seed");
    if (o->out)
        snprintf(R.outdir, sizeof R.outdir, "%s", o->out);
    else
        snprintf(R.outdir, sizeof R.outdir, "out/%s-seed%lld", rs->scenario, seed);

    if (check_memory(R.ps, o->max_memory_mb, &err) != BS_OK) return fail(&R, &err, BS_EXIT_ERROR);
    uint8_t *classes = NULL;
    bs_status mst = load_mask(R.ps, rs->scenario_path, o->max_memory_mb, &classes, &err);
    if (mst != BS_OK) return fail(&R, &err, mst == BS_ERR_NOMEM ? BS_EXIT_ERROR : BS_EXIT_USAGE);
    bs_status st = bs_model_create(&R.m, R.ps, classes, &err);
    free(classes);
    if (st != BS_OK) return fail(&R, &err, st == BS_ERR_NOMEM ? BS_EXIT_ERROR : BS_EXIT_USAGE);
    if (R.m->store.full_refusals > 0) print_refusals(R.m, "at set-up");
    /* A replayed inject off the lattice is an error of the log, found
     * before any output is written, not a failure at its step. */
    for (size_t k = 0; k < R.replay.n; k++) {
        const bs_action *a = &R.replay.a[k];
        if (a->kind == BS_ACT_INJECT && (a->x < 0 || a->y < 0 || a->x >= R.m->lat.w || a->y >= R.m->lat.h)) {
            bs_fail(&err, BS_ERR_INVALID,
                    "%s:%d: inject at (%d, %d) is outside the %d x %d lattice (valid: x 0 .. %d, y 0 .. %d)",
                    R.replay.path, a->line, a->x, a->y, R.m->lat.w, R.m->lat.h, R.m->lat.w - 1, R.m->lat.h - 1);
            return fail(&R, &err, BS_EXIT_USAGE);
        }
    }

    if (bs_png_region_sites(o, R.m->lat.w, R.m->lat.h, R.m->lat.h_um, R.png_region, &err) != BS_OK)
        return fail(&R, &err, BS_EXIT_USAGE);
    if (o->video) {
        double every = o->video_every >= 0.0 ? o->video_every : bs_param(R.ps, "run.png_every_d");
        const char *origin = o->video_every >= 0.0 ? "--video-every" : "--video (a frame every run.png_every_d)";
        if (every <= 0.0) {
            bs_fail(&err, BS_ERR_INVALID,
                    "%s: a video needs frames between the first and the last: give --video-every DAYS (or "
                    "--png-every DAYS), at least one step (run.dt_h = %g h)",
                    o->video, bs_param(R.ps, "run.dt_h"));
            return fail(&R, &err, BS_EXIT_USAGE);
        }
        if (check_interval(every, bs_param(R.ps, "run.dt_h"), origin, &err) != BS_OK)
            return fail(&R, &err, BS_EXIT_USAGE);
        R.video_every_d = every;
        R.next_video_d = 0.0;
    }
    print_font_note(o->quiet);
    if (bs_session_folder(&R, o->force, 0, &err) != BS_OK) return fail(&R, &err, BS_EXIT_ERROR);
    if (o->video && bs_video_open(&R.video, o->video, o->video_fps > 0 ? o->video_fps : 10, &err) != BS_OK)
        return fail(&R, &err, BS_EXIT_USAGE);
    if (bs_session_csv_new(&R, o->force, &err) != BS_OK) return fail(&R, &err, BS_EXIT_ERROR);
    R.days = bs_param(R.ps, "run.days");
    if (bs_session_manifest(&R, &err) != BS_OK) return fail(&R, &err, BS_EXIT_ERROR);
    if (bs_spatial_open(&R.sp, R.outdir, NULL, R.m, o->cells_csv, o->quiet, &err) != BS_OK)
        return fail(&R, &err, BS_EXIT_ERROR);
    R.steps = replay_end >= 0 ? (long)replay_end : steps_for(R.m, R.days);
    R.k0 = 0;
    if (R.next_action < R.replay.n && R.replay.a[R.replay.n - 1].step > (uint64_t)R.steps && !R.quiet)
        fprintf(stderr, "bonesim: note: %s has actions after the run's last step %ld; they are not applied\n",
                o->replay, R.steps);
    int code = run_and_finish(&R, o->timings);
    bs_session_free(&R);
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

int bs_cmd_resume(const bs_cli_opts *o)
{
    bs_session_signals();
    bs_session R;
    bs_session_init(&R);
    bs_error err = { { 0 } };
    if (o->npos != 1) {
        fprintf(stderr, "bonesim resume: missing CHECKPOINT (see bonesim resume --help)\n");
        return BS_EXIT_USAGE;
    }
    const char *ckpt = o->pos[0];
    bs_ckpt_reader *rd = NULL;
    if (bs_ckpt_open(&rd, ckpt, &err) != BS_OK) return fail(&R, &err, BS_EXIT_ERROR);
    R.reg = bs_catalog_registry(&err);
    bs_status st = R.reg ? bs_session_load_params(&R, rd, &err) : BS_ERR_INTERNAL;
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
    if (st == BS_OK && o->spatial_every >= 0.0)
        st = set_number(R.ps, "run.spatial_every_d", o->spatial_every, "--spatial-every", &err);
    if (st == BS_OK &&
            (bs_check_intervals(o, R.ps, o->ckpt_every, ckpt, &err) != BS_OK ||
                    bs_spatial_check(R.ps, o->cells_csv, &err) != BS_OK)) {
        bs_ckpt_close(rd);
        return fail(&R, &err, BS_EXIT_USAGE);
    }
    if (st == BS_OK) st = check_memory(R.ps, o->max_memory_mb, &err);
    if (st == BS_OK) st = bs_session_load_model(&R, rd, &err);
    bs_ckpt_close(rd);
    if (st != BS_OK) return fail(&R, &err, BS_EXIT_ERROR);

    bs_model *m = R.m;
    double t = bs_model_time_days(m);
    R.days = bs_param(R.ps, "run.days");
    R.steps = steps_for(m, R.days);
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
    R.progress = !o->quiet;
    /* --no-png holds for the whole run, resumed or not. */
    if (o->no_png) rs->no_png = 1;
    R.no_png = rs->no_png;

    if (bs_png_region_sites(o, R.m->lat.w, R.m->lat.h, R.m->lat.h_um, R.png_region, &err) != BS_OK)
        return fail(&R, &err, BS_EXIT_USAGE);
    if (!R.no_png) print_font_note(o->quiet);
    char src_dir[4096];
    dir_of(ckpt, src_dir, sizeof src_dir);
    int in_place = !o->out || same_dir(o->out, src_dir);
    snprintf(R.outdir, sizeof R.outdir, "%s", in_place ? src_dir : o->out);
    st = bs_session_folder(&R, o->force, in_place, &err);
    if (st == BS_OK) st = bs_session_csv_continue(&R, src_dir, in_place, o->force, &err);
    if (st != BS_OK) return fail(&R, &err, BS_EXIT_ERROR);
    if (bs_session_manifest(&R, &err) != BS_OK) return fail(&R, &err, BS_EXIT_ERROR);
    if (bs_spatial_open(&R.sp, R.outdir, src_dir, R.m, o->cells_csv, o->quiet, &err) != BS_OK)
        return fail(&R, &err, BS_EXIT_ERROR);
    snprintf(R.last_ckpt, sizeof R.last_ckpt, "%s", ckpt);
    int code = run_and_finish(&R, o->timings);
    bs_session_free(&R);
    return code;
}
