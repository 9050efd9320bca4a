/* model_io.c — checkpoint/restart of a bs_model, and its memory estimate.
 *
 * Everything a step reads from the step before is listed once, in
 * state_table below; saving, loading and the memory estimate all walk that
 * table, so adding state is adding one line. Rules of thumb for what
 * belongs there:
 *   - state: anything a step reads that an earlier step wrote (tissue,
 *     mineral, surface phases and their start steps, the agent store with
 *     its free list, field concentrations — the solver warm-starts from
 *     them, so they change the next solution's last bits — matrix release
 *     carried to the next step, the step counter);
 *   - not state: what bs_model_create derives from the parameters and the
 *     tissue map (rules, solver options, field specs, the list of vessel
 *     sites), per-step scratch (medians, per-tile totals) and diagnostics
 *     (timers). Derived values are never read from the file: the
 *     parameters are validated, a byte copy of bs_rules would not be (a
 *     crafted file could set a reach beyond the tile colouring). So a
 *     value a rule changes mid-run (a therapy switching on
 *     bs_rules.cxcr4_block, say) must either be recomputed every step from
 *     the parameters and the step, or live in a bs_model member listed
 *     here.
 * Field source/uptake/Dirichlet arrays are rebuilt every step today; they
 * are saved anyway (17 bytes per site per field), so a rule that one day
 * keeps something in them across steps restarts exactly too.
 *
 * Slots are restored exactly, although results never depend on them, so a
 * restored store is the same store, free-list order included. */
#include <omp.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "celltypes.h"
#include "model.h"

#define BS_MODEL_LAYOUT 8u

typedef enum { BASE_PARAMS, BASE_EXTRA, BASE_MODEL, BASE_FIELD } base_kind;
/* N_SLOTS: the store's slots handed out so far (store.capacity), N_FREE:
 * its free list (store.n_free), N_BMU: the BMU records (model.bmu_n); each
 * is read before the arrays it sizes */
typedef enum { N_ONE, N_SITES, N_SLOTS, N_FREE, N_BMU } count_kind;

typedef struct {
    const char *name; /* section name; BASE_FIELD: "field.<field name>." + name */
    base_kind base; /* what offset is relative to */
    size_t offset;
    uint32_t elem; /* bytes per element */
    count_kind n;
    int indirect; /* 1: offset locates a pointer to the array */
} state_entry;

#define VAL(name, member)                                                                                              \
    {                                                                                                                  \
        name, BASE_MODEL, offsetof(bs_model, member), sizeof(((bs_model *)0)->member), N_ONE, 0                        \
    }
#define ARR(name, member, n)                                                                                           \
    {                                                                                                                  \
        name, BASE_MODEL, offsetof(bs_model, member), sizeof(*((bs_model *)0)->member), n, 1                           \
    }
#define FLD(name, member)                                                                                              \
    {                                                                                                                  \
        name, BASE_FIELD, offsetof(bs_field, member), sizeof(*((bs_field *)0)->member), N_SITES, 1                     \
    }

