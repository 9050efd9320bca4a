/* main.c — the bonesim command line. Reads like a table of contents:
 * each subcommand parses its options, builds a model from the registry
 * and a scenario, and hands it to the run loop. Only this file exits. */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "catalog.h"
#include "config.h"
#include "model.h"
#include "output.h"
#include "render.h"
#include "version.h"

#define EXIT_USAGE 2

static void usage_main(FILE *f)
{
    fprintf(f,
            "bonesim %s — agent-based model of the bone-marrow niche in NSCLC bone metastasis\n"
            "\n"
            "usage: bonesim COMMAND [options]\n"
            "\n"
            "commands:\n"
            "  run SCENARIO     run a scenario headless: CSV time series, PNG snapshots, manifest\n"
            "  params [SCENARIO] list every parameter: value, unit, range, source\n"
            "  scenarios        list the shipped scenarios\n"
            "  help [COMMAND]   show help for a command\n"
            "\n"
            "options:\n"
            "  --help, -h       this help\n"
            "  --version        program version and git commit\n"
            "\n"
            "Try: bonesim run homeostasis --days 90 --out out/demo\n",
            BS_VERSION);
}

static void usage_run(FILE *f)
{
    fprintf(f,
            "usage: bonesim run SCENARIO [options]\n"
            "\n"
            "SCENARIO is a path to an .ini file or the name of a shipped scenario (bonesim scenarios).\n"
            "\n"
            "options:\n"
            "  --days D            simulated days to run (default: the scenario's run.days)\n"
            "  --seed N            random seed (default: the scenario's run.seed)\n"
            "  --threads T         OpenMP threads (default: all cores); results are identical at any T\n"
            "  --out DIR           output folder (default: out/SCENARIO-seedN)\n"
            "  --set S.K=VALUE     override a parameter (repeatable), e.g. --set oc.lifespan_d=10\n"
            "  --csv-every DAYS    interval between CSV rows (default: run.csv_every_d)\n"
            "  --png-every DAYS    interval between PNG snapshots (default: run.png_every_d; 0: end only)\n"
            "  --force             overwrite an existing output folder's files\n"
            "  --quiet             no progress bar and no summary\n"
            "  --timings           print time per phase and throughput at the end\n"
            "  --help              this help\n"
            "\n"
            "Writes DIR/timeseries.csv, DIR/manifest.json and DIR/snapshot_dayNNNN.N.png.\n");
}

static void usage_params(FILE *f)
{
    fprintf(f,
            "usage: bonesim params [SCENARIO] [--set S.K=VALUE]... [--markdown]\n"
            "\n"
            "Lists every parameter with its value (defaults, or as resolved for SCENARIO),\n"
            "unit, valid range and source. --markdown prints the table used for docs/parameters.md.\n");
}

static void usage_scenarios(FILE *f)
{
    fprintf(f, "usage: bonesim scenarios\n\nLists the shipped scenarios (%s) with a one-line description.\n",
            BS_SCENARIO_DIR);
}

static int is_help(const char *a) { return strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0; }

static void die_error(const bs_error *err, int code)
{
    fprintf(stderr, "bonesim: %s\n", err->msg);
    exit(code);
}

static int file_exists(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

/* A scenario is a path, or a name looked up in $BONESIM_SCENARIOS, then
 * ./scenarios, then the source tree's scenarios/ folder. */
static int resolve_scenario(const char *arg, char *out, size_t n)
{
    if (file_exists(arg)) {
        snprintf(out, n, "%s", arg);
        return 1;
    }
    const char *dirs[3] = {getenv("BONESIM_SCENARIOS"), "scenarios", BS_SCENARIO_DIR};
    for (int d = 0; d < 3; d++) {
        if (!dirs[d] || !*dirs[d]) continue;
        snprintf(out, n, "%s/%s.ini", dirs[d], arg);
        if (file_exists(out)) return 1;
        snprintf(out, n, "%s/%s", dirs[d], arg);
        if (file_exists(out)) return 1;
    }
    return 0;
}

static const char *scenario_dir(void)
{
    const char *env = getenv("BONESIM_SCENARIOS");
    if (env && *env) return env;
    struct stat st;
    if (stat(BS_SCENARIO_DIR, &st) == 0) return BS_SCENARIO_DIR;
    return "scenarios";
}

static void scenario_name(const char *path, char *out, size_t n)
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

typedef struct {
    const char *scenario;
    char scenario_path[4096];
    const char *sets[256];
    int nsets;
    double days;   /* < 0: from the scenario */
    long long seed;/* < 0: from the scenario */
    int threads;   /* 0: default */
    const char *out;
    double csv_every, png_every; /* < 0: from the scenario */
    int force, quiet, timings, markdown;
} run_opts;

static double parse_number(const char *opt, const char *s, double lo, double hi)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end != '\0' || errno || !isfinite(v) || v < lo || v > hi) {
        fprintf(stderr, "bonesim: %s '%s' is not a number in range (valid: %g .. %g)\n", opt, s, lo, hi);
        exit(EXIT_USAGE);
    }
    return v;
}

