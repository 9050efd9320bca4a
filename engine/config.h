/* config.h — scenario files (INI, read with libinih) and --set overrides.
 *
 * A scenario file is INI. Sections are the part of a parameter name before
 * the last dot: key `lifespan_d` in section `[oc]` sets `oc.lifespan_d`;
 * `[therapy.denosumab]` + `start_day` sets `therapy.denosumab.start_day`.
 * Keys before any section belong to the section "" and may be:
 *   include = other.ini   (path relative to this file; values set later win;
 *                          nesting depth <= 8, cycles are errors)
 * Comment lines start with '#' or ';'. The header comment block of the file
 * (leading comment lines) is kept as the scenario's description: lines of
 * the form "# What it shows: ...", "# Things to notice: ...", "# Things to
 * try: ..." are recognised by the viewer; the first comment line is the
 * one-line summary shown by `bonesim scenarios`.
 *
 * Every error names file:line, says what is wrong and the valid range. */
#ifndef BS_CONFIG_H
#define BS_CONFIG_H

#include "params.h"

/* Applies the file (and its includes) to ps. */
bs_status bs_config_load(bs_paramset *ps, const char *path, bs_error *err);

/* Applies "section.key=value" (as given to --set). */
bs_status bs_config_set(bs_paramset *ps, const char *assignment, bs_error *err);

/* Reads the leading comment block of a scenario file (without the comment
 * markers, one line each, '\n'-separated) into buf. Returns BS_ERR_IO if the
 * file cannot be read. */
bs_status bs_config_header(const char *path, char *buf, size_t n, bs_error *err);

#endif
