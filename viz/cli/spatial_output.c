/* spatial_output.c — spatial snapshots: OUT/spatial.h5 and per-snapshot CSV cell
 * tables (see spatial_output.h; the file layout is in docs/analysis.md). */
#define _POSIX_C_SOURCE 200809L
#include "spatial_output.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "celltypes.h"
#include "output.h"
#include "version.h"

#ifdef BS_HAVE_HDF5
#include <hdf5.h>
#endif

#define BS_SPATIAL_FORMAT "bonesim-spatial"
#define BS_SPATIAL_FORMAT_VERSION 1
#define BS_HDF5_PACKAGE "libhdf5-dev"

int bs_spatial_available(void)
{
#ifdef BS_HAVE_HDF5
    return 1;
#else
    return 0;
#endif
}

bs_status bs_spatial_check(const bs_paramset *ps, int cells_csv, bs_error *err)
{
    double every = bs_param(ps, "run.spatial_every_d");
    if (cells_csv && !(every > 0.0))
        return bs_fail(err, BS_ERR_INVALID,
                "--cells-csv writes a table per spatial snapshot: give --spatial-every DAYS (or "
                "run.spatial_every_d > 0) too");
    double dt_d = bs_param(ps, "run.dt_h") / 24.0;
    if (every > 0.0 && every < dt_d * (1.0 - 1e-12))
        return bs_fail(err, BS_ERR_INVALID,
                "--spatial-every / run.spatial_every_d: an interval of %g days is shorter than one step (run.dt_h = "
                "%g h); valid: 0 (none) or %.6g .. 36525 days",
                every, dt_d * 24.0, dt_d);
    if (every > 0.0 && !bs_spatial_available())
        return bs_fail(err, BS_ERR_INVALID,
                "spatial output (--spatial-every, run.spatial_every_d = %g) needs HDF5, and this bonesim was "
                "built without it: install the Debian package %s (apt-get install %s), then rebuild "
                "(cmake -DBONESIM_WITH_HDF5=ON)",
                every, BS_HDF5_PACKAGE, BS_HDF5_PACKAGE);
    return BS_OK;
}

void bs_spatial_cells_path(const bs_spatial *s, const bs_model *m, char *buf, size_t n)
{
    snprintf(buf, n, "%s/cells_day%08.3f.csv", s->dir, bs_model_time_days(m));
}

void bs_spatial_free(bs_spatial *s)
{
    free(s);
}

#ifndef BS_HAVE_HDF5

bs_status bs_spatial_open(bs_spatial **out, const char *dir, const char *src_dir, const bs_model *m, int cells_csv,
        int quiet, bs_error *err)
{
    (void)dir;
    (void)src_dir;
    (void)cells_csv;
    (void)quiet;
    *out = NULL;
    return bs_spatial_check(m->ps, 0, err);
}

bs_status bs_spatial_write(bs_spatial *s, const bs_model *m, int last, bs_error *err)
{
    (void)s;
    (void)m;
    (void)last;
    return bs_fail(err, BS_ERR_INTERNAL, "spatial output needs HDF5 (%s)", BS_HDF5_PACKAGE);
}

#else /* BS_HAVE_HDF5 */

/* ---- the cells of a snapshot, in raster order of their sites ---------------------- */

typedef struct {
    size_t n;
    uint64_t *id;
    float *x_um, *y_um, *age_h, *za_uptake, *aux;
    uint8_t *type, *state;
    int8_t *origin;
    int32_t *kills;
} cell_table;

static void cells_free(cell_table *c)
{
    free(c->id);
    free(c->x_um);
    free(c->y_um);
    free(c->age_h);
    free(c->za_uptake);
    free(c->aux);
    free(c->type);
    free(c->state);
    free(c->origin);
    free(c->kills);
    memset(c, 0, sizeof *c);
}

/* The per-type variables are the store's type-specific scalar (store.aux)
 * under the name each shipped type gives it (0 for the other types), and
 * as it is (aux), for any type. */
