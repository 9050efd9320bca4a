/* image.c — RGB images and PNG read/write (libpng); text is in text.c.
 *
 * PNG output is reproducible: the same pixels give the same bytes, because
 * every encoder choice (one fixed row filter, zlib level/strategy/window)
 * is pinned here instead of left to libpng's adaptive heuristics, and no
 * time or text chunk is written. The bytes still depend on the zlib build:
 * stock zlib has produced the same deflate stream for these settings for
 * decades, but zlib-ng (some distributions ship it as "zlib") does not, so
 * cross-machine checks should compare decoded pixels, not file hashes. */
#define _POSIX_C_SOURCE 200809L /* getpid, under -std=c17 */

#include "image.h"

#include <errno.h>
#include <limits.h>
#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "config.h" /* bs_open_regular */

bs_status bs_image_init(bs_image *im, int w, int h, bs_error *err)
{
    im->w = 0;
    im->h = 0;
    im->rgb = NULL;
    if (w <= 0 || h <= 0) return bs_fail(err, BS_ERR_INVALID, "image size %dx%d (valid: both >= 1)", w, h);
    size_t n = (size_t)w * (size_t)h;
    if (n > SIZE_MAX / 3) return bs_fail(err, BS_ERR_NOMEM, "image %dx%d is too large", w, h);
    im->rgb = calloc(n * 3, 1);
    if (!im->rgb) return bs_fail(err, BS_ERR_NOMEM, "out of memory for a %dx%d image", w, h);
    im->w = w;
    im->h = h;
    return BS_OK;
}

void bs_image_free(bs_image *im)
{
    if (!im) return;
    free(im->rgb);
    im->rgb = NULL;
    im->w = 0;
    im->h = 0;
}

void bs_image_fill_rect(bs_image *im, int x, int y, int w, int h, const uint8_t rgb[3])
{
    if (!im || !im->rgb) return;
    /* Clip in long so x + w cannot overflow for callers passing huge sizes. */
    long x0 = x < 0 ? 0 : x, y0 = y < 0 ? 0 : y;
    long x1 = (long)x + w, y1 = (long)y + h;
    if (x1 > im->w) x1 = im->w;
    if (y1 > im->h) y1 = im->h;
    for (long yy = y0; yy < y1; yy++) {
        uint8_t *p = im->rgb + ((size_t)yy * (size_t)im->w + (size_t)x0) * 3;
        for (long xx = x0; xx < x1; xx++, p += 3) {
            p[0] = rgb[0];
            p[1] = rgb[1];
            p[2] = rgb[2];
        }
    }
}

/* ---- libpng glue ------------------------------------------------------ */

/* libpng reports errors by longjmp. Everything that must survive the jump
 * lives in this struct, which belongs to the caller of the function that
 * calls setjmp, so no local of the setjmp frame is read after a longjmp. */
typedef struct {
    FILE *fp;
    char msg[256]; /* libpng's message, or the I/O error */
    int io_errno; /* errno of a failed fwrite/fread, 0 if none */
    int nomem; /* read: our own allocation failed */
    uint8_t *pixels; /* read: decoded pixels, owned until handed to the image */
    png_bytep *rows; /* read: row pointers into pixels */
    int w, h;
} png_ctx;

static void on_png_error(png_structp png, png_const_charp msg)
{
    png_ctx *ctx = png_get_error_ptr(png);
    if (ctx->msg[0] == '\0') snprintf(ctx->msg, sizeof ctx->msg, "%s", msg ? msg : "unknown libpng error");
    png_longjmp(png, 1);
}

/* Warnings (bad ancillary chunks, ...) are not failures; libpng would print
 * them to stderr, which a library must not do. */
/* Largest single PNG chunk the reader accepts (bytes). */
#define BS_PNG_CHUNK_MAX_BYTES (16u * 1024u * 1024u)

static void on_png_warning(png_structp png, png_const_charp msg)
{
    (void)png;
    (void)msg;
}

