/* The run job for one slide: overview, detection, fragments, manifest. */
#define _DEFAULT_SOURCE /* struct stat's st_mtim */

#include <math.h>
#include <string.h>
#include <sys/stat.h>

#include "run/run_internal.h"
#include "slidefrag/error.h"
#include "slidefrag/image_io.h"
#include "slidefrag/manifest.h"
#include "slidefrag/report.h"
#include "slidefrag/version.h"

static double measure_to_pixels(const sf_measure *m, double microns_per_pixel, gboolean area)
{
    if (!m->microns)
        return m->value;
    return area ? m->value / (microns_per_pixel * microns_per_pixel) : m->value / microns_per_pixel;
}

/* A count of overview pixels, rounded up. Values past 2^53 are far beyond
 * any overview (65535^2 < 2^33) and mean the same; beyond int64_t the
 * conversion would be undefined. */
static int64_t pixels_ceil(double v)
{
    double max = 9007199254740992.0; /* 2^53 */
    double c = ceil(v - 1e-9);
    return !(c > 0) ? 0 : c > max ? (int64_t)max : (int64_t)c;
}

gboolean sf_run_detect_params(const sf_run_params *params, const sf_slide *slide,
                              double overview_scale, sf_detect_params *detect, double *padding_px,
                              GError **error)
{
    double slide_mpp = sf_run_usable_mpp(sf_slide_mpp_x(slide));
    sf_run_params resolved;
    sf_run_params_for_mpp(params, slide_mpp, &resolved);
    params = &resolved;
    double mpp = slide_mpp * overview_scale; /* µm per overview pixel */
    if ((params->gap.microns || params->min_area.microns || params->padding.microns) && mpp <= 0)
        return sf_run_no_mpp_error(slide,
                                   "--gap, --min-area and --padding must be given in pixels, "
                                   "not µm",
                                   error);
    *detect = params->detect;
    detect->regions.gap = pixels_ceil(measure_to_pixels(&params->gap, mpp, FALSE));
    detect->regions.min_area = pixels_ceil(measure_to_pixels(&params->min_area, mpp, TRUE));
    detect->regions.min_area_fraction = params->min_area_fraction;
    detect->regions.min_tissue_fraction = params->min_tissue_fraction;
    *padding_px = measure_to_pixels(&params->padding, mpp, FALSE);
    return TRUE;
}

/* ---- Test hook ----------------------------------------------------------- */

static sf_run_step_hook step_hook;
static void *step_hook_data;

void sf_run_set_step_hook(sf_run_step_hook hook, void *data)
{
    step_hook = hook;
    step_hook_data = data;
}

static void step(const char *name)
{
    if (step_hook)
        step_hook(name, step_hook_data);
}

static double seconds_since(gint64 start)
{
    return (double)(g_get_monotonic_time() - start) / G_USEC_PER_SEC;
}

/* ---- Progress ------------------------------------------------------------ */

const char *sf_run_stage_text(sf_run_stage stage)
{
    switch (stage) {
    case SF_RUN_OPENING:
        return "opening the slide";
    case SF_RUN_READING_OVERVIEW:
        return "reading the overview";
    case SF_RUN_FINDING_TISSUE:
        return "finding tissue";
    case SF_RUN_WRITING_OVERVIEW:
        return "writing the overview, mask and boxes";
    case SF_RUN_CUTTING_FRAGMENTS:
        return "cutting fragments";
    case SF_RUN_WRITING_REPORT:
        return "writing the report";
    case SF_RUN_WRITING_MANIFEST:
        return "writing the manifest";
    }
    return "running";
}

/* What the caller is told, one call at a time. */
typedef struct progress_state {
    sf_run_progress_fn fn;
    void *user_data;
    GMutex lock;
    sf_run_progress now;
} progress_state;

static void progress_stage(progress_state *p, sf_run_stage stage)
{
    if (!p->fn)
        return;
    g_mutex_lock(&p->lock);
    p->now.stage = stage;
    p->fn(&p->now, p->user_data);
    g_mutex_unlock(&p->lock);
}

static void progress_add(progress_state *p, int fragments, int64_t rows)
{
    if (!p->fn)
        return;
    g_mutex_lock(&p->lock);
    p->now.fragments_done += fragments;
    p->now.rows_done += rows;
    p->fn(&p->now, p->user_data);
    g_mutex_unlock(&p->lock);
}

/* ---- Fragments, cut by a few worker threads ---------------------------- */

