/* pace.c — the thread count of a model step (pace.h). */
#include "pace.h"

#include <stdlib.h>
#include <string.h>

static void restart(bs_pace *p, int max_threads)
{
    p->max = max_threads;
    p->chosen = max_threads;
    p->cur = max_threads;
    p->probing = 0;
    p->settle = 1;
    p->win_n = 0;
    p->win_s = 0.0;
    p->ref_s = 0.0;
    p->gap = BS_PACE_GAP_MIN;
    p->until_probe = 1; /* the first probe after the first window */
}

void bs_pace_fix(bs_pace *p)
{
    p->init = 1;
    p->fixed = 1;
}

int bs_pace_threads(bs_pace *p, int max_threads)
{
    if (max_threads < 1) max_threads = 1;
    if (!p->init) {
        const char *e = getenv("BONESIM_FIXED_THREADS");
        p->fixed = e && *e && strcmp(e, "0") != 0;
        p->init = 1;
        restart(p, max_threads);
    }
    if (p->fixed || max_threads == 1) return max_threads;
    if (max_threads != p->max) restart(p, max_threads);
    return p->cur;
}

/* Ends the current window; the next runs at the chosen count. */
static void end_window(bs_pace *p)
{
    p->win_n = 0;
    p->win_s = 0.0;
    if (p->cur != p->chosen) {
        p->cur = p->chosen;
        p->settle = 1;
    }
    p->probing = 0;
}

static void probe_lost(bs_pace *p)
{
    p->gap = p->gap * 2 > BS_PACE_GAP_MAX ? BS_PACE_GAP_MAX : p->gap * 2;
    p->until_probe = p->gap;
    end_window(p);
}

void bs_pace_done(bs_pace *p, double step_s)
{
    p->steps++;
    if (p->cur < p->max) p->steps_reduced++;
    if (p->fixed || p->max <= 1) return;
    if (p->settle) {
        p->settle = 0;
        return;
    }
    p->win_n++;
    p->win_s += step_s;
    if (p->probing) {
        if (p->win_n >= 3 && p->win_s > BS_PACE_ABORT * p->ref_s * p->win_n) {
            probe_lost(p);
        } else if (p->win_n >= BS_PACE_WINDOW) {
            if (p->win_s / p->win_n < BS_PACE_WIN * p->ref_s) {
                p->chosen = p->cur;
                p->switches++;
                p->ref_s = p->win_s / p->win_n;
                p->gap = BS_PACE_GAP_MIN;
                p->until_probe = p->gap;
                end_window(p);
            } else {
                probe_lost(p);
            }
        }
        return;
    }
    if (p->win_n < BS_PACE_WINDOW) return;
    p->ref_s = p->win_s / p->win_n;
    p->win_n = 0;
    p->win_s = 0.0;
    if (--p->until_probe > 0) return;
    /* probe the other count */
    p->probing = 1;
    p->probes++;
    p->cur = p->chosen == p->max ? 1 : p->max;
    p->settle = 1;
}
