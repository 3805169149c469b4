/*
 * PNG through libpng. Masks and overviews are small enough to hold whole, so
 * both directions work on a full buffer.
 *
 * libpng reports errors through a callback that must not return; ours keeps
 * the message and longjmp()s to the jump point that the public function set
 * with setjmp(png_jmpbuf()), where it becomes a GError.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>

#include <png.h>

#include "slidefrag/error.h"
#include "slidefrag/image_io.h"

typedef struct {
    char message[256];
} png_error_context;

static void on_error(png_structp png, png_const_charp message)
{
    png_error_context *context = png_get_error_ptr(png);
    g_strlcpy(context->message, message, sizeof(context->message));
    png_longjmp(png, 1);
}

/* Warnings (bad CRC in an ancillary chunk, unknown sRGB profile...) do not
 * change the pixels; stay quiet. */
static void on_warning(png_structp png, png_const_charp message)
{
    (void)png;
    (void)message;
}

/* ---- Writing --------------------------------------------------------- */

typedef struct {
    png_structp png;
    png_infop info;
    png_error_context error;
    sf_output *output;
} png_writer;

static void png_writer_free(png_writer *writer)
{
    png_destroy_write_struct(&writer->png, &writer->info);
    sf_output_abort(writer->output);
    g_free(writer);
}

