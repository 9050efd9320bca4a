/* session.h — the one session loop behind `bonesim run`, `resume`,
 * `run --replay` and the live viewer.
 *
 * A session is a model with its outputs: the output folder (locked for the
 * session's lifetime), the CSV time series, PNG snapshots, checkpoints, the
 * manifest with its list of outputs, and the live actions (applied now and
 * logged, or replayed from a log at their steps). Every front end drives
 * the same calls in the same order, so a replayed viewer session and a
 * headless run write the same bytes:
 *
 *   at step k:  actions (live or replayed)
 *               bs_session_outputs: a checkpoint if due (the state before
 *               k's outputs), then k's CSV row and snapshot if due
 *               bs_session_step: the outputs if not yet written, then the
 *               model step k -> k+1
 *   at the end: bs_session_outputs(last = 1), bs_session_finish
 *
 * The headless front end is bs_session_run: that loop with no window (a
 * null back end), the stop flag read every iteration. The viewer calls
 * bs_session_step from its clock and bs_session_apply from its input.
 *
 * Signals (bs_session_signals): SIGINT/SIGTERM set a stop flag; the loop
 * writes a checkpoint and ends LOOP_STOPPED; a second signal stops at once,
 * removing the one temporary file being written. SIGXFSZ is ignored, so a
 * file-size limit is a write error (EFBIG) like any other. */
#ifndef BS_SESSION_H
#define BS_SESSION_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "actions.h"
#include "bs_status.h"
#include "model.h"
#include "output.h"
#include "params.h"

/* What the session loop needs to continue its CSV, PNG and checkpoint
 * schedules exactly where they were; saved in every checkpoint (as the
 * model's extra sections, bs_model_save). Times in days. */
typedef struct {
    char version[64]; /* bonesim version that wrote the checkpoint */
    char commit[64]; /* its git commit */
    char scenario[256]; /* scenario name: PNG titles */
    char scenario_arg[1024]; /* as given on the command line (manifest) */
    char scenario_path[4096]; /* resolved path (manifest) */
    double next_csv_d, next_png_d, next_ckpt_d; /* next scheduled times */
    double ckpt_every_d; /* checkpoint interval, 0 = none */
    double acc_resorbed_um2, acc_formed_um2; /* sums since the last CSV row */
    double last_row_d; /* time of the last CSV row */
    double first_bone_area_um2; /* of the first CSV row (summary) */
    int64_t csv_bytes; /* length of timeseries.csv at the checkpoint */
    uint64_t csv_hash; /* FNV-1a of those bytes */
    int64_t png_count; /* snapshots written so far */
    int32_t no_png; /* run --no-png: a resumed run writes none either */
} bs_run_state;

/* The run state as checkpoint sections (for bs_model_save and
 * bs_model_load_params): fills out[0 .. BS_RUN_SECTIONS-1] with blocks
 * pointing into *rs. */
#define BS_RUN_SECTIONS 17
void bs_run_state_sections(bs_run_state *rs, bs_ckpt_extra *out);

typedef enum { BS_LOOP_DONE, BS_LOOP_STOPPED, BS_LOOP_FAILED } bs_loop_end;

typedef struct {
    bs_registry *reg;
    bs_paramset *ps;
    bs_model *m;
    const uint8_t *classes; /* the mask (caller's), for a reset; may be NULL */
    bs_run_state rs;
    bs_output out;
    char outdir[4096];
    char csv_path[4200];
    long long csv_len; /* bytes of whole rows in the CSV */
    uint64_t csv_hash; /* FNV-1a of those bytes */
    int csv_rfd; /* read-only descriptor of the CSV, -1 until opened */
    int csv_created; /* this session created the CSV (removed if set-up fails) */
    int lock_fd; /* the output folder's lock (.bonesim.lock), -1 until taken */
    char **outputs; /* names of the files this run (and, resumed in place, its
                       earlier legs) wrote into the folder: the manifest's list */
    int noutputs, cap_outputs;
    char last_ckpt[4400];
    long nckpt;
    int threads, quiet, no_png, progress; /* progress: a bar on stderr */
    double days; /* run.days: the manifest's; the headless end */
    long steps; /* bs_session_run ends at this step */
    uint64_t k0; /* the step the session started at (resume) */
    int outputs_done; /* the outputs of the current step were written */
    bs_obs obs; /* the last row's observables */
    double t_out_s; /* wall time spent writing outputs */
    bs_action_log replay; /* run --replay: applied from replay.a[next_action] on */
    size_t next_action;
    FILE *live_log; /* the viewer's action log, or NULL */
    struct bs_spatial *sp; /* spatial snapshots (viz/cli/spatial_output.h), NULL when off */
    char live_log_path[4200];
    /* run --video FILE: a frame of the snapshot picture every video_every_d
     * and at the end (viz/image/video.h); closed by bs_session_finish,
     * abandoned (no file) by bs_session_free after a failure. */
    int png_region[4]; /* --png-region in sites; all 0 = the whole lattice */
    struct bs_video *video;
    double video_every_d, next_video_d;
    bs_image video_img;
} bs_session;

