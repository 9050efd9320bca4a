/* checkpoint.c — the restart-file container (framing, checksum, atomic
 * replace). See checkpoint.h for the layout. */
#define _POSIX_C_SOURCE 200809L
#include "checkpoint.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char magic_head[8] = { '\x89', 'B', 'S', 'C', 'K', 'P', 'T', '\n' };
static const char magic_tail[8] = { '\x89', 'B', 'S', 'C', 'E', 'N', 'D', '\n' };
static const uint32_t byte_order_mark = 0x01020304u;

#define HEADER_BYTES 24u /* magic, version, byte order, reserved */
#define TRAILER_BYTES 24u /* magic, section count, checksum */

/* Element sizes above this are not state arrays but a damaged header. */
#define ELEM_SIZE_MAX (1u << 20)

/* A model has a few dozen sections; the limit keeps a hostile file from
 * making the duplicate check (quadratic) slow. */
#define SECTIONS_MAX 4096

uint64_t bs_fnv1a(uint64_t h, const void *data, size_t n)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

void bs_ckpt_temp_path(const char *path, char *buf, size_t n)
{
    snprintf(buf, n, "%s.tmp.%ld", path, (long)getpid());
}

/* ---- writer ------------------------------------------------------------- */

struct bs_ckpt_writer {
    FILE *fp;
    char *path, *tmp;
    uint64_t hash, nsections;
    int failed_errno; /* first write error, 0 if none */
    int bad_name; /* a put with an invalid name (programming error) */
};

static void wr(bs_ckpt_writer *w, const void *data, size_t n)
{
    if (w->failed_errno || n == 0) return;
    if (fwrite(data, 1, n, w->fp) != n) {
        w->failed_errno = errno ? errno : EIO;
        return;
    }
    w->hash = bs_fnv1a(w->hash, data, n);
}

static char *dup_str(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = malloc(n);
    if (p) memcpy(p, s, n);
    return p;
}

bs_status bs_ckpt_create(bs_ckpt_writer **out, const char *path, bs_error *err)
{
    *out = NULL;
    bs_ckpt_writer *w = calloc(1, sizeof *w);
    if (!w) return bs_fail(err, BS_ERR_NOMEM, "%s: out of memory", path);
    size_t tn = strlen(path) + 32;
    w->path = dup_str(path);
    w->tmp = malloc(tn);
    if (!w->path || !w->tmp) {
        bs_ckpt_abort(w);
        return bs_fail(err, BS_ERR_NOMEM, "%s: out of memory", path);
    }
    bs_ckpt_temp_path(path, w->tmp, tn);
    w->fp = fopen(w->tmp, "wb");
    if (!w->fp) {
        int e = errno;
        free(w->path);
        free(w->tmp);
        free(w);
        return bs_fail(err, BS_ERR_IO, "%s: cannot write checkpoint (%s)", path, strerror(e));
    }
    w->hash = BS_FNV1A_INIT;
    uint32_t version = BS_CKPT_FORMAT_VERSION;
    uint64_t reserved = 0;
    wr(w, magic_head, sizeof magic_head);
    wr(w, &version, sizeof version);
    wr(w, &byte_order_mark, sizeof byte_order_mark);
    wr(w, &reserved, sizeof reserved);
    *out = w;
    return BS_OK;
}

void bs_ckpt_put(bs_ckpt_writer *w, const char *name, uint32_t elem_size, uint64_t count, const void *data)
{
    size_t len = strlen(name);
    if (len == 0 || len > BS_CKPT_NAME_MAX || elem_size == 0 || elem_size > ELEM_SIZE_MAX || (count > 0 && !data)) {
        w->bad_name = 1;
        return;
    }
    uint32_t nl = (uint32_t)len;
    wr(w, &nl, sizeof nl);
    wr(w, name, len);
    wr(w, &elem_size, sizeof elem_size);
    wr(w, &count, sizeof count);
    /* Large arrays in pieces, so a failure is noticed early and the hash
     * runs while the data is still in cache. */
    const unsigned char *p = data;
    uint64_t left = count * elem_size;
    while (left > 0 && !w->failed_errno) {
        size_t chunk = left > (1u << 20) ? (1u << 20) : (size_t)left;
        wr(w, p, chunk);
        p += chunk;
        left -= chunk;
    }
    w->nsections++;
}

static void sync_folder(const char *path)
{
    /* The rename is durable only once the folder is synced. Best effort:
     * some filesystems refuse fsync on a directory. */
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash == dir)
        slash[1] = '\0';
    else if (slash)
        *slash = '\0';
    else
        snprintf(dir, sizeof dir, ".");
    int fd = open(dir, O_RDONLY);
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
}

