/* viewer.c — the live SDL2 viewer (see viewer.h).
 *
 * Structure (init / update / draw / shutdown, as in raylib's examples):
 *   - session: the model, its CSV and the action log, with the same run
 *     loop order as viz/cli/runner.c (actions at step k, then k's outputs, then
 *     the step), so a replay writes the same bytes;
 *   - clock: a fixed simulation tick decoupled from drawing, on its own
 *     thread; an accumulator turns wall time into ticks at the chosen
 *     speed, and one lock (v->lock) guards the model, which the UI holds
 *     only while it handles events and draws, not while the frame is
 *     presented, so the window stays responsive whatever the speed;
 *   - view: the renderer's image as a texture (integer zoom, pan), the
 *     panels around it, overlays (help, info, inspect);
 *   - input: SDL events, and a script file that feeds synthetic events
 *     through the same handlers (tests, demos).
 * Text is SDL2_ttf with a DejaVu font; sizes follow the window height and
 * the UI scale (24 px at 1080p and scale 1). */
#define _POSIX_C_SOURCE 200809L
#include "viewer.h"

#include <SDL.h>
#include <SDL_ttf.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <omp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <dirent.h>
#include <unistd.h>

#include "actions.h"
#include "celltypes.h"
#include "config.h"
#include "fsutil.h"
#include "image.h"
#include "model.h"
#include "output.h"
#include "render.h"
#include "runner.h"
#include "session.h"
#include "story.h"
#include "therapy.h"
#include "version.h"
#include "video.h"

/* ---- constants ------------------------------------------------------------ */

/* Speeds in simulated days per wall second; the last is "as fast as
 * possible" (as many ticks as fit in the frame budget). */
static const double SPEEDS[] = { 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 50.0, -1.0 };
#define N_SPEEDS ((int)(sizeof SPEEDS / sizeof SPEEDS[0]))
#define DEFAULT_SPEED 3
#define MAX_SLIDERS 6
#define HIST_CAP 4096
#define TEXT_CACHE 1024

typedef struct {
    uint8_t bg[3], panel[3], text[3], dim[3], accent[3], plot_bg[3], grid[3], on_bg[3];
} theme;

static const theme THEMES[2] = {
    /* dark: for screens and dim lecture rooms */
    { { 0x12, 0x12, 0x16 }, { 0x1C, 0x1C, 0x22 }, { 0xF2, 0xF2, 0xF2 }, { 0xA8, 0xA8, 0xB8 }, { 0xE6, 0x9F, 0x00 },
            { 0x16, 0x16, 0x1C }, { 0x3A, 0x3A, 0x46 }, { 0x00, 0x5A, 0x3C } },
    /* light: for bright rooms and projectors with washed-out blacks */
    { { 0xF4, 0xF4, 0xF0 }, { 0xE6, 0xE6, 0xE0 }, { 0x10, 0x10, 0x14 }, { 0x50, 0x50, 0x5A }, { 0xA0, 0x50, 0x00 },
            { 0xFF, 0xFF, 0xFF }, { 0xC8, 0xC8, 0xCC }, { 0x9C, 0xE0, 0xC0 } },
};

/* Therapy keys: F2 .. F10 in the order of therapy.h. */
#define THERAPY_KEY0 SDLK_F2

/* ---- state ---------------------------------------------------------------- */

typedef struct {
    uint64_t key;
    SDL_Texture *tex;
    int w, h;
    long used;
} text_entry;

typedef struct {
    double t; /* days */
    float n[BS_MAX_CELL_TYPES]; /* cells per type */
    float bone; /* bone area, fraction of the first sample */
    uint16_t on; /* bit i: therapy i on */
    float split[2]; /* tumour cells dormant, proliferating (the dormancy story) */
    float ser[BS_STORY_MAX_SERIES]; /* the story file's plot series, when it names them */
    /* the arm beside (--beside): the same */
    float nb[BS_MAX_CELL_TYPES], boneb, splitb[2], serb[BS_STORY_MAX_SERIES];
} sample;

#define MAX_KEPT_ACTIONS 4096

typedef struct {
    char name[BS_ACTION_NAME_MAX];
    double min, max;
    int is_int;
    SDL_Rect track; /* where it was last drawn */
} slider;

typedef struct {
    /* options */
    const char *scenario_arg;
    const char *sets[BS_CLI_MAX_SETS];
    int nsets;
    long long seed_opt;
    int threads, omp_threads; /* --threads; what the model uses */
    const char *out_opt, *script_path, *font_opt;
    int win_w, win_h, fullscreen, light, force;
    int px_opt; /* --px: image pixels per site (0: fit the view) */
    double ui_scale;
    /* session: the one session loop (session.h); m, ps and reg are its
     * model and parameters, kept in step by session_sync */
    bs_session S;
    bs_registry *reg;
    bs_paramset *ps; /* scenario + --set + seed */
    bs_model *m;
    char scenario_path[4096], scenario[256], header[4096];
    uint8_t *classes; /* mask, or NULL */
    long long seed;
    char outdir[4096];
    /* clock */
    int playing, speed;
    double acc_ticks;
    long long target_step; /* script `until`: stop here (-1: none) */
    double fps, days_per_s;
    double draw_s; /* smoothed time to draw a frame */
    double present_s; /* smoothed time in SDL_RenderPresent (stats) */
    SDL_mutex *lock; /* the model, the session and the view state */
    SDL_Thread *sim_thread;
    SDL_atomic_t ui_waiting, sim_stop;
    /* view */
    int field; /* -1 tissue, else bs_field_id */
    int hide_agents, palette, light_theme, log_plot, show_help, show_info;
    double zoom; /* screen pixels per image pixel (any positive real: the lattice fills the view) */
    int follow; /* Z: the view follows the region of interest */
    int present; /* --present or M: presentation layout */
    int show_key; /* G: the tissue key over the view */
    /* what the last frame drew (BONESIM_VIEW_LAYOUT reports it with each
     * screenshot): panel blocks and plot legend entries shown of all */
    int split_type, split_state[2]; /* tumour type and its dormant / proliferating states (-1: none) */
    int lay_blocks, lay_blocks_all, lay_entries, lay_entries_all, lay_cols;
    double roi_um[4]; /* viewer.roi_um: x0, y0, x1, y1 (x1 <= x0: none) */
    double pan_x, pan_y; /* image pixel at the view's top-left */
    int fit_pending;
    bs_image img;
    SDL_Texture *tex;
    int tex_w, tex_h, img_dirty;
    int px; /* image pixels per site (run.png_px_per_site) */
    SDL_Rect view; /* lattice view rectangle */
    int sel_type; /* injection cell type */
    int inspect, insp_x, insp_y;
    int dragging_inject, dragging_pan, drag_slider;
    int last_mx, last_my, last_inj_x, last_inj_y;
    /* plot */
    sample *hist;
    int nhist;
    double hist_every_d, next_hist_d, bone0;
    /* sliders */
    slider sl[MAX_SLIDERS];
    int nsl;
    /* SDL */
    SDL_Window *win;
    SDL_Renderer *ren;
    char font_path[1024];
    TTF_Font *font, *big;
    int font_px;
    text_entry cache[TEXT_CACHE];
    long frame;
    /* capture */
    int recording;
    long rec_frame;
    char rec_dir[4400]; /* the video being recorded (V) */
    struct bs_video *rec; /* viz/image/video.h */
    int want_shot;
    char shot_name[4400];
    char msg[300];
    double msg_until;
    /* script */
    FILE *script;
    char script_where[1100];
    int script_line, script_wait;
    int script_beat; /* script `beat N`: play until beat N has fired (0: none) */
    int cap_h; /* the story caption's height as last drawn (framing and overlays go below it) */
    char banner[160]; /* a dose or fraction being flashed */
    int banner_kind;
    int quit, exit_code;
    /* the scenario's story file (story.h): plot series and notes always,
     * the beats with --story */
    int story_opt; /* --story */
    const char *story_file_opt; /* --story-file */
    int have_story, story_on;
    bs_story *story;
    bs_event_tracker *ev;
    int beat; /* the beat shown: -1 the title, else its index */
    int beat_late; /* it fired because of its `by` day */
    double beat_day[BS_STORY_MAX_BEATS];
    uint64_t beat_step[BS_STORY_MAX_BEATS];
    int beat_view_pending;
    int rewind_to; /* Backspace: replaying to this beat (-1: none) */
    int rewind_speed;
    double bone0_um2; /* bone area at day 0 (story triggers, plot series) */
    int hl_nhl, hl_type[BS_STORY_MAX_HL], hl_state[BS_STORY_MAX_HL];
    /* live actions since the last reset, replayed by Backspace */
    bs_action *kept;
    int nkept;
    size_t kept_next;
    /* the scenario picker (O) */
    int picker, pick_sel, npick;
    char pick[64][128];
    char self_exe[4096];
    char restart[128]; /* the picker chose this scenario: the viewer starts again on it */
    /* --beside B / --beside-set K=V: a second arm on the same seed, stepped
     * with the first, drawn beside it (its own session folder and CSV) */
    const char *beside_opt;
    const char *bsets[BS_CLI_MAX_SETS];
    int nbsets, beside;
    bs_session SB;
    char b_label[600], b_outdir[4200];
    bs_image img_b;
    SDL_Texture *tex_b;
    int texb_w, texb_h;
    SDL_Rect view_b;
    double bone0_b, bone0_b_um2;
} viewer;

static const theme *TH(const viewer *v)
{
    return &THEMES[v->light_theme ? 1 : 0];
}

static double now_s(void)
{
    return (double)SDL_GetPerformanceCounter() / (double)SDL_GetPerformanceFrequency();
}

static void set_msg(viewer *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_msg(viewer *v, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v->msg, sizeof v->msg, fmt, ap);
    va_end(ap);
    v->msg_until = now_s() + 4.0;
    if (v->script) fprintf(stderr, "bonesim view: %s\n", v->msg);
}

/* ---- options --------------------------------------------------------------- */

void bs_view_usage(void)
{
    printf("usage: bonesim view SCENARIO [options]\n"
           "\n"
           "Opens a window that runs SCENARIO live (paused at day 0; Space plays, F1 lists the keys).\n"
           "\n"
           "options:\n"
           "  --seed N          random seed (default: the scenario's run.seed)\n"
           "  --set S.K=VALUE   override a parameter (repeatable)\n"
           "  --threads T       OpenMP threads for the model (default: all cores but one, which\n"
           "                    is left to drawing; results are the same at any T)\n"
           "  --out DIR         session folder: timeseries.csv, actions.log, screenshots\n"
           "                    (default: out/view-SCENARIO, or -2, -3, ... if that exists)\n"
           "  --force           write into an existing --out folder\n"
           "  --size WxH        window size in pixels (default 1600x900)\n"
           "  --fullscreen      start full screen at the display's size (F11 toggles; no window manager needed)\n"
           "  --present         presentation layout: text >= 28 px at 1080p, the lattice >= 70 %% of the height "
           "(M toggles)\n"
           "  --px N            image pixels per site, 1 .. 16 (default: the largest that fits the\n"
           "                    window); the image is the renderer's, as in PNG snapshots with\n"
           "                    --set run.png_px_per_site=N\n"
           "  --ui-scale X      text and panel scale, 0.5 .. 3 (default 1: 24 px text at 1080p)\n"
           "  --light           light theme (T toggles)\n"
           "  --story           play the scenario's story (scenarios/NAME.story beside it): beats that\n"
           "                    pause, frame a region and show a caption; Space continues, Backspace\n"
           "                    goes back a beat (replayed from day 0 on the same seed)\n"
           "  --story-file FILE play that story file instead (implies --story)\n"
           "  --beside B        run scenario B beside it on the same seed, in step, one picture each\n"
           "                    (the same --set options; the same lattice and time step; live changes\n"
           "                    go to the left arm only; B's CSV in DIR/beside)\n"
           "  --beside-set S.K=V  the arm beside is this scenario with S.K=V too (repeatable; with or\n"
           "                    without --beside)\n"
           "  --font FILE.ttf   TrueType font (default: DejaVu Sans from fonts-dejavu-core)\n"
           "  --script FILE     drive the viewer from a file of commands (tests, demos):\n"
           "                      key [shift+|ctrl+]NAME  (SDL key names: Space, F2, S, Right, ...)\n"
           "                      click X Y | rclick X Y | drag X0 Y0 X1 Y1   (lattice sites)\n"
           "                      until STEP   (play until the model has done STEP steps)\n"
           "                      beat N       (--story: play until beat N has fired)\n"
           "                      play         (play at the speed set, whatever a beat paused)\n"
           "                      wait FRAMES | slider NAME VALUE | screenshot [FILE.png] | dump FILE.png | quit\n"
           "\n"
           "The session's live changes are logged to DIR/actions.log; replay them headless with\n"
           "  bonesim run SCENARIO [same --set options] --replay DIR/actions.log\n"
           "which writes the same timeseries.csv bytes as the live session.\n"
           "Without a display, SDL_VIDEODRIVER=dummy (or xvfb-run) runs it off screen.\n"
           "Environment: BONESIM_FONT (a .ttf file), BONESIM_VIEW_STATS=1 (print fps and simulated\n"
           "days per second once a second).\n");
}

static int parse_opts(viewer *v, int argc, char **argv, char *err, size_t n)
{
    v->seed_opt = -1;
    v->win_w = 1600;
    v->win_h = 900;
    v->ui_scale = 1.0;
    v->show_key = 1;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        const char *val = i + 1 < argc ? argv[i + 1] : NULL;
        int needs = strcmp(a, "--seed") == 0 || strcmp(a, "--set") == 0 || strcmp(a, "--threads") == 0 ||
                strcmp(a, "--out") == 0 || strcmp(a, "--size") == 0 || strcmp(a, "--ui-scale") == 0 ||
                strcmp(a, "--font") == 0 || strcmp(a, "--script") == 0 || strcmp(a, "--px") == 0 ||
                strcmp(a, "--story-file") == 0 || strcmp(a, "--beside") == 0 || strcmp(a, "--beside-set") == 0;
        if (needs && !val) {
            snprintf(err, n, "%s needs a value (see bonesim view --help)", a);
            return -1;
        }
        char *end = NULL;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) return 1;
        if (a[0] != '-') {
            if (v->scenario_arg) {
                snprintf(err, n, "unexpected argument '%s' (see bonesim view --help)", a);
                return -1;
            }
            v->scenario_arg = a;
        } else if (strcmp(a, "--seed") == 0) {
            errno = 0;
            double s = strtod(val, &end);
            if (*end || end == val || errno || !(s >= 0.0 && s <= 9007199254740991.0) || s != floor(s)) {
                snprintf(err, n, "--seed '%s' is not a whole number in range (valid: 0 .. 9007199254740991)", val);
                return -1;
            }
            v->seed_opt = (long long)s;
            i++;
        } else if (strcmp(a, "--set") == 0) {
            if (v->nsets == BS_CLI_MAX_SETS) {
                snprintf(err, n, "too many --set options (at most %d)", BS_CLI_MAX_SETS);
                return -1;
            }
            v->sets[v->nsets++] = val;
            i++;
        } else if (strcmp(a, "--threads") == 0) {
            long t = strtol(val, &end, 10);
            if (*end || end == val || t < 1 || t > 1024) {
                snprintf(err, n, "--threads '%s' (valid: 1 .. 1024)", val);
                return -1;
            }
            v->threads = (int)t;
            i++;
        } else if (strcmp(a, "--out") == 0) {
            v->out_opt = val;
            i++;
        } else if (strcmp(a, "--size") == 0) {
            int w = 0, h = 0;
            char x = 0, extra = 0;
            if (sscanf(val, "%d%c%d%c", &w, &x, &h, &extra) != 3 || (x != 'x' && x != 'X') || w < 640 || h < 400 ||
                    w > 16384 || h > 16384) {
                snprintf(err, n, "--size '%s' (valid: WxH, 640x400 .. 16384x16384)", val);
                return -1;
            }
            v->win_w = w;
            v->win_h = h;
            i++;
        } else if (strcmp(a, "--ui-scale") == 0) {
            errno = 0;
            double s = strtod(val, &end);
            if (*end || end == val || errno || !(s >= 0.5 && s <= 3.0)) {
                snprintf(err, n, "--ui-scale '%s' (valid: 0.5 .. 3)", val);
                return -1;
            }
            v->ui_scale = s;
            i++;
        } else if (strcmp(a, "--px") == 0) {
            long p = strtol(val, &end, 10);
            if (*end || end == val || p < 1 || p > 16) {
                snprintf(err, n, "--px '%s' (valid: 1 .. 16)", val);
                return -1;
            }
            v->px_opt = (int)p;
            i++;
        } else if (strcmp(a, "--font") == 0) {
            v->font_opt = val;
            i++;
        } else if (strcmp(a, "--script") == 0) {
            v->script_path = val;
            i++;
        } else if (strcmp(a, "--beside") == 0) {
            v->beside_opt = val;
            i++;
        } else if (strcmp(a, "--beside-set") == 0) {
            if (v->nbsets == BS_CLI_MAX_SETS) {
                snprintf(err, n, "too many --beside-set options (at most %d)", BS_CLI_MAX_SETS);
                return -1;
            }
            v->bsets[v->nbsets++] = val;
            i++;
        } else if (strcmp(a, "--story") == 0) {
            v->story_opt = 1;
        } else if (strcmp(a, "--story-file") == 0) {
            v->story_opt = 1;
            v->story_file_opt = val;
            i++;
        } else if (strcmp(a, "--present") == 0) {
            v->present = 1;
        } else if (strcmp(a, "--fullscreen") == 0) {
            v->fullscreen = 1;
        } else if (strcmp(a, "--light") == 0) {
            v->light = 1;
        } else if (strcmp(a, "--force") == 0) {
            v->force = 1;
        } else {
            snprintf(err, n, "unknown option '%s' (see bonesim view --help)", a);
            return -1;
        }
    }
    if (!v->scenario_arg) {
        snprintf(err, n, "missing SCENARIO (see bonesim view --help; bonesim scenarios lists them)");
        return -1;
    }
    return 0;
}

/* ---- session: the front end's glue to bs_session --------------------------------- */

/* The model may have been rebuilt (a reset): the drawing code reads v->m. */
static void session_sync(viewer *v)
{
    v->m = v->S.m;
    v->ps = v->S.ps;
    v->reg = v->S.reg;
}

static void hist_sample(viewer *v)
{
    const bs_model *m = v->m;
    if (v->nhist == HIST_CAP) {
        /* Halve the resolution: keep every other sample. */
        for (int i = 0; i < HIST_CAP / 2; i++) v->hist[i] = v->hist[2 * i];
        v->nhist = HIST_CAP / 2;
        v->hist_every_d *= 2.0;
    }
    sample *s = &v->hist[v->nhist++];
    memset(s, 0, sizeof *s);
    s->t = bs_model_time_days(m);
    size_t n = (size_t)m->lat.w * (size_t)m->lat.h;
    for (size_t i = 0; i < n; i++) {
        int slot = m->store.occ[i];
        if (slot >= 0 && m->store.type[slot] < bs_celltype_count()) s->n[m->store.type[slot]] += 1.0f;
        for (int k = 0; k < 2; k++)
            if (slot >= 0 && m->store.type[slot] == v->split_type && m->store.state[slot] == v->split_state[k])
                s->split[k] += 1.0f;
    }
    double bone = bs_lattice_bone_area_um2(&m->lat);
    if (v->nhist == 1 || v->bone0 <= 0.0) v->bone0 = bone;
    s->bone = v->bone0 > 0.0 ? (float)(bone / v->bone0) : 0.0f;
    for (int k = 0; k < BS_THERAPY_COUNT; k++)
        if (bs_therapy_is_on(&m->therapy, (bs_therapy_id)k)) s->on |= (uint16_t)(1u << k);
    if (v->story)
        for (int k = 0; k < v->story->nseries; k++)
            s->ser[k] = (float)bs_series_value(&v->story->series[k], m, v->bone0_um2);
    if (v->beside && v->SB.m) {
        const bs_model *mb = v->SB.m;
        for (size_t i = 0; i < n; i++) {
            int slot = mb->store.occ[i];
            if (slot >= 0 && mb->store.type[slot] < bs_celltype_count()) s->nb[mb->store.type[slot]] += 1.0f;
            for (int k = 0; k < 2; k++)
                if (slot >= 0 && mb->store.type[slot] == v->split_type && mb->store.state[slot] == v->split_state[k])
                    s->splitb[k] += 1.0f;
        }
        double bb = bs_lattice_bone_area_um2(&mb->lat);
        if (v->nhist == 1 || v->bone0_b <= 0.0) v->bone0_b = bb;
        s->boneb = v->bone0_b > 0.0 ? (float)(bb / v->bone0_b) : 0.0f;
        if (v->story)
            for (int k = 0; k < v->story->nseries; k++)
                s->serb[k] = (float)bs_series_value(&v->story->series[k], mb, v->bone0_b_um2);
    }
}

static void hist_maybe(viewer *v)
{
    double t = bs_model_time_days(v->m);
    if (t + 1e-9 >= v->next_hist_d) {
        hist_sample(v);
        while (v->next_hist_d <= t + 1e-9) v->next_hist_d += v->hist_every_d;
    }
}

