/* fstat/fileno for include-cycle detection by file identity; open with
 * O_NONBLOCK and fdopen for bs_fopen_regular. */
#define _POSIX_C_SOURCE 200809L

#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <ini.h>

/* Include levels below the top file. Real scenarios use one or two
 * (scenario -> base); the limit only turns a runaway chain into a message. */
#define BS_INCLUDE_MAX_DEPTH 8

#define BS_SYNTAX_MSG "syntax error (expected 'key = value' or '[section]')"

typedef struct bs_load_file bs_load_file;

/* State shared by all files of one bs_config_load. */
typedef struct {
    bs_paramset *ps; /* a private clone; swapped into the caller's on success */
    size_t nparams; /* size of each file's `seen` array */
    bs_status status; /* first failure; BS_OK while there is none */
    bs_error msg; /* its message (kept here: the caller's err may be NULL) */
} bs_load_ctx;

/* One file being read. Files form a chain through `parent` (the file whose
 * include line opened this one), which is the stack searched for cycles. */
struct bs_load_file {
    bs_load_ctx *ctx;
    const bs_load_file *parent;
    const char *path;
    FILE *fp;
    dev_t dev;
    ino_t ino;
    int depth; /* 0 for the file given to bs_config_load */
    int lineno; /* lines handed to inih so far = line of the current key */
    int fail_line; /* line of this file where loading stopped, 0 if none */
    int *seen; /* per parameter: line of this file that set it, 0 if none */
};

/* Records the first failure, prefixed "path:line: ". */
static int bs_file_fail(bs_load_file *f, bs_status code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int bs_file_fail(bs_load_file *f, bs_status code, const char *fmt, ...)
{
    bs_load_ctx *ctx = f->ctx;
    char what[sizeof ctx->msg.msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    bs_fail(&ctx->msg, code, "%s:%d: %s", f->path, f->lineno, what);
    ctx->status = code;
    f->fail_line = f->lineno;
    return 0; /* inih: handler failed */
}

/* Records a failure whose message (already "where: ...") is in ctx->msg. */
static int bs_file_failed(bs_load_file *f, bs_status code)
{
    f->ctx->status = code;
    f->fail_line = f->lineno;
    return 0;
}

static const char *bs_file_kind(mode_t m)
{
    if (S_ISFIFO(m)) return "a FIFO";
    if (S_ISCHR(m)) return "a character device";
    if (S_ISBLK(m)) return "a block device";
    if (S_ISSOCK(m)) return "a socket";
    return "not a plain file";
}

int bs_open_regular(const char *path, int *err_no, const char **kind)
{
    *err_no = 0;
    *kind = NULL;
    /* stat first: a device or FIFO is never opened at all (opening some
     * devices has effects, a FIFO without a writer blocks). */
    struct stat sb;
    if (stat(path, &sb) != 0) {
        *err_no = errno;
        return -1;
    }
    if (S_ISDIR(sb.st_mode)) {
        *err_no = EISDIR;
        return -1;
    }
    if (!S_ISREG(sb.st_mode)) {
        *kind = bs_file_kind(sb.st_mode);
        return -1;
    }
    /* The file may be swapped for a FIFO between stat and open: O_NONBLOCK
     * makes that open return at once, and fstat sees what was opened. */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        *err_no = errno;
        return -1;
    }
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        int e = errno;
        *kind = S_ISDIR(sb.st_mode) ? NULL : bs_file_kind(sb.st_mode);
        *err_no = S_ISDIR(sb.st_mode) ? EISDIR : e;
        close(fd);
        return -1;
    }
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0) (void)fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
    return fd;
}

/* bs_open_regular as a stdio stream. */
static FILE *bs_fopen_regular(const char *path, int *err_no, const char **kind)
{
    int fd = bs_open_regular(path, err_no, kind);
    if (fd < 0) return NULL;
    FILE *fp = fdopen(fd, "r");
    if (!fp) {
        *err_no = errno;
        close(fd);
    }
    return fp;
}

static char *bs_strdup(const char *s)
{
    size_t len = strlen(s);
    char *p = malloc(len + 1);
    if (p) memcpy(p, s, len + 1);
    return p;
}

/* What a line may hold besides "key = value", "[section]" and comments is
 * decided here, before inih sees the line (inih itself is lenient: it drops
 * text after ']' and takes ':' for '='). Returns 0 and records the error
 * when the line is refused. `p` is the line without leading whitespace. */