/* One fragment: a tile of a region (the whole region when it fits one). */
typedef struct fragment_job {
    sf_box level0;
    int width, height, level;
    char *name;
    int region;   /* index in the detector's regions */
    int row, col; /* in the region's grid */
} fragment_job;

/* A region of tissue on level 0 and how its fragments cut it. */
typedef struct region_plan {
    sf_box detected;   /* the detector's box, no padding */
    sf_box padded;     /* what the tiles cover */
    double downsample; /* level-0 px per fragment px */
    int level;
    int rows, cols;
    int overlap; /* fragment px */
} region_plan;

typedef struct fragment_batch {
    progress_state *progress;
    sf_slide *slide;
    const char *dir;
    int quality;
    fragment_job *jobs;
    int n_jobs;
    int *order;   /* job indexes, largest fragment first */
    int next;     /* atomic: next place in `order` to take */
    int finished; /* atomic: jobs done */
    int failed;   /* atomic: set once any job fails */
    GMutex lock;
    GError *error; /* the first failure, under lock */
    GThread **workers;
    int started;
    GThreadPool *committer; /* fsyncs and renames finished fragments; NULL: inline */
} fragment_batch;

static void record_failure(fragment_batch *batch, GError *error)
{
    g_mutex_lock(&batch->lock);
    if (!batch->error)
        batch->error = error;
    else
        g_error_free(error);
    g_mutex_unlock(&batch->lock);
    g_atomic_int_set(&batch->failed, 1);
}

static void commit_fragment(gpointer data, gpointer user_data)
{
    GError *error = NULL;
    if (!sf_output_commit(data, &error))
        record_failure(user_data, error);
}

/* The JPEG writer's sink, counting rows for the progress. */
typedef struct counted_sink {
    sf_jpeg_writer *writer;
    progress_state *progress;
} counted_sink;

static gboolean counted_row_sink(const uint8_t *rows, int first_row, int n_rows, void *user_data,
                                 GError **error)
{
    counted_sink *sink = user_data;
    if (!sf_jpeg_row_sink(rows, first_row, n_rows, sink->writer, error))
        return FALSE;
    progress_add(sink->progress, 0, n_rows);
    return TRUE;
}

static gboolean write_fragment(fragment_batch *batch, const fragment_job *job, GError **error)
{
    g_autofree char *path = g_build_filename(batch->dir, "fragments", job->name, NULL);
    g_autoptr(sf_jpeg_writer) writer =
        sf_jpeg_writer_open(path, job->width, job->height, batch->quality, error);
    if (!writer)
        return FALSE;
    counted_sink sink = {writer, batch->progress};
    if (!sf_slide_read_scaled(batch->slide, job->level, job->level0.x, job->level0.y, job->level0.w,
                              job->level0.h, job->width, job->height, counted_row_sink, &sink,
                              error))
        return FALSE;
    sf_output *output = sf_jpeg_writer_finish_data(g_steal_pointer(&writer), error);
    if (!output)
        return FALSE;
    progress_add(batch->progress, 1, 0);
    /* Committing waits for the disk (two fsyncs, 1.6 ms on the bench's
     * machine: 0.4 s for its 120 fragments), not for a core: it happens on
     * the committer's threads while this one cuts the next fragment. */
    if (!batch->committer)
        return sf_output_commit(output, error);
    /* An exclusive pool's push starts no thread and cannot fail. */
    g_thread_pool_push(batch->committer, output, NULL);
    return TRUE;
}

/* Whether no fragment is left to help with. Called under the slide's
 * helpers' lock: atomics only. */
static gboolean batch_over(void *data)
{
    fragment_batch *batch = data;
    return g_atomic_int_get(&batch->finished) >= batch->n_jobs || g_atomic_int_get(&batch->failed);
}

static gpointer fragment_worker(gpointer data)
{
    fragment_batch *batch = data;
    for (;;) {
        int i = g_atomic_int_add(&batch->next, 1);
        if (i >= batch->n_jobs || g_atomic_int_get(&batch->failed))
            break;
        GError *error = NULL;
        gboolean ok = write_fragment(batch, &batch->jobs[batch->order[i]], &error);
        if (!ok)
            record_failure(batch, error);
        g_atomic_int_inc(&batch->finished);
        sf_slide_wake_helpers(batch->slide);
        if (!ok)
            break;
    }
    /* No fragment left to start: decode ahead for the ones still being
     * cut instead of idling, so the last large fragments use every thread. */
    sf_slide_help_reads(batch->slide, batch_over, batch);
    return NULL;
}

