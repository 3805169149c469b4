/*
 * Opening a slide: the first backend of formats.c's table that takes the
 * file opens it and describes it once (levels, resolution, properties), so
 * later calls are plain field reads; reads go to the backend.
 */
#define _DEFAULT_SOURCE /* S_ISSOCK */

#include "slide/slide_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "slidefrag/error.h"

typedef struct {
    int64_t w, h;
} size2;

struct sf_slide_meta {
    char *vendor;
    int level_count;
    sf_level *levels;
    size2 *tile_size;
    sf_level_storage *storage;
    uint64_t file_size;
    double mpp_x, mpp_y;
    double objective_power;
    uint8_t background[3];
    gboolean has_bounds;
    int64_t bounds[4];
    char *quickhash;
    GPtrArray *property_names; /* NULL-terminated, in the backend's order */
    GHashTable *properties;    /* name -> value */
    GPtrArray *associated_names;
    GArray *associated_sizes; /* size2, as associated_names */
};

struct sf_slide {
    char *path;
    const sf_slide_backend *backend;
    void *state;
    sf_slide_meta meta;
    int read_threads;
    gboolean decoder_scaling;
    sf_read_crew *crew;
};

/* ---- What backends fill in ---------------------------------------------- */

static void meta_init(sf_slide_meta *meta, uint64_t file_size)
{
    memset(meta, 0, sizeof *meta);
    meta->file_size = file_size;
    memset(meta->background, 255, 3);
    meta->property_names = g_ptr_array_new_with_free_func(g_free);
    g_ptr_array_add(meta->property_names, NULL);
    meta->properties = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, g_free);
    meta->associated_names = g_ptr_array_new_with_free_func(g_free);
    g_ptr_array_add(meta->associated_names, NULL);
    meta->associated_sizes = g_array_new(FALSE, FALSE, sizeof(size2));
}

static void meta_clear(sf_slide_meta *meta)
{
    g_free(meta->vendor);
    g_free(meta->levels);
    g_free(meta->tile_size);
    g_free(meta->storage);
    g_free(meta->quickhash);
    /* The table's keys are the names' strings. */
    g_hash_table_unref(meta->properties);
    g_ptr_array_free(meta->property_names, TRUE);
    g_ptr_array_free(meta->associated_names, TRUE);
    g_array_free(meta->associated_sizes, TRUE);
}

void sf_slide_meta_set_levels(sf_slide_meta *meta, int count)
{
    g_return_if_fail(count >= 0 && meta->levels == NULL);
    meta->level_count = count;
    meta->levels = g_new0(sf_level, MAX(count, 1));
    meta->tile_size = g_new0(size2, MAX(count, 1));
    meta->storage = g_new0(sf_level_storage, MAX(count, 1));
    for (int i = 0; i < count; i++) {
        meta->levels[i].downsample = 1;
        /* The whole file is an upper bound on what any level stores. */
        meta->storage[i].bytes = meta->file_size;
    }
}

void sf_slide_meta_set_level(sf_slide_meta *meta, int i, int64_t width, int64_t height,
                             double downsample, int64_t tile_w, int64_t tile_h)
{
    g_return_if_fail(i >= 0 && i < meta->level_count);
    meta->levels[i] = (sf_level){.width = width, .height = height, .downsample = downsample};
    meta->tile_size[i] = (size2){MAX(tile_w, 0), MAX(tile_h, 0)};
}

void sf_slide_meta_set_storage(sf_slide_meta *meta, int i, const sf_level_storage *storage)
{
    g_return_if_fail(i >= 0 && i < meta->level_count);
    meta->storage[i] = *storage;
}

void sf_slide_meta_set_vendor(sf_slide_meta *meta, const char *vendor)
{
    g_free(meta->vendor);
    meta->vendor = g_strdup(vendor);
}

void sf_slide_meta_set_resolution(sf_slide_meta *meta, double mpp_x, double mpp_y,
                                  double objective_power)
{
    meta->mpp_x = mpp_x;
    meta->mpp_y = mpp_y;
    meta->objective_power = objective_power;
}

void sf_slide_meta_set_background(sf_slide_meta *meta, const uint8_t rgb[3])
{
    memcpy(meta->background, rgb, 3);
}

void sf_slide_meta_set_bounds(sf_slide_meta *meta, int64_t x, int64_t y, int64_t w, int64_t h)
{
    meta->has_bounds = TRUE;
    meta->bounds[0] = x;
    meta->bounds[1] = y;
    meta->bounds[2] = w;
    meta->bounds[3] = h;
}

void sf_slide_meta_set_quickhash(sf_slide_meta *meta, const char *quickhash)
{
    g_free(meta->quickhash);
    meta->quickhash = g_strdup(quickhash);
}

