/* session.c — the one session loop (see session.h): output folder, CSV,
 * snapshots, checkpoints, live and replayed actions, signals. */
#define _POSIX_C_SOURCE 200809L
#include "session.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <omp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "checkpoint.h"
#include "spatial_output.h"
#include "version.h"
#include "video.h"

/* ---- the run state in a checkpoint ------------------------------------------------ */

#define RUN(name, member)                                                                                              \
    {                                                                                                                  \
        name, (uint32_t)sizeof(((bs_run_state *)0)->member), NULL                                                      \
    }
/* The run state's sections, in file order (after the parameters, before
 * the model's arrays). */
static const bs_ckpt_extra run_table[] = {
    RUN("run.version", version),
    RUN("run.commit", commit),
    RUN("run.scenario", scenario),
    RUN("run.scenario_arg", scenario_arg),
    RUN("run.scenario_path", scenario_path),
    RUN("run.next_csv_d", next_csv_d),
    RUN("run.next_png_d", next_png_d),
    RUN("run.next_ckpt_d", next_ckpt_d),
    RUN("run.ckpt_every_d", ckpt_every_d),
    RUN("run.acc_resorbed_um2", acc_resorbed_um2),
    RUN("run.acc_formed_um2", acc_formed_um2),
    RUN("run.last_row_d", last_row_d),
    RUN("run.first_bone_area_um2", first_bone_area_um2),
    RUN("run.csv_bytes", csv_bytes),
    RUN("run.csv_hash", csv_hash),
    RUN("run.png_count", png_count),
    RUN("run.no_png", no_png),
};
#undef RUN
#define N_RUN_SECTIONS (sizeof run_table / sizeof run_table[0])
_Static_assert(N_RUN_SECTIONS == BS_RUN_SECTIONS, "BS_RUN_SECTIONS counts run_table");

void bs_run_state_sections(bs_run_state *rs, bs_ckpt_extra *out)
{
    static const size_t off[N_RUN_SECTIONS] = { offsetof(bs_run_state, version), offsetof(bs_run_state, commit),
        offsetof(bs_run_state, scenario), offsetof(bs_run_state, scenario_arg), offsetof(bs_run_state, scenario_path),
        offsetof(bs_run_state, next_csv_d), offsetof(bs_run_state, next_png_d), offsetof(bs_run_state, next_ckpt_d),
        offsetof(bs_run_state, ckpt_every_d), offsetof(bs_run_state, acc_resorbed_um2),
        offsetof(bs_run_state, acc_formed_um2), offsetof(bs_run_state, last_row_d),
        offsetof(bs_run_state, first_bone_area_um2), offsetof(bs_run_state, csv_bytes),
        offsetof(bs_run_state, csv_hash), offsetof(bs_run_state, png_count), offsetof(bs_run_state, no_png) };
    for (size_t k = 0; k < N_RUN_SECTIONS; k++) {
        out[k] = run_table[k];
        out[k].data = (char *)rs + off[k];
    }
}

bs_status bs_session_load_params(bs_session *S, bs_ckpt_reader *rd, bs_error *err)
{
    bs_run_state *rs = &S->rs;
    memset(rs, 0, sizeof *rs);
    bs_ckpt_extra extra[N_RUN_SECTIONS];
    bs_run_state_sections(rs, extra);
    bs_status st = bs_model_load_params(rd, S->reg, &S->ps, extra, N_RUN_SECTIONS, err);
    /* Text members must end inside their arrays, whatever the file says. */
    rs->version[sizeof rs->version - 1] = '\0';
    rs->commit[sizeof rs->commit - 1] = '\0';
    rs->scenario[sizeof rs->scenario - 1] = '\0';
    rs->scenario_arg[sizeof rs->scenario_arg - 1] = '\0';
    rs->scenario_path[sizeof rs->scenario_path - 1] = '\0';
    return st;
}

