#include "bs_status.h"

#include <stdio.h>

bs_status bs_fail(bs_error *err, bs_status code, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return code;
}
