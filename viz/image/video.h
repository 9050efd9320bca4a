/* video.h — videos from rendered frames (bs_render's images).
 *
 * The file's extension picks the writer:
 *   .mp4  an `ffmpeg` child process (found on PATH, or $BONESIM_FFMPEG)
 *         reading raw RGB frames on a pipe; H.264 (or ffmpeg's default
 *         MP4 codec), yuv420p, odd sizes padded by one pixel;
 *   .gif  giflib (when built with it): GIF89a, looping, a palette per
 *         frame (the frame's colours when it has at most 256, else its 256
 *         most frequent colours, every other colour drawn as the nearest
 *         of them).
 * Any other extension, an MP4 without ffmpeg or a GIF without giflib is
 * an error that names the way out. Frames all have the first frame's size.
 *
 * Files are written to PATH.tmp.<pid> and renamed into place at
 * bs_video_close, so an interrupted run never leaves a half video under
 * the real name. GIF bytes depend only on the frames; MP4 bytes also on the
 * ffmpeg build (bit-exact flags are passed, so the same ffmpeg gives the
 * same bytes). */
#ifndef BS_VIDEO_H
#define BS_VIDEO_H

#include "bs_status.h"
#include "image.h"

typedef struct bs_video bs_video;

/* Is an MP4 (an ffmpeg on PATH; $BONESIM_FFMPEG=none hides it) or a GIF
 * (built with giflib) possible here? */
int bs_video_mp4_possible(void);
int bs_video_gif_possible(void);
/* "mp4" when an MP4 is possible, else "gif" when a GIF is, else NULL:
 * what the viewer's V records. */
const char *bs_video_default_ext(void);

/* Checks path's extension and that its writer is available; nothing is
 * created. The error says what to do instead. */
bs_status bs_video_check(const char *path, bs_error *err);
/* Opens a video of `fps` frames per second (1 .. 60). Nothing is written
 * until the first frame. */
bs_status bs_video_open(bs_video **v, const char *path, int fps, bs_error *err);
/* Appends a frame; it must be as large as the first. */
bs_status bs_video_frame(bs_video *v, const bs_image *im, bs_error *err);
long bs_video_frames(const bs_video *v);
const char *bs_video_path(const bs_video *v);
/* Finishes the file (ffmpeg's exit status checked), renames it into
 * place and frees v. A video with no frames is not written (an error). */
bs_status bs_video_close(bs_video *v, bs_error *err);
/* Stops without a file: the temporary is removed, v freed. NULL is fine. */
void bs_video_abort(bs_video *v);

#endif
