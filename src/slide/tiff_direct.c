/*
 * Direct tile reads of JPEG-tiled TIFF slides.
 *
 * OpenSlide 3.4.1 reads an Aperio or generic TIFF tile with TIFFRGBAImage
 * (TIFFRGBAImageBegin sets JPEGCOLORMODE_RGB for YCbCr JPEG, then
 * TIFFReadEncodedTile decodes through libjpeg and the 8-bit RGB pixels are
 * packed as they are), clears what lies past the level's edge, and paints
 * the tile with cairo. Here the same TIFFReadEncodedTile call, with the same
 * colour mode, fills the caller's buffer without cairo: the same pixels at a
 * fraction of the cost. Only directories where that holds are accepted
 * (see unsupported()); anything else stays with OpenSlide.
 *
 * libtiff handles are not thread-safe, so each reader borrows one from a
 * small pool; a handle remembers its directory and its last decoded tile.
 *
 * Reads in strips shorter than a tile would decode the tiles along every
 * strip edge twice (OpenSlide's tile cache hid that). So a read that is told
 * more strips follow keeps the tiles its bottom edge cuts, and the read of
 * the strip below takes them back: memory for one row of tiles per read in
 * flight, bounded in all by KEPT_BYTES_MAX.
 */
#include "slide/tiff_direct.h"

#include <stdarg.h>
#include <string.h>
#include <tiffio.h>

#include "slidefrag/error.h"

/* Decoded tiles kept for the strips below, at most; past it the oldest go. */
#define KEPT_BYTES_MAX ((size_t)64 << 20)

typedef struct {
    int dir;
    int64_t width, height;
    uint32_t tile_w, tile_h;
    uint32_t tiles_across;
    gboolean ycbcr;
} direct_level;

typedef struct {
    TIFF *tif;
    int dir;        /* the current directory, -1 when unknown */
    uint8_t *tile;  /* the last decoded tile, RGB */
    int tile_level; /* level and index of `tile`, -1 when none */
    uint32_t tile_index;
    char message[512]; /* libtiff's first error since the last clear */
} tiff_handle;

struct sf_tiff_direct {
    char *path;
    direct_level *levels;
    int n_levels;
    size_t tile_bytes; /* the largest decoded tile of any level */
    GMutex lock;       /* guards idle and kept */
    GPtrArray *idle;   /* handles nobody is using */
    GQueue kept;       /* kept_tile, oldest first */
};

/* A decoded tile (tile_bytes long) waiting for the strip below. */
typedef struct {
    int level;
    uint32_t index;
    uint8_t *rgb;
} kept_tile;

/* Per-handle handlers: libtiff's global ones are process-wide, and a
 * library should not print or take them over. Errors are kept (the first is
 * the cause) for the GError. */
static int on_error(TIFF *tif, void *user_data, const char *module, const char *fmt, va_list ap)
{
    (void)tif;
    tiff_handle *h = user_data;
    if (h->message[0])
        return 1;
    char text[400];
    g_vsnprintf(text, sizeof text, fmt, ap);
    if (module && *module)
        g_snprintf(h->message, sizeof h->message, "%s: %s", module, text);
    else
        g_strlcpy(h->message, text, sizeof h->message);
    return 1;
}

/*
 * Warnings that mean the tile's pixels are not what the file says, made
 * fatal so that a tile is read as OpenSlide would read it or not at all:
 *
 * - "JPEGLib": libjpeg reports corrupt entropy-coded data ("Corrupt JPEG
 *   data: premature end of data segment") as a warning and decodes on into
 *   grey; OpenSlide makes every libjpeg warning fatal.
 * - "JPEGPreDecode": a JPEG smaller than the TIFF tile ("Improper JPEG
 *   strip/tile size, expected 256x256, got 240x240"). libtiff decodes the
 *   240 rows it has and returns the full tile size, leaving the rest of the
 *   buffer as it was (the previous tile, or uninitialised heap); OpenSlide
 *   refuses the tile ("Dimensional mismatch reading JPEG").
 *
 * libtiff's other warnings (unknown tags and the like) say nothing about
 * the pixels.
 */