void sf_slide_meta_add_property(sf_slide_meta *meta, const char *name, const char *value)
{
    g_return_if_fail(name != NULL && value != NULL);
    if (g_hash_table_contains(meta->properties, name))
        return;
    char *key = g_strdup(name);
    meta->property_names->pdata[meta->property_names->len - 1] = key;
    g_ptr_array_add(meta->property_names, NULL);
    g_hash_table_insert(meta->properties, key, g_strdup(value));
}

void sf_slide_meta_add_associated(sf_slide_meta *meta, const char *name, int64_t width,
                                  int64_t height)
{
    g_return_if_fail(name != NULL);
    meta->associated_names->pdata[meta->associated_names->len - 1] = g_strdup(name);
    g_ptr_array_add(meta->associated_names, NULL);
    size2 size = {width, height};
    g_array_append_val(meta->associated_sizes, size);
}

/* ---- Opening --------------------------------------------------------------- */

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

/* The first bytes of the file, for the backends' detection: every magic
 * number they look for is within them. */
#define HEAD_BYTES 512

static gboolean read_head(const char *path, uint8_t *head, size_t *n, GError **error)
{
    int fd = g_open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK, 0);
    ssize_t got = fd >= 0 ? read(fd, head, HEAD_BYTES) : -1;
    int saved = errno;
    if (fd >= 0)
        close(fd);
    if (got < 0) {
        g_set_error(error, SF_ERROR, SF_EXIT_MISSING, "%s: %s", path, g_strerror(saved));
        return FALSE;
    }
    *n = (size_t)got;
    return TRUE;
}

sf_slide *sf_slide_open(const char *path, GError **error)
{
    g_return_val_if_fail(path != NULL, NULL);
    GStatBuf st;
    uint8_t head[HEAD_BYTES];
    size_t head_len = 0;
    if (!check_readable(path, &st, error) || !read_head(path, head, &head_len, error))
        return NULL;
    int n = 0;
    const sf_slide_backend *const *backends = sf_slide_backends(&n);
    const sf_slide_backend *backend = NULL;
    for (int i = 0; i < n && !backend; i++)
        if (backends[i]->detect(path, head, head_len))
            backend = backends[i];
    if (!backend) {
        g_set_error(error, SF_ERROR, SF_EXIT_SLIDE_OPEN, "%s: not a slide OpenSlide recognises",
                    path);
        return NULL;
    }
    sf_slide *slide = g_new0(sf_slide, 1);
    slide->path = g_strdup(path);
    slide->backend = backend;
    meta_init(&slide->meta, (uint64_t)st.st_size);
    slide->state = backend->open(path, &slide->meta, error);
    if (!slide->state) {
        sf_slide_close(slide);
        return NULL;
    }
    if (slide->meta.level_count < 1) {
        g_set_error(error, SF_ERROR, SF_EXIT_SLIDE_OPEN, "%s: no levels", path);
        sf_slide_close(slide);
        return NULL;
    }
    slide->read_threads = (int)g_get_num_processors();
    slide->decoder_scaling = TRUE;
    slide->crew = sf_read_crew_new();
    return slide;
}

void sf_slide_close(sf_slide *slide)
{
    if (!slide)
        return;
    if (slide->state)
        slide->backend->close(slide->state);
    meta_clear(&slide->meta);
    sf_read_crew_free(slide->crew);
    g_free(slide->path);
    g_free(slide);
}

const sf_slide_backend *sf_slide_get_backend(const sf_slide *slide)
{
    return slide->backend;
}

void *sf_slide_backend_state(const sf_slide *slide)
{
    return slide->state;
}

gboolean sf_slide_read_level(sf_slide *slide, int level, int64_t x, int64_t y, int64_t w, int64_t h,
                             gboolean more_below, uint32_t *dest, GError **error)
{
    return slide->backend->read(slide->state, level, x, y, w, h, more_below, dest, error);
}

gboolean sf_slide_exact_origins(const sf_slide *slide, int level)
{
    return !slide->backend->exact_origins || slide->backend->exact_origins(slide->state, level);
}

int sf_slide_rgb_shift_max(const sf_slide *slide, int level)
{
    if (!slide->backend->rgb_shift_max || !slide->backend->read_rgb)
        return -1;
    return slide->backend->rgb_shift_max(slide->state, level);
}

gboolean sf_slide_read_rgb(sf_slide *slide, int level, int shift, int64_t x, int64_t y, int64_t w,
                           int64_t h, gboolean more_below, uint8_t *dest, size_t stride,
                           GError **error)
{
    return slide->backend->read_rgb(slide->state, level, shift, x, y, w, h, more_below, dest,
                                    stride, error);
}

/* ---- Description ----------------------------------------------------------- */

void sf_slide_set_read_threads(sf_slide *slide, int threads)
{
    g_return_if_fail(slide != NULL);
    slide->read_threads = MAX(threads, 1);
}

int sf_slide_read_threads(const sf_slide *slide)
{
    return slide->read_threads;
}

