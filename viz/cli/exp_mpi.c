/* exp_mpi.c — the MPI back end of the experiment pool (exp_mpi.h). */
#define _DEFAULT_SOURCE /* wait4 */
#define _POSIX_C_SOURCE 200809L
#include "exp_mpi.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "exp_pool.h"
#include "runner.h"

#ifdef BS_HAVE_MPI
#include <mpi.h>
#endif

static int g_size = 1;

int bs_mpi_size(void)
{
    return g_size;
}

int bs_mpi_built(void)
{
#ifdef BS_HAVE_MPI
    return 1;
#else
    return 0;
#endif
}

typedef struct {
    long run;
    char *line;
} srow;

static int cmp_row(const void *a, const void *b)
{
    long x = ((const srow *)a)->run, y = ((const srow *)b)->run;
    return x < y ? -1 : x > y;
}

int bs_summary_sort_by_run(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "bonesim sweep: %s: cannot read (%s)\n", path, strerror(errno));
        return -1;
    }
    char *text = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len + 65536 > cap) {
            cap = cap ? cap * 2 : 1 << 20;
            char *nt = realloc(text, cap + 1);
            if (!nt) break;
            text = nt;
        }
        size_t got = fread(text + len, 1, cap - len, f);
        len += got;
        if (got == 0) break;
    }
    int rerr = ferror(f);
    fclose(f);
    if (!text || rerr || len == 0 || text[len - 1] != '\n') {
        free(text);
        fprintf(stderr, "bonesim sweep: %s: cannot read it back whole to sort it\n", path);
        return -1;
    }
    text[len] = '\0';
    long nrows = 0;
    for (size_t i = 0; i < len; i++) nrows += text[i] == '\n';
    srow *rows = malloc((size_t)nrows * sizeof *rows);
    if (!rows) {
        free(text);
        fprintf(stderr, "bonesim sweep: %s: out of memory sorting it\n", path);
        return -1;
    }
    char *header = text, *p = strchr(text, '\n') + 1;
    long n = 0;
    while (*p) {
        char *nl = strchr(p, '\n'), *end;
        *nl = '\0';
        rows[n].run = strtol(p, &end, 10);
        rows[n].line = p;
        if (end == p || *end != ',') {
            free(rows);
            free(text);
            fprintf(stderr, "bonesim sweep: %s:%ld: a row without a run index\n", path, n + 2);
            return -1;
        }
        n++;
        p = nl + 1;
    }
    header[strcspn(header, "\n")] = '\0';
    qsort(rows, (size_t)n, sizeof *rows, cmp_row);
    char tmp[4300];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    FILE *o = fopen(tmp, "wb");
    int bad = !o;
    if (o) {
        bad |= fprintf(o, "%s\n", header) < 0;
        for (long i = 0; i < n && !bad; i++) bad |= fprintf(o, "%s\n", rows[i].line) < 0;
        bad |= fflush(o) != 0 || fsync(fileno(o)) != 0;
        bad |= fclose(o) != 0;
    }
    if (bad || rename(tmp, path) != 0) {
        fprintf(stderr, "bonesim sweep: %s: cannot write the sorted rows (%s); the unsorted file is intact\n", path,
                strerror(errno));
        unlink(tmp);
        bad = 1;
    }
    free(rows);
    free(text);
    return bad ? -1 : 0;
}

/* The number of ranks a launcher (mpirun/mpiexec of Open MPI or MPICH,
 * srun) says this process is one of; 0 when not launched by one. */
static long launched_size(void)
{
    static const char *const vars[] = { "OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE" };
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) {
        const char *v = getenv(vars[i]);
        if (v && *v) return strtol(v, NULL, 10);
    }
    if (getenv("PMIX_RANK") || getenv("PMI_RANK")) {
        const char *v = getenv("SLURM_NTASKS");
        return v && *v ? strtol(v, NULL, 10) : 1;
    }
    return 0;
}

#ifndef BS_HAVE_MPI

