/*
 * Direct tile reads of JPEG-tiled TIFF slides.
 *
 * OpenSlide 3.4.1 reads an Aperio or generic TIFF tile with TIFFRGBAImage:
 * libtiff's JPEG codec decodes it with libjpeg, loading the directory's
 * JPEGTables into the decompressor first, forcing the colour space from the
 * TIFF's photometric tag (YCbCr converted to RGB by libjpeg, RGB passed
 * through unconverted), with libjpeg's defaults otherwise (islow inverse
 * DCT, fancy upsampling); OpenSlide then clears what lies past the level's
 * edge and paints the tile with cairo. Here the tile's bytes are read with
 * pread() and decoded by libjpeg-turbo the same way, so the pixels are the
 * same, straight into the caller's rows: no libtiff codec, no tile buffer,
 * no cairo. Only directories where that holds are accepted (unsupported());
 * anything else stays with OpenSlide. Tiles are checked as libtiff checks
 * them (size, components, sampling factors) and libjpeg's warnings are
 * errors, as they are in OpenSlide, so a tile reads as there or not at all.
 *
 * libjpeg-turbo's own TurboJPEG API would decode these tiles too, but it
 * cannot force the colour space: it would convert RGB-photometric tiles
 * (Aperio's "JPEG/RGB") as YCbCr. The libjpeg API it wraps can, and lets a
 * decoder keep the level's tables between tiles instead of parsing them for
 * every one.
 *
 * The same decoder reduces: libjpeg's DCT scaling (scale_denom 2, 4, 8)
 * decodes a tile straight to a half, quarter or eighth of its size, for a
 * fraction of the work of a full decode (see sf_tiff_read_rgb()).
 *
 * Decoders are not thread-safe, so each read borrows one from a small pool;
 * a decoder keeps the tables of the level it last read.
 *
 * Reads in strips shorter than a tile would decode the tiles along every
 * strip edge twice. So a read that is told more strips follow decodes the
 * tiles its bottom edge cuts into a buffer of their own and keeps them, and
 * the read of the strip below takes them back: memory for one row of tiles
 * per read in flight, bounded in all by KEPT_BYTES_MAX. Reads in whole tile
 * rows (what strips.c plans when they fit) keep nothing.
 */
#define _XOPEN_SOURCE 700 /* pread */

#include "slide/tiff_direct.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <tiffio.h>
#include <unistd.h>

#include <jpeglib.h>
#include <jerror.h>

#include "slidefrag/error.h"

/* Decoded tiles kept for the strips below, at most; past it the oldest go. */
#define KEPT_BYTES_MAX ((size_t)64 << 20)

/*
 * The most bytes one tile may store. JPEG never needs more than a few
 * times the raw pixels (a 256 x 256 RGB tile at quality 100 is about
 * 150 KB); a byte count far past that is a damaged or hostile file, and
 * reading it would allocate whatever it claims.
 */
#define TILE_BYTES_SLACK ((uint64_t)1 << 20)

typedef struct {
    int dir;
    int64_t width, height;
    uint32_t tile_w, tile_h;
    uint32_t tiles_across, tiles_down;
    gboolean ycbcr;
    uint16_t sub_h, sub_v; /* component 0's sampling factors, as libtiff expects */
    uint64_t *offsets, *counts;
    uint8_t *tables; /* JPEGTables, or NULL */
    uint32_t n_tables;
} direct_level;

/* libjpeg's errors and warnings end the decode: error_exit() longjmp()s. */
typedef struct {
    struct jpeg_error_mgr mgr; /* first, so cinfo->err casts to us */
    jmp_buf jump;
    char message[JMSG_LENGTH_MAX];
} jpeg_failure;

typedef struct {
    struct jpeg_decompress_struct cinfo;
    jpeg_failure fail;
    gboolean created;
    int level;     /* whose JPEGTables the decompressor holds; -1 none */
    uint8_t *data; /* the tile's bytes */
    size_t data_cap, data_size;
    uint8_t *scratch; /* decoded rows that are dropped or cut */
    size_t scratch_cap;
    char message[256];  /* why the last decode failed */
    gboolean no_memory; /* ...which was memory, not the file */
} decoder;