static int larger_first(const void *a, const void *b, void *data)
{
    const fragment_job *jobs = data;
    const fragment_job *ja = &jobs[*(const int *)a], *jb = &jobs[*(const int *)b];
    int64_t pa = (int64_t)ja->width * ja->height, pb = (int64_t)jb->width * jb->height;
    return pa < pb ? 1 : pa > pb ? -1 : *(const int *)a - *(const int *)b;
}

/*
 * Starts cutting the fragments on threads - 1 new threads, largest first so
 * that the last to finish are small; the calling thread joins them in
 * fragments_finish().
 */
static fragment_batch *fragments_start(sf_slide *slide, const char *dir, int quality, int threads,
                                       fragment_job *jobs, int n_jobs, progress_state *progress)
{
    fragment_batch *batch = g_new0(fragment_batch, 1);
    *batch = (fragment_batch){.progress = progress,
                              .slide = slide,
                              .dir = dir,
                              .quality = quality,
                              .jobs = jobs,
                              .n_jobs = n_jobs};
    g_mutex_init(&batch->lock);
    batch->order = g_new(int, MAX(n_jobs, 1));
    for (int i = 0; i < n_jobs; i++)
        batch->order[i] = i;
    g_qsort_with_data(batch->order, n_jobs, sizeof *batch->order, larger_first, jobs);
    int n_threads = CLAMP(threads, 1, MAX(n_jobs, 1));
    /* Fragments read side by side instead of each read decoding ahead on
     * threads of its own: --threads threads in all, and strip memory for
     * one read per thread; threads with no fragment left help the others. */
    sf_slide_set_read_threads(slide, MAX(1, threads / n_threads));
    batch->workers = g_new0(GThread *, n_threads);
    /* The calling thread works too: one thread means no thread at all. When
     * the system refuses more threads (a process limit), fewer do the work:
     * g_thread_new would abort. */
    batch->started = 1;
    while (batch->started < n_threads) {
        GThread *t = g_thread_try_new("fragment", fragment_worker, batch, NULL);
        if (!t)
            break;
        batch->workers[batch->started++] = t;
    }
    /* Its threads started now (exclusive): a pool that could not start any
     * would queue commits forever. They sleep in fsync, so two do. */
    batch->committer = g_thread_pool_new(commit_fragment, batch, 2, TRUE, NULL);
    if (batch->committer && g_thread_pool_get_num_threads(batch->committer) == 0) {
        g_thread_pool_free(batch->committer, TRUE, FALSE);
        batch->committer = NULL;
    }
    return batch;
}

/* Stops the cutting threads after the fragment each is cutting. */
static void fragments_stop(fragment_batch *batch)
{
    g_atomic_int_set(&batch->failed, 1);
    sf_slide_wake_helpers(batch->slide);
}

/* The calling thread cuts fragments too, then waits for the others; the
 * first failure in *error. The batch stays for fragments_free(), as
 * another thread may still stop it. */
static gboolean fragments_finish(fragment_batch *batch, GError **error)
{
    fragment_worker(batch);
    for (int t = 1; t < batch->started; t++)
        g_thread_join(batch->workers[t]);
    /* Every finished fragment committed before anything reads the folder. */
    if (batch->committer)
        g_thread_pool_free(batch->committer, FALSE, TRUE);
    batch->committer = NULL;
    if (!batch->error)
        return TRUE;
    g_propagate_error(error, g_steal_pointer(&batch->error));
    return FALSE;
}

static void fragments_free(fragment_batch *batch)
{
    if (!batch)
        return;
    g_clear_error(&batch->error);
    g_mutex_clear(&batch->lock);
    g_free(batch->workers);
    g_free(batch->order);
    g_free(batch);
}

/* ---- Outputs ------------------------------------------------------------ */

/* The run's own large buffers (the mask, the figure: one byte or three a
 * pixel of an overview of up to 65535 x 65535) come from here, so that
 * running out of memory is exit 1 with a message, not an abort. */
static gboolean out_of_memory(const char *slide_path, size_t bytes, const char *what,
                              GError **error)
{
    g_set_error(error, SF_ERROR, SF_EXIT_FAILURE, "%s: out of memory: %zu MB for %s", slide_path,
                (bytes + (1 << 20) - 1) >> 20, what);
    return FALSE;
}

static void *try_alloc(size_t bytes, const char *slide_path, const char *what, GError **error)
{
    void *p = g_try_malloc(MAX(bytes, 1));
    if (!p)
        out_of_memory(slide_path, bytes, what, error);
    return p;
}