static bs_status cells_gather(const bs_model *m, cell_table *c, bs_error *err)
{
    const bs_store *s = &m->store;
    const bs_lattice *lat = &m->lat;
    size_t n = 0, sites = (size_t)lat->w * (size_t)lat->h;
    for (size_t i = 0; i < sites; i++) n += s->occ[i] >= 0;
    size_t k = n ? n : 1;
    memset(c, 0, sizeof *c);
    c->id = malloc(k * sizeof *c->id);
    c->x_um = malloc(k * sizeof *c->x_um);
    c->y_um = malloc(k * sizeof *c->y_um);
    c->age_h = malloc(k * sizeof *c->age_h);
    c->za_uptake = malloc(k * sizeof *c->za_uptake);
    c->aux = malloc(k * sizeof *c->aux);
    c->type = malloc(k);
    c->state = malloc(k);
    c->origin = malloc(k);
    c->kills = malloc(k * sizeof *c->kills);
    if (!c->id || !c->x_um || !c->y_um || !c->age_h || !c->za_uptake || !c->aux || !c->type || !c->state ||
            !c->origin || !c->kills) {
        cells_free(c);
        return bs_fail(err, BS_ERR_NOMEM, "out of memory for a spatial snapshot's cell table (%zu cells)", n);
    }
    size_t j = 0;
    for (size_t i = 0; i < sites; i++) {
        int slot = s->occ[i];
        if (slot < 0) continue;
        int x = (int)(i % (size_t)lat->w), y = (int)(i / (size_t)lat->w);
        uint8_t t = s->type[slot];
        float aux = s->aux[slot];
        c->id[j] = s->id[slot];
        c->x_um[j] = (float)((x + 0.5) * lat->h_um);
        c->y_um[j] = (float)((y + 0.5) * lat->h_um);
        c->type[j] = t;
        c->state[j] = s->state[slot];
        c->age_h[j] = s->age_h[slot];
        c->origin[j] = t == BS_CELL_DTC ? (int8_t)aux : 0; /* integer part: the fraction is the commitment left */
        c->kills[j] = t == BS_CELL_TCELL || t == BS_CELL_NK ? (int32_t)lrintf(aux) : 0;
        c->za_uptake[j] = t == BS_CELL_OSTEOCLAST ? aux : 0.0f;
        c->aux[j] = aux;
        j++;
    }
    c->n = n;
    return BS_OK;
}

static const char *const origin_names[] = { "", "vessel", "quiescent", "brc" };

/* OUT/cells_dayNNNN.NNN.csv, written atomically. */
static bs_status cells_csv_write(const bs_spatial *sp, const bs_model *m, const cell_table *c, bs_error *err)
{
    size_t cap = 128 + c->n * 160, len = 0;
    char *buf = malloc(cap);
    if (!buf) return bs_fail(err, BS_ERR_NOMEM, "out of memory for a cell table (%zu cells)", c->n);
    len += (size_t)snprintf(buf, cap, "id,x_um,y_um,type,state,age_h,origin,kills,za_uptake,aux\n");
    for (size_t j = 0; j < c->n; j++) {
        const bs_celltype *d = bs_celltype_of(c->type[j]);
        const char *name = d ? d->name : "?";
        const char *state = d && c->state[j] < d->n_states ? d->state_names[c->state[j]] : "?";
        int o = c->origin[j];
        len += (size_t)snprintf(buf + len, cap - len, "%llu,%.2f,%.2f,%s,%s,%.2f,%s,%d,%.6g,%.6g\n",
                (unsigned long long)c->id[j], (double)c->x_um[j], (double)c->y_um[j], name, state, (double)c->age_h[j],
                o >= 0 && o <= 3 ? origin_names[o] : "?", (int)c->kills[j], (double)c->za_uptake[j], (double)c->aux[j]);
    }
    char path[4400];
    bs_spatial_cells_path(sp, m, path, sizeof path);
    bs_status st = bs_write_file_atomic(path, buf, len, err);
    free(buf);
    return st;
}

/* SIGINT/SIGTERM wait while a file is being changed: the run loop's
 * handler stops at once on a second signal, and must not do it mid-append. */
static void block_signals(sigset_t *old)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigprocmask(SIG_BLOCK, &set, old);
}

static void restore_mask(const sigset_t *old)
{
    sigprocmask(SIG_SETMASK, old, NULL);
}

/* Data and metadata on disk before the append counts as done. */
static int sync_path(const char *path)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0) return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}


/* ---- HDF5 helpers: every call is checked; the first failure is kept ---------------- */