static int speed_index(double days_per_s)
{
    for (int k = 0; k < N_SPEEDS; k++)
        if (SPEEDS[k] == days_per_s) return k;
    return DEFAULT_SPEED;
}

/* A beat fires: the clock stops (unless pause = no), the heat map, the
 * highlights and the speed change, and the next frame frames its region. */
static void story_fire(viewer *v, int i, int late)
{
    const bs_story_beat *b = &v->story->beat[i];
    v->beat = i;
    v->beat_late = late;
    v->beat_day[i] = bs_model_time_days(v->m);
    v->beat_step[i] = v->m->step;
    if (b->pause) {
        v->playing = 0;
        v->acc_ticks = 0.0;
    }
    if (b->speed > 0) v->speed = speed_index(b->speed);
    if (b->field != -2) {
        v->field = b->field;
        v->img_dirty = 1;
    }
    v->hl_nhl = b->nhl;
    memcpy(v->hl_type, b->hl_type, sizeof v->hl_type);
    memcpy(v->hl_state, b->hl_state, sizeof v->hl_state);
    v->beat_view_pending = 1;
    v->ev->since_kills = 0;
    memset(v->ev->since_dose, 0, sizeof v->ev->since_dose);
    if (v->script)
        fprintf(stderr, "bonesim view: story beat %d of %d at day %.2f (step %llu)%s: %s\n", i + 1, v->story->nbeats,
                v->beat_day[i], (unsigned long long)v->m->step, late ? " (by its `by` day)" : "", b->caption);
}

/* After a step: the next beat, if its trigger has come; while going back
 * (Backspace), the replay stops at the beat it goes back to. */
static void story_check(viewer *v)
{
    if (!v->story_on) return;
    if (v->rewind_to >= 0) {
        if (v->m->step >= v->beat_step[v->rewind_to]) {
            int i = v->rewind_to, late = 0;
            v->rewind_to = -1;
            v->speed = v->rewind_speed;
            v->nkept = (int)v->kept_next; /* the live changes after the beat are gone */
            story_fire(v, i, late);
            v->playing = 0;
        }
        return;
    }
    int next = v->beat + 1;
    if (next >= v->story->nbeats) return;
    double since = v->beat >= 0 ? v->beat_day[v->beat] : 0.0;
    int late;
    if (bs_story_due(&v->story->beat[next], v->m, v->ev, since, v->bone0_um2, &late)) story_fire(v, next, late);
}

/* One tick: k's outputs (if not yet written), then the step. While going
 * back a beat, the live changes kept since the reset are applied again at
 * their steps (so the replay is the session's own). */
static bs_status sim_step(viewer *v, bs_error *err)
{
    while (v->rewind_to >= 0 && v->kept_next < (size_t)v->nkept &&
            v->kept[v->kept_next].step <= v->m->step - v->m->step0) {
        bs_action a = v->kept[v->kept_next++];
        bs_status st = bs_session_apply(&v->S, &a, err);
        if (st != BS_OK) return st;
    }
    bs_status st = bs_session_step(&v->S, err);
    if (st == BS_OK && v->beside) st = bs_session_step(&v->SB, err);
    if (st != BS_OK) return st;
    v->img_dirty = 1;
    bs_events_after_step(v->ev, v->m);
    hist_maybe(v);
    story_check(v);
    return BS_OK;
}

/* What the view keeps of a (new) model: the plot history starts again. */
static void session_started(viewer *v)
{
    session_sync(v);
    v->seed = (long long)bs_param(v->ps, "run.seed");
    v->nhist = 0;
    v->hist_every_d = 0.25;
    v->next_hist_d = 0.0;
    v->bone0 = 0.0;
    hist_maybe(v);
    v->acc_ticks = 0.0;
    v->img_dirty = 1;
    v->inspect = 0;
    v->bone0_um2 = bs_lattice_bone_area_um2(&v->m->lat);
    v->bone0_b = 0.0;
    if (v->beside && v->SB.m) v->bone0_b_um2 = bs_lattice_bone_area_um2(&v->SB.m->lat);
    if (v->ev) bs_events_rebase(v->ev, v->m);
}

static bs_status session_open(viewer *v, bs_error *err)
{
    bs_cli_opts o;
    memset(&o, 0, sizeof o);
    o.pos[0] = v->scenario_arg;
    o.npos = 1;
    for (int k = 0; k < v->nsets; k++) o.sets[k] = v->sets[k];
    o.nsets = v->nsets;
    o.days = o.csv_every = o.png_every = o.ckpt_every = o.max_memory_mb = -1.0;
    o.seed = v->seed_opt;
    bs_session *S = &v->S;
    bs_status st = bs_resolve_params(&o, &S->reg, &S->ps, v->scenario_path, sizeof v->scenario_path, err);
    if (st == BS_OK) st = bs_check_intervals(&o, S->ps, -1.0, v->scenario_path, err);
    if (st != BS_OK) return st;
    session_sync(v);
    bs_scenario_name(v->scenario_path, v->scenario, sizeof v->scenario);
    bs_error e2;
    if (bs_config_header(v->scenario_path, v->header, sizeof v->header, &e2) != BS_OK) v->header[0] = '\0';
    v->px = v->px_opt > 0 ? v->px_opt : (int)bs_param(v->ps, "run.png_px_per_site");
    if (strcmp(bs_param_str(v->ps, "geometry.source"), "mask") == 0) {
        const char *mask = bs_param_str(v->ps, "geometry.mask_png");
        char path[8300];
        const char *slash = strrchr(v->scenario_path, '/');
        if (mask[0] != '/' && slash)
            snprintf(path, sizeof path, "%.*s/%s", (int)(slash - v->scenario_path), v->scenario_path, mask);
        else
            snprintf(path, sizeof path, "%s", mask);
        int w = (int)bs_param(v->ps, "lattice.width_sites"), h = (int)bs_param(v->ps, "lattice.height_sites");
        st = bs_mask_load(path, &w, &h, &v->classes, err);
        if (st != BS_OK) return st;
    }
    /* Session folder: never overwrite another session silently. */
    if (v->out_opt) {
        snprintf(v->outdir, sizeof v->outdir, "%s", v->out_opt);
    } else {
        snprintf(v->outdir, sizeof v->outdir, "out/view-%s", v->scenario);
        for (int k = 2; bs_path_exists(v->outdir) && k < 10000; k++)
            snprintf(v->outdir, sizeof v->outdir, "out/view-%s-%d", v->scenario, k);
    }
    /* One core is left to drawing and the display server: OpenMP workers
     * that spin between steps would otherwise take it (on 2 cores, frames
     * and ticks both drop several-fold). */
    int procs = omp_get_num_procs();
    v->omp_threads = v->threads > 0 ? v->threads : procs > 1 ? procs - 1 : 1;
    omp_set_num_threads(v->omp_threads); /* this thread's; sim_main sets its own */
    /* The session: a headless run's folder, CSV and manifest, no
     * snapshots or checkpoints; the model the scenario's. */
    bs_run_state *rs = &S->rs;
    snprintf(rs->version, sizeof rs->version, "%s", BS_VERSION);
    snprintf(rs->commit, sizeof rs->commit, "%s", BS_GIT_COMMIT);
    snprintf(rs->scenario_arg, sizeof rs->scenario_arg, "%s", v->scenario_arg);
    snprintf(rs->scenario_path, sizeof rs->scenario_path, "%s", v->scenario_path);
    snprintf(rs->scenario, sizeof rs->scenario, "%s", v->scenario);
    snprintf(S->outdir, sizeof S->outdir, "%s", v->outdir);
    S->classes = v->classes;
    S->no_png = 1;
    S->quiet = 1;
    S->threads = v->omp_threads;
    st = bs_model_create(&S->m, S->ps, v->classes, err);
    if (st == BS_OK) st = bs_session_folder(S, v->force, 0, err);
    if (st == BS_OK) st = bs_session_csv_new(S, v->force, err);
    if (st != BS_OK) return st;
    session_started(v);
    char log_path[4200];
    snprintf(log_path, sizeof log_path, "%s/actions.log", v->outdir);
    st = bs_session_log_open(S, log_path, v->scenario_arg, v->sets, v->nsets, err);
    if (st != BS_OK) return st;

    /* Sliders named in the scenario (viewer.sliders), ranges from the registry. */
    char list[1100];
    snprintf(list, sizeof list, "%s", bs_param_str(v->ps, "viewer.sliders"));
    char *save = NULL;
    for (char *tok = strtok_r(list, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save)) {
        long idx = bs_registry_find(v->reg, tok);
        if (idx < 0)
            return bs_fail(err, BS_ERR_INVALID,
                    "%s: viewer.sliders names '%s', which is not a parameter (see "
                    "bonesim params)",
                    v->scenario_path, tok);
        const bs_param_def *d = bs_registry_at(v->reg, (size_t)idx);
        if (d->type != BS_PT_REAL && d->type != BS_PT_INT)
            return bs_fail(err, BS_ERR_INVALID,
                    "%s: viewer.sliders: %s is not a number (valid: real or integer "
                    "parameters)",
                    v->scenario_path, tok);
        if (v->nsl == MAX_SLIDERS)
            return bs_fail(err, BS_ERR_INVALID, "%s: viewer.sliders lists more than %d parameters", v->scenario_path,
                    MAX_SLIDERS);
        slider *s = &v->sl[v->nsl++];
        snprintf(s->name, sizeof s->name, "%s", tok);
        s->min = d->min;
        s->max = d->max;
        s->is_int = d->type == BS_PT_INT;
        /* A registry range is often wide (0 .. 1e3); a slider over it
         * would be useless near the default: cap at 10x the value. */
        double cur = bs_param(v->ps, tok);
        if (cur > 0.0 && s->max > 10.0 * cur) s->max = 10.0 * cur;
        if (!(s->max > s->min)) s->max = s->min + 1.0;
        /* Only what bs_model_set_param may change live (setting the current
         * value is a no-op that says so). */
        bs_error e3;
        if (bs_model_set_param(v->m, tok, cur, &e3) != BS_OK)
            return bs_fail(err, BS_ERR_INVALID, "%s: viewer.sliders: %s", v->scenario_path, e3.msg);
    }
    /* The plot's dormant / proliferating lines: states of the tumour type by name. */
    v->split_type = bs_celltype_find("dtc");
    v->split_state[0] = v->split_state[1] = -1;
    if (v->split_type >= 0) {
        const bs_celltype *d = bs_celltype_of(v->split_type);
        for (int k = 0; k < d->n_states && k < BS_MAX_STATES; k++) {
            if (d->state_names[k] && strcmp(d->state_names[k], "dormant") == 0) v->split_state[0] = k;
            if (d->state_names[k] && strcmp(d->state_names[k], "proliferating") == 0) v->split_state[1] = k;
        }
        if (v->split_state[0] < 0 || v->split_state[1] < 0) v->split_type = -1;
    }
    /* The region of interest the Z key frames (viewer.roi_um: x0, y0, x1, y1). */
    const char *roi = bs_param_str(v->ps, "viewer.roi_um");
    v->roi_um[0] = v->roi_um[1] = v->roi_um[2] = v->roi_um[3] = 0.0;
    if (roi && roi[0]) {
        double q[4];
        char tail;
        double W = v->m->lat.w * v->m->lat.h_um, H = v->m->lat.h * v->m->lat.h_um;
        if (sscanf(roi, " %lf , %lf , %lf , %lf %c", &q[0], &q[1], &q[2], &q[3], &tail) != 4 || !(q[2] > q[0]) ||
                !(q[3] > q[1]) || q[0] < 0 || q[1] < 0 || q[2] > W || q[3] > H)
            return bs_fail(err, BS_ERR_INVALID,
                    "%s: viewer.roi_um '%s' (valid: x0, y0, x1, y1 in um with 0 <= x0 < x1 <= %.0f and "
                    "0 <= y0 < y1 <= %.0f)",
                    v->scenario_path, roi, W, H);
        memcpy(v->roi_um, q, sizeof q);
    }
    /* The story file beside the scenario (or --story-file): its plot
     * series and notes whenever it is there, its beats with --story. A
     * story file with an error is refused, --story or not. */
    v->ev = calloc(1, sizeof *v->ev);
    v->kept = calloc(MAX_KEPT_ACTIONS, sizeof *v->kept);
    if (!v->ev || !v->kept) return bs_fail(err, BS_ERR_NOMEM, "out of memory");
    st = bs_events_init(v->ev, v->m, err);
    if (st != BS_OK) return st;
    char spath[4200];
    if (v->story_file_opt)
        snprintf(spath, sizeof spath, "%s", v->story_file_opt);
    else
        bs_story_path_for(v->scenario_path, spath, sizeof spath);
    v->beat = -1;
    v->rewind_to = -1;
    if (v->story_file_opt || bs_path_exists(spath)) {
        v->story = calloc(1, sizeof *v->story);
        if (!v->story) return bs_fail(err, BS_ERR_NOMEM, "out of memory");
        st = bs_story_load(spath, v->m->lat.w * v->m->lat.h_um, v->m->lat.h * v->m->lat.h_um, v->story, err);
        if (st != BS_OK) return st;
        v->have_story = 1;
        v->nhist = 0;
        hist_sample(v); /* the first sample again, now with the story's series */
    } else if (v->story_opt) {
        return bs_fail(err, BS_ERR_INVALID,
                "%s has no story: --story plays %s (see docs/viewer.md for the format; stories ship for "
                "metastasis, vicious_cycle, dormancy_wakeup, immune_surveillance, zoledronic_acid, "
                "denosumab_rebound, radiotherapy, anti_pd1)",
                v->scenario, spath);
    }
    if (v->story_opt && v->story->nbeats == 0)
        return bs_fail(err, BS_ERR_INVALID, "%s: --story: the file has no [beat]", spath);
    v->story_on = v->story_opt;
    if (v->story_on) v->show_key = 0; /* the view is the story's; G shows the tissue key */
    if (v->story_on && v->story->speed > 0) v->speed = speed_index(v->story->speed);
    return BS_OK;
}

/* The arm beside (--beside, --beside-set): scenario B (or this one) with
 * the same --set options and the extra ones, on the same seed; the same
 * lattice and time step (so one clock and one zoom serve both); its own
 * session folder DIR/beside with its CSV. */
static bs_status session_open_beside(viewer *v, bs_error *err)
{
    if (!v->beside_opt && v->nbsets == 0) return BS_OK;
    bs_cli_opts o;
    memset(&o, 0, sizeof o);
    o.pos[0] = v->beside_opt ? v->beside_opt : v->scenario_arg;
    o.npos = 1;
    if (v->nsets + v->nbsets > BS_CLI_MAX_SETS)
        return bs_fail(err, BS_ERR_INVALID, "too many --set and --beside-set options (at most %d)", BS_CLI_MAX_SETS);
    for (int k = 0; k < v->nsets; k++) o.sets[o.nsets++] = v->sets[k];
    for (int k = 0; k < v->nbsets; k++) o.sets[o.nsets++] = v->bsets[k];
    o.days = o.csv_every = o.png_every = o.ckpt_every = o.max_memory_mb = -1.0;
    o.seed = v->seed;
    bs_session *S = &v->SB;
    char path[4096], name[256];
    bs_status st = bs_resolve_params(&o, &S->reg, &S->ps, path, sizeof path, err);
    if (st == BS_OK) st = bs_check_intervals(&o, S->ps, -1.0, path, err);
    if (st != BS_OK) return st;
    bs_scenario_name(path, name, sizeof name);
    if (strcmp(bs_param_str(S->ps, "geometry.source"), "mask") == 0)
        return bs_fail(
                err, BS_ERR_INVALID, "--beside: %s uses a mask geometry, which the arm beside does not support", name);
    size_t k = (size_t)snprintf(v->b_label, sizeof v->b_label, "B: %s", name);
    for (int i = 0; i < v->nbsets && k < sizeof v->b_label; i++)
        k += (size_t)snprintf(v->b_label + k, sizeof v->b_label - k, " %s", v->bsets[i]);
    bs_run_state *rs = &S->rs;
    snprintf(rs->version, sizeof rs->version, "%s", BS_VERSION);
    snprintf(rs->commit, sizeof rs->commit, "%s", BS_GIT_COMMIT);
    snprintf(rs->scenario_arg, sizeof rs->scenario_arg, "%s", o.pos[0]);
    snprintf(rs->scenario_path, sizeof rs->scenario_path, "%s", path);
    snprintf(rs->scenario, sizeof rs->scenario, "%s", name);
    snprintf(v->b_outdir, sizeof v->b_outdir, "%s/beside", v->outdir);
    if (strlen(v->b_outdir) >= sizeof S->outdir)
        return bs_fail(err, BS_ERR_INVALID, "--beside: the session folder path is too long");
    memcpy(S->outdir, v->b_outdir, strlen(v->b_outdir) + 1);
    S->no_png = 1;
    S->quiet = 1;
    S->threads = v->omp_threads;
    st = bs_model_create(&S->m, S->ps, NULL, err);
    if (st != BS_OK) return st;
    const bs_model *a = v->m, *b = S->m;
    if (a->lat.w != b->lat.w || a->lat.h != b->lat.h || a->lat.h_um != b->lat.h_um || a->dt_h != b->dt_h)
        return bs_fail(err, BS_ERR_INVALID,
                "--beside: %s is %dx%d sites of %g um with steps of %g h, %s %dx%d of %g um with %g h (valid: the "
                "same lattice and time step, so one clock and one zoom serve both)",
                v->scenario, a->lat.w, a->lat.h, a->lat.h_um, a->dt_h, name, b->lat.w, b->lat.h, b->lat.h_um, b->dt_h);
    st = bs_session_folder(S, 1, 0, err);
    if (st == BS_OK) st = bs_session_csv_new(S, 1, err);
    if (st != BS_OK) return st;
    v->beside = 1;
    v->bone0_b_um2 = bs_lattice_bone_area_um2(&b->lat);
    v->nhist = 0;
    hist_sample(v);
    return BS_OK;
}

/* Applies a live action now and logs it (a reset: a fresh model). */
static void live_action(viewer *v, bs_action *a)
{
    bs_error err;
    if (bs_session_apply(&v->S, a, &err) != BS_OK) {
        set_msg(v, "%s", err.msg);
        return;
    }
    v->img_dirty = 1;
    if (a->kind != BS_ACT_RESET && a->kind != BS_ACT_END && v->kept && v->nkept < MAX_KEPT_ACTIONS)
        v->kept[v->nkept++] = *a;
}

static void do_reset(viewer *v, long long seed)
{
    bs_action a;
    memset(&a, 0, sizeof a);
    a.kind = BS_ACT_RESET;
    a.value = (double)seed;
    bs_error err;
    if (bs_session_apply(&v->S, &a, &err) != BS_OK) {
        session_sync(v);
        set_msg(v, "reset failed: %s", err.msg);
        return;
    }
    if (v->beside) {
        bs_action ab = a;
        if (bs_session_apply(&v->SB, &ab, &err) != BS_OK) {
            set_msg(v, "reset of the arm beside failed: %s", err.msg);
            v->beside = 0;
        }
    }
    /* The model was rebuilt from the scenario's parameters: the sliders,
     * which read the model's, are back at the scenario's values. */
    session_started(v);
    v->playing = 0;
    v->nkept = 0;
    v->kept_next = 0;
    v->beat = -1;
    v->rewind_to = -1;
    v->hl_nhl = 0;
    set_msg(v, "reset: day 0, seed %lld", seed);
}

/* Backspace: back to the beat before the one shown, by a replay from day 0
 * on the same seed with the live changes made before it (deterministic:
 * the same state as when the beat first fired); from the first beat, back
 * to the title. */
static void story_back(viewer *v)
{
    if (!v->story_on || v->rewind_to >= 0 || v->beat < 0) return;
    int target = v->beat - 1, speed = v->speed, nkept = v->nkept;
    bs_action *keep = NULL;
    if (target >= 0 && nkept > 0) {
        keep = malloc((size_t)nkept * sizeof *keep);
        if (keep) memcpy(keep, v->kept, (size_t)nkept * sizeof *keep);
    }
    uint64_t step_t = target >= 0 ? v->beat_step[target] : 0;
    double day_t = target >= 0 ? v->beat_day[target] : 0.0;
    do_reset(v, v->seed);
    if (target < 0) {
        free(keep);
        v->speed = speed;
        set_msg(v, "story: back to the start (day 0, seed %lld)", v->seed);
        return;
    }
    if (keep) {
        memcpy(v->kept, keep, (size_t)nkept * sizeof *keep);
        v->nkept = nkept;
        free(keep);
    }
    v->kept_next = 0;
    v->beat = target - 1;
    v->beat_step[target] = step_t;
    v->beat_day[target] = day_t;
    v->rewind_to = target;
    v->rewind_speed = speed;
    v->speed = N_SPEEDS - 1;
    v->playing = 1;
    set_msg(v, "story: going back to beat %d (day %.1f), replayed from day 0 on seed %lld", target + 1, day_t, v->seed);
}