static int on_warning(TIFF *tif, void *user_data, const char *module, const char *fmt, va_list ap)
{
    if (module && (!strcmp(module, "JPEGLib") || !strcmp(module, "JPEGPreDecode")))
        return on_error(tif, user_data, module, fmt, ap);
    return 1;
}

static void handle_close(tiff_handle *h)
{
    if (!h)
        return;
    if (h->tif)
        TIFFClose(h->tif);
    g_free(h->tile);
    g_free(h);
}

static tiff_handle *handle_open(const char *path, char **why)
{
    tiff_handle *h = g_new0(tiff_handle, 1);
    h->dir = -1;
    h->tile_level = -1;
    TIFFOpenOptions *opts = TIFFOpenOptionsAlloc();
    TIFFOpenOptionsSetErrorHandlerExtR(opts, on_error, h);
    TIFFOpenOptionsSetWarningHandlerExtR(opts, on_warning, h);
    /* "m": read(), no mmap, so the pages of a multi-gigabyte slide do not
     * count as this process's memory. */
    h->tif = TIFFOpenExt(path, "rm", opts);
    TIFFOpenOptionsFree(opts);
    if (!h->tif) {
        *why = g_strdup(h->message[0] ? h->message : "libtiff cannot open it");
        handle_close(h);
        return NULL;
    }
    return h;
}

/*
 * Why the tiles of the current directory cannot be read here exactly as
 * OpenSlide reads them, or NULL. Leaves the colour mode set as reads need.
 */
static const char *unsupported(TIFF *tif, gboolean *ycbcr)
{
    uint16_t compression = 0, bits = 0, samples = 0, planar = 0, photometric = 0;
    uint16_t orientation = 0, format = 0;
    TIFFGetFieldDefaulted(tif, TIFFTAG_COMPRESSION, &compression);
    TIFFGetFieldDefaulted(tif, TIFFTAG_BITSPERSAMPLE, &bits);
    TIFFGetFieldDefaulted(tif, TIFFTAG_SAMPLESPERPIXEL, &samples);
    TIFFGetFieldDefaulted(tif, TIFFTAG_PLANARCONFIG, &planar);
    TIFFGetFieldDefaulted(tif, TIFFTAG_ORIENTATION, &orientation);
    TIFFGetFieldDefaulted(tif, TIFFTAG_SAMPLEFORMAT, &format);
    if (!TIFFGetField(tif, TIFFTAG_PHOTOMETRIC, &photometric))
        return "no photometric interpretation";
    if (compression != COMPRESSION_JPEG)
        return "not JPEG-compressed";
    if (bits != 8 || samples != 3 || format != SAMPLEFORMAT_UINT)
        return "not 8-bit 3-sample pixels";
    if (planar != PLANARCONFIG_CONTIG)
        return "not contiguous samples";
    if (photometric != PHOTOMETRIC_RGB && photometric != PHOTOMETRIC_YCBCR)
        return "neither RGB nor YCbCr";
    /* TIFFRGBAImage would flip each tile to top-left. */
    if (orientation != ORIENTATION_TOPLEFT)
        return "not top-left orientation";
    *ycbcr = photometric == PHOTOMETRIC_YCBCR;
    /* What TIFFRGBAImageBegin() does for YCbCr JPEG: libjpeg converts. */
    if (*ycbcr && !TIFFSetField(tif, TIFFTAG_JPEGCOLORMODE, JPEGCOLORMODE_RGB))
        return "cannot have libjpeg convert YCbCr";
    uint32_t tw = 0, th = 0;
    TIFFGetField(tif, TIFFTAG_TILEWIDTH, &tw);
    TIFFGetField(tif, TIFFTAG_TILELENGTH, &th);
    if (tw == 0 || th == 0 || TIFFTileSize64(tif) != (uint64_t)tw * th * 3)
        return "unexpected decoded tile size";
    /* OpenSlide paints tiles without data from other levels. */
    uint64_t *counts = NULL;
    if (!TIFFGetField(tif, TIFFTAG_TILEBYTECOUNTS, &counts) || !counts)
        return "no tile byte counts";
    for (ttile_t t = 0, n = TIFFNumberOfTiles(tif); t < n; t++)
        if (counts[t] == 0)
            return "missing tiles";
    return NULL;
}