bs_status bs_session_load_model(bs_session *S, bs_ckpt_reader *rd, bs_error *err)
{
    bs_status st = bs_model_load(rd, S->ps, &S->m, err);
    if (st == BS_OK) S->k0 = S->m->step - S->m->step0; /* steps count from day 0, after any burn-in */
    return st;
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

void bs_session_signals(void)
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

/* ---- life cycle ------------------------------------------------------------------- */

void bs_session_init(bs_session *S)
{
    memset(S, 0, sizeof *S);
    S->csv_rfd = -1;
    S->lock_fd = -1;
}

void bs_session_free(bs_session *S)
{
    if (S->out.csv) fclose(S->out.csv);
    if (S->csv_rfd >= 0) close(S->csv_rfd);
    if (S->live_log) fclose(S->live_log);
    bs_spatial_free(S->sp);
    bs_video_abort(S->video);
    bs_image_free(&S->video_img);
    bs_model_destroy(S->m);
    bs_action_log_free(&S->replay);
    for (int k = 0; k < S->noutputs; k++) free(S->outputs[k]);
    free(S->outputs);
    if (S->lock_fd >= 0) close(S->lock_fd); /* releases the lock */
    bs_paramset_destroy(S->ps);
    bs_registry_destroy(S->reg);
    bs_session_init(S);
}

int bs_session_stop_signal(void)
{
    return g_stop;
}

/* Hashes bytes [from, to) of the file open as fd. */
static bs_status hash_range(
        int fd, const char *path, long long from, long long to, uint64_t *h, int stoppable, bs_error *err)
{
    char buf[1 << 14];
    while (from < to) {
        /* Callers whose result must not be cut short (the rows of a run,
         * the check of a CSV before it is continued) pass stoppable = 0. */
        if (g_stop && stoppable)
            return bs_fail(err, BS_ERR_IO, "%s: interrupted by %s while reading", path, strsignal(g_stop));
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
static bs_status csv_track(bs_session *S, bs_error *err)
{
    long long now = (long long)ftello(S->out.csv);
    if (now < S->csv_len) return bs_fail(err, BS_ERR_IO, "%s: cannot tell file position", S->csv_path);
    if (S->csv_rfd < 0 && (S->csv_rfd = open(S->csv_path, O_RDONLY)) < 0)
        return bs_fail(err, BS_ERR_IO, "%s: cannot read back (%s)", S->csv_path, strerror(errno));
    bs_status st = hash_range(S->csv_rfd, S->csv_path, S->csv_len, now, &S->csv_hash, 0, err);
    if (st == BS_OK) S->csv_len = now;
    return st;
}

/* A failed row may have left part of itself on disk (a full disk takes
 * what fits): cut the file back to its last whole row. */
static void csv_rollback(bs_session *S)
{
    if (S->out.csv) fclose(S->out.csv);
    S->out.csv = NULL;
    if (truncate(S->csv_path, (off_t)S->csv_len) != 0) {
        /* Nothing more to do; the error being reported says why. */
    }
}

/* ---- the output folder: lock, list of outputs, stale temporaries ------------------ */

#define LOCK_NAME ".bonesim.lock"

/* One run per folder: an exclusive flock on DIR/.bonesim.lock, held for the
 * run's lifetime (the descriptor is closed at exit, which releases it, even
 * after SIGKILL). The file holds the holder's pid, for the refusal. */
static bs_status lock_folder(bs_session *S, const char *dir, bs_error *err)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/" LOCK_NAME, dir);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
    if (fd < 0) return bs_fail(err, BS_ERR_IO, "%s: cannot create the folder lock (%s)", path, strerror(errno));
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int e = errno;
        char buf[32] = "";
        ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
        buf[n > 0 ? n : 0] = '\0';
        close(fd);
        if (e == EWOULDBLOCK)
            return bs_fail(err, BS_ERR_IO,
                    "%s is in use by another bonesim run (pid %ld holds %s); wait for it to end or choose another "
                    "--out folder (--force does not override the lock)",
                    dir, strtol(buf, NULL, 10), path);
        return bs_fail(err, BS_ERR_IO, "%s: cannot lock (%s)", path, strerror(e));
    }
    char buf[32];
    int n = snprintf(buf, sizeof buf, "%ld\n", (long)getpid());
    /* The pid is for the message of a refused run only: a full disk here
     * does not stop this one. */
    if (ftruncate(fd, 0) != 0 || pwrite(fd, buf, (size_t)n, 0) != n) {}
    S->lock_fd = fd;
    return BS_OK;
}

static int plain_name(const char *s)
{
    if (!s[0] || s[0] == '.') return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '.' ||
                    *s == '_' || *s == '-'))
            return 0;
    return 1;
}