int bs_mpi_main(int argc, char **argv, int (*cmd)(int, char **), const char *name)
{
    long n = launched_size();
    if (n > 1) {
        fprintf(stderr,
                "bonesim %s: started as one of %ld MPI ranks, but this bonesim was built without MPI: each rank "
                "would run the whole experiment into the same files. Rebuild with MPI (apt-get install "
                "libopenmpi-dev openmpi-bin; cmake -DBONESIM_WITH_MPI=ON) or run it once, without mpirun\n",
                name, n);
        return BS_EXIT_USAGE;
    }
    return cmd(argc, argv);
}

#else /* BS_HAVE_MPI */

enum { TAG_JOB = 1, TAG_RESULT = 2, TAG_ABORT = 3, TAG_QUIT = 4 };
enum { RES_OK = 0, RES_FAILED = 1, RES_STOPPED = 2 };

static void nap(void)
{
    struct timespec ts = { 0, 20 * 1000 * 1000 };
    nanosleep(&ts, NULL);
}

/* ---- messages -------------------------------------------------------------------------
 * JOB:    int64 index, then NUL-terminated strings: dir, argv[0..n-1]
 * RESULT: int64 index, int32 result, double wall_s, double cpu_s, then strings: why, host */

typedef struct {
    char *b;
    size_t n, cap;
} msg;

static int msg_put(msg *m, const void *p, size_t len)
{
    if (m->n + len > m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 1024;
        while (cap < m->n + len) cap *= 2;
        char *nb = realloc(m->b, cap);
        if (!nb) return -1;
        m->b = nb;
        m->cap = cap;
    }
    memcpy(m->b + m->n, p, len);
    m->n += len;
    return 0;
}

static int msg_str(msg *m, const char *s)
{
    return msg_put(m, s, strlen(s) + 1);
}

/* Next string of a received buffer, or NULL past its end. */
static const char *next_str(const char *buf, int len, int *pos)
{
    if (*pos >= len) return NULL;
    const char *s = buf + *pos;
    const void *z = memchr(s, '\0', (size_t)(len - *pos));
    if (!z) return NULL;
    *pos += (int)strlen(s) + 1;
    return s;
}