/* The end: the last step's outputs, `end` in the log, the manifest. */
static void session_close(viewer *v)
{
    bs_error err;
    bs_session *S = &v->S;
    if (S->m && S->out.csv) {
        if (bs_session_outputs(S, 1, &err) != BS_OK) fprintf(stderr, "bonesim: %s\n", err.msg);
        bs_action a;
        memset(&a, 0, sizeof a);
        a.kind = BS_ACT_END;
        if (bs_session_apply(S, &a, &err) != BS_OK) fprintf(stderr, "bonesim: %s\n", err.msg);
        S->days = bs_model_time_days(S->m);
        if (bs_session_finish(S, &err) != BS_OK) fprintf(stderr, "bonesim: %s\n", err.msg);
    }
    if (S->live_log) fclose(S->live_log);
    S->live_log = NULL;
    if (v->beside && v->SB.m && v->SB.out.csv) {
        if (bs_session_outputs(&v->SB, 1, &err) != BS_OK) fprintf(stderr, "bonesim: %s\n", err.msg);
        v->SB.days = bs_model_time_days(v->SB.m);
        if (bs_session_finish(&v->SB, &err) != BS_OK) fprintf(stderr, "bonesim: %s\n", err.msg);
    }
}

/* ---- text ------------------------------------------------------------------------ */

static const char *const FONT_CANDIDATES[] = {
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", /* Debian/Ubuntu fonts-dejavu-core */
    "/usr/share/fonts/dejavu/DejaVuSans.ttf", /* Fedora */
    "/usr/share/fonts/TTF/DejaVuSans.ttf", /* Arch */
    "/usr/local/share/fonts/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/freefont/FreeSans.ttf",
};

static int find_font(viewer *v, char *err, size_t n)
{
    const char *env = getenv("BONESIM_FONT");
    const char *want = v->font_opt ? v->font_opt : env && *env ? env : NULL;
    if (want) {
        FILE *f = fopen(want, "rb");
        if (!f) {
            snprintf(err, n, "font %s cannot be read (%s)", want, strerror(errno));
            return -1;
        }
        fclose(f);
        snprintf(v->font_path, sizeof v->font_path, "%s", want);
        return 0;
    }
    size_t k = 0;
    char tried[2048] = "";
    for (size_t i = 0; i < sizeof FONT_CANDIDATES / sizeof FONT_CANDIDATES[0]; i++) {
        FILE *f = fopen(FONT_CANDIDATES[i], "rb");
        if (f) {
            fclose(f);
            snprintf(v->font_path, sizeof v->font_path, "%s", FONT_CANDIDATES[i]);
            return 0;
        }
        k += (size_t)snprintf(
                tried + k, k < sizeof tried ? sizeof tried - k : 0, "%s%s", i ? ", " : "", FONT_CANDIDATES[i]);
    }
    snprintf(err, n,
            "no TrueType font found (tried %s); install the Debian package fonts-dejavu-core "
            "(apt-get install fonts-dejavu-core), or pass --font FILE.ttf or set BONESIM_FONT",
            tried);
    return -1;
}

static void cache_clear(viewer *v)
{
    for (int i = 0; i < TEXT_CACHE; i++)
        if (v->cache[i].tex) SDL_DestroyTexture(v->cache[i].tex);
    memset(v->cache, 0, sizeof v->cache);
}

/* Opens the fonts at the size the window height and UI scale ask for:
 * 24 px at 1080p and scale 1. */
static int open_fonts(viewer *v, char *err, size_t n)
{
    int h = 0;
    SDL_GetRendererOutputSize(v->ren, NULL, &h);
    int px = (int)lround(24.0 * v->ui_scale * (h > 0 ? h : 900) / 1080.0);
    /* presentation: at least 28 px at 1080p, whatever the UI scale */
    int pmin = (int)ceil(28.0 * (h > 0 ? h : 900) / 1080.0);
    if (v->present && px < pmin) px = pmin;
    if (px < 12) px = 12;
    if (px == v->font_px && v->font) return 0;
    cache_clear(v);
    if (v->font) TTF_CloseFont(v->font);
    if (v->big) TTF_CloseFont(v->big);
    v->font = TTF_OpenFont(v->font_path, px);
    v->big = TTF_OpenFont(v->font_path, 2 * px);
    if (!v->font || !v->big) {
        snprintf(err, n, "font %s: %s", v->font_path, TTF_GetError());
        return -1;
    }
    v->font_px = px;
    return 0;
}

static uint64_t text_key(const char *s, int big, const uint8_t c[3])
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++) h = (h ^ (uint8_t)*s) * 1099511628211ULL;
    h = (h ^ (uint64_t)big) * 1099511628211ULL;
    h = (h ^ ((uint64_t)c[0] << 16 | (uint64_t)c[1] << 8 | c[2])) * 1099511628211ULL;
    return h | 1;
}

static text_entry *text_get(viewer *v, const char *s, int big, const uint8_t c[3])
{
    if (!s[0]) return NULL;
    uint64_t key = text_key(s, big, c);
    int i0 = (int)(key % TEXT_CACHE);
    for (int p = 0; p < TEXT_CACHE; p++) {
        text_entry *e = &v->cache[(i0 + p) % TEXT_CACHE];
        if (e->key == key) {
            e->used = v->frame;
            return e;
        }
        if (!e->key) {
            SDL_Color col = { c[0], c[1], c[2], 255 };
            SDL_Surface *surf = TTF_RenderUTF8_Blended(big ? v->big : v->font, s, col);
            if (!surf) return NULL;
            e->tex = SDL_CreateTextureFromSurface(v->ren, surf);
            e->w = surf->w;
            e->h = surf->h;
            SDL_FreeSurface(surf);
            if (!e->tex) return NULL;
            e->key = key;
            e->used = v->frame;
            return e;
        }
    }
    return NULL;
}

/* Drops textures not used in the last frames; rebuilds the table. */
static void cache_sweep(viewer *v)
{
    int n_live = 0;
    for (int i = 0; i < TEXT_CACHE; i++) n_live += v->cache[i].key != 0;
    if (n_live < TEXT_CACHE / 2) return;
    text_entry keep[TEXT_CACHE];
    int nk = 0;
    for (int i = 0; i < TEXT_CACHE; i++) {
        text_entry *e = &v->cache[i];
        if (!e->key) continue;
        if (e->used >= v->frame - 1)
            keep[nk++] = *e;
        else
            SDL_DestroyTexture(e->tex);
    }
    memset(v->cache, 0, sizeof v->cache);
    for (int k = 0; k < nk; k++) {
        int i = (int)(keep[k].key % TEXT_CACHE);
        while (v->cache[i].key) i = (i + 1) % TEXT_CACHE;
        v->cache[i] = keep[k];
    }
}

/* Draws s with its top-left at (x, y); align 0 left, 1 right (x is the
 * right edge), 2 centred. Returns the width. */
static int text_at(viewer *v, int x, int y, const uint8_t c[3], int big, int align, const char *s)
{
    text_entry *e = text_get(v, s, big, c);
    if (!e) return 0;
    SDL_Rect r = { align == 1 ? x - e->w : align == 2 ? x - e->w / 2 : x, y, e->w, e->h };
    SDL_RenderCopy(v->ren, e->tex, NULL, &r);
    return e->w;
}

static int textf(viewer *v, int x, int y, const uint8_t c[3], int big, const char *fmt, ...)
        __attribute__((format(printf, 6, 7)));
static int textf(viewer *v, int x, int y, const uint8_t c[3], int big, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    return text_at(v, x, y, c, big, 0, buf);
}

static int text_w(viewer *v, const char *s, int big)
{
    int w = 0, h = 0;
    TTF_SizeUTF8(big ? v->big : v->font, s, &w, &h);
    return w;
}

static void fill(viewer *v, int x, int y, int w, int h, const uint8_t c[3], uint8_t alpha)
{
    SDL_SetRenderDrawBlendMode(v->ren, alpha == 255 ? SDL_BLENDMODE_NONE : SDL_BLENDMODE_BLEND);
    SDL_SetRenderDrawColor(v->ren, c[0], c[1], c[2], alpha);
    SDL_Rect r = { x, y, w, h };
    SDL_RenderFillRect(v->ren, &r);
}

static void outline(viewer *v, int x, int y, int w, int h, const uint8_t c[3], int t)
{
    fill(v, x, y, w, t, c, 255);
    fill(v, x, y + h - t, w, t, c, 255);
    fill(v, x, y, t, h, c, 255);
    fill(v, x + w - t, y, t, h, c, 255);
}

/* The right panel as blocks that flow into columns: the cell legend (a
 * type with all its states is one block), the therapies, the sliders. A
 * larger UI scale adds columns (the panel widens, the view gives way);
 * nothing is left out. */
enum { PB_HEAD_CELLS, PB_TYPE, PB_HEAD_THER, PB_THER, PB_HEAD_SL, PB_SL };
typedef struct {
    int kind, idx, h, col, y;
} pblock;
#define MAX_PBLOCKS (2 * BS_MAX_CELL_TYPES + BS_THERAPY_COUNT + MAX_SLIDERS + 4)

static int type_states(const bs_celltype *d)
{
    return d->n_states < 1 ? 1 : d->n_states > BS_MAX_STATES ? BS_MAX_STATES : d->n_states;
}

/* Fills b with the panel's blocks placed in columns of height avail from
 * y0; returns the number of blocks; *ncols the columns used. */
static int panel_blocks(const viewer *v, int F, int pad, int y0, int avail, pblock *b, int *ncols)
{
    int n = 0, row = F * 3 / 2;
    b[n++] = (pblock){ PB_HEAD_CELLS, 0, row, 0, 0 };
    for (int ty = 0; ty < bs_celltype_count(); ty++) {
        int ns = type_states(bs_celltype_of(ty));
        b[n++] = (pblock){ PB_TYPE, ty, F * 4 / 3 + (ns > 1 ? ns * (F * 6 / 5) : 0), 0, 0 };
    }
    b[n++] = (pblock){ PB_HEAD_THER, 0, pad + row, 0, 0 };
    for (int k = 0; k < BS_THERAPY_COUNT; k++) b[n++] = (pblock){ PB_THER, k, F * 5 / 4, 0, 0 };
    if (v->nsl > 0) b[n++] = (pblock){ PB_HEAD_SL, 0, pad + row, 0, 0 };
    for (int k = 0; k < v->nsl; k++) b[n++] = (pblock){ PB_SL, k, F * 6 / 5 + F, 0, 0 };
    int col = 0, y = y0;
    for (int i = 0; i < n; i++) {
        /* a heading stays with its first row */
        int need = b[i].h +
                ((b[i].kind == PB_HEAD_CELLS || b[i].kind == PB_HEAD_THER || b[i].kind == PB_HEAD_SL) && i + 1 < n
                                ? b[i + 1].h
                                : 0);
        if (y > y0 && y + need > y0 + avail) {
            col++;
            y = y0;
        }
        b[i].col = col;
        b[i].y = y;
        y += b[i].h;
    }
    *ncols = col + 1;
    return n;
}

/* A panel column: as wide as its widest row (name + count, therapy +
 * "off", slider name + value) and a margin. */
static int panel_col_w(viewer *v, int F)
{
    int w = text_w(v, "cells  (Tab: inject type)", 0), cnt = text_w(v, "000000", 0), sw = F * 4 / 5;
    for (int ty = 0; ty < bs_celltype_count(); ty++) {
        const bs_celltype *d = bs_celltype_of(ty);
        int a = sw + F / 2 + text_w(v, d->plural ? d->plural : d->name, 0) + cnt + F / 2;
        if (a > w) w = a;
        for (int st = 0; st < type_states(d) && d->n_states > 1; st++) {
            int b2 = F + sw + F / 2 + text_w(v, d->state_names[st] ? d->state_names[st] : "?", 0) + cnt;
            if (b2 > w) w = b2;
        }
    }
    for (int k = 0; k < BS_THERAPY_COUNT; k++) {
        char b[96];
        snprintf(b, sizeof b, "F%d %s  off", k + 2, bs_therapy_names[k]);
        int a = text_w(v, b, 0);
        if (a > w) w = a;
    }
    for (int k = 0; k < v->nsl; k++) {
        int a = text_w(v, v->sl[k].name, 0) + text_w(v, "  0.000", 0);
        if (a > w) w = a;
    }
    return w + 2 * F;
}

/* ---- layout ------------------------------------------------------------------------ */

typedef struct {
    int W, H, F; /* window, font px */
    int pad, row;
    int panel_avail; /* the panel's column height */
    SDL_Rect top, panel, plot, view;
} layout;

static void compute_layout(viewer *v, layout *L)
{
    SDL_GetRendererOutputSize(v->ren, &L->W, &L->H);
    L->F = v->font_px;
    L->pad = L->F / 2;
    L->row = L->F * 3 / 2;
    /* The top bar spans the window's width (the day, the clock, the seed,
     * frame rate, scenario and view all fit at any UI scale), tall enough
     * for the big day count and two lines of text beside it. */
    int two_lines = L->F / 3 + L->F * 6 / 5 + TTF_FontHeight(v->font);
    int top_h = (TTF_FontHeight(v->big) > two_lines ? TTF_FontHeight(v->big) : two_lines) + L->pad;
    L->top = (SDL_Rect){ 0, 0, L->W, top_h };
    /* The plot spans the window's width at the bottom; presentation gives
     * the lattice more room (>= 70 % of the height). */
    int plot_h = L->H * (v->present ? 16 : 22) / 100;
    L->plot = (SDL_Rect){ 0, L->H - plot_h, L->W, plot_h };
    /* The panel between them: as many columns as its blocks need above the
     * message line, balanced (the shortest height that keeps that number
     * of columns); at most half the window wide. */
    int full = L->H - top_h - plot_h - 2 * L->pad - L->row - L->pad;
    pblock pb[MAX_PBLOCKS];
    int ncols = 1, nc2 = 1;
    panel_blocks(v, L->F, L->pad, top_h + L->pad, full, pb, &ncols);
    L->panel_avail = full;
    for (int a = full / ncols; a<full; a += L->F / 2> 1 ? L->F / 2 : 1) {
        panel_blocks(v, L->F, L->pad, top_h + L->pad, a, pb, &nc2);
        if (nc2 <= ncols) {
            L->panel_avail = a;
            break;
        }
    }
    int panel_w = ncols * panel_col_w(v, L->F);
    if (panel_w > L->W / 2) panel_w = L->W / 2;
    L->panel = (SDL_Rect){ L->W - panel_w, top_h, panel_w, L->H - top_h - plot_h };
    L->view = (SDL_Rect){ 0, top_h, L->W - panel_w, L->H - top_h - plot_h };
    if (v->beside) {
        /* two pictures side by side, a label row above each */
        int gap = L->pad, lab = L->row;
        int hw = (L->view.w - gap) / 2;
        v->view_b = (SDL_Rect){ L->view.x + hw + gap, top_h + lab, L->view.w - hw - gap, L->view.h - lab };
        L->view = (SDL_Rect){ L->view.x, top_h + lab, hw, L->view.h - lab };
    }
    v->view = L->view;
}

/* Image scale that fills the view (unless --px): the renderer draws whole
 * image pixels per site, the view scales that image by any real factor so
 * the lattice fills the view's shorter side; centred. */
static void fit_view(viewer *v)
{
    if (v->px_opt <= 0) {
        int s = v->view.w / v->m->lat.w, s2 = v->view.h / v->m->lat.h;
        if (s2 < s) s = s2;
        s = s < 1 ? 1 : s > 16 ? 16 : s;
        if (s != v->px) {
            v->px = s;
            v->img_dirty = 1;
        }
    }
    int lw = v->m->lat.w * v->px, lh = v->m->lat.h * v->px;
    double z = v->view.w / (double)lw, z2 = v->view.h / (double)lh;
    if (z2 < z) z = z2;
    v->zoom = z > 0 ? z : 1.0;
    v->pan_x = (lw - v->view.w / v->zoom) / 2.0;
    v->pan_y = (lh - v->view.h / v->zoom) / 2.0;
}

/* The region of interest in sites (x0, y0, x1, y1, inclusive): the
 * scenario's viewer.roi_um when it names one, else the bounding box of the
 * tumour cells (the lesion), else the whole lattice. Returns 1 for a
 * lesion or a declared region, 0 for the whole lattice. */
static int region_of_interest(const viewer *v, int r[4])
{
    const bs_lattice *lat = &v->m->lat;
    if (v->roi_um[2] > v->roi_um[0]) {
        for (int k = 0; k < 4; k++) r[k] = (int)floor(v->roi_um[k] / lat->h_um);
        return 1;
    }
    int dtc = bs_celltype_find("dtc");
    const bs_store *st = &v->m->store;
    int x0 = lat->w, y0 = lat->h, x1 = -1, y1 = -1;
    if (dtc >= 0)
        for (int y = 0; y < lat->h; y++)
            for (int x = 0; x < lat->w; x++) {
                int slot = st->occ[(size_t)y * (size_t)lat->w + (size_t)x];
                if (slot < 0 || st->type[slot] != dtc) continue;
                if (x < x0) x0 = x;
                if (x > x1) x1 = x;
                if (y < y0) y0 = y;
                if (y > y1) y1 = y;
            }
    if (x1 < 0) {
        r[0] = r[1] = 0;
        r[2] = lat->w - 1;
        r[3] = lat->h - 1;
        return 0;
    }
    r[0] = x0;
    r[1] = y0;
    r[2] = x1;
    r[3] = y1;
    return 1;
}

/* Frames the region of interest: a margin of a quarter of its size, at
 * least ROI_MIN_SITES across, never beyond the whole lattice's fit. With
 * smooth != 0 the view moves a fifth of the way (following); else jumps. */
#define ROI_MIN_SITES 40
static void frame_rect(viewer *v, const int r[4], int smooth)
{
    double cx = (r[0] + r[2] + 1) / 2.0, cy = (r[1] + r[3] + 1) / 2.0;
    double bw = (r[2] - r[0] + 1) * 1.5, bh = (r[3] - r[1] + 1) * 1.5;
    if (bw < ROI_MIN_SITES) bw = ROI_MIN_SITES;
    if (bh < ROI_MIN_SITES) bh = ROI_MIN_SITES;
    /* a story's caption covers the top of the view: frame below it */
    int top = v->story_on && v->cap_h > 0 && v->cap_h < v->view.h / 2 ? v->cap_h : 0;
    double vh = v->view.h - top, cyo = top + vh / 2.0;
    double z = v->view.w / (bw * v->px), z2 = vh / (bh * v->px);
    if (z2 < z) z = z2;
    int lw = v->m->lat.w * v->px, lh = v->m->lat.h * v->px;
    double zfit = fmin(v->view.w / (double)lw, v->view.h / (double)lh);
    if (z < zfit) z = zfit;
    double px_ = cx * v->px - v->view.w / 2.0 / z, py_ = cy * v->px - cyo / z;
    if (smooth) {
        /* centre and zoom move a fifth of the way per frame */
        double a = 0.2, ccx = v->pan_x + v->view.w / 2.0 / v->zoom, ccy = v->pan_y + cyo / v->zoom;
        ccx += a * (cx * v->px - ccx);
        ccy += a * (cy * v->px - ccy);
        v->zoom += a * (z - v->zoom);
        v->pan_x = ccx - v->view.w / 2.0 / v->zoom;
        v->pan_y = ccy - cyo / v->zoom;
    } else {
        v->zoom = z;
        v->pan_x = px_;
        v->pan_y = py_;
    }
}

static void frame_roi(viewer *v, int smooth)
{
    int r[4];
    region_of_interest(v, r);
    frame_rect(v, r, smooth);
}

/* The busiest open remodelling unit (the most bone resorbed so far) as a
 * box of sites around its origin; 0 when none is open. */
static int busiest_bmu(const viewer *v, int r[4])
{
    static bs_bmu_event evs[4096];
    size_t n = bs_bmu_events(v->m, evs, sizeof evs / sizeof evs[0], 1);
    if (n > sizeof evs / sizeof evs[0]) n = sizeof evs / sizeof evs[0];
    int best = -1;
    double most = -1.0;
    for (size_t k = 0; k < n; k++)
        if (!evs[k].done && evs[k].resorbed_um2 > most) {
            most = evs[k].resorbed_um2;
            best = (int)k;
        }
    if (best < 0) return 0;
    int x = evs[best].origin % v->m->lat.w, y = evs[best].origin / v->m->lat.w;
    r[0] = x - 12;
    r[1] = y - 12;
    r[2] = x + 12;
    r[3] = y + 12;
    return 1;
}