static bs_status outputs_add(bs_session *S, const char *name, bs_error *err)
{
    for (int k = 0; k < S->noutputs; k++)
        if (strcmp(S->outputs[k], name) == 0) return BS_OK;
    if (S->noutputs == S->cap_outputs) {
        int cap = S->cap_outputs ? 2 * S->cap_outputs : 16;
        char **p = realloc(S->outputs, (size_t)cap * sizeof *p);
        if (!p) return bs_fail(err, BS_ERR_NOMEM, "out of memory");
        S->outputs = p;
        S->cap_outputs = cap;
    }
    size_t n = strlen(name) + 1;
    char *c = malloc(n);
    if (!c) return bs_fail(err, BS_ERR_NOMEM, "out of memory");
    memcpy(c, name, n);
    S->outputs[S->noutputs++] = c;
    return BS_OK;
}

/* The "outputs" list of DIR/manifest.json (written by output.c: plain
 * names in one JSON array) appended to S's list; a folder without one (or
 * from a bonesim that did not write the list) adds nothing. */
static bs_status outputs_read(bs_session *S, const char *dir, bs_error *err)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/manifest.json", dir);
    FILE *fp = fopen(path, "rb");
    if (!fp) return BS_OK;
    char *text = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len + 4096 + 1 > cap) {
            cap = cap ? 2 * cap : 65536;
            char *t = realloc(text, cap);
            if (!t) {
                free(text);
                fclose(fp);
                return bs_fail(err, BS_ERR_NOMEM, "out of memory reading %s", path);
            }
            text = t;
        }
        size_t got = fread(text + len, 1, 4096, fp);
        len += got;
        if (got < 4096) break;
    }
    fclose(fp);
    if (!text) return BS_OK;
    text[len] = '\0';
    bs_status st = BS_OK;
    const char *p = strstr(text, "\"outputs\": [");
    if (p) {
        p += strlen("\"outputs\": [");
        while (st == BS_OK && *p && *p != ']') {
            if (*p != '"') {
                p++;
                continue;
            }
            const char *q = strchr(p + 1, '"');
            if (!q) break;
            char name[256];
            if (q - p - 1 < (long)sizeof name) {
                snprintf(name, sizeof name, "%.*s", (int)(q - p - 1), p + 1);
                if (plain_name(name)) st = outputs_add(S, name, err);
            }
            p = q + 1;
        }
    }
    free(text);
    return st;
}

/* --force: remove what bonesim wrote into DIR before (the old manifest's
 * list), and nothing else. */
static bs_status outputs_remove_old(const char *dir, bs_error *err)
{
    bs_session old;
    memset(&old, 0, sizeof old);
    bs_status st = outputs_read(&old, dir, err);
    for (int k = 0; st == BS_OK && k < old.noutputs; k++) {
        char path[4400];
        snprintf(path, sizeof path, "%s/%s", dir, old.outputs[k]);
        struct stat sb;
        if (lstat(path, &sb) == 0 && S_ISREG(sb.st_mode) && unlink(path) != 0 && errno != ENOENT)
            st = bs_fail(err, BS_ERR_IO, "%s: cannot remove the earlier run's file (%s)", path, strerror(errno));
    }
    for (int k = 0; k < old.noutputs; k++) free(old.outputs[k]);
    free(old.outputs);
    return st;
}

