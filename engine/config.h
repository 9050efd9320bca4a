/* config.h — scenario files (INI, read with libinih) and --set overrides.
 *
 * A scenario file is INI. Sections are the part of a parameter name before
 * the last dot: key `lifespan_d` in section `[oc]` sets `oc.lifespan_d`;
 * `[therapy.denosumab]` + `start_day` sets `therapy.denosumab.start_day`.
 * Keys before any section belong to the section "" and may be:
 *   include = other.ini   (path relative to this file; values set later win;
 *                          nesting depth <= 8, cycles are errors)
 * Comment lines start with '#' or ';'; after a value or a [section], a
 * comment starts with ';' (after whitespace, for a value).
 *
 * Refused, with file:line (inih alone would misread them silently):
 *   - anything but a '; comment' after the ']' of a section line
 *     ("[run] days = 3");
 *   - "key: value": the separator is '=' only (inih also takes ':', which
 *     makes "a: b = c" ambiguous; no shipped scenario uses it);
 *   - a NUL byte anywhere, and a carriage return that is not part of a
 *     CRLF line end (a file with CR-only line ends is one line to inih);
 *   - lines over inih's buffer;
 *   - a file, include or mask that is not a regular file (FIFO, device).
 * Numbers are decimal (no hex, no hex floats) and must not underflow
 * (engine/params.c).
 *
 * The header comment block of the file
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

/* Applies a preset (a scenario-format file of defaults, such as the mouse
 * time scale scenarios/presets/mouse.ini) to every parameter of ps that was
 * not set explicitly (by a file or --set): explicit values win. The preset is
 * read with bs_config_load, so a bad value is refused with file:line; a
 * preset may not set run.* keys. *n_applied (may be NULL) counts the values
 * taken from it. On error ps may hold some of the preset's values. */
bs_status bs_config_apply_preset(bs_paramset *ps, const char *path, size_t *n_applied, bs_error *err);

/* Reads the leading comment block of a scenario file (without the comment
 * markers, one line each, '\n'-separated) into buf. Returns BS_ERR_IO if the
 * file cannot be read. */
bs_status bs_config_header(const char *path, char *buf, size_t n, bs_error *err);

/* Opens path for reading (a file descriptor, O_CLOEXEC, blocking) if it is
 * a regular file. Returns -1 with *err_no an errno value (ENOENT, EACCES, EISDIR for a folder, ...), or with
 * *kind naming what else it is ("a FIFO", "a character device", ...). A FIFO
 * or device is refused without being opened, so it can never block.
 * Scenario files, includes and PNG masks are all opened this way. */
int bs_open_regular(const char *path, int *err_no, const char **kind);

#endif
