#define _POSIX_C_SOURCE 200809L
#include "output.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "celltypes.h"
#include "fsutil.h"
#include "render.h"
#include "strbuf.h"
#include "version.h"

/* ---- the CSV columns: one table --------------------------------------------
 * Each column is a name (with its unit in the name where it has one), the
 * unit, the digits printed (-1: an integer) and its producer: a function of
 * the observation, or, for a NULL producer, the cell-type observable of
 * that name (celltypes.h: cells of a type in some states). The table fixes
 * the order of the shipped columns; an observable of a type that the table
 * does not name (a type added later) follows at the end, in registry
 * order. A new observable is one line: here, or in its type's
 * descriptor. */
typedef struct {
    const char *name, *unit;
    int digits;
    double (*get)(const bs_obs *o);
} csv_column;

static double col_time(const bs_obs *o)
{
    return o->time_days;
}
static double col_bone_area(const bs_obs *o)
{
    return o->bone_area_um2;
}
static double col_bv_tv(const bs_obs *o)
{
    return o->bv_tv;
}
static double col_quiescent(const bs_obs *o)
{
    return o->endosteum_quiescent_frac;
}
static double col_resorbed(const bs_obs *o)
{
    return o->resorbed_um2_per_day;
}
static double col_formed(const bs_obs *o)
{
    return o->formed_um2_per_day;
}
static double col_o2_median(const bs_obs *o)
{
    return o->o2_median_mmHg;
}
static double col_ctc(const bs_obs *o)
{
    return (double)o->n_ctc_arrived;
}
static double col_extravasated(const bs_obs *o)
{
    return (double)o->n_extravasated;
}
static double col_tumour_area(const bs_obs *o)
{
    return o->tumour_area_um2;
}
static double col_kills_t(const bs_obs *o)
{
    return o->kills_tcell_per_day;
}
static double col_kills_nk(const bs_obs *o)
{
    return o->kills_nk_per_day;
}
static double col_o2_tumour(const bs_obs *o)
{
    return o->o2_tumour_mmHg;
}

static double col_tgfb_tcell(const bs_obs *o)
{
    return o->tgfb_tcell_au;
}

static double col_suppr_tcell(const bs_obs *o)
{
    return o->suppr_tcell_au;
}

static double col_myeloid_oc_pool(const bs_obs *o)
{
    return o->myeloid_oc_pool;
}

static double col_refusals(const bs_obs *o)
{
    return (double)o->store_full_refusals;
}

static double col_dtc_endo(const bs_obs *o)
{
    return (double)o->n_dtc_endosteal;
}
static double col_dtc_peri(const bs_obs *o)
{
    return (double)o->n_dtc_perivascular;
}

/* spatial observables (agents/observe.c) */
static double col_o2_p5(const bs_obs *o)
{
    return o->sp.o2_p5_mmHg;
}
static double col_o2_p95(const bs_obs *o)
{
    return o->sp.o2_p95_mmHg;
}
static double col_o2_perisin(const bs_obs *o)
{
    return o->sp.o2_perisinusoidal_mmHg;
}
static double col_o2_endosteal(const bs_obs *o)
{
    return o->sp.o2_endosteal_mmHg;
}
static double col_tumour_hypoxic(const bs_obs *o)
{
    return o->sp.tumour_hypoxic_frac;
}
static double col_o2_tumour_min(const bs_obs *o)
{
    return o->sp.o2_tumour_min_mmHg;
}
static double col_oc_near_tumour(const bs_obs *o)
{
    return (double)o->sp.n_osteoclasts_near_tumour;
}
static double col_lineage_blood(const bs_obs *o)
{
    return (double)o->sp.n_dtc_lineage_blood;
}
static double col_lineage_quiescent(const bs_obs *o)
{
    return (double)o->sp.n_dtc_lineage_quiescent;
}
static double col_lineage_brc(const bs_obs *o)
{
    return (double)o->sp.n_dtc_lineage_brc;
}

/* validate's spatial quantities of issue 14 (agents/observe.c): dormant cells by landing site, bone lost
 * near the lesion, CXCL12 at settled cells, per-event remodeling phases, killer contacts */