bs_status bs_session_remove_outputs(const char *dir, bs_error *err)
{
    return outputs_remove_old(dir, err);
}

/* Temporary files of bonesim's own names (NAME.tmp.PID) in a folder this
 * process has locked can only be left over from a killed write: remove
 * them. */
static void remove_stale_temporaries(const bs_session *S, const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    int n = 0;
    while ((e = readdir(d))) {
        const char *nm = e->d_name, *t = strstr(nm, ".tmp.");
        if (!t || !t[5] || strspn(t + 5, "0123456789") != strlen(t + 5)) continue;
        size_t base = (size_t)(t - nm);
        int ours = (strncmp(nm, "checkpoint_day", 14) == 0 && base > 5 && strncmp(t - 5, ".ckpt", 5) == 0) ||
                (strncmp(nm, "snapshot_day", 12) == 0 && base > 4 && strncmp(t - 4, ".png", 4) == 0) ||
                (base == 13 && strncmp(nm, "manifest.json", 13) == 0);
        if (!ours) continue;
        char path[4400];
        snprintf(path, sizeof path, "%s/%s", dir, nm);
        if (unlink(path) == 0) n++;
    }
    closedir(d);
    if (n && !S->quiet)
        fprintf(stderr, "bonesim: note: removed %d temporary file%s left in %s by a killed write\n", n,
                n == 1 ? "" : "s", dir);
}

/* The manifest with the current list of outputs. */
bs_status bs_session_manifest(bs_session *S, bs_error *err)
{
    bs_run_info info = { S->rs.scenario_arg, S->rs.scenario_path, S->threads, S->days, (const char *const *)S->outputs,
        S->noutputs, S->m ? (long)S->m->store.full_refusals : 0 };
    char mpath[4400];
    snprintf(mpath, sizeof mpath, "%s/manifest.json", S->outdir);
    tmp_begin(mpath);
    bs_status st = bs_output_manifest(&S->out, S->ps, &info, err);
    tmp_end();
    return st;
}

/* A new file is about to be written: list it in the manifest first, so a
 * run killed while writing it still names it for a later --force. */
static bs_status output_will_write(bs_session *S, const char *path, bs_error *err)
{
    const char *name = strrchr(path, '/');
    name = name ? name + 1 : path;
    for (int k = 0; k < S->noutputs; k++)
        if (strcmp(S->outputs[k], name) == 0) return BS_OK;
    bs_status st = outputs_add(S, name, err);
    return st == BS_OK ? bs_session_manifest(S, err) : st;
}

/* Set-up of the output folder shared by run and resume: create it, take
 * the lock, clean temporaries, and with --force remove the outputs of the
 * run that wrote there before. in_place: resuming in the folder of the
 * checkpoint, whose files are this run's own. */
bs_status bs_session_folder(bs_session *S, int force, int in_place, bs_error *err)
{
    bs_status st = bs_output_mkdir(S->outdir, err);
    if (st == BS_OK) st = lock_folder(S, S->outdir, err);
    if (st != BS_OK) return st;
    remove_stale_temporaries(S, S->outdir);
    if (in_place) {
        st = outputs_read(S, S->outdir, err);
    } else if (force) {
        st = outputs_remove_old(S->outdir, err);
    }
    if (st == BS_OK) st = outputs_add(S, "timeseries.csv", err);
    if (st == BS_OK) st = outputs_add(S, "manifest.json", err);
    return st;
}

