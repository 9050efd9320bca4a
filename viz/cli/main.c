/* main.c — the bonesim command line. Reads like a table of contents:
 * each subcommand parses its options and hands them to its function; the
 * run loop lives in runner.c. Only this file exits. */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include "bench.h"
#include "config.h"
#include "exp_mpi.h"
#include "experiment.h"
#include "params.h"
#include "runner.h"
#include "sensitivity.h"
#include "validate.h"
#include "version.h"
#ifdef BS_HAVE_VIEWER
#include "viewer.h"
#endif

static void usage_main(FILE *f)
{
    fprintf(f,
            "bonesim %s — agent-based model of the bone-marrow niche in NSCLC bone metastasis\n"
            "\n"
            "usage: bonesim COMMAND [options]\n"
            "\n"
            "commands:\n"
            "  run SCENARIO     run a scenario headless: CSV time series, PNG snapshots, manifest\n"
            "  view SCENARIO    watch it live in a window (SDL2 viewer; F1 lists the keys)\n"
            "  resume CHECKPOINT  continue a run from a checkpoint (.ckpt), byte-identical\n"
            "  params [SCENARIO] list every parameter: value, unit, range, source\n"
            "  scenarios        list the shipped scenarios\n"
            "  bench [WORKLOAD] benchmark suite: fields, agents, scenario, scaling (JSON lines)\n"
            "  compare A [B]    two arms over paired replicate seeds: table, compare.csv, compare.png\n"
            "  sweep SCENARIO   a parameter grid x replicates, one summary.csv row per finished run\n"
            "  validate [B...]  every behaviour as a paired experiment on fresh seeds: report.md, figures\n"
            "  help [COMMAND]   show help for a command\n"
            "\n"
            "options:\n"
            "  --help, -h       this help\n"
            "  --version        program version and git commit\n"
            "\n"
            "exit status: 0 done, 1 error (I/O, memory, bad checkpoint), 2 bad usage or input,\n"
            "  130 / 143 stopped by SIGINT / SIGTERM after writing a checkpoint (resume it)\n"
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
            "                      (--set run.species_timescale=mouse applies the mouse preset to every\n"
            "                      parameter not set by the scenario or another --set: explicit values win)\n"
            "  --csv-every DAYS    interval between CSV rows (default: run.csv_every_d)\n"
            "  --png-every DAYS    interval between PNG snapshots (default: run.png_every_d; 0: end only)\n"
            "  --checkpoint-every DAYS  write OUT/checkpoint_dayNNNN.NNN.ckpt every DAYS and at the end\n"
            "  --max-memory-mb MB  refuse lattices needing more (default: physical memory)\n"
            "  --force             replace an earlier run's outputs in DIR: remove the files its manifest\n"
            "                      lists (nothing else) and write anew\n"
            "  --no-png            write no PNG snapshots at all (resumed legs neither)\n"
            "  --png-region X0,Y0,X1,Y1  snapshots (and video frames) show only this rectangle, in um\n"
            "                      from the lattice's top-left corner (e.g. 500,500,1500,1200); the\n"
            "                      legend then counts the cells in view\n"
            "  --video FILE        also write a video of the snapshot picture: FILE.mp4 through the\n"
            "                      ffmpeg program (on PATH), FILE.gif through giflib; a frame every\n"
            "                      --video-every DAYS (default: run.png_every_d) and at the end\n"
            "  --video-every DAYS  interval between video frames (at least one step)\n"
            "  --video-fps N       frames per second of the video (1 .. 60, default 10)\n"
            "  --spatial-every DAYS  write every cell and every lattice array to DIR/spatial.h5 every\n"
            "                      DAYS and at the end (default: run.spatial_every_d, 0 = none; needs a\n"
            "                      build with HDF5, libhdf5-dev; see docs/analysis.md)\n"
            "  --cells-csv         also write DIR/cells_dayNNNN.NNN.csv, a cell table per spatial snapshot\n"
            "  --quiet             no progress bar and no summary\n"
            "  --timings           print time per phase and throughput at the end\n"
            "  --replay LOG        apply the live changes logged by `bonesim view` (therapy switches,\n"
            "                      injected cells, parameter changes, resets) at their steps, and stop\n"
            "                      where the session stopped: the same CSV bytes as the live session.\n"
            "                      Give the same SCENARIO and --set options as the session did;\n"
            "                      the seed is in the log (its last `reset`)\n"
            "  --help              this help\n"
            "\n"
            "Output intervals are 0 (none in between) or at least one step (run.dt_h).\n"
            "Writes DIR/timeseries.csv, DIR/manifest.json and DIR/snapshot_dayNNNN.N.png.\n"
            "One run at a time per folder: DIR is locked (DIR/.bonesim.lock) while the run lasts.\n"
            "SIGINT or SIGTERM (Ctrl-C) finishes the step, writes a checkpoint and exits with\n"
            "130 or 143; a second one stops at once. See docs/reliability.md.\n");
}