bs_status bs_ckpt_commit(bs_ckpt_writer *w, bs_error *err)
{
    if (!w) return bs_fail(err, BS_ERR_INTERNAL, "checkpoint: no writer");
    bs_status st = BS_OK;
    if (w->bad_name) {
        st = bs_fail(err, BS_ERR_INTERNAL, "%s: invalid section in checkpoint (internal error)", w->path);
    } else {
        wr(w, magic_tail, sizeof magic_tail);
        wr(w, &w->nsections, sizeof w->nsections);
        uint64_t sum = w->hash;
        if (!w->failed_errno && fwrite(&sum, 1, sizeof sum, w->fp) != sizeof sum) w->failed_errno = errno ? errno : EIO;
        if (!w->failed_errno && fflush(w->fp) != 0) w->failed_errno = errno ? errno : EIO;
        if (!w->failed_errno && fsync(fileno(w->fp)) != 0 && errno != EINVAL && errno != EROFS) w->failed_errno = errno;
        if (w->failed_errno)
            st = bs_fail(err, BS_ERR_IO, "%s: cannot write checkpoint (%s)", w->path, strerror(w->failed_errno));
    }
    int rc = fclose(w->fp);
    w->fp = NULL;
    if (st == BS_OK && rc != 0)
        st = bs_fail(err, BS_ERR_IO, "%s: cannot write checkpoint (%s)", w->path, strerror(errno));
    if (st == BS_OK && rename(w->tmp, w->path) != 0)
        st = bs_fail(err, BS_ERR_IO, "%s: cannot rename checkpoint into place (%s)", w->path, strerror(errno));
    if (st == BS_OK)
        sync_folder(w->path);
    else
        remove(w->tmp);
    free(w->path);
    free(w->tmp);
    free(w);
    return st;
}

void bs_ckpt_abort(bs_ckpt_writer *w)
{
    if (!w) return;
    if (w->fp) {
        fclose(w->fp);
        remove(w->tmp);
    }
    free(w->path);
    free(w->tmp);
    free(w);
}

/* ---- reader ------------------------------------------------------------- */

typedef struct {
    char name[BS_CKPT_NAME_MAX + 1];
    uint32_t elem_size;
    uint64_t count;
    long long offset; /* of the payload */
    int used;
} section;

struct bs_ckpt_reader {
    FILE *fp;
    char *path;
    section *s;
    size_t n, cap;
};

/* Reads exactly n bytes and folds them into the hash; 0 at a short read. */
static int rd(FILE *fp, void *dst, size_t n, uint64_t *hash)
{
    if (n && fread(dst, 1, n, fp) != n) return 0;
    *hash = bs_fnv1a(*hash, dst, n);
    return 1;
}

static bs_status corrupt(bs_ckpt_reader *r, bs_error *err, const char *what)
{
    return bs_fail(err, BS_ERR_INVALID, "%s: corrupted or truncated checkpoint (%s); use an earlier checkpoint",
            r->path, what);
}

/* The checksum of the whole file, before anything in it is believed: a
 * damaged header (a flipped version byte) is damage, not another format.
 * The trailer's last 8 bytes are the FNV-1a of every byte before them,
 * whatever the format version. */
static bs_status check_sum(bs_ckpt_reader *r, long long size, bs_error *err)
{
    if (size < (long long)(HEADER_BYTES + TRAILER_BYTES)) return BS_OK; /* scan() says what is wrong */
    unsigned char buf[1 << 16];
    /* Not a checkpoint at all: scan() says so. */
    int ours = fread(buf, 1, sizeof magic_head, r->fp) == sizeof magic_head &&
            memcmp(buf, magic_head, sizeof magic_head) == 0;
    uint64_t hash = bs_fnv1a(BS_FNV1A_INIT, buf, sizeof magic_head), sum;
    long long left = size - 8 - (long long)sizeof magic_head;
    while (ours && left > 0) {
        size_t chunk = left > (long long)sizeof buf ? sizeof buf : (size_t)left;
        if (fread(buf, 1, chunk, r->fp) != chunk) return corrupt(r, err, "short read");
        hash = bs_fnv1a(hash, buf, chunk);
        left -= (long long)chunk;
    }
    if (ours && fread(&sum, 1, sizeof sum, r->fp) != sizeof sum) return corrupt(r, err, "short read");
    if (fseeko(r->fp, 0, SEEK_SET) != 0) return bs_fail(err, BS_ERR_IO, "%s: cannot seek", r->path);
    /* A file from a machine of the other byte order stores its checksum
     * swapped as well: scan() names that. */
    if (ours && sum != hash && __builtin_bswap64(sum) != hash) return corrupt(r, err, "checksum mismatch");
    return BS_OK;
}