bs_status bs_session_checkpoint(bs_session *S, bs_error *err)
{
    char path[4400];
    snprintf(path, sizeof path, "%s/checkpoint_day%08.3f.ckpt", S->outdir, bs_model_time_days(S->m));
    S->rs.csv_bytes = S->csv_len;
    S->rs.csv_hash = S->csv_hash;
    bs_status st0 = output_will_write(S, path, err);
    if (st0 != BS_OK) return st0;
    /* the slot layout of the agents depends on the order threads took
     * slots in; renumbered by site, the file is the same at any thread
     * count (no result depends on slot numbers: engine/store.h) */
    st0 = bs_store_canonicalise(&S->m->store, err);
    if (st0 != BS_OK) return st0;
    tmp_begin(path);
    bs_run_state *rs = &S->rs;
    bs_ckpt_extra extra[N_RUN_SECTIONS];
    bs_run_state_sections(rs, extra);
    bs_status st = bs_model_save(S->m, extra, N_RUN_SECTIONS, path, err);
    tmp_end();
    if (st == BS_OK) {
        snprintf(S->last_ckpt, sizeof S->last_ckpt, "%s", path);
        S->nckpt++;
    }
    return st;
}


/* ---- resume: continuing a CSV ------------------------------------------------------ */

/* Does the first `len` bytes of the file at fp hash to `hash`? */
static int prefix_matches(FILE *fp, const char *path, long long len, uint64_t hash)
{
    struct stat sb;
    if (fstat(fileno(fp), &sb) != 0 || (long long)sb.st_size < len) return 0;
    uint64_t h = BS_FNV1A_INIT;
    bs_error e;
    return hash_range(fileno(fp), path, 0, len, &h, 0, &e) == BS_OK && h == hash;
}

/* Continuing in the checkpoint's own folder: the CSV is cut back to the
 * rows it had when the checkpoint was taken (a crashed run may have
 * written more), after checking they are the rows of this run. */
static bs_status reopen_in_place(bs_session *S, bs_error *err)
{
    FILE *fp = fopen(S->csv_path, "r+");
    if (!fp)
        return bs_fail(err, BS_ERR_IO, "%s: cannot open to continue (%s); resume into a new folder with --out DIR",
                S->csv_path, strerror(errno));
    if (!prefix_matches(fp, S->csv_path, S->rs.csv_bytes, S->rs.csv_hash)) {
        fclose(fp);
        return bs_fail(err, BS_ERR_INVALID,
                "%s does not hold the rows this checkpoint was taken after (edited, or from another run); "
                "resume into a new folder with --out DIR",
                S->csv_path);
    }
    if (ftruncate(fileno(fp), (off_t)S->rs.csv_bytes) != 0 || fseeko(fp, 0, SEEK_END) != 0) {
        int e = errno;
        fclose(fp);
        return bs_fail(err, BS_ERR_IO, "%s: cannot cut back to the checkpoint (%s)", S->csv_path, strerror(e));
    }
    S->out.csv = fp;
    snprintf(S->out.dir, sizeof S->out.dir, "%s", S->outdir);
    S->csv_len = S->rs.csv_bytes;
    S->csv_hash = S->rs.csv_hash;
    return BS_OK;
}

/* A new folder: copy the rows before the checkpoint from the original
 * folder's CSV when it is there and matches, so the new CSV is the whole
 * series; otherwise the new CSV starts at the checkpoint (and says so). */