static double col_dormant_lineage_blood(const bs_obs *o)
{
    return (double)o->sp.n_dtc_dormant_lineage_blood;
}
static double col_dormant_lineage_quiescent(const bs_obs *o)
{
    return (double)o->sp.n_dtc_dormant_lineage_quiescent;
}
static double col_dormant_lineage_brc(const bs_obs *o)
{
    return (double)o->sp.n_dtc_dormant_lineage_brc;
}
static double col_bone_lost_near(const bs_obs *o)
{
    return o->sp.bone_lost_near_lesion_um2;
}
static double col_dtc_settled(const bs_obs *o)
{
    return (double)o->sp.n_dtc_settled;
}
static double col_cxcl12_settled(const bs_obs *o)
{
    return o->sp.cxcl12_settled_dtc_au;
}
static double col_bmu_done(const bs_obs *o)
{
    return (double)o->sp.bmu_events_done;
}
static double col_bmu_res(const bs_obs *o)
{
    return o->sp.bmu_resorption_d;
}
static double col_bmu_rev(const bs_obs *o)
{
    return o->sp.bmu_reversal_d;
}
static double col_bmu_form(const bs_obs *o)
{
    return o->sp.bmu_formation_d;
}
static double col_bmu_event(const bs_obs *o)
{
    return o->sp.bmu_event_d;
}
static double col_bmu_depth(const bs_obs *o)
{
    return o->sp.bmu_depth_um;
}
static double col_bmu_refill(const bs_obs *o)
{
    return o->sp.bmu_refill;
}
static double col_t_contacts(const bs_obs *o)
{
    return o->sp.tcell_contacts_mean;
}
static double col_nk_contacts(const bs_obs *o)
{
    return o->sp.nk_contacts_mean;
}
static double col_nk_contacts_hyp(const bs_obs *o)
{
    return o->sp.nk_contacts_hypoxic_mean;
}
static double col_kills_nk_hyp(const bs_obs *o)
{
    return o->sp.kills_nk_hypoxic_per_day;
}

/* drug levels and therapy counters (agents/therapy.h, bs_therapy_obs): levels
 * in standard doses (1 = one standard dose's peak level), bound zoledronic
 * acid as the mean load of the exposed bone surface (1 = what one dose binds
 * there); dtc_egress_per_day: dormant DTCs a CXCR4 antagonist sent into the
 * blood, ctc_mobilised_circulating: those still in it, n_chemo_killed:
 * cumulative */
static double col_serum_za(const bs_obs *o)
{
    return o->drugs.serum_za_doses;
}
static double col_bone_za(const bs_obs *o)
{
    return o->drugs.bone_za_surface_load_doses;
}
static double col_serum_dmab(const bs_obs *o)
{
    return o->drugs.serum_denosumab_doses;
}
static double col_dmab_pool(const bs_obs *o)
{
    return o->drugs.dmab_precursor_pool_frac;
}
static double col_serum_pd1(const bs_obs *o)
{
    return o->drugs.serum_anti_pd1_doses;
}
static double col_serum_chemo(const bs_obs *o)
{
    return o->drugs.serum_chemo_doses;
}
static double col_egress(const bs_obs *o)
{
    return o->drugs.dtc_egress_per_day;
}
static double col_ctc_mobilised(const bs_obs *o)
{
    return (double)o->drugs.ctc_mobilised_circulating;
}
static double col_chemo_killed(const bs_obs *o)
{
    return (double)o->drugs.n_chemo_killed;
}

