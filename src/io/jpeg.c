/*
 * JPEG through libjpeg(-turbo)'s scanline API. Fragments can be far larger
 * than memory, so the writer encodes rows as they arrive and holds only the
 * compressor's own buffers.
 *
 * libjpeg reports errors by calling error_exit(), which must not return: ours
 * longjmp()s back to the public function that made the call, which turns the
 * message into a GError. Every function calling libjpeg sets the jump point
 * first.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>

#include "slidefrag/error.h"
#include "slidefrag/image_io.h"

typedef struct {
    struct jpeg_error_mgr mgr; /* first, so a j_common_ptr's err casts to us */
    jmp_buf jump;
    char message[JMSG_LENGTH_MAX];
} jpeg_error;

static void error_exit(j_common_ptr cinfo)
{
    jpeg_error *err = (jpeg_error *)cinfo->err;
    (*cinfo->err->format_message)(cinfo, err->message);
    longjmp(err->jump, 1);
}

/* Warnings mean corrupt data ("Premature end of JPEG file", "Corrupt JPEG
 * data"): libjpeg would carry on and fill in grey, which for our purposes is
 * a wrong image, so they fail like errors. Trace messages are dropped. */
static void emit_message(j_common_ptr cinfo, int msg_level)
{
    if (msg_level < 0)
        error_exit(cinfo);
}

static void output_message(j_common_ptr cinfo)
{
    (void)cinfo;
}

static struct jpeg_error_mgr *jpeg_error_init(jpeg_error *err)
{
    jpeg_std_error(&err->mgr);
    err->mgr.error_exit = error_exit;
    err->mgr.emit_message = emit_message;
    err->mgr.output_message = output_message;
    err->message[0] = '\0';
    return &err->mgr;
}

/* ---- Writer ---------------------------------------------------------- */

struct sf_jpeg_writer {
    struct jpeg_compress_struct cinfo;
    jpeg_error err;
    sf_output *output;
    int width, height, components;
    int rows_written;
    gboolean created; /* cinfo needs jpeg_destroy_compress() */
    gboolean failed;  /* libjpeg's state is undefined after an error */
};

static void writer_free(sf_jpeg_writer *writer)
{
    if (writer->created)
        jpeg_destroy_compress(&writer->cinfo);
    sf_output_abort(writer->output);
    g_free(writer);
}

static void set_libjpeg_error(sf_jpeg_writer *writer, GError **error)
{
    writer->failed = TRUE;
    g_set_error(error, SF_ERROR, SF_EXIT_OUTPUT, "cannot write JPEG %s: %s",
                sf_output_path(writer->output), writer->err.message);
}

static gboolean check_size(const char *path, int width, int height, GError **error)
{
    if (width <= 0 || height <= 0) {
        g_set_error(error, SF_ERROR, SF_EXIT_USAGE, "cannot write JPEG %s: empty image (%dx%d)",
                    path, width, height);
        return FALSE;
    }
    /* The format stores 16-bit sides (65,535); libjpeg stops a little short
     * of that to avoid overflows in its own arithmetic. */
    if (width > JPEG_MAX_DIMENSION || height > JPEG_MAX_DIMENSION) {
        g_set_error(error, SF_ERROR, SF_EXIT_USAGE,
                    "cannot write JPEG %s: the fragment is %dx%d pixels, which exceeds JPEG's "
                    "65,535-pixel limit per side (libjpeg writes at most %ld); pick a coarser "
                    "fragment resolution with --fragment-downsample or --fragment-max-size",
                    path, width, height, (long)JPEG_MAX_DIMENSION);
        return FALSE;
    }
    return TRUE;
}

static sf_jpeg_writer *writer_open(const char *path, int width, int height, int components,
                                   int quality, GError **error)
{
    if (!check_size(path, width, height, error))
        return NULL;
    if (quality < 1 || quality > 100) {
        g_set_error(error, SF_ERROR, SF_EXIT_USAGE,
                    "cannot write JPEG %s: quality %d is not between 1 and 100", path, quality);
        return NULL;
    }
    sf_output *output = sf_output_create(path, error);
    if (!output)
        return NULL;

    sf_jpeg_writer *writer = g_new0(sf_jpeg_writer, 1);
    writer->output = output;
    writer->width = width;
    writer->height = height;
    writer->components = components;
    struct jpeg_compress_struct *cinfo = &writer->cinfo;
    cinfo->err = jpeg_error_init(&writer->err);
    if (setjmp(writer->err.jump)) {
        set_libjpeg_error(writer, error);
        writer_free(writer);
        return NULL;
    }
    jpeg_create_compress(cinfo);
    writer->created = TRUE;
    jpeg_stdio_dest(cinfo, sf_output_stream(output));
    cinfo->image_width = (JDIMENSION)width;
    cinfo->image_height = (JDIMENSION)height;
    cinfo->input_components = components;
    cinfo->in_color_space = components == 1 ? JCS_GRAYSCALE : JCS_RGB;
    /* The defaults: YCbCr with 4:2:0 chroma subsampling, baseline, JFIF
     * header, islow DCT. Huffman optimisation stays off (the default): it
     * would need a second pass over the whole image. */
    jpeg_set_defaults(cinfo);
    jpeg_set_quality(cinfo, quality, TRUE);
    cinfo->optimize_coding = FALSE;
    cinfo->write_JFIF_header = TRUE;
    jpeg_start_compress(cinfo, TRUE);
    return writer;
}