/* Parses options shared by the subcommands; positional arguments go to
 * *pos. Unknown options are errors. */
static void parse_opts(int argc, char **argv, run_opts *o, const char **pos, int *npos, int maxpos,
                       void (*usage)(FILE *))
{
    *npos = 0;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
#define NEED_VALUE()                                                                                  \
    do {                                                                                              \
        if (!v) {                                                                                     \
            fprintf(stderr, "bonesim: %s needs a value (see --help)\n", a);                          \
            exit(EXIT_USAGE);                                                                         \
        }                                                                                             \
        i++;                                                                                          \
    } while (0)
        if (is_help(a)) {
            usage(stdout);
            exit(0);
        } else if (strcmp(a, "--days") == 0) {
            NEED_VALUE();
            o->days = parse_number(a, v, 0.0, 36525.0);
        } else if (strcmp(a, "--seed") == 0) {
            NEED_VALUE();
            o->seed = (long long)parse_number(a, v, 0.0, 9007199254740991.0);
            if ((double)o->seed != strtod(v, NULL)) {
                fprintf(stderr, "bonesim: --seed '%s' must be a whole number\n", v);
                exit(EXIT_USAGE);
            }
        } else if (strcmp(a, "--threads") == 0) {
            NEED_VALUE();
            o->threads = (int)parse_number(a, v, 1.0, 1024.0);
        } else if (strcmp(a, "--out") == 0) {
            NEED_VALUE();
            o->out = v;
        } else if (strcmp(a, "--set") == 0) {
            NEED_VALUE();
            if (o->nsets == (int)(sizeof o->sets / sizeof o->sets[0])) {
                fprintf(stderr, "bonesim: too many --set options (at most 256)\n");
                exit(EXIT_USAGE);
            }
            o->sets[o->nsets++] = v;
        } else if (strcmp(a, "--csv-every") == 0) {
            NEED_VALUE();
            o->csv_every = parse_number(a, v, 0.0, 36525.0);
        } else if (strcmp(a, "--png-every") == 0) {
            NEED_VALUE();
            o->png_every = parse_number(a, v, 0.0, 36525.0);
        } else if (strcmp(a, "--force") == 0) {
            o->force = 1;
        } else if (strcmp(a, "--quiet") == 0) {
            o->quiet = 1;
        } else if (strcmp(a, "--timings") == 0) {
            o->timings = 1;
        } else if (strcmp(a, "--markdown") == 0) {
            o->markdown = 1;
        } else if (a[0] == '-' && a[1] != '\0') {
            fprintf(stderr, "bonesim: unknown option '%s' (see --help)\n", a);
            exit(EXIT_USAGE);
        } else {
            if (*npos == maxpos) {
                fprintf(stderr, "bonesim: unexpected argument '%s' (see --help)\n", a);
                exit(EXIT_USAGE);
            }
            pos[(*npos)++] = a;
        }
#undef NEED_VALUE
    }
}

/* Registry + scenario file + --set, with --days/--seed written into the
 * parameter set so the manifest records what actually ran. */