static const csv_column csv_table[] = {
    { "time_days", "d", 4, col_time },
    { "bone_area_um2", "um^2", 1, col_bone_area },
    { "bv_tv", "1", 6, col_bv_tv },
    { "endosteum_quiescent_frac", "1", 6, col_quiescent },
    { "n_osteoclasts", "cells", -1, NULL },
    { "n_osteoblasts", "cells", -1, NULL },
    { "resorbed_um2_per_day", "um^2/d", 3, col_resorbed },
    { "formed_um2_per_day", "um^2/d", 3, col_formed },
    { "o2_median_mmHg", "mmHg", 3, col_o2_median },
    { "n_dtc", "cells", -1, NULL },
    { "n_dtc_dormant", "cells", -1, NULL },
    { "n_dtc_proliferating", "cells", -1, NULL },
    { "n_ctc_arrived", "cells", -1, col_ctc },
    { "n_extravasated", "cells", -1, col_extravasated },
    { "tumour_area_um2", "um^2", 1, col_tumour_area },
    { "n_tcells", "cells", -1, NULL },
    { "n_tcells_active", "cells", -1, NULL },
    { "n_nk", "cells", -1, NULL },
    { "n_mdsc", "cells", -1, NULL },
    { "kills_tcell_per_day", "1/d", 3, col_kills_t },
    { "kills_nk_per_day", "1/d", 3, col_kills_nk },
    { "store_full_refusals", "cells", -1, col_refusals }, /* cumulative: placements refused for want of room */
    { "o2_p5_mmHg", "mmHg", 3, col_o2_p5 },
    { "o2_p95_mmHg", "mmHg", 3, col_o2_p95 },
    { "o2_perisinusoidal_mmHg", "mmHg", 3, col_o2_perisin },
    { "o2_endosteal_mmHg", "mmHg", 3, col_o2_endosteal },
    { "tumour_hypoxic_frac", "1", 6, col_tumour_hypoxic },
    { "o2_tumour_min_mmHg", "mmHg", 3, col_o2_tumour_min },
    { "n_osteoclasts_near_tumour", "cells", -1, col_oc_near_tumour },
    { "n_dtc_lineage_blood", "cells", -1, col_lineage_blood },
    { "n_dtc_lineage_quiescent", "cells", -1, col_lineage_quiescent },
    { "n_dtc_lineage_brc", "cells", -1, col_lineage_brc },
    { "n_dtc_endosteal", "cells", -1, col_dtc_endo }, /* settled tumour cells on the endosteum (B7) */
    { "n_dtc_perivascular", "cells", -1, col_dtc_peri }, /* settled next to a vessel, off the endosteum */
    { "serum_za_doses", "dose", 6, col_serum_za },
    { "bone_za_surface_load_doses", "dose", 6, col_bone_za },
    { "serum_denosumab_doses", "dose", 6, col_serum_dmab },
    { "dmab_precursor_pool_frac", "1", 6, col_dmab_pool },
    { "serum_anti_pd1_doses", "dose", 6, col_serum_pd1 },
    { "serum_chemo_doses", "dose", 6, col_serum_chemo },
    { "dtc_egress_per_day", "1/d", 3, col_egress },
    { "ctc_mobilised_circulating", "cells", -1, col_ctc_mobilised },
    { "n_chemo_killed", "cells", -1, col_chemo_killed },
    /* immunity (#17): pO2 at tumour cells, fields at CD8 T cells, anti-Gr1's osteoclast-competent pool */
    { "o2_tumour_mmHg", "mmHg", 3, col_o2_tumour },
    { "tgfb_tcell_au", "au", 5, col_tgfb_tcell },
    { "suppr_tcell_au", "au", 5, col_suppr_tcell },
    { "n_myeloid_oc_pool", "cells", 2, col_myeloid_oc_pool },
    /* validate's spatial quantities (issue 14, agents/observe.c) */
    { "n_dtc_dormant_lineage_blood", "cells", -1, col_dormant_lineage_blood },
    { "n_dtc_dormant_lineage_quiescent", "cells", -1, col_dormant_lineage_quiescent },
    { "n_dtc_dormant_lineage_brc", "cells", -1, col_dormant_lineage_brc },
    { "bone_lost_near_lesion_um2", "um^2", 1, col_bone_lost_near },
    { "n_dtc_settled", "cells", -1, col_dtc_settled },
    { "cxcl12_settled_dtc_au", "au", 5, col_cxcl12_settled },
    { "bmu_events_done", "events", -1, col_bmu_done },
    { "bmu_resorption_d", "d", 3, col_bmu_res },
    { "bmu_reversal_d", "d", 3, col_bmu_rev },
    { "bmu_formation_d", "d", 3, col_bmu_form },
    { "bmu_event_d", "d", 3, col_bmu_event },
    { "bmu_depth_um", "um", 2, col_bmu_depth },
    { "bmu_refill", "fraction", 5, col_bmu_refill },
    { "tcell_contacts_mean", "cells", 6, col_t_contacts },
    { "nk_contacts_mean", "cells", 6, col_nk_contacts },
    { "nk_contacts_hypoxic_mean", "cells", 6, col_nk_contacts_hyp },
    { "kills_nk_hypoxic_per_day", "1/d", 3, col_kills_nk_hyp },
};
#define N_TABLE ((int)(sizeof csv_table / sizeof csv_table[0]))
#define MAX_COLUMNS (N_TABLE + BS_MAX_CELL_TYPES * BS_MAX_TYPE_OBSERVABLES)

