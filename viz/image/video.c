/* video.c — MP4 through an ffmpeg child process, GIF through giflib
 * (video.h). */
#define _POSIX_C_SOURCE 200809L

#include "video.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#ifdef BS_HAVE_GIF
#include <gif_lib.h>
#endif

typedef enum { V_MP4, V_GIF } vkind;

struct bs_video {
    vkind kind;
    char path[4096], tmp[4200];
    int fps, w, h;
    long frames;
    /* mp4 */
    pid_t pid;
    int fd; /* the pipe to ffmpeg's stdin, -1 when closed */
    char ffmpeg[4096];
#ifdef BS_HAVE_GIF
    GifFileType *gif;
    uint32_t *keys; /* colour hash table: 0 = empty, else rgb + 1 */
    uint32_t *counts;
    uint8_t *index; /* palette index per slot */
    uint32_t *used; /* slots filled this frame */
    size_t cap, nused;
    uint8_t *line;
#endif
};

/* ---- which writer ------------------------------------------------------------------------ */

static int find_ffmpeg(char *out, size_t n)
{
    const char *env = getenv("BONESIM_FFMPEG");
    if (env && *env) {
        if (strcmp(env, "none") == 0) return 0;
        if (access(env, X_OK) != 0) return 0;
        snprintf(out, n, "%s", env);
        return 1;
    }
    const char *path = getenv("PATH");
    if (!path || !*path) path = "/usr/local/bin:/usr/bin:/bin";
    const char *p = path;
    while (*p) {
        const char *e = strchr(p, ':');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        char cand[4096];
        if (len > 0 && len + 8 < sizeof cand) {
            snprintf(cand, sizeof cand, "%.*s/ffmpeg", (int)len, p);
            struct stat sb;
            if (stat(cand, &sb) == 0 && S_ISREG(sb.st_mode) && access(cand, X_OK) == 0) {
                snprintf(out, n, "%s", cand);
                return 1;
            }
        }
        if (!e) break;
        p = e + 1;
    }
    return 0;
}

int bs_video_mp4_possible(void)
{
    char buf[4096];
    return find_ffmpeg(buf, sizeof buf);
}

int bs_video_gif_possible(void)
{
#ifdef BS_HAVE_GIF
    return 1;
#else
    return 0;
#endif
}

const char *bs_video_default_ext(void)
{
    return bs_video_mp4_possible() ? "mp4" : bs_video_gif_possible() ? "gif" : NULL;
}

static int ext_is(const char *path, const char *ext)
{
    size_t n = strlen(path), e = strlen(ext);
    return n > e && strcasecmp(path + n - e, ext) == 0;
}

static const char *HOW_GIF = "rebuild with giflib (apt-get install libgif-dev; cmake -DBONESIM_WITH_GIF=ON)";

bs_status bs_video_check(const char *path, bs_error *err)
{
    if (!path || !*path) return bs_fail(err, BS_ERR_INVALID, "--video needs a file name (FILE.mp4 or FILE.gif)");
    if (ext_is(path, ".mp4")) {
        if (bs_video_mp4_possible()) return BS_OK;
        return bs_fail(err, BS_ERR_INVALID,
                "%s: an MP4 needs the ffmpeg program on PATH, and there is none%s (install it: apt-get install "
                "ffmpeg; or write a GIF: --video %.*s.gif%s)",
                path, getenv("BONESIM_FFMPEG") ? " ($BONESIM_FFMPEG is set)" : "", (int)(strlen(path) - 4), path,
                bs_video_gif_possible() ? "" : ", which needs giflib");
    }
    if (ext_is(path, ".gif")) {
        if (bs_video_gif_possible()) return BS_OK;
        return bs_fail(err, BS_ERR_INVALID,
                "%s: this bonesim was built without giflib, so it cannot write a GIF (%s%s)", path, HOW_GIF,
                bs_video_mp4_possible() ? "; or write an MP4 with ffmpeg: FILE.mp4" : "");
    }
    return bs_fail(err, BS_ERR_INVALID,
            "%s: unknown video type (valid: a name ending in .mp4 (ffmpeg) or .gif (giflib))", path);
}