sf_read_crew *sf_slide_crew(const sf_slide *slide)
{
    return slide->crew;
}

void sf_slide_help_reads(sf_slide *slide, gboolean (*done)(void *data), void *data)
{
    g_return_if_fail(slide != NULL && done != NULL);
    sf_read_crew_help(slide->crew, done, data);
}

void sf_slide_wake_helpers(sf_slide *slide)
{
    g_return_if_fail(slide != NULL);
    sf_read_crew_wake(slide->crew);
}

void sf_slide_set_decoder_scaling(sf_slide *slide, gboolean on)
{
    slide->decoder_scaling = on;
}

gboolean sf_slide_decoder_scaling(const sf_slide *slide)
{
    return slide->decoder_scaling;
}

const char *sf_slide_path(const sf_slide *slide)
{
    return slide->path;
}

const char *sf_slide_vendor(const sf_slide *slide)
{
    return slide->meta.vendor;
}

int sf_slide_level_count(const sf_slide *slide)
{
    return slide->meta.level_count;
}

const sf_level *sf_slide_level(const sf_slide *slide, int level)
{
    g_return_val_if_fail(level >= 0 && level < slide->meta.level_count, NULL);
    return &slide->meta.levels[level];
}

int64_t sf_slide_width(const sf_slide *slide)
{
    return slide->meta.levels[0].width;
}

int64_t sf_slide_height(const sf_slide *slide)
{
    return slide->meta.levels[0].height;
}

double sf_slide_mpp_x(const sf_slide *slide)
{
    return slide->meta.mpp_x;
}

double sf_slide_mpp_y(const sf_slide *slide)
{
    return slide->meta.mpp_y;
}

double sf_slide_objective_power(const sf_slide *slide)
{
    return slide->meta.objective_power;
}

const char *sf_slide_property(const sf_slide *slide, const char *name)
{
    return name ? g_hash_table_lookup(slide->meta.properties, name) : NULL;
}

const char *const *sf_slide_property_names(const sf_slide *slide)
{
    return (const char *const *)slide->meta.property_names->pdata;
}

const char *const *sf_slide_associated_image_names(const sf_slide *slide)
{
    return (const char *const *)slide->meta.associated_names->pdata;
}

gboolean sf_slide_associated_image_size(const sf_slide *slide, const char *name, int64_t *w,
                                        int64_t *h)
{
    const GPtrArray *names = slide->meta.associated_names;
    for (guint i = 0; name && i + 1 < names->len; i++) {
        if (strcmp(names->pdata[i], name) != 0)
            continue;
        size2 size = g_array_index(slide->meta.associated_sizes, size2, i);
        if (w)
            *w = size.w;
        if (h)
            *h = size.h;
        return TRUE;
    }
    return FALSE;
}

const char *sf_slide_quickhash(const sf_slide *slide)
{
    return slide->meta.quickhash;
}

void sf_slide_background(const sf_slide *slide, uint8_t rgb[3])
{
    memcpy(rgb, slide->meta.background, 3);
}

gboolean sf_slide_bounds(const sf_slide *slide, int64_t *x, int64_t *y, int64_t *w, int64_t *h)
{
    if (!slide->meta.has_bounds)
        return FALSE;
    if (x)
        *x = slide->meta.bounds[0];
    if (y)
        *y = slide->meta.bounds[1];
    if (w)
        *w = slide->meta.bounds[2];
    if (h)
        *h = slide->meta.bounds[3];
    return TRUE;
}

void sf_slide_tile_size(const sf_slide *slide, int level, int64_t *tile_w, int64_t *tile_h)
{
    g_return_if_fail(level >= 0 && level < slide->meta.level_count);
    *tile_w = slide->meta.tile_size[level].w;
    *tile_h = slide->meta.tile_size[level].h;
}

int sf_slide_best_level(const sf_slide *slide, double downsample)
{
    /* Pyramids written by scanners are often a hair off (Aperio's 4.0001);
     * a level that is within 0.1% of the wanted downsample still qualifies. */
    const double limit = downsample * (1 + 1e-3);
    const sf_level *levels = slide->meta.levels;
    int best = 0;
    for (int i = 1; i < slide->meta.level_count; i++)
        if (levels[i].downsample <= limit && levels[i].downsample > levels[best].downsample)
            best = i;
    return best;
}

/* ---- The work a read may cost ---------------------------------------------- */

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
    g_return_val_if_fail(level >= 0 && level < slide->meta.level_count, FALSE);
    const sf_level_storage *stored = &slide->meta.storage[level];
    if (w <= 0 || h <= 0 || w <= READ_FREE_PIXELS / h || stored->bytes == SF_STORAGE_UNKNOWN)
        return TRUE;
    /* In doubles: w * h may not fit 64 bits; 2^-52 of error is nothing
     * next to a bound this coarse. */
    if ((double)w * (double)h / PIXELS_PER_BYTE_MAX <= (double)stored->bytes)
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
