/* exp_pool.c — the job pool of the virtual experiments (exp_pool.h). */
#define _GNU_SOURCE /* prctl */
#include "exp_pool.h"

#include "output.h"
#include "session.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ---- small helpers -------------------------------------------------------------- */

double bs_now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int bs_argv_push(bs_argv *a, const char *s)
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

int bs_argv_push_num(bs_argv *a, const char *opt, double v)
{
    char num[64];
    snprintf(num, sizeof num, "%.17g", v);
    return bs_argv_push(a, opt) || bs_argv_push(a, num);
}

void bs_argv_free(bs_argv *a)
{
    for (int i = 0; i < a->n; i++) free(a->v[i]);
    free(a->v);
    memset(a, 0, sizeof *a);
}

void bs_jobs_free(bs_job *jobs, long n)
{
    if (!jobs) return;
    for (long k = 0; k < n; k++) bs_argv_free(&jobs[k].args);
    free(jobs);
}

/* ---- signals ---------------------------------------------------------------------- */

static volatile sig_atomic_t g_exp_stop; /* SIGINT/SIGTERM received */

static void exp_on_signal(int sig)
{
    g_exp_stop = sig;
}

void bs_pool_signals(int install)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = install ? exp_on_signal : SIG_DFL;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

int bs_pool_stop_signal(void)
{
    return (int)g_exp_stop;
}

/* ---- the local back end ---------------------------------------------------------------- */

/* Starts j: the child gets its own process group (a Ctrl-C at the
 * terminal reaches only the parent, which stops the children itself) and
 * writes stdout and stderr to DIR/run.log. */
int bs_job_start(bs_job *j)
{
    if (bs_mkdir_p(j->dir) != 0) {
        snprintf(j->why, sizeof j->why, "cannot create %.400s (%s)", j->dir, strerror(errno));
        return -1;
    }
    char log[4200];
    snprintf(log, sizeof log, "%s/run.log", j->dir);
    fflush(NULL);
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(j->why, sizeof j->why, "cannot start a process (%s)", strerror(errno));
        return -1;
    }
    if (pid == 0) {
        /* The child dies with the parent, even a parent killed by SIGKILL,
         * which cannot stop its children itself; a parent that died
         * before the prctl (the child was reparented) is caught by
         * getppid. The setting survives execv. */
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent) _exit(126);
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
    j->state = BS_JOB_RUNNING;
    j->t_start = bs_now_s();
    return 0;
}

void bs_job_last_log_line(const char *dir, char *out, size_t n)
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

void bs_pool_progress(const bs_pool_opts *po, int tty, long done, long failed, long running, long total, double t0,
        int final, const char *where)
{
    if (po->quiet) return;
    double el = bs_now_s() - t0;
    char eta[32] = "";
    if (done > 0 && done < total) snprintf(eta, sizeof eta, ", ETA %.0f s", el / (double)done * (double)(total - done));
    fprintf(stderr, "%sbonesim %s: %ld / %ld runs done (%ld running%s, %ld failed), %.0f s%s%s", tty ? "\r" : "",
            po->what, done, total, running, where ? where : "", failed, el, eta, tty ? "   " : "\n");
    if (tty && final) fputc('\n', stderr);
    fflush(stderr);
}

/* Runs the pending jobs, at most po->max_jobs at once, calling po->done
 * (in the parent, serially) as each finishes. On SIGINT/SIGTERM it stops
 * launching, sends SIGTERM to the running children (they finish their
 * step and exit) and waits for them. Returns the signal number, or 0. */