bs_status bs_video_open(bs_video **out, const char *path, int fps, bs_error *err)
{
    *out = NULL;
    bs_status st = bs_video_check(path, err);
    if (st != BS_OK) return st;
    if (fps < 1 || fps > 60)
        return bs_fail(err, BS_ERR_INVALID, "%s: %d frames per second (valid: 1 .. 60)", path, fps);
    if (strlen(path) >= 4000) return bs_fail(err, BS_ERR_INVALID, "video path is too long");
    bs_video *v = calloc(1, sizeof *v);
    if (!v) return bs_fail(err, BS_ERR_NOMEM, "%s: out of memory", path);
    v->kind = ext_is(path, ".mp4") ? V_MP4 : V_GIF;
    v->fps = fps;
    v->fd = -1;
    v->pid = -1;
    snprintf(v->path, sizeof v->path, "%s", path);
    snprintf(v->tmp, sizeof v->tmp, "%s.tmp.%ld", path, (long)getpid());
    /* a folder that is missing or not writable fails now, not after the run */
    int fd = open(v->tmp, O_WRONLY | O_CREAT | O_TRUNC, 0666);
    if (fd < 0) {
        int e = errno;
        free(v);
        return bs_fail(err, BS_ERR_IO, "%s: cannot write (%s)", path, strerror(e));
    }
    close(fd);
    remove(v->tmp);
    if (v->kind == V_MP4 && !find_ffmpeg(v->ffmpeg, sizeof v->ffmpeg)) {
        free(v);
        return bs_fail(err, BS_ERR_INVALID, "%s: ffmpeg disappeared from PATH", path);
    }
    *out = v;
    return BS_OK;
}

long bs_video_frames(const bs_video *v)
{
    return v ? v->frames : 0;
}

const char *bs_video_path(const bs_video *v)
{
    return v ? v->path : "";
}

/* ---- MP4: ffmpeg on a pipe ----------------------------------------------------------------- */

static bs_status mp4_start(bs_video *v, bs_error *err)
{
    char size[64], rate[32];
    snprintf(size, sizeof size, "%dx%d", v->w, v->h);
    snprintf(rate, sizeof rate, "%d", v->fps);
    /* yuv420p (what players expect) needs even sizes: pad by a pixel. */
    const char *argv[] = { v->ffmpeg, "-hide_banner", "-loglevel", "error", "-nostats", "-y", "-f", "rawvideo",
        "-pix_fmt", "rgb24", "-video_size", size, "-framerate", rate, "-i", "pipe:0", "-vf",
        "pad=ceil(iw/2)*2:ceil(ih/2)*2", "-pix_fmt", "yuv420p", "-fflags", "+bitexact", "-flags:v", "+bitexact",
        "-map_metadata", "-1", "-movflags", "+faststart", "-f", "mp4", v->tmp, NULL };
    int p[2];
    if (pipe(p) != 0) return bs_fail(err, BS_ERR_IO, "%s: cannot make a pipe to ffmpeg (%s)", v->path, strerror(errno));
    /* The pipe's write end stays ours only: ffmpeg must see end-of-file. */
    (void)fcntl(p[1], F_SETFD, FD_CLOEXEC);
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        int e = errno;
        close(p[0]);
        close(p[1]);
        return bs_fail(err, BS_ERR_IO, "%s: cannot start ffmpeg (%s)", v->path, strerror(e));
    }
    if (pid == 0) {
        /* its own process group: Ctrl-C at the terminal stops bonesim,
         * which then finishes the video, and not ffmpeg under it */
        setpgid(0, 0);
        dup2(p[0], 0);
        close(p[0]);
        /* ffmpeg's own messages (errors only) go to our stderr */
        execv(v->ffmpeg, (char *const *)argv);
        _exit(127);
    }
    close(p[0]);
    v->pid = pid;
    v->fd = p[1];
    /* A dead ffmpeg must be a write error (EPIPE), not a killed run. */
    signal(SIGPIPE, SIG_IGN);
    return BS_OK;
}