static gboolean write_boxes_figure(const char *path, const sf_image *overview,
                                   const sf_regions *found, int quality, GError **error)
{
    /* The method's figure: component boxes in yellow, final regions in green. */
    static const uint8_t initial_colour[3] = {255, 200, 0};
    static const uint8_t region_colour[3] = {0, 170, 0};
    size_t bytes = overview->stride * overview->height;
    g_autofree uint8_t *pixels = try_alloc(bytes, path, "the boxes figure", error);
    if (!pixels)
        return FALSE;
    memcpy(pixels, overview->data, bytes);
    sf_image canvas = *overview;
    canvas.data = pixels;
    int thickness = MAX(1, MAX(overview->width, overview->height) / 800);
    for (size_t i = 0; i < found->n_initial; i++)
        sf_draw_box(&canvas, &found->initial[i], thickness, initial_colour);
    for (size_t i = 0; i < found->n_regions; i++)
        sf_draw_box(&canvas, &found->regions[i].box, thickness * 2, region_colour);
    return sf_jpeg_save(path, canvas.data, canvas.width, canvas.height, 3, canvas.stride, quality,
                        error);
}

/* The overview's files: written on a thread of their own while the
 * fragments are cut, since what holds them up is fsync (two a file, 0.1 to
 * 1 s on a busy disk), not a core; should one fail, the cutting stops. */
typedef struct {
    const sf_run_params *params;
    const char *overview_path, *mask_path, *boxes_path;
    const sf_image *overview, *mask;
    const sf_regions *found;
    fragment_batch *batch;
    gboolean ok;
    GError *error;
    double seconds;
} overview_files;

static gpointer write_overview_files(gpointer data)
{
    overview_files *f = data;
    gint64 start = g_get_monotonic_time();
    const sf_image *ov = f->overview, *mask = f->mask;
    f->ok = f->params->overview_png
                ? sf_png_save(f->overview_path, ov->data, ov->width, ov->height, 3, ov->stride,
                              &f->error)
                : sf_jpeg_save(f->overview_path, ov->data, ov->width, ov->height, 3, ov->stride,
                               f->params->jpeg_quality, &f->error);
    if (f->ok)
        f->ok = sf_png_save(f->mask_path, mask->data, mask->width, mask->height, 1, mask->stride,
                            &f->error);
    if (f->ok)
        f->ok = write_boxes_figure(f->boxes_path, ov, f->found, f->params->jpeg_quality, &f->error);
    if (!f->ok && f->batch)
        fragments_stop(f->batch);
    f->seconds = seconds_since(start);
    return NULL;
}

/*
 * What identifies the slide file that was read: taken just before it is
 * opened and compared once every pixel has been read. A file replaced
 * (another inode) or rewritten (size or time) in between fails the run:
 * otherwise the manifest would give the new file's size and time to the old
 * file's pixels, and a resumed batch would skip the new slide for good.
 */
typedef struct file_stamp {
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime;
} file_stamp;

static gboolean stamp_file(const char *path, file_stamp *stamp)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return FALSE;
    *stamp = (file_stamp){st.st_dev, st.st_ino, st.st_size, st.st_mtim};
    return TRUE;
}

static gboolean same_file(const char *path, const file_stamp *opened, GError **error)
{
    file_stamp now;
    if (stamp_file(path, &now) && now.dev == opened->dev && now.ino == opened->ino &&
        now.size == opened->size && now.mtime.tv_sec == opened->mtime.tv_sec &&
        now.mtime.tv_nsec == opened->mtime.tv_nsec)
        return TRUE;
    g_set_error(error, SF_ERROR, SF_EXIT_SLIDE_READ,
                "%s: the file changed while it was being read (replaced or modified since "
                "it was opened); nothing is marked finished, run it again",
                path);
    return FALSE;
}

/* --overlap in fragment pixels at `downsample`: less than half a tile, or
 * the tiles would not advance. */
static gboolean overlap_pixels(const sf_slide *slide, const sf_run_params *used, double mpp,
                               double downsample, double *overlap, GError **error)
{
    *overlap =
        used->overlap.microns ? used->overlap.value / (mpp * downsample) : used->overlap.value;
    if (*overlap * 2 < used->tile)
        return TRUE;
    g_set_error(error, SF_ERROR, SF_EXIT_USAGE,
                "%s: --overlap is %.0f fragment px, half a --tile (%d px) or more; give a "
                "smaller overlap or a larger tile",
                sf_slide_path(slide), ceil(*overlap), used->tile);
    return FALSE;
}