int bs_pool_run_local(bs_job *jobs, long n, const bs_pool_opts *po, long *nfailed)
{
    long total = 0, done = 0, running = 0, next = 0;
    for (long k = 0; k < n; k++)
        if (jobs[k].state == BS_JOB_PENDING) total++;
    *nfailed = 0;
    int tty = isatty(2);
    double t0 = bs_now_s(), last_print = 0.0;
    int stopping = 0, dirty = 1;
    while (done + *nfailed < total || running > 0) {
        if (g_exp_stop && !stopping) {
            stopping = 1;
            for (long k = 0; k < n; k++)
                if (jobs[k].state == BS_JOB_RUNNING) kill(jobs[k].pid, SIGTERM);
        }
        while (!stopping && running < po->max_jobs && next < n) {
            bs_job *j = &jobs[next++];
            if (j->state != BS_JOB_PENDING) continue;
            if (bs_job_start(j) == 0) {
                running++;
            } else {
                j->state = BS_JOB_FAILED;
                (*nfailed)++;
                fprintf(stderr, "%sbonesim %s: %s (seed %lld) failed: %s\n", tty && !po->quiet ? "\n" : "", po->what,
                        j->tag, j->seed, j->why);
            }
        }
        if (dirty) {
            bs_pool_progress(po, tty, done, *nfailed, running, total, t0, 0, NULL);
            last_print = bs_now_s();
            dirty = 0;
        }
        if (stopping && running == 0) break;
        if (running == 0 && next >= n) break;
        int status;
        struct rusage ru;
        memset(&ru, 0, sizeof ru);
        pid_t pid = wait4(-1, &status, WNOHANG, &ru);
        if (pid < 0 && errno != EINTR && errno != ECHILD) break;
        if (pid <= 0) {
            struct timespec ts = { 0, 50 * 1000 * 1000 };
            nanosleep(&ts, NULL);
            if (tty && bs_now_s() - last_print > 0.5) {
                bs_pool_progress(po, tty, done, *nfailed, running, total, t0, 0, NULL);
                last_print = bs_now_s();
            }
            continue;
        }
        bs_job *j = NULL;
        for (long k = 0; k < n && !j; k++)
            if (jobs[k].state == BS_JOB_RUNNING && jobs[k].pid == pid) j = &jobs[k];
        if (!j) continue;
        running--;
        j->wall_s = bs_now_s() - j->t_start;
        j->cpu_s = (double)ru.ru_utime.tv_sec + 1e-6 * (double)ru.ru_utime.tv_usec + (double)ru.ru_stime.tv_sec +
                1e-6 * (double)ru.ru_stime.tv_usec;
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
            j->state = BS_JOB_OK;
            done++;
            if (po->done) po->done(po->ctx, j);
        } else {
            j->state = BS_JOB_FAILED;
            if (stopping) continue; /* stopped by us: neither done nor a failure */
            (*nfailed)++;
            char line[400];
            bs_job_last_log_line(j->dir, line, sizeof line);
            if (WIFEXITED(status))
                snprintf(j->why, sizeof j->why, "exit status %d: %s", WEXITSTATUS(status), line);
            else
                snprintf(j->why, sizeof j->why, "killed by signal %d (crash?): %s", WTERMSIG(status), line);
            fprintf(stderr, "%sbonesim %s: %s (seed %lld) failed, %s\n  log: %s/run.log\n",
                    tty && !po->quiet ? "\n" : "", po->what, j->tag, j->seed, j->why, j->dir);
        }
        dirty = 1;
    }
    if (tty || dirty) bs_pool_progress(po, tty, done, *nfailed, running, total, t0, 1, NULL);
    return stopping ? (int)g_exp_stop : 0;
}

static bs_pool_fn g_backend;

void bs_pool_set_backend(bs_pool_fn fn)
{
    g_backend = fn;
}

int bs_pool_run(bs_job *jobs, long n, const bs_pool_opts *opts, long *nfailed)
{
    return (g_backend ? g_backend : bs_pool_run_local)(jobs, n, opts, nfailed);
}

/* ---- the list of an experiment's outputs ----------------------------------------- */

#define OUTLIST_NAME "experiment-outputs.txt"

void bs_outlist_add(bs_outlist *l, const char *kind, const char *name)
{
    size_t need = strlen(kind) + strlen(name) + 3;
    if (l->oom) return;
    if (l->n + need > l->cap) {
        size_t cap = l->cap ? 2 * l->cap + need : 4096 + need;
        char *p = realloc(l->s, cap);
        if (!p) {
            l->oom = 1;
            return;
        }
        l->s = p;
        l->cap = cap;
    }
    l->n += (size_t)snprintf(l->s + l->n, l->cap - l->n, "%s %s\n", kind, name);
}