struct sf_tiff_direct {
    char *path;
    int fd;
    uint64_t file_size;
    direct_level *levels;
    int n_levels;
    GMutex lock;             /* guards idle, kept and kept_bytes */
    GPtrArray *idle;         /* decoders nobody is using */
    GQueue kept;             /* kept_tile, oldest first */
    size_t kept_bytes;       /* of the tiles in `kept` */
    gsize decoded, buffered; /* atomic: tiles decoded, and of them into a buffer */
};

/* A decoded tile waiting for the strip below. */
typedef struct {
    int level, shift;
    uint32_t index;
    uint8_t *rgb;
    size_t bytes;
} kept_tile;

/* ---- libtiff, for probing ------------------------------------------------ */

typedef struct {
    TIFF *tif;
    char message[512]; /* libtiff's first error */
} tiff_handle;

/* Per-handle handlers: libtiff's global ones are process-wide, and a
 * library should not print or take them over. The first error is kept. */
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

static int on_warning(TIFF *tif, void *user_data, const char *module, const char *fmt, va_list ap)
{
    (void)tif;
    (void)user_data;
    (void)module;
    (void)fmt;
    (void)ap;
    return 1;
}

static void handle_close(tiff_handle *h)
{
    if (!h)
        return;
    if (h->tif)
        TIFFClose(h->tif);
    g_free(h);
}

static tiff_handle *handle_open(const char *path, char **why)
{
    tiff_handle *h = g_new0(tiff_handle, 1);
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
 * OpenSlide reads them, or NULL; fills in what reads need.
 */
static const char *unsupported(TIFF *tif, direct_level *lv)
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
    lv->ycbcr = photometric == PHOTOMETRIC_YCBCR;
    /* What libtiff's codec expects of component 0 (after its own fix-up
     * of the tag from the first tile's JPEG header). */
    lv->sub_h = lv->sub_v = 1;
    if (lv->ycbcr)
        TIFFGetFieldDefaulted(tif, TIFFTAG_YCBCRSUBSAMPLING, &lv->sub_h, &lv->sub_v);
    uint32_t tw = 0, th = 0;
    TIFFGetField(tif, TIFFTAG_TILEWIDTH, &tw);
    TIFFGetField(tif, TIFFTAG_TILELENGTH, &th);
    /* TIFF wants multiples of 16; multiples of 8 let every DCT scale cut
     * tiles into whole reduced pixels. */
    if (tw == 0 || th == 0 || tw % 8 || th % 8 || tw > 65500 || th > 65500)
        return "unexpected tile size";
    uint64_t *offsets = NULL, *counts = NULL;
    if (!TIFFGetField(tif, TIFFTAG_TILEOFFSETS, &offsets) || !offsets)
        return "no tile offsets";
    if (!TIFFGetField(tif, TIFFTAG_TILEBYTECOUNTS, &counts) || !counts)
        return "no tile byte counts";
    /* OpenSlide paints tiles without data from other levels. */
    ttile_t n = TIFFNumberOfTiles(tif);
    for (ttile_t t = 0; t < n; t++)
        if (counts[t] == 0)
            return "missing tiles";
    lv->tile_w = tw;
    lv->tile_h = th;
    lv->offsets = g_memdup2(offsets, (gsize)n * sizeof *offsets);
    lv->counts = g_memdup2(counts, (gsize)n * sizeof *counts);
    uint32_t n_tables = 0;
    void *tables = NULL;
    if (TIFFGetField(tif, TIFFTAG_JPEGTABLES, &n_tables, &tables) && tables && n_tables) {
        lv->tables = g_memdup2(tables, n_tables);
        lv->n_tables = n_tables;
    }
    return NULL;
}

static void level_clear(direct_level *lv)
{
    g_free(lv->offsets);
    g_free(lv->counts);
    g_free(lv->tables);
    memset(lv, 0, sizeof *lv);
}

typedef struct {
    direct_level level;
    const char *problem;
} tiled_dir;

static void free_dirs(GArray *dirs)
{
    for (guint d = 0; d < dirs->len; d++)
        level_clear(&g_array_index(dirs, tiled_dir, d).level);
    g_array_free(dirs, TRUE);
}

