/*
 * bench_floor SLIDE MANIFEST THREADS: the codec work of one `slidefrag run`
 * and nothing else, done with libjpeg-turbo's public APIs on THREADS
 * threads, so that scripts/bench can say how far the run is from it.
 *
 * From the run's manifest it takes every read the run made (the overview,
 * each fragment) and asks slidefrag only which tiles each read decodes and
 * at which DCT scale (sf_slide_read_plan()). It then reads those tiles'
 * bytes with libtiff, decodes each once with TurboJPEG (the level's
 * JPEGTables in front, at the same scale), and encodes as many pixels as
 * the run writes with libjpeg at the run's quality and settings
 * (overview.jpg and boxes.jpg at the overview's size, every fragment),
 * from the decoded tiles. Compressed output is dropped: writing files is
 * not codec work.
 *
 * The work is cut as finely as it goes, so that THREADS threads share it
 * as well as threads can: each row of tiles of a read is a decode task,
 * and its rows of output an encode task (a band of the image encoded on
 * its own: the same pixels through the same encoder, a header more), run
 * as soon as its tiles are decoded, by whichever thread is free.
 *
 * Prints one line: "floor: wall W s, cpu C s, threads N, decoded T tiles
 * (D Mpx), encoded E Mpx".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <json-glib/json-glib.h>
#include <jpeglib.h>
#include <tiffio.h>
#include <turbojpeg.h>

#include "slide/slide_internal.h"
#include "slidefrag/error.h"
#include "slidefrag/slide.h"

typedef struct {
    int level, shift;
    int64_t rect[4]; /* c0, r0, c1, r1 of the reduced level */
    int out_w, out_h;
    int encodes; /* images of out_w x out_h written */
    double cost;
} read_job;

typedef struct {
    int dir;
    uint32_t tile_w, tile_h, across;
    uint8_t *tables;
    uint32_t n_tables;
} tiff_level;

typedef struct {
    const char *path;
    tiff_level *levels;
    read_job *jobs;
    int n_jobs;
    int quality;
    int failed;                           /* atomic */
    gssize tiles, decoded_px, encoded_px; /* atomic sums */
} floor_work;

static double now(void)
{
    return (double)g_get_monotonic_time() / G_USEC_PER_SEC;
}

static double cpu_seconds(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
           ru.ru_stime.tv_usec / 1e6;
}

/* A libjpeg destination that drops what it is given. */
typedef struct {
    struct jpeg_destination_mgr pub;
    JOCTET buffer[1 << 16];
} null_dest;

static void null_init(j_compress_ptr cinfo)
{
    null_dest *d = (null_dest *)cinfo->dest;
    d->pub.next_output_byte = d->buffer;
    d->pub.free_in_buffer = sizeof d->buffer;
}

static boolean null_empty(j_compress_ptr cinfo)
{
    null_init(cinfo);
    return TRUE;
}

static void null_term(j_compress_ptr cinfo)
{
    (void)cinfo;
}

/* A compressor with slidefrag's settings: libjpeg's defaults (YCbCr 4:2:0,
 * islow DCT, no Huffman optimisation) at `quality`. */
static void start_encoder(struct jpeg_compress_struct *c, struct jpeg_error_mgr *err,
                          null_dest *dest, int w, int h, int quality)
{
    c->err = jpeg_std_error(err);
    jpeg_create_compress(c);
    dest->pub.init_destination = null_init;
    dest->pub.empty_output_buffer = null_empty;
    dest->pub.term_destination = null_term;
    c->dest = &dest->pub;
    c->image_width = (JDIMENSION)w;
    c->image_height = (JDIMENSION)h;
    c->input_components = 3;
    c->in_color_space = JCS_RGB;
    jpeg_set_defaults(c);
    jpeg_set_quality(c, quality, TRUE);
    c->optimize_coding = FALSE;
    jpeg_start_compress(c, TRUE);
}

/* A row of tiles of a read, and the output rows it gives. */
typedef enum { BAND_WAITING, BAND_DECODING, BAND_DECODED, BAND_ENCODING, BAND_DONE } band_state;

typedef struct {
    const read_job *job;
    int64_t ty;       /* the row of tiles */
    int rows0, rows1; /* output rows [rows0, rows1) it holds */
    uint8_t *strip;   /* decoded, waiting for its encode */
    band_state state;
} band;

