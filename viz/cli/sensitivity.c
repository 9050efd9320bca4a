/* sensitivity.c — sampling designs and the Morris / rank-correlation
 * analysis (sensitivity.h). */
#define _POSIX_C_SOURCE 200809L
#include "sensitivity.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "catalog.h"
#include "cliargs.h"
#include "image.h"
#include "rng.h"
#include "runner.h"

#define STREAM_LHS (BS_STREAM_USER + 21)
#define STREAM_MORRIS (BS_STREAM_USER + 22)
#define STREAM_BOOT (BS_STREAM_USER + 23)
#define BOOT_SEED 0x5E45B007u
#define BOOT_N 2000
#define MAX_OUT 256

/* ---- parsing ------------------------------------------------------------------------ */

int bs_sample_parse(const char *spec, int *method, long *size, char *why, size_t whyn)
{
    const char *colon = strchr(spec, ':');
    int m = 0;
    if (colon && (size_t)(colon - spec) == 3 && strncmp(spec, "lhs", 3) == 0) m = BS_SAMPLE_LHS;
    if (colon && (size_t)(colon - spec) == 6 && strncmp(spec, "morris", 6) == 0) m = BS_SAMPLE_MORRIS;
    if (!m) {
        snprintf(why, whyn, "--sample '%s': expected lhs:N (Latin hypercube, N points) or morris:R (R trajectories)",
                spec);
        return -1;
    }
    char *end;
    errno = 0;
    long n = strtol(colon + 1, &end, 10);
    long lo = 2;
    if (end == colon + 1 || *end != '\0' || errno || n < lo || n > BS_SAMPLE_MAX_POINTS) {
        snprintf(why, whyn, "--sample '%s': %s must be a whole number in %ld .. %d", spec,
                m == BS_SAMPLE_LHS ? "N (points)" : "R (trajectories)", lo, BS_SAMPLE_MAX_POINTS);
        return -1;
    }
    *method = m;
    *size = n;
    return 0;
}

/* the first len characters of s as a decimal number (bs_arg_decimal) */
static int parse_real(const char *s, size_t len, double *out)
{
    char buf[64];
    if (len == 0 || len >= sizeof buf) return 0;
    memcpy(buf, s, len);
    buf[len] = '\0';
    return bs_arg_decimal(buf, out);
}

int bs_sample_range_parse(const bs_registry *reg, const char *arg, bs_sample_range *r, char *why, size_t whyn)
{
    memset(r, 0, sizeof *r);
    const char *eq = strchr(arg, '=');
    size_t nl = eq ? (size_t)(eq - arg) : strlen(arg);
    if (nl == 0 || nl >= sizeof r->name) {
        snprintf(why, whyn, "--range '%s': expected section.key=LO:HI or section.key", arg);
        return -1;
    }
    memcpy(r->name, arg, nl);
    r->name[nl] = '\0';
    long i = bs_registry_find(reg, r->name);
    if (i < 0) {
        snprintf(why, whyn, "--range '%s': no parameter %s (see bonesim params)", arg, r->name);
        return -1;
    }
    const bs_param_def *def = bs_registry_at(reg, (size_t)i);
    if (def->type != BS_PT_REAL) {
        snprintf(why, whyn, "--range '%s': %s is not a real-valued parameter; only those can be sampled", arg, r->name);
        return -1;
    }
    if (!eq) {
        r->lo = def->min;
        r->hi = def->max;
    } else {
        const char *v = eq + 1, *c = strchr(v, ':');
        if (!c || !parse_real(v, (size_t)(c - v), &r->lo) || !parse_real(c + 1, strlen(c + 1), &r->hi)) {
            snprintf(why, whyn, "--range '%s': expected %s=LO:HI with two numbers", arg, r->name);
            return -1;
        }
    }
    if (!(r->lo < r->hi) || r->lo < def->min || r->hi > def->max) {
        snprintf(why, whyn, "--range '%s': need LO < HI inside %s's valid range [%g, %g] (%s)", arg, r->name, def->min,
                def->max, def->unit);
        return -1;
    }
    return 0;
}

/* ---- designs -------------------------------------------------------------------------- */

static double u01(uint64_t seed, uint32_t stream, uint64_t a, uint64_t b, uint32_t draw)
{
    return (double)(bs_rng_u64(seed, stream, a, b, draw) >> 11) * 0x1.0p-53;
}

static uint32_t below(uint64_t seed, uint32_t stream, uint64_t a, uint64_t b, uint32_t draw, uint32_t n)
{
    return bs_rng_below(seed, stream, a, b, draw, n);
}

void bs_design_free(bs_design *d)
{
    free(d->unit);
    free(d->changed);
    d->unit = NULL;
    d->changed = NULL;
}