static void on_png_write(png_structp png, png_bytep data, size_t n)
{
    png_ctx *ctx = png_get_io_ptr(png);
    if (fwrite(data, 1, n, ctx->fp) != n) {
        ctx->io_errno = errno ? errno : EIO;
        png_error(png, "write failed");
    }
}

static void on_png_flush(png_structp png)
{
    (void)png;
}

static void on_png_read(png_structp png, png_bytep data, size_t n)
{
    png_ctx *ctx = png_get_io_ptr(png);
    if (fread(data, 1, n, ctx->fp) != n) {
        if (ferror(ctx->fp)) ctx->io_errno = errno ? errno : EIO;
        png_error(png, ferror(ctx->fp) ? "read error" : "file is truncated");
    }
}

/* Returns 0 on success, 1 if libpng failed (ctx->msg says why). */
static int png_encode(png_ctx *ctx, const bs_image *im)
{
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, ctx, on_png_error, on_png_warning);
    if (!png) {
        snprintf(ctx->msg, sizeof ctx->msg, "cannot create libpng writer");
        return 1;
    }
    png_infop info = png_create_info_struct(png);
    if (!info) {
        png_destroy_write_struct(&png, NULL);
        snprintf(ctx->msg, sizeof ctx->msg, "cannot create libpng info");
        return 1;
    }
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        return 1;
    }
    png_set_write_fn(png, ctx, on_png_write, on_png_flush);
    /* One fixed filter instead of libpng's per-row heuristic, so the bytes do
     * not depend on the libpng version. UP suits the renderer's output
     * (large flat areas, repeated rows) and costs little. */
    png_set_filter(png, PNG_FILTER_TYPE_BASE, PNG_FILTER_UP);
    png_set_compression_level(png, 6);
    png_set_compression_strategy(png, Z_DEFAULT_STRATEGY);
    png_set_compression_window_bits(png, 15);
    png_set_compression_mem_level(png, 8);
    png_set_IHDR(png, info, (png_uint_32)im->w, (png_uint_32)im->h, 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
            PNG_COMPRESSION_TYPE_BASE, PNG_FILTER_TYPE_BASE);
    png_write_info(png, info);
    for (int y = 0; y < im->h; y++) png_write_row(png, im->rgb + (size_t)y * (size_t)im->w * 3);
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    return 0;
}

bs_status bs_png_write(const char *path, const bs_image *im, bs_error *err)
{
    if (!path || !*path) return bs_fail(err, BS_ERR_INVALID, "PNG path is empty");
    if (!im || !im->rgb || im->w <= 0 || im->h <= 0) return bs_fail(err, BS_ERR_INVALID, "%s: no image to write", path);

    /* Same directory as the target, so rename() is atomic: a reader never
     * sees a half-written snapshot, and a failure leaves no partial file. */
    size_t n = strlen(path) + 32;
    char *tmp = malloc(n);
    if (!tmp) return bs_fail(err, BS_ERR_NOMEM, "%s: out of memory", path);
    snprintf(tmp, n, "%s.tmp.%ld", path, (long)getpid());

    png_ctx ctx;
    memset(&ctx, 0, sizeof ctx);
    ctx.fp = fopen(tmp, "wb");
    if (!ctx.fp) {
        int e = errno;
        free(tmp);
        return bs_fail(err, BS_ERR_IO, "%s: cannot write (%s)", path, strerror(e));
    }
    int failed = png_encode(&ctx, im);
    int close_errno = 0;
    if (fclose(ctx.fp) != 0) close_errno = errno ? errno : EIO;

    bs_status st = BS_OK;
    if (failed) {
        if (ctx.io_errno)
            st = bs_fail(err, BS_ERR_IO, "%s: cannot write (%s)", path, strerror(ctx.io_errno));
        else
            st = bs_fail(err, BS_ERR_INTERNAL, "%s: PNG encoder failed (%s)", path, ctx.msg);
    } else if (close_errno) {
        st = bs_fail(err, BS_ERR_IO, "%s: cannot write (%s)", path, strerror(close_errno));
    } else if (rename(tmp, path) != 0) {
        int e = errno;
        st = bs_fail(err, BS_ERR_IO, "%s: cannot replace file (%s)", path, strerror(e));
    }
    if (st != BS_OK) remove(tmp);
    free(tmp);
    return st;
}