typedef struct {
    const char *path;
    bs_error *err;
    int failed;
} h5ctx;

/* The innermost message of the error stack, shortened to the system's
 * reason when HDF5 gives one ("..., error message = 'No space left on
 * device', ...") and to its first line otherwise. */
static herr_t innermost(unsigned n, const H5E_error2_t *e, void *data)
{
    if (n != 0 || !e->desc) return 0;
    char *out = data;
    const char *why = strstr(e->desc, "error message = '");
    if (why) {
        why += strlen("error message = '");
        const char *end = strchr(why, '\'');
        snprintf(out, 300, "%.*s", end ? (int)(end - why) : 200, why);
    } else {
        snprintf(out, 300, "%.*s", (int)strcspn(e->desc, "\n"), e->desc);
    }
    return 0;
}

/* Records the first failure with HDF5's innermost message (e.g. a write
 * failed with errno 28, disk full) and returns 0; returns 1 when ok. */
static int ok(h5ctx *c, long long rc, const char *what)
{
    if (rc >= 0) return 1;
    if (!c->failed) {
        char detail[300] = "";
        H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, innermost, detail);
        bs_fail(c->err, BS_ERR_IO, "%s: cannot %s%s%s", c->path, what, detail[0] ? ": " : "", detail);
    }
    H5Eclear2(H5E_DEFAULT);
    c->failed = 1;
    return 0;
}

/* Before any other HDF5 call: no error stack printing (errors become our
 * messages), and no library shutdown at exit: HDF5 1.10 crashes in its
 * exit handler after a close that failed (disk full), and every file of
 * ours is closed by then anyway. */
static void quiet_hdf5(void)
{
    static int done;
    if (done) return;
    done = 1;
    H5dont_atexit();
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
}

/* Object creation properties without timestamps, so the same run gives the
 * same datasets (and, when written the same way, the same bytes). */
static hid_t create_plist(hid_t cls)
{
    hid_t p = H5Pcreate(cls);
    if (p >= 0) H5Pset_obj_track_times(p, 0);
    return p;
}

/* File access: the HDF5 1.10 file format (readers need HDF5 1.10 or later,
 * 2016), whose chunk indexes for fixed-size datasets take a few bytes
 * instead of a 2 KiB B-tree node per dataset. */
static hid_t access_plist(void)
{
    hid_t p = H5Pcreate(H5P_FILE_ACCESS);
    if (p >= 0) H5Pset_libver_bounds(p, H5F_LIBVER_V110, H5F_LIBVER_LATEST);
    return p;
}

static hid_t open_file(const char *path, unsigned mode)
{
    hid_t fapl = access_plist();
    hid_t f = H5Fopen(path, mode, fapl);
    if (fapl >= 0) H5Pclose(fapl);
    return f;
}

static hid_t str_type(void)
{
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, H5T_VARIABLE);
    H5Tset_cset(t, H5T_CSET_UTF8);
    return t;
}

/* Writes (creating or overwriting) attribute `name` of loc. */
static void attr_write(h5ctx *c, hid_t loc, const char *name, hid_t ftype, hid_t mtype, hsize_t n, const void *v)
{
    if (c->failed) return;
    hid_t a;
    htri_t exists = H5Aexists(loc, name);
    if (!ok(c, exists, "read an attribute")) return;
    if (exists) {
        a = H5Aopen(loc, name, H5P_DEFAULT);
    } else {
        hid_t sp = n == 0 ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, &n, NULL);
        a = H5Acreate2(loc, name, ftype, sp, H5P_DEFAULT, H5P_DEFAULT);
        H5Sclose(sp);
    }
    if (ok(c, a, "create an attribute")) {
        ok(c, H5Awrite(a, mtype, v), "write an attribute");
        H5Aclose(a);
    }
}

static void attr_str(h5ctx *c, hid_t loc, const char *name, const char *v)
{
    hid_t t = str_type();
    attr_write(c, loc, name, t, t, 0, &v);
    H5Tclose(t);
}

static void attr_f64(h5ctx *c, hid_t loc, const char *name, double v)
{
    attr_write(c, loc, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 0, &v);
}