static bs_status open_new_folder(bs_session *S, const char *src_dir, int force, bs_error *err)
{
    bs_status st = bs_output_open(&S->out, S->outdir, force, err);
    if (st != BS_OK) return st;
    S->csv_created = 1;
    S->csv_len = 0;
    S->csv_hash = BS_FNV1A_INIT;
    char src[4200];
    snprintf(src, sizeof src, "%s/timeseries.csv", src_dir);
    FILE *in = fopen(src, "rb");
    int copied = 0;
    if (in && prefix_matches(in, src, S->rs.csv_bytes, S->rs.csv_hash)) {
        if (ftruncate(fileno(S->out.csv), 0) != 0 || fseeko(S->out.csv, 0, SEEK_SET) != 0)
            st = bs_fail(err, BS_ERR_IO, "%s: cannot write (%s)", S->csv_path, strerror(errno));
        char buf[1 << 14];
        long long left = S->rs.csv_bytes;
        while (st == BS_OK && left > 0) {
            if (g_stop) {
                st = bs_fail(err, BS_ERR_IO, "%s: interrupted by %s while copying the rows before the checkpoint",
                        S->csv_path, strsignal(g_stop));
                break;
            }
            size_t want = left > (long long)sizeof buf ? sizeof buf : (size_t)left;
            ssize_t got = pread(fileno(in), buf, want, (off_t)(S->rs.csv_bytes - left));
            if (got <= 0 || fwrite(buf, 1, (size_t)got, S->out.csv) != (size_t)got)
                st = bs_fail(err, BS_ERR_IO, "%s: cannot copy the rows before the checkpoint (%s)", S->csv_path,
                        got < 0 || ferror(S->out.csv) ? strerror(errno) : "short read");
            else
                left -= got;
        }
        if (st == BS_OK && fflush(S->out.csv) != 0)
            st = bs_fail(err, BS_ERR_IO, "%s: write failed (%s)", S->csv_path, strerror(errno));
        copied = 1;
    }
    if (in) fclose(in);
    if (st == BS_OK) st = csv_track(S, err);
    if (st == BS_OK && !copied && !S->quiet)
        fprintf(stderr, "bonesim: note: %s is missing or does not match the checkpoint; %s starts at day %.3f\n", src,
                S->csv_path, bs_model_time_days(S->m));
    return st;
}


bs_status bs_session_csv_continue(bs_session *S, const char *src_dir, int in_place, int force, bs_error *err)
{
    snprintf(S->csv_path, sizeof S->csv_path, "%s/timeseries.csv", S->outdir);
    return in_place ? reopen_in_place(S, err) : open_new_folder(S, src_dir, force, err);
}

bs_status bs_session_csv_new(bs_session *S, int force, bs_error *err)
{
    snprintf(S->csv_path, sizeof S->csv_path, "%s/timeseries.csv", S->outdir);
    if (S->out.csv) {
        fclose(S->out.csv);
        S->out.csv = NULL;
    }
    bs_status st = bs_output_open(&S->out, S->outdir, force, err);
    if (st != BS_OK) return st;
    S->csv_created = 1;
    S->csv_len = 0;
    S->csv_hash = BS_FNV1A_INIT;
    return csv_track(S, err);
}

void bs_session_abandon(bs_session *S)
{
    if (!S->csv_created) return;
    if (S->out.csv) fclose(S->out.csv);
    S->out.csv = NULL;
    unlink(S->csv_path);
    S->csv_created = 0;
}

/* ---- the loop ------------------------------------------------------------------------ */

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

