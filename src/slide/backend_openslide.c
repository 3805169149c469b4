/*
 * The OpenSlide backend: every slide OpenSlide 3.4.1 detects (Aperio,
 * Hamamatsu, Leica, MIRAX, Philips, Sakura, Trestle, Ventana, generic tiled
 * TIFF). Its properties are copied once at open and the ones every command
 * needs parsed, so later calls are plain field reads.
 *
 * For Aperio and generic tiled TIFF, whose tiles OpenSlide decodes with
 * plain libtiff, reads go to the direct tile reader (tiff_direct.c): the
 * same pixels without OpenSlide's cairo compositing, most of a read's
 * cost. It is an accelerator of this backend, not a backend of its own: it
 * reads the levels OpenSlide reports, with OpenSlide's background and
 * properties, and a slide it turns down reads through OpenSlide.
 */
#include "slide/backend_openslide.h"

#include <errno.h>
#include <math.h>
#include <openslide.h>
#include <string.h>

#include "slidefrag/error.h"

typedef struct {
    openslide_t *osr;
    char *path;
    GArray *downsamples;    /* per level, to turn level origins into level-0 ones */
    sf_tiff_direct *direct; /* NULL when OpenSlide must read the tiles */
    char *direct_why;       /* why there is no direct reader */
    gboolean direct_on;
} os_state;

/* The extensions of the file that opens a slide in each of OpenSlide's
 * formats (MIRAX and VMS data files live beside them under other names). */
static const char *const extensions[] = {
    ".svs", ".tif", ".tiff", ".ndpi", ".vms", ".vmu", ".scn", ".mrxs", ".svslide", ".bif", NULL,
};

static gboolean os_detect(const char *path, const uint8_t *head, size_t head_len)
{
    (void)head;
    (void)head_len;
    return openslide_detect_vendor(path) != NULL;
}

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

/* The tile size OpenSlide reports for a level; 0 when it does not say. */
static int64_t tile_property(openslide_t *osr, int level, const char *what)
{
    char name[64];
    int64_t v;
    g_snprintf(name, sizeof name, "openslide.level[%d].tile-%s", level, what);
    return parse_int64(openslide_get_property_value(osr, name), &v) && v > 0 ? v : 0;
}

static void describe(openslide_t *osr, const char *path, const char *vendor, sf_slide_meta *meta,
                     os_state *st)
{
    sf_slide_meta_set_vendor(meta, vendor);
    for (const char *const *name = openslide_get_property_names(osr); name && *name; name++)
        sf_slide_meta_add_property(meta, *name, openslide_get_property_value(osr, *name));

    int count = openslide_get_level_count(osr);
    sf_slide_meta_set_levels(meta, MAX(count, 0));
    g_autofree sf_level *levels = g_new0(sf_level, MAX(count, 1));
    for (int i = 0; i < count; i++) {
        openslide_get_level_dimensions(osr, i, &levels[i].width, &levels[i].height);
        levels[i].downsample = openslide_get_level_downsample(osr, i);
        sf_slide_meta_set_level(meta, i, levels[i].width, levels[i].height, levels[i].downsample,
                                tile_property(osr, i, "width"), tile_property(osr, i, "height"));
        g_array_append_val(st->downsamples, levels[i].downsample);
    }

    const char *(*get)(openslide_t *, const char *) = openslide_get_property_value;
    sf_slide_meta_set_resolution(meta, parse_positive(get(osr, OPENSLIDE_PROPERTY_NAME_MPP_X)),
                                 parse_positive(get(osr, OPENSLIDE_PROPERTY_NAME_MPP_Y)),
                                 parse_positive(get(osr, OPENSLIDE_PROPERTY_NAME_OBJECTIVE_POWER)));
    uint8_t background[3] = {255, 255, 255};
    parse_background(get(osr, OPENSLIDE_PROPERTY_NAME_BACKGROUND_COLOR), background);
    sf_slide_meta_set_background(meta, background);
    static const char *const bound_names[4] = {
        OPENSLIDE_PROPERTY_NAME_BOUNDS_X, OPENSLIDE_PROPERTY_NAME_BOUNDS_Y,
        OPENSLIDE_PROPERTY_NAME_BOUNDS_WIDTH, OPENSLIDE_PROPERTY_NAME_BOUNDS_HEIGHT};
    int64_t bounds[4];
    gboolean has_bounds = TRUE;
    for (int i = 0; i < 4; i++)
        has_bounds &= parse_int64(get(osr, bound_names[i]), &bounds[i]);
    if (has_bounds)
        sf_slide_meta_set_bounds(meta, bounds[0], bounds[1], bounds[2], bounds[3]);
    sf_slide_meta_set_quickhash(meta, get(osr, OPENSLIDE_PROPERTY_NAME_QUICKHASH1));

    for (const char *const *name = openslide_get_associated_image_names(osr); name && *name;
         name++) {
        int64_t w = -1, h = -1;
        openslide_get_associated_image_dimensions(osr, *name, &w, &h);
        if (w >= 0 && h >= 0)
            sf_slide_meta_add_associated(meta, *name, w, h);
    }

    /*
     * What the file stores per level, for the work bound: TIFF levels'
     * byte counts, refining the file's size that slide.c assumes. Not
     * known for the formats whose pixels live in other files (MIRAX's data
     * folder, VMS's JPEGs, Trestle's side files).
     */
    const char *dot = strrchr(path, '.');
    gboolean other_files =
        !strcmp(vendor, "mirax") || !strcmp(vendor, "trestle") ||
        (!strcmp(vendor, "hamamatsu") && dot && !g_ascii_strcasecmp(dot, ".vms"));
    g_autofree sf_level_storage *storage = g_new0(sf_level_storage, MAX(count, 1));
    for (int i = 0; i < count; i++)
        storage[i].bytes = SF_STORAGE_UNKNOWN;
    if (!other_files)
        sf_tiff_level_storage(path, levels, count, storage);
    for (int i = 0; i < count; i++)
        if (other_files || storage[i].bytes != SF_STORAGE_UNKNOWN)
            sf_slide_meta_set_storage(meta, i, &storage[i]);

    /* Only the formats whose tiles OpenSlide decodes with plain libtiff. */
    if (!strcmp(vendor, "aperio") || !strcmp(vendor, "generic-tiff"))
        st->direct = sf_tiff_direct_open(path, levels, count, &st->direct_why);
    else
        st->direct_why = g_strdup_printf("vendor %s", vendor);
    st->direct_on = TRUE;
}