static void attr_i64(h5ctx *c, hid_t loc, const char *name, long long v)
{
    attr_write(c, loc, name, H5T_STD_I64LE, H5T_NATIVE_LLONG, 0, &v);
}

static int attr_read_f64(hid_t loc, const char *name, double *v)
{
    if (H5Aexists(loc, name) <= 0) return 0;
    hid_t a = H5Aopen(loc, name, H5P_DEFAULT);
    if (a < 0) return 0;
    herr_t rc = H5Aread(a, H5T_NATIVE_DOUBLE, v);
    H5Aclose(a);
    return rc >= 0;
}

/* A dataset of rank 1 (cells) or 2 (lattice arrays [y][x], chunked in
 * blocks of whole rows), shuffled and deflated, with its units and meaning
 * as attributes. An empty cell table is a contiguous dataset of size 0
 * (a chunk cannot be empty). */
static void dset(h5ctx *c, hid_t loc, const char *name, hid_t ftype, hid_t mtype, int rank, const hsize_t *dims,
        const void *data, const char *units, const char *desc)
{
    if (c->failed) return;
    hsize_t chunk[2];
    if (rank == 1) {
        chunk[0] = dims[0] > 65536 ? 65536 : dims[0];
    } else {
        hsize_t rows = 262144 / (dims[1] ? dims[1] : 1);
        chunk[0] = rows < 1 ? 1 : rows > dims[0] ? dims[0] : rows;
        chunk[1] = dims[1];
    }
    hid_t sp = H5Screate_simple(rank, dims, NULL);
    hid_t dcpl = create_plist(H5P_DATASET_CREATE);
    if (!ok(c, sp, "make a dataspace") || !ok(c, dcpl, "make a property list")) goto out;
    if (dims[0] > 0 && (rank == 1 || dims[1] > 0)) {
        H5Pset_chunk(dcpl, rank, chunk);
        H5Pset_shuffle(dcpl);
        H5Pset_deflate(dcpl, 4);
    }
    hid_t d = H5Dcreate2(loc, name, ftype, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    if (ok(c, d, "create a dataset")) {
        if (dims[0] > 0) ok(c, H5Dwrite(d, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, data), "write a dataset");
        attr_str(c, d, "units", units);
        if (desc && desc[0]) attr_str(c, d, "description", desc);
        H5Dclose(d);
    }
out:
    if (sp >= 0) H5Sclose(sp);
    if (dcpl >= 0) H5Pclose(dcpl);
}

static hid_t group_new(h5ctx *c, hid_t loc, const char *name)
{
    if (c->failed) return -1;
    hid_t gcpl = create_plist(H5P_GROUP_CREATE);
    hid_t g = H5Gcreate2(loc, name, H5P_DEFAULT, gcpl, H5P_DEFAULT);
    if (gcpl >= 0) H5Pclose(gcpl);
    ok(c, g, "create a group");
    return g;
}

/* The labels of the coded arrays, as one string each. */
static void labels_cells(char *buf, size_t n, int states)
{
    size_t len = 0;
    buf[0] = '\0';
    for (int t = 0; t < bs_celltype_count() && len < n; t++) {
        const bs_celltype *d = bs_celltype_of(t);
        if (!states) {
            len += (size_t)snprintf(buf + len, n - len, "%s%d %s", t ? ", " : "", t, d->name);
            continue;
        }
        len += (size_t)snprintf(buf + len, n - len, "%s%s:", t ? "; " : "", d->name);
        for (int s = 0; s < d->n_states && len < n; s++)
            len += (size_t)snprintf(buf + len, n - len, " %d %s", s, d->state_names[s]);
    }
}

/* Root attributes and the manifest of a new file. */
static void write_header(h5ctx *c, hid_t f, const bs_spatial *sp, const bs_model *m, const char *manifest)
{
    attr_str(c, f, "format", BS_SPATIAL_FORMAT);
    attr_i64(c, f, "format_version", BS_SPATIAL_FORMAT_VERSION);
    attr_str(c, f, "bonesim_version", BS_VERSION);
    attr_str(c, f, "git_commit", BS_GIT_COMMIT);
    attr_i64(c, f, "seed", (long long)m->seed);
    attr_i64(c, f, "width_sites", m->lat.w);
    attr_i64(c, f, "height_sites", m->lat.h);
    attr_f64(c, f, "site_um", m->lat.h_um);
    attr_f64(c, f, "dt_h", m->dt_h);
    attr_f64(c, f, "spatial_every_d", sp->every_d);
    attr_i64(c, f, "cells_csv", sp->cells_csv);
    attr_i64(c, f, "snapshots_complete", 0);
    attr_f64(c, f, "last_complete_day", -1.0);
    attr_i64(c, f, "run_complete", 0);
    attr_str(c, f, "how_written",
            "closed between snapshots; each snapshot appended with its data flushed first, then its group's "
            "complete = 1 and this file's snapshots_complete; use only groups with complete = 1; run_complete = 1 "
            "after the run's last snapshot (docs/analysis.md)");
    char names[512];
    size_t len = 0;
    names[0] = '\0';
    for (int t = 0; t < BS_THERAPY_COUNT; t++)
        len += (size_t)snprintf(names + len, sizeof names - len, "%s%s", t ? "," : "", bs_therapy_names[t]);
    attr_str(c, f, "therapy_names", names);
    if (c->failed) return;
    hid_t t = str_type();
    hid_t s = H5Screate(H5S_SCALAR);
    hid_t dcpl = create_plist(H5P_DATASET_CREATE);
    hid_t d = H5Dcreate2(f, "manifest", t, s, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    if (ok(c, d, "create the manifest")) {
        ok(c, H5Dwrite(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, &manifest), "write the manifest");
        attr_str(c, d, "description", "the run's manifest.json: program, version, scenario, seed, every parameter");
        H5Dclose(d);
    }
    H5Pclose(dcpl);
    H5Sclose(s);
    H5Tclose(t);
    hid_t g = group_new(c, f, "snapshots");
    if (g >= 0) H5Gclose(g);
}

static char *read_text(const char *path, bs_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        bs_fail(err, BS_ERR_IO, "%s: cannot read (%s)", path, strerror(errno));
        return NULL;
    }
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        n += fread(buf + n, 1, cap - n - 1, f);
        if (n < cap - 1) break;
        char *b2 = realloc(buf, cap * 2);
        if (!b2) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = b2;
        cap *= 2;
    }
    int bad = ferror(f);
    fclose(f);
    if (!buf || bad) {
        free(buf);
        bs_fail(err, buf ? BS_ERR_IO : BS_ERR_NOMEM, "%s: cannot read", path);
        return NULL;
    }
    buf[n] = '\0';
    return buf;
}