sf_jpeg_writer *sf_jpeg_writer_open(const char *path, int width, int height, int quality,
                                    GError **error)
{
    g_return_val_if_fail(path != NULL, NULL);
    return writer_open(path, width, height, 3, quality, error);
}

static gboolean writer_write(sf_jpeg_writer *writer, const uint8_t *rows, int n_rows, size_t stride,
                             GError **error)
{
    const char *path = sf_output_path(writer->output);
    if (writer->failed) {
        g_set_error(error, SF_ERROR, SF_EXIT_OUTPUT,
                    "cannot write JPEG %s: an earlier write failed", path);
        return FALSE;
    }
    if (n_rows < 0 || n_rows > writer->height - writer->rows_written) {
        writer->failed = TRUE;
        g_set_error(error, SF_ERROR, SF_EXIT_FAILURE,
                    "cannot write JPEG %s: %d more rows after %d of %d", path, n_rows,
                    writer->rows_written, writer->height);
        return FALSE;
    }
    if (setjmp(writer->err.jump)) {
        set_libjpeg_error(writer, error);
        return FALSE;
    }
    /* Many rows a call: libjpeg takes what it can and says how many. */
    for (int i = 0; i < n_rows;) {
        JSAMPROW batch[32];
        int n = MIN(n_rows - i, (int)G_N_ELEMENTS(batch));
        for (int k = 0; k < n; k++)
            /* libjpeg's prototype is not const-correct; it only reads rows. */
            batch[k] = (JSAMPROW)(rows + (size_t)(i + k) * stride);
        int done = (int)jpeg_write_scanlines(&writer->cinfo, batch, (JDIMENSION)n);
        if (done <= 0) { /* only a suspending destination stops; ours does not */
            writer->failed = TRUE;
            g_set_error(error, SF_ERROR, SF_EXIT_FAILURE, "cannot write JPEG %s: libjpeg stalled",
                        path);
            return FALSE;
        }
        i += done;
        writer->rows_written += done;
    }
    return TRUE;
}

gboolean sf_jpeg_writer_write(sf_jpeg_writer *writer, const uint8_t *rows, int n_rows,
                              GError **error)
{
    g_return_val_if_fail(writer != NULL, FALSE);
    return writer_write(writer, rows, n_rows, (size_t)writer->width * writer->components, error);
}

sf_output *sf_jpeg_writer_finish_data(sf_jpeg_writer *writer, GError **error)
{
    g_return_val_if_fail(writer != NULL, NULL);
    const char *path = sf_output_path(writer->output);
    if (writer->failed) {
        g_set_error(error, SF_ERROR, SF_EXIT_OUTPUT,
                    "cannot write JPEG %s: an earlier write failed", path);
        writer_free(writer);
        return NULL;
    }
    if (writer->rows_written != writer->height) {
        g_set_error(error, SF_ERROR, SF_EXIT_FAILURE,
                    "cannot write JPEG %s: only %d of %d rows were written", path,
                    writer->rows_written, writer->height);
        writer_free(writer);
        return NULL;
    }
    if (setjmp(writer->err.jump)) {
        set_libjpeg_error(writer, error);
        writer_free(writer);
        return NULL;
    }
    jpeg_finish_compress(&writer->cinfo);
    sf_output *output = writer->output;
    writer->output = NULL;
    writer_free(writer);
    return output;
}

gboolean sf_jpeg_writer_finish(sf_jpeg_writer *writer, GError **error)
{
    g_return_val_if_fail(writer != NULL, FALSE);
    sf_output *output = sf_jpeg_writer_finish_data(writer, error);
    return output && sf_output_commit(output, error);
}

void sf_jpeg_writer_abort(sf_jpeg_writer *writer)
{
    if (writer)
        writer_free(writer);
}

