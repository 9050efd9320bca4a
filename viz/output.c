#define _POSIX_C_SOURCE 200809L
#include "output.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "render.h"
#include "version.h"

const char *const bs_csv_columns[] = { "time_days", "bone_area_um2", "bv_tv", "endosteum_quiescent_frac",
    "n_osteoclasts", "n_osteoblasts", "resorbed_um2_per_day", "formed_um2_per_day", "o2_median_mmHg", "n_dtc",
    "n_dtc_dormant", "n_dtc_proliferating", "n_ctc_arrived", "n_extravasated", "tumour_area_um2", "n_tcells",
    "n_tcells_active", "n_nk", "n_mdsc", "kills_tcell_per_day", "kills_nk_per_day", NULL };

bs_status bs_output_mkdir(const char *dir, bs_error *err)
{
    char buf[4096];
    size_t n = strlen(dir);
    if (n == 0 || n >= sizeof buf)
        return bs_fail(err, BS_ERR_INVALID, "output folder name '%s' is empty or too long", dir);
    memcpy(buf, dir, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (buf[i] == '/' || buf[i] == '\0') {
            char c = buf[i];
            buf[i] = '\0';
            if (mkdir(buf, 0777) != 0 && errno != EEXIST)
                return bs_fail(err, BS_ERR_IO, "%s: cannot create folder (%s)", buf, strerror(errno));
            buf[i] = c;
        }
    }
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) return bs_fail(err, BS_ERR_IO, "%s: not a folder", dir);
    return BS_OK;
}

bs_status bs_output_open(bs_output *o, const char *dir, int force, bs_error *err)
{
    memset(o, 0, sizeof *o);
    bs_status st = bs_output_mkdir(dir, err);
    if (st != BS_OK) return st;
    snprintf(o->dir, sizeof o->dir, "%s", dir);
    char path[4200];
    snprintf(path, sizeof path, "%s/timeseries.csv", dir);
    if (!force && access(path, F_OK) == 0)
        return bs_fail(
                err, BS_ERR_IO, "%s already exists: choose another --out folder or add --force to overwrite", path);
    o->csv = fopen(path, "w");
    if (!o->csv) return bs_fail(err, BS_ERR_IO, "%s: cannot write (%s)", path, strerror(errno));
    for (int c = 0; bs_csv_columns[c]; c++) fprintf(o->csv, "%s%s", c ? "," : "", bs_csv_columns[c]);
    fputc('\n', o->csv);
    if (fflush(o->csv) != 0 || ferror(o->csv)) {
        /* Not even the header fits (a full disk): leave no empty file that
         * would make the next attempt need --force. */
        int e = errno;
        fclose(o->csv);
        o->csv = NULL;
        unlink(path);
        return bs_fail(err, BS_ERR_IO, "%s: write failed (%s)", path, strerror(e));
    }
    return BS_OK;
}

bs_status bs_output_row(bs_output *o, const bs_obs *b, bs_error *err)
{
    char row[512];
    int n = snprintf(row, sizeof row,
            "%.4f,%.1f,%.6f,%.6f,%ld,%ld,%.3f,%.3f,%.3f,%ld,%ld,%ld,%ld,%ld,%.1f,%ld,%ld,%ld,%ld,%.3f,%.3f\n",
            b->time_days, b->bone_area_um2, b->bv_tv, b->endosteum_quiescent_frac, b->n_osteoclasts, b->n_osteoblasts,
            b->resorbed_um2_per_day, b->formed_um2_per_day, b->o2_median_mmHg, b->n_dtc, b->n_dtc_dormant,
            b->n_dtc_proliferating, b->n_ctc_arrived, b->n_extravasated, b->tumour_area_um2, b->n_tcells,
            b->n_tcells_active, b->n_nk, b->n_mdsc, b->kills_tcell_per_day, b->kills_nk_per_day);
    if (fwrite(row, 1, (size_t)n, o->csv) != (size_t)n || fflush(o->csv) != 0)
        return bs_fail(err, BS_ERR_IO, "%s/timeseries.csv: write failed (%s)", o->dir, strerror(errno));
    return BS_OK;
}

bs_status bs_output_close(bs_output *o, bs_error *err)
{
    if (!o->csv) return BS_OK;
    int rc = fclose(o->csv);
    o->csv = NULL;
    if (rc != 0) return bs_fail(err, BS_ERR_IO, "%s/timeseries.csv: close failed (%s)", o->dir, strerror(errno));
    return BS_OK;
}

bs_status bs_write_file_atomic(const char *path, const char *text, size_t len, bs_error *err)
{
    char tmp[4300];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "wb");
    if (!f) return bs_fail(err, BS_ERR_IO, "%s: cannot write (%s)", tmp, strerror(errno));
    size_t w = fwrite(text, 1, len, f);
    int bad = w != len || fflush(f) != 0 || ferror(f);
    int e = errno;
    if (fclose(f) != 0) bad = 1;
    if (bad) {
        remove(tmp);
        return bs_fail(err, BS_ERR_IO, "%s: write failed (%s)", path, strerror(e));
    }
    if (rename(tmp, path) != 0) {
        e = errno;
        remove(tmp);
        return bs_fail(err, BS_ERR_IO, "%s: cannot rename into place (%s)", path, strerror(e));
    }
    return BS_OK;
}