bs_status bs_session_outputs(bs_session *S, int last, bs_error *err)
{
    if (S->outputs_done) return BS_OK;
    if (!S->out.csv)
        return bs_fail(
                err, BS_ERR_IO, "%s: closed after an earlier write error; no more rows are written", S->csv_path);
    bs_model *m = S->m;
    bs_run_state *rs = &S->rs;
    double t = bs_model_time_days(m), to0 = omp_get_wtime();
    uint64_t k = m->step - m->step0; /* steps since day 0 (after any run.burn_in_d) */
    bs_status st = BS_OK;
    if (rs->ckpt_every_d > 0.0 && (bs_run_due(t, rs->ckpt_every_d, &rs->next_ckpt_d) || (last && k != S->k0)))
        st = bs_session_checkpoint(S, err);
    if (st == BS_OK && (bs_run_due(t, bs_param(S->ps, "run.csv_every_d"), &rs->next_csv_d) || last || k == 0)) {
        bs_model_observe(m, &S->obs, rs->acc_resorbed_um2, rs->acc_formed_um2, t - rs->last_row_d);
        if (k == 0) rs->first_bone_area_um2 = S->obs.bone_area_um2;
        st = bs_output_row(&S->out, &S->obs, err);
        if (st == BS_OK) st = csv_track(S, err);
        if (st != BS_OK) {
            csv_rollback(S);
        } else {
            rs->acc_resorbed_um2 = rs->acc_formed_um2 = 0.0;
            rs->last_row_d = t;
        }
    }
    if (st == BS_OK && !S->no_png && (bs_run_due(t, bs_param(S->ps, "run.png_every_d"), &rs->next_png_d) || last)) {
        char png[4400];
        snprintf(png, sizeof png, "%s/snapshot_day%06.1f.png", S->outdir, t);
        st = output_will_write(S, png, err);
        if (st == BS_OK) {
            tmp_begin(png);
            st = bs_output_png(&S->out, m, rs->scenario, S->png_region, err);
            tmp_end();
        }
        if (st == BS_OK) rs->png_count++;
    }
    if (st == BS_OK && S->video && (bs_run_due(t, S->video_every_d, &S->next_video_d) || last)) {
        st = bs_output_render(m, rs->scenario, S->png_region, &S->video_img, err);
        if (st == BS_OK) st = bs_video_frame(S->video, &S->video_img, err);
    }
    if (st == BS_OK && S->sp && (bs_run_due(t, S->sp->every_d, &S->sp->next_d) || last)) {
        char cells[4400];
        bs_spatial_cells_path(S->sp, m, cells, sizeof cells);
        st = output_will_write(S, S->sp->path, err);
        if (st == BS_OK && S->sp->cells_csv) st = output_will_write(S, cells, err);
        if (st == BS_OK) st = bs_spatial_write(S->sp, m, last, err);
    }
    S->t_out_s += omp_get_wtime() - to0;
    if (st == BS_OK) S->outputs_done = 1;
    return st;
}

bs_status bs_session_step(bs_session *S, bs_error *err)
{
    bs_status st = bs_session_outputs(S, 0, err);
    if (st != BS_OK) return st;
    bs_model_step(S->m);
    S->rs.acc_resorbed_um2 += S->m->last.resorbed_um2;
    S->rs.acc_formed_um2 += S->m->last.formed_um2;
    S->outputs_done = 0;
    return BS_OK;
}

static void log_action(bs_session *S, const bs_action *a)
{
    if (!S->live_log) return;
    char line[256];
    bs_action_format(a, line, sizeof line);
    fputs(line, S->live_log);
    fflush(S->live_log);
}

/* A fresh model from the session's parameters with `seed`; the CSV and
 * the schedules start again (the log keeps everything, the reset in it). */
static bs_status session_reset(bs_session *S, long long seed, bs_error *err)
{
    char num[64];
    snprintf(num, sizeof num, "%lld", seed);
    bs_status st = bs_paramset_set_text(S->ps, "run.seed", num, "reset", err);
    if (st != BS_OK) return st;
    bs_model *m = NULL;
    st = bs_model_create(&m, S->ps, S->classes, err);
    if (st != BS_OK) return st;
    bs_model_destroy(S->m);
    S->m = m;
    st = bs_session_csv_new(S, 1, err);
    S->outputs_done = 0;
    S->rs.next_csv_d = S->rs.next_png_d = 0.0;
    S->rs.acc_resorbed_um2 = S->rs.acc_formed_um2 = S->rs.last_row_d = 0.0;
    return st;
}

bs_status bs_session_apply(bs_session *S, bs_action *a, bs_error *err)
{
    a->step = S->m->step - S->m->step0;
    bs_status st = a->kind == BS_ACT_RESET ? session_reset(S, (long long)a->value, err)
            : a->kind == BS_ACT_END        ? BS_OK /* the session stops here: only logged */
                                           : bs_action_apply(S->m, a, err);
    if (st == BS_OK) log_action(S, a);
    return st;
}

