/* viewer.h — `bonesim view`: the live SDL2 viewer (built when SDL2 and
 * SDL2_ttf are found; the engine and agents never include SDL).
 *
 * The window shows the image of the one renderer (viz/image/render.h) — the
 * same pixels as a PNG snapshot at that step — with integer zoom and pan,
 * and adds the UI around it: run control, legend with live counts, a
 * population plot, field heat maps, inspection, injection, therapy keys,
 * parameter sliders, help and scenario info, screenshots and recording.
 * Every live change goes through agents/actions.h and is logged to
 * OUT/actions.log, so `bonesim run SCENARIO --replay OUT/actions.log`
 * reproduces the session's OUT/timeseries.csv byte for byte. */
#ifndef BS_VIEWER_H
#define BS_VIEWER_H

/* Parses the options after "view" and runs the viewer; returns an exit
 * code (BS_EXIT_*), printing any error as "bonesim: ...". */
int bs_cmd_view(int argc, char **argv);
/* Prints `bonesim view --help`. */
void bs_view_usage(void);

#endif
