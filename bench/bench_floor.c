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
 * rows taken from the decoded tiles. Compressed output is dropped: writing
 * files is not codec work. Reads are shared out largest first, each read
 * decoded and encoded by one thread.
 *
 * Prints one line: "floor: wall W s, cpu C s, threads N, decoded T tiles
 * (D Mpx), encoded E Mpx". CPU / N is the floor's wall time with perfect
 * sharing, what scripts/bench compares the run's wall time with.
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
    int next; /* atomic */
    int failed;
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

/* Decodes and encodes one read. */
static gboolean do_read(floor_work *work, TIFF *tif, tjhandle tj, const read_job *job)
{
    const tiff_level *lv = &work->levels[job->level];
    const int64_t c0 = job->rect[0], r0 = job->rect[1], c1 = job->rect[2], r1 = job->rect[3];
    const int64_t tw = lv->tile_w >> job->shift, th = lv->tile_h >> job->shift;
    const int64_t width = MAX(c1 - c0, job->out_w);
    const size_t pitch = (size_t)width * 3;
    g_autofree uint8_t *strip = g_malloc0(pitch * (size_t)th);
    g_autofree uint8_t *scratch = g_malloc((size_t)tw * th * 3);
    g_autofree uint8_t *raw = NULL;
    g_autofree uint8_t *jpeg = NULL;
    size_t raw_cap = 0;
    if (!TIFFSetDirectory(tif, (tdir_t)lv->dir))
        return FALSE;
    uint64_t *counts = NULL;
    TIFFGetField(tif, TIFFTAG_TILEBYTECOUNTS, &counts);

    struct jpeg_compress_struct enc[2];
    struct jpeg_error_mgr errs[2];
    null_dest *dests = g_new(null_dest, 2);
    for (int e = 0; e < job->encodes; e++)
        start_encoder(&enc[e], &errs[e], &dests[e], job->out_w, job->out_h, work->quality);
    int next_row = 0;
    gssize tiles = 0;
    for (int64_t ty = r0 / th; c0 < c1 && ty * th < r1; ty++) {
        for (int64_t tx = c0 / tw; tx * tw < c1; tx++) {
            uint32_t index = (uint32_t)(ty * lv->across + tx);
            size_t n = (size_t)counts[index];
            if (raw_cap < n + lv->n_tables) {
                g_free(raw);
                g_free(jpeg);
                raw_cap = n + lv->n_tables;
                raw = g_malloc(raw_cap);
                jpeg = g_malloc(raw_cap);
            }
            if (TIFFReadRawTile(tif, index, raw, (tmsize_t)n) != (tmsize_t)n)
                return FALSE;
            /* The tables, then the tile: one whole JPEG. */
            size_t len = n;
            const uint8_t *whole = raw;
            if (lv->n_tables > 4) {
                memcpy(jpeg, lv->tables, lv->n_tables - 2);
                memcpy(jpeg + lv->n_tables - 2, raw + 2, n - 2);
                len = lv->n_tables - 2 + n - 2;
                whole = jpeg;
            }
            gboolean inside = tx * tw >= c0 && (tx + 1) * tw <= c1;
            uint8_t *dst = inside ? strip + (size_t)(tx * tw - c0) * 3 : scratch;
            if (tjDecompress2(tj, whole, (unsigned long)len, dst, (int)tw,
                              inside ? (int)pitch : (int)tw * 3, (int)th, TJPF_RGB, 0) != 0) {
                fprintf(stderr, "bench_floor: tile %u: %s\n", index, tjGetErrorStr2(tj));
                return FALSE;
            }
            if (!inside) {
                int64_t a = MAX(c0, tx * tw), b = MIN(c1, (tx + 1) * tw);
                for (int64_t y = 0; y < th; y++)
                    memcpy(strip + (size_t)y * pitch + (size_t)(a - c0) * 3,
                           scratch + (size_t)(y * tw + a - tx * tw) * 3, (size_t)(b - a) * 3);
            }
            tiles++;
        }
        /* The output rows this strip of tiles holds. */
        int64_t strip_end = MIN((ty + 1) * th, r1);
        while (next_row < job->out_h) {
            int64_t src = r0 + (int64_t)next_row * (r1 - r0) / job->out_h;
            if (src >= strip_end)
                break;
            JSAMPROW row = strip + (size_t)(src - ty * th) * pitch;
            for (int e = 0; e < job->encodes; e++)
                jpeg_write_scanlines(&enc[e], &row, 1);
            next_row++;
        }
    }
    /* Rows outside the level, if any: background. */
    memset(strip, 255, pitch);
    for (; next_row < job->out_h; next_row++) {
        JSAMPROW row = strip;
        for (int e = 0; e < job->encodes; e++)
            jpeg_write_scanlines(&enc[e], &row, 1);
    }
    for (int e = 0; e < job->encodes; e++) {
        jpeg_finish_compress(&enc[e]);
        jpeg_destroy_compress(&enc[e]);
    }
    g_free(dests);
    g_atomic_pointer_add(&work->tiles, tiles);
    g_atomic_pointer_add(&work->decoded_px, tiles * tw * th);
    g_atomic_pointer_add(&work->encoded_px, (gssize)job->out_w * job->out_h * job->encodes);
    return TRUE;
}

static gpointer worker(gpointer data)
{
    floor_work *work = data;
    TIFF *tif = TIFFOpen(work->path, "rm");
    tjhandle tj = tjInitDecompress();
    for (;;) {
        int i = g_atomic_int_add(&work->next, 1);
        if (i >= work->n_jobs)
            break;
        if (!tif || !tj || !do_read(work, tif, tj, &work->jobs[i])) {
            g_atomic_int_set(&work->failed, 1);
            break;
        }
    }
    if (tj)
        tjDestroy(tj);
    if (tif)
        TIFFClose(tif);
    return NULL;
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

    double wall0 = now(), cpu0 = cpu_seconds();
    GThread **pool = g_new(GThread *, threads);
    for (int t = 0; t < threads; t++)
        pool[t] = g_thread_new("floor", worker, &work);
    for (int t = 0; t < threads; t++)
        g_thread_join(pool[t]);
    double wall = now() - wall0, cpu = cpu_seconds() - cpu0;
    g_free(pool);
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