/* ---- resume: the complete snapshots before the checkpoint ---------------------------- */

typedef struct {
    h5ctx *c;
    hid_t dst; /* the new file's /snapshots */
    double t_ckpt;
    long long kept;
    double last_next_d; /* next_due_d of the last snapshot kept */
} copy_ctx;

static herr_t copy_one(hid_t src, const char *name, const H5L_info_t *info, void *data)
{
    (void)info;
    copy_ctx *k = data;
    hid_t g = H5Gopen2(src, name, H5P_DEFAULT);
    if (g < 0) return 0; /* not a group: skip */
    double complete = 0.0, t = 0.0, next = 0.0;
    int take = attr_read_f64(g, "complete", &complete) && complete == 1.0 && attr_read_f64(g, "time_days", &t) &&
            attr_read_f64(g, "next_due_d", &next) && t < k->t_ckpt - 1e-9;
    H5Gclose(g);
    H5Eclear2(H5E_DEFAULT);
    if (!take) return 0;
    char dname[32];
    snprintf(dname, sizeof dname, "%06lld", k->kept);
    if (!ok(k->c, H5Ocopy(src, name, k->dst, dname, H5P_DEFAULT, H5P_DEFAULT), "copy a snapshot")) return -1;
    k->kept++;
    k->last_next_d = next;
    return 0;
}

/* Opens src read-only; -1 (and a quiet HDF5 error stack) if it is not a
 * readable spatial file of ours. A run killed during an append (SIGKILL,
 * power loss) leaves the file marked "open for write": it is then opened
 * as the h5clear tool does (the library's clear_status_flags access
 * property), and only its complete snapshots are used. *recovered says so. */
