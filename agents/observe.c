/* observe.c — observables that need the spatial state, computed once per
 * CSV row from the lattice, the fields and the agents (bs_obs_spatial in
 * model.h). They are the "derived quantities" that `bonesim validate`
 * experiments can name as CSV columns (docs/validation.md): the O2 map
 * (percentiles, perisinusoidal and endosteal marrow), the hypoxic share of
 * the tumour, osteoclasts near the lesion, tumour cells (and the dormant
 * ones) by where their lineage started, bone lost near the lesion, CXCL12
 * at the settled tumour cells, the phase lengths of finished remodeling
 * events, and killer-target contacts. Reads the state only (it clears
 * m->row_sum, the totals since the last row); uses the model's w*h float
 * scratch and a stack buffer of BS_BMU_LOG floats: no allocation. */
#include <math.h>

#include "celltypes.h"
#include "model.h"
#include "spatial.h"

float bs_quickselect_f(float *a, long n, long k)
{
    long lo = 0, hi = n - 1;
    while (lo < hi) {
        float pivot = a[(lo + hi) / 2];
        long i = lo, j = hi;
        while (i <= j) {
            while (a[i] < pivot) i++;
            while (a[j] > pivot) j--;
            if (i <= j) {
                float t = a[i];
                a[i] = a[j];
                a[j] = t;
                i++;
                j--;
            }
        }
        if (k <= j)
            hi = j;
        else if (k >= i)
            lo = i;
        else
            return a[k];
    }
    return a[k];
}

/* the q-quantile (0..1) of a[0..n-1] (reordered), nearest rank; 0 when n = 0 */
static double quantile(float *a, long n, double q)
{
    if (n <= 0) return 0.0;
    long k = (long)floor(q * (double)(n - 1) + 0.5);
    return (double)bs_quickselect_f(a, n, k);
}

/* marrow site i has a 4-neighbour of tissue class t */
static int touches(const bs_lattice *lat, int i, int t)
{
    int x = i % lat->w, y = i / lat->w;
    for (int k = 0; k < 4; k++) {
        int nx = x + bs_nb_dx[k], ny = y + bs_nb_dy[k];
        if (nx < 0 || ny < 0 || nx >= lat->w || ny >= lat->h) continue;
        if (lat->tissue[ny * lat->w + nx] == t) return 1;
    }
    return 0;
}

void bs_step_totals_add(bs_step_totals *a, const bs_step_totals *b)
{
    a->resorbed_um2 += b->resorbed_um2;
    a->formed_um2 += b->formed_um2;
    a->agents_acted += b->agents_acted;
    a->kills_tcell += b->kills_tcell;
    a->kills_nk += b->kills_nk;
    a->kills_nk_hypoxic += b->kills_nk_hypoxic;
    a->tcell_contact_h += b->tcell_contact_h;
    a->nk_contact_h += b->nk_contact_h;
    a->nk_contact_h_hypoxic += b->nk_contact_h_hypoxic;
    a->mdsc_to_oc += b->mdsc_to_oc;
}

/* step t in days of model time */
static double step_d(const bs_model *m, uint32_t t)
{
    return ((double)t - (double)m->step0) * m->dt_h / 24.0;
}

/* Median (days or um) of one quantity over the finished events in the
 * log that opened at or after day 0; which: 0 resorption (first to last
 * erosion), 1 reversal (last erosion to the team's first osteoblast), 2
 * formation (team's arrival to the last mineral), 3 whole event (first
 * erosion to the end), 4 erosion depth. A phase that never happened in
 * an event (no erosion, no team) leaves that event out of that median.
 * The definitions are those of the single-event behaviour test (B3). */
static double bmu_median(const bs_model *m, int which, float *buf, long *n_events)
{
    uint64_t first = m->bmu_log.n > BS_BMU_LOG ? m->bmu_log.n - BS_BMU_LOG : 0;
    long n = 0, ev = 0;
    for (uint64_t e = first; e < m->bmu_log.n; e++) {
        const bs_bmu_rec *r = &m->bmu_log.rec[e % BS_BMU_LOG];
        if (r->t_open == BS_BMU_UNSET || r->t_open < m->step0) continue;
        ev++;
        uint32_t a, b;
        switch (which) {
        case 0: a = r->t_res_first, b = r->t_res_last; break;
        case 1: a = r->t_res_last, b = r->t_team_first; break;
        case 2: a = r->t_team_first, b = r->t_min_last; break;
        case 3: a = r->t_res_first, b = r->survey; break;
        case 4: buf[n++] = (float)(r->max_depth * m->lat.h_um); continue;
        default:
            if (r->resorbed_um2 > 0.0f) buf[n++] = r->formed_um2 / r->resorbed_um2;
            continue;
        }
        if (a == BS_BMU_UNSET || b == BS_BMU_UNSET || b < a) continue;
        buf[n++] = (float)(step_d(m, b) - step_d(m, a));
    }
    *n_events = ev;
    return n > 0 ? quantile(buf, n, 0.5) : 0.0;
}