/* A beat's region: framed once when it fires (the lesion: followed). */
static void story_frame(viewer *v)
{
    const bs_story_beat *b = &v->story->beat[v->beat];
    double h = v->m->lat.h_um;
    int r[4];
    switch (b->view) {
    case BS_SV_WHOLE: {
        /* the whole lattice, in the part of the view below the caption */
        v->follow = 0;
        fit_view(v);
        int top = v->cap_h > 0 && v->cap_h < v->view.h / 2 ? v->cap_h : 0;
        int lw = v->m->lat.w * v->px, lh = v->m->lat.h * v->px;
        double z = fmin(v->view.w / (double)lw, (v->view.h - top) / (double)lh);
        if (z > 0) {
            v->zoom = z;
            v->pan_x = (lw - v->view.w / z) / 2.0;
            v->pan_y = lh / 2.0 - (top + (v->view.h - top) / 2.0) / z;
        }
        break;
    }
    case BS_SV_LESION:
        v->follow = 1;
        frame_roi(v, 0);
        break;
    case BS_SV_BMU:
        v->follow = 0;
        if (busiest_bmu(v, r))
            frame_rect(v, r, 0);
        else
            set_msg(v, "story: no remodelling unit is open now; the view stays");
        break;
    case BS_SV_POINT:
    case BS_SV_BOX: {
        double x0 = b->view == BS_SV_POINT ? b->vq[0] - b->vq[2] / 2 : b->vq[0],
               y0 = b->view == BS_SV_POINT ? b->vq[1] - b->vq[2] / 2 : b->vq[1],
               x1 = b->view == BS_SV_POINT ? b->vq[0] + b->vq[2] / 2 : b->vq[2],
               y1 = b->view == BS_SV_POINT ? b->vq[1] + b->vq[2] / 2 : b->vq[3];
        /* frame_rect adds a margin of half the box: ask for two thirds */
        double cx = (x0 + x1) / 2 / h, cy = (y0 + y1) / 2 / h, hw = (x1 - x0) / h / 3, hh = (y1 - y0) / h / 3;
        r[0] = (int)floor(cx - hw);
        r[1] = (int)floor(cy - hh);
        r[2] = (int)ceil(cx + hw);
        r[3] = (int)ceil(cy + hh);
        v->follow = 0;
        frame_rect(v, r, 0);
        break;
    }
    default: break;
    }
}

/* Window pixel -> lattice site; returns 0 outside the lattice. */
static int screen_to_site(const viewer *v, int sx, int sy, int *x, int *y)
{
    if (sx < v->view.x || sy < v->view.y || sx >= v->view.x + v->view.w || sy >= v->view.y + v->view.h) return 0;
    double ix = v->pan_x + (sx - v->view.x) / v->zoom, iy = v->pan_y + (sy - v->view.y) / v->zoom;
    if (ix < 0 || iy < 0) return 0;
    int X = (int)(ix / v->px), Y = (int)(iy / v->px);
    if (X >= v->m->lat.w || Y >= v->m->lat.h) return 0;
    *x = X;
    *y = Y;
    return 1;
}

static void site_to_screen(const viewer *v, int x, int y, int *sx, int *sy)
{
    double ix = (x + 0.5) * v->px, iy = (y + 0.5) * v->px;
    *sx = v->view.x + (int)floor((ix - v->pan_x) * v->zoom);
    *sy = v->view.y + (int)floor((iy - v->pan_y) * v->zoom);
}

/* ---- the lattice image ------------------------------------------------------------ */

static bs_render_input render_input(const viewer *v)
{
    bs_render_input in = {
        .lat = &v->m->lat,
        .store = &v->m->store,
        .time_days = bs_model_time_days(v->m),
        .title = v->scenario,
        .px_per_site = v->px,
        .overlay = v->field >= 0 ? &v->m->fields[v->field] : NULL,
        .hide_agents = v->hide_agents,
        .palette = v->palette,
    };
    return in;
}

/* One arm's image into its texture. */
static int image_to_texture(viewer *v, const bs_model *m, bs_image *img, SDL_Texture **tex, int *tw, int *th,
        const char *title, char *err, size_t n)
{
    bs_render_input in = render_input(v);
    in.lat = &m->lat;
    in.store = &m->store;
    in.time_days = bs_model_time_days(m);
    in.title = title;
    in.overlay = v->field >= 0 ? &m->fields[v->field] : NULL;
    bs_error e;
    if (bs_render(&in, img, &e) != BS_OK) {
        snprintf(err, n, "%s", e.msg);
        return -1;
    }
    if (!*tex || *tw != img->w || *th != img->h) {
        if (*tex) SDL_DestroyTexture(*tex);
        *tex = SDL_CreateTexture(v->ren, SDL_PIXELFORMAT_RGB24, SDL_TEXTUREACCESS_STREAMING, img->w, img->h);
        if (!*tex) {
            snprintf(err, n, "cannot make a %dx%d texture: %s", img->w, img->h, SDL_GetError());
            return -1;
        }
        /* Nearest-neighbour: integer zoom stays crisp. */
        SDL_SetTextureScaleMode(*tex, SDL_ScaleModeNearest);
        *tw = img->w;
        *th = img->h;
    }
    SDL_UpdateTexture(*tex, NULL, img->rgb, img->w * 3);
    return 0;
}

static int update_image(viewer *v, char *err, size_t n)
{
    if (!v->img_dirty && v->tex) return 0;
    if (image_to_texture(v, v->m, &v->img, &v->tex, &v->tex_w, &v->tex_h, v->scenario, err, n) != 0) return -1;
    if (v->beside &&
            image_to_texture(v, v->SB.m, &v->img_b, &v->tex_b, &v->texb_w, &v->texb_h, v->SB.rs.scenario, err, n) != 0)
        return -1;
    v->img_dirty = 0;
    return 0;
}

/* ---- drawing ------------------------------------------------------------------------ */

static const char *field_label(int f)
{
    static const char *const labels[BS_FIELD_COUNT] = { "oxygen", "CXCL12", "RANKL", "OPG", "TGF-beta", "IFN-gamma",
        "PTHrP", "immunosuppression", "chemokines" };
    return f >= 0 && f < BS_FIELD_COUNT ? labels[f] : "tissue";
}

/* A column of two lines (top: text colour, below: dim); returns its width. */
static int top_column(viewer *v, int x, int y, int right, const uint8_t top_c[3], const char *a, const char *b)
{
    const theme *t = TH(v);
    int wa = text_w(v, a, 0), wb = text_w(v, b, 0);
    if (x + (wa > wb ? wa : wb) > right) return 0; /* no room (narrower than any shipped layout) */
    int w1 = text_at(v, x, y, top_c, 0, 0, a);
    int w2 = text_at(v, x, y + v->font_px * 6 / 5, t->dim, 0, 0, b);
    return w1 > w2 ? w1 : w2;
}

static void draw_top(viewer *v, const layout *L)
{
    const theme *t = TH(v);
    fill(v, L->top.x, L->top.y, L->top.w, L->top.h, t->panel, 255);
    int x = L->pad * 2, y = L->pad, gap = 3 * L->F / 2;
    /* Reserve the width of a long day count so the columns do not jump. */
    int dw = textf(v, x, y, t->text, 1, "Day %.1f", bs_model_time_days(v->m)), dmin = text_w(v, "Day 0000.0", 1);
    x += (dw > dmin ? dw : dmin) + gap;
    int y2 = y + L->F / 3;
    char a[128], b[128];
    if (SPEEDS[v->speed] < 0)
        snprintf(b, sizeof b, "speed: as fast as possible");
    else
        snprintf(b, sizeof b, "speed: %g days/s", SPEEDS[v->speed]);
    snprintf(a, sizeof a, "%s", v->playing ? "playing (Space)" : "paused (Space)");
    x += top_column(v, x, y2, L->top.w - text_w(v, "F1 keys, I info", 0) - 2 * L->pad, v->playing ? t->accent : t->text,
                 a, b) +
            gap;
    snprintf(a, sizeof a, "seed %lld", v->seed);
    if (v->playing)
        snprintf(b, sizeof b, "%.0f fps, %.2f days/s", v->fps, v->days_per_s);
    else
        snprintf(b, sizeof b, "%.0f fps, paused", v->fps);
    x += top_column(v, x, y2, L->top.w - text_w(v, "F1 keys, I info", 0) - 2 * L->pad, t->text, a, b) + gap;
    snprintf(b, sizeof b, "view: %s%s%s", field_label(v->field), v->hide_agents ? ", cells hidden" : "",
            v->recording ? "  [REC]" : "");
    x += top_column(v, x, y2, L->top.w - text_w(v, "F1 keys, I info", 0) - 2 * L->pad, t->text, v->scenario, b) + gap;
    if (x + text_w(v, "F1 keys, I info", 0) < L->top.w)
        text_at(v, L->top.w - L->pad, y2, t->dim, 0, 1, "F1 keys, I info");
}

static void swatch_marker(viewer *v, int x, int y, int s, const bs_celltype *d, int st)
{
    /* The legend swatch is the renderer's own marker colour. */
    const uint8_t *c = d->rgb[st];
    uint8_t rim[3] = { 0x14, 0x14, 0x14 };
    if (v->light_theme == 0) rim[0] = rim[1] = rim[2] = 0xF4;
    switch (d->shape[st]) {
    case BS_SHAPE_DISC:
    case BS_SHAPE_RING:
        for (int j = 0; j < s; j++) {
            double dy = j + 0.5 - s / 2.0;
            int half = (int)floor(sqrt(s * s / 4.0 - dy * dy));
            fill(v, x + s / 2 - half, y + j, 2 * half, 1, c, 255);
        }
        if (d->shape[st] == BS_SHAPE_RING) {
            const theme *t = TH(v);
            int h2 = s / 4;
            fill(v, x + s / 2 - h2, y + s / 2 - h2, 2 * h2, 2 * h2, t->panel, 255);
        }
        break;
    case BS_SHAPE_DIAMOND:
        for (int j = 0; j < s; j++) {
            int half = s / 2 - abs(j - s / 2);
            fill(v, x + s / 2 - half, y + j, 2 * half + 1, 1, c, 255);
        }
        break;
    default:
        fill(v, x, y, s, s, c, 255);
        outline(v, x, y, s, s, rim, 1);
        break;
    }
}

static void draw_panel(viewer *v, const layout *L)
{
    const theme *t = TH(v);
    const SDL_Rect *P = &L->panel;
    fill(v, P->x, P->y, P->w, P->h, t->panel, 255);
    /* Legend: every cell type and state of the registry, live counts. */
    long counts[BS_MAX_CELL_TYPES][BS_MAX_STATES];
    memset(counts, 0, sizeof counts);
    const bs_store *st = &v->m->store;
    size_t n = (size_t)st->w * (size_t)st->h;
    for (size_t i = 0; i < n; i++) {
        int slot = st->occ[i];
        if (slot < 0 || st->type[slot] >= bs_celltype_count() || st->state[slot] >= BS_MAX_STATES) continue;
        counts[st->type[slot]][st->state[slot]]++;
    }
    pblock b[MAX_PBLOCKS];
    int ncols, nb = panel_blocks(v, L->F, L->pad, P->y + L->pad, L->panel_avail, b, &ncols);
    int cw = P->w / (ncols > 0 ? ncols : 1), sw = L->F * 4 / 5;
    for (int k = 0; k < v->nsl; k++) v->sl[k].track = (SDL_Rect){ 0, 0, 0, 0 };
    v->lay_blocks_all = nb;
    v->lay_blocks = 0;
    v->lay_cols = ncols;
    for (int i = 0; i < nb; i++) {
        /* shown: inside the panel, above the message line */
        if (P->x + (b[i].col + 1) * cw <= L->W + 1 && b[i].y + b[i].h <= P->y + P->h - L->row - L->pad) v->lay_blocks++;
        int cx0 = P->x + b[i].col * cw, x = cx0 + L->pad, right = cx0 + cw - L->pad, y = b[i].y;
        if (b[i].col > 0 && b[i].y == P->y + L->pad) fill(v, cx0, P->y, 1, P->h, t->grid, 255);
        switch (b[i].kind) {
        case PB_HEAD_CELLS:
            textf(v, x, y, t->dim, 0, "cells%s  (Tab: inject type)", v->hide_agents ? " hidden" : "");
            break;
        case PB_TYPE: {
            int ty = b[i].idx;
            const bs_celltype *d = bs_celltype_of(ty);
            int ns = type_states(d);
            long total = 0;
            for (int s = 0; s < ns; s++) total += counts[ty][s];
            if (ty == v->sel_type) fill(v, cx0, y - L->F / 6, cw, L->F * 4 / 3, t->on_bg, 255);
            if (ns == 1) swatch_marker(v, x, y + L->F / 6, sw, d, 0);
            textf(v, x + sw + L->pad, y, t->text, 0, "%s", d->plural ? d->plural : d->name);
            textf(v, right - text_w(v, "000000", 0), y, t->text, 0, "%6ld", total);
            y += L->F * 4 / 3;
            if (ns > 1)
                for (int s = 0; s < ns; s++) {
                    swatch_marker(v, x + L->F, y + L->F / 6, sw, d, s);
                    textf(v, x + L->F + sw + L->pad, y, t->dim, 0, "%s", d->state_names[s] ? d->state_names[s] : "?");
                    textf(v, right - text_w(v, "000000", 0), y, t->dim, 0, "%6ld", counts[ty][s]);
                    y += L->F * 6 / 5;
                }
            break;
        }
        case PB_HEAD_THER: textf(v, x, y + L->pad, t->dim, 0, "therapies (F2-F10)"); break;
        case PB_THER: {
            int k = b[i].idx, on = bs_therapy_is_on(&v->m->therapy, (bs_therapy_id)k);
            if (on) fill(v, cx0, y - L->F / 8, cw, L->F * 5 / 4, t->on_bg, 255);
            textf(v, x, y, on ? t->text : t->dim, 0, "F%d %s", k + 2, bs_therapy_names[k]);
            text_at(v, right, y, on ? t->accent : t->dim, 0, 1, on ? "ON" : "off");
            break;
        }
        case PB_HEAD_SL: textf(v, x, y + L->pad, t->dim, 0, "parameters (drag)"); break;
        case PB_SL: {
            slider *s = &v->sl[b[i].idx];
            double val = bs_param(v->m->ps, s->name);
            textf(v, x, y, t->text, 0, "%s", s->name);
            char vb[48];
            snprintf(vb, sizeof vb, "%.3g", val);
            text_at(v, right, y, t->accent, 0, 1, vb);
            y += L->F * 6 / 5;
            s->track = (SDL_Rect){ x, y, cw - 2 * L->pad, L->F / 2 };
            fill(v, s->track.x, s->track.y + s->track.h / 3, s->track.w, s->track.h / 3 + 1, t->dim, 255);
            double fr = (val - s->min) / (s->max - s->min);
            fr = fr < 0 ? 0 : fr > 1 ? 1 : fr;
            int kx = s->track.x + (int)(fr * s->track.w);
            fill(v, kx - L->F / 4, s->track.y - L->F / 6, L->F / 2, s->track.h + L->F / 3, t->accent, 255);
            break;
        }
        default: break;
        }
    }
    /* the message line at the bottom (reserved by compute_layout) */
    int x = P->x + L->pad, y = P->y + P->h - L->row - L->pad;
    if (v->msg[0] && now_s() < v->msg_until) {
        char buf[300];
        snprintf(buf, sizeof buf, "%s", v->msg);
        /* one line, cut to the panel */
        while (strlen(buf) > 4 && text_w(v, buf, 0) > P->w - 2 * L->pad) buf[strlen(buf) - 4] = '\0';
        textf(v, x, y, t->accent, 0, "%s", buf);
    }
}

/* Event colours: new tumour cell, tumour cell gone, killed, osteoclast
 * formed, resorption, dose, fraction. */
static const uint8_t EV_RGB[BS_EV_KINDS][3] = { { 0x40, 0xFF, 0x60 }, { 0xB0, 0xB0, 0xB0 }, { 0xFF, 0x30, 0x30 },
    { 0xFF, 0x80, 0x40 }, { 0xFF, 0xD8, 0x40 }, { 0x40, 0xC0, 0xFF }, { 0xFF, 0xFF, 0x40 } };

static double plot_y_value(const viewer *v, double n)
{
    return v->log_plot ? log10(1.0 + n) : n;
}

static int story_plot(const viewer *v)
{
    return v->have_story && v->story->nseries > 0;
}

/* Colours of the story's right-axis series: bone (the text colour), then these. */
static const uint8_t SER_RGB[3][3] = { { 0x56, 0xB4, 0xE9 }, { 0xE6, 0x9F, 0x00 }, { 0xCC, 0x79, 0xA7 } };

/* The plot legend's entries: 0 the heading, 1 bone area, then the cell
 * types (and dormant / proliferating); with the story file's plot key, 0
 * the heading and then its series. The colour in c. */
static const char *plot_entry(const viewer *v, int e, uint8_t c[3])
{
    const theme *t = TH(v);
    if (e == 0) {
        memcpy(c, t->dim, 3);
        if (v->beside) return v->log_plot ? "A thick, B thin; log10(1+n) (L)" : "A thick, B thin (L: log)";
        return v->log_plot ? "cells, log10(1+n) (L)" : "cells (L: log)";
    }
    if (story_plot(v)) {
        const bs_series *q = &v->story->series[e - 1];
        if (q->kind == BS_SER_CELLS) {
            const bs_celltype *d = bs_celltype_of(q->type);
            /* all tumour cells: the proliferating colour (the first state's is the homing yellow) */
            int st = q->state >= 0                                       ? q->state
                    : q->type == v->split_type && v->split_state[1] >= 0 ? v->split_state[1]
                                                                         : 0;
            memcpy(c, d->rgb[st], 3);
        } else if (q->kind == BS_SER_BONE)
            memcpy(c, t->text, 3);
        else
            memcpy(c, SER_RGB[(q->kind - BS_SER_LEVEL) % 3], 3);
        if (v->light_theme && (2126 * c[0] + 7152 * c[1] + 722 * c[2]) / 10000 > 170)
            for (int k = 0; k < 3; k++) c[k] = (uint8_t)(c[k] * 3 / 5);
        return q->label;
    }
    if (e == 1) {
        memcpy(c, t->text, 3);
        return "- - bone, % of day 0";
    }
    int nt = bs_celltype_count();
    const bs_celltype *d = bs_celltype_of(e - 2 < nt ? e - 2 : v->split_type);
    memcpy(c, d->rgb[e - 2 < nt ? 0 : v->split_state[e - 2 - nt]], 3);
    if (v->light_theme && (2126 * c[0] + 7152 * c[1] + 722 * c[2]) / 10000 > 170)
        for (int k = 0; k < 3; k++) c[k] = (uint8_t)(c[k] * 3 / 5);
    if (e - 2 >= nt) return e - 2 == nt ? ".. dormant" : ".. proliferating";
    return d->plural ? d->plural : d->name;
}

/* Plot entries: heading, bone, the cell types, then dormant and
 * proliferating tumour cells when the tumour type has those states; or
 * the heading and the story's series. */
static int plot_entries(const viewer *v)
{
    if (story_plot(v)) return 1 + v->story->nseries;
    return bs_celltype_count() + 2 + (v->split_type >= 0 ? 2 : 0);
}

/* Is entry e on the right axis (percent)? */
static int plot_right(const viewer *v, int e)
{
    if (story_plot(v)) return bs_series_right_axis(&v->story->series[e - 1]);
    return e == 1;
}

/* A drug series (level, occupancy, bound drug): drawn on its own scale,
 * 0 to 100 % of the graph's height (or to its maximum, if higher), so the
 * bone's auto-scaled right axis keeps a loss of a few % visible. */
static int plot_drug(const viewer *v, int e)
{
    return story_plot(v) && v->story->series[e - 1].kind != BS_SER_CELLS && v->story->series[e - 1].kind != BS_SER_BONE;
}

/* Entry e's value at sample i (cells; right axis: percent). */
static double plot_series(const viewer *v, int e, int i)
{
    if (story_plot(v)) return v->hist[i].ser[e - 1];
    int nt = bs_celltype_count();
    if (e == 1) return 100.0 * (double)v->hist[i].bone;
    return e - 2 < nt ? v->hist[i].n[e - 2] : v->hist[i].split[e - 2 - nt];
}

/* The same for the arm beside (--beside). */
static double plot_series_b(const viewer *v, int e, int i)
{
    if (story_plot(v)) return v->hist[i].serb[e - 1];
    int nt = bs_celltype_count();
    if (e == 1) return 100.0 * (double)v->hist[i].boneb;
    return e - 2 < nt ? v->hist[i].nb[e - 2] : v->hist[i].splitb[e - 2 - nt];
}

/* A vertical line across the graph at day d with a label at its top. */
static void plot_vline(viewer *v, int left, int right, int top, int bot, double tmax, double d, const uint8_t c[3],
        const char *label, int row)
{
    int x = left + (int)((right - left) * (d / tmax));
    for (int y = top; y < bot; y += 6) fill(v, x, y, 2, 3, c, 255);
    if (label && label[0]) {
        int F = v->font_px;
        int tw = text_w(v, label, 0), lx = x + 3 + tw > right ? x - 3 - tw : x + 3;
        fill(v, lx - 2, top + row * F, tw + 4, F + 2, TH(v)->plot_bg, 200);
        text_at(v, lx, top + row * F, c, 0, 0, label);
    }
}