int bs_design_build(bs_design *d, uint64_t seed, char *why, size_t whyn)
{
    int k = d->nparams;
    if (k < 1 || k > BS_SAMPLE_MAX_PARAMS) {
        snprintf(why, whyn, "a sample needs 1 .. %d parameters with --range (got %d)", BS_SAMPLE_MAX_PARAMS, k);
        return -1;
    }
    for (int p = 0; p < k; p++)
        for (int q = 0; q < p; q++)
            if (strcmp(d->par[p].name, d->par[q].name) == 0) {
                snprintf(why, whyn, "--range %s is given twice", d->par[p].name);
                return -1;
            }
    if (d->method == BS_SAMPLE_MORRIS) {
        if (d->levels == 0) d->levels = 4;
        if (d->levels < 2 || d->levels > 1000 || d->levels % 2) {
            snprintf(why, whyn, "--levels %d: must be even, 2 .. 1000", d->levels);
            return -1;
        }
        d->delta = (double)d->levels / (2.0 * (d->levels - 1));
        d->npoints = d->size * (k + 1);
    } else {
        d->levels = 0;
        d->delta = 0.0;
        d->npoints = d->size;
    }
    if (d->npoints > BS_SAMPLE_MAX_POINTS) {
        snprintf(why, whyn, "the design has %ld points, more than %d", d->npoints, BS_SAMPLE_MAX_POINTS);
        return -1;
    }
    d->unit = malloc((size_t)d->npoints * (size_t)k * sizeof *d->unit);
    d->changed = malloc((size_t)d->npoints * sizeof *d->changed);
    long *perm = malloc((size_t)(d->method == BS_SAMPLE_LHS ? d->size : k) * sizeof *perm);
    if (!d->unit || !d->changed || !perm) {
        free(perm);
        bs_design_free(d);
        snprintf(why, whyn, "out of memory for a design of %ld points", d->npoints);
        return -1;
    }
    if (d->method == BS_SAMPLE_LHS) {
        long n = d->size;
        for (long i = 0; i < n; i++) d->changed[i] = -1;
        for (int p = 0; p < k; p++) {
            /* Fisher-Yates: point i lies in stratum perm[i] of parameter p */
            for (long i = 0; i < n; i++) perm[i] = i;
            for (long i = n - 1; i > 0; i--) {
                long j = (long)below(seed, STREAM_LHS, (uint64_t)p, (uint64_t)i, 0, (uint32_t)(i + 1));
                long t = perm[i];
                perm[i] = perm[j];
                perm[j] = t;
            }
            for (long i = 0; i < n; i++) {
                double u = ((double)perm[i] + u01(seed, STREAM_LHS, (uint64_t)p, (uint64_t)i, 1)) / (double)n;
                d->unit[(size_t)i * (size_t)k + (size_t)p] = u;
            }
        }
    } else {
        int L = d->levels, half = L / 2;
        int lev[BS_SAMPLE_MAX_PARAMS];
        for (long t = 0; t < d->size; t++) {
            long base = t * (k + 1);
            for (int p = 0; p < k; p++)
                lev[p] = (int)below(seed, STREAM_MORRIS, (uint64_t)t, (uint64_t)p, 0, (uint32_t)L);
            for (int p = 0; p < k; p++) perm[p] = p;
            for (int i = k - 1; i > 0; i--) {
                int j = (int)below(seed, STREAM_MORRIS, (uint64_t)t, (uint64_t)i, 1, (uint32_t)(i + 1));
                long tmp = perm[i];
                perm[i] = perm[j];
                perm[j] = tmp;
            }
            for (int s = 0; s <= k; s++) {
                if (s > 0) {
                    int p = (int)perm[s - 1];
                    lev[p] += lev[p] + half <= L - 1 ? half : -half;
                }
                d->changed[base + s] = s > 0 ? (int)perm[s - 1] : -1;
                for (int p = 0; p < k; p++)
                    d->unit[(size_t)(base + s) * (size_t)k + (size_t)p] = (double)lev[p] / (double)(L - 1);
            }
        }
    }
    free(perm);
    return 0;
}

double bs_design_value(const bs_design *d, long i, int p)
{
    double u = d->unit[(size_t)i * (size_t)d->nparams + (size_t)p];
    const bs_sample_range *r = &d->par[p];
    double v = r->lo + u * (r->hi - r->lo);
    return v < r->lo ? r->lo : v > r->hi ? r->hi : v; /* rounding only */
}

/* A growable string. */
typedef struct {
    char *s;
    size_t n, cap;
    int oom;
} sbuf;

static void sb_printf(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(sbuf *b, const char *fmt, ...)
{
    if (b->oom) return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int w = vsnprintf(b->s ? b->s + b->n : NULL, b->s ? b->cap - b->n : 0, fmt, ap);
        va_end(ap);
        if (w < 0) {
            b->oom = 1;
            return;
        }
        if (b->s && b->n + (size_t)w < b->cap) {
            b->n += (size_t)w;
            return;
        }
        size_t cap = b->cap ? b->cap * 2 : 4096;
        while (cap < b->n + (size_t)w + 1) cap *= 2;
        char *ns = realloc(b->s, cap);
        if (!ns) {
            b->oom = 1;
            return;
        }
        b->s = ns;
        b->cap = cap;
    }
}

static const char *method_name(int m)
{
    return m == BS_SAMPLE_LHS ? "lhs" : "morris";
}

char *bs_design_text(const bs_design *d)
{
    sbuf b = { 0 };
    int k = d->nparams;
    sb_printf(&b, "point,trajectory,step,changed");
    for (int p = 0; p < k; p++) sb_printf(&b, ",%s_unit", d->par[p].name);
    sb_printf(&b, "\n");
    for (long i = 0; i < d->npoints; i++) {
        long t = d->method == BS_SAMPLE_MORRIS ? i / (k + 1) : -1, s = d->method == BS_SAMPLE_MORRIS ? i % (k + 1) : 0;
        sb_printf(&b, "%ld,%ld,%ld,%s", i, t, s, d->changed[i] >= 0 ? d->par[d->changed[i]].name : "");
        for (int p = 0; p < k; p++) sb_printf(&b, ",%.17g", d->unit[(size_t)i * (size_t)k + (size_t)p]);
        sb_printf(&b, "\n");
    }
    if (b.oom) {
        free(b.s);
        return NULL;
    }
    return b.s;
}

static char *ranges_text(const bs_design *d)
{
    sbuf b = { 0 };
    sb_printf(&b, "parameter,lo,hi,method,size,levels,delta,replicates\n");
    for (int p = 0; p < d->nparams; p++)
        sb_printf(&b, "%s,%.17g,%.17g,%s,%ld,%d,%.17g,%ld\n", d->par[p].name, d->par[p].lo, d->par[p].hi,
                method_name(d->method), d->size, d->levels, d->delta, d->replicates > 0 ? d->replicates : 1);
    if (b.oom) {
        free(b.s);
        return NULL;
    }
    return b.s;
}

static int write_atomic(const char *path, const char *text, char *why, size_t whyn)
{
    char tmp[4300];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "wb");
    if (!f) {
        snprintf(why, whyn, "%s: cannot write (%s)", tmp, strerror(errno));
        return -1;
    }
    size_t n = strlen(text);
    int bad = fwrite(text, 1, n, f) != n;
    bad |= fflush(f) != 0 || fsync(fileno(f)) != 0;
    bad |= fclose(f) != 0;
    if (bad || rename(tmp, path) != 0) {
        snprintf(why, whyn, "%s: write failed (%s)", path, strerror(errno));
        unlink(tmp);
        return -1;
    }
    return 0;
}

int bs_design_write(const bs_design *d, const char *dir, char *why, size_t whyn)
{
    char path[4200];
    char *t = bs_design_text(d), *r = ranges_text(d);
    int rc = -1;
    if (!t || !r) {
        snprintf(why, whyn, "out of memory");
    } else {
        snprintf(path, sizeof path, "%s/design_ranges.csv", dir);
        if (write_atomic(path, r, why, whyn) == 0) {
            snprintf(path, sizeof path, "%s/design.csv", dir);
            rc = write_atomic(path, t, why, whyn);
        }
    }
    free(t);
    free(r);
    return rc;
}