/* One pass over the file: framing, directory of sections, checksum. */
static bs_status scan(bs_ckpt_reader *r, long long size, bs_error *err)
{
    uint64_t hash = BS_FNV1A_INIT;
    unsigned char head[HEADER_BYTES];
    if (size < (long long)HEADER_BYTES || fread(head, 1, sizeof head, r->fp) != sizeof head ||
            memcmp(head, magic_head, sizeof magic_head) != 0)
        return bs_fail(err, BS_ERR_INVALID, "%s: not a bonesim checkpoint (no checkpoint header)", r->path);
    hash = bs_fnv1a(hash, head, sizeof head);
    uint32_t version, bom;
    memcpy(&version, head + 8, sizeof version);
    memcpy(&bom, head + 12, sizeof bom);
    if (bom != byte_order_mark) {
        if (bom == 0x04030201u)
            return bs_fail(err, BS_ERR_INVALID,
                    "%s: checkpoint was written on a machine of the other byte order (valid: same byte order)",
                    r->path);
        return corrupt(r, err, "bad byte-order mark");
    }
    if (version != BS_CKPT_FORMAT_VERSION)
        return bs_fail(err, BS_ERR_INVALID,
                "%s: checkpoint format version %u is not supported (valid: version %u); resume it with the "
                "bonesim that wrote it",
                r->path, version, BS_CKPT_FORMAT_VERSION);
    if (size < (long long)(HEADER_BYTES + TRAILER_BYTES)) return corrupt(r, err, "file too short");

    long long pos = HEADER_BYTES, end = size - TRAILER_BYTES;
    unsigned char buf[1 << 16];
    while (pos < end) {
        uint32_t nl, es;
        uint64_t count;
        char name[BS_CKPT_NAME_MAX + 1];
        if (end - pos < 4 || !rd(r->fp, &nl, sizeof nl, &hash)) return corrupt(r, err, "section header");
        pos += 4;
        if (nl == 0 || nl > BS_CKPT_NAME_MAX || end - pos < (long long)nl + 12) return corrupt(r, err, "section name");
        if (!rd(r->fp, name, nl, &hash) || memchr(name, '\0', nl)) return corrupt(r, err, "section name");
        name[nl] = '\0';
        if (!rd(r->fp, &es, sizeof es, &hash) || !rd(r->fp, &count, sizeof count, &hash))
            return corrupt(r, err, "section header");
        pos += nl + 12;
        if (es == 0 || es > ELEM_SIZE_MAX || count > (uint64_t)(end - pos) / es) return corrupt(r, err, "section size");
        if (r->n == SECTIONS_MAX) return corrupt(r, err, "too many sections");
        for (size_t k = 0; k < r->n; k++)
            if (strcmp(r->s[k].name, name) == 0) return corrupt(r, err, "duplicate section");
        if (r->n == r->cap) {
            size_t cap = r->cap ? 2 * r->cap : 64;
            section *s = realloc(r->s, cap * sizeof *s);
            if (!s) return bs_fail(err, BS_ERR_NOMEM, "%s: out of memory", r->path);
            r->s = s;
            r->cap = cap;
        }
        section *sec = &r->s[r->n++];
        memcpy(sec->name, name, nl + 1);
        sec->elem_size = es;
        sec->count = count;
        sec->offset = pos;
        sec->used = 0;
        uint64_t left = count * es;
        while (left > 0) {
            size_t chunk = left > sizeof buf ? sizeof buf : (size_t)left;
            if (!rd(r->fp, buf, chunk, &hash)) return corrupt(r, err, "short read");
            left -= chunk;
        }
        pos += (long long)(count * es);
    }
    unsigned char tail[TRAILER_BYTES];
    if (fread(tail, 1, sizeof tail, r->fp) != sizeof tail) return corrupt(r, err, "short read");
    uint64_t nsec, sum;
    memcpy(&nsec, tail + 8, sizeof nsec);
    memcpy(&sum, tail + 16, sizeof sum);
    hash = bs_fnv1a(hash, tail, 16);
    if (memcmp(tail, magic_tail, sizeof magic_tail) != 0 || nsec != r->n) return corrupt(r, err, "bad trailer");
    if (sum != hash) return corrupt(r, err, "checksum mismatch");
    return BS_OK;
}

