/* strbuf.h — a growable text buffer for the files the commands write whole
 * (run manifest, validation report and results): printf-style appends and
 * JSON string quoting, in one place. An allocation failure sets `oom` and
 * makes every later append a no-op, so a writer checks once at the end. */
#ifndef BS_STRBUF_H
#define BS_STRBUF_H

#include <stddef.h>

typedef struct {
    char *s; /* the text, NUL-terminated once anything was appended; free() it */
    size_t n, cap;
    int oom;
} bs_strbuf;

/* appends the formatted text */
void bs_sb_put(bs_strbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* appends s as a JSON string: quotes, backslash escapes for '"' and '\',
 * \u00XX for control characters; NULL is the empty string */
void bs_sb_json_str(bs_strbuf *b, const char *s);

#endif