/* Growable text buffer for the manifest. */
typedef struct {
    char *p;
    size_t n, cap;
    int oom;
} sbuf;

static void sb_put(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_put(sbuf *b, const char *fmt, ...)
{
    if (b->oom) return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int k = vsnprintf(b->p ? b->p + b->n : NULL, b->p ? b->cap - b->n : 0, fmt, ap);
        va_end(ap);
        if (k < 0) {
            b->oom = 1;
            return;
        }
        if (b->p && b->n + (size_t)k < b->cap) {
            b->n += (size_t)k;
            return;
        }
        size_t cap = b->cap ? b->cap * 2 : 4096;
        while (cap < b->n + (size_t)k + 1) cap *= 2;
        char *q = realloc(b->p, cap);
        if (!q) {
            b->oom = 1;
            return;
        }
        b->p = q;
        b->cap = cap;
    }
}

static void sb_json_str(sbuf *b, const char *s)
{
    sb_put(b, "\"");
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            sb_put(b, "\\%c", c);
        else if (c < 0x20)
            sb_put(b, "\\u%04x", c);
        else
            sb_put(b, "%c", c);
    }
    sb_put(b, "\"");
}

bs_status bs_output_manifest(const bs_output *o, const bs_paramset *ps, const bs_run_info *info, bs_error *err)
{
    sbuf b = { 0 };
    sb_put(&b, "{\n  \"program\": \"bonesim\",\n  \"version\": ");
    sb_json_str(&b, BS_VERSION);
    sb_put(&b, ",\n  \"git_commit\": ");
    sb_json_str(&b, BS_GIT_COMMIT);
    sb_put(&b, ",\n  \"scenario\": ");
    sb_json_str(&b, info->scenario);
    sb_put(&b, ",\n  \"scenario_path\": ");
    sb_json_str(&b, info->scenario_path);
    sb_put(&b, ",\n  \"seed\": %.0f,\n  \"threads\": %d,\n  \"days\": %.17g,\n", bs_param(ps, "run.seed"),
            info->threads, info->days);
    sb_put(&b, "  \"csv_columns\": [");
    for (int c = 0; bs_csv_columns[c]; c++) {
        sb_put(&b, c ? ", " : "");
        sb_json_str(&b, bs_csv_columns[c]);
    }
    sb_put(&b, "],\n");
    if (info->noutputs > 0) {
        sb_put(&b, "  \"outputs\": [");
        for (int k = 0; k < info->noutputs; k++) {
            sb_put(&b, k ? ", " : "");
            sb_json_str(&b, info->outputs[k]);
        }
        sb_put(&b, "],\n");
    }
    sb_put(&b, "  \"parameters\": {\n");
    const bs_registry *reg = bs_paramset_registry(ps);
    size_t n = bs_registry_count(reg);
    for (size_t i = 0; i < n; i++) {
        const bs_param_def *d = bs_registry_at(reg, i);
        char val[1100];
        bs_param_format(ps, i, val, sizeof val);
        sb_put(&b, "    ");
        sb_json_str(&b, d->name);
        sb_put(&b, ": {\"value\": ");
        if (d->type == BS_PT_STRING || d->type == BS_PT_CHOICE)
            sb_json_str(&b, val);
        else
            sb_put(&b, "%s", val);
        sb_put(&b, ", \"unit\": ");
        sb_json_str(&b, d->unit);
        sb_put(&b, ", \"set\": %s}%s\n", bs_param_is_set(ps, i) ? "true" : "false", i + 1 < n ? "," : "");
    }
    sb_put(&b, "  }\n}\n");
    if (b.oom) {
        free(b.p);
        return bs_fail(err, BS_ERR_NOMEM, "out of memory writing the manifest");
    }
    char path[4200];
    snprintf(path, sizeof path, "%s/manifest.json", o->dir);
    bs_status st = bs_write_file_atomic(path, b.p, b.n, err);
    free(b.p);
    return st;
}

bs_status bs_output_png(const bs_output *o, const bs_model *m, const char *title, bs_error *err)
{
    bs_render_input in = {
        .lat = &m->lat,
        .store = &m->store,
        .time_days = bs_model_time_days(m),
        .title = title,
        .px_per_site = (int)bs_param(m->ps, "run.png_px_per_site"),
        .overlay = NULL,
        .hide_agents = 0,
    };
    bs_image im = { 0 };
    bs_status st = bs_render(&in, &im, err);
    if (st != BS_OK) return st;
    char path[4200];
    snprintf(path, sizeof path, "%s/snapshot_day%06.1f.png", o->dir, bs_model_time_days(m));
    st = bs_png_write(path, &im, err);
    bs_image_free(&im);
    return st;
}