static void usage_resume(FILE *f)
{
    fprintf(f,
            "usage: bonesim resume CHECKPOINT [options]\n"
            "\n"
            "Continues the run saved in CHECKPOINT (a .ckpt file written by --checkpoint-every or\n"
            "by an interrupt). The CSV rows and PNGs from then on are byte-identical to those of\n"
            "the uninterrupted run, at any thread count.\n"
            "\n"
            "options:\n"
            "  --days D            total simulated days to reach (default: the run's own days)\n"
            "  --out DIR           output folder (default: the checkpoint's folder, where the CSV is\n"
            "                      cut back to the checkpoint's rows and continued; a new folder gets\n"
            "                      the earlier rows copied when the old CSV is there)\n"
            "  --threads T         OpenMP threads (default: all cores)\n"
            "  --csv-every DAYS    change the CSV interval (restarts its schedule at the checkpoint)\n"
            "  --png-every DAYS    change the snapshot interval (likewise)\n"
            "  --spatial-every DAYS  spatial snapshots from here on (likewise); DIR/spatial.h5 keeps the\n"
            "                      run's snapshots before the checkpoint and continues\n"
            "  --cells-csv         write the CSV cell tables from here on\n"
            "  --checkpoint-every DAYS  change the checkpoint interval (0: no more checkpoints)\n"
            "  --max-memory-mb MB  memory limit (default: physical memory)\n"
            "  --force             write into an existing --out folder (its earlier outputs removed)\n"
            "  --no-png            write no more PNG snapshots\n"
            "  --png-region X0,Y0,X1,Y1  crop the snapshots to this rectangle (um), as for run\n"
            "  --quiet, --timings  as for run\n"
            "\n"
            "A checkpoint from another bonesim version, or a damaged one, is refused.\n");
}

static void usage_params(FILE *f)
{
    fprintf(f,
            "usage: bonesim params [SCENARIO] [--set S.K=VALUE]... [--markdown]\n"
            "\n"
            "Lists every parameter with its value (defaults, or as resolved for SCENARIO),\n"
            "unit, valid range and source. --markdown prints the table used for docs/parameters.md.\n"
            "\n"
            "Time scale: run.species_timescale = human (default: the registry defaults) or mouse.\n"
            "With mouse, the preset scenarios/presets/mouse.ini (found like a scenario) fills every\n"
            "parameter the scenario, its includes and --set leave unset; explicit values win.\n");
}

static void usage_scenarios(FILE *f)
{
    fprintf(f,
            "usage: bonesim scenarios\n\nLists the shipped scenarios (now: %s) with a one-line description.\n"
            "A scenario NAME is looked up in $BONESIM_SCENARIOS, $BONESIM_DATA/scenarios, ./scenarios,\n"
            "then next to the program: ../share/bonesim/scenarios (installed) and ../scenarios (build/).\n",
            bs_scenario_dir());
}

/* `bonesim view`: the SDL2 viewer when it was built (viz/view/viewer.c). */
static int cmd_view(int argc, char **argv)
{
#ifdef BS_HAVE_VIEWER
    return bs_cmd_view(argc, argv);
#else
    (void)argc;
    (void)argv;
    fprintf(stderr,
            "bonesim: this build has no viewer (configured with -DBONESIM_WITH_SDL2=OFF, or SDL2 / SDL2_ttf not found; "
            "install libsdl2-dev libsdl2-ttf-dev and rebuild, or see .ci/deps.sh)\n");
    return BS_EXIT_USAGE;
#endif
}

static int is_help(const char *a)
{
    return strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0;
}

static _Noreturn void die(const char *msg, int code)
{
    fprintf(stderr, "bonesim: %s\n", msg);
    exit(code);
}

static int cmd_run(int argc, char **argv)
{
    bs_cli_opts o;
    bs_error err = { { 0 } };
    if (bs_cli_parse(BS_CMD_RUN, argc, argv, &o, &err) != BS_OK) die(err.msg, BS_EXIT_USAGE);
    if (o.help) {
        usage_run(stdout);
        return 0;
    }
    return bs_cmd_run(&o);
}

static int cmd_resume(int argc, char **argv)
{
    bs_cli_opts o;
    bs_error err = { { 0 } };
    if (bs_cli_parse(BS_CMD_RESUME, argc, argv, &o, &err) != BS_OK) die(err.msg, BS_EXIT_USAGE);
    if (o.help) {
        usage_resume(stdout);
        return 0;
    }
    return bs_cmd_resume(&o);
}