static bs_paramset *resolve_params(bs_registry **reg_out, run_opts *o)
{
    bs_error err = {{0}};
    bs_registry *reg = bs_catalog_registry(&err);
    if (!reg) die_error(&err, 1);
    bs_paramset *ps = bs_paramset_create(reg);
    if (!ps) {
        fprintf(stderr, "bonesim: out of memory\n");
        exit(1);
    }
    if (o->scenario) {
        if (!resolve_scenario(o->scenario, o->scenario_path, sizeof o->scenario_path)) {
            fprintf(stderr, "bonesim: no scenario '%s' (not a file, not in %s; see bonesim scenarios)\n", o->scenario,
                    scenario_dir());
            exit(EXIT_USAGE);
        }
        if (bs_config_load(ps, o->scenario_path, &err) != BS_OK) die_error(&err, EXIT_USAGE);
    }
    for (int k = 0; k < o->nsets; k++)
        if (bs_config_set(ps, o->sets[k], &err) != BS_OK) die_error(&err, EXIT_USAGE);
    char num[64];
    if (o->days >= 0.0) {
        snprintf(num, sizeof num, "%.17g", o->days);
        if (bs_paramset_set_text(ps, "run.days", num, "--days", &err) != BS_OK) die_error(&err, EXIT_USAGE);
    }
    if (o->seed >= 0) {
        snprintf(num, sizeof num, "%lld", o->seed);
        if (bs_paramset_set_text(ps, "run.seed", num, "--seed", &err) != BS_OK) die_error(&err, EXIT_USAGE);
    }
    if (o->csv_every >= 0.0) {
        snprintf(num, sizeof num, "%.17g", o->csv_every);
        if (bs_paramset_set_text(ps, "run.csv_every_d", num, "--csv-every", &err) != BS_OK) die_error(&err, EXIT_USAGE);
    }
    if (o->png_every >= 0.0) {
        snprintf(num, sizeof num, "%.17g", o->png_every);
        if (bs_paramset_set_text(ps, "run.png_every_d", num, "--png-every", &err) != BS_OK) die_error(&err, EXIT_USAGE);
    }
    *reg_out = reg;
    return ps;
}

/* Loads the PNG mask named by geometry.mask_png (relative to the scenario
 * file's folder) when geometry.source = mask. */
