/*
 * Opening a slide: OpenSlide's handle plus the metadata every command needs,
 * parsed once so later calls are plain field reads.
 */
#define _DEFAULT_SOURCE /* S_ISSOCK */

#include "slide/slide_internal.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>
#include <unistd.h>

#include "slidefrag/error.h"

struct sf_slide {
    openslide_t *osr;
    char *path;
    char *vendor;
    int level_count;
    sf_level *levels;
    double mpp_x, mpp_y;
    double objective_power;
    uint8_t background[3];
    gboolean has_bounds;
    int64_t bounds[4];
    sf_level_storage *storage; /* per level; bytes UINT64_MAX when not known */
    sf_tiff_direct *direct;    /* NULL when OpenSlide must read the tiles */
    char *direct_why;          /* why there is no direct reader */
    gboolean direct_on;
    int read_threads;
};

/* A positive finite number, or 0: slides in the wild carry empty or junk
 * values for optional properties. */
static double parse_positive(const char *value)
{
    if (!value || !*value)
        return 0;
    char *end = NULL;
    double v = g_ascii_strtod(value, &end);
    if (end == value || *end != '\0' || !isfinite(v) || v <= 0)
        return 0;
    return v;
}

static gboolean parse_int64(const char *value, int64_t *out)
{
    if (!value || !*value)
        return FALSE;
    char *end = NULL;
    errno = 0;
    gint64 v = g_ascii_strtoll(value, &end, 10);
    if (errno || *end != '\0')
        return FALSE;
    *out = v;
    return TRUE;
}