/*
 * A region on level 0 (detected, and padded), its fragment resolution and
 * its tiles, appended to `jobs` named `name`__x…: one fragment when it
 * fits a tile, else a grid of overlapping tiles, each within the limits
 * the annotation tool can show (see SF_TILE_MAX).
 */
static gboolean plan_region(const sf_slide *slide, const sf_run_params *used, double mpp,
                            const char *name, const sf_box *box, double padding,
                            const sf_overview *ov, int index, region_plan *plan, GArray *jobs,
                            GError **error)
{
    int64_t w0 = sf_slide_width(slide), h0 = sf_slide_height(slide);
    plan->detected = sf_region_to_level0(box, 0, ov->scale_x, ov->scale_y, w0, h0);
    plan->padded = sf_region_to_level0(box, padding, ov->scale_x, ov->scale_y, w0, h0);
    if (!sf_fragment_resolution(slide, &used->fragment, &plan->padded, &plan->downsample,
                                &plan->level, error))
        return FALSE;
    double overlap;
    if (!overlap_pixels(slide, used, mpp, plan->downsample, &overlap, error))
        return FALSE;
    plan->overlap = (int)ceil(overlap);
    size_t n_tiles = 0;
    g_autofree sf_tile *tiles = sf_tile_plan(&plan->padded, plan->downsample, used->tile,
                                             plan->overlap, &plan->rows, &plan->cols, &n_tiles);
    if (!tiles || jobs->len + n_tiles > SF_FRAGMENTS_MAX) {
        if (n_tiles > 0 && jobs->len + n_tiles <= SF_FRAGMENTS_MAX)
            return out_of_memory(sf_slide_path(slide), n_tiles * sizeof *tiles, "tiles", error);
        g_set_error(error, SF_ERROR, SF_EXIT_USAGE,
                    "%s: more than %d fragments at %.3g level-0 px per fragment px in tiles of "
                    "%d px; give a coarser --fragment-mpp or a larger --tile",
                    sf_slide_path(slide), SF_FRAGMENTS_MAX, plan->downsample, used->tile);
        return FALSE;
    }
    for (size_t t = 0; t < n_tiles; t++) {
        const sf_tile *tile = &tiles[t];
        fragment_job job = {
            .level0 = tile->level0,
            .width = tile->width,
            .height = tile->height,
            .level = plan->level,
            .name = sf_fragment_name_format(name, tile->level0.x, tile->level0.y, tile->level0.w,
                                            tile->level0.h),
            .region = index,
            .row = tile->row,
            .col = tile->col,
        };
        g_array_append_val(jobs, job);
    }
    return TRUE;
}

void sf_run_result_clear(sf_run_result *result)
{
    g_clear_pointer(&result->output_dir, g_free);
    g_clear_pointer(&result->note, g_free);
}

static gboolean run_slide(const char *slide_path, const char *output_dir,
                          const sf_run_params *params, progress_state *progress,
                          sf_run_result *result, GError **error);

char *sf_slide_stem(const char *path)
{
    g_autofree char *base = g_path_get_basename(path);
    char *dot = strrchr(base, '.');
    /* "...svs" would leave "..", a folder name that climbs out of OUTDIR:
     * such a name keeps its extension. */
    if (dot && dot != base && strspn(base, ".") < (size_t)(dot - base))
        *dot = '\0';
    /* The stem names the folder and the fragments and is written into the
     * manifest, which must stay valid UTF-8 JSON: the same text everywhere. */
    return g_utf8_make_valid(base, -1);
}

gboolean sf_run_slide(const char *slide_path, const char *output_dir, const sf_run_params *params,
                      sf_run_result *result, GError **error)
{
    return sf_run_slide_progress(slide_path, output_dir, params, NULL, NULL, result, error);
}

gboolean sf_run_slide_progress(const char *slide_path, const char *output_dir,
                               const sf_run_params *params, sf_run_progress_fn progress_fn,
                               void *user_data, sf_run_result *result, GError **error)
{
    progress_state progress = {.fn = progress_fn, .user_data = user_data};
    g_mutex_init(&progress.lock);
    gboolean ok = run_slide(slide_path, output_dir, params, &progress, result, error);
    g_mutex_clear(&progress.lock);
    return ok;
}