int bs_sweep_design(const char *sample, const char *const *ranges, int nranges, int levels, uint64_t seed, bs_design *d,
        char ***strings, char *why, size_t whyn)
{
    memset(d, 0, sizeof *d);
    *strings = NULL;
    if (!sample) {
        snprintf(why, whyn, "--range and --levels need --sample lhs:N or --sample morris:R");
        return -1;
    }
    if (bs_sample_parse(sample, &d->method, &d->size, why, whyn) != 0) return -1;
    if (nranges == 0) {
        snprintf(why, whyn,
                "--sample %s needs the parameters to sample: --range S.K=LO:HI (or --range S.K for the "
                "registry's range), once per parameter",
                sample);
        return -1;
    }
    if (levels && d->method != BS_SAMPLE_MORRIS) {
        snprintf(why, whyn, "--levels is for --sample morris:R only");
        return -1;
    }
    bs_error err = { { 0 } };
    bs_registry *reg = bs_catalog_registry(&err);
    if (!reg) {
        snprintf(why, whyn, "%s", err.msg);
        return -1;
    }
    int bad = 0;
    for (int p = 0; p < nranges && !bad; p++) bad = bs_sample_range_parse(reg, ranges[p], &d->par[p], why, whyn);
    bs_registry_destroy(reg);
    if (bad) return -1;
    d->nparams = nranges;
    d->levels = levels;
    if (bs_design_build(d, seed, why, whyn) != 0) return -1;
    size_t n = (size_t)d->npoints * (size_t)d->nparams;
    char **v = malloc(n * sizeof *v), *text = malloc(n * 32);
    if (!v || !text) {
        free(v);
        free(text);
        bs_design_free(d);
        snprintf(why, whyn, "out of memory for %ld design points", d->npoints);
        return -1;
    }
    for (int p = 0; p < d->nparams; p++)
        for (long i = 0; i < d->npoints; i++) {
            size_t at = (size_t)p * (size_t)d->npoints + (size_t)i;
            v[at] = text + at * 32;
            snprintf(v[at], 32, "%.17g", bs_design_value(d, i, p));
        }
    /* v[0] is the start of the text block: free(v[0]), then free(v) */
    *strings = v;
    return 0;
}

int bs_sweep_design_check(const bs_design *d, const char *dir, int resume)
{
    char why[4600];
    if (!resume) {
        if (bs_design_write(d, dir, why, sizeof why) == 0) return 0;
        fprintf(stderr, "bonesim sweep: %s\n", why);
        return -1;
    }
    char path[4200];
    snprintf(path, sizeof path, "%s/design.csv", dir);
    char *want = bs_design_text(d);
    FILE *f = fopen(path, "rb");
    int same = 0;
    if (want && f) {
        size_t n = strlen(want), got = 0;
        char *have = malloc(n + 2);
        if (have) got = fread(have, 1, n + 1, f);
        same = have && got == n && memcmp(have, want, n) == 0;
        free(have);
    }
    if (f) fclose(f);
    free(want);
    if (same) return 0;
    fprintf(stderr,
            "bonesim sweep: --resume: %s is missing or not the design of this command (other --sample, --range, "
            "--levels or --seed?); start over with --force or use another --out\n",
            path);
    return -1;
}

/* Splits a CSV line (no quoting: bonesim writes none) in place. */
static int csv_split(char *line, char **f, int max)
{
    line[strcspn(line, "\r\n")] = '\0';
    int n = 0;
    char *p = line;
    for (;;) {
        if (n == max) return -1;
        f[n++] = p;
        char *c = strchr(p, ',');
        if (!c) break;
        *c = '\0';
        p = c + 1;
    }
    return n;
}

static int num_field(const char *s, double *out)
{
    return parse_real(s, strlen(s), out);
}

int bs_design_read(bs_design *d, const char *dir, char *why, size_t whyn)
{
    memset(d, 0, sizeof *d);
    char path[4200];
    static char line[65536];
    char *f[BS_SAMPLE_MAX_PARAMS + 8];
    snprintf(path, sizeof path, "%s/design_ranges.csv", dir);
    FILE *in = fopen(path, "r");
    if (!in) {
        snprintf(why, whyn, "%s: cannot read (%s); is %s a sweep made with --sample?", path, strerror(errno), dir);
        return -1;
    }
    int lineno = 1;
    if (!fgets(line, sizeof line, in) || strcmp(line, "parameter,lo,hi,method,size,levels,delta,replicates\n") != 0) {
        snprintf(why, whyn, "%s:1: unexpected header", path);
        fclose(in);
        return -1;
    }
    while (fgets(line, sizeof line, in)) {
        lineno++;
        int n = csv_split(line, f, 9);
        double lo, hi, size, lev, delta, reps;
        if (n != 8 || d->nparams == BS_SAMPLE_MAX_PARAMS || strlen(f[0]) >= sizeof d->par[0].name ||
                !num_field(f[1], &lo) || !num_field(f[2], &hi) || !num_field(f[4], &size) || !num_field(f[5], &lev) ||
                !num_field(f[6], &delta) || !num_field(f[7], &reps) || reps < 1 || reps > 1e5 ||
                (strcmp(f[3], "lhs") != 0 && strcmp(f[3], "morris") != 0)) {
            snprintf(why, whyn, "%s:%d: malformed row", path, lineno);
            fclose(in);
            return -1;
        }
        bs_sample_range *r = &d->par[d->nparams++];
        snprintf(r->name, sizeof r->name, "%s", f[0]);
        r->lo = lo;
        r->hi = hi;
        d->method = strcmp(f[3], "lhs") == 0 ? BS_SAMPLE_LHS : BS_SAMPLE_MORRIS;
        d->size = (long)size;
        d->levels = (int)lev;
        d->delta = delta;
        d->replicates = (long)reps;
    }
    fclose(in);
    int k = d->nparams;
    if (k == 0 || d->size < 1 || d->size > BS_SAMPLE_MAX_POINTS) {
        snprintf(why, whyn, "%s: no parameters or a bad size", path);
        return -1;
    }
    d->npoints = d->method == BS_SAMPLE_MORRIS ? d->size * (k + 1) : d->size;
    if (d->npoints > BS_SAMPLE_MAX_POINTS) {
        snprintf(why, whyn, "%s: %ld points, more than %d", path, d->npoints, BS_SAMPLE_MAX_POINTS);
        return -1;
    }
    d->unit = malloc((size_t)d->npoints * (size_t)k * sizeof *d->unit);
    d->changed = malloc((size_t)d->npoints * sizeof *d->changed);
    if (!d->unit || !d->changed) {
        bs_design_free(d);
        snprintf(why, whyn, "out of memory");
        return -1;
    }
    snprintf(path, sizeof path, "%s/design.csv", dir);
    in = fopen(path, "r");
    if (!in) {
        bs_design_free(d);
        snprintf(why, whyn, "%s: cannot read (%s)", path, strerror(errno));
        return -1;
    }
    lineno = 1;
    int ok = fgets(line, sizeof line, in) != NULL;
    long i = 0;
    while (ok && fgets(line, sizeof line, in)) {
        lineno++;
        int n = csv_split(line, f, BS_SAMPLE_MAX_PARAMS + 8);
        double pt;
        ok = n == 4 + k && i < d->npoints && num_field(f[0], &pt) && pt == (double)i;
        int ch = -1;
        if (ok && f[3][0]) {
            for (int p = 0; p < k; p++)
                if (strcmp(f[3], d->par[p].name) == 0) ch = p;
            ok = ch >= 0;
        }
        d->changed[i] = ch;
        for (int p = 0; p < k && ok; p++) {
            double u = 0.0;
            ok = num_field(f[4 + p], &u) && u >= 0.0 && u <= 1.0;
            d->unit[(size_t)i * (size_t)k + (size_t)p] = u;
        }
        i++;
    }
    fclose(in);
    if (!ok || i != d->npoints) {
        bs_design_free(d);
        snprintf(why, whyn, "%s:%d: malformed (expected %ld points of %d coordinates in [0,1])", path, lineno,
                d->npoints, k);
        return -1;
    }
    return 0;
}