typedef struct {
    floor_work *work;
    band *bands;
    int n_bands;
    int next_decode;
    int decoded; /* bands decoded and not yet encoded */
    int most_decoded;
    GArray *spare; /* spare_strip: strips of encoded bands, reused: no fresh pages */
    GMutex lock;
    GCond changed;
} schedule;

/* The reduced level row an output row is taken from. */
static int64_t source_row(const read_job *job, int i)
{
    return job->rect[1] + (int64_t)i * (job->rect[3] - job->rect[1]) / job->out_h;
}

static size_t strip_pitch(const read_job *job)
{
    return (size_t)MAX(job->rect[2] - job->rect[0], job->out_w) * 3;
}

static size_t strip_bytes(const floor_work *work, const read_job *job)
{
    return strip_pitch(job) * (size_t)(work->levels[job->level].tile_h >> job->shift);
}

static gboolean decode_band(floor_work *work, TIFF *tif, tjhandle tj, band *b, uint8_t **raw,
                            size_t *raw_cap, uint8_t **jpeg, uint8_t **scratch, size_t *scratch_cap)
{
    const read_job *job = b->job;
    const tiff_level *lv = &work->levels[job->level];
    const int64_t c0 = job->rect[0], c1 = job->rect[2];
    const int64_t tw = lv->tile_w >> job->shift, th = lv->tile_h >> job->shift;
    const size_t pitch = strip_pitch(job);
    if (!TIFFSetDirectory(tif, (tdir_t)lv->dir))
        return FALSE;
    uint64_t *counts = NULL;
    TIFFGetField(tif, TIFFTAG_TILEBYTECOUNTS, &counts);
    if (!b->strip)
        b->strip = g_malloc0(strip_bytes(work, job));
    if (*scratch_cap < (size_t)(tw * th * 3)) {
        g_free(*scratch);
        *scratch_cap = (size_t)(tw * th * 3);
        *scratch = g_malloc(*scratch_cap);
    }
    gssize tiles = 0;
    for (int64_t tx = c0 / tw; tx * tw < c1; tx++) {
        uint32_t index = (uint32_t)(b->ty * lv->across + tx);
        size_t n = (size_t)counts[index];
        if (*raw_cap < n + lv->n_tables) {
            g_free(*raw);
            g_free(*jpeg);
            *raw_cap = n + lv->n_tables;
            *raw = g_malloc(*raw_cap);
            *jpeg = g_malloc(*raw_cap);
        }
        if (TIFFReadRawTile(tif, index, *raw, (tmsize_t)n) != (tmsize_t)n)
            return FALSE;
        /* The tables, then the tile: one whole JPEG. */
        size_t len = n;
        const uint8_t *whole = *raw;
        if (lv->n_tables > 4) {
            memcpy(*jpeg, lv->tables, lv->n_tables - 2);
            memcpy(*jpeg + lv->n_tables - 2, *raw + 2, n - 2);
            len = lv->n_tables - 2 + n - 2;
            whole = *jpeg;
        }
        gboolean inside = tx * tw >= c0 && (tx + 1) * tw <= c1;
        uint8_t *dst = inside ? b->strip + (size_t)(tx * tw - c0) * 3 : *scratch;
        if (tjDecompress2(tj, whole, (unsigned long)len, dst, (int)tw,
                          inside ? (int)pitch : (int)tw * 3, (int)th, TJPF_RGB, 0) != 0) {
            fprintf(stderr, "bench_floor: tile %u: %s\n", index, tjGetErrorStr2(tj));
            return FALSE;
        }
        if (!inside) {
            int64_t a = MAX(c0, tx * tw), e = MIN(c1, (tx + 1) * tw);
            for (int64_t y = 0; y < th; y++)
                memcpy(b->strip + (size_t)y * pitch + (size_t)(a - c0) * 3,
                       *scratch + (size_t)(y * tw + a - tx * tw) * 3, (size_t)(e - a) * 3);
        }
        tiles++;
    }
    g_atomic_pointer_add(&work->tiles, tiles);
    g_atomic_pointer_add(&work->decoded_px, tiles * tw * th);
    return TRUE;
}