/* THE table. Order is file order; names are the file's section names. */
static const state_entry state_table[] = {
    { "params", BASE_PARAMS, 0, 1, N_ONE, 0 }, /* the resolved parameter set, as text */
    /* the caller's sections (the session's run state, viz/cli/session.c) go here */
    { "", BASE_EXTRA, 0, 1, N_ONE, 0 },
    /* model */
    VAL("model.seed", seed),
    VAL("model.step", step),
    VAL("model.last", last), /* totals of the last step: plain numbers */
    VAL("model.n_ctc_arrived", n_ctc_arrived),
    VAL("model.n_extravasated", n_extravasated),
    VAL("model.n_kills_tcell", n_kills_tcell),
    VAL("model.n_kills_nk", n_kills_nk),
    VAL("model.row_kills_tcell", row_kills_tcell), /* kill rates in the next CSV row start here */
    VAL("model.row_kills_nk", row_kills_nk),
    VAL("model.row_sum", row_sum), /* step totals since the last CSV row: contact rates (observe.c), layout 5 */
    VAL("model.therapy", therapy), /* drug levels, pools, switches (plain numbers) */
    VAL("model.step0", step0), /* day 0 after the burn-in */
    VAL("model.bmu_n", bmu_n), /* open BMUs (agents/bmu.c) */
    ARR("model.bmu", bmu_pool, N_BMU), /* their records, in origin order */
    ARR("model.bmu_origin", bmu_origin, N_BMU), /* and their origins, increasing */
    VAL("model.bmu_log", bmu_log), /* finished remodeling events */
    ARR("model.release", release, N_SITES),
    /* lattice */
    ARR("lattice.tissue", lat.tissue, N_SITES),
    ARR("lattice.surface", lat.surface, N_SITES),
    ARR("lattice.flags", lat.flags, N_SITES),
    ARR("lattice.mineral", lat.mineral, N_SITES),
    ARR("lattice.za_load", lat.za_load, N_SITES),
    ARR("lattice.since", lat.since, N_SITES),
    ARR("lattice.bmu", lat.bmu, N_SITES),
    ARR("lattice.depth", lat.depth, N_SITES),
    /* agent store */
    VAL("store.capacity", store.capacity), /* slots handed out so far: the slot arrays' length */
    VAL("store.count", store.count),
    VAL("store.n_free", store.n_free),
    VAL("store.hard_cap_hit", store.hard_cap_hit),
    VAL("store.full_refusals", store.full_refusals),
    ARR("store.type", store.type, N_SLOTS),
    ARR("store.state", store.state, N_SLOTS),
    ARR("store.site", store.site, N_SLOTS),
    ARR("store.id", store.id, N_SLOTS),
    ARR("store.age_h", store.age_h, N_SLOTS),
    ARR("store.aux", store.aux, N_SLOTS),
    ARR("store.stamp", store.stamp, N_SLOTS),
    ARR("store.free_slots", store.free_slots, N_FREE),
    ARR("store.occ", store.occ, N_SITES),
    /* every field (iterated over BS_FIELD_COUNT) */
    FLD("c", c),
    FLD("src", src),
    FLD("uptake", uptake),
    FLD("fixed", fixed),
    FLD("fixed_val", fixed_val),
    /* whether the next solve may be skipped (engine/field.c), layout 8 */
    { "skip", BASE_FIELD, offsetof(bs_field, skip), sizeof(((bs_field *)0)->skip), N_ONE, 0 },
};
#define NSTATE (sizeof state_table / sizeof state_table[0])

/* Memory that is not state but is allocated per site: the median scratch
 * (model.c, 4 bytes) and the field solver's scratch, which lives behind
 * fixed_val (field.c: "about 9 floats and 2 bytes per site"). Rounded up:
 * the estimate guards against absurd lattices, a few percent do not matter. */
#define WORK_BYTES_PER_SITE                                                                                            \
    28.0 /* + the BMU survey's eroded array (its work list shares the median
                                    scratch), the displacement pass's request lists (agents/shove.c, 16 bytes),
                                    the BMU index (bmu_idx, 4) */

/* ---- table access -------------------------------------------------------- */

/* The field arrays that may be one shared, read-only zero block
 * (bs_field_share_zero_inputs: uptake, fixed, fixed_val). */
static int is_zero_input(const state_entry *e)
{
    return e->base == BASE_FIELD &&
            (e->offset == offsetof(bs_field, uptake) || e->offset == offsetof(bs_field, fixed) ||
                    e->offset == offsetof(bs_field, fixed_val));
}


static void *entry_ptr(const state_entry *e, void *base)
{
    char *p = (char *)base + e->offset;
    return e->indirect ? *(void **)p : (void *)p;
}

static uint64_t entry_count(const state_entry *e, uint64_t sites, const bs_model *m)
{
    switch (e->n) {
    case N_SITES: return sites;
    case N_SLOTS: return (uint64_t)m->store.capacity;
    case N_FREE: return (uint64_t)m->store.n_free;
    case N_BMU: return (uint64_t)m->bmu_n;
    default: return 1;
    }
}

static void field_section(char *buf, size_t n, const bs_field *f, const state_entry *e)
{
    snprintf(buf, n, "field.%s.%s", f->spec.name ? f->spec.name : "?", e->name);
}