bs_status bs_ckpt_open(bs_ckpt_reader **out, const char *path, bs_error *err)
{
    *out = NULL;
    bs_ckpt_reader *r = calloc(1, sizeof *r);
    if (!r || !(r->path = dup_str(path))) {
        free(r);
        return bs_fail(err, BS_ERR_NOMEM, "%s: out of memory", path);
    }
    r->fp = fopen(path, "rb");
    if (!r->fp) {
        bs_status st = bs_fail(err, BS_ERR_IO, "%s: cannot open checkpoint (%s)", path, strerror(errno));
        bs_ckpt_close(r);
        return st;
    }
    struct stat sb;
    if (fstat(fileno(r->fp), &sb) != 0 || !S_ISREG(sb.st_mode)) {
        bs_status st = bs_fail(err, BS_ERR_IO, "%s: not a regular file", path);
        bs_ckpt_close(r);
        return st;
    }
    bs_status st = check_sum(r, (long long)sb.st_size, err);
    if (st == BS_OK) st = scan(r, (long long)sb.st_size, err);
    if (st == BS_OK && ferror(r->fp)) st = bs_fail(err, BS_ERR_IO, "%s: read error", path);
    if (st != BS_OK) {
        bs_ckpt_close(r);
        return st;
    }
    *out = r;
    return BS_OK;
}

void bs_ckpt_close(bs_ckpt_reader *r)
{
    if (!r) return;
    if (r->fp) fclose(r->fp);
    free(r->path);
    free(r->s);
    free(r);
}

const char *bs_ckpt_path(const bs_ckpt_reader *r)
{
    return r->path;
}

static section *lookup(bs_ckpt_reader *r, const char *name)
{
    for (size_t k = 0; k < r->n; k++)
        if (strcmp(r->s[k].name, name) == 0) return &r->s[k];
    return NULL;
}

int bs_ckpt_find(bs_ckpt_reader *r, const char *name, uint32_t *elem_size, uint64_t *count)
{
    section *s = lookup(r, name);
    if (!s) return 0;
    s->used = 1;
    if (elem_size) *elem_size = s->elem_size;
    if (count) *count = s->count;
    return 1;
}

static bs_status read_payload(bs_ckpt_reader *r, const section *s, void *dst, bs_error *err)
{
    uint64_t n = s->count * s->elem_size;
    if (fseeko(r->fp, (off_t)s->offset, SEEK_SET) != 0 || (n && fread(dst, 1, (size_t)n, r->fp) != n))
        return bs_fail(err, BS_ERR_IO, "%s: cannot read section '%s'", r->path, s->name);
    return BS_OK;
}

bs_status bs_ckpt_get(bs_ckpt_reader *r, const char *name, uint32_t elem_size, uint64_t count, void *dst, bs_error *err)
{
    section *s = lookup(r, name);
    if (!s)
        return bs_fail(err, BS_ERR_INVALID,
                "%s: checkpoint has no '%s' (written by another bonesim version?); resume it with the bonesim "
                "that wrote it",
                r->path, name);
    s->used = 1;
    if (s->elem_size != elem_size || s->count != count)
        return bs_fail(err, BS_ERR_INVALID,
                "%s: checkpoint '%s' holds %llu x %u bytes, this model needs %llu x %u (written by another "
                "bonesim version or for another lattice?)",
                r->path, name, (unsigned long long)s->count, s->elem_size, (unsigned long long)count, elem_size);
    return read_payload(r, s, dst, err);
}

bs_status bs_ckpt_get_blob(bs_ckpt_reader *r, const char *name, char **data, size_t *len, bs_error *err)
{
    *data = NULL;
    *len = 0;
    section *s = lookup(r, name);
    if (!s)
        return bs_fail(
                err, BS_ERR_INVALID, "%s: checkpoint has no '%s' (written by another bonesim version?)", r->path, name);
    s->used = 1;
    if (s->elem_size != 1 || s->count > (uint64_t)SIZE_MAX - 1)
        return bs_fail(err, BS_ERR_INVALID, "%s: checkpoint '%s' is not text", r->path, name);
    char *p = malloc((size_t)s->count + 1);
    if (!p) return bs_fail(err, BS_ERR_NOMEM, "%s: out of memory reading '%s'", r->path, name);
    bs_status st = read_payload(r, s, p, err);
    if (st != BS_OK) {
        free(p);
        return st;
    }
    p[s->count] = '\0';
    *data = p;
    *len = (size_t)s->count;
    return BS_OK;
}

const char *bs_ckpt_unused(const bs_ckpt_reader *r)
{
    for (size_t k = 0; k < r->n; k++)
        if (!r->s[k].used) return r->s[k].name;
    return NULL;
}