static void encode_band(floor_work *work, band *b)
{
    const read_job *job = b->job;
    const int64_t th = work->levels[job->level].tile_h >> job->shift;
    const size_t pitch = strip_pitch(job);
    if (b->rows1 > b->rows0) {
        struct jpeg_compress_struct enc;
        struct jpeg_error_mgr err;
        null_dest *dest = g_new(null_dest, 1);
        for (int e = 0; e < job->encodes; e++) {
            start_encoder(&enc, &err, dest, job->out_w, b->rows1 - b->rows0, work->quality);
            for (int i = b->rows0; i < b->rows1; i++) {
                JSAMPROW row = b->strip + (size_t)(source_row(job, i) - b->ty * th) * pitch;
                jpeg_write_scanlines(&enc, &row, 1);
            }
            jpeg_finish_compress(&enc);
            jpeg_destroy_compress(&enc);
        }
        g_free(dest);
        g_atomic_pointer_add(&work->encoded_px,
                             (gssize)job->out_w * (b->rows1 - b->rows0) * job->encodes);
    }
}

typedef struct {
    uint8_t *data;
    size_t bytes;
} spare_strip;

/* A spare strip of at least `bytes`, or NULL; under the lock. */
static uint8_t *take_spare(schedule *sc, size_t bytes)
{
    for (guint i = 0; i < sc->spare->len; i++) {
        spare_strip *sp = &g_array_index(sc->spare, spare_strip, i);
        if (sp->bytes >= bytes) {
            uint8_t *data = sp->data;
            g_array_remove_index_fast(sc->spare, i);
            return data;
        }
    }
    return NULL;
}

/* Keeps an encoded band's strip for reuse, the largest few; under the lock. */
static void put_spare(schedule *sc, uint8_t *data, size_t bytes)
{
    spare_strip sp = {data, bytes};
    g_array_append_val(sc->spare, sp);
    if ((int)sc->spare->len > sc->most_decoded) {
        guint smallest = 0;
        for (guint i = 1; i < sc->spare->len; i++)
            if (g_array_index(sc->spare, spare_strip, i).bytes <
                g_array_index(sc->spare, spare_strip, smallest).bytes)
                smallest = i;
        g_free(g_array_index(sc->spare, spare_strip, smallest).data);
        g_array_remove_index_fast(sc->spare, smallest);
    }
}

static gpointer worker(gpointer data)
{
    schedule *sc = data;
    floor_work *work = sc->work;
    TIFF *tif = TIFFOpen(work->path, "rm");
    tjhandle tj = tjInitDecompress();
    uint8_t *raw = NULL, *jpeg = NULL, *scratch = NULL;
    size_t raw_cap = 0, scratch_cap = 0;
    int first_decoded = 0; /* no band before it waits for its encode */
    g_mutex_lock(&sc->lock);
    for (;;) {
        if (g_atomic_int_get(&work->failed) || !tif || !tj) {
            g_atomic_int_set(&work->failed, 1);
            break;
        }
        /* Encodes first: they free memory. */
        band *job = NULL;
        while (first_decoded < sc->n_bands && sc->bands[first_decoded].state >= BAND_ENCODING)
            first_decoded++;
        for (int i = first_decoded; i < sc->next_decode && !job; i++)
            if (sc->bands[i].state == BAND_DECODED)
                job = &sc->bands[i];
        if (job) {
            job->state = BAND_ENCODING;
            sc->decoded--;
            g_mutex_unlock(&sc->lock);
            encode_band(work, job);
            g_mutex_lock(&sc->lock);
            job->state = BAND_DONE;
            put_spare(sc, g_steal_pointer(&job->strip), strip_bytes(work, job->job));
            g_cond_broadcast(&sc->changed);
            continue;
        }
        if (sc->next_decode < sc->n_bands && sc->decoded < sc->most_decoded) {
            job = &sc->bands[sc->next_decode++];
            job->state = BAND_DECODING;
            job->strip = take_spare(sc, strip_bytes(work, job->job));
            sc->decoded++;
            g_mutex_unlock(&sc->lock);
            gboolean ok =
                decode_band(work, tif, tj, job, &raw, &raw_cap, &jpeg, &scratch, &scratch_cap);
            g_mutex_lock(&sc->lock);
            job->state = BAND_DECODED;
            if (!ok)
                g_atomic_int_set(&work->failed, 1);
            g_cond_broadcast(&sc->changed);
            continue;
        }
        gboolean all_done = sc->next_decode >= sc->n_bands;
        for (int i = first_decoded; all_done && i < sc->n_bands; i++)
            all_done = sc->bands[i].state == BAND_DONE;
        if (all_done)
            break;
        g_cond_wait(&sc->changed, &sc->lock);
    }
    g_cond_broadcast(&sc->changed);
    g_mutex_unlock(&sc->lock);
    g_free(raw);
    g_free(jpeg);
    g_free(scratch);
    if (tj)
        tjDestroy(tj);
    if (tif)
        TIFFClose(tif);
    return NULL;
}