double bs_model_estimate_bytes(const bs_paramset *ps)
{
    double sites = bs_param(ps, "lattice.width_sites") * bs_param(ps, "lattice.height_sites");
    /* The store's slot arrays and the BMU records are not counted: they
     * take memory as agents appear and BMUs open (engine/store.h,
     * bs_store_bytes_per_slot: 30 bytes per agent, at most 30 per site with
     * every site occupied; agents/bmu.c: 80 bytes per open BMU), none at
     * creation. The BMU records' index by site (4 bytes) is in
     * WORK_BYTES_PER_SITE. */
    double bytes = 0.0;
    for (size_t k = 0; k < NSTATE; k++) {
        const state_entry *e = &state_table[k];
        if (e->base != BASE_MODEL && e->base != BASE_FIELD) continue;
        double n = e->n == N_SITES ? sites : e->n == N_ONE ? 1.0 : 0.0;
        /* every field but O2 shares one zero block for its uptake, fixed
         * and fixed_val (model.c init_fields), counted once below */
        int copies = e->base != BASE_FIELD ? 1 : is_zero_input(e) ? 1 : BS_FIELD_COUNT;
        bytes += copies * n * e->elem;
    }
    bytes += sites * sizeof(float); /* that zero block (address space, no memory: engine/field.h) */
    bytes += sites * WORK_BYTES_PER_SITE;
    /* the fields' solver scratch, per-solve arrays shared by thread (model.c) */
    const int w = (int)bs_param(ps, "lattice.width_sites"), h = (int)bs_param(ps, "lattice.height_sites");
    bytes += (double)bs_field_work_bytes_shared(
            w, h, BS_FIELD_COUNT, bs_field_scratch_slots(w, h, BS_FIELD_COUNT, omp_get_max_threads()));
    /* less what the fields with shared zero inputs do without */
    bytes -= (double)(BS_FIELD_COUNT - 1) * (double)bs_field_work_bytes_zero_saved(w, h);
    /* and what one tissue copy for all and one conductance set per
     * diffusivity save (model.c init_fields) */
    bytes -= (double)(BS_FIELD_COUNT - 1) * (double)bs_field_tissue_copy_bytes(w, h);
    bytes -= (double)(BS_FIELD_COUNT - bs_model_field_sets(ps)) * (double)bs_field_conductance_bytes(w, h);
    return bytes + sizeof(bs_model);
}

/* ---- parameters as text ---------------------------------------------------
 * Triplets "name\0flag\0value\0": flag '1' for values set by a file or an
 * option, '0' for defaults. NUL separators, because a string value given
 * with --set may hold any other byte. */

typedef struct {
    char *p;
    size_t n, cap;
} text_buf;

static int tb_put(text_buf *b, const char *s)
{
    size_t len = strlen(s) + 1;
    if (b->n + len > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->n + len) cap *= 2;
        char *q = realloc(b->p, cap);
        if (!q) return 0;
        b->p = q;
        b->cap = cap;
    }
    memcpy(b->p + b->n, s, len);
    b->n += len;
    return 1;
}

static int params_text(const bs_paramset *ps, text_buf *b)
{
    const bs_registry *reg = bs_paramset_registry(ps);
    size_t n = bs_registry_count(reg);
    char val[1100];
    for (size_t i = 0; i < n; i++) {
        bs_param_format(ps, i, val, sizeof val);
        if (!tb_put(b, bs_registry_at(reg, i)->name) || !tb_put(b, bs_param_is_set(ps, i) ? "1" : "0") ||
                !tb_put(b, val))
            return 0;
    }
    return 1;
}