gboolean sf_jpeg_row_sink(const uint8_t *rows, int first_row, int n_rows, void *user_data,
                          GError **error)
{
    sf_jpeg_writer *writer = user_data;
    if (first_row != writer->rows_written) {
        writer->failed = TRUE;
        g_set_error(error, SF_ERROR, SF_EXIT_FAILURE,
                    "cannot write JPEG %s: rows arrive from %d, expected %d",
                    sf_output_path(writer->output), first_row, writer->rows_written);
        return FALSE;
    }
    return sf_jpeg_writer_write(writer, rows, n_rows, error);
}

gboolean sf_jpeg_save(const char *path, const uint8_t *pixels, int width, int height, int channels,
                      size_t stride, int quality, GError **error)
{
    g_return_val_if_fail(path != NULL, FALSE);
    if (channels != 1 && channels != 3) {
        g_set_error(error, SF_ERROR, SF_EXIT_FAILURE,
                    "cannot write JPEG %s: %d channels (1 or 3 are supported)", path, channels);
        return FALSE;
    }
    if (width > 0 && stride < (size_t)width * channels) {
        g_set_error(error, SF_ERROR, SF_EXIT_FAILURE,
                    "cannot write JPEG %s: stride %zu is below the row size", path, stride);
        return FALSE;
    }
    g_autoptr(sf_jpeg_writer) writer = writer_open(path, width, height, channels, quality, error);
    if (!writer || !writer_write(writer, pixels, height, stride, error))
        return FALSE;
    return sf_jpeg_writer_finish(g_steal_pointer(&writer), error);
}

/* ---- Reader ---------------------------------------------------------- */

typedef struct {
    struct jpeg_decompress_struct cinfo;
    jpeg_error err;
    FILE *file;
    uint8_t *pixels;
} jpeg_reader;

static void reader_free(jpeg_reader *reader)
{
    jpeg_destroy_decompress(&reader->cinfo);
    if (reader->file)
        fclose(reader->file);
    g_free(reader->pixels);
    g_free(reader);
}

/* Decodes `path` to RGB; with max_side > 0, at 1/2, 1/4 or 1/8 of its size
 * (libjpeg's DCT scaling, which skips most of the inverse DCT) as long as
 * the longer side keeps at least max_side pixels. */
static uint8_t *load_scaled(const char *path, int max_side, int *width, int *height, GError **error)
{
    g_return_val_if_fail(path != NULL, NULL);
    FILE *file = fopen(path, "rb");
    if (!file) {
        int saved = errno;
        g_set_error(error, SF_ERROR, SF_EXIT_MISSING, "cannot open %s: %s", path,
                    g_strerror(saved));
        return NULL;
    }
    /* On the heap so nothing the jump target reads lives in a local that
     * setjmp() may not preserve. */
    jpeg_reader *reader = g_new0(jpeg_reader, 1);
    reader->file = file;
    struct jpeg_decompress_struct *cinfo = &reader->cinfo;
    cinfo->err = jpeg_error_init(&reader->err);
    jpeg_create_decompress(cinfo);
    if (setjmp(reader->err.jump)) {
        g_set_error(error, SF_ERROR, SF_EXIT_BAD_INPUT, "cannot read JPEG %s: %s", path,
                    reader->err.message);
        reader_free(reader);
        return NULL;
    }
    jpeg_stdio_src(cinfo, file);
    jpeg_read_header(cinfo, TRUE);
    cinfo->out_color_space = JCS_RGB;
    /* The smallest scale that still leaves at least max_side pixels on the
     * longer side, so what follows only averages, never enlarges. */
    unsigned longest = MAX(cinfo->image_width, cinfo->image_height);
    cinfo->scale_num = 1;
    cinfo->scale_denom = 1;
    for (unsigned d = 8; max_side > 0 && d > 1; d /= 2) {
        if (longest / d >= (unsigned)max_side) {
            cinfo->scale_denom = d;
            break;
        }
    }
    jpeg_start_decompress(cinfo);

    size_t row_bytes = (size_t)cinfo->output_width * 3;
    reader->pixels = g_try_malloc(row_bytes * cinfo->output_height);
    if (!reader->pixels) {
        g_set_error(error, SF_ERROR, SF_EXIT_FAILURE,
                    "cannot read JPEG %s: no memory for %ux%u pixels", path, cinfo->output_width,
                    cinfo->output_height);
        reader_free(reader);
        return NULL;
    }
    while (cinfo->output_scanline < cinfo->output_height) {
        JSAMPROW row = reader->pixels + (size_t)cinfo->output_scanline * row_bytes;
        jpeg_read_scanlines(cinfo, &row, 1);
    }
    jpeg_finish_decompress(cinfo);

    *width = (int)cinfo->output_width;
    *height = (int)cinfo->output_height;
    uint8_t *pixels = g_steal_pointer(&reader->pixels);
    reader_free(reader);
    return pixels;
}