typedef struct {
    direct_level level;
    const char *problem;
} tiled_dir;

/* Every tiled directory of the file, with what would stop a direct read. */
static GArray *scan_directories(TIFF *tif, char **why)
{
    GArray *dirs = g_array_new(FALSE, TRUE, sizeof(tiled_dir));
    tdir_t n = TIFFNumberOfDirectories(tif);
    for (tdir_t d = 0; d < n; d++) {
        if (!TIFFSetDirectory(tif, d)) {
            *why = g_strdup_printf("cannot read TIFF directory %u", (unsigned)d);
            g_array_free(dirs, TRUE);
            return NULL;
        }
        if (!TIFFIsTiled(tif))
            continue;
        uint32_t w = 0, h = 0;
        TIFFGetField(tif, TIFFTAG_IMAGEWIDTH, &w);
        TIFFGetField(tif, TIFFTAG_IMAGELENGTH, &h);
        tiled_dir t = {.level = {.dir = d, .width = w, .height = h}};
        t.problem = unsupported(tif, &t.level.ycbcr);
        TIFFGetField(tif, TIFFTAG_TILEWIDTH, &t.level.tile_w);
        TIFFGetField(tif, TIFFTAG_TILELENGTH, &t.level.tile_h);
        if (t.level.tile_w)
            t.level.tiles_across = (uint32_t)((w + t.level.tile_w - 1) / t.level.tile_w);
        g_array_append_val(dirs, t);
    }
    return dirs;
}

/* The one directory OpenSlide reads for a level: the tiled directory of its
 * size. Two of the same size would leave which one ambiguous. */
static gboolean map_levels(sf_tiff_direct *td, GArray *dirs, const sf_level *levels, int n_levels,
                           char **why)
{
    for (int i = 0; i < n_levels; i++) {
        const tiled_dir *found = NULL;
        int matches = 0;
        for (guint d = 0; d < dirs->len; d++) {
            const tiled_dir *t = &g_array_index(dirs, tiled_dir, d);
            if (t->level.width == levels[i].width && t->level.height == levels[i].height) {
                found = t;
                matches++;
            }
        }
        if (matches != 1) {
            *why = g_strdup_printf("level %d: %d tiled directories of its size", i, matches);
            return FALSE;
        }
        if (found->problem) {
            *why =
                g_strdup_printf("level %d (directory %d): %s", i, found->level.dir, found->problem);
            return FALSE;
        }
        td->levels[i] = found->level;
        td->tile_bytes = MAX(td->tile_bytes, (size_t)found->level.tile_w * found->level.tile_h * 3);
    }
    return TRUE;
}

sf_tiff_direct *sf_tiff_direct_open(const char *path, const sf_level *levels, int n_levels,
                                    char **why)
{
    g_return_val_if_fail(path != NULL && levels != NULL, NULL);
    char *reason = NULL;
    sf_tiff_direct *td = NULL;
    tiff_handle *h = n_levels > 0 ? handle_open(path, &reason) : NULL;
    GArray *dirs = h ? scan_directories(h->tif, &reason) : NULL;
    if (dirs) {
        td = g_new0(sf_tiff_direct, 1);
        td->path = g_strdup(path);
        td->n_levels = n_levels;
        td->levels = g_new0(direct_level, n_levels);
        g_mutex_init(&td->lock);
        td->idle = g_ptr_array_new_with_free_func((GDestroyNotify)handle_close);
        if (map_levels(td, dirs, levels, n_levels, &reason)) {
            h->dir = -1; /* scanning left it on the last directory */
            g_ptr_array_add(td->idle, g_steal_pointer(&h));
        } else {
            g_clear_pointer(&td, sf_tiff_direct_free);
        }
        g_array_free(dirs, TRUE);
    }
    handle_close(h);
    if (!td && !reason)
        reason = g_strdup("no levels");
    if (why)
        *why = reason;
    else
        g_free(reason);
    return td;
}