static int bs_check_line(bs_load_file *f, const char *p)
{
    if (f->lineno == 1 && (unsigned char)p[0] == 0xEF && (unsigned char)p[1] == 0xBB && (unsigned char)p[2] == 0xBF) {
        p += 3; /* UTF-8 byte order mark, which inih skips */
        while (*p == ' ' || *p == '\t') p++;
    }
    if (!*p || *p == ';' || *p == '#') return 1;
    if (*p == '[') {
        const char *close = strchr(p, ']');
        if (!close) return 1; /* inih reports the missing ']' */
        const char *q = close + 1;
        while (*q == ' ' || *q == '\t') q++;
        if (*q && *q != ';') {
            bs_file_fail(f, BS_ERR_INVALID,
                    "text after ']' ('%.60s'): a section line holds only [section] and an optional '; comment'; put "
                    "each key = value on a line of its own",
                    q);
            return 0;
        }
        return 1;
    }
    size_t sep = strcspn(p, "=:");
    if (p[sep] == ':') {
        bs_file_fail(f, BS_ERR_INVALID, "'key: value' is not accepted (valid: 'key = value')");
        return 0;
    }
    return 1;
}

/* Reader for ini_parse_stream, byte by byte. It exists because:
 *  - inih (as packaged by Debian) does not pass line numbers to handlers,
 *    so the reader counts lines and the handler reads f->lineno. inih
 *    counts one line per reader call, so the two counts always agree and
 *    its error line (syntax errors) matches ours;
 *  - returning NULL after the first failure stops the parse, since inih
 *    itself keeps going after errors;
 *  - a scenario is text: a NUL byte anywhere is an error (fgets would cut
 *    the line at it silently), and so is a carriage return that is not
 *    part of a CRLF line end. A file with CR-only line ends (classic Mac)
 *    would otherwise be one long line whose first key swallows the rest;
 *  - a line longer than inih's buffer is an error, not two lines;
 *  - leading whitespace is removed, which turns off inih's Python-style
 *    continuation lines: an indented "key = value" under another key is a
 *    key of its own, as anyone reading the file would expect;
 *  - bs_check_line refuses what inih would silently misread. */
static char *bs_ini_reader(char *str, int num, void *stream)
{
    bs_load_file *f = stream;
    if (f->ctx->status != BS_OK || num < 3) return NULL;
    size_t max = (size_t)num - 2, len = 0;
    int c, any = 0;
    while ((c = getc(f->fp)) != EOF) {
        if (!any) f->lineno++;
        any = 1;
        if (c == '\n') break;
        if (c == '\0') {
            bs_file_fail(f, BS_ERR_INVALID, "NUL byte at column %zu (a scenario file is text)", len + 1);
            return NULL;
        }
        if (c == '\r') {
            int d = getc(f->fp);
            if (d == '\n') break;
            bs_file_fail(f, BS_ERR_INVALID,
                    "carriage return without a line feed at column %zu (valid line ends: LF or CRLF; a file with "
                    "CR-only line ends must be converted, e.g. tr '\\r' '\\n')",
                    len + 1);
            return NULL;
        }
        if (len == max) {
            /* stop at once: a huge file without line ends is not read whole */
            bs_file_fail(f, BS_ERR_INVALID, "line too long (valid: at most %zu characters)", max);
            return NULL;
        }
        str[len++] = (char)c;
    }
    if (!any) return NULL;
    str[len] = '\0';

    size_t skip = 0;
    while (str[skip] == ' ' || str[skip] == '\t') skip++;
    if (skip) memmove(str, str + skip, len - skip + 1);
    if (!bs_check_line(f, str)) return NULL;
    return str;
}

static bs_status bs_load_path(bs_load_ctx *ctx, const char *path, bs_load_file *parent);

/* Handles "include = path" on the current line of f. */
static int bs_include(bs_load_file *f, const char *value)
{
    if (!value[0]) return bs_file_fail(f, BS_ERR_INVALID, "include needs a file name");

    /* Relative to the including file, so a scenario and its base can be
     * moved together and run from any working directory. */
    size_t dirlen = 0;
    const char *slash = strrchr(f->path, '/');
    if (value[0] != '/' && slash) dirlen = (size_t)(slash - f->path) + 1;
    size_t vlen = strlen(value);
    char *path = malloc(dirlen + vlen + 1);
    if (!path) return bs_file_fail(f, BS_ERR_NOMEM, "out of memory");
    memcpy(path, f->path, dirlen);
    memcpy(path + dirlen, value, vlen + 1);

    bs_status st = bs_load_path(f->ctx, path, f);
    free(path);
    if (st != BS_OK) {
        /* The message names the failing line of the included file; this
         * file stops at its include line. */
        f->fail_line = f->lineno;
        return 0;
    }
    return 1;
}