gboolean sf_png_save(const char *path, const uint8_t *pixels, int width, int height, int channels,
                     size_t stride, GError **error)
{
    g_return_val_if_fail(path != NULL, FALSE);
    if (channels != 1 && channels != 3) {
        g_set_error(error, SF_ERROR, SF_EXIT_FAILURE,
                    "cannot write PNG %s: %d channels (1 or 3 are supported)", path, channels);
        return FALSE;
    }
    if (width <= 0 || height <= 0 || stride < (size_t)width * channels) {
        g_set_error(error, SF_ERROR, SF_EXIT_FAILURE,
                    "cannot write PNG %s: bad size %dx%d, stride %zu", path, width, height, stride);
        return FALSE;
    }
    sf_output *output = sf_output_create(path, error);
    if (!output)
        return FALSE;
    /* On the heap: what the jump target reads must not be a local that
     * setjmp() may not preserve. */
    png_writer *writer = g_new0(png_writer, 1);
    writer->output = output;
    writer->png =
        png_create_write_struct(PNG_LIBPNG_VER_STRING, &writer->error, on_error, on_warning);
    if (writer->png)
        writer->info = png_create_info_struct(writer->png);
    if (!writer->png || !writer->info) {
        g_set_error(error, SF_ERROR, SF_EXIT_FAILURE, "cannot write PNG %s: out of memory", path);
        png_writer_free(writer);
        return FALSE;
    }
    if (setjmp(png_jmpbuf(writer->png))) {
        g_set_error(error, SF_ERROR, SF_EXIT_OUTPUT, "cannot write PNG %s: %s", path,
                    writer->error.message);
        png_writer_free(writer);
        return FALSE;
    }
    png_init_io(writer->png, sf_output_stream(output));
    /* zlib's default: most of level 9's gain on masks at a fraction of the
     * time. */
    png_set_compression_level(writer->png, 6);
    png_set_IHDR(writer->png, writer->info, (png_uint_32)width, (png_uint_32)height, 8,
                 channels == 1 ? PNG_COLOR_TYPE_GRAY : PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(writer->png, writer->info);
    for (int y = 0; y < height; y++)
        png_write_row(writer->png, pixels + (size_t)y * stride);
    png_write_end(writer->png, NULL);

    writer->output = NULL;
    png_writer_free(writer);
    return sf_output_commit(output, error);
}

/* ---- Reading --------------------------------------------------------- */

typedef struct {
    png_structp png;
    png_infop info;
    png_error_context error;
    FILE *file;
    uint8_t *pixels;
    png_bytep *rows;
} png_reader;

static void png_reader_free(png_reader *reader)
{
    png_destroy_read_struct(&reader->png, &reader->info, NULL);
    if (reader->file)
        fclose(reader->file);
    g_free(reader->pixels);
    g_free(reader->rows);
    g_free(reader);
}

/*
 * Asks libpng for 8-bit samples with exactly `channels` channels whatever the
 * file holds: palettes and low bit depths expand, 16 bits scale (rounding,
 * unlike png_set_strip_16's truncation), alpha and tRNS are dropped without
 * compositing. Colour to grey uses libpng's default weights (the file's cHRM,
 * else Rec. 709 luminance), which are not OpenCV's: grey output is exact only
 * for grey input.
 */
static void request_format(png_structp png, png_infop info, int channels)
{
    int color_type = png_get_color_type(png, info);
    int bit_depth = png_get_bit_depth(png, info);
    if (color_type == PNG_COLOR_TYPE_PALETTE)
        png_set_palette_to_rgb(png);
    if (color_type == PNG_COLOR_TYPE_GRAY && bit_depth < 8)
        png_set_expand_gray_1_2_4_to_8(png);
    if (bit_depth == 16)
        png_set_scale_16(png);
    if (color_type & PNG_COLOR_MASK_ALPHA || png_get_valid(png, info, PNG_INFO_tRNS))
        png_set_strip_alpha(png);
    gboolean colour = (color_type & PNG_COLOR_MASK_COLOR) != 0;
    if (channels == 3 && !colour)
        png_set_gray_to_rgb(png);
    if (channels == 1 && colour)
        png_set_rgb_to_gray_fixed(png, 1, -1, -1);
    png_set_interlace_handling(png);
    png_read_update_info(png, info);
}

uint8_t *sf_png_load(const char *path, int channels, int *width, int *height, GError **error)
{
    g_return_val_if_fail(path != NULL, NULL);
    g_return_val_if_fail(channels == 1 || channels == 3, NULL);
    FILE *file = fopen(path, "rb");
    if (!file) {
        int saved = errno;
        g_set_error(error, SF_ERROR, SF_EXIT_MISSING, "cannot open %s: %s", path,
                    g_strerror(saved));
        return NULL;
    }
    png_byte signature[8];
    if (fread(signature, 1, sizeof(signature), file) != sizeof(signature) ||
        png_sig_cmp(signature, 0, sizeof(signature)) != 0) {
        fclose(file);
        g_set_error(error, SF_ERROR, SF_EXIT_BAD_INPUT, "cannot read PNG %s: not a PNG file", path);
        return NULL;
    }

    png_reader *reader = g_new0(png_reader, 1);
    reader->file = file;
    reader->png =
        png_create_read_struct(PNG_LIBPNG_VER_STRING, &reader->error, on_error, on_warning);
    if (reader->png)
        reader->info = png_create_info_struct(reader->png);
    if (!reader->png || !reader->info) {
        g_set_error(error, SF_ERROR, SF_EXIT_FAILURE, "cannot read PNG %s: out of memory", path);
        png_reader_free(reader);
        return NULL;
    }
    if (setjmp(png_jmpbuf(reader->png))) {
        g_set_error(error, SF_ERROR, SF_EXIT_BAD_INPUT, "cannot read PNG %s: %s", path,
                    reader->error.message);
        png_reader_free(reader);
        return NULL;
    }
    png_init_io(reader->png, file);
    png_set_sig_bytes(reader->png, sizeof(signature));
    png_read_info(reader->png, reader->info);
    request_format(reader->png, reader->info, channels);

    png_uint_32 w = png_get_image_width(reader->png, reader->info);
    png_uint_32 h = png_get_image_height(reader->png, reader->info);
    size_t row_bytes = png_get_rowbytes(reader->png, reader->info);
    if (png_get_channels(reader->png, reader->info) != channels ||
        row_bytes != (size_t)w * channels) {
        g_set_error(error, SF_ERROR, SF_EXIT_BAD_INPUT,
                    "cannot read PNG %s: unsupported pixel format", path);
        png_reader_free(reader);
        return NULL;
    }
    reader->pixels = g_try_malloc(row_bytes * h);
    reader->rows = g_try_new(png_bytep, h);
    if (!reader->pixels || !reader->rows) {
        g_set_error(error, SF_ERROR, SF_EXIT_FAILURE,
                    "cannot read PNG %s: no memory for %ux%u pixels", path, w, h);
        png_reader_free(reader);
        return NULL;
    }
    for (png_uint_32 y = 0; y < h; y++)
        reader->rows[y] = reader->pixels + (size_t)y * row_bytes;
    png_read_image(reader->png, reader->rows);
    png_read_end(reader->png, NULL);

    *width = (int)w;
    *height = (int)h;
    uint8_t *pixels = g_steal_pointer(&reader->pixels);
    png_reader_free(reader);
    return pixels;
}