static uint8_t *load_mask(const bs_paramset *ps, const char *scenario_path)
{
    if (strcmp(bs_param_str(ps, "geometry.source"), "mask") != 0) return NULL;
    const char *mask = bs_param_str(ps, "geometry.mask_png");
    if (!mask[0]) {
        fprintf(stderr, "bonesim: geometry.source = mask needs geometry.mask_png\n");
        exit(EXIT_USAGE);
    }
    char path[8300];
    if (mask[0] != '/' && scenario_path[0]) {
        const char *slash = strrchr(scenario_path, '/');
        int dlen = slash ? (int)(slash - scenario_path) : 1;
        snprintf(path, sizeof path, "%.*s/%s", dlen, slash ? scenario_path : ".", mask);
    } else {
        snprintf(path, sizeof path, "%s", mask);
    }
    int w = (int)bs_param(ps, "lattice.width_sites"), h = (int)bs_param(ps, "lattice.height_sites");
    uint8_t *classes = NULL;
    bs_error err = {{0}};
    if (bs_mask_load(path, &w, &h, &classes, &err) != BS_OK) die_error(&err, EXIT_USAGE);
    return classes;
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

static int due(double t, double every, double *next)
{
    if (every <= 0.0) return 0;
    if (t + 1e-9 >= *next) {
        while (*next <= t + 1e-9) *next += every;
        return 1;
    }
    return 0;
}

static int cmd_run(int argc, char **argv)
{
    run_opts o = {.days = -1, .seed = -1, .csv_every = -1, .png_every = -1};
    const char *pos[1];
    int npos;
    parse_opts(argc, argv, &o, pos, &npos, 1, usage_run);
    if (npos != 1) {
        fprintf(stderr, "bonesim run: missing SCENARIO (see bonesim run --help)\n");
        return EXIT_USAGE;
    }
    o.scenario = pos[0];
    bs_registry *reg = NULL;
    bs_paramset *ps = resolve_params(&reg, &o);
    if (o.threads > 0) omp_set_num_threads(o.threads);
    int threads = omp_get_max_threads();
    char name[256], outdir[4096];
    scenario_name(o.scenario_path, name, sizeof name);
    long long seed = (long long)bs_param(ps, "run.seed");
    if (o.out) snprintf(outdir, sizeof outdir, "%s", o.out);
    else snprintf(outdir, sizeof outdir, "out/%s-seed%lld", name, seed);

    bs_error err = {{0}};
    uint8_t *classes = load_mask(ps, o.scenario_path);
    bs_model *m = NULL;
    if (bs_model_create(&m, ps, classes, &err) != BS_OK) die_error(&err, EXIT_USAGE);
    free(classes);

    bs_output out;
    if (bs_output_open(&out, outdir, o.force, &err) != BS_OK) die_error(&err, 1);
    double days = bs_param(ps, "run.days");
    bs_run_info info = {o.scenario, o.scenario_path, threads, days};
    if (bs_output_manifest(&out, ps, &info, &err) != BS_OK) die_error(&err, 1);

    double csv_every = bs_param(ps, "run.csv_every_d"), png_every = bs_param(ps, "run.png_every_d");
    long steps = lround(days * 24.0 / m->dt_h);
    double next_csv = 0.0, next_png = 0.0, acc_res = 0.0, acc_form = 0.0, last_row_t = 0.0;
    int tty = isatty(2) && !o.quiet;
    double wall0 = omp_get_wtime(), t_out = 0.0;
    bs_obs obs, first = {0};
    int have_first = 0;
    long png_count = 0;
    for (long k = 0;; k++) {
        double t = bs_model_time_days(m);
        int last = k == steps;
        double to0 = omp_get_wtime();
        if (due(t, csv_every, &next_csv) || last || k == 0) {
            bs_model_observe(m, &obs, acc_res, acc_form, t - last_row_t);
            if (!have_first) {
                first = obs;
                have_first = 1;
            }
            if (bs_output_row(&out, &obs, &err) != BS_OK) die_error(&err, 1);
            acc_res = acc_form = 0.0;
            last_row_t = t;
        }
        if (due(t, png_every, &next_png) || last) {
            if (bs_output_png(&out, m, name, &err) != BS_OK) die_error(&err, 1);
            png_count++;
        }
        t_out += omp_get_wtime() - to0;
        if (last) break;
        bs_model_step(m);
        acc_res += m->last.resorbed_um2;
        acc_form += m->last.formed_um2;
        if (tty && (k % 24 == 0)) progress(bs_model_time_days(m), days, omp_get_wtime() - wall0);
    }
    double wall = omp_get_wtime() - wall0;
    if (tty) {
        progress(days, days, wall);
        fputc('\n', stderr);
    }
    if (bs_output_close(&out, &err) != BS_OK) die_error(&err, 1);
    if (!o.quiet) {
        printf("bonesim %s: scenario %s, seed %lld, %d thread%s\n", BS_VERSION, name, seed, threads,
               threads == 1 ? "" : "s");
        printf("  simulated      %.1f days (%ld steps of %.2g h) in %.2f s wall (%.1f days/s)\n", days, steps, m->dt_h,
               wall, wall > 0 ? days / wall : 0.0);
        printf("  lattice        %d x %d sites of %.3g um (%.2f x %.2f mm)\n", m->lat.w, m->lat.h, m->lat.h_um,
               m->lat.w * m->lat.h_um / 1000.0, m->lat.h * m->lat.h_um / 1000.0);
        printf("  bone area      %.4g um^2 -> %.4g um^2 (%+.2f%%), BV/TV %.3f\n", first.bone_area_um2,
               obs.bone_area_um2, 100.0 * (obs.bone_area_um2 / first.bone_area_um2 - 1.0), obs.bv_tv);
        printf("  endosteum      %.1f%% quiescent\n", 100.0 * obs.endosteum_quiescent_frac);
        printf("  cells          %ld osteoclasts, %ld osteoblasts\n", obs.n_osteoclasts, obs.n_osteoblasts);
        printf("  oxygen         median marrow pO2 %.1f mmHg\n", obs.o2_median_mmHg);
        printf("  outputs        %s/timeseries.csv, manifest.json, %ld PNG snapshot%s\n", outdir, png_count,
               png_count == 1 ? "" : "s");
    }
    if (o.timings) {
        double sites = (double)m->lat.w * m->lat.h;
        printf("timings (%d threads): fields %.2f s, agents %.2f s, output %.2f s, total %.2f s\n", threads,
               m->t_fields_s, m->t_agents_s, t_out, wall);
        printf("  field solver   %.3g site-updates/s (%.3g sweeps of %.0f sites x %d fields)\n",
               m->t_fields_s > 0 ? (double)m->field_site_updates / m->t_fields_s : 0.0,
               (double)m->field_site_updates / sites, sites, BS_FIELD_COUNT);
        printf("  agent loop     %.3g agent-updates/s, %.3g site-visits/s (%llu agent updates)\n",
               m->t_agents_s > 0 ? (double)m->agent_updates / m->t_agents_s : 0.0,
               m->t_agents_s > 0 ? sites * (double)m->step / m->t_agents_s : 0.0,
               (unsigned long long)m->agent_updates);
    }
    bs_model_destroy(m);
    bs_paramset_destroy(ps);
    bs_registry_destroy(reg);
    return 0;
}

static void print_range(const bs_param_def *d, char *buf, size_t n)
{
    if (d->type == BS_PT_CHOICE) {
        size_t k = 0;
        buf[0] = '\0';
        for (int c = 0; d->choices[c]; c++) k += (size_t)snprintf(buf + k, k < n ? n - k : 0, "%s%s", c ? "|" : "", d->choices[c]);
    } else if (d->type == BS_PT_STRING) {
        snprintf(buf, n, "text");
    } else if (d->type == BS_PT_BOOL) {
        snprintf(buf, n, "0|1");
    } else {
        snprintf(buf, n, "%g .. %g", d->min, d->max);
    }
}

static int cmd_params(int argc, char **argv)
{
    run_opts o = {.days = -1, .seed = -1, .csv_every = -1, .png_every = -1};
    const char *pos[1];
    int npos;
    parse_opts(argc, argv, &o, pos, &npos, 1, usage_params);
    o.scenario = npos ? pos[0] : NULL;
    bs_registry *reg = NULL;
    bs_paramset *ps = resolve_params(&reg, &o);
    size_t n = bs_registry_count(reg);
    if (o.markdown) {
        printf("| name | default | unit | range | source and meaning |\n|---|---|---|---|---|\n");
    }
    for (size_t i = 0; i < n; i++) {
        const bs_param_def *d = bs_registry_at(reg, i);
        char val[1100], range[256];
        bs_param_format(ps, i, val, sizeof val);
        print_range(d, range, sizeof range);
        if (o.markdown)
            printf("| `%s` | %s | %s | %s | %s |\n", d->name, val[0] ? val : "\"\"", d->unit[0] ? d->unit : "-", range,
                   d->help);
        else
            printf("%-36s %-12s %-8s [%s]%s\n    %s\n", d->name, val, d->unit, range,
                   bs_param_is_set(ps, i) ? " (set)" : "", d->help);
    }
    bs_paramset_destroy(ps);
    bs_registry_destroy(reg);
    return 0;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static int cmd_scenarios(int argc, char **argv)
{
    for (int i = 0; i < argc; i++) {
        if (is_help(argv[i])) {
            usage_scenarios(stdout);
            return 0;
        }
        fprintf(stderr, "bonesim scenarios: unexpected argument '%s'\n", argv[i]);
        return EXIT_USAGE;
    }
    const char *dir = scenario_dir();
    DIR *d = opendir(dir);
    if (!d) {
        fprintf(stderr, "bonesim: cannot open scenario folder %s (%s)\n", dir, strerror(errno));
        return 1;
    }
    char *names[512];
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < 512) {
        size_t len = strlen(e->d_name);
        if (len > 4 && strcmp(e->d_name + len - 4, ".ini") == 0 && e->d_name[0] != '_') names[n++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(names, (size_t)n, sizeof names[0], cmp_str);
    printf("Scenarios in %s (run one with: bonesim run NAME):\n", dir);
    for (int k = 0; k < n; k++) {
        char path[8192], head[4096], nm[256];
        snprintf(path, sizeof path, "%s/%s", dir, names[k]);
        scenario_name(names[k], nm, sizeof nm);
        bs_error err;
        const char *line = "";
        if (bs_config_header(path, head, sizeof head, &err) == BS_OK) {
            char *nl = strchr(head, '\n');
            if (nl) *nl = '\0';
            line = head;
        }
        printf("  %-22s %s\n", nm, line);
        free(names[k]);
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage_main(stderr);
        return EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (is_help(cmd)) {
        usage_main(stdout);
        return 0;
    }
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "version") == 0) {
        printf("bonesim %s (commit %s)\n", BS_VERSION, BS_GIT_COMMIT);
        return 0;
    }
    if (strcmp(cmd, "run") == 0) return cmd_run(argc - 2, argv + 2);
    if (strcmp(cmd, "params") == 0) return cmd_params(argc - 2, argv + 2);
    if (strcmp(cmd, "scenarios") == 0) return cmd_scenarios(argc - 2, argv + 2);
    if (strcmp(cmd, "help") == 0) {
        const char *sub = argc > 2 ? argv[2] : "";
        if (strcmp(sub, "run") == 0) usage_run(stdout);
        else if (strcmp(sub, "params") == 0) usage_params(stdout);
        else if (strcmp(sub, "scenarios") == 0) usage_scenarios(stdout);
        else usage_main(stdout);
        return 0;
    }
    fprintf(stderr, "bonesim: unknown command '%s' (commands: run, params, scenarios, help)\n", cmd);
    return EXIT_USAGE;
}