static void bs_trim(char *s)
{
    size_t len = strlen(s), skip = 0;
    while (len && isspace((unsigned char)s[len - 1])) s[--len] = '\0';
    while (isspace((unsigned char)s[skip])) skip++;
    if (skip) memmove(s, s + skip, len - skip + 1);
}

static int bs_ini_handler(void *user, const char *section, const char *name, const char *value)
{
    bs_load_file *f = user;
    bs_load_ctx *ctx = f->ctx;
    if (ctx->status != BS_OK) return 0;

    /* inih keeps the text between the brackets verbatim: "[ oc ]" would
     * otherwise give the section " oc ". */
    char sec[256];
    snprintf(sec, sizeof sec, "%s", section);
    bs_trim(sec);
    if (!name[0]) return bs_file_fail(f, BS_ERR_INVALID, BS_SYNTAX_MSG);

    if (strcmp(name, "include") == 0) {
        if (sec[0])
            return bs_file_fail(f, BS_ERR_INVALID, "include must come before the first [section] (found in [%s])", sec);
        return bs_include(f, value);
    }

    char full[512];
    snprintf(full, sizeof full, "%s%s%s", sec, sec[0] ? "." : "", name);

    long idx = bs_registry_find(bs_paramset_registry(ctx->ps), full);
    if (idx >= 0 && (size_t)idx < ctx->nparams && f->seen[idx])
        return bs_file_fail(f, BS_ERR_INVALID, "'%s' already set at line %d", full, f->seen[idx]);

    char where[sizeof ctx->msg.msg];
    snprintf(where, sizeof where, "%s:%d", f->path, f->lineno);
    bs_status st = bs_paramset_set_text(ctx->ps, full, value, where, &ctx->msg);
    if (st != BS_OK) return bs_file_failed(f, st);
    if (idx >= 0 && (size_t)idx < ctx->nparams) f->seen[idx] = f->lineno;
    return 1;
}

/* "a.ini -> b.ini -> a.ini" for the cycle message. */
static void bs_fmt_chain(char *buf, size_t n, const bs_load_file *top, const char *path)
{
    const bs_load_file *chain[BS_INCLUDE_MAX_DEPTH + 2];
    size_t k = 0;
    for (const bs_load_file *p = top; p && k < sizeof chain / sizeof chain[0]; p = p->parent) chain[k++] = p;
    size_t used = 0;
    buf[0] = '\0';
    while (k-- > 0) {
        int w = snprintf(buf + used, n - used, "%s -> ", chain[k]->path);
        if (w < 0 || (size_t)w >= n - used) return;
        used += (size_t)w;
    }
    snprintf(buf + used, n - used, "%s", path);
}

/* A file that cannot be opened (errno e) or is not a regular file (kind):
 * for an include the include line is where the user must look, so it leads
 * the message. */
static bs_status bs_open_failed(bs_load_ctx *ctx, bs_load_file *parent, const char *path, int e, const char *kind)
{
    if (parent && kind)
        bs_file_fail(parent, BS_ERR_IO, "include file '%s' is not a regular file (%s)", path, kind);
    else if (parent)
        bs_file_fail(parent, BS_ERR_IO, "cannot open include file '%s' (%s)", path, strerror(e));
    else if (kind)
        bs_fail(&ctx->msg, BS_ERR_IO, "%s: not a regular file (%s)", path, kind);
    else
        bs_fail(&ctx->msg, BS_ERR_IO, "%s: cannot open (%s)", path, strerror(e));
    ctx->status = BS_ERR_IO;
    return ctx->status;
}