static void print_range(const bs_param_def *d, char *buf, size_t n)
{
    if (d->type == BS_PT_CHOICE) {
        size_t k = 0;
        buf[0] = '\0';
        for (int c = 0; d->choices[c]; c++)
            k += (size_t)snprintf(buf + k, k < n ? n - k : 0, "%s%s", c ? "|" : "", d->choices[c]);
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
    bs_cli_opts o;
    bs_error err = { { 0 } };
    if (bs_cli_parse(BS_CMD_PARAMS, argc, argv, &o, &err) != BS_OK) die(err.msg, BS_EXIT_USAGE);
    if (o.help) {
        usage_params(stdout);
        return 0;
    }
    bs_registry *reg = NULL;
    bs_paramset *ps = NULL;
    char scenario_path[4096];
    if (bs_resolve_params(&o, &reg, &ps, scenario_path, sizeof scenario_path, &err) != BS_OK)
        die(err.msg, BS_EXIT_USAGE);
    size_t n = bs_registry_count(reg);
    const char *ts = bs_param_str(ps, "run.species_timescale");
    if (!o.markdown && strcmp(ts, "human") != 0)
        printf("# time scale: %s (the preset scenarios/presets/%s.ini filled every parameter the scenario and --set "
               "left unset; those show as (set); explicit values win)\n",
                ts, ts);
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

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int cmd_scenarios(int argc, char **argv)
{
    for (int i = 0; i < argc; i++) {
        if (is_help(argv[i])) {
            usage_scenarios(stdout);
            return 0;
        }
        fprintf(stderr, "bonesim scenarios: unexpected argument '%s'\n", argv[i]);
        return BS_EXIT_USAGE;
    }
    const char *dir = bs_scenario_dir();
    DIR *d = opendir(dir);
    if (!d) {
        fprintf(stderr, "bonesim: cannot open scenario folder %s (%s)\n", dir, strerror(errno));
        return 1;
    }
    char *names[512] = { 0 };
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
        bs_scenario_name(names[k], nm, sizeof nm);
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
    /* Over a file-size limit (ulimit -f) a write must fail with EFBIG and
     * be reported like any other write error, not kill the process before
     * it can say why or clean up its temporary files. Set before anything
     * is written, and inherited by compare/sweep children. */
    signal(SIGXFSZ, SIG_IGN);
#if defined(__GLIBC__) && defined(M_MMAP_THRESHOLD)
    /* Large blocks (the lattice's and the fields' arrays, the solver's
     * scratch) always as their own mappings. The model counts on a block
     * from calloc taking memory only where it is written (engine/field.c
     * bs_zalloc, the fields that are never solved, the agent store);
     * glibc's default raises this threshold to the size of the largest
     * mapped block freed so far, after which such blocks come from the
     * heap, where calloc has to clear reused memory, every page of it
     * (issue 19: 1024^2 homeostasis 208 -> 183 MB resident). Fixing it at
     * glibc's initial value turns that raising off; nothing else changes. */
    mallopt(M_MMAP_THRESHOLD, 128 * 1024);
#endif
    if (argc < 2) {
        usage_main(stderr);
        return BS_EXIT_USAGE;
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
    if (strcmp(cmd, "view") == 0) return cmd_view(argc - 2, argv + 2);
    if (strcmp(cmd, "resume") == 0) return cmd_resume(argc - 2, argv + 2);
    if (strcmp(cmd, "params") == 0) return cmd_params(argc - 2, argv + 2);
    if (strcmp(cmd, "scenarios") == 0) return cmd_scenarios(argc - 2, argv + 2);
    if (strcmp(cmd, "bench") == 0) return bs_bench_main(argc - 2, argv + 2);
    /* experiments: across MPI ranks when started by mpirun/srun (exp_mpi.h) */
    if (strcmp(cmd, "compare") == 0) return bs_mpi_main(argc - 2, argv + 2, bs_cmd_compare, "compare");
    if (strcmp(cmd, "sweep") == 0) return bs_mpi_main(argc - 2, argv + 2, bs_cmd_sweep, "sweep");
    if (strcmp(cmd, "validate") == 0) return bs_mpi_main(argc - 2, argv + 2, bs_cmd_validate, "validate");
    if (strcmp(cmd, "sensitivity") == 0) return bs_cmd_sensitivity(argc - 2, argv + 2);
    if (strcmp(cmd, "help") == 0) {
        const char *sub = argc > 2 ? argv[2] : "";
        if (strcmp(sub, "run") == 0)
            usage_run(stdout);
        else if (strcmp(sub, "resume") == 0)
            usage_resume(stdout);
        else if (strcmp(sub, "params") == 0)
            usage_params(stdout);
        else if (strcmp(sub, "scenarios") == 0)
            usage_scenarios(stdout);
        else if (strcmp(sub, "compare") == 0)
            bs_usage_compare(stdout);
        else if (strcmp(sub, "sweep") == 0)
            bs_usage_sweep(stdout);
        else if (strcmp(sub, "sensitivity") == 0)
            bs_usage_sensitivity(stdout);
        else if (strcmp(sub, "validate") == 0)
            bs_usage_validate(stdout);
        else if (strcmp(sub, "view") == 0) {
            char *h[] = { (char *)"--help", NULL };
            return cmd_view(1, h);
        } else if (strcmp(sub, "bench") == 0) {
            char *h[] = { (char *)"--help", NULL };
            return bs_bench_main(1, h);
        } else
            usage_main(stdout);
        return 0;
    }
    fprintf(stderr,
            "bonesim: unknown command '%s' (commands: run, view, resume, params, scenarios, bench, compare, sweep, "
            "sensitivity, validate, help)\n",
            cmd);
    return BS_EXIT_USAGE;
}