static hid_t open_source(const char *src, int *recovered)
{
    *recovered = 0;
    if (access(src, F_OK) != 0) return -1;
    hid_t f = open_file(src, H5F_ACC_RDONLY);
    H5Eclear2(H5E_DEFAULT);
    if (f < 0) {
        hid_t fapl = access_plist();
        hbool_t clear = 1;
        if (fapl >= 0 && H5Pset(fapl, "clear_status_flags", &clear) >= 0) f = H5Fopen(src, H5F_ACC_RDONLY, fapl);
        if (fapl >= 0) H5Pclose(fapl);
        H5Eclear2(H5E_DEFAULT);
        *recovered = f >= 0;
    }
    if (f < 0) return -1;
    if (H5Lexists(f, "snapshots", H5P_DEFAULT) <= 0) {
        H5Eclear2(H5E_DEFAULT);
        H5Fclose(f);
        return -1;
    }
    return f;
}

bs_status bs_spatial_open(bs_spatial **out, const char *dir, const char *src_dir, const bs_model *m, int cells_csv,
        int quiet, bs_error *err)
{
    *out = NULL;
    double every = bs_param(m->ps, "run.spatial_every_d");
    if (!(every > 0.0)) return BS_OK;
    quiet_hdf5();
    bs_spatial *sp = calloc(1, sizeof *sp);
    if (!sp) return bs_fail(err, BS_ERR_NOMEM, "out of memory");
    sp->every_d = every;
    sp->cells_csv = cells_csv;
    sp->next_d = 0.0;
    snprintf(sp->dir, sizeof sp->dir, "%s", dir);
    snprintf(sp->path, sizeof sp->path, "%s/spatial.h5", dir);
    char mpath[4300], tmp[4400], src[4300];
    snprintf(mpath, sizeof mpath, "%s/manifest.json", dir);
    char *manifest = read_text(mpath, err);
    if (!manifest) {
        free(sp);
        return BS_ERR_IO;
    }
    double t_ckpt = bs_model_time_days(m);
    hid_t sf = -1;
    if (src_dir) {
        snprintf(src, sizeof src, "%s/spatial.h5", src_dir);
        int recovered = 0;
        sf = open_source(src, &recovered);
        if (recovered && !quiet)
            fprintf(stderr,
                    "bonesim: note: %s was not closed (the run was killed while appending); its complete "
                    "snapshots are kept\n",
                    src);
        double seed = -1.0, w = -1.0, h = -1.0, v = 0.0;
        int foreign = 0;
        if (sf >= 0) {
            attr_read_f64(sf, "seed", &seed);
            attr_read_f64(sf, "width_sites", &w);
            attr_read_f64(sf, "height_sites", &h);
        }
        if (sf >= 0 && !(seed == (double)m->seed && w == m->lat.w && h == m->lat.h)) {
            if (!quiet)
                fprintf(stderr,
                        "bonesim: note: %s is from another run (seed %.0f, %.0f x %.0f sites); %s starts at day "
                        "%.3f\n",
                        src, seed, w, h, sp->path, t_ckpt);
            H5Fclose(sf);
            sf = -1;
            foreign = 1;
        }
        if (sf >= 0 && attr_read_f64(sf, "cells_csv", &v) && v != 0.0) sp->cells_csv = 1;
        if (sf < 0 && !foreign && !quiet)
            fprintf(stderr, "bonesim: note: %s is missing or unreadable; %s starts at day %.3f\n", src, sp->path,
                    t_ckpt);
    }
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", sp->path, (long)getpid());
    h5ctx c = { sp->path, err, 0 };
    sigset_t old;
    block_signals(&old);
    hid_t fcpl = create_plist(H5P_FILE_CREATE);
    hid_t fapl = access_plist();
    hid_t f = H5Fcreate(tmp, H5F_ACC_TRUNC, fcpl, fapl);
    if (fcpl >= 0) H5Pclose(fcpl);
    if (fapl >= 0) H5Pclose(fapl);
    if (ok(&c, f, "create the file")) {
        write_header(&c, f, sp, m, manifest);
        if (sf >= 0 && !c.failed) {
            hid_t dst = H5Gopen2(f, "snapshots", H5P_DEFAULT);
            copy_ctx k = { &c, dst, t_ckpt, 0, t_ckpt };
            hsize_t idx = 0;
            if (ok(&c, dst, "open /snapshots")) {
                hid_t ss = H5Gopen2(sf, "snapshots", H5P_DEFAULT);
                idx = 0;
                if (ok(&c, ss, "read the snapshots of the run being resumed")) {
                    H5Literate(ss, H5_INDEX_NAME, H5_ITER_INC, &idx, copy_one, &k);
                    H5Gclose(ss);
                }
                H5Gclose(dst);
            }
            /* The schedule goes on where the kept snapshots leave it, unless
             * the interval changed (then it restarts at the checkpoint). */
            double old_every = 0.0;
            int same = attr_read_f64(sf, "spatial_every_d", &old_every) && old_every == every;
            sp->n_snapshots = k.kept;
            sp->next_d = k.kept > 0 && same ? k.last_next_d : t_ckpt;
            attr_i64(&c, f, "snapshots_complete", k.kept);
            attr_i64(&c, f, "cells_csv", sp->cells_csv);
        } else if (src_dir) {
            sp->next_d = t_ckpt;
        }
        if (H5Fclose(f) < 0) ok(&c, -1, "close the file");
    }
    if (sf >= 0) H5Fclose(sf);
    H5Eclear2(H5E_DEFAULT);
    if (!c.failed && sync_path(tmp) != 0)
        bs_fail(err, BS_ERR_IO, "%s: cannot sync (%s)", tmp, strerror(errno)), c.failed = 1;
    if (!c.failed && rename(tmp, sp->path) != 0)
        bs_fail(err, BS_ERR_IO, "%s: cannot rename into place (%s)", sp->path, strerror(errno)), c.failed = 1;
    if (c.failed) remove(tmp);
    restore_mask(&old);
    free(manifest);
    if (c.failed) {
        free(sp);
        return BS_ERR_IO;
    }
    *out = sp;
    return BS_OK;
}