static void draw_plot(viewer *v, const layout *L)
{
    const theme *t = TH(v);
    const SDL_Rect *R = &L->plot;
    fill(v, R->x, R->y, R->w, R->h, t->plot_bg, 255);
    /* The legend at the right, in as many columns as the plot's height
     * needs (every series listed); the graph takes the rest. */
    int lh = L->F * 6 / 5, nrows = (R->h - L->pad) / lh;
    if (nrows < 1) nrows = 1;
    int nent = plot_entries(v), ncol = (nent + nrows - 1) / nrows;
    int colw[BS_MAX_CELL_TYPES + 4] = { 0 }, legend_w = L->pad;
    for (int e = 0; e < nent; e++) {
        uint8_t c[3];
        const char *name = plot_entry(v, e, c);
        int w = text_w(v, name, 0) + L->pad;
        if (w > colw[e / nrows]) colw[e / nrows] = w;
    }
    for (int k = 0; k < ncol; k++) legend_w += colw[k];
    int lx = R->x + R->w - legend_w;
    v->lay_entries = 0;
    v->lay_entries_all = nent;
    fill(v, lx - L->pad / 2, R->y, 1, R->h, t->grid, 255);
    for (int e = 0, cx = lx; e < nent; e++) {
        uint8_t c[3];
        const char *name = plot_entry(v, e, c);
        if (e > 0 && e % nrows == 0) cx += colw[e / nrows - 1];
        text_at(v, cx, R->y + L->pad / 2 + (e % nrows) * lh, c, 0, 0, name);
        if (cx + text_w(v, name, 0) <= R->x + R->w && (e % nrows + 1) * lh <= R->h) v->lay_entries++;
    }
    int left = R->x + 4 * L->F, right = lx - 4 * L->F, top = R->y + L->row, bot = R->y + R->h - L->row;
    if (right - left < 50 || bot - top < 30) return;
    /* the x axis ends at the current day (at least one day) */
    double tnow = bs_model_time_days(v->m), tmax = tnow < 1.0 ? 1.0 : tnow;
    /* left axis: cells, auto-scaled from 0; right axis: percent, auto-scaled
     * to the range of its series (bone loss of a few % is visible) */
    double ymax = 1.0, rmin = 1e300, rmax = -1e300, dmax_pct = 100.0;
    int any_right = 0;
    for (int e = 1; e < nent; e++)
        for (int i = 0; i < v->nhist * (v->beside ? 2 : 1); i++) {
            double y = i < v->nhist ? plot_series(v, e, i) : plot_series_b(v, e, i - v->nhist);
            if (plot_drug(v, e)) {
                if (y > dmax_pct) dmax_pct = y;
            } else if (plot_right(v, e)) {
                any_right = 1;
                if (y < rmin) rmin = y;
                if (y > rmax) rmax = y;
            } else if (plot_y_value(v, y) > ymax)
                ymax = plot_y_value(v, y);
        }
    ymax *= 1.1;
    if (!any_right || !(rmax >= rmin)) rmin = 0, rmax = 100;
    {
        double span = rmax - rmin;
        if (span < 2.0) span = 2.0; /* at least 2 percentage points */
        double mid = (rmax + rmin) / 2;
        rmin = mid - 0.6 * span;
        rmax = mid + 0.6 * span;
        if (rmin < 0 && (mid - span / 2) >= 0) rmin = 0;
        rmin = floor(rmin);
        rmax = ceil(rmax);
    }
    /* Therapy periods: a band per therapy while it was on; the schedule's
     * window as an outline. */
    int band_h = L->F / 3 > 3 ? L->F / 3 : 3;
    for (int k = 0; k < BS_THERAPY_COUNT; k++) {
        uint8_t c[3] = { t->accent[0], t->accent[1], t->accent[2] };
        double s0, s1;
        bs_therapy_window(v->m, (bs_therapy_id)k, &s0, &s1);
        int by = top + k * (band_h + 1);
        if (s0 >= 0 && k != BS_THERAPY_RADIOTHERAPY) {
            double e = s1 > s0 ? s1 : tmax;
            int x0 = left + (int)((right - left) * (s0 / tmax)),
                x1 = left + (int)((right - left) * ((e < tmax ? e : tmax) / tmax));
            if (s0 <= tmax) outline(v, x0, by, x1 - x0 > 1 ? x1 - x0 : 2, band_h, c, 1);
        }
        int run0 = -1;
        for (int i = 0; i <= v->nhist; i++) {
            int on = i < v->nhist && (v->hist[i].on >> k & 1);
            if (on && run0 < 0) run0 = i;
            if (!on && run0 >= 0) {
                double ta = v->hist[run0].t, tb = i < v->nhist ? v->hist[i].t : tnow;
                int x0 = left + (int)((right - left) * (ta / tmax)), x1 = left + (int)((right - left) * (tb / tmax));
                fill(v, x0, top, x1 - x0 > 1 ? x1 - x0 : 2, bot - top, c, 40);
                fill(v, x0, by, x1 - x0 > 1 ? x1 - x0 : 2, band_h, c, 255);
                text_at(v, x0 + 2, bot - L->F - (k % 3) * L->F, t->accent, 0, 0, bs_therapy_names[k]);
                run0 = -1;
            }
        }
    }
    /* events on the time axis: doses and fractions as labelled lines, the
     * kills of each day as red ticks under the axis */
    if (v->ev) {
        const bs_event_tracker *et = v->ev;
        uint64_t n0 = et->n > BS_EVENT_RING ? et->n - BS_EVENT_RING : 0;
        double last_lab_d = -1e9;
        for (uint64_t k = n0; k < et->n; k++) {
            const bs_event *e = &et->ring[k % BS_EVENT_RING];
            if (e->kind != BS_EV_DOSE && e->kind != BS_EV_FRACTION) continue;
            char lab[64];
            if (e->kind == BS_EV_FRACTION)
                snprintf(lab, sizeof lab, "RT %d", e->aux);
            else
                snprintf(lab, sizeof lab, "dose");
            /* labels no closer than 6 % of the axis */
            int show = (e->day - last_lab_d) / tmax > 0.06;
            if (show) last_lab_d = e->day;
            plot_vline(v, left, right, top, bot, tmax, e->day, EV_RGB[e->kind], show ? lab : NULL, 2);
        }
        int dmax = (int)tnow;
        float kmax = 1.0f;
        for (int d = 0; d <= dmax && d < BS_DAY_BINS; d++)
            if (et->day_count[d][BS_EV_KILL] > kmax) kmax = et->day_count[d][BS_EV_KILL];
        for (int d = 0; d <= dmax && d < BS_DAY_BINS; d++) {
            float kc = et->day_count[d][BS_EV_KILL];
            if (kc <= 0) continue;
            int x0 = left + (int)((right - left) * (d / tmax)), x1 = left + (int)((right - left) * ((d + 1) / tmax));
            int hh = (int)(L->F / 2 * (0.3 + 0.7 * (double)(kc / kmax)));
            fill(v, x0, bot + 1, x1 - x0 > 1 ? x1 - x0 : 2, hh, EV_RGB[BS_EV_KILL], 255);
        }
        if (et->total[BS_EV_KILL] > 0)
            text_at(v, left + (right - left) / 2, bot + 2, EV_RGB[BS_EV_KILL], 0, 2, "kills per day (red ticks)");
    }
    /* the story's beats: a labelled line at each beat fired */
    if (v->story_on) {
        int prev_end = -100000, row = 0;
        for (int i = 0; i <= v->beat && i < v->story->nbeats; i++) {
            int x = left + (int)((right - left) * (v->beat_day[i] / tmax));
            /* a label that would run into the one before it goes a row down */
            row = x < prev_end + L->pad ? (row + 1) % 2 : 0;
            plot_vline(v, left, right, top, bot, tmax, v->beat_day[i], t->accent, v->story->beat[i].mark, row);
            prev_end = x + 3 + text_w(v, v->story->beat[i].mark, 0);
        }
    }
    /* axes */
    fill(v, left, bot, right - left, 1, t->grid, 255);
    fill(v, left, top, 1, bot - top, t->grid, 255);
    char lab[32];
    snprintf(lab, sizeof lab, v->log_plot ? "%.1f" : "%.0f", ymax);
    text_at(v, left - L->pad, top - L->F / 2, t->dim, 0, 1, lab);
    snprintf(lab, sizeof lab, "day %.0f", tmax);
    text_at(v, right, bot + 2, t->dim, 0, 1, lab);
    text_at(v, left, bot + 2, t->dim, 0, 0, "0");
    /* right axis: percent */
    if (any_right) {
        snprintf(lab, sizeof lab, "%.0f%%", rmax);
        text_at(v, right + L->pad, top - L->F / 2, t->text, 0, 0, lab);
        snprintf(lab, sizeof lab, "%.0f%%", rmin);
        text_at(v, right + L->pad, bot - L->F, t->text, 0, 0, lab);
        if (rmin < 100 && rmax > 100) {
            int y100 = bot - (int)((bot - top) * ((100 - rmin) / (rmax - rmin)));
            for (int x = left; x < right; x += 10) fill(v, x, y100, 4, 1, t->grid, 255);
            text_at(v, right + L->pad, y100 - L->F / 2, t->dim, 0, 0, "100%");
        }
    }
    if (v->nhist < 2) return;
    for (int e = 1; e < nent; e++) {
        uint8_t c[3];
        plot_entry(v, e, c); /* the legend's colour (darkened on the light theme) */
        SDL_SetRenderDrawBlendMode(v->ren, SDL_BLENDMODE_NONE);
        SDL_SetRenderDrawColor(v->ren, c[0], c[1], c[2], 255);
        int px_prev = 0, py_prev = 0, rt = plot_right(v, e), drug = plot_drug(v, e);
        int dotted = !story_plot(v) && e - 2 >= bs_celltype_count();
        for (int i = 0; i < v->nhist; i++) {
            double y = plot_series(v, e, i);
            double val = drug ? y / dmax_pct : rt ? (y - rmin) / (rmax - rmin) : plot_y_value(v, y) / ymax;
            int px = left + (int)((right - left) * (v->hist[i].t / tmax));
            int py = bot - (int)((bot - top) * (val > 1.0 ? 1.0 : val < 0.0 ? 0.0 : val));
            /* right axis dashed (8 px), dormant / proliferating dotted (3 px), populations solid */
            int dash = rt ? (px / 8) % 2 == 0 : dotted ? (px / 3) % 2 == 0 : 1;
            if (i > 0 && dash) {
                SDL_RenderDrawLine(v->ren, px_prev, py_prev, px, py);
                SDL_RenderDrawLine(v->ren, px_prev, py_prev + 1, px, py + 1);
            }
            px_prev = px;
            py_prev = py;
        }
        /* the arm beside: one pixel, the same colour, every other segment */
        for (int i = 0; v->beside && i < v->nhist; i++) {
            double y = plot_series_b(v, e, i);
            double val = drug ? y / dmax_pct : rt ? (y - rmin) / (rmax - rmin) : plot_y_value(v, y) / ymax;
            int px = left + (int)((right - left) * (v->hist[i].t / tmax));
            int py = bot - (int)((bot - top) * (val > 1.0 ? 1.0 : val < 0.0 ? 0.0 : val));
            if (i > 0 && (px / 4) % 2 == 0) SDL_RenderDrawLine(v->ren, px_prev, py_prev, px, py);
            px_prev = px;
            py_prev = py;
        }
    }
}

static void draw_view(viewer *v)
{
    const theme *t = TH(v);
    fill(v, v->view.x, v->view.y, v->view.w, v->view.h, t->bg, 255);
    int lw = v->m->lat.w * v->px, lh = v->m->lat.h * v->px;
    if (v->beside && v->tex_b) {
        /* the arm beside: the same zoom and pan in its own rectangle, and a
         * label above each picture */
        const SDL_Rect *B = &v->view_b;
        fill(v, B->x, B->y, B->w, B->h, t->bg, 255);
        SDL_SetTextureScaleMode(v->tex_b, v->zoom >= 3.0 ? SDL_ScaleModeNearest : SDL_ScaleModeLinear);
        SDL_RenderSetClipRect(v->ren, B);
        SDL_Rect src = { 0, 0, lw, lh };
        SDL_FRect dst = { (float)(B->x - v->pan_x * v->zoom), (float)(B->y - v->pan_y * v->zoom), (float)(lw * v->zoom),
            (float)(lh * v->zoom) };
        SDL_RenderCopyF(v->ren, v->tex_b, &src, &dst);
        SDL_RenderSetClipRect(v->ren, NULL);
        int F = v->font_px, ly = v->view.y - F * 3 / 2;
        fill(v, v->view.x, ly, v->view.w + (B->x - v->view.x - v->view.w) + B->w, F * 3 / 2, t->panel, 255);
        char la[300];
        snprintf(la, sizeof la, "A: %s", v->scenario);
        text_at(v, v->view.x + F / 2, ly + F / 6, t->accent, 0, 0, la);
        char lb[700];
        snprintf(lb, sizeof lb, "%s", v->b_label);
        while (strlen(lb) > 8 && text_w(v, lb, 0) > B->w - F) lb[strlen(lb) - 1] = '\0';
        text_at(v, B->x + F / 2, ly + F / 6, t->accent, 0, 0, lb);
    }
    /* The lattice region of the image, scaled by the real zoom and clipped
     * to the view: nearest-neighbour from 3x on (crisp sites), linear below
     * (no uneven rows at small non-integer scales). */
    if (lw > 0 && lh > 0) {
        SDL_SetTextureScaleMode(v->tex, v->zoom >= 3.0 ? SDL_ScaleModeNearest : SDL_ScaleModeLinear);
        SDL_RenderSetClipRect(v->ren, &v->view);
        SDL_Rect src = { 0, 0, lw, lh };
        SDL_FRect dst = { (float)(v->view.x - v->pan_x * v->zoom), (float)(v->view.y - v->pan_y * v->zoom),
            (float)(lw * v->zoom), (float)(lh * v->zoom) };
        SDL_RenderCopyF(v->ren, v->tex, &src, &dst);
        SDL_RenderSetClipRect(v->ren, NULL);
    }
    if (v->inspect) {
        int cx, cy;
        site_to_screen(v, v->insp_x, v->insp_y, &cx, &cy);
        int r = (int)ceil(v->zoom * v->px);
        uint8_t c[3] = { 0xFF, 0xFF, 0xFF };
        if (cx >= v->view.x && cy >= v->view.y && cx < v->view.x + v->view.w && cy < v->view.y + v->view.h)
            outline(v, cx - r - 2, cy - r - 2, 2 * r + 4, 2 * r + 4, c, 2);
    }
}

static void overlay_box(viewer *v, int x, int y, int w, int h)
{
    const theme *t = TH(v);
    fill(v, x, y, w, h, t->panel, 235);
    outline(v, x, y, w, h, t->accent, 2);
}

/* The tissue key over the view's bottom-left corner (the renderer's own
 * colours; the cell markers are in the panel), G hides it; and a scale
 * bar at the bottom-right: 10, 20, 50, 100, ... um, about a fifth of the
 * view wide. */
static void draw_overlays(viewer *v, const layout *L)
{
    const theme *t = TH(v);
    int lh = L->F * 6 / 5, sw = L->F;
    if (v->show_key && v->field < 0) {
        int w = 0;
        for (int r = 0; r < BS_RENDER_TISSUE_ROWS; r++) {
            uint8_t c[3];
            const char *lab;
            bs_render_tissue_key(r, c, &lab);
            int tw = text_w(v, lab, 0);
            if (tw > w) w = tw;
        }
        w += sw + 3 * L->pad;
        int h = (BS_RENDER_TISSUE_ROWS + 1) * lh + L->pad;
        int x = v->view.x + L->pad, y = v->view.y + v->view.h - h - L->pad;
        /* in the band beside the lattice when there is one, else over it */
        if (w < v->view.w * 3 / 5 && h < v->view.h - 2 * L->pad) {
            fill(v, x, y, w, h, t->panel, 215);
            text_at(v, x + L->pad, y + L->pad / 2, t->dim, 0, 0, "tissue (G hides)");
            for (int r = 0; r < BS_RENDER_TISSUE_ROWS; r++) {
                uint8_t c[3];
                const char *lab;
                bs_render_tissue_key(r, c, &lab);
                int yy = y + L->pad / 2 + (r + 1) * lh;
                fill(v, x + L->pad, yy + L->F / 8, sw, L->F * 3 / 4, c, 255);
                outline(v, x + L->pad, yy + L->F / 8, sw, L->F * 3 / 4, t->dim, 1);
                text_at(v, x + 2 * L->pad + sw, yy, t->text, 0, 0, lab);
            }
        }
    }
    double h_um = v->m->lat.h_um, spx_per_um = v->zoom * v->px / (h_um > 0 ? h_um : 1.0);
    if (!(spx_per_um > 0)) return;
    static const double steps[] = { 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000 };
    double um = steps[0];
    for (size_t k = 0; k < sizeof steps / sizeof steps[0]; k++)
        if (steps[k] * spx_per_um <= v->view.w / 5.0) um = steps[k];
    int bw = (int)lround(um * spx_per_um), bh = L->F / 3 > 4 ? L->F / 3 : 4;
    char lab[48];
    if (um >= 1000)
        snprintf(lab, sizeof lab, "%g mm", um / 1000.0);
    else
        snprintf(lab, sizeof lab, "%g \xc2\xb5m", um);
    int tw = text_w(v, lab, 0), bx = v->view.x + v->view.w - bw - 2 * L->pad, by = v->view.y + v->view.h - L->pad - bh;
    int boxw = (bw > tw ? bw : tw) + 2 * L->pad;
    fill(v, v->view.x + v->view.w - boxw - L->pad, by - lh - L->pad / 2, boxw, lh + bh + L->pad, t->panel, 215);
    fill(v, bx, by, bw, bh, t->text, 255);
    text_at(v, bx + bw / 2 + tw / 2, by - lh, t->text, 0, 1, lab);
}

/* The heat map's colour bar with its unit and range (the renderer's
 * palette and range), in the view's top-right corner. */
static void draw_colour_bar(viewer *v, const layout *L)
{
    if (v->field < 0) return;
    const theme *t = TH(v);
    const bs_field *f = &v->m->fields[v->field];
    int w = 14 * L->F, h = 3 * L->row + L->pad, x = v->view.x + v->view.w - w - L->pad,
        y = v->view.y + L->pad + (v->story_on ? v->cap_h : 0);
    fill(v, x, y, w, h, t->panel, 235);
    int ix = x + L->pad, iw = w - 2 * L->pad, yy = y + L->pad / 2;
    textf(v, ix, yy, t->text, 0, "%s (%s), %s", field_label(v->field), f->spec.unit ? f->spec.unit : "",
            v->palette == BS_PALETTE_CIVIDIS ? "cividis" : "viridis");
    yy += L->row;
    uint8_t lut[256][3];
    bs_render_palette(v->palette, lut);
    for (int i = 0; i < iw; i++) fill(v, ix + i, yy, 1, L->F * 2 / 3, lut[iw > 1 ? i * 255 / (iw - 1) : 0], 255);
    yy += L->F * 2 / 3 + L->pad / 2;
    double mn, mx;
    bs_render_field_range(f, &mn, &mx);
    textf(v, ix, yy, t->text, 0, "%.3g", bs_render_label_min(mn, mx));
    char hi[64];
    snprintf(hi, sizeof hi, "%.3g", mx);
    text_at(v, ix + iw, yy, t->text, 0, 1, hi);
}

static void draw_inspect(viewer *v, const layout *L)
{
    if (!v->inspect) return;
    const theme *t = TH(v);
    const bs_model *m = v->m;
    int i = v->insp_y * m->lat.w + v->insp_x;
    static const char *const tissues[] = { "marrow", "bone", "sinusoid", "arteriole" };
    static const char *const surfs[] = { "-", "lining (quiescent)", "BRC resorption", "BRC reversal", "BRC formation" };
    char lines[26][160];
    int nl = 0;
    int ti = m->lat.tissue[i], si = m->lat.surface[i];
    snprintf(lines[nl++], 160, "site %d, %d  (%.0f, %.0f um)", v->insp_x, v->insp_y, v->insp_x * m->lat.h_um,
            v->insp_y * m->lat.h_um);
    snprintf(lines[nl++], 160, "tissue %s, mineral %.2f", ti < 4 ? tissues[ti] : "?", (double)m->lat.mineral[i]);
    snprintf(lines[nl++], 160, "surface %s", si < 5 ? surfs[si] : "?");
    if (m->lat.za_load && m->lat.za_load[i] > 0.0f)
        snprintf(lines[nl++], 160, "zoledronic acid bound %.3g", (double)m->lat.za_load[i]);
    for (int f = 0; f < BS_FIELD_COUNT; f++)
        snprintf(lines[nl++], 160, "%d %s %.4g %s", f + 1, field_label(f), (double)m->fields[f].c[i],
                m->fields[f].spec.unit ? m->fields[f].spec.unit : "");
    int slot = m->store.occ[i];
    if (slot >= 0 && m->store.type[slot] < bs_celltype_count()) {
        const bs_celltype *d = bs_celltype_of(m->store.type[slot]);
        int s = m->store.state[slot];
        snprintf(lines[nl++], 160, "cell: %s, %s", d->name,
                s < d->n_states && d->state_names[s] ? d->state_names[s] : "?");
        snprintf(lines[nl++], 160, "  age %.1f d, aux %.3g", (double)m->store.age_h[slot] / 24.0,
                (double)m->store.aux[slot]);
        snprintf(lines[nl++], 160, "  id %016llx", (unsigned long long)m->store.id[slot]);
    } else {
        snprintf(lines[nl++], 160, "no cell");
    }
    int w = 0;
    for (int k = 0; k < nl; k++) {
        int tw = text_w(v, lines[k], 0);
        if (tw > w) w = tw;
    }
    w += 2 * L->pad;
    int h = nl * L->F * 6 / 5 + 2 * L->pad;
    int x = v->view.x + L->pad, y = v->view.y + L->pad;
    overlay_box(v, x, y, w, h);
    for (int k = 0; k < nl; k++)
        text_at(v, x + L->pad, y + L->pad + k * L->F * 6 / 5, k == 0 ? t->accent : t->text, 0, 0, lines[k]);
}

