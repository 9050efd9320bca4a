/* observe.c — observables that need the spatial state, computed once per
 * CSV row from the lattice, the fields and the agents (bs_obs_spatial in
 * model.h). They are the "derived quantities" that `bonesim validate`
 * experiments can name as CSV columns (docs/validation.md): the O2 map
 * (percentiles, perisinusoidal and endosteal marrow), the hypoxic share of
 * the tumour, osteoclasts near the lesion and tumour cells by where their
 * lineage started. Reads only; uses the model's w*h float scratch. */
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

void bs_observe_spatial(bs_model *m, bs_obs_spatial *sp)
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
    long by_origin[3] = { 0, 0, 0 };
    for (long i = 0; i < n; i++) {
        int slot = s->occ[i];
        if (slot < 0 || s->type[slot] != BS_CELL_DTC) continue;
        if (ntum == 0 || (double)o2[i] < lowest) lowest = (double)o2[i];
        ntum++;
        hypoxic += (double)o2[i] < BS_OBS_HYPOXIC_MMHG;
        /* the integer part of aux is the lineage origin (agents/dtc.c; the
         * fraction is the commitment to cycling left) */
        int a = (int)s->aux[slot];
        if (a == (int)BS_DTC_FROM_VESSEL)
            by_origin[0]++;
        else if (a == (int)BS_DTC_FROM_QUIESCENT)
            by_origin[1]++;
        else if (a == (int)BS_DTC_FROM_BRC)
            by_origin[2]++;
    }
    sp->tumour_hypoxic_frac = ntum > 0 ? (double)hypoxic / (double)ntum : 0.0;
    sp->o2_tumour_min_mmHg = lowest;
    sp->n_dtc_lineage_blood = by_origin[0];
    sp->n_dtc_lineage_quiescent = by_origin[1];
    sp->n_dtc_lineage_brc = by_origin[2];
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
}