typedef struct {
    uint32_t width, height;
    gboolean tiled;
    sf_level_storage storage;
} stored_dir;

/* The size and stored bytes of the current directory. */
static gboolean stored_directory(TIFF *tif, stored_dir *out)
{
    gboolean tiled = TIFFIsTiled(tif);
    uint32_t w = 0, h = 0;
    uint64_t *counts = NULL;
    TIFFGetField(tif, TIFFTAG_IMAGEWIDTH, &w);
    TIFFGetField(tif, TIFFTAG_IMAGELENGTH, &h);
    if (!TIFFGetField(tif, tiled ? TIFFTAG_TILEBYTECOUNTS : TIFFTAG_STRIPBYTECOUNTS, &counts) ||
        !counts)
        return FALSE;
    *out = (stored_dir){.width = w, .height = h, .tiled = tiled};
    uint32_t n = tiled ? TIFFNumberOfTiles(tif) : TIFFNumberOfStrips(tif);
    out->storage.pieces = n;
    for (uint32_t i = 0; i < n; i++) {
        /* Saturating: hostile counts may sum past 2^64. */
        out->storage.bytes = counts[i] > UINT64_MAX - out->storage.bytes
                                 ? UINT64_MAX
                                 : out->storage.bytes + counts[i];
        out->storage.missing += counts[i] == 0;
    }
    return TRUE;
}

void sf_tiff_level_storage(const char *path, const sf_level *levels, int n_levels,
                           sf_level_storage *storage)
{
    g_autofree char *why = NULL;
    tiff_handle *h = handle_open(path, &why);
    if (!h)
        return;
    g_autoptr(GArray) dirs = g_array_new(FALSE, TRUE, sizeof(stored_dir));
    tdir_t n = TIFFNumberOfDirectories(h->tif);
    for (tdir_t d = 0; d < n && TIFFSetDirectory(h->tif, d); d++) {
        stored_dir dir;
        if (stored_directory(h->tif, &dir))
            g_array_append_val(dirs, dir);
    }
    handle_close(h);
    for (int i = 0; i < n_levels; i++) {
        const stored_dir *tiled = NULL, *stripped = NULL;
        int n_tiled = 0, n_stripped = 0;
        for (guint d = 0; d < dirs->len; d++) {
            const stored_dir *t = &g_array_index(dirs, stored_dir, d);
            if (t->width != levels[i].width || t->height != levels[i].height)
                continue;
            if (t->tiled) {
                tiled = t;
                n_tiled++;
            } else {
                stripped = t;
                n_stripped++;
            }
        }
        if (n_tiled == 1)
            storage[i] = tiled->storage;
        else if (n_tiled == 0 && n_stripped == 1)
            storage[i] = stripped->storage;
    }
}

void sf_tiff_direct_free(sf_tiff_direct *td)
{
    if (!td)
        return;
    g_ptr_array_free(td->idle, TRUE);
    for (GList *l = td->kept.head; l; l = l->next) {
        kept_tile *k = l->data;
        g_free(k->rgb);
        g_free(k);
    }
    g_queue_clear(&td->kept);
    g_mutex_clear(&td->lock);
    g_free(td->levels);
    g_free(td->path);
    g_free(td);
}