static bs_status params_from_text(bs_paramset *ps, const char *text, size_t len, const char *path, bs_error *err)
{
    const bs_registry *reg = bs_paramset_registry(ps);
    size_t n = bs_registry_count(reg);
    unsigned char *seen = calloc(n + 1, 1);
    if (!seen) return bs_fail(err, BS_ERR_NOMEM, "%s: out of memory", path);
    bs_status st = BS_OK;
    const char *p = text, *end = text + len;
    char where[4200], def[1100];
    snprintf(where, sizeof where, "%s: parameter", path);
    while (p < end && st == BS_OK) {
        const char *name = p, *flag, *value;
        flag = memchr(name, '\0', (size_t)(end - name));
        value = flag ? memchr(flag + 1, '\0', (size_t)(end - flag - 1)) : NULL;
        const char *next = value ? memchr(value + 1, '\0', (size_t)(end - value - 1)) : NULL;
        if (!next) {
            st = bs_fail(err, BS_ERR_INVALID, "%s: corrupted parameter list", path);
            break;
        }
        flag++;
        value++;
        long idx = bs_registry_find(reg, name);
        if (idx < 0) {
            st = bs_fail(err, BS_ERR_INVALID,
                    "%s: checkpoint parameter '%s' is unknown to this bonesim (written by another version?)", path,
                    name);
        } else if (seen[idx]) {
            st = bs_fail(err, BS_ERR_INVALID, "%s: parameter '%s' appears twice", path, name);
        } else if (strcmp(flag, "1") == 0) {
            st = bs_paramset_set_text(ps, name, value, where, err);
        } else {
            /* A default is not stored as "set" (the manifest tells the
             * two apart), so it must still be the default of this build. */
            bs_param_format(ps, (size_t)idx, def, sizeof def);
            if (strcmp(def, value) != 0)
                st = bs_fail(err, BS_ERR_INVALID,
                        "%s: the default of '%s' was %s when the checkpoint was written and is %s now (another "
                        "bonesim version?)",
                        path, name, value, def);
        }
        if (idx >= 0) seen[idx] = 1;
        p = next + 1;
    }
    for (size_t i = 0; i < n && st == BS_OK; i++)
        if (!seen[i])
            st = bs_fail(err, BS_ERR_INVALID,
                    "%s: checkpoint has no value for parameter '%s' (written by another bonesim version?)", path,
                    bs_registry_at(reg, i)->name);
    free(seen);
    return st;
}

/* ---- save ------------------------------------------------------------------ */

bs_status bs_model_save(const bs_model *m, const bs_ckpt_extra *extra, size_t nextra, const char *path, bs_error *err)
{
    bs_ckpt_writer *w = NULL;
    bs_status st = bs_ckpt_create(&w, path, err);
    if (st != BS_OK) return st;
    uint64_t sites = (uint64_t)m->lat.w * (uint64_t)m->lat.h;
    char name[BS_CKPT_NAME_MAX + 1];
    const uint32_t layout = BS_MODEL_LAYOUT;
    bs_ckpt_put(w, "model.layout", sizeof layout, 1, &layout);
    for (size_t k = 0; k < NSTATE; k++) {
        const state_entry *e = &state_table[k];
        uint64_t n = entry_count(e, sites, m);
        switch (e->base) {
        case BASE_PARAMS: {
            text_buf b = { 0 };
            if (!params_text(m->ps, &b)) {
                free(b.p);
                bs_ckpt_abort(w);
                return bs_fail(err, BS_ERR_NOMEM, "%s: out of memory", path);
            }
            bs_ckpt_put(w, e->name, 1, b.n, b.p);
            free(b.p);
            break;
        }
        case BASE_EXTRA:
            for (size_t x = 0; x < nextra; x++) bs_ckpt_put(w, extra[x].name, extra[x].size, 1, extra[x].data);
            break;
        case BASE_MODEL: bs_ckpt_put(w, e->name, e->elem, n, entry_ptr(e, (void *)m)); break;
        case BASE_FIELD:
            for (int f = 0; f < BS_FIELD_COUNT; f++) {
                field_section(name, sizeof name, &m->fields[f], e);
                bs_ckpt_put(w, name, e->elem, n, entry_ptr(e, (void *)&m->fields[f]));
            }
            break;
        }
    }
    return bs_ckpt_commit(w, err);
}

/* ---- load ------------------------------------------------------------------ */

/* The layout of the state table: what the sections mean and how big the
 * model structs in them are. Raised when a section comes, goes or changes
 * its meaning (2: store.timer_h, never set by any rule, removed, and the
 * therapy state counts radiotherapy kills for BS_MAX_CELL_TYPES types;
 * 3: the session's sections, run.no_png and the caller's extras, and
 * store.full_refusals; 5: model.row_sum; 6: the agent store sized by agents, store.capacity
 * the slots handed out so far, the slot arrays that long and the free list
 * store.n_free long; the BMU records in a pool, model.bmu_n of them with
 * their origins, instead of one per site; 7: lattice.flags also carries
 * BS_FLAG_PERISINUSOIDAL, the perisinusoidal O2 consumption zone, and
 * BS_FLAG_BONE0, the day-0 bone the images draw erosion against; 8: and
 * BS_FLAG_ENDOSTEAL_VESSEL, the endosteal sinusoids' richer blood). */