void bs_observe_spatial(bs_model *m, bs_obs_spatial *sp, double window_days)
{
    const bs_lattice *lat = &m->lat;
    const bs_store *s = &m->store;
    const float *o2 = m->fields[BS_FIELD_O2].c;
    long n = (long)lat->w * lat->h, nm = 0;
    float *v = m->scratch;
    /* marrow percentiles */
    for (long i = 0; i < n; i++)
        if (lat->tissue[i] == BS_TISSUE_MARROW) v[nm++] = o2[i];
    sp->o2_p5_mmHg = quantile(v, nm, 0.05);
    sp->o2_p95_mmHg = quantile(v, nm, 0.95);
    /* marrow next to a sinusoid (perisinusoidal) and next to bone (endosteal) */
    nm = 0;
    for (long i = 0; i < n; i++)
        if (lat->tissue[i] == BS_TISSUE_MARROW && touches(lat, (int)i, BS_TISSUE_VESSEL)) v[nm++] = o2[i];
    sp->o2_perisinusoidal_mmHg = quantile(v, nm, 0.5);
    nm = 0;
    for (long i = 0; i < n; i++)
        if (lat->tissue[i] == BS_TISSUE_MARROW && touches(lat, (int)i, BS_TISSUE_BONE)) v[nm++] = o2[i];
    sp->o2_endosteal_mmHg = quantile(v, nm, 0.5);
    /* the tumour: hypoxic share and the lowest pO2 at a tumour cell */
    long ntum = 0, hypoxic = 0;
    double lowest = 0.0;
    long by_origin[3] = { 0, 0, 0 }, dormant_by_origin[3] = { 0, 0, 0 }, settled = 0;
    double cxcl12_settled = 0.0;
    const float *cxcl12 = m->fields[BS_FIELD_CXCL12].c;
    for (long i = 0; i < n; i++) {
        int slot = s->occ[i];
        if (slot < 0 || s->type[slot] != BS_CELL_DTC) continue;
        if (s->state[slot] != BS_DTC_MIGRATING) {
            settled++;
            cxcl12_settled += (double)cxcl12[i];
        }
        if (ntum == 0 || (double)o2[i] < lowest) lowest = (double)o2[i];
        ntum++;
        hypoxic += (double)o2[i] < BS_OBS_HYPOXIC_MMHG;
        /* the integer part of aux is the lineage origin (agents/dtc.c; the
         * fraction is the commitment to cycling left) */
        int a = (int)s->aux[slot], o = -1;
        if (a == (int)BS_DTC_FROM_VESSEL)
            o = 0;
        else if (a == (int)BS_DTC_FROM_QUIESCENT)
            o = 1;
        else if (a == (int)BS_DTC_FROM_BRC)
            o = 2;
        if (o >= 0) {
            by_origin[o]++;
            dormant_by_origin[o] += s->state[slot] == BS_DTC_DORMANT;
        }
    }
    sp->tumour_hypoxic_frac = ntum > 0 ? (double)hypoxic / (double)ntum : 0.0;
    sp->o2_tumour_min_mmHg = lowest;
    sp->n_dtc_lineage_blood = by_origin[0];
    sp->n_dtc_lineage_quiescent = by_origin[1];
    sp->n_dtc_lineage_brc = by_origin[2];
    sp->n_dtc_dormant_lineage_blood = dormant_by_origin[0];
    sp->n_dtc_dormant_lineage_quiescent = dormant_by_origin[1];
    sp->n_dtc_dormant_lineage_brc = dormant_by_origin[2];
    sp->n_dtc_settled = settled;
    sp->cxcl12_settled_dtc_au = settled > 0 ? cxcl12_settled / (double)settled : 0.0;
    /* osteoclasts with a tumour cell within BS_OBS_NEAR_LESION_UM */
    long near = 0;
    int radius = (int)ceil(BS_OBS_NEAR_LESION_UM / lat->h_um);
    if (ntum > 0)
        for (long i = 0; i < n; i++) {
            int slot = s->occ[i];
            if (slot < 0 || s->type[slot] != BS_CELL_OSTEOCLAST) continue;
            near += bs_agent_within(m, (int)i, radius, BS_CELL_DTC);
        }
    sp->n_osteoclasts_near_tumour = near;
    /* bone lost near the lesion: the mineral missing from former bone (an
     * open cavity site lacks all of it, a bone site being refilled 1 -
     * mineral; untouched bone holds 1, lattice.h) on sites within
     * BS_OBS_NEAR_LESION_UM of a tumour cell */
    double lost = 0.0;
    if (ntum > 0)
        for (long i = 0; i < n; i++) {
            double d = 0.0;
            if (lat->tissue[i] == BS_TISSUE_BONE)
                d = 1.0 - (double)lat->mineral[i];
            else if (lat->tissue[i] == BS_TISSUE_MARROW && (lat->flags[i] & BS_FLAG_CAVITY))
                d = 1.0;
            if (d > 0.0 && bs_agent_within(m, (int)i, radius, BS_CELL_DTC)) lost += d;
        }
    sp->bone_lost_near_lesion_um2 = lost * lat->h_um * lat->h_um;
    /* the finished remodeling events */
    float buf[BS_BMU_LOG];
    sp->bmu_resorption_d = bmu_median(m, 0, buf, &sp->bmu_events_done);
    sp->bmu_reversal_d = bmu_median(m, 1, buf, &sp->bmu_events_done);
    sp->bmu_formation_d = bmu_median(m, 2, buf, &sp->bmu_events_done);
    sp->bmu_event_d = bmu_median(m, 3, buf, &sp->bmu_events_done);
    sp->bmu_depth_um = bmu_median(m, 4, buf, &sp->bmu_events_done);
    sp->bmu_refill = bmu_median(m, 5, buf, &sp->bmu_events_done);
    /* killer-target contacts since the last row */
    const bs_step_totals *rs = &m->row_sum;
    double per = window_days > 0.0 ? 1.0 / (24.0 * window_days) : 0.0;
    sp->tcell_contacts_mean = rs->tcell_contact_h * per;
    sp->nk_contacts_mean = rs->nk_contact_h * per;
    sp->nk_contacts_hypoxic_mean = rs->nk_contact_h_hypoxic * per;
    sp->kills_nk_hypoxic_per_day = window_days > 0.0 ? (double)rs->kills_nk_hypoxic / window_days : 0.0;
    m->row_sum = (bs_step_totals){ 0 };
}
