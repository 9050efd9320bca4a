/* checkpoint.h — versioned, checksummed restart files.
 *
 * A checkpoint is a list of named sections (name, element size, element
 * count, bytes), framed by a header and a trailer:
 *
 *   header   magic "\x89BSCKPT\n", u32 format version, u32 byte-order mark,
 *            u64 reserved (0)
 *   section  u32 name length (1..255), name, u32 element size, u64 count,
 *            count * size bytes
 *   ...
 *   trailer  magic "\x89BSCEND\n", u64 section count, u64 checksum
 *
 * Numbers are in the writer's byte order; the byte-order mark makes a file
 * from a machine of the other order an error instead of garbage. The
 * checksum is FNV-1a (64 bit) over every byte before it, so a flipped bit
 * or a truncated file is refused before anything is used. The format
 * version changes whenever this framing changes; what the sections mean is
 * the caller's business (agents/model_io.c), which names missing and
 * unknown sections in its messages.
 *
 * Writing goes to "PATH.tmp.PID" in the same folder, which is fsync'ed and
 * renamed over PATH on commit: a crash, a full disk or a signal leaves
 * either the old file or the complete new one, never half of one.
 *
 * Reading checks the framing and checksum of the whole file in one pass on
 * open (no sections are loaded into memory), then reads sections on demand
 * into caller-owned buffers. Not thread-safe; call from serial code. */
#ifndef BS_CHECKPOINT_H
#define BS_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>

#include "bs_status.h"

#define BS_CKPT_FORMAT_VERSION 1u
#define BS_CKPT_NAME_MAX 255

/* FNV-1a 64: start with BS_FNV1A_INIT, feed bytes in any chunking. */
#define BS_FNV1A_INIT 0xcbf29ce484222325ULL
uint64_t bs_fnv1a(uint64_t h, const void *data, size_t n);

/* The temporary name a writer for `path` uses in this process. A signal
 * handler may unlink it (the buffer is the caller's). */
void bs_ckpt_temp_path(const char *path, char *buf, size_t n);

typedef struct bs_ckpt_writer bs_ckpt_writer;

/* Creates the temporary file. On failure *w is NULL. */
bs_status bs_ckpt_create(bs_ckpt_writer **w, const char *path, bs_error *err);
/* Appends a section of count elements of elem_size bytes. Errors are
 * remembered and reported by bs_ckpt_commit, so a sequence of puts needs
 * one check. Names must be unique (checked on read). */
void bs_ckpt_put(bs_ckpt_writer *w, const char *name, uint32_t elem_size, uint64_t count, const void *data);
/* Writes the trailer, syncs, renames into place and frees w. On any
 * failure the temporary file is removed and PATH is left as it was. */
bs_status bs_ckpt_commit(bs_ckpt_writer *w, bs_error *err);
/* Discards the temporary file and frees w (NULL is a no-op). */
void bs_ckpt_abort(bs_ckpt_writer *w);

typedef struct bs_ckpt_reader bs_ckpt_reader;

/* Opens and verifies path (framing, version, byte order, checksum). */
bs_status bs_ckpt_open(bs_ckpt_reader **r, const char *path, bs_error *err);
void bs_ckpt_close(bs_ckpt_reader *r); /* NULL is a no-op */
const char *bs_ckpt_path(const bs_ckpt_reader *r);

/* Looks a section up; returns 0 if absent. Marks it as used. */
int bs_ckpt_find(bs_ckpt_reader *r, const char *name, uint32_t *elem_size, uint64_t *count);
/* Reads section `name` into dst, which holds count elements of elem_size
 * bytes; a missing section or a different shape is an error that names
 * both. */
bs_status bs_ckpt_get(
        bs_ckpt_reader *r, const char *name, uint32_t elem_size, uint64_t count, void *dst, bs_error *err);
/* Reads a section of 1-byte elements of any length into a new buffer with
 * a NUL appended (caller frees *data). */
bs_status bs_ckpt_get_blob(bs_ckpt_reader *r, const char *name, char **data, size_t *len, bs_error *err);
/* Name of the first section no find/get asked for, or NULL: a section this
 * program does not know means the file came from another build. */
const char *bs_ckpt_unused(const bs_ckpt_reader *r);

#endif