void bs_session_init(bs_session *s);
/* Closes the CSV and the log, frees the model, params and replay log, and
 * releases the folder lock. */
void bs_session_free(bs_session *s);

/* SIGINT/SIGTERM -> stop flag, second one -> stop now; SIGXFSZ ignored.
 * bs_session_stop_signal: the first signal received, 0 if none. */
void bs_session_signals(void);
int bs_session_stop_signal(void);

/* Is an output of period `every` days due at time t (days)? Advances *next
 * past t. The slack absorbs the rounding of t = step * dt. every must be 0
 * or at least one step (bs_check_intervals in runner.h), so the advance is
 * a step or two. */
int bs_run_due(double t, double every, double *next);

/* The output folder s->outdir: created, locked (a second session into it
 * is refused with the holder's pid, --force or not), temporaries of a
 * killed write removed, and with force the files the manifest of the
 * earlier run lists removed (nothing else). in_place: a resume continuing
 * in the checkpoint's own folder, whose files are this run's. */
bs_status bs_session_folder(bs_session *s, int force, int in_place, bs_error *err);
/* Removes the files DIR/manifest.json lists as the outputs of the run that
 * wrote there (what `bonesim run --force` removes), and nothing else. */
bs_status bs_session_remove_outputs(const char *dir, bs_error *err);
/* A new CSV (header only) in the folder; force: replace an existing one. */
bs_status bs_session_csv_new(bs_session *s, int force, bs_error *err);
/* A resume's CSV: in place, cut back to the checkpoint's rows (after
 * checking they are this run's); in a new folder, the rows before the
 * checkpoint copied from src_dir's CSV when it matches. */
bs_status bs_session_csv_continue(bs_session *s, const char *src_dir, int in_place, int force, bs_error *err);
/* The manifest with the list of outputs (atomic). */
bs_status bs_session_manifest(bs_session *s, bs_error *err);

/* The set-up failed: a CSV this session created but never wrote a row to
 * is removed (a full disk at the start leaves nothing that needs --force). */
void bs_session_abandon(bs_session *s);

/* Checkpoint of the current state (s->outdir/checkpoint_dayNNNN.NNN.ckpt). */
bs_status bs_session_checkpoint(bs_session *s, bs_error *err);
/* The model and run state from an open checkpoint: bs_session_load_params
 * fills s->ps and s->rs (the caller may change what only the loop reads:
 * run.days, output intervals), bs_session_load_model builds s->m. */
bs_status bs_session_load_params(bs_session *s, bs_ckpt_reader *rd, bs_error *err);
bs_status bs_session_load_model(bs_session *s, bs_ckpt_reader *rd, bs_error *err);

/* The outputs due at the current step, once per step: a checkpoint if due
 * (or, last, the final one), then the CSV row (due, step 0 or last) and
 * the snapshot (due or last, unless no_png). */
bs_status bs_session_outputs(bs_session *s, int last, bs_error *err);
/* The current step's outputs if not yet written, then one model step. */
bs_status bs_session_step(bs_session *s, bs_error *err);

/* A live action, applied at the current step and appended to the live
 * log; a reset rebuilds the model from the session's parameters with the
 * action's seed and starts the CSV again. */
bs_status bs_session_apply(bs_session *s, bs_action *a, bs_error *err);
/* The live log: its header says how to replay it; `0 reset SEED` first. */
bs_status bs_session_log_open(
        bs_session *s, const char *path, const char *scenario_arg, const char *const *sets, int nsets, bs_error *err);

/* The headless loop from s->m->step to s->steps: the stop flag, replayed
 * actions, outputs and steps; *wall_s its wall time. */
bs_loop_end bs_session_run(bs_session *s, double *wall_s, bs_error *err);

/* The end: the video finished, the CSV closed, the manifest written. */
bs_status bs_session_finish(bs_session *s, bs_error *err);

#endif