/* Returns 0 on success, 1 on a libpng failure, 2 if over max_pixels
 * (ctx->w/h say the size). On success ctx->pixels holds w*h*3 bytes. */
static int png_decode(png_ctx *ctx, long max_pixels)
{
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, ctx, on_png_error, on_png_warning);
    if (!png) {
        snprintf(ctx->msg, sizeof ctx->msg, "cannot create libpng reader");
        return 1;
    }
    png_infop info = png_create_info_struct(png);
    if (!info) {
        png_destroy_read_struct(&png, NULL, NULL);
        snprintf(ctx->msg, sizeof ctx->msg, "cannot create libpng info");
        return 1;
    }
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_read_struct(&png, &info, NULL);
        return 1;
    }
    png_set_read_fn(png, ctx, on_png_read);
    /* A chunk's length is read from the file: cap what libpng may allocate
     * for one chunk (a mask needs none larger than its compressed rows, which
     * arrive in IDAT pieces of at most a few hundred KiB), so a damaged or
     * hostile length field (say a 1.9 GB sPLT) is an error, not an OOM. */
    png_set_chunk_malloc_max(png, BS_PNG_CHUNK_MAX_BYTES);
    /* libpng reads some known ancillary chunks into a buffer of the length
     * the file claims, without the cap above (a 1.9 GB sPLT ran the fuzzer
     * out of memory): a mask needs none of them, so they are skipped unread
     * (libpng discards the bytes in small pieces), as are unknown chunks. */
    static const png_byte skipped[] = "sPLT\0iCCP\0tEXt\0zTXt\0iTXt\0eXIf\0";
    png_set_keep_unknown_chunks(png, PNG_HANDLE_CHUNK_NEVER, NULL, 0);
    png_set_keep_unknown_chunks(png, PNG_HANDLE_CHUNK_NEVER, skipped, 6);
    png_read_info(png, info);

    png_uint_32 w = png_get_image_width(png, info);
    png_uint_32 h = png_get_image_height(png, info);
    ctx->w = (int)(w > INT_MAX ? INT_MAX : w);
    ctx->h = (int)(h > INT_MAX ? INT_MAX : h);
    /* Check the header's size before allocating anything, so a hostile or
     * mistaken file cannot make us reserve gigabytes. */
    if (w > INT_MAX / 4 || h > INT_MAX / 4 ||
            (max_pixels > 0 && (unsigned long long)w * h > (unsigned long long)max_pixels)) {
        png_destroy_read_struct(&png, &info, NULL);
        return 2;
    }

    /* Normalise every colour type to 8-bit RGB or RGBA: palette -> RGB,
     * grey < 8 bit -> 8 bit, tRNS -> alpha, 16 -> 8 bit, grey -> RGB. */
    png_set_expand(png);
    png_set_strip_16(png);
    png_set_gray_to_rgb(png);
    png_set_interlace_handling(png);
    png_read_update_info(png, info);

    int channels = png_get_channels(png, info);
    size_t rowbytes = png_get_rowbytes(png, info);
    if ((channels != 3 && channels != 4) || rowbytes != (size_t)w * (size_t)channels ||
            png_get_bit_depth(png, info) != 8)
        png_error(png, "unsupported pixel layout after conversion");

    size_t npix = (size_t)w * h;
    uint8_t *buf = malloc(npix * (size_t)channels);
    png_bytep *rows = malloc(h * sizeof *rows);
    /* Owned by the caller from here on, so a longjmp cannot leak them. */
    ctx->pixels = buf;
    ctx->rows = rows;
    if (!buf || !rows) {
        ctx->nomem = 1;
        png_error(png, "out of memory");
    }
    for (png_uint_32 y = 0; y < h; y++) rows[y] = buf + (size_t)y * rowbytes;
    png_read_image(png, rows);
    /* Reading to IEND catches files truncated after the pixel data. */
    png_read_end(png, NULL);
    png_destroy_read_struct(&png, &info, NULL);

    if (channels == 4) {
        /* Composite over black, in place: RGBA -> RGB with c * a / 255. */
        for (size_t i = 0; i < npix; i++) {
            const uint8_t *s = buf + i * 4;
            uint8_t *d = buf + i * 3;
            unsigned a = s[3];
            uint8_t r = (uint8_t)((s[0] * a + 127) / 255);
            uint8_t g = (uint8_t)((s[1] * a + 127) / 255);
            uint8_t b = (uint8_t)((s[2] * a + 127) / 255);
            d[0] = r;
            d[1] = g;
            d[2] = b;
        }
    }
    return 0;
}