/* Opens, checks and parses one file. `parent` is NULL for the top file. */
static bs_status bs_load_path(bs_load_ctx *ctx, const char *path, bs_load_file *parent)
{
    bs_load_file f = { .ctx = ctx, .parent = parent, .path = path };
    f.depth = parent ? parent->depth + 1 : 0;

    if (f.depth > BS_INCLUDE_MAX_DEPTH) {
        bs_file_fail(parent, BS_ERR_INVALID, "includes nested too deeply at '%s' (valid: at most %d levels)", path,
                BS_INCLUDE_MAX_DEPTH);
        return ctx->status;
    }

    int e;
    const char *kind;
    f.fp = bs_fopen_regular(path, &e, &kind);
    if (!f.fp) return bs_open_failed(ctx, parent, path, e, kind);

    /* Cycles are found by file identity, not by name: "a.ini" and
     * "sub/../a.ini" are the same file. */
    struct stat sb;
    if (fstat(fileno(f.fp), &sb) == 0) {
        f.dev = sb.st_dev;
        f.ino = sb.st_ino;
        for (const bs_load_file *p = parent; p; p = p->parent) {
            if (p->dev == f.dev && p->ino == f.ino) {
                char chain[sizeof ctx->msg.msg];
                bs_fmt_chain(chain, sizeof chain, parent, path);
                bs_file_fail(parent, BS_ERR_INVALID, "include cycle (%s)", chain);
                fclose(f.fp);
                return ctx->status;
            }
        }
    }

    f.seen = calloc(ctx->nparams + 1, sizeof *f.seen);
    if (!f.seen) {
        fclose(f.fp);
        ctx->status = bs_fail(&ctx->msg, BS_ERR_NOMEM, "%s: out of memory", path);
        return ctx->status;
    }

    int r = ini_parse_stream(bs_ini_reader, &f, bs_ini_handler, &f);
    int read_error = ferror(f.fp);
    free(f.seen);
    fclose(f.fp);

    if (r > 0 && (f.fail_line == 0 || r < f.fail_line)) {
        /* inih reports the first bad line; lines after it may have been
         * handled (inih does not stop), but this one came first. Nothing
         * was applied to the caller's paramset, so that does no harm. */
        f.lineno = r;
        bs_file_fail(&f, BS_ERR_INVALID, BS_SYNTAX_MSG);
    } else if (r < 0 && ctx->status == BS_OK) {
        ctx->status = bs_fail(&ctx->msg, BS_ERR_NOMEM, "%s: cannot parse (inih error %d)", path, r);
    } else if (read_error && ctx->status == BS_OK) {
        ctx->status = bs_fail(&ctx->msg, BS_ERR_IO, "%s: read error", path);
    }
    return ctx->status;
}

bs_status bs_config_load(bs_paramset *ps, const char *path, bs_error *err)
{
    if (!ps || !path) return bs_fail(err, BS_ERR_INTERNAL, "bs_config_load: NULL argument");

    /* Work on a clone so a file that fails half-way changes nothing: the
     * viewer can reload a scenario and keep running on the old values. */
    bs_load_ctx ctx = { .status = BS_OK };
    ctx.ps = bs_paramset_clone(ps);
    if (!ctx.ps) return bs_fail(err, BS_ERR_NOMEM, "%s: out of memory", path);
    ctx.nparams = bs_registry_count(bs_paramset_registry(ps));

    bs_status st = bs_load_path(&ctx, path, NULL);
    if (st == BS_OK)
        bs_paramset_swap(ps, ctx.ps);
    else if (err)
        *err = ctx.msg;
    bs_paramset_destroy(ctx.ps);
    return st;
}

bs_status bs_config_set(bs_paramset *ps, const char *assignment, bs_error *err)
{
    if (!ps || !assignment) return bs_fail(err, BS_ERR_INTERNAL, "bs_config_set: NULL argument");
    const char *eq = strchr(assignment, '=');
    if (!eq) return bs_fail(err, BS_ERR_INVALID, "--set: expected section.key=value, got '%s'", assignment);

    char *copy = bs_strdup(assignment);
    if (!copy) return bs_fail(err, BS_ERR_NOMEM, "--set: out of memory");
    char *key = copy, *value = copy + (eq - assignment) + 1;
    copy[eq - assignment] = '\0';
    bs_trim(key);
    bs_trim(value);

    bs_status st;
    if (!key[0])
        st = bs_fail(err, BS_ERR_INVALID, "--set: expected section.key=value, got '%s'", assignment);
    else
        st = bs_paramset_set_text(ps, key, value, "--set", err);
    free(copy);
    return st;
}

/* Reads one line of any length into *buf (grown as needed), without the
 * line ending. Returns 0 at end of file. */