/* Wrapped text as a texture, cached by its text, font and width (a few
 * entries: the caption, its lines, the notes). */
typedef struct {
    uint64_t key;
    SDL_Texture *tex;
    int w, h;
} wrap_entry;
static wrap_entry WRAP[8];
static int wrap_next;

static void wrap_clear(void)
{
    for (int i = 0; i < 8; i++)
        if (WRAP[i].tex) SDL_DestroyTexture(WRAP[i].tex);
    memset(WRAP, 0, sizeof WRAP);
}

static wrap_entry *wrapped(viewer *v, const char *s, int big, const uint8_t c[3], int width)
{
    if (!s[0] || width < 20) return NULL;
    uint64_t key = text_key(s, big, c) ^ ((uint64_t)width * 0x9E3779B97F4A7C15ULL) ^ (uint64_t)v->font_px;
    for (int i = 0; i < 8; i++)
        if (WRAP[i].key == key && WRAP[i].tex) return &WRAP[i];
    SDL_Color col = { c[0], c[1], c[2], 255 };
    SDL_Surface *surf = TTF_RenderUTF8_Blended_Wrapped(big ? v->big : v->font, s, col, (Uint32)width);
    if (!surf) return NULL;
    wrap_entry *e = &WRAP[wrap_next];
    wrap_next = (wrap_next + 1) % 8;
    if (e->tex) SDL_DestroyTexture(e->tex);
    e->tex = SDL_CreateTextureFromSurface(v->ren, surf);
    e->w = surf->w;
    e->h = surf->h;
    e->key = e->tex ? key : 0;
    SDL_FreeSurface(surf);
    return e->tex ? e : NULL;
}

static void blit(viewer *v, const wrap_entry *e, int x, int y)
{
    if (!e) return;
    SDL_Rect r = { x, y, e->w, e->h };
    SDL_RenderCopy(v->ren, e->tex, NULL, &r);
}

#define FLASH_FRAMES 30

/* Events flash on the lattice where they happened (a ring that grows and
 * fades over FLASH_FRAMES frames; a dose or a fraction flashes the view's
 * border with its name); the highlighted cells of a beat get a ring. */
static void draw_events(viewer *v, const layout *L)
{
    bs_event_tracker *t = v->ev;
    if (!t) return;
    SDL_RenderSetClipRect(v->ren, &v->view);
    SDL_SetRenderDrawBlendMode(v->ren, SDL_BLENDMODE_BLEND);
    double cell = v->zoom * v->px;
    uint64_t n0 = t->n > BS_EVENT_RING ? t->n - BS_EVENT_RING : 0;
    const char *banner = NULL;
    char bbuf[160];
    int banner_kind = -1;
    for (uint64_t k = n0; k < t->n; k++) {
        bs_event *e = &t->ring[k % BS_EVENT_RING];
        if (e->frame < 0) e->frame = v->frame;
        long age = v->frame - e->frame;
        if (age > FLASH_FRAMES * (e->x < 0 ? 3 : 1)) continue;
        const uint8_t *c = EV_RGB[e->kind];
        if (e->x < 0) {
            /* dose / fraction: the border, and a banner */
            uint8_t a = (uint8_t)(255 - 200 * age / (3 * FLASH_FRAMES));
            SDL_SetRenderDrawColor(v->ren, c[0], c[1], c[2], a);
            for (int w = 0; w < L->F / 3 + 2; w++) {
                SDL_Rect r = { v->view.x + w, v->view.y + w, v->view.w - 2 * w, v->view.h - 2 * w };
                SDL_RenderDrawRect(v->ren, &r);
            }
            if (e->kind == BS_EV_FRACTION) {
                int nf = (int)bs_param(v->m->ps, "therapy.radiotherapy.n_fractions");
                snprintf(bbuf, sizeof bbuf, "radiotherapy fraction %d of %d", e->aux, nf);
            } else {
                snprintf(bbuf, sizeof bbuf, "%s dose", bs_therapy_names[e->aux]);
                for (char *q = bbuf; *q; q++)
                    if (*q == '_') *q = ' ';
            }
            banner = bbuf;
            banner_kind = e->kind;
            continue;
        }
        if (e->kind == BS_EV_RESORBED && cell < 2.0) continue; /* too small to see: the counter says it */
        int sx, sy;
        site_to_screen(v, e->x, e->y, &sx, &sy);
        double grow = (double)age / FLASH_FRAMES;
        int rad = (int)(cell * (e->kind == BS_EV_RESORBED ? 0.8 : 1.0 + 2.0 * grow)) + 3;
        uint8_t a = (uint8_t)(255 * (1.0 - grow));
        SDL_SetRenderDrawColor(v->ren, c[0], c[1], c[2], a);
        SDL_Rect r = { sx - rad, sy - rad, 2 * rad, 2 * rad };
        SDL_RenderDrawRect(v->ren, &r);
        if (e->kind != BS_EV_RESORBED) {
            SDL_Rect r2 = { sx - rad + 1, sy - rad + 1, 2 * rad - 2, 2 * rad - 2 };
            SDL_RenderDrawRect(v->ren, &r2);
        }
        if (e->kind == BS_EV_KILL) {
            SDL_RenderDrawLine(v->ren, sx - rad, sy - rad, sx + rad, sy + rad);
            SDL_RenderDrawLine(v->ren, sx - rad, sy + rad, sx + rad, sy - rad);
        }
    }
    /* a beat's highlighted cells: a ring each, pulsing */
    if (v->hl_nhl > 0 && v->story_on && v->beat >= 0) {
        const bs_store *st = &v->m->store;
        uint8_t a = (uint8_t)(160 + 95 * sin(v->frame * 0.25));
        SDL_SetRenderDrawColor(v->ren, 0xFF, 0xFF, 0xFF, a);
        int rad = (int)(cell * 1.2) + 4;
        for (int slot = 0; slot < st->capacity; slot++) {
            int ty = st->type[slot], hit = 0;
            if (ty == 0xff) continue;
            for (int k = 0; k < v->hl_nhl; k++)
                if (ty == v->hl_type[k] && (v->hl_state[k] < 0 || st->state[slot] == v->hl_state[k])) hit = 1;
            if (!hit) continue;
            int sx, sy;
            site_to_screen(v, st->site[slot] % v->m->lat.w, st->site[slot] / v->m->lat.w, &sx, &sy);
            if (sx < v->view.x - rad || sy < v->view.y - rad || sx > v->view.x + v->view.w + rad ||
                    sy > v->view.y + v->view.h + rad)
                continue;
            SDL_Rect r = { sx - rad, sy - rad, 2 * rad, 2 * rad };
            SDL_RenderDrawRect(v->ren, &r);
            SDL_Rect r2 = { sx - rad - 1, sy - rad - 1, 2 * rad + 2, 2 * rad + 2 };
            SDL_RenderDrawRect(v->ren, &r2);
        }
    }
    SDL_RenderSetClipRect(v->ren, NULL);
    v->banner[0] = '\0';
    if (banner) {
        snprintf(v->banner, sizeof v->banner, "%s", banner);
        v->banner_kind = banner_kind;
    }
}

/* A dose's or a fraction's name, large, at the bottom centre of the view
 * (over everything else there). */
static void draw_banner(viewer *v, const layout *L)
{
    if (!v->banner[0]) return;
    const theme *th = TH(v);
    int tw = text_w(v, v->banner, 1), bh = TTF_FontHeight(v->big);
    int bx = v->view.x + (v->view.w - tw) / 2, by = v->view.y + v->view.h - bh - 3 * L->row;
    fill(v, bx - L->pad, by, tw + 2 * L->pad, bh, th->panel, 220);
    text_at(v, bx, by, EV_RGB[v->banner_kind], 1, 0, v->banner);
}

/* Per-day counters: the last whole day's events, in the view's top-right
 * corner (below a heat map's colour bar). */
static void draw_counters(viewer *v, const layout *L)
{
    bs_event_tracker *t = v->ev;
    if (!t) return;
    const theme *th = TH(v);
    int d = (int)floor(bs_model_time_days(v->m)) - 1;
    char lines[6][96];
    int nl = 0;
    if (d < 0) {
        snprintf(lines[nl++], 96, "events per day (from day 1)");
    } else {
        const float *c = d < BS_DAY_BINS ? t->day_count[d] : t->day_count[BS_DAY_BINS - 1];
        snprintf(lines[nl++], 96, "events on day %d", d);
        snprintf(lines[nl++], 96, "new tumour cells: %.0f", (double)c[BS_EV_DIVISION]);
        snprintf(lines[nl++], 96, "tumour cells killed: %.0f, died: %.0f", (double)c[BS_EV_KILL],
                (double)c[BS_EV_TUMOUR_DEATH]);
        snprintf(lines[nl++], 96, "osteoclasts formed: %.0f", (double)c[BS_EV_OC_FORMED]);
        snprintf(lines[nl++], 96, "bone resorbed: %.0f \xc2\xb5m\xc2\xb2", (double)c[BS_EV_RESORBED]);
    }
    static const int kind_of_line[6] = { -1, BS_EV_DIVISION, BS_EV_KILL, BS_EV_OC_FORMED, BS_EV_RESORBED, -1 };
    int w = 0, lh = L->F * 6 / 5;
    for (int k = 0; k < nl; k++) {
        int a = text_w(v, lines[k], 0);
        if (a > w) w = a;
    }
    w += 3 * L->pad + L->F / 2;
    int h = nl * lh + L->pad, x = v->view.x + v->view.w - w - L->pad,
        y = v->view.y + L->pad + (v->field >= 0 ? 3 * L->row + 2 * L->pad : 0) + (v->story_on ? v->cap_h : 0);
    if (w > v->view.w / 2) return; /* no room (a narrow view) */
    fill(v, x, y, w, h, th->panel, 215);
    for (int k = 0; k < nl; k++) {
        int yy = y + L->pad / 2 + k * lh;
        if (d >= 0 && kind_of_line[k] >= 0)
            fill(v, x + L->pad, yy + L->F / 4, L->F / 2, L->F / 2, EV_RGB[kind_of_line[k]], 255);
        text_at(v, x + 2 * L->pad + L->F / 2, yy, k == 0 ? th->dim : th->text, 0, 0, lines[k]);
    }
}

/* The story's caption over the top of the view: large, wrapped, with the
 * beat's number and the keys. */
static void draw_story(viewer *v, const layout *L)
{
    if (!v->story_on) return;
    const theme *t = TH(v);
    const bs_story *S = v->story;
    char cap[400], sub[1400], foot[240];
    if (v->rewind_to >= 0) {
        snprintf(cap, sizeof cap, "Going back to beat %d ...", v->rewind_to + 1);
        snprintf(sub, sizeof sub, "replaying from day 0 on the same seed: day %.1f of %.1f", bs_model_time_days(v->m),
                v->beat_day[v->rewind_to]);
        foot[0] = '\0';
    } else if (v->beat < 0) {
        snprintf(cap, sizeof cap, "%s", S->title[0] ? S->title : v->scenario);
        snprintf(sub, sizeof sub, "a story in %d beats", S->nbeats);
        snprintf(foot, sizeof foot, "Space: start    F1: keys    I: notes");
    } else {
        const bs_story_beat *b = &S->beat[v->beat];
        snprintf(cap, sizeof cap, "%s", b->caption);
        if (v->beat_late && b->late[0])
            snprintf(sub, sizeof sub, "%s", b->late);
        else
            snprintf(sub, sizeof sub, "%s%s%s", b->text, v->beat_late && b->text[0] ? "\n" : "",
                    v->beat_late ? "(the event this beat waits for had not come by this day)" : "");
        int last = v->beat == S->nbeats - 1;
        snprintf(foot, sizeof foot, "beat %d of %d, day %.1f    %s    Backspace: back", v->beat + 1, S->nbeats,
                v->beat_day[v->beat],
                last ? (v->playing ? "the end: playing on" : "the end: Space plays on")
                     : (v->playing ? "playing on (Space pauses)" : "Space: continue"));
    }
    int w = v->view.w - 4 * L->pad;
    /* while playing the caption steps aside: one line at the top */
    int compact = v->playing && v->rewind_to < 0;
    wrap_entry *ec = wrapped(v, cap, compact ? 0 : 1, t->text, w - 2 * L->pad);
    wrap_entry *es = compact ? NULL : wrapped(v, sub, 0, t->text, w - 2 * L->pad);
    int h = L->pad + (ec ? ec->h : 0) + (es ? es->h + L->pad / 2 : 0) + L->pad + (foot[0] ? L->row : 0);
    int x = v->view.x + 2 * L->pad, y = v->view.y + L->pad;
    v->cap_h = h + L->pad;
    fill(v, x, y, w, h, t->panel, compact ? 200 : 228);
    fill(v, x, y, L->pad / 2, h, t->accent, 255);
    int yy = y + L->pad;
    blit(v, ec, x + L->pad + L->pad / 2, yy);
    yy += ec ? ec->h : 0;
    if (es) {
        yy += L->pad / 2;
        blit(v, es, x + L->pad + L->pad / 2, yy);
        yy += es->h;
    }
    if (foot[0]) {
        /* cut to the box (a narrow view): the keys are in F1 too */
        char f2[240];
        snprintf(f2, sizeof f2, "%s", foot);
        while (strlen(f2) > 8 && text_w(v, f2, 0) > w - 2 * L->pad) {
            char *cut = strrchr(f2, ' ');
            if (!cut) break;
            *cut = '\0';
            while (strlen(f2) > 0 && f2[strlen(f2) - 1] == ' ') f2[strlen(f2) - 1] = '\0';
        }
        text_at(v, x + L->pad + L->pad / 2, yy + L->pad / 2, t->accent, 0, 0, f2);
    }
}

/* The scenario picker (O): the scenarios beside this one; Enter opens one
 * (the session ends as with Q, and the viewer starts again on it). */
static void draw_picker(viewer *v, const layout *L)
{
    if (!v->picker) return;
    const theme *t = TH(v);
    int lh = L->F * 6 / 5, per = (L->H - 6 * lh) / lh;
    if (per < 4) per = 4;
    int ncol = (v->npick + per - 1) / per, cw = 0;
    for (int k = 0; k < v->npick; k++) {
        int a = text_w(v, v->pick[k], 0);
        if (a > cw) cw = a;
    }
    cw += 4 * L->pad;
    if (ncol < 1) ncol = 1;
    int rows = v->npick < per ? v->npick : per, w = ncol * cw + 2 * L->pad;
    const char *head = "Open a scenario: arrows choose, Enter opens (* has a story), Esc closes";
    if (text_w(v, head, 0) + 2 * L->pad > w) w = text_w(v, head, 0) + 2 * L->pad;
    int h = (rows + 2) * lh + 2 * L->pad, x = (L->W - w) / 2, y = (L->H - h) / 2;
    overlay_box(v, x, y, w, h);
    text_at(v, x + L->pad, y + L->pad, t->accent, 0, 0, head);
    for (int k = 0; k < v->npick; k++) {
        int xx = x + L->pad + (k / per) * cw, yy = y + L->pad + (k % per + 2) * lh;
        if (k == v->pick_sel) fill(v, xx - L->pad / 2, yy, cw - L->pad, lh, t->on_bg, 255);
        size_t ln = strlen(v->scenario);
        int cur = strncmp(v->pick[k], v->scenario, ln) == 0 && (v->pick[k][ln] == '\0' || v->pick[k][ln] == ' ');
        text_at(v, xx, yy, cur ? t->accent : t->text, 0, 0, v->pick[k]);
    }
}

static const char *const HELP[][2] = {
    { "Space", "play / pause" },
    { "S / Shift+S", "step 1 tick / 10 ticks" },
    { "[  ]", "slower / faster (up to as fast as possible)" },
    { "R / Shift+R", "reset (same seed) / reset with a new seed" },
    { "0", "tissue colours" },
    { "1 - 9", "heat maps: O2 CXCL12 RANKL OPG TGFb" },
    { "", "IFNg PTHrP suppression chemokines" },
    { "C", "palette viridis / cividis" },
    { "H", "hide / show cells" },
    { "F2 - F10", "switch a therapy on / off (listed on the right)" },
    { "Tab", "next cell type to inject" },
    { "left click, drag", "inject cells of that type on marrow" },
    { "right click", "inspect a site (Esc closes)" },
    { "wheel, + -", "zoom (x1.25 steps)" },
    { "Z", "follow the region of interest (the lesion) / whole lattice" },
    { "middle drag, arrows", "pan;  Home: fit" },
    { "L", "log axis in the plot" },
    { "T", "light / dark theme" },
    { "Ctrl + / Ctrl -", "UI scale (projectors)" },
    { "F11", "full screen" },
    { "G", "tissue key on / off (bottom-left of the lattice)" },
    { "M", "presentation layout (large text, large lattice)" },
    { "F12 or P", "screenshot (PNG in the session folder)" },
    { "V", "record a video on / off (MP4; GIF without ffmpeg)" },
    { "I", "notes: what is on screen, things to try" },
    { "O", "open another scenario (a list; * has a story)" },
    { "Backspace", "story: back to the previous beat (--story)" },
    { "F1", "this help" },
    { "Q", "quit (writes the CSV's last row and the log)" },
};

static void draw_help(viewer *v, const layout *L)
{
    if (!v->show_help) return;
    const theme *t = TH(v);
    int n = (int)(sizeof HELP / sizeof HELP[0]);
    int kw = 0, dw = 0;
    for (int k = 0; k < n; k++) {
        int a = text_w(v, HELP[k][0], 0), b = text_w(v, HELP[k][1], 0);
        if (a > kw) kw = a;
        if (b > dw) dw = b;
    }
    /* one column, or two side by side when one would not fit the height */
    int lh = L->F * 6 / 5, cw = kw + dw + 5 * L->pad, ncol = (n + 2) * lh + 2 * L->pad > L->H - 2 * L->pad ? 2 : 1;
    int per = (n + ncol - 1) / ncol, w = ncol * cw, h = (per + 2) * lh + 2 * L->pad;
    int x = (L->W - w) / 2, y = (L->H - h) / 2;
    if (x < 0) x = 0;
    if (y < 0) y = 0;
    overlay_box(v, x, y, w, h);
    text_at(v, x + L->pad, y + L->pad, t->accent, 0, 0, "Keys  (F1 or Esc closes)");
    for (int k = 0; k < n; k++) {
        int yy = y + L->pad + (k % per + 2) * lh, xx = x + (k / per) * cw;
        text_at(v, xx + L->pad, yy, t->accent, 0, 0, HELP[k][0]);
        text_at(v, xx + kw + 3 * L->pad, yy, t->text, 0, 0, HELP[k][1]);
    }
}

/* The I panel: the scenario's notes — what is on screen and things to
 * try, as keys and sliders — from its story file; else its header. */
static void draw_info(viewer *v, const layout *L)
{
    if (!v->show_info) return;
    const theme *t = TH(v);
    int w = L->W * 3 / 4, x = (L->W - w) / 2, y = L->H / 10, iw = w - 2 * L->pad;
    char text[8000];
    size_t k = 0;
    const bs_story *S = v->have_story ? v->story : NULL;
    if (S && (S->nabout > 0 || S->ntry > 0)) {
        k += (size_t)snprintf(text + k, sizeof text - k, "On screen\n");
        for (int i = 0; i < S->nabout && k < sizeof text; i++)
            k += (size_t)snprintf(text + k, sizeof text - k, "  %s\n", S->about[i]);
        if (k < sizeof text)
            k += (size_t)snprintf(text + k, sizeof text - k,
                    "  The panel on the right names every cell marker with its count; G shows the tissue "
                    "colours; the box at the top right counts the last day's events, which also flash where "
                    "they happen (green: new tumour cell, red cross: killed, orange: osteoclast formed, "
                    "yellow: bone resorbed).\n");
        if (S->ntry > 0 && k < sizeof text) k += (size_t)snprintf(text + k, sizeof text - k, "\nThings to try\n");
        for (int i = 0; i < S->ntry && k < sizeof text; i++)
            k += (size_t)snprintf(text + k, sizeof text - k, "  %s  -  %s\n", S->try_key[i], S->try_text[i]);
        if (v->nsl > 0 && k < sizeof text)
            k += (size_t)snprintf(text + k, sizeof text - k,
                    "  sliders (right panel)  -  drag one to change that rule live; R resets to the scenario\n");
        if (k < sizeof text)
            snprintf(text + k, sizeof text - k, "\n%s%s", v->story_on ? "" : "This scenario has a story: ",
                    v->story_on ? "Space continues the story, Backspace goes back a beat. I or Esc closes."
                                : "start it with --story. I or Esc closes.");
    } else {
        snprintf(text, sizeof text, "%s",
                v->header[0] ? v->header : "(this scenario has no description; O opens another)");
    }
    wrap_entry *eh = wrapped(v, S && S->title[0] ? S->title : v->scenario, 1, t->accent, iw);
    wrap_entry *eb = wrapped(v, text, 0, t->text, iw);
    int h = (eh ? eh->h : 0) + (eb ? eb->h : 0) + 3 * L->pad;
    if (y + h > L->H) y = L->H - h > 0 ? L->H - h : 0;
    overlay_box(v, x, y, w, h);
    blit(v, eh, x + L->pad, y + L->pad);
    blit(v, eb, x + L->pad, y + 2 * L->pad + (eh ? eh->h : 0));
}