/* An idle handle, preferably one already on `dir`, or a new one. */
static tiff_handle *take_handle(sf_tiff_direct *td, int dir, GError **error)
{
    tiff_handle *h = NULL;
    g_mutex_lock(&td->lock);
    if (td->idle->len) {
        guint pick = td->idle->len - 1;
        for (guint i = 0; i < td->idle->len; i++)
            if (((tiff_handle *)td->idle->pdata[i])->dir == dir)
                pick = i;
        h = g_ptr_array_steal_index_fast(td->idle, pick);
    }
    g_mutex_unlock(&td->lock);
    if (h)
        return h;
    g_autofree char *why = NULL;
    h = handle_open(td->path, &why);
    if (!h)
        g_set_error(error, SF_ERROR, SF_EXIT_SLIDE_READ, "%s: %s", td->path, why);
    return h;
}

static void put_handle(sf_tiff_direct *td, tiff_handle *h)
{
    g_mutex_lock(&td->lock);
    g_ptr_array_add(td->idle, h);
    g_mutex_unlock(&td->lock);
}

static gboolean select_level(tiff_handle *h, const direct_level *lv)
{
    if (h->dir == lv->dir)
        return TRUE;
    h->dir = -1;
    if (!TIFFSetDirectory(h->tif, (tdir_t)lv->dir))
        return FALSE;
    /* A pseudo-tag that every directory change resets. */
    if (lv->ycbcr && !TIFFSetField(h->tif, TIFFTAG_JPEGCOLORMODE, JPEGCOLORMODE_RGB))
        return FALSE;
    if (TIFFTileSize64(h->tif) != (uint64_t)lv->tile_w * lv->tile_h * 3) {
        g_strlcpy(h->message, "the decoded tile size changed", sizeof h->message);
        return FALSE;
    }
    h->dir = lv->dir;
    return TRUE;
}

/* Takes the kept tile `index` of `level` out of the store, or NULL. */
static uint8_t *take_kept(sf_tiff_direct *td, int level, uint32_t index)
{
    uint8_t *rgb = NULL;
    g_mutex_lock(&td->lock);
    for (GList *l = td->kept.tail; l; l = l->prev) {
        kept_tile *k = l->data;
        if (k->level == level && k->index == index) {
            rgb = k->rgb;
            g_free(k);
            g_queue_delete_link(&td->kept, l);
            break;
        }
    }
    g_mutex_unlock(&td->lock);
    return rgb;
}

/* Hands the handle's decoded tile over to the store. */
static void keep_tile(sf_tiff_direct *td, tiff_handle *h)
{
    kept_tile *k = g_new(kept_tile, 1);
    k->level = h->tile_level;
    k->index = h->tile_index;
    k->rgb = g_steal_pointer(&h->tile);
    h->tile_level = -1;
    GSList *dropped = NULL;
    g_mutex_lock(&td->lock);
    g_queue_push_tail(&td->kept, k);
    while (td->kept.length * td->tile_bytes > KEPT_BYTES_MAX)
        dropped = g_slist_prepend(dropped, g_queue_pop_head(&td->kept));
    g_mutex_unlock(&td->lock);
    for (GSList *l = dropped; l; l = l->next) {
        kept_tile *old = l->data;
        g_free(old->rgb);
        g_free(old);
    }
    g_slist_free(dropped);
}

/* Tile `index` of the level as RGB in h->tile: the handle's last tile, a
 * kept one, or decoded. */
static const uint8_t *tile_rgb(sf_tiff_direct *td, tiff_handle *h, int level,
                               const direct_level *lv, uint32_t index)
{
    if (h->tile && h->tile_level == level && h->tile_index == index)
        return h->tile;
    h->tile_level = -1;
    uint8_t *kept = take_kept(td, level, index);
    if (kept) {
        g_free(h->tile);
        h->tile = kept;
    } else {
        /* Zeroed, so the buffer never holds stale heap: a decode that
         * writes less than the tile is refused above, but should one
         * slip through silently it shows black, not freed memory. */
        if (!h->tile)
            h->tile = g_malloc0(td->tile_bytes);
        tmsize_t size = (tmsize_t)lv->tile_w * lv->tile_h * 3;
        /* A message means libjpeg warned: the pixels are not the tile's. */
        if (TIFFReadEncodedTile(h->tif, index, h->tile, size) != size || h->message[0])
            return NULL;
    }
    h->tile_level = level;
    h->tile_index = index;
    return h->tile;
}