static void os_close(void *state)
{
    os_state *st = state;
    if (!st)
        return;
    sf_tiff_direct_free(st->direct);
    g_free(st->direct_why);
    if (st->osr)
        openslide_close(st->osr);
    g_array_free(st->downsamples, TRUE);
    g_free(st->path);
    g_free(st);
}

static void *os_open(const char *path, sf_slide_meta *meta, GError **error)
{
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
    os_state *st = g_new0(os_state, 1);
    st->osr = osr;
    st->path = g_strdup(path);
    st->downsamples = g_array_new(FALSE, FALSE, sizeof(double));
    describe(osr, path, vendor, meta, st);
    return st;
}

static gboolean os_read(void *state, int level, int64_t x, int64_t y, int64_t w, int64_t h,
                        gboolean more_below, uint32_t *dest, GError **error)
{
    os_state *st = state;
    if (st->direct && st->direct_on)
        return sf_tiff_read_strip(st->direct, level, x, y, w, h, more_below, dest, error);
    /* OpenSlide takes the origin in level-0 pixels. */
    double downsample = g_array_index(st->downsamples, double, level);
    openslide_read_region(st->osr, dest, llround((double)x * downsample),
                          llround((double)y * downsample), level, w, h);
    const char *message = openslide_get_error(st->osr);
    if (message) {
        g_set_error(error, SF_ERROR, SF_EXIT_SLIDE_READ, "%s: %s", st->path, message);
        return FALSE;
    }
    return TRUE;
}

static gboolean os_exact_origins(void *state, int level)
{
    (void)level;
    const os_state *st = state;
    return st->direct && st->direct_on;
}

static int os_rgb_shift_max(void *state, int level)
{
    (void)level;
    const os_state *st = state;
    return st->direct && st->direct_on ? SF_TIFF_SHIFT_MAX : -1;
}

static gboolean os_read_rgb(void *state, int level, int shift, int64_t x, int64_t y, int64_t w,
                            int64_t h, gboolean more_below, uint8_t *dest, size_t stride,
                            GError **error)
{
    os_state *st = state;
    return sf_tiff_read_rgb(st->direct, level, shift, x, y, w, h, more_below, dest, stride, error);
}

const sf_slide_backend sf_backend_openslide = {
    .name = "openslide",
    .description = "OpenSlide 3.4.1: Aperio SVS, Hamamatsu NDPI/VMS/VMU, Leica SCN, MIRAX, "
                   "Philips TIFF, Sakura SVSlide, Trestle, Ventana BIF, generic tiled TIFF",
    .extensions = extensions,
    .detect = os_detect,
    .open = os_open,
    .close = os_close,
    .read = os_read,
    .exact_origins = os_exact_origins,
    .rgb_shift_max = os_rgb_shift_max,
    .read_rgb = os_read_rgb,
};

/* ---- Test hooks ------------------------------------------------------------ */

static os_state *state_of(const sf_slide *slide)
{
    return sf_slide_get_backend(slide) == &sf_backend_openslide ? sf_slide_backend_state(slide)
                                                                : NULL;
}

void *sf_slide_openslide_handle(const sf_slide *slide)
{
    os_state *st = state_of(slide);
    return st ? st->osr : NULL;
}

sf_tiff_direct *sf_slide_direct(const sf_slide *slide)
{
    os_state *st = state_of(slide);
    return st && st->direct_on ? st->direct : NULL;
}

const char *sf_slide_direct_unavailable(const sf_slide *slide)
{
    os_state *st = state_of(slide);
    if (!st)
        return "not an OpenSlide slide";
    return st->direct ? NULL : st->direct_why;
}

void sf_slide_set_direct_reads(sf_slide *slide, gboolean on)
{
    os_state *st = state_of(slide);
    if (st)
        st->direct_on = on;
}