static const char *const tissue_labels = "0 marrow, 1 bone, 2 vessel (sinusoid), 3 arteriole";
static const char *const surface_labels =
        "0 none (not endosteal), 1 quiescent (lining cells), 2 resorption, 3 reversal, 4 formation";

static void write_snapshot(h5ctx *c, hid_t g, const bs_model *m, const cell_table *ct)
{
    const bs_lattice *lat = &m->lat;
    hsize_t n1[1] = { ct->n }, n2[2] = { (hsize_t)lat->h, (hsize_t)lat->w };
    size_t sites = (size_t)lat->w * (size_t)lat->h;
    char lab[1024];
    hid_t cg = group_new(c, g, "cells");
    if (cg >= 0) {
        attr_i64(c, cg, "count", (long long)ct->n);
        attr_str(c, cg, "order", "raster order of the cells' sites (y, then x)");
        dset(c, cg, "id", H5T_STD_U64LE, H5T_NATIVE_UINT64, 1, n1, ct->id, "1",
                "stable cell id (the key of its random draws)");
        dset(c, cg, "x_um", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 1, n1, ct->x_um, "um",
                "centre of the cell's site, x = (column + 0.5) x site_um");
        dset(c, cg, "y_um", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 1, n1, ct->y_um, "um",
                "centre of the cell's site, y = (row + 0.5) x site_um (row 0 is the first row of the 2D arrays)");
        labels_cells(lab, sizeof lab, 0);
        dset(c, cg, "type", H5T_STD_U8LE, H5T_NATIVE_UINT8, 1, n1, ct->type, "1", lab);
        labels_cells(lab, sizeof lab, 1);
        dset(c, cg, "state", H5T_STD_U8LE, H5T_NATIVE_UINT8, 1, n1, ct->state, "1", lab);
        dset(c, cg, "age_h", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 1, n1, ct->age_h, "h", "time since the cell appeared");
        dset(c, cg, "origin", H5T_STD_I8LE, H5T_NATIVE_INT8, 1, n1, ct->origin, "1",
                "tumour cells: where the founder of the lineage landed, inherited by daughters: 1 vessel "
                "(sinusoid), 2 quiescent endosteum, 3 remodeling compartment (BRC); 0 for other types");
        dset(c, cg, "kills", H5T_STD_I32LE, H5T_NATIVE_INT32, 1, n1, ct->kills, "1",
                "CD8 T cells and NK cells: tumour cells killed so far; 0 for other types");
        dset(c, cg, "za_uptake", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 1, n1, ct->za_uptake, "1",
                "osteoclasts: zoledronic acid taken up from resorbed bone (1 = a lethal load); 0 for other types");
        dset(c, cg, "aux", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 1, n1, ct->aux, "1",
                "the cell's type-specific scalar as the store keeps it (origin code, kills, ZA uptake above; "
                "whatever a type registered by an embedding program keeps there)");
        H5Gclose(cg);
    }
    hid_t fg = group_new(c, g, "fields");
    if (fg >= 0) {
        for (int k = 0; k < BS_FIELD_COUNT; k++)
            dset(c, fg, m->fields[k].spec.name, H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 2, n2, m->fields[k].c,
                    m->fields[k].spec.unit, "concentration per site [y][x]");
        H5Gclose(fg);
    }
    dset(c, g, "tissue", H5T_STD_U8LE, H5T_NATIVE_UINT8, 2, n2, lat->tissue, "1", tissue_labels);
    dset(c, g, "surface", H5T_STD_U8LE, H5T_NATIVE_UINT8, 2, n2, lat->surface, "1", surface_labels);
    dset(c, g, "mineral", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 2, n2, lat->mineral, "1",
            "mineral fraction of a bone site (0..1); on a resorbed cavity, the refilling target");
    dset(c, g, "za_load", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 2, n2, lat->za_load, "1",
            "bound drug: zoledronic acid bound to bone, normalised (1 = one standard dose's load)");
    uint8_t *cav = malloc(sites ? sites : 1);
    if (!cav) {
        ok(c, -1, "allocate the cavity map");
        return;
    }
    for (size_t i = 0; i < sites; i++) cav[i] = (lat->flags[i] & BS_FLAG_CAVITY) != 0;
    dset(c, g, "cavity", H5T_STD_U8LE, H5T_NATIVE_UINT8, 2, n2, cav, "1",
            "1: a resorbed site that osteoblasts may refill");
    free(cav);
}