static void pack_rgb(const uint8_t *src, int64_t n, uint32_t *dst)
{
    for (int64_t i = 0; i < n; i++, src += 3)
        dst[i] = 0xff000000u | (uint32_t)src[0] << 16 | (uint32_t)src[1] << 8 | src[2];
}

gboolean sf_tiff_read_level(sf_tiff_direct *td, int level, int64_t lx, int64_t ly, int64_t w,
                            int64_t h, uint32_t *dest, GError **error)
{
    return sf_tiff_read_strip(td, level, lx, ly, w, h, FALSE, dest, error);
}

gboolean sf_tiff_read_strip(sf_tiff_direct *td, int level, int64_t lx, int64_t ly, int64_t w,
                            int64_t h, gboolean more_below, uint32_t *dest, GError **error)
{
    g_return_val_if_fail(td != NULL && level >= 0 && level < td->n_levels, FALSE);
    g_return_val_if_fail(w > 0 && h > 0 && dest != NULL, FALSE);
    const direct_level *lv = &td->levels[level];
    int64_t x0 = MAX(lx, 0), y0 = MAX(ly, 0);
    int64_t x1 = MIN(lx + w, lv->width), y1 = MIN(ly + h, lv->height);
    if (x0 != lx || y0 != ly || x1 != lx + w || y1 != ly + h)
        memset(dest, 0, (size_t)w * (size_t)h * sizeof *dest);
    if (x0 >= x1 || y0 >= y1)
        return TRUE;

    tiff_handle *hd = take_handle(td, lv->dir, error);
    if (!hd)
        return FALSE;
    hd->message[0] = '\0';
    const int64_t tw = lv->tile_w, th = lv->tile_h;
    int64_t failed_x = -1, failed_y = -1;
    gboolean ok = select_level(hd, lv);
    for (int64_t ty = y0 / th; ok && ty * th < y1; ty++) {
        for (int64_t tx = x0 / tw; tx * tw < x1; tx++) {
            const uint8_t *tile =
                tile_rgb(td, hd, level, lv, (uint32_t)(ty * lv->tiles_across + tx));
            if (!tile) {
                failed_x = tx;
                failed_y = ty;
                ok = FALSE;
                break;
            }
            /* The part of the tile inside both the level and the request. */
            int64_t cx0 = MAX(x0, tx * tw), cx1 = MIN(x1, (tx + 1) * tw);
            int64_t cy0 = MAX(y0, ty * th), cy1 = MIN(y1, (ty + 1) * th);
            for (int64_t y = cy0; y < cy1; y++)
                pack_rgb(tile + (size_t)((y - ty * th) * tw + (cx0 - tx * tw)) * 3, cx1 - cx0,
                         dest + (size_t)(y - ly) * (size_t)w + (size_t)(cx0 - lx));
            if (more_below && cy1 < MIN((ty + 1) * th, lv->height))
                keep_tile(td, hd);
        }
    }
    if (ok) {
        put_handle(td, hd);
        return TRUE;
    }
    const char *cause = hd->message[0] ? hd->message : "libtiff failed";
    if (failed_x >= 0)
        g_set_error(error, SF_ERROR, SF_EXIT_SLIDE_READ,
                    "%s: level %d, tile (%" G_GINT64_FORMAT ", %" G_GINT64_FORMAT "): %s", td->path,
                    level, failed_x, failed_y, cause);
    else
        g_set_error(error, SF_ERROR, SF_EXIT_SLIDE_READ, "%s: level %d, TIFF directory %d: %s",
                    td->path, level, lv->dir, cause);
    /* Its decoder may be left in any state: open a fresh one next time. */
    handle_close(hd);
    return FALSE;
}