/* Every tiled directory of the file, with what would stop a direct read. */
static GArray *scan_directories(TIFF *tif, char **why)
{
    GArray *dirs = g_array_new(FALSE, TRUE, sizeof(tiled_dir));
    tdir_t n = TIFFNumberOfDirectories(tif);
    for (tdir_t d = 0; d < n; d++) {
        if (!TIFFSetDirectory(tif, d)) {
            *why = g_strdup_printf("cannot read TIFF directory %u", (unsigned)d);
            free_dirs(dirs);
            return NULL;
        }
        if (!TIFFIsTiled(tif))
            continue;
        uint32_t w = 0, h = 0;
        TIFFGetField(tif, TIFFTAG_IMAGEWIDTH, &w);
        TIFFGetField(tif, TIFFTAG_IMAGELENGTH, &h);
        tiled_dir t = {.level = {.dir = d, .width = w, .height = h}};
        t.problem = unsupported(tif, &t.level);
        if (!t.problem) {
            t.level.tiles_across = (uint32_t)((w + t.level.tile_w - 1) / t.level.tile_w);
            t.level.tiles_down = (uint32_t)((h + t.level.tile_h - 1) / t.level.tile_h);
            if ((uint64_t)t.level.tiles_across * t.level.tiles_down != TIFFNumberOfTiles(tif))
                t.problem = "unexpected number of tiles";
        }
        g_array_append_val(dirs, t);
    }
    return dirs;
}

/* The one directory OpenSlide reads for a level: the tiled directory of its
 * size. Two of the same size would leave which one ambiguous. The level
 * takes over the directory's arrays. */