bs_status bs_spatial_write(bs_spatial *s, const bs_model *m, int last, bs_error *err)
{
    cell_table ct;
    bs_status st = cells_gather(m, &ct, err);
    if (st != BS_OK) return st;
    if (s->cells_csv) {
        st = cells_csv_write(s, m, &ct, err);
        if (st != BS_OK) {
            cells_free(&ct);
            return st;
        }
    }
    h5ctx c = { s->path, err, 0 };
    sigset_t old;
    block_signals(&old);
    hid_t f = open_file(s->path, H5F_ACC_RDWR);
    if (ok(&c, f, "open to append a snapshot")) {
        char name[64];
        snprintf(name, sizeof name, "snapshots/%06lld", s->n_snapshots);
        hid_t g = group_new(&c, f, name);
        if (g >= 0) {
            attr_f64(&c, g, "time_days", bs_model_time_days(m));
            attr_i64(&c, g, "step", (long long)m->step);
            attr_f64(&c, g, "next_due_d", s->next_d);
            attr_write(&c, g, "therapy_levels", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, BS_THERAPY_COUNT, m->therapy.level);
            write_snapshot(&c, g, m, &ct);
            /* Data first, then the marks that say it is there. */
            if (!c.failed) ok(&c, H5Fflush(f, H5F_SCOPE_GLOBAL), "flush the snapshot");
            attr_i64(&c, g, "complete", 1);
            H5Gclose(g);
        }
        attr_i64(&c, f, "snapshots_complete", s->n_snapshots + (c.failed ? 0 : 1));
        if (!c.failed) attr_f64(&c, f, "last_complete_day", bs_model_time_days(m));
        if (last && !c.failed) attr_i64(&c, f, "run_complete", 1);
        if (H5Fclose(f) < 0) ok(&c, -1, "close the file");
    }
    if (!c.failed && sync_path(s->path) != 0)
        bs_fail(err, BS_ERR_IO, "%s: cannot sync (%s)", s->path, strerror(errno)), c.failed = 1;
    H5Eclear2(H5E_DEFAULT);
    restore_mask(&old);
    cells_free(&ct);
    if (c.failed) return BS_ERR_IO;
    s->n_snapshots++;
    return BS_OK;
}

#endif /* BS_HAVE_HDF5 */