static int bs_read_line(FILE *fp, char **buf, size_t *cap)
{
    size_t len = 0;
    int c = EOF;
    while ((c = getc(fp)) != EOF && c != '\n') {
        if (len + 2 > *cap) {
            size_t ncap = *cap ? *cap * 2 : 256;
            char *p = realloc(*buf, ncap);
            if (!p) return -1;
            *buf = p;
            *cap = ncap;
        }
        (*buf)[len++] = (char)c;
    }
    if (c == EOF && len == 0) return 0;
    if (!*buf) {
        /* An empty first line: still hand back a valid string. */
        *buf = malloc(1);
        if (!*buf) return -1;
        *cap = 1;
    }
    while (len && ((*buf)[len - 1] == '\r' || isspace((unsigned char)(*buf)[len - 1]))) len--;
    (*buf)[len] = '\0';
    return 1;
}

bs_status bs_config_header(const char *path, char *buf, size_t n, bs_error *err)
{
    if (!path || (!buf && n)) return bs_fail(err, BS_ERR_INTERNAL, "bs_config_header: NULL argument");
    if (n) buf[0] = '\0';
    int e;
    const char *kind;
    FILE *fp = bs_fopen_regular(path, &e, &kind);
    if (!fp && kind) return bs_fail(err, BS_ERR_IO, "%s: not a regular file (%s)", path, kind);
    if (!fp) return bs_fail(err, BS_ERR_IO, "%s: cannot open (%s)", path, strerror(e));

    char *line = NULL;
    size_t cap = 0, used = 0;
    int started = 0, first = 1, r;
    bs_status st = BS_OK;
    while ((r = bs_read_line(fp, &line, &cap)) > 0) {
        char *p = line;
        if (first && (unsigned char)p[0] == 0xEF && (unsigned char)p[1] == 0xBB && (unsigned char)p[2] == 0xBF)
            p += 3; /* UTF-8 byte order mark, as inih skips it */
        first = 0;
        while (*p == ' ' || *p == '\t') p++;
        if (!*p) {
            if (started) break; /* a blank line ends the header block */
            continue;
        }
        if (*p != '#' && *p != ';') break;
        p++;
        if (*p == ' ') p++;
        if (n) {
            /* Truncates quietly: the header is a description, and a short
             * buffer (a one-line summary) is a legitimate request. */
            int w = snprintf(buf + used, n - used, "%s%s", started ? "\n" : "", p);
            used = (w < 0 || (size_t)w >= n - used) ? n - 1 : used + (size_t)w;
        }
        started = 1;
    }
    if (r < 0)
        st = bs_fail(err, BS_ERR_NOMEM, "%s: out of memory reading header", path);
    else if (ferror(fp))
        st = bs_fail(err, BS_ERR_IO, "%s: read error", path);
    free(line);
    fclose(fp);
    return st;
}

bs_status bs_config_apply_preset(bs_paramset *ps, const char *path, size_t *n_applied, bs_error *err)
{
    if (n_applied) *n_applied = 0;
    if (!ps || !path) return bs_fail(err, BS_ERR_INTERNAL, "bs_config_apply_preset: NULL argument");
    const bs_registry *reg = bs_paramset_registry(ps);
    bs_paramset *pre = bs_paramset_create(reg);
    if (!pre) return bs_fail(err, BS_ERR_NOMEM, "out of memory");
    bs_status st = bs_config_load(pre, path, err); /* bad values: file:line from the loader */
    size_t n = bs_registry_count(reg);
    for (size_t i = 0; st == BS_OK && i < n; i++) {
        const char *name = bs_registry_at(reg, i)->name;
        if (bs_param_is_set(pre, i) && strncmp(name, "run.", 4) == 0)
            st = bs_fail(err, BS_ERR_INVALID,
                    "%s: a preset sets model parameters only, not %s (valid: any parameter outside run.*)", path, name);
    }
    for (size_t i = 0; st == BS_OK && i < n; i++) {
        if (!bs_param_is_set(pre, i) || bs_param_is_set(ps, i)) continue; /* explicit values win */
        char v[1100];
        bs_param_format(pre, i, v, sizeof v);
        st = bs_paramset_set_text(ps, bs_registry_at(reg, i)->name, v, path, err);
        if (st == BS_OK && n_applied) (*n_applied)++;
    }
    bs_paramset_destroy(pre);
    return st;
}
