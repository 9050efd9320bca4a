/* exp_pool.h — the job pool of the virtual experiments (compare, sweep,
 * validate): a job is one `bonesim run` with its own argv, output folder,
 * seed and tag; a pool runs an array of them, at most max_jobs at once,
 * reporting each finished job to a callback in the caller's process.
 *
 * The local back end (bs_pool_run_local) forks this same program
 * (/proc/self/exe) per job, in its own process group, with stdout and
 * stderr in DIR/run.log; a child dies with its parent (PR_SET_PDEATHSIG).
 * Another back end (e.g. MPI ranks) implements bs_pool_fn with the same
 * contract and is installed with bs_pool_set_backend; bs_pool_run calls
 * the installed one.
 *
 * Contract of a back end: it runs every job whose state is BS_JOB_PENDING
 * (others are left alone), sets each to BS_JOB_OK or BS_JOB_FAILED (with
 * `why` filled: exit status and the last line of the run's log), calls
 * opts->done serially for each BS_JOB_OK job as it finishes, prints a
 * progress line with ETA to stderr unless opts->quiet, counts the failures
 * in *nfailed, and stops launching on SIGINT/SIGTERM (bs_pool_signals),
 * stopping the running jobs; it returns the signal number or 0. */
#ifndef BS_EXP_POOL_H
#define BS_EXP_POOL_H

#include <signal.h>
#include <stdio.h>
#include <sys/types.h>

#include "fsutil.h" /* bs_mkdir_p */

enum { BS_JOB_PENDING, BS_JOB_RUNNING, BS_JOB_OK, BS_JOB_FAILED, BS_JOB_SKIP };

/* A growable, NULL-terminated argv. */
typedef struct {
    char **v;
    int n, cap;
} bs_argv;

int bs_argv_push(bs_argv *a, const char *s);
int bs_argv_push_num(bs_argv *a, const char *opt, double v); /* opt, then v as %.17g */
void bs_argv_free(bs_argv *a);

typedef struct {
    bs_argv args; /* argv[0] is a name only; the program is this bonesim */
    char dir[4096]; /* the run's output folder (run.log goes there) */
    char tag[64]; /* "a/rep_2", "run 17": for messages */
    long long seed;
    long index; /* the caller's index (run, replicate, ...) */
    int arm; /* the caller's arm or group */
    int state; /* BS_JOB_* */
    pid_t pid;
    double t_start, wall_s; /* when it started; seconds it ran (set when it finishes) */
    double cpu_s; /* CPU seconds (user + system) of the finished job, 0 if unknown */
    char why[512]; /* failure: exit status and the last line of the log */
} bs_job;

typedef void (*bs_job_done_fn)(void *ctx, bs_job *j);

typedef struct {
    const char *what; /* "compare", "sweep": prefix of messages */
    int max_jobs, quiet;
    bs_job_done_fn done; /* may be NULL */
    void *ctx;
} bs_pool_opts;

typedef int (*bs_pool_fn)(bs_job *jobs, long n, const bs_pool_opts *opts, long *nfailed);

/* Runs the jobs with the installed back end (default: bs_pool_run_local). */
int bs_pool_run(bs_job *jobs, long n, const bs_pool_opts *opts, long *nfailed);
int bs_pool_run_local(bs_job *jobs, long n, const bs_pool_opts *opts, long *nfailed);
void bs_pool_set_backend(bs_pool_fn fn); /* NULL: the local one */

/* SIGINT/SIGTERM handlers that set the stop flag (install = 1), or the
 * defaults back (install = 0); bs_pool_stop_signal() is the signal seen. */
void bs_pool_signals(int install);
int bs_pool_stop_signal(void);

/* Starts one job as a child (fork/exec of this program, own process group,
 * output in DIR/run.log): state BS_JOB_RUNNING, pid and t_start set; -1
 * with `why` filled if it cannot. For back ends that reap it themselves. */
int bs_job_start(bs_job *j);

/* Frees every job's argv, then the array. */
void bs_jobs_free(bs_job *jobs, long n);

/* The last non-empty line of DIR/run.log ("" if none). */
void bs_job_last_log_line(const char *dir, char *out, size_t n);

/* Small helpers the experiments share. */
double bs_now_s(void); /* monotonic seconds */
/* The progress line on stderr: "bonesim WHAT: D / T runs done (R running
 * WHERE, F failed), S s, ETA E s"; rewritten in place on a terminal (tty),
 * one line per call otherwise; nothing with po->quiet. where: NULL or text
 * after "running" (" on 4 ranks"). */
void bs_pool_progress(const bs_pool_opts *po, int tty, long done, long failed, long running, long total, double t0,
        int final, const char *where);

/* What an experiment command (compare, sweep) writes in its folder, listed in
 * DIR/experiment-outputs.txt when it starts, so that a later --force removes
 * exactly those and nothing else. One entry a line, a path relative to DIR:
 * "file NAME" a file, "run NAME" a run's folder (the files its manifest lists,
 * run.log, its lock, then the folder if empty), "dir NAME" a folder removed
 * if empty. Entries are removed in their order. */
typedef struct {
    char *s;
    size_t n, cap;
    int oom;
} bs_outlist;
void bs_outlist_add(bs_outlist *l, const char *kind, const char *name);
/* Starts l with DIR's present list (a resume adds its entries to it); 0, or -1 out of memory. */
int bs_outlist_load(bs_outlist *l, const char *dir);
/* Writes l atomically as DIR/experiment-outputs.txt (frees l); 0, or -1 after a message. */
int bs_outlist_write(bs_outlist *l, const char *dir, const char *cmd);
/* --force: removes what DIR/experiment-outputs.txt lists (nothing when there
 * is none); 0, or -1 after a message naming what could not be removed. */
int bs_outlist_remove_old(const char *dir, const char *cmd);

#endif