bs_status bs_png_read(const char *path, bs_image *im, long max_pixels, bs_error *err)
{
    im->w = 0;
    im->h = 0;
    im->rgb = NULL;
    if (!path || !*path) return bs_fail(err, BS_ERR_INVALID, "PNG path is empty");

    png_ctx ctx;
    memset(&ctx, 0, sizeof ctx);
    /* Regular files only: a FIFO or device is refused without blocking. */
    int e;
    const char *kind;
    int fd = bs_open_regular(path, &e, &kind);
    if (fd < 0 && kind) return bs_fail(err, BS_ERR_IO, "%s: not a regular file (%s)", path, kind);
    if (fd < 0) return bs_fail(err, BS_ERR_IO, "%s: cannot open (%s)", path, strerror(e));
    ctx.fp = fdopen(fd, "rb");
    if (!ctx.fp) {
        e = errno;
        close(fd);
        return bs_fail(err, BS_ERR_IO, "%s: cannot open (%s)", path, strerror(e));
    }
    uint8_t sig[8];
    size_t got = fread(sig, 1, sizeof sig, ctx.fp);
    if (got != sizeof sig || png_sig_cmp(sig, 0, sizeof sig) != 0) {
        int read_err = ferror(ctx.fp);
        e = errno;
        fclose(ctx.fp);
        if (read_err) return bs_fail(err, BS_ERR_IO, "%s: cannot read (%s)", path, strerror(e));
        return bs_fail(
                err, BS_ERR_INVALID, "%s: not a valid PNG (%s)", path, got == 0 ? "file is empty" : "no PNG signature");
    }
    rewind(ctx.fp);

    int rc = png_decode(&ctx, max_pixels);
    fclose(ctx.fp);
    free(ctx.rows);
    if (rc != 0) {
        free(ctx.pixels);
        if (rc == 2)
            return bs_fail(err, BS_ERR_INVALID, "%s: image is %dx%d pixels, over the limit of %ld pixels", path, ctx.w,
                    ctx.h, max_pixels);
        if (ctx.io_errno) return bs_fail(err, BS_ERR_IO, "%s: cannot read (%s)", path, strerror(ctx.io_errno));
        if (ctx.nomem) return bs_fail(err, BS_ERR_NOMEM, "%s: out of memory for a %dx%d image", path, ctx.w, ctx.h);
        return bs_fail(err, BS_ERR_INVALID, "%s: not a valid PNG (%s)", path, ctx.msg);
    }
    /* Shrink RGBA buffers to RGB size; failure to shrink is harmless. */
    size_t n = (size_t)ctx.w * (size_t)ctx.h * 3;
    uint8_t *shrunk = realloc(ctx.pixels, n);
    im->rgb = shrunk ? shrunk : ctx.pixels;
    im->w = ctx.w;
    im->h = ctx.h;
    return BS_OK;
}