static gboolean map_levels(sf_tiff_direct *td, GArray *dirs, const sf_level *levels, int n_levels,
                           char **why)
{
    for (int i = 0; i < n_levels; i++) {
        tiled_dir *found = NULL;
        int matches = 0;
        for (guint d = 0; d < dirs->len; d++) {
            tiled_dir *t = &g_array_index(dirs, tiled_dir, d);
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
        if (found->level.offsets == NULL) {
            *why = g_strdup_printf("level %d: directory %d is used twice", i, found->level.dir);
            return FALSE;
        }
        td->levels[i] = found->level;
        memset(&found->level, 0, sizeof found->level);
    }
    return TRUE;
}

static void decoder_free(decoder *dec);

sf_tiff_direct *sf_tiff_direct_open(const char *path, const sf_level *levels, int n_levels,
                                    char **why)
{
    g_return_val_if_fail(path != NULL && levels != NULL, NULL);
    char *reason = NULL;
    sf_tiff_direct *td = NULL;
    tiff_handle *h = n_levels > 0 ? handle_open(path, &reason) : NULL;
    GArray *dirs = h ? scan_directories(h->tif, &reason) : NULL;
    handle_close(h);
    if (dirs) {
        td = g_new0(sf_tiff_direct, 1);
        td->path = g_strdup(path);
        td->n_levels = n_levels;
        td->levels = g_new0(direct_level, n_levels);
        g_mutex_init(&td->lock);
        td->idle = g_ptr_array_new_with_free_func((GDestroyNotify)decoder_free);
        td->fd = g_open(path, O_RDONLY | O_CLOEXEC, 0);
        struct stat st;
        if (td->fd < 0 || fstat(td->fd, &st) != 0) {
            reason = g_strdup(g_strerror(errno));
            g_clear_pointer(&td, sf_tiff_direct_free);
        } else {
            td->file_size = (uint64_t)st.st_size;
            if (!map_levels(td, dirs, levels, n_levels, &reason))
                g_clear_pointer(&td, sf_tiff_direct_free);
        }
        free_dirs(dirs);
    }
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

static void free_kept(kept_tile *k)
{
    g_free(k->rgb);
    g_free(k);
}

void sf_tiff_direct_free(sf_tiff_direct *td)
{
    if (!td)
        return;
    g_ptr_array_free(td->idle, TRUE);
    g_queue_clear_full(&td->kept, (GDestroyNotify)free_kept);
    g_mutex_clear(&td->lock);
    for (int i = 0; i < td->n_levels; i++)
        level_clear(&td->levels[i]);
    g_free(td->levels);
    if (td->fd >= 0)
        close(td->fd);
    g_free(td->path);
    g_free(td);
}

void sf_tiff_direct_counts(sf_tiff_direct *td, uint64_t *decoded, uint64_t *buffered)
{
    *decoded = (uint64_t)(gsize)g_atomic_pointer_get(&td->decoded);
    *buffered = (uint64_t)(gsize)g_atomic_pointer_get(&td->buffered);
}

/* ---- Decoders --------------------------------------------------------------- */

static void error_exit(j_common_ptr cinfo)
{
    jpeg_failure *fail = (jpeg_failure *)cinfo->err;
    (*cinfo->err->format_message)(cinfo, fail->message);
    longjmp(fail->jump, 1);
}

/*
 * Warnings mean the pixels are not what the file says: libjpeg reports
 * corrupt entropy-coded data ("Corrupt JPEG data: premature end of data
 * segment") as a warning and decodes on into grey. OpenSlide makes them
 * fatal; so does this reader. Trace messages are dropped.
 */
static void emit_message(j_common_ptr cinfo, int msg_level)
{
    if (msg_level < 0)
        error_exit(cinfo);
}

static void output_message(j_common_ptr cinfo)
{
    (void)cinfo;
}

static void decoder_reset(decoder *dec)
{
    if (dec->created)
        jpeg_destroy_decompress(&dec->cinfo);
    dec->created = FALSE;
    dec->level = -1;
}

static void decoder_free(decoder *dec)
{
    if (!dec)
        return;
    decoder_reset(dec);
    g_free(dec->data);
    g_free(dec->scratch);
    g_free(dec);
}

static decoder *take_decoder(sf_tiff_direct *td)
{
    decoder *dec = NULL;
    g_mutex_lock(&td->lock);
    if (td->idle->len)
        dec = g_ptr_array_steal_index_fast(td->idle, td->idle->len - 1);
    g_mutex_unlock(&td->lock);
    if (!dec) {
        dec = g_new0(decoder, 1);
        dec->level = -1;
    }
    dec->message[0] = '\0';
    dec->no_memory = FALSE;
    return dec;
}

static void put_decoder(sf_tiff_direct *td, decoder *dec)
{
    g_mutex_lock(&td->lock);
    g_ptr_array_add(td->idle, dec);
    g_mutex_unlock(&td->lock);
}

/* *buf with room for `need` bytes; NULL when out of memory. */
static uint8_t *grow(uint8_t **buf, size_t *cap, size_t need)
{
    if (*cap < need) {
        g_free(*buf);
        *buf = g_try_malloc(need);
        *cap = *buf ? need : 0;
    }
    return *buf;
}

static gboolean no_memory(decoder *dec, size_t bytes)
{
    g_snprintf(dec->message, sizeof dec->message, "out of memory: %zu kB for a tile",
               (bytes + 1023) >> 10);
    dec->no_memory = TRUE;
    return FALSE;
}

/* The tile's bytes into dec->data. */
static gboolean load_tile(sf_tiff_direct *td, decoder *dec, const direct_level *lv, uint32_t index)
{
    uint64_t offset = lv->offsets[index], count = lv->counts[index];
    uint64_t most = (uint64_t)lv->tile_w * lv->tile_h * 3 * 4 + TILE_BYTES_SLACK;
    if (count > most || offset > td->file_size || count > td->file_size - offset) {
        g_snprintf(dec->message, sizeof dec->message,
                   "tile data of %" G_GUINT64_FORMAT " bytes at offset %" G_GUINT64_FORMAT
                   " lies past the file's end or is too large for its tile",
                   count, offset);
        return FALSE;
    }
    if (!grow(&dec->data, &dec->data_cap, (size_t)count))
        return no_memory(dec, (size_t)count);
    size_t done = 0;
    while (done < count) {
        ssize_t got = pread(td->fd, dec->data + done, (size_t)count - done, (off_t)(offset + done));
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0) {
            g_snprintf(dec->message, sizeof dec->message, "cannot read tile data: %s",
                       got < 0 ? g_strerror(errno) : "the file is shorter than it says");
            return FALSE;
        }
        done += (size_t)got;
    }
    dec->data_size = (size_t)count;
    return TRUE;
}

/* A decompressor holding the level's JPEGTables. A fresh one for every
 * level, as libtiff has one per directory: tables never leak across. */
static gboolean prepare(decoder *dec, const direct_level *lv, int level)
{
    if (dec->level == level)
        return TRUE;
    decoder_reset(dec);
    struct jpeg_decompress_struct *cinfo = &dec->cinfo;
    cinfo->err = jpeg_std_error(&dec->fail.mgr);
    dec->fail.mgr.error_exit = error_exit;
    dec->fail.mgr.emit_message = emit_message;
    dec->fail.mgr.output_message = output_message;
    if (setjmp(dec->fail.jump)) {
        g_snprintf(dec->message, sizeof dec->message, "JPEGLib: JPEGTables: %s", dec->fail.message);
        decoder_reset(dec);
        return FALSE;
    }
    jpeg_create_decompress(cinfo);
    dec->created = TRUE;
    if (lv->tables) {
        jpeg_mem_src(cinfo, lv->tables, lv->n_tables);
        if (jpeg_read_header(cinfo, FALSE) != JPEG_HEADER_TABLES_ONLY) {
            g_strlcpy(dec->message, "JPEGTables holds an image, not tables", sizeof dec->message);
            decoder_reset(dec);
            return FALSE;
        }
    }
    dec->level = level;
    return TRUE;
}

/* What libtiff's JPEGPreDecode() refuses, in its words (so messages stay
 * those of the fault table, docs/robustness.md); FALSE with the message
 * in dec->message. */
static gboolean check_header(decoder *dec, const direct_level *lv)
{
    const struct jpeg_decompress_struct *cinfo = &dec->cinfo;
    const char *what = NULL;
    if (cinfo->image_width != lv->tile_w || cinfo->image_height != lv->tile_h) {
        g_snprintf(dec->message, sizeof dec->message,
                   "JPEGPreDecode: Improper JPEG strip/tile size, expected %ux%u, got %ux%u",
                   lv->tile_w, lv->tile_h, cinfo->image_width, cinfo->image_height);
        return FALSE;
    }
    if (cinfo->num_components != 3)
        what = "component count";
    else if (cinfo->data_precision != 8)
        what = "data precision";
    else if (cinfo->comp_info[0].h_samp_factor != lv->sub_h ||
             cinfo->comp_info[0].v_samp_factor != lv->sub_v ||
             cinfo->comp_info[1].h_samp_factor != 1 || cinfo->comp_info[1].v_samp_factor != 1 ||
             cinfo->comp_info[2].h_samp_factor != 1 || cinfo->comp_info[2].v_samp_factor != 1)
        what = "sampling factors";
    if (what)
        g_snprintf(dec->message, sizeof dec->message, "JPEGPreDecode: Improper JPEG %s", what);
    return what == NULL;
}

/* Rows decoded per libjpeg call, at most. */
#define ROWS_PER_CALL 16

/*
 * Tile `index` of the level at 1/2^shift: its reduced rows [ra, rb) and
 * columns [ca, cb) into `dest` (row ra first, rows of `stride` bytes).
 * Rows before ra are decoded and dropped (the upsampler needs the rows
 * above); decoding stops after rb. The rows land in `dest` as libjpeg
 * writes them unless only some columns are wanted. FALSE with
 * dec->message set on failure.
 */
static gboolean decode_tile(sf_tiff_direct *td, decoder *dec, const direct_level *lv, int level,
                            uint32_t index, int shift, uint32_t ra, uint32_t rb, uint32_t ca,
                            uint32_t cb, uint8_t *dest, size_t stride)
{
    if (!load_tile(td, dec, lv, index) || !prepare(dec, lv, level))
        return FALSE;
    struct jpeg_decompress_struct *cinfo = &dec->cinfo;
    const uint32_t out_w = lv->tile_w >> shift, out_h = lv->tile_h >> shift;
    const size_t row_bytes = (size_t)out_w * 3;
    const gboolean whole_rows = ca == 0 && cb == out_w;
    uint8_t *scratch = grow(&dec->scratch, &dec->scratch_cap, row_bytes * ROWS_PER_CALL);
    if (!scratch)
        return no_memory(dec, row_bytes * ROWS_PER_CALL);
    if (setjmp(dec->fail.jump)) {
        /* libjpeg's words, named as libtiff named them. */
        g_snprintf(dec->message, sizeof dec->message, "JPEGLib: %s", dec->fail.message);
        dec->no_memory = dec->fail.mgr.msg_code == JERR_OUT_OF_MEMORY;
        decoder_reset(dec); /* libjpeg's state is undefined now */
        return FALSE;
    }
    jpeg_mem_src(cinfo, dec->data, (unsigned long)dec->data_size);
    jpeg_read_header(cinfo, TRUE);
    if (!check_header(dec, lv)) {
        jpeg_abort_decompress(cinfo);
        return FALSE;
    }
    /* What libtiff sets: YCbCr converted by libjpeg, anything else
     * passed through as stored whatever the JPEG's own markers say. */
    cinfo->jpeg_color_space = lv->ycbcr ? JCS_YCbCr : JCS_UNKNOWN;
    cinfo->out_color_space = lv->ycbcr ? JCS_RGB : JCS_UNKNOWN;
    cinfo->scale_num = 1;
    cinfo->scale_denom = 1u << shift;
    jpeg_start_decompress(cinfo);
    if (cinfo->output_width != out_w || cinfo->output_height != out_h ||
        cinfo->output_components != 3) {
        g_snprintf(dec->message, sizeof dec->message, "decodes to %ux%u, not %ux%u",
                   cinfo->output_width, cinfo->output_height, out_w, out_h);
        jpeg_abort_decompress(cinfo);
        return FALSE;
    }
    while (cinfo->output_scanline < rb) {
        uint32_t y = cinfo->output_scanline;
        gboolean straight = y >= ra && whole_rows;
        uint32_t n = MIN(ROWS_PER_CALL, rb - y);
        if (y < ra)
            n = MIN(n, ra - y);
        JSAMPROW rows[ROWS_PER_CALL];
        for (uint32_t i = 0; i < n; i++)
            rows[i] = straight ? dest + (size_t)(y + i - ra) * stride : scratch + i * row_bytes;
        uint32_t got = jpeg_read_scanlines(cinfo, rows, n);
        if (!straight && y >= ra)
            for (uint32_t i = 0; i < got; i++)
                memcpy(dest + (size_t)(y + i - ra) * stride, scratch + i * row_bytes + ca * 3,
                       (size_t)(cb - ca) * 3);
    }
    if (cinfo->output_scanline == cinfo->output_height)
        jpeg_finish_decompress(cinfo);
    else
        jpeg_abort_decompress(cinfo);
    g_atomic_pointer_add(&td->decoded, 1);
    if (!whole_rows)
        g_atomic_pointer_add(&td->buffered, 1);
    return TRUE;
}

/* ---- Kept tiles ------------------------------------------------------------- */

/* Takes the kept tile of `level`, `shift` and `index` out of the store, or
 * NULL. */
static kept_tile *take_kept(sf_tiff_direct *td, int level, int shift, uint32_t index)
{
    kept_tile *found = NULL;
    g_mutex_lock(&td->lock);
    for (GList *l = td->kept.tail; l; l = l->prev) {
        kept_tile *k = l->data;
        if (k->level == level && k->shift == shift && k->index == index) {
            found = k;
            td->kept_bytes -= k->bytes;
            g_queue_delete_link(&td->kept, l);
            break;
        }
    }
    g_mutex_unlock(&td->lock);
    return found;
}

static void keep(sf_tiff_direct *td, kept_tile *k)
{
    GSList *dropped = NULL;
    g_mutex_lock(&td->lock);
    g_queue_push_tail(&td->kept, k);
    td->kept_bytes += k->bytes;
    while (td->kept_bytes > KEPT_BYTES_MAX && td->kept.length > 1) {
        kept_tile *old = g_queue_pop_head(&td->kept);
        td->kept_bytes -= old->bytes;
        dropped = g_slist_prepend(dropped, old);
    }
    g_mutex_unlock(&td->lock);
    g_slist_free_full(dropped, (GDestroyNotify)free_kept);
}

/* ---- Reads ------------------------------------------------------------------ */

static gboolean read_failed(sf_tiff_direct *td, decoder *dec, int level, int64_t tx, int64_t ty,
                            GError **error)
{
    /* Out of memory is the run's failure (exit 1), not the slide's. */
    g_set_error(error, SF_ERROR, dec->no_memory ? SF_EXIT_FAILURE : SF_EXIT_SLIDE_READ,
                "%s: level %d, tile (%" G_GINT64_FORMAT ", %" G_GINT64_FORMAT "): %s", td->path,
                level, tx, ty, dec->message[0] ? dec->message : "cannot decode");
    put_decoder(td, dec);
    return FALSE;
}

gboolean sf_tiff_read_rgb(sf_tiff_direct *td, int level, int shift, int64_t lx, int64_t ly,
                          int64_t w, int64_t h, gboolean more_below, uint8_t *dest, size_t stride,
                          GError **error)
{
    g_return_val_if_fail(td != NULL && level >= 0 && level < td->n_levels, FALSE);
    g_return_val_if_fail(shift >= 0 && shift <= SF_TIFF_SHIFT_MAX, FALSE);
    const direct_level *lv = &td->levels[level];
    const int64_t lw = (lv->width + (1 << shift) - 1) >> shift;
    const int64_t lh = (lv->height + (1 << shift) - 1) >> shift;
    g_return_val_if_fail(w > 0 && h > 0 && lx >= 0 && ly >= 0 && lx + w <= lw && ly + h <= lh,
                         FALSE);
    g_return_val_if_fail(dest != NULL && stride >= (size_t)w * 3, FALSE);

    decoder *dec = take_decoder(td);
    const int64_t tw = lv->tile_w >> shift, th = lv->tile_h >> shift;
    const size_t tile_row = (size_t)tw * 3;
    for (int64_t ty = ly / th; ty * th < ly + h; ty++) {
        for (int64_t tx = lx / tw; tx * tw < lx + w; tx++) {
            uint32_t index = (uint32_t)(ty * lv->tiles_across + tx);
            /* The part of the tile inside the request, in tile pixels. */
            int64_t cx0 = MAX(lx, tx * tw), cx1 = MIN(lx + w, (tx + 1) * tw);
            int64_t cy0 = MAX(ly, ty * th), cy1 = MIN(ly + h, (ty + 1) * th);
            uint8_t *out = dest + (size_t)(cy0 - ly) * stride + (size_t)(cx0 - lx) * 3;
            gboolean cut_below = more_below && cy1 < MIN((ty + 1) * th, lh);
            kept_tile *k = take_kept(td, level, shift, index);
            if (!k && !cut_below) {
                if (!decode_tile(td, dec, lv, level, index, shift, (uint32_t)(cy0 - ty * th),
                                 (uint32_t)(cy1 - ty * th), (uint32_t)(cx0 - tx * tw),
                                 (uint32_t)(cx1 - tx * tw), out, stride))
                    return read_failed(td, dec, level, tx, ty, error);
                continue;
            }
            if (!k) {
                /* The whole tile, for this read and the one below. */
                k = g_new(kept_tile, 1);
                *k = (kept_tile){level, shift, index, g_try_malloc(tile_row * (size_t)th),
                                 tile_row * (size_t)th};
                if (!k->rgb) {
                    free_kept(k);
                    no_memory(dec, tile_row * (size_t)th);
                    return read_failed(td, dec, level, tx, ty, error);
                }
                if (!decode_tile(td, dec, lv, level, index, shift, 0, (uint32_t)th, 0, (uint32_t)tw,
                                 k->rgb, tile_row)) {
                    free_kept(k);
                    return read_failed(td, dec, level, tx, ty, error);
                }
                g_atomic_pointer_add(&td->buffered, 1);
            }
            for (int64_t y = cy0; y < cy1; y++)
                memcpy(out + (size_t)(y - cy0) * stride,
                       k->rgb + (size_t)(y - ty * th) * tile_row + (size_t)(cx0 - tx * tw) * 3,
                       (size_t)(cx1 - cx0) * 3);
            if (cut_below)
                keep(td, k);
            else
                free_kept(k);
        }
    }
    put_decoder(td, dec);
    return TRUE;
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
    size_t cw = (size_t)(x1 - x0), ch = (size_t)(y1 - y0);
    g_autofree uint8_t *rgb = g_malloc(cw * ch * 3);
    if (!sf_tiff_read_rgb(td, level, 0, x0, y0, (int64_t)cw, (int64_t)ch,
                          more_below && y1 == ly + h, rgb, cw * 3, error))
        return FALSE;
    for (size_t y = 0; y < ch; y++) {
        const uint8_t *src = rgb + y * cw * 3;
        uint32_t *row = dest + (size_t)(y0 - ly + (int64_t)y) * (size_t)w + (size_t)(x0 - lx);
        for (size_t x = 0; x < cw; x++, src += 3)
            row[x] = 0xff000000u | (uint32_t)src[0] << 16 | (uint32_t)src[1] << 8 | src[2];
    }
    return TRUE;
}