/* ---- analysis ------------------------------------------------------------------------- */

static int cmp_dbl(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double quantile_sorted(const double *x, int n, double q)
{
    double h = (n - 1) * q;
    int lo = (int)floor(h);
    if (lo >= n - 1) return x[n - 1];
    return x[lo] + (h - lo) * (x[lo + 1] - x[lo]);
}

int bs_morris_analyse(const bs_design *d, const double *y, bs_morris_stat *out, int boot_n, uint64_t key)
{
    int k = d->nparams;
    long R = d->size;
    if (d->method != BS_SAMPLE_MORRIS) return -1;
    double *ee = malloc((size_t)R * sizeof *ee), *boot = malloc((size_t)(boot_n > 0 ? boot_n : 1) * sizeof *boot);
    if (!ee || !boot) {
        free(ee);
        free(boot);
        return -1;
    }
    for (int p = 0; p < k; p++) {
        int n = 0;
        for (long t = 0; t < R; t++) {
            long base = t * (k + 1);
            for (int s = 1; s <= k; s++) {
                long i = base + s;
                if (d->changed[i] != p) continue;
                double du =
                        d->unit[(size_t)i * (size_t)k + (size_t)p] - d->unit[(size_t)(i - 1) * (size_t)k + (size_t)p];
                if (isnan(y[i]) || isnan(y[i - 1]) || du == 0.0) continue;
                ee[n++] = (y[i] - y[i - 1]) / du;
            }
        }
        bs_morris_stat *o = &out[p];
        memset(o, 0, sizeof *o);
        o->n = n;
        if (n == 0) {
            o->mu_star = o->mu = o->sigma = o->mu_star_lo = o->mu_star_hi = (double)NAN;
            continue;
        }
        double sa = 0.0, s = 0.0;
        for (int e = 0; e < n; e++) {
            sa += fabs(ee[e]);
            s += ee[e];
        }
        o->mu_star = sa / n;
        o->mu = s / n;
        double ss = 0.0;
        for (int e = 0; e < n; e++) ss += (ee[e] - o->mu) * (ee[e] - o->mu);
        o->sigma = n > 1 ? sqrt(ss / (n - 1)) : (double)NAN;
        if (boot_n > 0) {
            for (int b = 0; b < boot_n; b++) {
                double acc = 0.0;
                for (int e = 0; e < n; e++)
                    acc += fabs(ee[bs_rng_below(
                            BOOT_SEED, STREAM_BOOT, key ^ ((uint64_t)p << 32), (uint64_t)b, (uint32_t)e, (uint32_t)n)]);
                boot[b] = acc / n;
            }
            qsort(boot, (size_t)boot_n, sizeof *boot, cmp_dbl);
            o->mu_star_lo = quantile_sorted(boot, boot_n, 0.025);
            o->mu_star_hi = quantile_sorted(boot, boot_n, 0.975);
        } else {
            o->mu_star_lo = o->mu_star_hi = (double)NAN;
        }
    }
    free(ee);
    free(boot);
    return 0;
}

/* Ranks (average ranks for ties) of x[0..n). */
static void ranks(const double *x, int n, double *r, int *idx)
{
    for (int i = 0; i < n; i++) idx[i] = i;
    /* insertion sort by value: n is the number of design points, small */
    for (int i = 1; i < n; i++) {
        int v = idx[i], j = i - 1;
        while (j >= 0 && x[idx[j]] > x[v]) {
            idx[j + 1] = idx[j];
            j--;
        }
        idx[j + 1] = v;
    }
    for (int i = 0; i < n;) {
        int j = i;
        while (j + 1 < n && x[idx[j + 1]] == x[idx[i]]) j++;
        for (int q = i; q <= j; q++) r[idx[q]] = 0.5 * (i + j) + 1.0;
        i = j + 1;
    }
}

static double pearson(const double *a, const double *b, int n)
{
    double ma = 0.0, mb = 0.0;
    for (int i = 0; i < n; i++) {
        ma += a[i];
        mb += b[i];
    }
    ma /= n;
    mb /= n;
    double sab = 0.0, saa = 0.0, sbb = 0.0;
    for (int i = 0; i < n; i++) {
        sab += (a[i] - ma) * (b[i] - mb);
        saa += (a[i] - ma) * (a[i] - ma);
        sbb += (b[i] - mb) * (b[i] - mb);
    }
    return saa > 0.0 && sbb > 0.0 ? sab / sqrt(saa * sbb) : (double)NAN;
}

/* Spearman rank correlation of parameter p with y over an LHS design, and a
 * 95% bootstrap interval over points. */
static int spearman(
        const bs_design *d, const double *y, int p, uint64_t key, double *rho, double *lo, double *hi, int *nused)
{
    int k = d->nparams;
    long N = d->npoints;
    double *x = malloc((size_t)N * 6 * sizeof *x);
    int *idx = malloc((size_t)N * sizeof *idx);
    double *boot = malloc(BOOT_N * sizeof *boot);
    if (!x || !idx || !boot) {
        free(x);
        free(idx);
        free(boot);
        return -1;
    }
    double *yy = x + N, *rx = yy + N, *ry = rx + N, *bx = ry + N, *by = bx + N;
    int n = 0;
    for (long i = 0; i < N; i++)
        if (!isnan(y[i])) {
            x[n] = d->unit[(size_t)i * (size_t)k + (size_t)p];
            yy[n++] = y[i];
        }
    *nused = n;
    *rho = *lo = *hi = (double)NAN;
    if (n >= 3) {
        ranks(x, n, rx, idx);
        ranks(yy, n, ry, idx);
        *rho = pearson(rx, ry, n);
        int nb = 0;
        for (int b = 0; b < BOOT_N; b++) {
            for (int i = 0; i < n; i++) {
                int j = (int)bs_rng_below(
                        BOOT_SEED, STREAM_BOOT, key ^ ((uint64_t)p << 32), (uint64_t)b, (uint32_t)i, (uint32_t)n);
                bx[i] = x[j];
                by[i] = yy[j];
            }
            ranks(bx, n, rx, idx);
            ranks(by, n, ry, idx);
            double r = pearson(rx, ry, n);
            if (!isnan(r)) boot[nb++] = r;
        }
        if (nb > 0) {
            qsort(boot, (size_t)nb, sizeof *boot, cmp_dbl);
            *lo = quantile_sorted(boot, nb, 0.025);
            *hi = quantile_sorted(boot, nb, 0.975);
        }
    }
    free(x);
    free(idx);
    free(boot);
    return 0;
}

/* ---- the figure ----------------------------------------------------------------------- */

static const uint8_t C_BG[3] = { 0xFF, 0xFF, 0xFF }, C_TEXT[3] = { 0x10, 0x10, 0x10 }, C_GRID[3] = { 0xE2, 0xE2, 0xE2 },
                     C_AXIS[3] = { 0x40, 0x40, 0x40 }, C_DIAG[3] = { 0xB0, 0xB0, 0xB0 };
/* Okabe-Ito, colour-blind safe */
static const uint8_t C_PAR[8][3] = { { 0x00, 0x72, 0xB2 }, { 0xD5, 0x5E, 0x00 }, { 0x00, 0x9E, 0x73 },
    { 0xCC, 0x79, 0xA7 }, { 0xE6, 0x9F, 0x00 }, { 0x56, 0xB4, 0xE9 }, { 0xF0, 0xE4, 0x42 }, { 0x00, 0x00, 0x00 } };

static void line(bs_image *im, int x0, int y0, int x1, int y1, const uint8_t c[3], int w)
{
    int dx = abs(x1 - x0), sx = x0 < x1 ? 1 : -1, dy = -abs(y1 - y0), sy = y0 < y1 ? 1 : -1, e = dx + dy;
    for (;;) {
        bs_image_fill_rect(im, x0 - w / 2, y0 - w / 2, w, w, c);
        if (x0 == x1 && y0 == y1) break;
        int e2 = 2 * e;
        if (e2 >= dy) {
            e += dy;
            x0 += sx;
        }
        if (e2 <= dx) {
            e += dx;
            y0 += sy;
        }
    }
}

static double nice_step(double range)
{
    double raw = range / 5.0, mag = pow(10.0, floor(log10(raw))), f = raw / mag;
    return (f < 1.5 ? 1.0 : f < 3.5 ? 2.0 : f < 7.5 ? 5.0 : 10.0) * mag;
}

static void tick_text(double v, char *s, size_t n)
{
    if (fabs(v) < 1e6 && v == floor(v))
        snprintf(s, n, "%.0f", v);
    else
        snprintf(s, n, "%.4g", v);
}

/* One panel: mu* (x, with its bootstrap interval) against sigma (y). */
static void panel(
        bs_image *im, int px, int py, int pw, int ph, const char *title, const bs_design *d, const bs_morris_stat *st)
{
    int k = d->nparams;
    double xmax = 0.0, ymax = 0.0;
    for (int p = 0; p < k; p++) {
        if (isfinite(st[p].mu_star_hi)) xmax = fmax(xmax, st[p].mu_star_hi);
        if (isfinite(st[p].mu_star)) xmax = fmax(xmax, st[p].mu_star);
        if (isfinite(st[p].sigma)) ymax = fmax(ymax, st[p].sigma);
    }
    xmax = xmax > 0.0 ? xmax * 1.1 : 1.0;
    ymax = ymax > 0.0 ? ymax * 1.1 : 1.0;
    double xs = nice_step(xmax), ys = nice_step(ymax);
    xmax = ceil(xmax / xs) * xs;
    ymax = ceil(ymax / ys) * ys;
    int l = px + 90, r = px + pw - 40, t = py + 44, b = py + ph - 50;
    bs_image_text(im, px + 10, py + 10, 2, C_TEXT, title);
    for (double v = 0.0; v <= xmax * 1.0001; v += xs) {
        int x = l + (int)lround((r - l) * v / xmax);
        line(im, x, t, x, b, C_GRID, 1);
        char s[32];
        tick_text(v, s, sizeof s);
        bs_image_text(im, x - bs_text_width(1, s) / 2, b + 6, 1, C_TEXT, s);
    }
    for (double v = 0.0; v <= ymax * 1.0001; v += ys) {
        int y = b - (int)lround((b - t) * v / ymax);
        line(im, l, y, r, y, C_GRID, 1);
        char s[32];
        tick_text(v, s, sizeof s);
        bs_image_text(im, l - 6 - bs_text_width(1, s), y - 3, 1, C_TEXT, s);
    }
    /* sigma = mu*: above it, effects depend strongly on where the others sit */
    double dm = fmin(xmax, ymax);
    line(im, l, b, l + (int)lround((r - l) * dm / xmax), b - (int)lround((b - t) * dm / ymax), C_DIAG, 1);
    line(im, l, t, l, b, C_AXIS, 2);
    line(im, l, b, r, b, C_AXIS, 2);
    const char *xl = "mu* (mean |elementary effect|, output units per full range)";
    bs_image_text(im, (l + r) / 2 - bs_text_width(1, xl) / 2, b + 22, 1, C_TEXT, xl);
    bs_image_text(im, px + 8, t - 14, 1, C_TEXT, "sigma");
    int lab[BS_SAMPLE_MAX_PARAMS][3], nlab = 0; /* labels drawn: x, y, width */
    for (int p = 0; p < k; p++) {
        if (!isfinite(st[p].mu_star)) continue;
        double sg = isfinite(st[p].sigma) ? st[p].sigma : 0.0;
        int x = l + (int)lround((r - l) * st[p].mu_star / xmax), y = b - (int)lround((b - t) * sg / ymax);
        const uint8_t *c = C_PAR[p % 8];
        if (isfinite(st[p].mu_star_lo)) {
            int x0 = l + (int)lround((r - l) * st[p].mu_star_lo / xmax);
            int x1 = l + (int)lround((r - l) * st[p].mu_star_hi / xmax);
            line(im, x0, y, x1, y, c, 2);
            line(im, x0, y - 4, x0, y + 4, c, 2);
            line(im, x1, y - 4, x1, y + 4, c, 2);
        }
        bs_image_fill_rect(im, x - 4, y - 4, 9, 9, c);
        int tw = bs_text_width(1, d->par[p].name), th = bs_text_height(1) + 3;
        int tx = x + 8, ty = y - 12;
        if (tx + tw > r) tx = x - 8 - tw;
        /* move a label down past the ones already drawn that it would cover */
        for (int moved = 1; moved;) {
            moved = 0;
            for (int q = 0; q < nlab; q++)
                if (tx < lab[q][0] + lab[q][2] && lab[q][0] < tx + tw && ty < lab[q][1] + th && lab[q][1] < ty + th) {
                    ty = lab[q][1] + th;
                    moved = 1;
                }
        }
        lab[nlab][0] = tx;
        lab[nlab][1] = ty;
        lab[nlab++][2] = tw;
        bs_image_text(im, tx, ty, 1, c, d->par[p].name);
    }
}

static int write_figure(const char *path, const bs_design *d, char *const *names, int nout, const bs_morris_stat *st,
        char *why, size_t whyn)
{
    int pw = 720, ph = 420;
    bs_image im;
    bs_error err = { { 0 } };
    if (bs_image_init(&im, pw, ph * nout, &err) != BS_OK) {
        snprintf(why, whyn, "%s", err.msg);
        return -1;
    }
    bs_image_fill_rect(&im, 0, 0, im.w, im.h, C_BG);
    for (int q = 0; q < nout; q++) {
        char title[300];
        snprintf(title, sizeof title, "Morris: %s", names[q]);
        panel(&im, 0, q * ph, pw, ph, title, d, st + (size_t)q * (size_t)d->nparams);
    }
    bs_status s = bs_png_write(path, &im, &err);
    bs_image_free(&im);
    if (s != BS_OK) {
        snprintf(why, whyn, "%s", err.msg);
        return -1;
    }
    return 0;
}

/* ---- the command ------------------------------------------------------------------------ */

void bs_usage_sensitivity(FILE *f)
{
    fprintf(f,
            "usage: bonesim sensitivity SWEEP_DIR [--columns LIST] [--out DIR] [--quiet]\n"
            "\n"
            "Analyses a sweep made with `bonesim sweep --sample morris:R` or `--sample lhs:N`\n"
            "(SWEEP_DIR holds summary.csv, design.csv and design_ranges.csv). The outputs of runs\n"
            "at the same design point (replicates) are averaged first.\n"
            "\n"
            "morris: per parameter and output, the elementary effects EE = dy / du over the R\n"
            "  trajectories (u: the parameter scaled to its --range, 0..1; so EE is in the\n"
            "  output's units per full range): mu* = mean |EE| (overall influence, the ranking),\n"
            "  mu = mean EE (sign), sigma = standard deviation of EE (non-linearity and\n"
            "  interactions), and a 95%% bootstrap interval of mu* over trajectories (%d resamples).\n"
            "lhs: Spearman rank correlation of each parameter with each output and its 95%%\n"
            "  bootstrap interval over points.\n"
            "\n"
            "options:\n"
            "  --columns LIST  summary.csv output columns to analyse, e.g. n_dtc_final,tumour_area_um2_max\n"
            "                  (a bare column name means its _final) (default: every output column)\n"
            "  --out DIR       where sensitivity.csv and sensitivity.png go (default: SWEEP_DIR)\n"
            "  --quiet         no table on stdout\n"
            "\n"
            "Writes DIR/sensitivity.csv (one row per output and parameter, ranked by mu* or |rho|)\n"
            "and, for Morris, DIR/sensitivity.png (mu* against sigma, one panel per output).\n"
            "\n"
            "Example:\n"
            "  bonesim sweep vicious_cycle --sample morris:10 --range dtc.pthrp_per_h=5:40 \\\n"
            "      --range bmu.lining_rankl_per_h=0.1:0.8 --days 60 --out out/morris\n"
            "  bonesim sensitivity out/morris --columns n_dtc_final,tumour_area_um2_final\n",
            BOOT_N);
}

typedef struct {
    char *names[MAX_OUT];
    int col[MAX_OUT];
    int nout;
} out_sel;

static char *dupstr(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = malloc(n);
    if (p) memcpy(p, s, n);
    return p;
}

int bs_cmd_sensitivity(int argc, char **argv)
{
    const char *dir = NULL, *columns = NULL, *outdir = NULL;
    int quiet = 0;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            bs_usage_sensitivity(stdout);
            return BS_EXIT_OK;
        }
        if (strcmp(a, "--quiet") == 0) {
            quiet = 1;
        } else if (strcmp(a, "--columns") == 0 || strcmp(a, "--out") == 0) {
            if (i + 1 >= argc || !argv[i + 1][0]) {
                fprintf(stderr, "bonesim sensitivity: %s needs a value (see bonesim sensitivity --help)\n", a);
                return BS_EXIT_USAGE;
            }
            if (a[2] == 'c')
                columns = argv[++i];
            else
                outdir = argv[++i];
        } else if (a[0] == '-') {
            fprintf(stderr, "bonesim sensitivity: unknown option '%s' (see bonesim sensitivity --help)\n", a);
            return BS_EXIT_USAGE;
        } else if (dir) {
            fprintf(stderr, "bonesim sensitivity: unexpected argument '%s' (one SWEEP_DIR)\n", a);
            return BS_EXIT_USAGE;
        } else {
            dir = a;
        }
    }
    if (!dir) {
        fprintf(stderr, "bonesim sensitivity: missing SWEEP_DIR (see bonesim sensitivity --help)\n");
        return BS_EXIT_USAGE;
    }
    if (!outdir) outdir = dir;
    char why[8192];
    bs_design d;
    if (bs_design_read(&d, dir, why, sizeof why) != 0) {
        fprintf(stderr, "bonesim sensitivity: %s\n", why);
        return BS_EXIT_USAGE;
    }
    int k = d.nparams, rc = BS_EXIT_USAGE;
    char path[4200];
    snprintf(path, sizeof path, "%s/summary.csv", dir);
    FILE *in = fopen(path, "r");
    static char line[65536], hdr[65536];
    char *f[MAX_OUT + BS_SAMPLE_MAX_PARAMS + 8];
    out_sel sel = { { 0 }, { 0 }, 0 };
    double *sum = NULL, *cnt = NULL, *y = NULL;
    bs_morris_stat *st = NULL;
    long reps = 0;
    if (!in) {
        fprintf(stderr, "bonesim sensitivity: %s: cannot read (%s)\n", path, strerror(errno));
        goto done;
    }
    int nf = fgets(hdr, sizeof hdr, in) ? csv_split(hdr, f, MAX_OUT + BS_SAMPLE_MAX_PARAMS + 8) : -1;
    int first_out = 3 + k;
    int ok = nf > first_out && strcmp(f[0], "run") == 0 && strcmp(f[1], "seed") == 0 && strcmp(f[2], "replicate") == 0;
    for (int p = 0; p < k && ok; p++) ok = strcmp(f[3 + p], d.par[p].name) == 0;
    if (!ok) {
        fprintf(stderr,
                "bonesim sensitivity: %s:1: the header is not that of a --sample sweep over the parameters of "
                "%s/design.csv\n",
                path, dir);
        goto done;
    }
    /* output selection */
    if (columns) {
        char buf[8192];
        if (strlen(columns) >= sizeof buf) {
            fprintf(stderr, "bonesim sensitivity: --columns too long\n");
            goto done;
        }
        strcpy(buf, columns);
        char *save = NULL;
        for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
            int c = -1;
            char alt[300];
            snprintf(alt, sizeof alt, "%s_final", tok);
            for (int q = first_out; q < nf && c < 0; q++)
                if (strcmp(f[q], tok) == 0 || strcmp(f[q], alt) == 0) c = q;
            if (c < 0) {
                fprintf(stderr, "bonesim sensitivity: --columns: no output column '%s' in %s (it has:", tok, path);
                for (int q = first_out; q < nf; q++) fprintf(stderr, " %s", f[q]);
                fprintf(stderr, ")\n");
                goto done;
            }
            if (sel.nout == MAX_OUT) break;
            sel.col[sel.nout] = c;
            sel.names[sel.nout++] = dupstr(f[c]);
        }
        if (sel.nout == 0) {
            fprintf(stderr, "bonesim sensitivity: --columns is empty\n");
            goto done;
        }
    } else {
        for (int q = first_out; q < nf && sel.nout < MAX_OUT; q++) {
            sel.col[sel.nout] = q;
            sel.names[sel.nout++] = dupstr(f[q]);
        }
    }
    for (int q = 0; q < sel.nout; q++)
        if (!sel.names[q]) {
            fprintf(stderr, "bonesim sensitivity: out of memory\n");
            goto done;
        }
    /* rows: run r = point * reps + replicate */
    long nrows = 0, lineno = 1;
    long *runs = NULL, *repl = NULL;
    double *vals = NULL;
    long cap = 0;
    while (fgets(line, sizeof line, in)) {
        lineno++;
        if (line[0] == '\n') continue;
        int n = csv_split(line, f, MAX_OUT + BS_SAMPLE_MAX_PARAMS + 8);
        double r, rep;
        if (n != nf || !num_field(f[0], &r) || !num_field(f[2], &rep) || r < 0 || rep < 0) {
            fprintf(stderr, "bonesim sensitivity: %s:%ld: malformed row (%d fields, header has %d)\n", path, lineno, n,
                    nf);
            free(runs);
            free(repl);
            free(vals);
            goto done;
        }
        if (nrows == cap) {
            cap = cap ? cap * 2 : 256;
            long *nr = realloc(runs, (size_t)cap * sizeof *nr);
            if (nr) runs = nr;
            long *np = realloc(repl, (size_t)cap * sizeof *np);
            if (np) repl = np;
            double *nv = realloc(vals, (size_t)cap * (size_t)sel.nout * sizeof *nv);
            if (nv) vals = nv;
            if (!nr || !np || !nv) {
                fprintf(stderr, "bonesim sensitivity: out of memory\n");
                free(runs);
                free(repl);
                free(vals);
                goto done;
            }
        }
        runs[nrows] = (long)r;
        repl[nrows] = (long)rep;
        for (int q = 0; q < sel.nout; q++) {
            double v;
            if (!num_field(f[sel.col[q]], &v)) v = (double)NAN;
            vals[(size_t)nrows * (size_t)sel.nout + (size_t)q] = v;
        }
        nrows++;
    }
    fclose(in);
    in = NULL;
    if (nrows == 0) {
        fprintf(stderr, "bonesim sensitivity: %s has no rows (did the sweep run?)\n", path);
        free(runs);
        free(repl);
        free(vals);
        goto done;
    }
    /* the sweep numbers runs point-major: run = point x replicates + replicate */
    reps = d.replicates;
    for (long i = 0; i < nrows; i++)
        if (repl[i] >= reps || runs[i] % reps != repl[i] || runs[i] / reps >= d.npoints) {
            fprintf(stderr,
                    "bonesim sensitivity: %s: run %ld (replicate %ld) does not fit a design of %ld points x %ld "
                    "replicates\n",
                    path, runs[i], repl[i], d.npoints, reps);
            free(runs);
            free(repl);
            free(vals);
            goto done;
        }
    sum = calloc((size_t)d.npoints * (size_t)sel.nout, sizeof *sum);
    cnt = calloc((size_t)d.npoints * (size_t)sel.nout, sizeof *cnt);
    y = malloc((size_t)d.npoints * sizeof *y);
    st = malloc((size_t)sel.nout * (size_t)k * sizeof *st);
    if (!sum || !cnt || !y || !st) {
        fprintf(stderr, "bonesim sensitivity: out of memory\n");
        free(runs);
        free(repl);
        free(vals);
        goto done;
    }
    for (long i = 0; i < nrows; i++) {
        long pt = runs[i] / reps;
        for (int q = 0; q < sel.nout; q++) {
            double v = vals[(size_t)i * (size_t)sel.nout + (size_t)q];
            if (isnan(v)) continue;
            sum[(size_t)pt * (size_t)sel.nout + (size_t)q] += v;
            cnt[(size_t)pt * (size_t)sel.nout + (size_t)q] += 1.0;
        }
    }
    free(runs);
    free(repl);
    free(vals);
    long missing = d.npoints * reps - nrows;
    /* analysis, the table and sensitivity.csv */
    sbuf csv = { 0 };
    int morris = d.method == BS_SAMPLE_MORRIS;
    if (morris)
        sb_printf(&csv, "output,parameter,rank,mu_star,mu_star_lo95,mu_star_hi95,mu,sigma,n_effects\n");
    else
        sb_printf(&csv, "output,parameter,rank,spearman_rho,rho_lo95,rho_hi95,n_points\n");
    if (!quiet) {
        printf("bonesim sensitivity: %s, %s design: %ld %s x %ld replicate%s, %d parameters%s\n", dir,
                method_name(d.method), d.size, morris ? "trajectories" : "points", reps, reps == 1 ? "" : "s", k,
                missing > 0 ? " (some runs missing: their effects are left out)" : "");
        if (morris) printf("EE = dy/du, u = parameter scaled to its range 0..1; ranked by mu*\n");
    }
    for (int q = 0; q < sel.nout; q++) {
        for (long i = 0; i < d.npoints; i++) {
            double c = cnt[(size_t)i * (size_t)sel.nout + (size_t)q];
            y[i] = c > 0 ? sum[(size_t)i * (size_t)sel.nout + (size_t)q] / c : (double)NAN;
        }
        bs_morris_stat *sq = st + (size_t)q * (size_t)k;
        uint64_t key = (uint64_t)q + 1;
        if (morris) {
            if (bs_morris_analyse(&d, y, sq, BOOT_N, key) != 0) {
                fprintf(stderr, "bonesim sensitivity: out of memory\n");
                free(csv.s);
                rc = BS_EXIT_ERROR;
                goto done;
            }
        } else {
            for (int p = 0; p < k; p++) {
                memset(&sq[p], 0, sizeof sq[p]);
                if (spearman(&d, y, p, key, &sq[p].mu, &sq[p].mu_star_lo, &sq[p].mu_star_hi, &sq[p].n) != 0) {
                    fprintf(stderr, "bonesim sensitivity: out of memory\n");
                    free(csv.s);
                    rc = BS_EXIT_ERROR;
                    goto done;
                }
                sq[p].mu_star = fabs(sq[p].mu);
            }
        }
        /* rank by mu* (|rho| for lhs), NaN last */
        int order[BS_SAMPLE_MAX_PARAMS];
        for (int p = 0; p < k; p++) order[p] = p;
        for (int a = 1; a < k; a++) {
            int v = order[a], b = a - 1;
            double mv = isnan(sq[v].mu_star) ? -1.0 : sq[v].mu_star;
            while (b >= 0 && (isnan(sq[order[b]].mu_star) ? -1.0 : sq[order[b]].mu_star) < mv) {
                order[b + 1] = order[b];
                b--;
            }
            order[b + 1] = v;
        }
        if (!quiet) {
            printf("\n%s\n", sel.names[q]);
            if (morris)
                printf("  %-4s %-36s %12s %27s %12s %12s %4s\n", "rank", "parameter", "mu*", "mu* 95% interval", "mu",
                        "sigma", "n");
            else
                printf("  %-4s %-36s %8s %20s %5s\n", "rank", "parameter", "rho", "95% interval", "n");
        }
        for (int a = 0; a < k; a++) {
            int p = order[a];
            const bs_morris_stat *s = &sq[p];
            if (morris) {
                sb_printf(&csv, "%s,%s,%d,%.6g,%.6g,%.6g,%.6g,%.6g,%d\n", sel.names[q], d.par[p].name, a + 1,
                        s->mu_star, s->mu_star_lo, s->mu_star_hi, s->mu, s->sigma, s->n);
                if (!quiet)
                    printf("  %-4d %-36s %12.4g   [%11.4g, %11.4g] %12.4g %12.4g %4d\n", a + 1, d.par[p].name,
                            s->mu_star, s->mu_star_lo, s->mu_star_hi, s->mu, s->sigma, s->n);
            } else {
                sb_printf(&csv, "%s,%s,%d,%.6g,%.6g,%.6g,%d\n", sel.names[q], d.par[p].name, a + 1, s->mu,
                        s->mu_star_lo, s->mu_star_hi, s->n);
                if (!quiet)
                    printf("  %-4d %-36s %8.3f   [%6.3f, %6.3f] %5d\n", a + 1, d.par[p].name, s->mu, s->mu_star_lo,
                            s->mu_star_hi, s->n);
            }
        }
    }
    if (csv.oom) {
        fprintf(stderr, "bonesim sensitivity: out of memory\n");
        free(csv.s);
        rc = BS_EXIT_ERROR;
        goto done;
    }
    snprintf(path, sizeof path, "%s/sensitivity.csv", outdir);
    int bad = write_atomic(path, csv.s, why, sizeof why);
    free(csv.s);
    if (bad) {
        fprintf(stderr, "bonesim sensitivity: %s\n", why);
        rc = BS_EXIT_ERROR;
        goto done;
    }
    if (!quiet) printf("\nwrote %s", path);
    if (morris) {
        snprintf(path, sizeof path, "%s/sensitivity.png", outdir);
        if (write_figure(path, &d, sel.names, sel.nout, st, why, sizeof why) != 0) {
            fprintf(stderr, "\nbonesim sensitivity: %s\n", why);
            rc = BS_EXIT_ERROR;
            goto done;
        }
        if (!quiet) printf(" and %s", path);
    }
    if (!quiet) printf("\n");
    rc = BS_EXIT_OK;
done:
    if (in) fclose(in);
    for (int q = 0; q < sel.nout; q++) free(sel.names[q]);
    free(sum);
    free(cnt);
    free(y);
    free(st);
    bs_design_free(&d);
    return rc;
}