static bs_status check_layout(bs_ckpt_reader *r, bs_error *err)
{
    const char *path = bs_ckpt_path(r);
    uint32_t elem = 0, layout = 0;
    uint64_t n = 0;
    if (!bs_ckpt_find(r, "model.layout", &elem, &n))
        return bs_fail(err, BS_ERR_INVALID,
                "%s: checkpoint of state layout 1 (before store.timer_h was removed); this bonesim reads layout %u "
                "only: resume it with the bonesim that wrote it",
                path, BS_MODEL_LAYOUT);
    bs_status st = bs_ckpt_get(r, "model.layout", sizeof layout, 1, &layout, err);
    if (st != BS_OK) return st;
    if (layout != BS_MODEL_LAYOUT)
        return bs_fail(err, BS_ERR_INVALID,
                "%s: checkpoint of state layout %u; this bonesim reads layout %u only: resume it with the bonesim "
                "that wrote it",
                path, layout, BS_MODEL_LAYOUT);
    return BS_OK;
}

bs_status bs_model_load_params(bs_ckpt_reader *r, const bs_registry *reg, bs_paramset **out, const bs_ckpt_extra *extra,
        size_t nextra, bs_error *err)
{
    *out = NULL;
    const char *path = bs_ckpt_path(r);
    bs_status st = check_layout(r, err);
    if (st != BS_OK) return st;
    bs_paramset *ps = bs_paramset_create(reg);
    if (!ps) return bs_fail(err, BS_ERR_NOMEM, "%s: out of memory", path);
    for (size_t k = 0; k < NSTATE && st == BS_OK; k++) {
        const state_entry *e = &state_table[k];
        if (e->base == BASE_PARAMS) {
            char *text = NULL;
            size_t len = 0;
            st = bs_ckpt_get_blob(r, e->name, &text, &len, err);
            if (st == BS_OK) st = params_from_text(ps, text, len, path, err);
            free(text);
        } else if (e->base == BASE_EXTRA) {
            for (size_t x = 0; x < nextra && st == BS_OK; x++)
                st = bs_ckpt_get(r, extra[x].name, extra[x].size, 1, extra[x].data, err);
        }
    }
    if (st != BS_OK) {
        bs_paramset_destroy(ps);
        return st;
    }
    *out = ps;
    return BS_OK;
}

/* Indices in a restored store must be usable without bounds checks by the
 * rules: a checkpoint that passes its checksum but was made by hand (or by
 * a bug) must not become an out-of-bounds write. */
static bs_status check_store(const bs_model *m, const char *path, bs_error *err)
{
    const bs_store *s = &m->store;
    const bs_lattice *lat = &m->lat;
    long sites = (long)lat->w * lat->h;
    int cap = s->capacity;
    if (s->n_free < 0 || s->n_free > cap || s->count < 0 || s->count + s->n_free != cap)
        return bs_fail(err, BS_ERR_INVALID, "%s: agent store counts are inconsistent (%d live + %d free != %d)", path,
                s->count, s->n_free, cap);
    unsigned char *mark = calloc((size_t)(cap > 0 ? cap : 1), 1);
    if (!mark) return bs_fail(err, BS_ERR_NOMEM, "%s: out of memory", path);
    bs_status st = BS_OK;
    for (int k = 0; k < s->n_free && st == BS_OK; k++) {
        int slot = s->free_slots[k];
        if (slot < 0 || slot >= cap || mark[slot] || s->type[slot] != 0xff)
            st = bs_fail(err, BS_ERR_INVALID, "%s: agent store free list entry %d (slot %d) is invalid", path, k, slot);
        else
            mark[slot] = 1;
    }
    int live = 0;
    for (int slot = 0; slot < cap && st == BS_OK; slot++) {
        if (s->type[slot] == 0xff) {
            if (!mark[slot])
                st = bs_fail(err, BS_ERR_INVALID, "%s: free agent slot %d is not on the free list", path, slot);
            continue;
        }
        live++;
        if (s->type[slot] >= bs_celltype_count() || s->state[slot] >= bs_celltype_of(s->type[slot])->n_states ||
                s->site[slot] < 0 || s->site[slot] >= sites || s->occ[s->site[slot]] != slot)
            st = bs_fail(err, BS_ERR_INVALID, "%s: agent in slot %d (type %d, state %d, site %d) is invalid", path,
                    slot, s->type[slot], s->state[slot], (int)s->site[slot]);
    }
    for (long i = 0; i < sites && st == BS_OK; i++) {
        int32_t slot = s->occ[i];
        if (slot < -1 || slot >= cap || (slot >= 0 && (s->type[slot] == 0xff || s->site[slot] != i)))
            st = bs_fail(err, BS_ERR_INVALID, "%s: occupancy of site %ld (slot %d) is invalid", path, i, (int)slot);
    }
    if (st == BS_OK && live != s->count)
        st = bs_fail(err, BS_ERR_INVALID, "%s: agent store holds %d agents, its count says %d", path, live, s->count);
    free(mark);
    return st;
}