int bs_outlist_load(bs_outlist *l, const char *dir)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/" OUTLIST_NAME, dir);
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    char line[1200];
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = '\0';
        char *sp = strchr(line, ' ');
        if (!sp) continue;
        *sp = '\0';
        bs_outlist_add(l, line, sp + 1);
    }
    fclose(f);
    return l->oom ? -1 : 0;
}

int bs_outlist_write(bs_outlist *l, const char *dir, const char *cmd)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/" OUTLIST_NAME, dir);
    bs_error err = { { 0 } };
    int rc = 0;
    if (l->oom) {
        fprintf(stderr, "bonesim %s: out of memory\n", cmd);
        rc = -1;
    } else if (bs_write_file_atomic(path, l->s ? l->s : "", l->n, &err) != BS_OK) {
        fprintf(stderr, "bonesim %s: %s\n", cmd, err.msg);
        rc = -1;
    }
    free(l->s);
    memset(l, 0, sizeof *l);
    return rc;
}

/* A relative path of plain names: no "..", no leading '/', no empty part. */
static int outlist_name_ok(const char *s)
{
    if (!s[0] || s[0] == '/') return 0;
    for (const char *p = s; *p;) {
        size_t k = strcspn(p, "/");
        if (k == 0 || (p[0] == '.' && (k == 1 || (k == 2 && p[1] == '.')))) return 0;
        for (size_t i = 0; i < k; i++)
            if (!((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= 'A' && p[i] <= 'Z') || (p[i] >= '0' && p[i] <= '9') ||
                        p[i] == '.' || p[i] == '_' || p[i] == '-'))
                return 0;
        p += k;
        if (*p == '/') p++;
    }
    return 1;
}

static int unlink_file(const char *path, const char *cmd)
{
    struct stat sb;
    if (lstat(path, &sb) != 0 || !S_ISREG(sb.st_mode)) return 0;
    if (unlink(path) == 0 || errno == ENOENT) return 0;
    fprintf(stderr, "bonesim %s: --force: cannot remove the earlier %s's %s (%s)\n", cmd, cmd, path, strerror(errno));
    return -1;
}

int bs_outlist_remove_old(const char *dir, const char *cmd)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/" OUTLIST_NAME, dir);
    FILE *f = fopen(path, "rb");
    if (!f) return 0; /* no list: nothing this bonesim can name as its own */
    char line[1200];
    int rc = 0;
    while (rc == 0 && fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = '\0';
        char *sp = strchr(line, ' ');
        if (!sp || !outlist_name_ok(sp + 1)) continue; /* not an entry this bonesim writes */
        *sp = '\0';
        const char *name = sp + 1;
        char p[4200 + 1200];
        snprintf(p, sizeof p, "%s/%s", dir, name);
        if (strcmp(line, "file") == 0) {
            rc = unlink_file(p, cmd);
        } else if (strcmp(line, "run") == 0) {
            struct stat sb;
            if (lstat(p, &sb) != 0 || !S_ISDIR(sb.st_mode)) continue;
            bs_error err = { { 0 } };
            if (bs_session_remove_outputs(p, &err) != BS_OK) {
                fprintf(stderr, "bonesim %s: --force: %s\n", cmd, err.msg);
                rc = -1;
                break;
            }
            static const char *const own[] = { "run.log", ".bonesim.lock" };
            for (size_t k = 0; k < sizeof own / sizeof own[0] && rc == 0; k++) {
                char q[sizeof p + 32];
                snprintf(q, sizeof q, "%s/%s", p, own[k]);
                rc = unlink_file(q, cmd);
            }
            if (rc == 0) rmdir(p); /* kept when it holds something else */
        } else if (strcmp(line, "dir") == 0) {
            rmdir(p); /* only when empty */
        }
    }
    fclose(f);
    return rc;
}