static gboolean run_slide(const char *slide_path, const char *output_dir,
                          const sf_run_params *params, progress_state *progress,
                          sf_run_result *result, GError **error)
{
    gint64 start = g_get_monotonic_time(), stage = start;
    double t_open, t_overview, t_detect, t_write, t_fragments;
    g_autofree char *stem = sf_slide_stem(slide_path);
    /* Fragments are named after the folder, so that two slides of one stem
     * (OUTDIR/<stem> and OUTDIR/<stem>-<hash>) never share a fragment name
     * and each still maps back by its name alone. */
    g_autofree char *name = g_path_get_basename(output_dir);

    progress_stage(progress, SF_RUN_OPENING);
    file_stamp opened = {0};
    gboolean stamped = stamp_file(slide_path, &opened);
    g_autoptr(sf_slide) slide = sf_slide_open(slide_path, error);
    if (!slide)
        return FALSE;
    /* Gone between the two: what was opened is not what was stamped. */
    if (!stamped)
        return same_file(slide_path, &opened, error);
    t_open = seconds_since(stage);
    step("opened");
    /* Before anything is written: the stem names every output, through
     * the folder's name (the stem, or the stem and a suffix that keeps two
     * slides of one stem apart). */
    g_autoptr(GError) stem_error = NULL;
    if (!sf_stem_check(stem, &stem_error)) {
        g_set_error(error, SF_ERROR, SF_EXIT_USAGE,
                    "%s: the slide's name %s; rename the file, or link to it under another "
                    "name",
                    slide_path, stem_error->message);
        return FALSE;
    }
    if (!sf_slide_stem_is_safe(name)) {
        g_set_error(error, SF_ERROR, SF_EXIT_USAGE,
                    "%s: the folder's name '%s' cannot name fragments (see sf_stem_check)",
                    output_dir, name);
        return FALSE;
    }

    /* Geometry and parameters are checked before anything is written. */
    g_auto(sf_overview) ov = {0};
    if (!sf_overview_plan(slide, &params->overview, &ov, error))
        return FALSE;
    int ov_w = ov.width, ov_h = ov.height, ov_level = ov.level;
    double scale_x = ov.scale_x, scale_y = ov.scale_y;
    sf_detect_params detect;
    double padding;
    if (!sf_run_detect_params(params, slide, scale_x, &detect, &padding, error))
        return FALSE;
    /* The parameters as this slide's µm/px resolves them: what the
     * fragments use and the manifest records. */
    double mpp = sf_run_usable_mpp(sf_slide_mpp_x(slide));
    sf_run_params used;
    sf_run_params_for_mpp(params, mpp, &used);
    if (used.overlap.microns && mpp <= 0)
        return sf_run_no_mpp_error(slide, "--overlap must be given in pixels, not µm", error);
    /* Where the fragment resolution does not depend on the region, the
     * overlap is checked before anything is written. */
    if (used.fragment.kind != SF_TARGET_MAX_SIZE || !used.overlap.microns) {
        sf_box whole = {0, 0, sf_slide_width(slide), sf_slide_height(slide)};
        double downsample, overlap;
        int level;
        if (!sf_fragment_resolution(slide, &used.fragment, &whole, &downsample, &level, error) ||
            !overlap_pixels(slide, &used, mpp, downsample, &overlap, error))
            return FALSE;
    }

    g_autoptr(sf_slide_folder) folder = sf_slide_folder_open(output_dir, name, error);
    if (!folder)
        return FALSE;
    sf_slide_folder_remove_temp_files(folder);
    /* A folder without a manifest is unfinished: drop an earlier manifest
     * first so a failure below never leaves it describing other files. The
     * fragments it lists are announced first, so that they are still known
     * to be ours if this run is killed before it removes them. */
    g_autoptr(GHashTable) earlier = sf_slide_folder_earlier_fragments(folder);
    if (g_hash_table_size(earlier) > 0 &&
        !sf_slide_folder_announce_fragments(folder, earlier, error))
        return FALSE;
    if (!sf_slide_folder_remove_manifest(folder, error))
        return FALSE;
    step("folder-ready");

    stage = g_get_monotonic_time();
    progress_stage(progress, SF_RUN_READING_OVERVIEW);
    /* One read: all of --threads decode its tiles. */
    sf_slide_set_read_threads(slide, params->threads);
    if (!sf_overview_read(slide, &ov, error))
        return FALSE;
    sf_image overview = sf_overview_image(&ov);
    t_overview = seconds_since(stage);

    stage = g_get_monotonic_time();
    progress_stage(progress, SF_RUN_FINDING_TISSUE);
    g_autofree uint8_t *mask_pixels = try_alloc((size_t)ov_w * ov_h, slide_path, "the mask", error);
    if (!mask_pixels)
        return FALSE;
    sf_image mask = {mask_pixels, ov_w, ov_h, 1, (size_t)ov_w};
    sf_regions found = {0};
    uint8_t threshold = 0;
    if (sf_detect(&overview, &detect, &mask, &threshold, &found) != SF_OK) {
        g_set_error(error, SF_ERROR, SF_EXIT_FAILURE, "%s: out of memory finding tissue",
                    slide_path);
        return FALSE;
    }
    t_detect = seconds_since(stage);

    /* Regions on level 0 and the fragments that cut each. */
    int n_regions = (int)found.n_regions;
    g_autofree region_plan *plans = g_try_new0(region_plan, MAX(n_regions, 1));
    g_autoptr(GArray) job_array = g_array_new(FALSE, TRUE, sizeof(fragment_job));
    gboolean ok = plans != NULL;
    if (!ok)
        out_of_memory(slide_path, sizeof *plans * n_regions, "the regions", error);
    for (int i = 0; i < n_regions && ok; i++)
        ok = plan_region(slide, &used, mpp, name, &found.regions[i].box, padding, &ov, i, &plans[i],
                         job_array, error);
    fragment_job *jobs = (fragment_job *)job_array->data;
    int n_jobs = (int)job_array->len;

    /* Every name this run may write joins the announced ones before the
     * first is written. */
    g_autoptr(GHashTable) written = g_hash_table_new(g_str_hash, g_str_equal);
    for (int i = 0; i < n_jobs && ok; i++)
        g_hash_table_add(written, jobs[i].name);
    if (ok && g_hash_table_size(written) > 0) {
        g_autoptr(GHashTable) announced = g_hash_table_new(g_str_hash, g_str_equal);
        GHashTableIter iter;
        gpointer key;
        g_hash_table_iter_init(&iter, earlier);
        while (g_hash_table_iter_next(&iter, &key, NULL))
            g_hash_table_add(announced, key);
        g_hash_table_iter_init(&iter, written);
        while (g_hash_table_iter_next(&iter, &key, NULL))
            g_hash_table_add(announced, key);
        ok = sf_slide_folder_announce_fragments(folder, announced, error);
    }

    progress_stage(progress, SF_RUN_WRITING_OVERVIEW);
    progress->now.n_fragments = n_jobs;
    for (int i = 0; i < n_jobs; i++)
        progress->now.n_rows += jobs[i].height;
    /* Fragments are cut while the overview's files are written. */
    progress_stage(progress, SF_RUN_CUTTING_FRAGMENTS);
    gint64 fragments_stage = g_get_monotonic_time();
    fragment_batch *batch = ok ? fragments_start(slide, output_dir, params->jpeg_quality,
                                                 params->threads, jobs, n_jobs, progress)
                               : NULL;

    const char *overview_name = params->overview_png ? "overview.png" : "overview.jpg";
    g_autofree char *overview_path = g_build_filename(output_dir, overview_name, NULL);
    g_autofree char *mask_path = g_build_filename(output_dir, "mask.png", NULL);
    g_autofree char *boxes_path = g_build_filename(output_dir, "boxes.jpg", NULL);
    overview_files files = {.params = params,
                            .overview_path = overview_path,
                            .mask_path = mask_path,
                            .boxes_path = boxes_path,
                            .overview = &overview,
                            .mask = &mask,
                            .found = &found,
                            .batch = batch};
    /* Without a thread for them, written first, here. */
    GThread *files_thread =
        batch ? g_thread_try_new("overview-files", write_overview_files, &files, NULL) : NULL;
    if (batch && !files_thread)
        write_overview_files(&files);
    GError *fragments_error = NULL;
    gboolean fragments_ok = batch && fragments_finish(batch, &fragments_error);
    if (files_thread)
        g_thread_join(files_thread);
    fragments_free(batch);
    t_write = files.seconds;
    t_fragments = seconds_since(fragments_stage);
    /* The overview's files' failure first: it is what stopped the rest. */
    if (ok && !files.ok) {
        g_propagate_error(error, g_steal_pointer(&files.error));
        ok = FALSE;
    } else if (ok && !fragments_ok) {
        g_propagate_error(error, g_steal_pointer(&fragments_error));
        ok = FALSE;
    }
    g_clear_error(&files.error);
    g_clear_error(&fragments_error);
    if (ok)
        step("fragments-written");
    if (ok)
        ok = same_file(slide_path, &opened, error);
    /* The folder now holds exactly what the manifest will list; only then
     * is the manifest written, the last step, so that a folder with a
     * manifest is always a complete and consistent one. */
    if (ok) {
        sf_slide_folder_remove_fragments(folder, earlier, written);
        step("stale-removed");
    }

    if (ok) {
        g_autoptr(sf_manifest) m = sf_manifest_new();
        m->tool_version = g_strdup(SLIDEFRAG_VERSION);
        m->slide_path = sf_manifest_path_text(slide_path);
        m->slide_name = g_strdup(name);
        m->has_file_stamp = TRUE;
        m->file_size = (int64_t)opened.size;
        m->file_mtime = (int64_t)opened.mtime.tv_sec;
        sf_manifest_describe_slide(m, slide);
        /* The µm/px the run used: an implausible one is recorded as unknown,
         * so that map and resume read what the run did. */
        m->mpp_x = sf_run_usable_mpp(m->mpp_x);
        m->mpp_y = m->mpp_x > 0 ? sf_run_usable_mpp(m->mpp_y) : 0;
        m->has_overview = TRUE;
        m->overview = (sf_manifest_overview){
            .file = g_strdup(overview_name),
            .level = ov_level,
            .level_downsample = sf_slide_level(slide, ov_level)->downsample,
            .width = ov_w,
            .height = ov_h,
            .scale_x = scale_x,
            .scale_y = scale_y,
        };
        m->params = sf_run_params_to_json(&used);
        m->threshold = threshold;
        /* The connected components' boxes, which the report draws. */
        m->n_components = found.n_initial;
        m->components = g_memdup2(found.initial, sizeof(sf_box) * MAX(found.n_initial, 1));
        m->n_regions = (size_t)n_jobs;
        m->regions = g_new0(sf_manifest_region, MAX(n_jobs, 1));
        for (int i = 0; i < n_jobs; i++) {
            const fragment_job *job = &jobs[i];
            const region_plan *plan = &plans[job->region];
            m->regions[i] = (sf_manifest_region){
                .id = i,
                .x = job->level0.x,
                .y = job->level0.y,
                .w = job->level0.w,
                .h = job->level0.h,
                .fragment_file = g_strconcat("fragments/", job->name, NULL),
                .fragment_name = g_strdup(job->name),
                .fragment_width = job->width,
                .fragment_height = job->height,
                .has_overview = TRUE,
                .overview = found.regions[job->region].box,
                .tissue_fraction = found.regions[job->region].tissue_fraction,
                .fragment_downsample = (double)job->level0.w / job->width,
                .fragment_level = job->level,
                .has_tissue = TRUE,
                .tissue = job->region,
                .row = job->row,
                .col = job->col,
                .rows = plan->rows,
                .cols = plan->cols,
                .overlap = plan->overlap,
                .detected = plan->detected,
                .tissue_box = plan->padded,
                .tissue_downsample = plan->downsample,
            };
        }
        m->timings = (sf_manifest_timings){t_open,  t_overview,  t_detect,
                                           t_write, t_fragments, seconds_since(start)};
        g_autofree char *manifest_path = g_build_filename(output_dir, "manifest.json", NULL);
        /* The report, from the manifest as it will be written, and before
         * it: a folder with a manifest has its page. */
        progress_stage(progress, SF_RUN_WRITING_REPORT);
        ok = sf_report_write_slide(m, output_dir, error);
        progress_stage(progress, SF_RUN_WRITING_MANIFEST);
        if (ok)
            ok = sf_manifest_write(m, manifest_path, error);
    }
    if (ok) {
        step("manifest-written");
        sf_slide_folder_forget_pending(folder);
        step("done");
        if (result) {
            double recorded = sf_slide_mpp_x(slide);
            if (recorded > 0 && mpp == 0)
                result->note = g_strdup_printf(
                    "%s: the slide records %g µm/px (openslide.mpp-x), not a plausible "
                    "resolution (%g .. %g): treated as unknown",
                    slide_path, recorded, SF_MPP_MIN, SF_MPP_MAX);
            result->output_dir = g_strdup(output_dir);
            result->n_regions = n_regions;
            result->n_fragments = n_jobs;
            result->seconds = seconds_since(start);
        }
    }
    for (int i = 0; i < n_jobs; i++)
        g_free(jobs[i].name);
    sf_regions_clear(&found);
    return ok;
}
