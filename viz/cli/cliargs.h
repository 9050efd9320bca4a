/* cliargs.h — how the commands' option parsers read a number, once.
 * run/resume/params (runner.c) and validate read their numeric options
 * through here, so the accepted syntax is the same everywhere. */
#ifndef BS_CLIARGS_H
#define BS_CLIARGS_H

/* 1 and *out set when the whole of s is a finite decimal number (strtod
 * syntax without hexadecimal: no 'x' or 'X' anywhere), else 0 and *out
 * untouched. */
int bs_arg_decimal(const char *s, double *out);

#endif