/* Every read's rows of tiles, largest read first, and its output rows. */
static void cut_bands(floor_work *work, schedule *sc)
{
    GArray *bands = g_array_new(FALSE, TRUE, sizeof(band));
    for (int r = 0; r < work->n_jobs; r++) {
        const read_job *job = &work->jobs[r];
        const int64_t th = work->levels[job->level].tile_h >> job->shift;
        if (job->rect[0] >= job->rect[2] || job->rect[1] >= job->rect[3])
            continue;
        int i = 0;
        for (int64_t ty = job->rect[1] / th; ty * th < job->rect[3]; ty++) {
            band b = {.job = job, .ty = ty, .rows0 = i};
            while (i < job->out_h && source_row(job, i) < (ty + 1) * th)
                i++;
            b.rows1 = i;
            g_array_append_val(bands, b);
        }
    }
    sc->n_bands = (int)bands->len;
    sc->bands = (band *)(void *)g_array_free(bands, FALSE);
}

/* Each level's tiled directory (the one of its size) and JPEGTables. */
static gboolean map_levels(const char *path, const sf_slide *slide, tiff_level *levels)
{
    TIFF *tif = TIFFOpen(path, "rm");
    if (!tif)
        return FALSE;
    int n = sf_slide_level_count(slide);
    for (int l = 0; l < n; l++)
        levels[l].dir = -1;
    for (tdir_t d = 0; d < TIFFNumberOfDirectories(tif) && TIFFSetDirectory(tif, d); d++) {
        uint32_t w = 0, h = 0;
        TIFFGetField(tif, TIFFTAG_IMAGEWIDTH, &w);
        TIFFGetField(tif, TIFFTAG_IMAGELENGTH, &h);
        for (int l = 0; l < n && TIFFIsTiled(tif); l++) {
            const sf_level *lv = sf_slide_level(slide, l);
            if (lv->width != w || lv->height != h || levels[l].dir >= 0)
                continue;
            levels[l].dir = d;
            TIFFGetField(tif, TIFFTAG_TILEWIDTH, &levels[l].tile_w);
            TIFFGetField(tif, TIFFTAG_TILELENGTH, &levels[l].tile_h);
            levels[l].across = (w + levels[l].tile_w - 1) / levels[l].tile_w;
            void *tables = NULL;
            if (TIFFGetField(tif, TIFFTAG_JPEGTABLES, &levels[l].n_tables, &tables))
                levels[l].tables = g_memdup2(tables, levels[l].n_tables);
        }
    }
    TIFFClose(tif);
    for (int l = 0; l < n; l++)
        if (levels[l].dir < 0)
            return FALSE;
    return TRUE;
}

static int by_cost(gconstpointer a, gconstpointer b)
{
    double ca = ((const read_job *)a)->cost, cb = ((const read_job *)b)->cost;
    return ca < cb ? 1 : ca > cb ? -1 : 0;
}