static bs_status check_lattice(const bs_model *m, const char *path, bs_error *err)
{
    const bs_lattice *lat = &m->lat;
    long sites = (long)lat->w * lat->h;
    for (long i = 0; i < sites; i++) {
        if (lat->tissue[i] >= BS_TISSUE_COUNT || lat->surface[i] > BS_SURF_FORMATION || !isfinite(lat->mineral[i]))
            return bs_fail(
                    err, BS_ERR_INVALID, "%s: site %ld has an invalid tissue, surface or mineral value", path, i);
        if (lat->bmu[i] < -1 || lat->bmu[i] >= sites)
            return bs_fail(
                    err, BS_ERR_INVALID, "%s: site %ld has an invalid BMU (valid: -1 .. %ld)", path, i, sites - 1);
    }
    return BS_OK;
}

/* Reads section `name` (one of is_zero_input's arrays) of a field whose
 * inputs are the shared zero block: into *tmp (n elements, allocated on
 * first use, kept for the next section), and only if it holds a non-zero
 * byte does the field get its own arrays (bs_field_own_inputs) to copy it
 * into, so a restored field holds the checkpoint's values either way. */
static bs_status get_zero_input(
        bs_ckpt_reader *r, const char *name, const state_entry *e, uint64_t n, bs_field *F, void **tmp, bs_error *err)
{
    if (!*tmp) *tmp = malloc((size_t)n * sizeof(float));
    if (!*tmp) return bs_fail(err, BS_ERR_NOMEM, "%s: out of memory", bs_ckpt_path(r));
    bs_status st = bs_ckpt_get(r, name, e->elem, n, *tmp, err);
    if (st != BS_OK) return st;
    const unsigned char *b = *tmp;
    unsigned char acc = 0;
    for (size_t i = 0; i < (size_t)n * e->elem; i++) acc |= b[i];
    if (acc == 0) return BS_OK; /* the shared block holds these zeros already */
    st = bs_field_own_inputs(F, err);
    if (st == BS_OK) memcpy(entry_ptr(e, F), *tmp, (size_t)n * e->elem);
    return st;
}