/* the table resolved against the registry: for a type column, the type
 * and its states */
typedef struct {
    const char *name, *unit;
    int digits;
    double (*get)(const bs_obs *o);
    int type;
    uint8_t states;
} resolved_column;

static resolved_column columns[MAX_COLUMNS];
static const char *column_names[MAX_COLUMNS + 1];
static int n_columns = -1, n_types_seen = -1;

static int find_observable(const char *name, int *type, uint8_t *states)
{
    for (int t = 0; t < bs_celltype_count(); t++) {
        const bs_celltype *ct = bs_celltype_of(t);
        for (int k = 0; k < ct->n_observables; k++)
            if (strcmp(ct->observables[k].column, name) == 0) {
                *type = t;
                *states = ct->observables[k].states;
                return 1;
            }
    }
    return 0;
}

static void resolve_columns(void)
{
    if (n_columns >= 0 && n_types_seen == bs_celltype_count()) return;
    int n = 0;
    for (int c = 0; c < N_TABLE; c++) {
        resolved_column *r = &columns[n];
        *r = (resolved_column){ csv_table[c].name, csv_table[c].unit, csv_table[c].digits, csv_table[c].get, -1, 0 };
        /* a type column whose type is not registered is left out */
        if (!r->get && !find_observable(r->name, &r->type, &r->states)) continue;
        n++;
    }
    for (int t = 0; t < bs_celltype_count(); t++) {
        const bs_celltype *ct = bs_celltype_of(t);
        for (int k = 0; k < ct->n_observables; k++) {
            int named = 0;
            for (int c = 0; c < N_TABLE && !named; c++)
                named = strcmp(csv_table[c].name, ct->observables[k].column) == 0;
            if (named) continue;
            columns[n++] = (resolved_column){ ct->observables[k].column, ct->observables[k].unit, -1, NULL, t,
                ct->observables[k].states };
        }
    }
    for (int c = 0; c < n; c++) column_names[c] = columns[c].name;
    column_names[n] = NULL;
    n_columns = n;
    n_types_seen = bs_celltype_count();
}

const char *const *bs_csv_column_names(void)
{
    resolve_columns();
    return column_names;
}

const char *bs_csv_column_unit(int c)
{
    resolve_columns();
    return c >= 0 && c < n_columns ? columns[c].unit : NULL;
}

static double column_value(const resolved_column *c, const bs_obs *o)
{
    if (c->get) return c->get(o);
    long n = 0;
    for (int s = 0; s < BS_MAX_STATES; s++)
        if ((c->states >> s) & 1u) n += o->by_state[c->type][s];
    return (double)n;
}

