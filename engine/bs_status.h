/* bs_status.h — status codes and error messages shared by every module.
 *
 * Functions that can fail return bs_status and, when given a non-NULL
 * bs_error, fill it with one human-readable line in the form
 * "file:line: what is wrong (valid: ...)" where a file is involved.
 * Only main() exits. */
#ifndef BS_STATUS_H
#define BS_STATUS_H

#include <stdarg.h>

typedef enum {
    BS_OK = 0,
    BS_ERR_INVALID = 1, /* bad user input: value, key, file content */
    BS_ERR_IO = 2, /* could not read or write a file */
    BS_ERR_NOMEM = 3, /* allocation failed or a limit was reached */
    BS_ERR_INTERNAL = 4
} bs_status;

/* Long enough for a message that names several long paths, or lists
 * the valid keys of a section, without cutting it. */
#define BS_ERROR_MAX 8192

typedef struct {
    char msg[BS_ERROR_MAX];
} bs_error;

/* printf-style: writes into err (if non-NULL) and returns code. */
bs_status bs_fail(bs_error *err, bs_status code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