/* ---- capture ------------------------------------------------------------------------ */

static int read_window(viewer *v, bs_image *im, bs_error *err)
{
    int w, h;
    SDL_GetRendererOutputSize(v->ren, &w, &h);
    if (bs_image_init(im, w, h, err) != BS_OK) return -1;
    if (SDL_RenderReadPixels(v->ren, NULL, SDL_PIXELFORMAT_RGB24, im->rgb, w * 3) != 0) {
        bs_fail(err, BS_ERR_IO, "cannot read the window back: %s", SDL_GetError());
        bs_image_free(im);
        return -1;
    }
    return 0;
}

static void screenshot(viewer *v)
{
    bs_image im = { 0 };
    bs_error err;
    char path[4500];
    if (v->shot_name[0])
        snprintf(path, sizeof path, "%s", v->shot_name);
    else
        snprintf(path, sizeof path, "%s/%s-seed%lld-day%06.1f.png", v->outdir, v->scenario, v->seed,
                bs_model_time_days(v->m));
    v->shot_name[0] = '\0';
    if (read_window(v, &im, &err) != 0 || bs_png_write(path, &im, &err) != BS_OK)
        set_msg(v, "screenshot: %s", err.msg);
    else
        /* a scripted screenshot (named by the script) keeps the frames
         * after it clean: stderr says where it went */
        if (!v->shot_name[0])
            set_msg(v, "screenshot %s", path);
        else
            fprintf(stderr, "bonesim view: screenshot %s\n", path);
    bs_image_free(&im);
}

/* V: the window as a video, MP4 through ffmpeg when it is on PATH, else a
 * GIF (giflib; every other frame, as GIFs are large), in the output
 * folder. The window must keep its size: a resize ends the recording with
 * the frames so far. */
static void stop_recording(viewer *v)
{
    if (!v->rec) return;
    bs_error err;
    long n = bs_video_frames(v->rec);
    v->recording = 0;
    bs_status st = bs_video_close(v->rec, &err);
    v->rec = NULL;
    if (st != BS_OK)
        set_msg(v, "recording: %s", err.msg);
    else
        set_msg(v, "recorded %ld frames in %s", n, v->rec_dir);
    fprintf(stderr, "bonesim view: %s\n", v->msg);
}

static void record_frame(viewer *v)
{
    size_t n = strlen(v->rec_dir);
    if (n > 4 && strcmp(v->rec_dir + n - 4, ".gif") == 0 && (v->rec_frame++ % 2)) return;
    bs_image im = { 0 };
    bs_error err;
    if (read_window(v, &im, &err) != 0 || bs_video_frame(v->rec, &im, &err) != BS_OK) {
        char why[BS_ERROR_MAX];
        snprintf(why, sizeof why, "%s", err.msg);
        stop_recording(v);
        set_msg(v, "recording stopped: %s", why);
    }
    bs_image_free(&im);
}

static void toggle_recording(viewer *v)
{
    if (v->recording) {
        stop_recording(v);
        return;
    }
    const char *ext = bs_video_default_ext();
    if (!ext) {
        set_msg(v,
                "cannot record: no ffmpeg on PATH for an MP4 and no giflib in this build for a GIF "
                "(apt-get install ffmpeg)");
        return;
    }
    for (int k = 1; k < 10000; k++) {
        snprintf(v->rec_dir, sizeof v->rec_dir, "%s/rec-%s-seed%lld-%d.%s", v->outdir, v->scenario, v->seed, k, ext);
        if (!bs_path_exists(v->rec_dir)) break;
    }
    bs_error err;
    if (bs_video_open(&v->rec, v->rec_dir, strcmp(ext, "gif") == 0 ? 15 : 30, &err) != BS_OK) {
        set_msg(v, "cannot record: %s", err.msg);
        return;
    }
    v->rec_frame = 0;
    v->recording = 1;
    set_msg(v, "recording %s to %s (V stops)", strcmp(ext, "gif") == 0 ? "a GIF" : "an MP4", v->rec_dir);
}

/* ---- input --------------------------------------------------------------------------- */

static void inject_at(viewer *v, int x, int y)
{
    if (!bs_action_can_inject(v->m, x, y)) return;
    bs_action a;
    memset(&a, 0, sizeof a);
    a.kind = BS_ACT_INJECT;
    a.id = v->sel_type;
    a.on = 0;
    a.x = x;
    a.y = y;
    live_action(v, &a);
}

/* Injects along the segment from the last drag position (so a fast drag
 * leaves no gaps). */
static void inject_line(viewer *v, int x1, int y1)
{
    int x0 = v->last_inj_x, y0 = v->last_inj_y;
    int n = abs(x1 - x0) > abs(y1 - y0) ? abs(x1 - x0) : abs(y1 - y0);
    for (int k = 1; k <= n; k++) inject_at(v, x0 + (x1 - x0) * k / n, y0 + (y1 - y0) * k / n);
    v->last_inj_x = x1;
    v->last_inj_y = y1;
}

static void set_slider(viewer *v, int k, double val)
{
    slider *s = &v->sl[k];
    if (val < s->min) val = s->min;
    if (val > s->max) val = s->max;
    if (s->is_int)
        val = floor(val + 0.5);
    else {
        /* Three significant digits: a readable log and no jitter. */
        char b[32];
        snprintf(b, sizeof b, "%.3g", val);
        val = strtod(b, NULL);
    }
    if (val == bs_param(v->m->ps, s->name)) return;
    bs_action a;
    memset(&a, 0, sizeof a);
    a.kind = BS_ACT_SET;
    snprintf(a.name, sizeof a.name, "%s", s->name);
    a.value = val;
    live_action(v, &a);
}

static void slider_drag(viewer *v, int k, int mx)
{
    slider *s = &v->sl[k];
    double fr = (mx - s->track.x) / (double)(s->track.w > 0 ? s->track.w : 1);
    set_slider(v, k, s->min + (fr < 0 ? 0 : fr > 1 ? 1 : fr) * (s->max - s->min));
}

/* Zoom by a factor about a window point (wheel, + -): 1.25 per step. */
static void zoom_at(viewer *v, double z, int sx, int sy)
{
    if (z < 0.25) z = 0.25;
    if (z > 64.0) z = 64.0;
    double ix = v->pan_x + (sx - v->view.x) / v->zoom, iy = v->pan_y + (sy - v->view.y) / v->zoom;
    v->zoom = z;
    v->pan_x = ix - (sx - v->view.x) / z;
    v->pan_y = iy - (sy - v->view.y) / z;
}

static void toggle_therapy(viewer *v, int k)
{
    bs_action a;
    memset(&a, 0, sizeof a);
    a.kind = BS_ACT_THERAPY;
    a.id = k;
    a.on = !bs_therapy_is_on(&v->m->therapy, (bs_therapy_id)k);
    live_action(v, &a);
    /* What the model now says, not what was asked (radiotherapy gives its
     * dose and stays off). */
    set_msg(v, "%s %s (step %llu): %s", bs_therapy_names[k],
            bs_therapy_is_on(&v->m->therapy, (bs_therapy_id)k) ? "ON"
                    : a.on                                     ? "given"
                                                               : "off",
            (unsigned long long)v->m->step, bs_therapy_blurbs[k]);
}

static int cmp_pick(const void *a, const void *b)
{
    return strcmp((const char *)a, (const char *)b);
}

/* The scenarios in the scenario's folder, by name (the picker). */
static void picker_open(viewer *v)
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", v->scenario_path);
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = '\0';
    else
        snprintf(dir, sizeof dir, ".");
    DIR *d = opendir(dir);
    v->npick = 0;
    if (!d) {
        set_msg(v, "cannot list %s (%s)", dir, strerror(errno));
        return;
    }
    struct dirent *e;
    while ((e = readdir(d)) && v->npick < 64) {
        size_t n = strlen(e->d_name);
        if (n < 5 || n > 100 || strcmp(e->d_name + n - 4, ".ini") != 0 || e->d_name[0] == '_') continue;
        char sp[4300];
        snprintf(sp, sizeof sp, "%s/%.*s.story", dir, (int)(n - 4), e->d_name);
        snprintf(v->pick[v->npick++], sizeof v->pick[0], "%.*s%s", (int)(n - 4), e->d_name,
                bs_path_exists(sp) ? " *" : "");
    }
    closedir(d);
    qsort(v->pick, (size_t)v->npick, sizeof v->pick[0], cmp_pick);
    v->pick_sel = 0;
    for (int k = 0; k < v->npick; k++)
        if (strncmp(v->pick[k], v->scenario, strlen(v->scenario)) == 0 &&
                (v->pick[k][strlen(v->scenario)] == '\0' || v->pick[k][strlen(v->scenario)] == ' '))
            v->pick_sel = k;
    v->picker = v->npick > 0;
}

static void on_key(viewer *v, SDL_Keycode key, Uint16 mod)
{
    int shift = (mod & KMOD_SHIFT) != 0, ctrl = (mod & KMOD_CTRL) != 0;
    bs_error err;
    if (v->picker) {
        int per = v->npick;
        if (key == SDLK_DOWN && v->pick_sel + 1 < v->npick) v->pick_sel++;
        if (key == SDLK_UP && v->pick_sel > 0) v->pick_sel--;
        if (key == SDLK_PAGEDOWN) v->pick_sel = v->pick_sel + 10 < per ? v->pick_sel + 10 : per - 1;
        if (key == SDLK_PAGEUP) v->pick_sel = v->pick_sel > 10 ? v->pick_sel - 10 : 0;
        if (key == SDLK_ESCAPE || key == SDLK_o) v->picker = 0;
        if (key == SDLK_RETURN || key == SDLK_KP_ENTER) {
            snprintf(v->restart, sizeof v->restart, "%s", v->pick[v->pick_sel]);
            char *sp = strchr(v->restart, ' ');
            if (sp) *sp = '\0';
            v->picker = 0;
            v->quit = 1;
        }
        return;
    }
    if (key >= THERAPY_KEY0 && key < THERAPY_KEY0 + BS_THERAPY_COUNT && key <= SDLK_F10) {
        toggle_therapy(v, (int)(key - THERAPY_KEY0));
        return;
    }
    if (ctrl &&
            (key == SDLK_EQUALS || key == SDLK_PLUS || key == SDLK_KP_PLUS || key == SDLK_MINUS ||
                    key == SDLK_KP_MINUS)) {
        double s = v->ui_scale * (key == SDLK_MINUS || key == SDLK_KP_MINUS ? 1.0 / 1.15 : 1.15);
        v->ui_scale = s < 0.5 ? 0.5 : s > 3.0 ? 3.0 : s;
        set_msg(v, "UI scale %.2f", v->ui_scale);
        return;
    }
    switch (key) {
    case SDLK_SPACE:
        v->playing = !v->playing;
        v->acc_ticks = 0.0;
        break;
    case SDLK_s: {
        v->playing = 0;
        for (int k = 0; k < (shift ? 10 : 1); k++)
            if (sim_step(v, &err) != BS_OK) set_msg(v, "%s", err.msg);
        break;
    }
    case SDLK_LEFTBRACKET:
        if (v->speed > 0) v->speed--;
        break;
    case SDLK_RIGHTBRACKET:
        if (v->speed < N_SPEEDS - 1) v->speed++;
        break;
    case SDLK_r: do_reset(v, shift ? v->seed + 1 : v->seed); break;
    case SDLK_0:
        v->field = -1;
        v->img_dirty = 1;
        break;
    case SDLK_c:
        v->palette = (v->palette + 1) % BS_PALETTE_COUNT;
        v->img_dirty = 1;
        break;
    case SDLK_h:
        v->hide_agents = !v->hide_agents;
        v->img_dirty = 1;
        break;
    case SDLK_TAB: v->sel_type = (v->sel_type + (shift ? bs_celltype_count() - 1 : 1)) % bs_celltype_count(); break;
    case SDLK_l: v->log_plot = !v->log_plot; break;
    case SDLK_t: v->light_theme = !v->light_theme; break;
    case SDLK_i: v->show_info = !v->show_info; break;
    case SDLK_F1: v->show_help = !v->show_help; break;
    case SDLK_F11:
        SDL_SetWindowFullscreen(v->win,
                (SDL_GetWindowFlags(v->win) & SDL_WINDOW_FULLSCREEN_DESKTOP) ? 0 : SDL_WINDOW_FULLSCREEN_DESKTOP);
        v->fit_pending = 1;
        break;
    case SDLK_F12:
    case SDLK_p: v->want_shot = 1; break;
    case SDLK_v: toggle_recording(v); break;
    case SDLK_EQUALS:
    case SDLK_PLUS:
    case SDLK_KP_PLUS:
        v->follow = 0;
        zoom_at(v, v->zoom * 1.25, v->view.x + v->view.w / 2, v->view.y + v->view.h / 2);
        break;
    case SDLK_MINUS:
    case SDLK_KP_MINUS:
        v->follow = 0;
        zoom_at(v, v->zoom / 1.25, v->view.x + v->view.w / 2, v->view.y + v->view.h / 2);
        break;
    case SDLK_g: v->show_key = !v->show_key; break;
    case SDLK_m:
        v->present = !v->present;
        v->fit_pending = 1;
        set_msg(v, "M: %s", v->present ? "presentation layout" : "normal layout");
        break;
    case SDLK_z:
        v->follow = !v->follow;
        if (v->follow)
            frame_roi(v, 0);
        else
            v->fit_pending = 1;
        set_msg(v, "%s", v->follow ? "Z: following the region of interest" : "Z: whole lattice");
        break;
    case SDLK_LEFT: v->pan_x -= 40.0 / v->zoom; break;
    case SDLK_RIGHT: v->pan_x += 40.0 / v->zoom; break;
    case SDLK_UP: v->pan_y -= 40.0 / v->zoom; break;
    case SDLK_DOWN: v->pan_y += 40.0 / v->zoom; break;
    case SDLK_HOME:
        v->follow = 0;
        fit_view(v);
        break;
    case SDLK_ESCAPE: v->show_help = v->show_info = v->inspect = 0; break;
    case SDLK_BACKSPACE:
        if (v->story_on)
            story_back(v);
        else
            set_msg(v, "Backspace goes back a beat in a story (bonesim view SCENARIO --story)");
        break;
    case SDLK_o: picker_open(v); break;
    case SDLK_q: v->quit = 1; break;
    default:
        if (key >= SDLK_1 && key <= SDLK_9 && key - SDLK_1 < BS_FIELD_COUNT) {
            v->field = (int)(key - SDLK_1);
            v->img_dirty = 1;
        }
        break;
    }
}

static int slider_hit(const viewer *v, int mx, int my)
{
    for (int k = 0; k < v->nsl; k++) {
        const SDL_Rect *r = &v->sl[k].track;
        if (mx >= r->x - 8 && mx <= r->x + r->w + 8 && my >= r->y - 10 && my <= r->y + r->h + 10) return k;
    }
    return -1;
}

static void on_event(viewer *v, const SDL_Event *e)
{
    int x, y;
    switch (e->type) {
    case SDL_QUIT: v->quit = 1; break;
    case SDL_KEYDOWN: on_key(v, e->key.keysym.sym, e->key.keysym.mod); break;
    case SDL_WINDOWEVENT:
        if (e->window.event == SDL_WINDOWEVENT_SIZE_CHANGED) v->fit_pending = 1;
        break;
    case SDL_MOUSEWHEEL: {
        int mx, my;
        SDL_GetMouseState(&mx, &my);
        v->follow = 0;
        zoom_at(v, v->zoom * (e->wheel.y > 0 ? 1.25 : e->wheel.y < 0 ? 0.8 : 1.0), mx, my);
        break;
    }
    case SDL_MOUSEBUTTONDOWN:
        v->last_mx = e->button.x;
        v->last_my = e->button.y;
        if (e->button.button == SDL_BUTTON_LEFT) {
            int k = slider_hit(v, e->button.x, e->button.y);
            if (k >= 0) {
                v->drag_slider = k + 1;
                slider_drag(v, k, e->button.x);
            } else if (screen_to_site(v, e->button.x, e->button.y, &x, &y)) {
                v->dragging_inject = 1;
                v->last_inj_x = x;
                v->last_inj_y = y;
                inject_at(v, x, y);
            }
        } else if (e->button.button == SDL_BUTTON_RIGHT) {
            if (screen_to_site(v, e->button.x, e->button.y, &x, &y)) {
                v->inspect = 1;
                v->insp_x = x;
                v->insp_y = y;
            } else
                v->inspect = 0;
        } else if (e->button.button == SDL_BUTTON_MIDDLE) {
            v->dragging_pan = 1;
        }
        break;
    case SDL_MOUSEBUTTONUP:
        if (e->button.button == SDL_BUTTON_LEFT) v->dragging_inject = v->drag_slider = 0;
        if (e->button.button == SDL_BUTTON_MIDDLE) v->dragging_pan = 0;
        break;
    case SDL_MOUSEMOTION:
        if (v->drag_slider)
            slider_drag(v, v->drag_slider - 1, e->motion.x);
        else if (v->dragging_inject && screen_to_site(v, e->motion.x, e->motion.y, &x, &y))
            inject_line(v, x, y);
        else if (v->dragging_pan) {
            v->follow = 0;
            v->pan_x -= (e->motion.x - v->last_mx) / v->zoom;
            v->pan_y -= (e->motion.y - v->last_my) / v->zoom;
        }
        v->last_mx = e->motion.x;
        v->last_my = e->motion.y;
        break;
    default: break;
    }
}

/* ---- script ----------------------------------------------------------------------------- */

static void push_key(SDL_Keycode k, Uint16 mod)
{
    SDL_Event e;
    memset(&e, 0, sizeof e);
    e.type = SDL_KEYDOWN;
    e.key.state = SDL_PRESSED;
    e.key.keysym.sym = k;
    e.key.keysym.mod = mod;
    SDL_PushEvent(&e);
    e.type = SDL_KEYUP;
    e.key.state = SDL_RELEASED;
    SDL_PushEvent(&e);
}

static void push_button(int type, int button, int x, int y)
{
    SDL_Event e;
    memset(&e, 0, sizeof e);
    e.type = (Uint32)type;
    e.button.button = (Uint8)button;
    e.button.state = type == SDL_MOUSEBUTTONDOWN ? SDL_PRESSED : SDL_RELEASED;
    e.button.x = x;
    e.button.y = y;
    SDL_PushEvent(&e);
}

static void push_motion(int x, int y)
{
    SDL_Event e;
    memset(&e, 0, sizeof e);
    e.type = SDL_MOUSEMOTION;
    e.motion.x = x;
    e.motion.y = y;
    SDL_PushEvent(&e);
}