/* Receives the probed message into a fresh buffer (caller frees). */
static char *recv_probed(const MPI_Status *st, int *len)
{
    MPI_Get_count(st, MPI_BYTE, len);
    char *buf = malloc((size_t)(*len > 0 ? *len : 1));
    if (!buf) return NULL;
    MPI_Recv(buf, *len, MPI_BYTE, st->MPI_SOURCE, st->MPI_TAG, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    return buf;
}

static double cpu_of(const struct rusage *ru)
{
    return (double)ru->ru_utime.tv_sec + 1e-6 * (double)ru->ru_utime.tv_usec + (double)ru->ru_stime.tv_sec +
            1e-6 * (double)ru->ru_stime.tv_usec;
}

static void send_result(long long index, int res, double wall, double cpu, const char *why)
{
    static char host[256];
    if (!host[0] && gethostname(host, sizeof host - 1) != 0) snprintf(host, sizeof host, "?");
    msg m = { 0 };
    int32_t r = res;
    int64_t ix = index;
    if (msg_put(&m, &ix, sizeof ix) || msg_put(&m, &r, sizeof r) || msg_put(&m, &wall, sizeof wall) ||
            msg_put(&m, &cpu, sizeof cpu) || msg_str(&m, why) || msg_str(&m, host)) {
        free(m.b);
        char tiny[sizeof ix + sizeof r + sizeof wall + sizeof cpu + 2] = { 0 };
        memcpy(tiny, &ix, sizeof ix);
        r = RES_FAILED;
        memcpy(tiny + sizeof ix, &r, sizeof r);
        MPI_Send(tiny, (int)sizeof tiny, MPI_BYTE, 0, TAG_RESULT, MPI_COMM_WORLD);
        return;
    }
    MPI_Send(m.b, (int)m.n, MPI_BYTE, 0, TAG_RESULT, MPI_COMM_WORLD);
    free(m.b);
}

/* "exit status 2: <last log line>" or "killed by signal 9 ...". */
static void why_status(bs_job *j, int status)
{
    char line[400];
    bs_job_last_log_line(j->dir, line, sizeof line);
    if (WIFEXITED(status))
        snprintf(j->why, sizeof j->why, "exit status %d: %s", WEXITSTATUS(status), line);
    else
        snprintf(j->why, sizeof j->why, "killed by signal %d (crash?): %s", WTERMSIG(status), line);
}

/* ---- ranks 1..N-1 ------------------------------------------------------------------------ */

typedef struct {
    bs_job job;
    long long index;
    int killed;
} wjob;

static int worker_loop(void)
{
    wjob *run = NULL;
    int nrun = 0, cap = 0, quit = 0, stopping = 0;
    bs_pool_signals(1);
    while (!quit || nrun > 0) {
        int busy = 0;
        if (bs_pool_stop_signal() && !stopping) {
            stopping = 1;
            for (int i = 0; i < nrun; i++) {
                kill(run[i].job.pid, SIGTERM);
                run[i].killed = 1;
            }
        }
        int flag = 0;
        MPI_Status st;
        if (!quit) MPI_Iprobe(0, MPI_ANY_TAG, MPI_COMM_WORLD, &flag, &st);
        if (flag) {
            busy = 1;
            int len = 0;
            char *buf = recv_probed(&st, &len);
            if (st.MPI_TAG == TAG_QUIT) {
                quit = 1;
                for (int i = 0; i < nrun; i++)
                    if (!run[i].killed) {
                        kill(run[i].job.pid, SIGTERM);
                        run[i].killed = 1;
                    }
            } else if (st.MPI_TAG == TAG_ABORT) {
                for (int i = 0; i < nrun; i++)
                    if (!run[i].killed) {
                        kill(run[i].job.pid, SIGTERM);
                        run[i].killed = 1;
                    }
            } else if (st.MPI_TAG == TAG_JOB) {
                int64_t ix = -1;
                int pos = (int)sizeof ix;
                if (buf && len >= pos) memcpy(&ix, buf, sizeof ix);
                if (nrun == cap) {
                    int nc = cap ? cap * 2 : 8;
                    wjob *nr = realloc(run, (size_t)nc * sizeof *nr);
                    if (nr) {
                        run = nr;
                        cap = nc;
                    }
                }
                if (!buf || nrun == cap) {
                    send_result(ix, RES_FAILED, 0.0, 0.0, "out of memory on this rank");
                } else if (stopping) {
                    send_result(ix, RES_STOPPED, 0.0, 0.0, "this rank was stopped by a signal");
                } else {
                    wjob *w = &run[nrun];
                    memset(w, 0, sizeof *w);
                    w->index = ix;
                    const char *dir = next_str(buf, len, &pos), *a;
                    int bad = !dir || strlen(dir) >= sizeof w->job.dir;
                    if (!bad) snprintf(w->job.dir, sizeof w->job.dir, "%s", dir);
                    while (!bad && (a = next_str(buf, len, &pos))) bad = bs_argv_push(&w->job.args, a) != 0;
                    if (bad || w->job.args.n == 0) {
                        send_result(ix, RES_FAILED, 0.0, 0.0, "malformed job message or out of memory");
                        bs_argv_free(&w->job.args);
                    } else if (bs_job_start(&w->job) != 0) {
                        send_result(ix, RES_FAILED, 0.0, 0.0, w->job.why);
                        bs_argv_free(&w->job.args);
                    } else {
                        nrun++;
                    }
                }
            }
            free(buf);
        }
        int status;
        struct rusage ru;
        memset(&ru, 0, sizeof ru);
        pid_t pid = nrun > 0 ? wait4(-1, &status, WNOHANG, &ru) : 0;
        if (pid > 0) {
            busy = 1;
            for (int i = 0; i < nrun; i++) {
                if (run[i].job.pid != pid) continue;
                wjob *w = &run[i];
                double wall = bs_now_s() - w->job.t_start, cpu = cpu_of(&ru);
                if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
                    send_result(w->index, RES_OK, wall, cpu, "");
                } else if (w->killed) {
                    send_result(w->index, RES_STOPPED, wall, cpu, "stopped");
                } else {
                    why_status(&w->job, status);
                    send_result(w->index, RES_FAILED, wall, cpu, w->job.why);
                }
                bs_argv_free(&w->job.args);
                run[i] = run[--nrun];
                break;
            }
        }
        if (!busy) nap();
    }
    free(run);
    bs_pool_signals(0);
    return BS_EXIT_OK;
}