bs_status bs_model_load(bs_ckpt_reader *r, const bs_paramset *ps, bs_model **out, bs_error *err)
{
    *out = NULL;
    const char *path = bs_ckpt_path(r);
    uint64_t w = (uint64_t)bs_param(ps, "lattice.width_sites"), h = (uint64_t)bs_param(ps, "lattice.height_sites");
    uint64_t sites = w * h;
    /* The tissue map builds the model (no geometry generation, no mask
     * file needed); every array is then overwritten from the file. */
    uint32_t tissue_elem = 0;
    uint64_t tissue_n = 0;
    if (!bs_ckpt_find(r, "lattice.tissue", &tissue_elem, &tissue_n) || tissue_elem != 1 || tissue_n != sites)
        return bs_fail(err, BS_ERR_INVALID, "%s: checkpoint has no tissue map of %llu x %llu sites", path,
                (unsigned long long)w, (unsigned long long)h);
    uint8_t *classes = malloc(sites);
    if (!classes) return bs_fail(err, BS_ERR_NOMEM, "%s: out of memory", path);
    bs_status st = bs_ckpt_get(r, "lattice.tissue", 1, sites, classes, err);
    for (uint64_t i = 0; st == BS_OK && i < sites; i++)
        if (classes[i] >= BS_TISSUE_COUNT)
            st = bs_fail(err, BS_ERR_INVALID, "%s: site %llu has an invalid tissue class", path, (unsigned long long)i);
    bs_model *m = NULL;
    if (st == BS_OK) st = bs_model_create_unburnt(&m, ps, classes, err);
    free(classes);
    if (st != BS_OK) return st;

    char name[BS_CKPT_NAME_MAX + 1];
    void *tmp = NULL; /* a shared zero input's section (get_zero_input) */
    for (size_t k = 0; k < NSTATE && st == BS_OK; k++) {
        const state_entry *e = &state_table[k];
        /* the slot counts were read before the arrays they size: checked
         * against the store's reservation before anything is read into it */
        const bs_store *s = &m->store;
        if (e->n == N_SLOTS && (s->capacity < 0 || s->capacity > s->max_slots)) {
            st = bs_fail(err, BS_ERR_INVALID, "%s: agent store capacity %d is out of range (valid: 0 .. %d)", path,
                    s->capacity, s->max_slots);
            break;
        }
        if (e->n == N_FREE && (s->n_free < 0 || s->n_free > s->capacity)) {
            st = bs_fail(err, BS_ERR_INVALID, "%s: agent store free list of %d slots is out of range (valid: 0 .. %d)",
                    path, s->n_free, s->capacity);
            break;
        }
        if (e->n == N_BMU && (m->bmu_n < 0 || m->bmu_n > m->bmu_cap)) {
            st = bs_fail(err, BS_ERR_INVALID, "%s: %d BMU records is out of range (valid: 0 .. %d)", path, m->bmu_n,
                    m->bmu_cap);
            break;
        }
        uint64_t n = entry_count(e, sites, m);
        if (e->base == BASE_MODEL) {
            st = bs_ckpt_get(r, e->name, e->elem, n, entry_ptr(e, m), err);
        } else if (e->base == BASE_FIELD) {
            for (int f = 0; f < BS_FIELD_COUNT && st == BS_OK; f++) {
                bs_field *F = &m->fields[f];
                field_section(name, sizeof name, F, e);
                if (is_zero_input(e) && bs_field_inputs_shared(F))
                    st = get_zero_input(r, name, e, n, F, &tmp, err);
                else
                    st = bs_ckpt_get(r, name, e->elem, n, entry_ptr(e, F), err);
            }
        }
    }
    free(tmp);
    const char *extra = st == BS_OK ? bs_ckpt_unused(r) : NULL;
    if (extra)
        st = bs_fail(err, BS_ERR_INVALID,
                "%s: checkpoint holds '%s', which this bonesim does not know (written by another version?)", path,
                extra);
    if (st == BS_OK && m->seed != (uint64_t)bs_param(ps, "run.seed"))
        st = bs_fail(err, BS_ERR_INVALID, "%s: seed in the model and in the parameters differ", path);
    if (st == BS_OK && !bs_bmu_reindex(m))
        st = bs_fail(err, BS_ERR_INVALID, "%s: the BMU origins are not distinct sites in increasing order", path);
    for (int32_t k = 0; st == BS_OK && k < m->bmu_n; k++)
        if (m->bmu_pool[k].phase > BS_SURF_FORMATION || m->bmu_pool[k].stalled > 1)
            st = bs_fail(err, BS_ERR_INVALID,
                    "%s: BMU record %d (origin %d) has an invalid phase or stalled flag (valid: phase 0 .. %d, stalled "
                    "0 or 1)",
                    path, (int)k, (int)m->bmu_origin[k], BS_SURF_FORMATION);
    if (st == BS_OK) st = check_lattice(m, path, err);
    if (st == BS_OK) st = check_store(m, path, err);
    if (st != BS_OK) {
        bs_model_destroy(m);
        return st;
    }
    bs_store_scan_types(&m->store); /* derived from the restored slots */
    bs_store_rebuild_bits(&m->store); /* and the occupancy bits from occ */
    bs_model_rows_unknown(m); /* the release and sources were read, not made */
    *out = m;
    return BS_OK;
}