static int script_fail(viewer *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int script_fail(viewer *v, const char *fmt, ...)
{
    char buf[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    fprintf(stderr, "bonesim: %s: %s\n", v->script_where, buf);
    v->quit = 1;
    v->exit_code = BS_EXIT_USAGE;
    return -1;
}

/* A site on screen for a script's click: visible, or the view is centred
 * on it first. */
static int script_site(viewer *v, const char *xs, const char *ys, int *sx, int *sy)
{
    char *e1, *e2;
    long x = strtol(xs, &e1, 10), y = strtol(ys, &e2, 10);
    if (*e1 || *e2 || x < 0 || y < 0 || x >= v->m->lat.w || y >= v->m->lat.h)
        return script_fail(v, "site '%s %s' (valid: 0 .. %d, 0 .. %d)", xs, ys, v->m->lat.w - 1, v->m->lat.h - 1);
    site_to_screen(v, (int)x, (int)y, sx, sy);
    if (*sx < v->view.x || *sy < v->view.y || *sx >= v->view.x + v->view.w || *sy >= v->view.y + v->view.h) {
        v->pan_x = (x + 0.5) * v->px - v->view.w / 2.0 / v->zoom;
        v->pan_y = (y + 0.5) * v->px - v->view.h / 2.0 / v->zoom;
        site_to_screen(v, (int)x, (int)y, sx, sy);
    }
    return 0;
}

/* Runs script lines until one has to wait for frames or the model. */
static void script_tick(viewer *v)
{
    if (!v->script || v->quit) return;
    if (v->script_wait > 0) {
        v->script_wait--;
        return;
    }
    if (v->target_step >= 0) {
        if ((long long)v->m->step < v->target_step) {
            v->playing = 1; /* past a story beat's pause: the script plays on */
            return;
        }
        v->target_step = -1;
        v->playing = 0;
    }
    if (v->script_beat > 0) {
        if (v->rewind_to >= 0) return; /* going back: the replay plays itself */
        if (v->beat + 1 < v->script_beat) {
            v->playing = 1; /* past a beat's pause, as Space would */
            return;
        }
        v->script_beat = 0;
        v->playing = 0;
    }
    char line[600];
    while (fgets(line, sizeof line, v->script)) {
        v->script_line++;
        snprintf(v->script_where, sizeof v->script_where, "%s:%d", v->script_path, v->script_line);
        char *tok[6] = { 0 };
        int nt = 0;
        char *save = NULL;
        for (char *p = strtok_r(line, " \t\r\n", &save); p && nt < 6; p = strtok_r(NULL, " \t\r\n", &save))
            tok[nt++] = p;
        if (nt == 0 || tok[0][0] == '#') continue;
        const char *c = tok[0];
        if (strcmp(c, "key") == 0 && nt == 2) {
            Uint16 mod = 0;
            const char *name = tok[1];
            for (;;) {
                if (strncmp(name, "shift+", 6) == 0) {
                    mod |= KMOD_LSHIFT;
                    name += 6;
                } else if (strncmp(name, "ctrl+", 5) == 0) {
                    mod |= KMOD_LCTRL;
                    name += 5;
                } else
                    break;
            }
            SDL_Keycode k = SDL_GetKeyFromName(name);
            if (k == SDLK_UNKNOWN) {
                script_fail(v, "unknown key '%s' (valid: SDL key names such as Space, F2, S, Right)", name);
                return;
            }
            push_key(k, mod);
            return; /* one frame per key: its effect is drawn */
        } else if ((strcmp(c, "click") == 0 || strcmp(c, "rclick") == 0) && nt == 3) {
            int sx, sy;
            if (script_site(v, tok[1], tok[2], &sx, &sy) != 0) return;
            int b = c[0] == 'r' ? SDL_BUTTON_RIGHT : SDL_BUTTON_LEFT;
            push_button(SDL_MOUSEBUTTONDOWN, b, sx, sy);
            push_button(SDL_MOUSEBUTTONUP, b, sx, sy);
            return;
        } else if (strcmp(c, "drag") == 0 && nt == 5) {
            int sx0, sy0, sx1, sy1;
            if (script_site(v, tok[1], tok[2], &sx0, &sy0) != 0 || script_site(v, tok[3], tok[4], &sx1, &sy1) != 0)
                return;
            site_to_screen(v, atoi(tok[1]), atoi(tok[2]), &sx0, &sy0);
            push_button(SDL_MOUSEBUTTONDOWN, SDL_BUTTON_LEFT, sx0, sy0);
            for (int k = 1; k <= 4; k++) push_motion(sx0 + (sx1 - sx0) * k / 4, sy0 + (sy1 - sy0) * k / 4);
            push_button(SDL_MOUSEBUTTONUP, SDL_BUTTON_LEFT, sx1, sy1);
            return;
        } else if (strcmp(c, "until") == 0 && nt == 2) {
            char *e;
            long long s = strtoll(tok[1], &e, 10);
            if (*e || s < 0) {
                script_fail(v, "until '%s' (valid: a step number >= 0)", tok[1]);
                return;
            }
            if ((long long)v->m->step < s) {
                v->target_step = s;
                v->playing = 1;
                v->speed = N_SPEEDS - 1;
                return;
            }
        } else if (strcmp(c, "beat") == 0 && nt == 2) {
            char *e;
            long b = strtol(tok[1], &e, 10);
            if (!v->story_on) {
                script_fail(v, "beat: no story is playing (use --story)");
                return;
            }
            if (*e || b < 1 || b > v->story->nbeats) {
                script_fail(v, "beat '%s' (valid: 1 .. %d, the story's beats)", tok[1], v->story->nbeats);
                return;
            }
            if (v->beat + 1 < b) {
                v->script_beat = (int)b;
                v->playing = 1;
                v->speed = N_SPEEDS - 1;
                return;
            }
        } else if (strcmp(c, "play") == 0 && nt == 1) {
            /* play at the speed set (past a story beat's pause), without Space's toggle */
            v->playing = 1;
        } else if (strcmp(c, "wait") == 0 && nt == 2) {
            v->script_wait = atoi(tok[1]);
            return;
        } else if (strcmp(c, "slider") == 0 && nt == 3) {
            int k = -1;
            for (int j = 0; j < v->nsl; j++)
                if (strcmp(v->sl[j].name, tok[1]) == 0) k = j;
            if (k < 0) {
                script_fail(v, "no slider '%s' (valid: the scenario's viewer.sliders)", tok[1]);
                return;
            }
            set_slider(v, k, strtod(tok[2], NULL));
        } else if (strcmp(c, "screenshot") == 0 && nt <= 2) {
            if (nt == 2) snprintf(v->shot_name, sizeof v->shot_name, "%s", tok[1]);
            v->want_shot = 1;
            return;
        } else if (strcmp(c, "dump") == 0 && nt == 2) {
            /* The renderer's image exactly as the window shows it. */
            char e2[300];
            bs_error err;
            if (update_image(v, e2, sizeof e2) != 0) {
                script_fail(v, "%s", e2);
                return;
            }
            if (bs_png_write(tok[1], &v->img, &err) != BS_OK) {
                script_fail(v, "%s", err.msg);
                return;
            }
        } else if (strcmp(c, "quit") == 0 && nt == 1) {
            v->quit = 1;
            return;
        } else {
            script_fail(v,
                    "cannot read '%s' (valid: key NAME, click X Y, rclick X Y, drag X0 Y0 X1 Y1, until STEP, "
                    "beat N, play, wait FRAMES, slider NAME VALUE, screenshot [FILE], dump FILE, quit)",
                    c);
            return;
        }
    }
    v->quit = 1; /* end of script */
}

/* ---- the loop ------------------------------------------------------------------------------ */

/* The simulation thread: the fixed tick, decoupled from drawing. An
 * accumulator turns wall time into ticks at the chosen speed ("as fast as
 * possible": a tick whenever the model is free). Every tick and every
 * access of the UI to the model hold v->lock; the UI takes it once per
 * frame for events and drawing and releases it for SDL_RenderPresent (the
 * slow part under X), so ticks run while the frame is shown. */
static int sim_main(void *arg)
{
    viewer *v = arg;
    double last = now_s();
    /* The thread count is an OpenMP setting of each thread. */
    omp_set_num_threads(v->omp_threads);
    while (!SDL_AtomicGet(&v->sim_stop)) {
        /* Let a waiting UI frame in first: a mutex is not fair. */
        if (SDL_AtomicGet(&v->ui_waiting)) SDL_Delay(1);
        SDL_LockMutex(v->lock);
        double t = now_s(), dt = t - last;
        last = t;
        int stepped = 0;
        if (v->playing) {
            double spd = SPEEDS[v->speed];
            double ticks_per_s = spd > 0 ? spd * 24.0 / v->m->dt_h : 1e9;
            v->acc_ticks += (dt > 0.25 ? 0.25 : dt) * ticks_per_s;
            /* Never carry more than 0.1 s of debt: a slow machine runs
             * slower instead of stuttering to catch up. */
            double cap = ticks_per_s * 0.1 > 1.0 ? ticks_per_s * 0.1 : 1.0;
            if (v->acc_ticks > cap) v->acc_ticks = cap;
            if (v->target_step >= 0 && (long long)v->m->step >= v->target_step) {
                v->playing = 0;
                v->acc_ticks = 0.0;
            } else if (v->acc_ticks >= 1.0) {
                bs_error err;
                if (sim_step(v, &err) != BS_OK) {
                    set_msg(v, "%s", err.msg);
                    v->playing = 0;
                }
                v->acc_ticks -= 1.0;
                stepped = 1;
            }
        } else {
            v->acc_ticks = 0.0;
        }
        int idle = !v->playing;
        SDL_UnlockMutex(v->lock);
        if (!stepped) SDL_Delay(idle ? 5 : 1);
    }
    return 0;
}

/* One frame: events and drawing under the model lock; returns -1 on a
 * fatal error (message in err). */
static int frame(viewer *v, layout *L, char *err, size_t n)
{
    script_tick(v);
    SDL_Event e;
    while (SDL_PollEvent(&e)) on_event(v, &e);
    if (v->quit) return 0;
    if (open_fonts(v, err, n) != 0) return -1;
    compute_layout(v, L);
    if (v->fit_pending) {
        fit_view(v);
        if (v->follow) frame_roi(v, 0);
        v->fit_pending = 0;
    }
    if (v->beat_view_pending && v->beat >= 0) {
        story_frame(v);
        v->beat_view_pending = 0;
    } else if (v->follow) {
        /* a scripted session jumps (same picture at any frame rate) */
        frame_roi(v, v->script == NULL);
    }
    if (update_image(v, err, n) != 0) return -1;
    const theme *th = TH(v);
    SDL_SetRenderDrawColor(v->ren, th->bg[0], th->bg[1], th->bg[2], 255);
    SDL_RenderClear(v->ren);
    draw_view(v);
    draw_top(v, L);
    draw_plot(v, L);
    draw_panel(v, L);
    draw_overlays(v, L);
    draw_events(v, L);
    draw_story(v, L);
    draw_colour_bar(v, L);
    draw_counters(v, L);
    draw_banner(v, L);
    draw_inspect(v, L);
    draw_info(v, L);
    draw_help(v, L);
    draw_picker(v, L);
    if (v->want_shot) {
        if (getenv("BONESIM_VIEW_LAYOUT")) {
            int lw = v->m->lat.w * v->px, lh = v->m->lat.h * v->px;
            fprintf(stderr,
                    "bonesim view: layout %dx%d, text %d px, lattice %.0fx%.0f px (%.0f %% of the height), panel %d "
                    "column(s), %d of %d panel blocks, %d of %d plot legend entries, zoom %.3f\n",
                    L->W, L->H, v->font_px, fmin(lw * v->zoom, v->view.w), fmin(lh * v->zoom, v->view.h),
                    100.0 * fmin(lh * v->zoom, v->view.h) / L->H, v->lay_cols, v->lay_blocks, v->lay_blocks_all,
                    v->lay_entries, v->lay_entries_all, v->zoom);
            if (v->story_on)
                fprintf(stderr, "bonesim view: story caption %d px high, beat %d of %d\n", v->cap_h, v->beat + 1,
                        v->story->nbeats);
        }
        screenshot(v);
        v->want_shot = 0;
    }
    if (v->recording) record_frame(v);
    return 0;
}

static int run(viewer *v)
{
    char err[BS_ERROR_MAX];
    if (open_fonts(v, err, sizeof err) != 0) {
        fprintf(stderr, "bonesim: %s\n", err);
        return BS_EXIT_ERROR;
    }
    layout L;
    compute_layout(v, &L);
    fit_view(v);
    v->lock = SDL_CreateMutex();
    v->sim_thread = v->lock ? SDL_CreateThread(sim_main, "bonesim-sim", v) : NULL;
    if (!v->sim_thread) {
        fprintf(stderr, "bonesim: cannot start the simulation thread: %s\n", SDL_GetError());
        return BS_EXIT_ERROR;
    }
    double fps_t0 = now_s();
    long fps_frames = 0;
    uint64_t fps_step0 = v->m->step;
    int code = BS_EXIT_OK;
    while (!v->quit) {
        /* SIGINT/SIGTERM (session.h): end the session as if quit. */
        int sig = bs_session_stop_signal();
        if (sig) {
            v->exit_code = sig == SIGTERM ? BS_EXIT_SIGTERM : BS_EXIT_SIGINT;
            break;
        }
        double t = now_s();
        v->frame++;
        SDL_AtomicSet(&v->ui_waiting, 1);
        SDL_LockMutex(v->lock);
        SDL_AtomicSet(&v->ui_waiting, 0);
        double td0 = now_s();
        int r = frame(v, &L, err, sizeof err);
        v->draw_s = 0.8 * v->draw_s + 0.2 * (now_s() - td0);
        fps_frames++;
        double el = now_s() - fps_t0;
        if (el >= 1.0) {
            v->fps = fps_frames / el;
            v->days_per_s = (double)(v->m->step - fps_step0) * v->m->dt_h / 24.0 / el;
            if (getenv("BONESIM_VIEW_STATS"))
                fprintf(stderr,
                        "bonesim view: %.1f fps, %.2f simulated days/s, day %.1f (per frame: drawing %.1f ms, "
                        "present %.1f ms)\n",
                        v->fps, v->days_per_s, bs_model_time_days(v->m), 1e3 * v->draw_s, 1e3 * v->present_s);
            fps_t0 = now_s();
            fps_frames = 0;
            fps_step0 = v->m->step;
        }
        int playing = v->playing;
        SDL_UnlockMutex(v->lock);
        if (r != 0) {
            fprintf(stderr, "bonesim: %s\n", err);
            code = BS_EXIT_ERROR;
            break;
        }
        if (v->quit) break;
        double tp0 = now_s();
        SDL_RenderPresent(v->ren);
        v->present_s = 0.8 * v->present_s + 0.2 * (now_s() - tp0);
        cache_sweep(v);
        /* At most 40 fps while playing (drawing leaves the cores to the
         * ticks; 30+ is smooth enough) and 60 while paused (dragging feels
         * direct), idling gently; a paused script runs flat out. */
        double spent = now_s() - t, period = playing ? 0.025 : 0.016;
        if ((playing || !v->script) && !v->recording && spent < period)
            SDL_Delay((Uint32)((period - spent) * 1000.0) + (playing ? 0 : 10));
    }
    SDL_AtomicSet(&v->sim_stop, 1);
    SDL_WaitThread(v->sim_thread, NULL);
    v->sim_thread = NULL;
    SDL_DestroyMutex(v->lock);
    v->lock = NULL;
    return code ? code : v->exit_code;
}

static void shutdown_sdl(viewer *v)
{
    cache_clear(v);
    wrap_clear();
    if (v->tex) SDL_DestroyTexture(v->tex);
    if (v->tex_b) SDL_DestroyTexture(v->tex_b);
    if (v->font) TTF_CloseFont(v->font);
    if (v->big) TTF_CloseFont(v->big);
    if (v->ren) SDL_DestroyRenderer(v->ren);
    if (v->win) SDL_DestroyWindow(v->win);
    if (TTF_WasInit()) TTF_Quit();
    SDL_Quit();
}

static void viewer_free(viewer *v)
{
    stop_recording(v); /* a recording still on when the viewer closes is kept */
    bs_session_free(&v->S);
    bs_session_free(&v->SB);
    bs_image_free(&v->img_b);
    session_sync(v);
    bs_image_free(&v->img);
    free(v->classes);
    free(v->hist);
    if (v->ev) bs_events_free(v->ev);
    free(v->ev);
    free(v->story);
    free(v->kept);
    if (v->script) fclose(v->script);
}

int bs_cmd_view(int argc, char **argv)
{
    viewer *v = calloc(1, sizeof *v);
    if (!v) {
        fprintf(stderr, "bonesim: out of memory\n");
        return BS_EXIT_ERROR;
    }
    bs_session_init(&v->S);
    bs_session_init(&v->SB);
    char msg[BS_ERROR_MAX];
    int r = parse_opts(v, argc, argv, msg, sizeof msg);
    if (r != 0) {
        if (r > 0)
            bs_view_usage();
        else
            fprintf(stderr, "bonesim: %s\n", msg);
        free(v);
        return r > 0 ? BS_EXIT_OK : BS_EXIT_USAGE;
    }
    v->speed = DEFAULT_SPEED;
    v->field = -1;
    v->target_step = -1;
    v->light_theme = v->light;
    v->hist = calloc(HIST_CAP, sizeof *v->hist);
    v->hist_every_d = 0.25;
    int code = BS_EXIT_OK;
    bs_error err;
    if (!v->hist) {
        fprintf(stderr, "bonesim: out of memory\n");
        free(v);
        return BS_EXIT_ERROR;
    }
    if (v->script_path && !(v->script = fopen(v->script_path, "r"))) {
        fprintf(stderr, "bonesim: %s: cannot read (%s)\n", v->script_path, strerror(errno));
        viewer_free(v);
        free(v);
        return BS_EXIT_USAGE;
    }
    if (find_font(v, msg, sizeof msg) != 0) {
        fprintf(stderr, "bonesim: %s\n", msg);
        viewer_free(v);
        free(v);
        return BS_EXIT_ERROR;
    }
    bs_session_signals();
    bs_status st = session_open(v, &err);
    if (st == BS_OK) st = session_open_beside(v, &err);
    if (st != BS_OK) {
        fprintf(stderr, "bonesim: %s\n", err.msg);
        session_close(v);
        viewer_free(v);
        free(v);
        return st == BS_ERR_INVALID ? BS_EXIT_USAGE : BS_EXIT_ERROR;
    }
    if (SDL_Init(SDL_INIT_VIDEO) != 0) {
        fprintf(stderr,
                "bonesim: cannot start SDL video: %s (no display? try xvfb-run, or SDL_VIDEODRIVER=dummy "
                "for scripted runs)\n",
                SDL_GetError());
        code = BS_EXIT_ERROR;
    } else if (TTF_Init() != 0) {
        fprintf(stderr, "bonesim: cannot start SDL2_ttf: %s\n", TTF_GetError());
        code = BS_EXIT_ERROR;
    } else {
        char title[512];
        snprintf(title, sizeof title, "bonesim %s — %s", BS_VERSION, v->scenario);
        /* Full screen: a borderless window of the display's real size at
         * its origin, then asked to be full screen. Without a window
         * manager the request goes unanswered (X11 leaves the window as it
         * was made), so the window must already have the display's size. */
        int wx = SDL_WINDOWPOS_CENTERED, wy = SDL_WINDOWPOS_CENTERED, ww = v->win_w, wh = v->win_h;
        SDL_Rect db;
        if (v->fullscreen && SDL_GetDisplayBounds(0, &db) == 0 && db.w > 0 && db.h > 0) {
            wx = db.x;
            wy = db.y;
            ww = db.w;
            wh = db.h;
        }
        v->win = SDL_CreateWindow(title, wx, wy, ww, wh,
                SDL_WINDOW_RESIZABLE | (v->fullscreen ? SDL_WINDOW_FULLSCREEN_DESKTOP | SDL_WINDOW_BORDERLESS : 0));
        if (v->win) {
            v->ren = SDL_CreateRenderer(v->win, -1, SDL_RENDERER_ACCELERATED);
            if (!v->ren) v->ren = SDL_CreateRenderer(v->win, -1, SDL_RENDERER_SOFTWARE);
        }
        if (!v->win || !v->ren) {
            fprintf(stderr, "bonesim: cannot open a window: %s\n", SDL_GetError());
            code = BS_EXIT_ERROR;
        } else {
            code = run(v);
        }
    }
    session_close(v);
    if (code == BS_EXIT_OK)
        printf("bonesim view: session in %s (timeseries.csv, actions.log); replay with\n  bonesim run %s%s "
               "--replay %s --out DIR\n",
                v->outdir, v->scenario_arg, v->nsets ? " [the same --set options]" : "", v->S.live_log_path);
    shutdown_sdl(v);
    /* The picker chose a scenario: the viewer starts again on it with the
     * same window options (a new session folder; its story if it has one). */
    char restart[128];
    snprintf(restart, sizeof restart, "%s", v->restart);
    if (restart[0] && code == BS_EXIT_OK) {
        char exe[4096], size[64], ui[32], thr[32], spath[4400];
        ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
        if (n > 0) {
            exe[n] = '\0';
            char *args[24];
            int k = 0;
            args[k++] = exe;
            args[k++] = (char *)"view";
            /* the chosen file by its path (the folder it was listed from) */
            char dir0[4096], rpath[4400];
            snprintf(dir0, sizeof dir0, "%s", v->scenario_path);
            char *sl0 = strrchr(dir0, '/');
            if (sl0) *sl0 = '\0';
            snprintf(rpath, sizeof rpath, "%s/%s.ini", sl0 ? dir0 : ".", restart);
            args[k++] = rpath;
            snprintf(size, sizeof size, "%dx%d", v->win_w, v->win_h);
            args[k++] = (char *)"--size";
            args[k++] = size;
            snprintf(ui, sizeof ui, "%g", v->ui_scale);
            args[k++] = (char *)"--ui-scale";
            args[k++] = ui;
            if (v->threads > 0) {
                snprintf(thr, sizeof thr, "%d", v->threads);
                args[k++] = (char *)"--threads";
                args[k++] = thr;
            }
            if (v->present) args[k++] = (char *)"--present";
            if (v->light_theme) args[k++] = (char *)"--light";
            if (v->fullscreen) args[k++] = (char *)"--fullscreen";
            if (v->font_opt) {
                args[k++] = (char *)"--font";
                args[k++] = (char *)v->font_opt;
            }
            char dir[4096];
            snprintf(dir, sizeof dir, "%s", v->scenario_path);
            char *slash = strrchr(dir, '/');
            if (slash) *slash = '\0';
            snprintf(spath, sizeof spath, "%s/%s.story", slash ? dir : ".", restart);
            if (v->story_on && bs_path_exists(spath)) args[k++] = (char *)"--story";
            args[k] = NULL;
            viewer_free(v);
            free(v);
            fflush(NULL);
            execv(exe, args);
            fprintf(stderr, "bonesim: cannot start the viewer again on %s (%s)\n", restart, strerror(errno));
            return BS_EXIT_ERROR;
        }
        fprintf(stderr, "bonesim: cannot find this program to open %s (%s); run bonesim view %s\n", restart,
                strerror(errno), restart);
    }
    viewer_free(v);
    free(v);
    return code;
}