bs_status bs_output_mkdir(const char *dir, bs_error *err)
{
    char where[4096];
    switch (bs_mkdir_parents(dir, where, sizeof where)) {
    case 0: return BS_OK;
    case 1: return bs_fail(err, BS_ERR_INVALID, "output folder name '%s' is empty or too long", dir);
    case 2: return bs_fail(err, BS_ERR_IO, "%s: cannot create folder (%s)", where, strerror(errno));
    default: return bs_fail(err, BS_ERR_IO, "%s: not a folder", dir);
    }
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
    resolve_columns();
    char row[MAX_COLUMNS * 32];
    size_t n = 0;
    for (int c = 0; c < n_columns && n < sizeof row; c++) {
        double v = column_value(&columns[c], b);
        const char *sep = c ? "," : "";
        if (columns[c].digits < 0)
            n += (size_t)snprintf(row + n, sizeof row - n, "%s%ld", sep, (long)v);
        else
            n += (size_t)snprintf(row + n, sizeof row - n, "%s%.*f", sep, columns[c].digits, v);
    }
    if (n + 2 > sizeof row) return bs_fail(err, BS_ERR_INTERNAL, "%s/timeseries.csv: row too long", o->dir);
    row[n++] = '\n';
    if (fwrite(row, 1, n, o->csv) != n || fflush(o->csv) != 0)
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

bs_status bs_output_manifest(const bs_output *o, const bs_paramset *ps, const bs_run_info *info, bs_error *err)
{
    bs_strbuf b = { 0 };
    bs_sb_put(&b, "{\n  \"program\": \"bonesim\",\n  \"version\": ");
    bs_sb_json_str(&b, BS_VERSION);
    bs_sb_put(&b, ",\n  \"git_commit\": ");
    bs_sb_json_str(&b, BS_GIT_COMMIT);
    bs_sb_put(&b, ",\n  \"scenario\": ");
    bs_sb_json_str(&b, info->scenario);
    bs_sb_put(&b, ",\n  \"scenario_path\": ");
    bs_sb_json_str(&b, info->scenario_path);
    bs_sb_put(&b, ",\n  \"seed\": %.0f,\n  \"threads\": %d,\n  \"days\": %.17g,\n", bs_param(ps, "run.seed"),
            info->threads, info->days);
    bs_sb_put(&b, "  \"species_timescale\": ");
    bs_sb_json_str(&b, bs_param_str(ps, "run.species_timescale"));
    bs_sb_put(&b, ",\n");
    bs_sb_put(&b, "  \"store_full_refusals\": %ld,\n", info->store_full_refusals);
    bs_sb_put(&b, "  \"csv_columns\": [");
    for (int c = 0; bs_csv_columns[c]; c++) {
        bs_sb_put(&b, c ? ", " : "");
        bs_sb_json_str(&b, bs_csv_columns[c]);
    }
    bs_sb_put(&b, "],\n  \"csv_units\": [");
    for (int c = 0; bs_csv_columns[c]; c++) {
        bs_sb_put(&b, c ? ", " : "");
        bs_sb_json_str(&b, bs_csv_column_unit(c));
    }
    bs_sb_put(&b, "],\n");
    if (info->noutputs > 0) {
        bs_sb_put(&b, "  \"outputs\": [");
        for (int k = 0; k < info->noutputs; k++) {
            bs_sb_put(&b, k ? ", " : "");
            bs_sb_json_str(&b, info->outputs[k]);
        }
        bs_sb_put(&b, "],\n");
    }
    bs_sb_put(&b, "  \"parameters\": {\n");
    const bs_registry *reg = bs_paramset_registry(ps);
    size_t n = bs_registry_count(reg);
    for (size_t i = 0; i < n; i++) {
        const bs_param_def *d = bs_registry_at(reg, i);
        char val[1100];
        bs_param_format(ps, i, val, sizeof val);
        bs_sb_put(&b, "    ");
        bs_sb_json_str(&b, d->name);
        bs_sb_put(&b, ": {\"value\": ");
        if (d->type == BS_PT_STRING || d->type == BS_PT_CHOICE)
            bs_sb_json_str(&b, val);
        else
            bs_sb_put(&b, "%s", val);
        bs_sb_put(&b, ", \"unit\": ");
        bs_sb_json_str(&b, d->unit);
        bs_sb_put(&b, ", \"set\": %s}%s\n", bs_param_is_set(ps, i) ? "true" : "false", i + 1 < n ? "," : "");
    }
    bs_sb_put(&b, "  }\n}\n");
    if (b.oom) {
        free(b.s);
        return bs_fail(err, BS_ERR_NOMEM, "out of memory writing the manifest");
    }
    char path[4200];
    snprintf(path, sizeof path, "%s/manifest.json", o->dir);
    bs_status st = bs_write_file_atomic(path, b.s, b.n, err);
    free(b.s);
    return st;
}

bs_status bs_output_render(const bs_model *m, const char *title, const int *region, bs_image *im, bs_error *err)
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
    if (region) memcpy(in.region, region, sizeof in.region);
    return bs_render(&in, im, err);
}

bs_status bs_output_png(const bs_output *o, const bs_model *m, const char *title, const int *region, bs_error *err)
{
    bs_image im = { 0 };
    bs_status st = bs_output_render(m, title, region, &im, err);
    if (st != BS_OK) return st;
    char path[4200];
    snprintf(path, sizeof path, "%s/snapshot_day%06.1f.png", o->dir, bs_model_time_days(m));
    st = bs_png_write(path, &im, err);
    bs_image_free(&im);
    return st;
}