static read_job plan_read(const sf_slide *slide, int level, int64_t x, int64_t y, int64_t w,
                          int64_t h, int out_w, int out_h, int encodes)
{
    read_job job = {.level = level, .out_w = out_w, .out_h = out_h, .encodes = encodes};
    sf_slide_read_plan(slide, level, x, y, w, h, out_w, out_h, &job.shift, job.rect);
    job.cost = (double)(job.rect[2] - job.rect[0]) * (double)(job.rect[3] - job.rect[1]) +
               (double)out_w * out_h * encodes;
    return job;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: %s SLIDE MANIFEST THREADS\n", argv[0]);
        return SF_EXIT_USAGE;
    }
    int threads = atoi(argv[3]);
    g_autoptr(GError) error = NULL;
    g_autoptr(sf_slide) slide = sf_slide_open(argv[1], &error);
    g_autoptr(JsonParser) parser = json_parser_new();
    if (!slide || !json_parser_load_from_file(parser, argv[2], &error) || threads < 1) {
        fprintf(stderr, "bench_floor: %s\n", error ? error->message : "THREADS must be >= 1");
        return SF_EXIT_USAGE;
    }
    JsonObject *m = json_node_get_object(json_parser_get_root(parser));
    JsonObject *ov = json_object_get_object_member(m, "overview");
    JsonObject *params = json_object_get_object_member(m, "params");
    JsonArray *regions = json_object_get_array_member(m, "regions");
    floor_work work = {.path = argv[1],
                       .quality = (int)json_object_get_int_member(params, "jpeg-quality")};
    work.levels = g_new0(tiff_level, sf_slide_level_count(slide));
    if (!map_levels(argv[1], slide, work.levels)) {
        fprintf(stderr, "bench_floor: %s: not a tiled TIFF with one directory a level\n", argv[1]);
        return SF_EXIT_SLIDE_OPEN;
    }
    guint n_regions = json_array_get_length(regions);
    work.jobs = g_new0(read_job, n_regions + 1);
    work.jobs[work.n_jobs++] =
        plan_read(slide, (int)json_object_get_int_member(ov, "level"), 0, 0, sf_slide_width(slide),
                  sf_slide_height(slide), (int)json_object_get_int_member(ov, "width"),
                  (int)json_object_get_int_member(ov, "height"), 2);
    for (guint i = 0; i < n_regions; i++) {
        JsonObject *r = json_array_get_object_element(regions, i);
        JsonObject *box = json_object_get_object_member(r, "level0");
        JsonObject *frag = json_object_get_object_member(r, "fragment");
        work.jobs[work.n_jobs++] =
            plan_read(slide, (int)json_object_get_int_member(frag, "level"),
                      json_object_get_int_member(box, "x"), json_object_get_int_member(box, "y"),
                      json_object_get_int_member(box, "w"), json_object_get_int_member(box, "h"),
                      (int)json_object_get_int_member(frag, "width"),
                      (int)json_object_get_int_member(frag, "height"), 1);
    }
    qsort(work.jobs, (size_t)work.n_jobs, sizeof *work.jobs, by_cost);

    schedule sc = {.work = &work, .most_decoded = 2 * threads};
    sc.spare = g_array_new(FALSE, FALSE, sizeof(spare_strip));
    g_mutex_init(&sc.lock);
    g_cond_init(&sc.changed);
    cut_bands(&work, &sc);

    double wall0 = now(), cpu0 = cpu_seconds();
    GThread **pool = g_new(GThread *, threads);
    for (int t = 0; t < threads; t++)
        pool[t] = g_thread_new("floor", worker, &sc);
    for (int t = 0; t < threads; t++)
        g_thread_join(pool[t]);
    double wall = now() - wall0, cpu = cpu_seconds() - cpu0;
    g_free(pool);
    for (int i = 0; i < sc.n_bands; i++)
        g_free(sc.bands[i].strip);
    g_free(sc.bands);
    for (guint i = 0; i < sc.spare->len; i++)
        g_free(g_array_index(sc.spare, spare_strip, i).data);
    g_array_free(sc.spare, TRUE);
    g_mutex_clear(&sc.lock);
    g_cond_clear(&sc.changed);
    if (work.failed) {
        fprintf(stderr, "bench_floor: a read failed\n");
        return SF_EXIT_SLIDE_READ;
    }
    printf("floor: wall %.3f s, cpu %.3f s, threads %d, decoded %" G_GINT64_FORMAT
           " tiles (%.1f Mpx), encoded %.1f Mpx\n",
           wall, cpu, threads, (gint64)work.tiles, (double)work.decoded_px / 1e6,
           (double)work.encoded_px / 1e6);
    for (int l = 0; l < sf_slide_level_count(slide); l++)
        g_free(work.levels[l].tables);
    g_free(work.levels);
    g_free(work.jobs);
    return SF_EXIT_OK;
}