/* "RRGGBB" hex; anything else leaves `rgb` alone. */
static void parse_background(const char *value, uint8_t rgb[3])
{
    if (!value || strlen(value) != 6)
        return;
    uint8_t parsed[3];
    for (int i = 0; i < 3; i++) {
        int hi = g_ascii_xdigit_value(value[2 * i]);
        int lo = g_ascii_xdigit_value(value[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return;
        parsed[i] = (uint8_t)(hi * 16 + lo);
    }
    memcpy(rgb, parsed, 3);
}

/* What a file that is not a regular file is, for messages. */
static const char *file_kind(mode_t mode)
{
    if (S_ISFIFO(mode))
        return "a FIFO";
    if (S_ISCHR(mode))
        return "a character device";
    if (S_ISBLK(mode))
        return "a block device";
    if (S_ISSOCK(mode))
        return "a socket";
    return "of an unknown kind";
}

/* OpenSlide reports a missing file as an unrecognised format, so check
 * first and give the user the real cause. Only regular files: reading a
 * FIFO waits for a writer forever, and a device never ends. */
static gboolean check_readable(const char *path, GStatBuf *st, GError **error)
{
    if (g_stat(path, st) != 0 || g_access(path, R_OK) != 0) {
        int saved = errno;
        g_set_error(error, SF_ERROR, SF_EXIT_MISSING, "%s: %s", path, g_strerror(saved));
        return FALSE;
    }
    if (S_ISDIR(st->st_mode)) {
        g_set_error(error, SF_ERROR, SF_EXIT_MISSING, "%s: %s", path, g_strerror(EISDIR));
        return FALSE;
    }
    if (!S_ISREG(st->st_mode)) {
        g_set_error(error, SF_ERROR, SF_EXIT_MISSING, "%s: not a regular file (%s)", path,
                    file_kind(st->st_mode));
        return FALSE;
    }
    return TRUE;
}

/*
 * What the file stores for each level: the level's byte counts when it is
 * a TIFF directory, else the file's size (an upper bound). Unknown for the
 * formats whose pixels live in other files (MIRAX's data folder, VMS's
 * JPEGs, Trestle's side files).
 */
static void load_storage(sf_slide *slide, const GStatBuf *st)
{
    const char *dot = strrchr(slide->path, '.');
    gboolean other_files =
        !strcmp(slide->vendor, "mirax") || !strcmp(slide->vendor, "trestle") ||
        (!strcmp(slide->vendor, "hamamatsu") && dot && !g_ascii_strcasecmp(dot, ".vms"));
    slide->storage = g_new0(sf_level_storage, MAX(slide->level_count, 1));
    for (int i = 0; i < slide->level_count; i++)
        slide->storage[i].bytes = other_files ? UINT64_MAX : (uint64_t)st->st_size;
    if (!other_files)
        sf_tiff_level_storage(slide->path, slide->levels, slide->level_count, slide->storage);
}

static void load_metadata(sf_slide *slide)
{
    openslide_t *osr = slide->osr;
    slide->level_count = openslide_get_level_count(osr);
    slide->levels = g_new0(sf_level, MAX(slide->level_count, 1));
    for (int i = 0; i < slide->level_count; i++) {
        sf_level *level = &slide->levels[i];
        openslide_get_level_dimensions(osr, i, &level->width, &level->height);
        level->downsample = openslide_get_level_downsample(osr, i);
    }
    slide->mpp_x = parse_positive(sf_slide_property(slide, OPENSLIDE_PROPERTY_NAME_MPP_X));
    slide->mpp_y = parse_positive(sf_slide_property(slide, OPENSLIDE_PROPERTY_NAME_MPP_Y));
    slide->objective_power =
        parse_positive(sf_slide_property(slide, OPENSLIDE_PROPERTY_NAME_OBJECTIVE_POWER));
    memset(slide->background, 255, 3);
    parse_background(sf_slide_property(slide, OPENSLIDE_PROPERTY_NAME_BACKGROUND_COLOR),
                     slide->background);
    static const char *const bound_names[4] = {
        OPENSLIDE_PROPERTY_NAME_BOUNDS_X, OPENSLIDE_PROPERTY_NAME_BOUNDS_Y,
        OPENSLIDE_PROPERTY_NAME_BOUNDS_WIDTH, OPENSLIDE_PROPERTY_NAME_BOUNDS_HEIGHT};
    slide->has_bounds = TRUE;
    for (int i = 0; i < 4; i++)
        if (!parse_int64(sf_slide_property(slide, bound_names[i]), &slide->bounds[i]))
            slide->has_bounds = FALSE;
}

sf_slide *sf_slide_open(const char *path, GError **error)
{
    g_return_val_if_fail(path != NULL, NULL);
    GStatBuf st;
    if (!check_readable(path, &st, error))
        return NULL;
    const char *vendor = openslide_detect_vendor(path);
    if (!vendor) {
        g_set_error(error, SF_ERROR, SF_EXIT_SLIDE_OPEN, "%s: not a slide OpenSlide recognises",
                    path);
        return NULL;
    }
    openslide_t *osr = openslide_open(path);
    if (!osr) {
        g_set_error(error, SF_ERROR, SF_EXIT_SLIDE_OPEN, "%s: OpenSlide cannot open it (%s)", path,
                    vendor);
        return NULL;
    }
    const char *message = openslide_get_error(osr);
    if (message) {
        g_set_error(error, SF_ERROR, SF_EXIT_SLIDE_OPEN, "%s: %s", path, message);
        openslide_close(osr);
        return NULL;
    }
    sf_slide *slide = g_new0(sf_slide, 1);
    slide->osr = osr;
    slide->path = g_strdup(path);
    slide->vendor = g_strdup(vendor);
    load_metadata(slide);
    load_storage(slide, &st);
    slide->read_threads = (int)g_get_num_processors();
    /* Only the formats whose tiles OpenSlide decodes with plain libtiff. */
    if (!strcmp(vendor, "aperio") || !strcmp(vendor, "generic-tiff"))
        slide->direct =
            sf_tiff_direct_open(path, slide->levels, slide->level_count, &slide->direct_why);
    else
        slide->direct_why = g_strdup_printf("vendor %s", vendor);
    slide->direct_on = TRUE;
    return slide;
}

void sf_slide_close(sf_slide *slide)
{
    if (!slide)
        return;
    sf_tiff_direct_free(slide->direct);
    g_free(slide->direct_why);
    g_free(slide->storage);
    openslide_close(slide->osr);
    g_free(slide->levels);
    g_free(slide->vendor);
    g_free(slide->path);
    g_free(slide);
}

openslide_t *sf_slide_handle(const sf_slide *slide)
{
    return slide->osr;
}

sf_tiff_direct *sf_slide_direct(const sf_slide *slide)
{
    return slide->direct_on ? slide->direct : NULL;
}

const char *sf_slide_direct_unavailable(const sf_slide *slide)
{
    return slide->direct ? NULL : slide->direct_why;
}

void sf_slide_set_direct_reads(sf_slide *slide, gboolean on)
{
    slide->direct_on = on;
}

void sf_slide_set_read_threads(sf_slide *slide, int threads)
{
    g_return_if_fail(slide != NULL);
    slide->read_threads = MAX(threads, 1);
}

int sf_slide_read_threads(const sf_slide *slide)
{
    return slide->read_threads;
}

const char *sf_slide_path(const sf_slide *slide)
{
    return slide->path;
}

const char *sf_slide_vendor(const sf_slide *slide)
{
    return slide->vendor;
}

int sf_slide_level_count(const sf_slide *slide)
{
    return slide->level_count;
}

const sf_level *sf_slide_level(const sf_slide *slide, int level)
{
    g_return_val_if_fail(level >= 0 && level < slide->level_count, NULL);
    return &slide->levels[level];
}

int64_t sf_slide_width(const sf_slide *slide)
{
    return slide->levels[0].width;
}

int64_t sf_slide_height(const sf_slide *slide)
{
    return slide->levels[0].height;
}

double sf_slide_mpp_x(const sf_slide *slide)
{
    return slide->mpp_x;
}

double sf_slide_mpp_y(const sf_slide *slide)
{
    return slide->mpp_y;
}

double sf_slide_objective_power(const sf_slide *slide)
{
    return slide->objective_power;
}

const char *sf_slide_property(const sf_slide *slide, const char *name)
{
    return openslide_get_property_value(slide->osr, name);
}

const char *const *sf_slide_property_names(const sf_slide *slide)
{
    return openslide_get_property_names(slide->osr);
}

const char *const *sf_slide_associated_image_names(const sf_slide *slide)
{
    return openslide_get_associated_image_names(slide->osr);
}

gboolean sf_slide_associated_image_size(const sf_slide *slide, const char *name, int64_t *w,
                                        int64_t *h)
{
    int64_t width = -1, height = -1;
    if (name)
        openslide_get_associated_image_dimensions(slide->osr, name, &width, &height);
    if (width < 0 || height < 0)
        return FALSE;
    if (w)
        *w = width;
    if (h)
        *h = height;
    return TRUE;
}

const char *sf_slide_quickhash(const sf_slide *slide)
{
    return sf_slide_property(slide, OPENSLIDE_PROPERTY_NAME_QUICKHASH1);
}

void sf_slide_background(const sf_slide *slide, uint8_t rgb[3])
{
    memcpy(rgb, slide->background, 3);
}

gboolean sf_slide_bounds(const sf_slide *slide, int64_t *x, int64_t *y, int64_t *w, int64_t *h)
{
    if (!slide->has_bounds)
        return FALSE;
    if (x)
        *x = slide->bounds[0];
    if (y)
        *y = slide->bounds[1];
    if (w)
        *w = slide->bounds[2];
    if (h)
        *h = slide->bounds[3];
    return TRUE;
}

void sf_slide_tile_size(const sf_slide *slide, int level, int64_t *tile_w, int64_t *tile_h)
{
    char name[64];
    int64_t v;
    g_snprintf(name, sizeof name, "openslide.level[%d].tile-width", level);
    *tile_w = parse_int64(sf_slide_property(slide, name), &v) && v > 0 ? v : 0;
    g_snprintf(name, sizeof name, "openslide.level[%d].tile-height", level);
    *tile_h = parse_int64(sf_slide_property(slide, name), &v) && v > 0 ? v : 0;
}

int sf_slide_best_level(const sf_slide *slide, double downsample)
{
    /* Pyramids written by scanners are often a hair off (Aperio's 4.0001);
     * a level that is within 0.1% of the wanted downsample still qualifies. */
    const double limit = downsample * (1 + 1e-3);
    int best = 0;
    for (int i = 1; i < slide->level_count; i++)
        if (slide->levels[i].downsample <= limit &&
            slide->levels[i].downsample > slide->levels[best].downsample)
            best = i;
    return best;
}

/*
 * Reads up to this many level pixels are never weighed: a gigapixel is
 * seconds of work (the 2-gigapixel test slide's overview reads 125 Mpx of
 * its level 2).
 */
#define READ_FREE_PIXELS ((int64_t)1 << 30)
/*
 * The most level pixels one stored byte may stand for. Blank 8192 x 8192
 * RGB TIFFs in 256 x 256 tiles store 61 px per byte as JPEG, 97 as
 * Deflate, and 3,300 as zstd (1024-px tiles; zstd's run-length blocks
 * could reach about 10,000): the most compressive codec the readers meet.
 * 65,536 leaves six times that, and bounds what a file can cost: 2^16 px
 * of reading per byte it holds, where a 258-byte TIFF claiming 10^12 px
 * (every tile missing) would otherwise keep OpenSlide painting background
 * for hours.
 */
#define PIXELS_PER_BYTE_MAX 65536

gboolean sf_slide_check_read_cost(const sf_slide *slide, int level, int64_t w, int64_t h,
                                  GError **error)
{
    g_return_val_if_fail(level >= 0 && level < slide->level_count, FALSE);
    const sf_level_storage *stored = &slide->storage[level];
    if (w <= 0 || h <= 0 || w <= READ_FREE_PIXELS / h || stored->bytes == UINT64_MAX)
        return TRUE;
    /* w * h may not fit 64 bits; the division side never overflows. */
    if ((uint64_t)(w / PIXELS_PER_BYTE_MAX) * (uint64_t)h <= stored->bytes)
        return TRUE;
    if (stored->pieces)
        g_set_error(error, SF_ERROR, SF_EXIT_SLIDE_READ,
                    "%s: level %d stores %" G_GUINT64_FORMAT " bytes of pixels (%" G_GUINT64_FORMAT
                    " of %" G_GUINT64_FORMAT " tiles missing) for a read of %" G_GINT64_FORMAT
                    " x %" G_GINT64_FORMAT " px: refused, more than %d px per stored byte",
                    slide->path, level, stored->bytes, stored->missing, stored->pieces, w, h,
                    PIXELS_PER_BYTE_MAX);
    else
        g_set_error(error, SF_ERROR, SF_EXIT_SLIDE_READ,
                    "%s: the file holds %" G_GUINT64_FORMAT " bytes for a read of %" G_GINT64_FORMAT
                    " x %" G_GINT64_FORMAT " px of level %d: refused, more than %d px per stored "
                    "byte",
                    slide->path, stored->bytes, w, h, level, PIXELS_PER_BYTE_MAX);
    return FALSE;
}