static int write_all(int fd, const uint8_t *b, size_t n)
{
    while (n > 0) {
        ssize_t k = write(fd, b, n);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) return -1;
        b += k;
        n -= (size_t)k;
    }
    return 0;
}

/* Waits for ffmpeg; 0 when it exited with status 0. */
static int mp4_wait(bs_video *v, char *why, size_t n)
{
    if (v->fd >= 0) close(v->fd);
    v->fd = -1;
    if (v->pid <= 0) return 0;
    int status = 0;
    pid_t r;
    while ((r = waitpid(v->pid, &status, 0)) < 0 && errno == EINTR) {}
    v->pid = -1;
    if (r < 0) {
        snprintf(why, n, "waiting for ffmpeg failed (%s)", strerror(errno));
        return -1;
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return 0;
    if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
        snprintf(why, n, "ffmpeg could not be started");
    else if (WIFEXITED(status))
        snprintf(why, n, "ffmpeg failed with exit status %d (its message is above)", WEXITSTATUS(status));
    else
        snprintf(why, n, "ffmpeg was killed by signal %d", WIFSIGNALED(status) ? WTERMSIG(status) : 0);
    return -1;
}

/* ---- GIF: giflib --------------------------------------------------------------------------- */

#ifdef BS_HAVE_GIF
static bs_status gif_fail(bs_video *v, int code, bs_error *err)
{
    const char *m = GifErrorString(code);
    return bs_fail(err, BS_ERR_IO, "%s: GIF writer failed (%s)", v->path, m ? m : "unknown giflib error");
}

static bs_status gif_start(bs_video *v, bs_error *err)
{
    size_t npx = (size_t)v->w * (size_t)v->h, cap = 1024;
    while (cap < 2 * npx && cap < ((size_t)1 << 24)) cap <<= 1;
    v->cap = cap;
    v->keys = calloc(cap, sizeof *v->keys);
    v->counts = calloc(cap, sizeof *v->counts);
    v->index = calloc(cap, 1);
    v->used = malloc((npx < cap ? npx : cap) * sizeof *v->used);
    v->line = malloc((size_t)v->w);
    if (!v->keys || !v->counts || !v->index || !v->used || !v->line)
        return bs_fail(err, BS_ERR_NOMEM, "%s: out of memory for the GIF palette tables", v->path);
    int code = 0;
    /* our own open: giflib's would make the file private (mode 0600) */
    int fd = open(v->tmp, O_WRONLY | O_CREAT | O_TRUNC, 0666);
    if (fd < 0) return bs_fail(err, BS_ERR_IO, "%s: cannot write (%s)", v->path, strerror(errno));
    v->gif = EGifOpenFileHandle(fd, &code);
    if (!v->gif) {
        close(fd);
        const char *m = GifErrorString(code);
        return bs_fail(err, BS_ERR_IO, "%s: cannot start the GIF (%s)", v->path, m ? m : "giflib error");
    }
    EGifSetGifVersion(v->gif, true);
    if (EGifPutScreenDesc(v->gif, v->w, v->h, 8, 0, NULL) == GIF_ERROR) return gif_fail(v, v->gif->Error, err);
    /* NETSCAPE2.0 application block: loop for ever */
    static const unsigned char loop[3] = { 1, 0, 0 };
    if (EGifPutExtensionLeader(v->gif, APPLICATION_EXT_FUNC_CODE) == GIF_ERROR ||
            EGifPutExtensionBlock(v->gif, 11, "NETSCAPE2.0") == GIF_ERROR ||
            EGifPutExtensionBlock(v->gif, 3, loop) == GIF_ERROR || EGifPutExtensionTrailer(v->gif) == GIF_ERROR)
        return gif_fail(v, v->gif->Error, err);
    return BS_OK;
}

static size_t slot_of(const bs_video *v, uint32_t key)
{
    size_t h = (size_t)(key * 2654435761u) & (v->cap - 1);
    while (v->keys[h] != 0 && v->keys[h] != key) h = (h + 1) & (v->cap - 1);
    return h;
}

static uint32_t rgb_key(const uint8_t *p)
{
    return ((uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2]) + 1u;
}

/* Palette order: most frequent first, ties by colour value, so the
 * palette is a function of the frame alone. */
typedef struct {
    uint32_t key, count;
} colour_count;

static int by_count(const void *a, const void *b)
{
    const colour_count *x = a, *y = b;
    if (x->count != y->count) return x->count > y->count ? -1 : 1;
    return x->key < y->key ? -1 : x->key > y->key ? 1 : 0;
}

static bs_status gif_frame(bs_video *v, const bs_image *im, bs_error *err)
{
    size_t npx = (size_t)v->w * (size_t)v->h;
    v->nused = 0;
    for (size_t i = 0; i < npx; i++) {
        uint32_t key = rgb_key(im->rgb + 3 * i);
        size_t s = slot_of(v, key);
        if (v->keys[s] == 0) {
            v->keys[s] = key;
            v->used[v->nused++] = (uint32_t)s;
        }
        v->counts[s]++;
    }
    size_t nc = v->nused;
    colour_count *cc = malloc(nc * sizeof *cc);
    if (!cc) return bs_fail(err, BS_ERR_NOMEM, "%s: out of memory", v->path);
    for (size_t k = 0; k < nc; k++) {
        cc[k].key = v->keys[v->used[k]];
        cc[k].count = v->counts[v->used[k]];
    }
    qsort(cc, nc, sizeof *cc, by_count);
    int np = nc > 256 ? 256 : (int)nc;
    ColorMapObject *map = GifMakeMapObject(256, NULL);
    if (!map) {
        free(cc);
        return bs_fail(err, BS_ERR_NOMEM, "%s: out of memory", v->path);
    }
    for (int k = 0; k < 256; k++) {
        uint32_t c = k < np ? cc[k].key - 1u : 0u;
        map->Colors[k].Red = (GifByteType)(c >> 16);
        map->Colors[k].Green = (GifByteType)(c >> 8);
        map->Colors[k].Blue = (GifByteType)c;
        if (k < np) v->index[slot_of(v, cc[k].key)] = (uint8_t)k;
    }
    /* the rest: nearest palette colour (squared RGB distance, first wins) */
    for (size_t k = (size_t)np; k < nc; k++) {
        uint32_t c = cc[k].key - 1u;
        int r = (int)(c >> 16 & 255), g = (int)(c >> 8 & 255), b = (int)(c & 255), best = 0;
        long bd = -1;
        for (int q = 0; q < np; q++) {
            long dr = r - map->Colors[q].Red, dg = g - map->Colors[q].Green, db = b - map->Colors[q].Blue;
            long d = dr * dr + dg * dg + db * db;
            if (bd < 0 || d < bd) {
                bd = d;
                best = q;
            }
        }
        v->index[slot_of(v, cc[k].key)] = (uint8_t)best;
    }
    free(cc);
    GraphicsControlBlock gcb = { .DisposalMode = DISPOSE_DO_NOT,
        .UserInputFlag = false,
        .DelayTime = (100 + v->fps / 2) / v->fps,
        .TransparentColor = NO_TRANSPARENT_COLOR };
    GifByteType ext[4];
    size_t ne = EGifGCBToExtension(&gcb, ext);
    bs_status st = BS_OK;
    if (EGifPutExtension(v->gif, GRAPHICS_EXT_FUNC_CODE, (int)ne, ext) == GIF_ERROR ||
            EGifPutImageDesc(v->gif, 0, 0, v->w, v->h, false, map) == GIF_ERROR)
        st = gif_fail(v, v->gif->Error, err);
    for (int y = 0; st == BS_OK && y < v->h; y++) {
        const uint8_t *row = im->rgb + (size_t)y * (size_t)v->w * 3;
        for (int x = 0; x < v->w; x++) v->line[x] = v->index[slot_of(v, rgb_key(row + 3 * x))];
        if (EGifPutLine(v->gif, v->line, v->w) == GIF_ERROR) st = gif_fail(v, v->gif->Error, err);
    }
    GifFreeMapObject(map);
    /* empty the table for the next frame: only the slots used */
    for (size_t k = 0; k < v->nused; k++) {
        v->keys[v->used[k]] = 0;
        v->counts[v->used[k]] = 0;
    }
    return st;
}

static int gif_finish(bs_video *v, char *why, size_t n)
{
    if (!v->gif) return 0;
    int code = 0;
    int rc = EGifCloseFile(v->gif, &code);
    v->gif = NULL;
    if (rc == GIF_ERROR) {
        const char *m = GifErrorString(code);
        snprintf(why, n, "GIF writer failed (%s)", m ? m : "unknown giflib error");
        return -1;
    }
    return 0;
}

static void gif_free(bs_video *v)
{
    free(v->keys);
    free(v->counts);
    free(v->index);
    free(v->used);
    free(v->line);
}
#endif

/* ---- frames and the end -------------------------------------------------------------------- */

bs_status bs_video_frame(bs_video *v, const bs_image *im, bs_error *err)
{
    if (!v) return bs_fail(err, BS_ERR_INVALID, "no video open");
    if (!im || !im->rgb || im->w <= 0 || im->h <= 0) return bs_fail(err, BS_ERR_INVALID, "%s: no frame", v->path);
    if (v->frames == 0) {
        v->w = im->w;
        v->h = im->h;
        bs_status st = BS_OK;
        if (v->kind == V_MP4) st = mp4_start(v, err);
#ifdef BS_HAVE_GIF
        else
            st = gif_start(v, err);
#endif
        if (st != BS_OK) return st;
    } else if (im->w != v->w || im->h != v->h) {
        return bs_fail(err, BS_ERR_INVALID, "%s: frame %ld is %dx%d pixels, the video is %dx%d", v->path, v->frames + 1,
                im->w, im->h, v->w, v->h);
    }
    if (v->kind == V_MP4) {
        if (write_all(v->fd, im->rgb, (size_t)im->w * (size_t)im->h * 3) != 0) {
            int e = errno;
            char why[256] = "";
            mp4_wait(v, why, sizeof why);
            return bs_fail(err, BS_ERR_IO, "%s: ffmpeg stopped reading frames (%s%s%s)", v->path, strerror(e),
                    why[0] ? "; " : "", why);
        }
    }
#ifdef BS_HAVE_GIF
    else {
        bs_status st = gif_frame(v, im, err);
        if (st != BS_OK) return st;
    }
#endif
    v->frames++;
    return BS_OK;
}

static void video_free(bs_video *v)
{
#ifdef BS_HAVE_GIF
    gif_free(v);
#endif
    free(v);
}

bs_status bs_video_close(bs_video *v, bs_error *err)
{
    if (!v) return BS_OK;
    char why[512] = "";
    int bad = 0;
    if (v->kind == V_MP4) bad = mp4_wait(v, why, sizeof why);
#ifdef BS_HAVE_GIF
    else
        bad = gif_finish(v, why, sizeof why);
#endif
    bs_status st = BS_OK;
    if (v->frames == 0)
        st = bs_fail(err, BS_ERR_INVALID, "%s: no frames were recorded, so no video was written", v->path);
    else if (bad)
        st = bs_fail(err, BS_ERR_IO, "%s: %s", v->path, why);
    else if (rename(v->tmp, v->path) != 0)
        st = bs_fail(err, BS_ERR_IO, "%s: cannot replace file (%s)", v->path, strerror(errno));
    if (st != BS_OK) remove(v->tmp);
    video_free(v);
    return st;
}

void bs_video_abort(bs_video *v)
{
    if (!v) return;
    if (v->kind == V_MP4 && v->pid > 0) {
        close(v->fd);
        v->fd = -1;
        kill(v->pid, SIGTERM);
        int status;
        while (waitpid(v->pid, &status, 0) < 0 && errno == EINTR) {}
        v->pid = -1;
    }
#ifdef BS_HAVE_GIF
    if (v->gif) {
        int code;
        EGifCloseFile(v->gif, &code);
        v->gif = NULL;
    }
#endif
    remove(v->tmp);
    video_free(v);
}
