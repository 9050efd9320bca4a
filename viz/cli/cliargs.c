#include "cliargs.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

int bs_arg_decimal(const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    /* decimal only: strtod also reads hex ("0x10", "0x1p3") */
    if (end == s || *end != '\0' || errno || !isfinite(v) || strpbrk(s, "xX")) return 0;
    *out = v;
    return 1;
}