bs_status bs_session_log_open(
        bs_session *S, const char *path, const char *scenario_arg, const char *const *sets, int nsets, bs_error *err)
{
    snprintf(S->live_log_path, sizeof S->live_log_path, "%s", path);
    bs_status st = output_will_write(S, path, err);
    if (st != BS_OK) return st;
    S->live_log = fopen(path, "w");
    if (!S->live_log) return bs_fail(err, BS_ERR_IO, "%s: cannot write (%s)", path, strerror(errno));
    long long seed = (long long)bs_param(S->ps, "run.seed");
    fprintf(S->live_log, "# bonesim action log (agents/actions.h), bonesim %s commit %s\n", BS_VERSION, BS_GIT_COMMIT);
    fprintf(S->live_log, "# scenario %s, seed %lld; replay: bonesim run %s", scenario_arg, seed, scenario_arg);
    for (int k = 0; k < nsets; k++) fprintf(S->live_log, " --set %s", sets[k]);
    fprintf(S->live_log, " --replay %s\n", path);
    /* The seed goes into the log itself, so a replay needs no --seed. */
    bs_action a0;
    memset(&a0, 0, sizeof a0);
    a0.kind = BS_ACT_RESET;
    a0.value = (double)seed;
    log_action(S, &a0);
    return BS_OK;
}

bs_loop_end bs_session_run(bs_session *S, double *wall, bs_error *err)
{
    bs_model *m = S->m;
    int tty = S->progress && isatty(2);
    double wall0 = omp_get_wtime(), t_start = bs_model_time_days(m);
    bs_status st = BS_OK;
    bs_loop_end end = BS_LOOP_DONE;
    for (uint64_t k = m->step - m->step0;; k++) {
        if (g_stop) {
            st = bs_session_checkpoint(S, err);
            end = st == BS_OK ? BS_LOOP_STOPPED : BS_LOOP_FAILED;
            break;
        }
        /* A replayed action at step k goes in before k's outputs, as in
         * the viewer, where it happens while the model sits at step k. */
        while (st == BS_OK && S->next_action < S->replay.n && S->replay.a[S->next_action].step == k) {
            const bs_action *a = &S->replay.a[S->next_action++];
            if (a->kind == BS_ACT_END) continue;
            bs_error e2;
            st = bs_action_apply(m, a, &e2);
            if (st != BS_OK) bs_fail(err, st, "%s:%d: %s", S->replay.path, a->line, e2.msg);
        }
        if (st != BS_OK) break;
        if (k == (uint64_t)S->steps) {
            st = bs_session_outputs(S, 1, err);
            break;
        }
        st = bs_session_step(S, err);
        if (st != BS_OK) break;
        if (tty && (k % 24 == 0)) progress(bs_model_time_days(m) - t_start, S->days - t_start, omp_get_wtime() - wall0);
    }
    *wall = omp_get_wtime() - wall0;
    if (tty) {
        if (end == BS_LOOP_DONE && st == BS_OK) progress(S->days - t_start, S->days - t_start, *wall);
        fputc('\n', stderr);
    }
    return st != BS_OK ? BS_LOOP_FAILED : end;
}

bs_status bs_session_finish(bs_session *S, bs_error *err)
{
    bs_status vst = BS_OK;
    bs_error verr = { { 0 } };
    if (S->video) {
        /* a video inside the output folder is one of the run's outputs */
        char vp[4096];
        snprintf(vp, sizeof vp, "%s", bs_video_path(S->video));
        size_t n = strlen(S->outdir);
        int inside = strncmp(vp, S->outdir, n) == 0 && vp[n] == '/' && !strchr(vp + n + 1, '/');
        vst = bs_video_close(S->video, &verr);
        S->video = NULL;
        if (vst == BS_OK && inside) vst = output_will_write(S, vp, &verr);
    }
    bs_status st = bs_output_close(&S->out, err);
    if (st == BS_OK) st = bs_session_manifest(S, err);
    if (st == BS_OK && vst != BS_OK) {
        *err = verr;
        return vst;
    }
    return st;
}