uint8_t *sf_jpeg_load(const char *path, int *width, int *height, GError **error)
{
    return load_scaled(path, 0, width, height, error);
}

/* Averages RGB `src` (sw x sh) down to dw x dh, each output pixel the mean
 * of the source pixels whose index maps into it (dw <= sw, dh <= sh). */
static void shrink(const uint8_t *src, int sw, int sh, uint8_t *dst, int dw, int dh)
{
    for (int oy = 0; oy < dh; oy++) {
        int y0 = (int)((int64_t)oy * sh / dh), y1 = (int)((int64_t)(oy + 1) * sh / dh);
        for (int ox = 0; ox < dw; ox++) {
            int x0 = (int)((int64_t)ox * sw / dw), x1 = (int)((int64_t)(ox + 1) * sw / dw);
            uint64_t sum[3] = {0, 0, 0};
            for (int y = y0; y < y1; y++) {
                const uint8_t *p = src + ((size_t)y * sw + x0) * 3;
                for (int x = x0; x < x1; x++, p += 3) {
                    sum[0] += p[0];
                    sum[1] += p[1];
                    sum[2] += p[2];
                }
            }
            uint64_t n = (uint64_t)(y1 - y0) * (x1 - x0);
            uint8_t *q = dst + ((size_t)oy * dw + ox) * 3;
            for (int c = 0; c < 3; c++)
                q[c] = (uint8_t)((sum[c] + n / 2) / n);
        }
    }
}

uint8_t *sf_jpeg_load_thumbnail(const char *path, int max_side, int *width, int *height,
                                GError **error)
{
    g_return_val_if_fail(max_side > 0, NULL);
    int w = 0, h = 0;
    g_autofree uint8_t *pixels = load_scaled(path, max_side, &w, &h, error);
    if (!pixels)
        return NULL;
    if (w <= max_side && h <= max_side) {
        *width = w;
        *height = h;
        return g_steal_pointer(&pixels);
    }
    int tw = w >= h ? max_side : MAX(1, (int)((int64_t)w * max_side / h));
    int th = h > w ? max_side : MAX(1, (int)((int64_t)h * max_side / w));
    uint8_t *small = g_malloc((size_t)tw * th * 3);
    shrink(pixels, w, h, small, tw, th);
    *width = tw;
    *height = th;
    return small;
}

/* ---- In memory ------------------------------------------------------- */

typedef struct {
    struct jpeg_compress_struct cinfo;
    jpeg_error err;
    unsigned char *buffer; /* malloc'ed by libjpeg */
    unsigned long size;
} memory_writer;

uint8_t *sf_jpeg_encode(const uint8_t *pixels, int width, int height, int channels, size_t stride,
                        int quality, size_t *length, GError **error)
{
    if ((channels != 1 && channels != 3) || width < 1 || height < 1 || width > 65535 ||
        height > 65535 || stride < (size_t)width * channels) {
        g_set_error(error, SF_ERROR, SF_EXIT_FAILURE,
                    "cannot encode a JPEG of %d x %d pixels, %d channels", width, height, channels);
        return NULL;
    }
    memory_writer *w = g_new0(memory_writer, 1);
    w->cinfo.err = jpeg_error_init(&w->err);
    jpeg_create_compress(&w->cinfo);
    if (setjmp(w->err.jump)) {
        g_set_error(error, SF_ERROR, SF_EXIT_FAILURE, "cannot encode JPEG: %s", w->err.message);
        jpeg_destroy_compress(&w->cinfo);
        free(w->buffer);
        g_free(w);
        return NULL;
    }
    jpeg_mem_dest(&w->cinfo, &w->buffer, &w->size);
    w->cinfo.image_width = (JDIMENSION)width;
    w->cinfo.image_height = (JDIMENSION)height;
    w->cinfo.input_components = channels;
    w->cinfo.in_color_space = channels == 3 ? JCS_RGB : JCS_GRAYSCALE;
    jpeg_set_defaults(&w->cinfo);
    jpeg_set_quality(&w->cinfo, CLAMP(quality, 1, 100), TRUE);
    jpeg_start_compress(&w->cinfo, TRUE);
    while (w->cinfo.next_scanline < w->cinfo.image_height) {
        JSAMPROW row = (JSAMPROW)(pixels + (size_t)w->cinfo.next_scanline * stride);
        jpeg_write_scanlines(&w->cinfo, &row, 1);
    }
    jpeg_finish_compress(&w->cinfo);
    uint8_t *bytes = g_memdup2(w->buffer, w->size);
    *length = w->size;
    jpeg_destroy_compress(&w->cinfo);
    free(w->buffer);
    g_free(w);
    return bytes;
}