/* ---- rank 0: the back end --------------------------------------------------------------- */

/* the pool's progress line, with the number of ranks */
static void progress(
        const bs_pool_opts *po, int tty, long done, long failed, long running, long total, double t0, int final)
{
    char where[32];
    snprintf(where, sizeof where, " on %d ranks", g_size);
    bs_pool_progress(po, tty, done, failed, running, total, t0, final, where);
}

static int send_job(const bs_job *j, long index, int rank)
{
    msg m = { 0 };
    int64_t ix = index;
    int bad = msg_put(&m, &ix, sizeof ix) || msg_str(&m, j->dir);
    for (int a = 0; a < j->args.n && !bad; a++) bad = msg_str(&m, j->args.v[a]);
    if (!bad) MPI_Send(m.b, (int)m.n, MPI_BYTE, rank, TAG_JOB, MPI_COMM_WORLD);
    free(m.b);
    return bad ? -1 : 0;
}

static int mpi_pool_run(bs_job *jobs, long n, const bs_pool_opts *po, long *nfailed)
{
    long total = 0, done = 0, running = 0, next = 0;
    for (long k = 0; k < n; k++)
        if (jobs[k].state == BS_JOB_PENDING) total++;
    *nfailed = 0;
    int *owner = malloc((size_t)(n > 0 ? n : 1) * sizeof *owner);
    int *busy = calloc((size_t)g_size, sizeof *busy), *closed = calloc((size_t)g_size, sizeof *closed);
    long *ran = calloc((size_t)g_size, sizeof *ran); /* runs finished per rank */
    if (!owner || !busy || !closed || !ran) {
        free(owner);
        free(busy);
        free(closed);
        free(ran);
        fprintf(stderr, "bonesim %s: out of memory\n", po->what);
        *nfailed = total;
        return 0;
    }
    int per_rank = po->max_jobs > 0 ? po->max_jobs : 1;
    int tty = isatty(2), stopping = 0, dirty = 1;
    double t0 = bs_now_s(), last_print = 0.0;
    int rr = 0; /* round robin over ranks, starting after rank 0 */
    for (;;) {
        if (bs_pool_stop_signal() && !stopping) {
            stopping = 1;
            for (long k = 0; k < n; k++)
                if (jobs[k].state == BS_JOB_RUNNING && owner[k] == 0) kill(jobs[k].pid, SIGTERM);
            for (int r = 1; r < g_size; r++)
                if (busy[r] > 0) MPI_Send(NULL, 0, MPI_BYTE, r, TAG_ABORT, MPI_COMM_WORLD);
        }
        /* hand out: remote ranks first (round robin), rank 0 last */
        while (!stopping) {
            while (next < n && jobs[next].state != BS_JOB_PENDING) next++;
            if (next >= n) break;
            int pick = -1;
            for (int t = 0; t < g_size && pick < 0; t++) {
                int r = 1 + (rr + t) % g_size;
                if (r == g_size) r = 0;
                if (!closed[r] && busy[r] < per_rank) pick = r;
            }
            if (pick < 0) break;
            rr = pick % g_size;
            bs_job *j = &jobs[next];
            owner[next] = pick;
            int ok;
            if (pick == 0) {
                ok = bs_job_start(j) == 0;
            } else {
                ok = send_job(j, next, pick) == 0;
                if (ok) {
                    j->state = BS_JOB_RUNNING;
                    j->t_start = bs_now_s();
                } else {
                    snprintf(j->why, sizeof j->why, "out of memory");
                }
            }
            next++;
            if (ok) {
                busy[pick]++;
                running++;
            } else {
                j->state = BS_JOB_FAILED;
                (*nfailed)++;
                fprintf(stderr, "%sbonesim %s: %s (seed %lld) failed: %s\n", tty && !po->quiet ? "\n" : "", po->what,
                        j->tag, j->seed, j->why);
            }
            dirty = 1;
        }
        if (dirty) {
            progress(po, tty, done, *nfailed, running, total, t0, 0);
            last_print = bs_now_s();
            dirty = 0;
        }
        if (running == 0) {
            while (next < n && jobs[next].state != BS_JOB_PENDING) next++;
            if (stopping || next >= n) break;
            int open = 0;
            for (int r = 0; r < g_size; r++) open |= !closed[r];
            if (!open) break; /* every rank stopped: leave the rest pending */
        }
        int got = 0;
        /* local children */
        int status;
        struct rusage ru;
        memset(&ru, 0, sizeof ru);
        pid_t pid = busy[0] > 0 ? wait4(-1, &status, WNOHANG, &ru) : 0;
        if (pid > 0) {
            got = 1;
            for (long k = 0; k < n; k++) {
                bs_job *j = &jobs[k];
                if (j->state != BS_JOB_RUNNING || owner[k] != 0 || j->pid != pid) continue;
                busy[0]--;
                running--;
                j->wall_s = bs_now_s() - j->t_start;
                j->cpu_s = cpu_of(&ru);
                if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
                    j->state = BS_JOB_OK;
                    done++;
                    ran[0]++;
                    if (po->done) po->done(po->ctx, j);
                } else {
                    j->state = BS_JOB_FAILED;
                    if (!stopping) {
                        (*nfailed)++;
                        why_status(j, status);
                        fprintf(stderr, "%sbonesim %s: %s (seed %lld) failed on rank 0, %s\n  log: %s/run.log\n",
                                tty && !po->quiet ? "\n" : "", po->what, j->tag, j->seed, j->why, j->dir);
                    }
                }
                dirty = 1;
                break;
            }
        }
        /* remote results */
        int flag = 0;
        MPI_Status st;
        MPI_Iprobe(MPI_ANY_SOURCE, TAG_RESULT, MPI_COMM_WORLD, &flag, &st);
        if (flag) {
            got = 1;
            int len = 0;
            char *buf = recv_probed(&st, &len);
            int64_t ix = -1;
            int32_t res = RES_FAILED;
            double wall = 0.0, cpu = 0.0;
            int pos = (int)(sizeof ix + sizeof res + sizeof wall + sizeof cpu);
            if (buf && len >= pos) {
                memcpy(&ix, buf, sizeof ix);
                memcpy(&res, buf + sizeof ix, sizeof res);
                memcpy(&wall, buf + sizeof ix + sizeof res, sizeof wall);
                memcpy(&cpu, buf + sizeof ix + sizeof res + sizeof wall, sizeof cpu);
            }
            const char *why = buf ? next_str(buf, len, &pos) : NULL, *host = buf ? next_str(buf, len, &pos) : NULL;
            int r = st.MPI_SOURCE;
            if (ix >= 0 && ix < n && owner[ix] == r && jobs[ix].state == BS_JOB_RUNNING) {
                bs_job *j = &jobs[ix];
                busy[r]--;
                running--;
                j->wall_s = wall;
                j->cpu_s = cpu;
                char log[4200];
                snprintf(log, sizeof log, "%s/run.log", j->dir);
                struct stat sb;
                if (res == RES_OK && stat(log, &sb) != 0) {
                    res = RES_FAILED;
                    why = "rank 0 cannot see the run's folder: MPI experiments need --out on a filesystem every "
                          "rank sees (shared home or scratch)";
                }
                if (res == RES_OK) {
                    j->state = BS_JOB_OK;
                    done++;
                    ran[r]++;
                    if (po->done) po->done(po->ctx, j);
                } else if (res == RES_STOPPED) {
                    if (stopping) {
                        j->state = BS_JOB_FAILED; /* stopped by us: neither done nor a failure */
                    } else {
                        /* that rank alone was stopped: give the run to another */
                        closed[r] = 1;
                        j->state = BS_JOB_PENDING;
                        /* its folder holds the stopped run's partial files: the rerun overwrites them */
                        int has_force = 0;
                        for (int a = 0; a < j->args.n; a++) has_force |= strcmp(j->args.v[a], "--force") == 0;
                        if (!has_force && bs_argv_push(&j->args, "--force") != 0) {
                            j->state = BS_JOB_FAILED;
                            snprintf(j->why, sizeof j->why, "out of memory");
                            (*nfailed)++;
                        }
                        if (ix < next) next = ix;
                        if (!po->quiet)
                            fprintf(stderr, "%sbonesim %s: rank %d (host %s) was stopped; its runs go elsewhere\n",
                                    tty ? "\n" : "", po->what, r, host ? host : "?");
                    }
                } else {
                    j->state = BS_JOB_FAILED;
                    snprintf(j->why, sizeof j->why, "%s", why ? why : "malformed result message");
                    (*nfailed)++;
                    fprintf(stderr, "%sbonesim %s: %s (seed %lld) failed on rank %d (host %s), %s\n  log: %s/run.log\n",
                            tty && !po->quiet ? "\n" : "", po->what, j->tag, j->seed, r, host ? host : "?", j->why,
                            j->dir);
                }
                dirty = 1;
            }
            free(buf);
        }
        if (!got) {
            nap();
            if (tty && bs_now_s() - last_print > 0.5) {
                progress(po, tty, done, *nfailed, running, total, t0, 0);
                last_print = bs_now_s();
            }
        }
    }
    /* every rank but 0 stopped by its own signal and rank 0 busy elsewhere
     * cannot happen (rank 0 never closes); left pending only when stopping */
    for (long k = 0; k < n && !stopping; k++)
        if (jobs[k].state == BS_JOB_PENDING) {
            jobs[k].state = BS_JOB_FAILED;
            snprintf(jobs[k].why, sizeof jobs[k].why, "no rank left to run it");
            (*nfailed)++;
        }
    if (tty || dirty) progress(po, tty, done, *nfailed, running, total, t0, 1);
    if (!po->quiet) {
        fprintf(stderr, "bonesim %s: runs finished per rank:", po->what);
        for (int r = 0; r < g_size; r++) fprintf(stderr, " %d:%ld", r, ran[r]);
        fprintf(stderr, "\n");
    }
    free(ran);
    free(owner);
    free(busy);
    free(closed);
    return stopping ? bs_pool_stop_signal() : 0;
}

int bs_mpi_main(int argc, char **argv, int (*cmd)(int, char **), const char *name)
{
    if (launched_size() <= 0) return cmd(argc, argv); /* not under mpirun/srun: the local pool */
    if (MPI_Init(NULL, NULL) != MPI_SUCCESS) {
        fprintf(stderr, "bonesim %s: MPI_Init failed\n", name);
        return BS_EXIT_ERROR;
    }
    int rank = 0;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &g_size);
    int rc;
    if (rank != 0) {
        rc = worker_loop();
    } else {
        if (g_size > 1) bs_pool_set_backend(mpi_pool_run);
        rc = cmd(argc, argv);
        bs_pool_set_backend(NULL);
        for (int r = 1; r < g_size; r++) MPI_Send(NULL, 0, MPI_BYTE, r, TAG_QUIT, MPI_COMM_WORLD);
    }
    MPI_Finalize();
    return rc;
}

#endif /* BS_HAVE_MPI */
