/*
 * Image files: streaming JPEG writing, PNG reading and writing, and the
 * temp-name-then-rename rule every output follows.
 */
#pragma once

#include <glib.h>
#include <stdint.h>
#include <stdio.h>

G_BEGIN_DECLS

/* ---- Atomic output files --------------------------------------------- */

/*
 * An output file written under a temporary name in the same directory and
 * renamed over `path` by sf_output_commit() once complete (after fsync), so
 * readers never see a half-written file. sf_output_abort() (or freeing an
 * uncommitted output) removes the temporary file.
 */
typedef struct sf_output sf_output;

sf_output *sf_output_create(const char *path, GError **error);
FILE *sf_output_stream(sf_output *output);
const char *sf_output_path(const sf_output *output);
gboolean sf_output_commit(sf_output *output, GError **error); /* frees */
void sf_output_abort(sf_output *output);                      /* frees */
G_DEFINE_AUTOPTR_CLEANUP_FUNC(sf_output, sf_output_abort)

/* When `name` is the temporary name of an sf_output in progress (or left
 * by a killed process), the name of the file it becomes; NULL otherwise.
 * g_free it. */
char *sf_output_temp_target(const char *name);

/* Writes `length` bytes atomically. */
gboolean sf_write_file_atomic(const char *path, const void *data, size_t length, GError **error);

/* ---- JPEG (libjpeg-turbo scanline API) ------------------------------- */

/* Encodes rows as they arrive; memory is one JPEG compressor, not the image. */
typedef struct sf_jpeg_writer sf_jpeg_writer;

/* Errors: SF_EXIT_USAGE when a side exceeds JPEG's 65,535 px, SF_EXIT_OUTPUT
 * when the file cannot be created. */
sf_jpeg_writer *sf_jpeg_writer_open(const char *path, int width, int height, int quality,
                                    GError **error);
/* rows: n_rows rows of width*3 RGB bytes, tightly packed. */
gboolean sf_jpeg_writer_write(sf_jpeg_writer *writer, const uint8_t *rows, int n_rows,
                              GError **error);
/* Finishes, checks every row was written, renames into place; frees. */
gboolean sf_jpeg_writer_finish(sf_jpeg_writer *writer, GError **error);
/* sf_jpeg_writer_finish() but the commit: the JPEG is whole in its
 * temporary file, and the caller commits it (sf_output_commit(), from any
 * thread: its fsync need not hold up the encoding) or aborts it. Frees the
 * writer; NULL on error. */
sf_output *sf_jpeg_writer_finish_data(sf_jpeg_writer *writer, GError **error);
void sf_jpeg_writer_abort(sf_jpeg_writer *writer); /* frees, removes temp */
G_DEFINE_AUTOPTR_CLEANUP_FUNC(sf_jpeg_writer, sf_jpeg_writer_abort)

/* An sf_row_sink (see slide.h) whose user_data is an sf_jpeg_writer. */
gboolean sf_jpeg_row_sink(const uint8_t *rows, int first_row, int n_rows, void *user_data,
                          GError **error);

/* Whole-buffer convenience: channels 1 (grey) or 3 (RGB), stride in bytes. */
gboolean sf_jpeg_save(const char *path, const uint8_t *pixels, int width, int height, int channels,
                      size_t stride, int quality, GError **error);

/* Decodes a JPEG file to RGB (channels = 3); g_free the result. */
uint8_t *sf_jpeg_load(const char *path, int *width, int *height, GError **error);

/* A JPEG file as RGB no larger than max_side on its longer side (the aspect
 * kept), decoded at 1/2, 1/4 or 1/8 where that suffices and area-averaged:
 * a thumbnail of a large fragment without decoding it whole. g_free it. */
uint8_t *sf_jpeg_load_thumbnail(const char *path, int max_side, int *width, int *height,
                                GError **error);

/* Encodes pixels (channels 1 or 3) as a JPEG in memory; g_free the bytes. */
uint8_t *sf_jpeg_encode(const uint8_t *pixels, int width, int height, int channels, size_t stride,
                        int quality, size_t *length, GError **error);

/* ---- PNG (libpng) ---------------------------------------------------- */

/* channels 1 (grey) or 3 (RGB). */
gboolean sf_png_save(const char *path, const uint8_t *pixels, int width, int height, int channels,
                     size_t stride, GError **error);

/* Loads any 8-bit PNG converted to `channels` (1: grey as libpng computes it,
 * only exact for grey input; 3: RGB, alpha dropped). g_free the result,
 * stride = width * channels. */
uint8_t *sf_png_load(const char *path, int channels, int *width, int *height, GError **error);

G_END_DECLS
