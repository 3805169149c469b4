/* The run job for one slide: overview, detection, fragments, manifest. */
#define _DEFAULT_SOURCE /* flock */

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "io/json_safe.h"
#include "io/slide_json.h"
#include "run/run_internal.h"
#include "slidefrag/error.h"
#include "slidefrag/image_io.h"
#include "slidefrag/manifest.h"
#include "slidefrag/version.h"

static double measure_to_pixels(const sf_measure *m, double microns_per_pixel, gboolean area)
{
    if (!m->microns)
        return m->value;
    return area ? m->value / (microns_per_pixel * microns_per_pixel) : m->value / microns_per_pixel;
}

gboolean sf_run_detect_params(const sf_run_params *params, const sf_slide *slide,
                              double overview_scale, sf_detect_params *detect, double *padding_px,
                              GError **error)
{
    sf_run_params resolved;
    sf_run_params_for_mpp(params, sf_slide_mpp_x(slide), &resolved);
    params = &resolved;
    double mpp = sf_slide_mpp_x(slide) * overview_scale; /* µm per overview pixel */
    if ((params->gap.microns || params->min_area.microns || params->padding.microns) && mpp <= 0) {
        g_set_error(error, SF_ERROR, SF_EXIT_USAGE,
                    "%s: the slide does not record its resolution (openslide.mpp-x), so "
                    "--gap, --min-area and --padding must be given in pixels, not µm",
                    sf_slide_path(slide));
        return FALSE;
    }
    *detect = params->detect;
    detect->regions.gap = (int64_t)ceil(measure_to_pixels(&params->gap, mpp, FALSE) - 1e-9);
    detect->regions.min_area =
        (int64_t)ceil(measure_to_pixels(&params->min_area, mpp, TRUE) - 1e-9);
    detect->regions.min_area_fraction = params->min_area_fraction;
    detect->regions.min_tissue_fraction = params->min_tissue_fraction;
    *padding_px = measure_to_pixels(&params->padding, mpp, FALSE);
    return TRUE;
}

static double seconds_since(gint64 start)
{
    return (double)(g_get_monotonic_time() - start) / G_USEC_PER_SEC;
}

/* ---- Fragments, cut by a few worker threads ---------------------------- */

typedef struct fragment_job {
    sf_box level0;
    int width, height, level;
    char *name;
} fragment_job;

typedef struct fragment_batch {
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

static gboolean write_fragment(fragment_batch *batch, const fragment_job *job, GError **error)
{
    g_autofree char *path = g_build_filename(batch->dir, "fragments", job->name, NULL);
    g_autoptr(sf_jpeg_writer) writer =
        sf_jpeg_writer_open(path, job->width, job->height, batch->quality, error);
    if (!writer)
        return FALSE;
    if (!sf_slide_read_scaled(batch->slide, job->level, job->level0.x, job->level0.y, job->level0.w,
                              job->level0.h, job->width, job->height, sf_jpeg_row_sink, writer,
                              error))
        return FALSE;
    sf_output *output = sf_jpeg_writer_finish_data(g_steal_pointer(&writer), error);
    if (!output)
        return FALSE;
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
 * Starts cutting the fragments on threads - 1 new threads; the calling
 * thread joins them in fragments_finish(), after whatever it does between
 * (writing the overview's files). Largest first, so that the last to
 * finish are small.
 */
static fragment_batch *fragments_start(sf_slide *slide, const char *dir, int quality, int threads,
                                       fragment_job *jobs, int n_jobs)
{
    fragment_batch *batch = g_new0(fragment_batch, 1);
    *batch = (fragment_batch){
        .slide = slide, .dir = dir, .quality = quality, .jobs = jobs, .n_jobs = n_jobs};
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

/* The calling thread cuts fragments too, then waits for the others. With
 * `go` FALSE (the caller failed meanwhile, its error set), stops them and
 * reports nothing of theirs. */
static gboolean fragments_finish(fragment_batch *batch, gboolean go, GError **error)
{
    if (!go) {
        g_atomic_int_set(&batch->failed, 1);
        sf_slide_wake_helpers(batch->slide);
    }
    fragment_worker(batch);
    for (int t = 1; t < batch->started; t++)
        g_thread_join(batch->workers[t]);
    /* Every finished fragment committed before anything reads the folder. */
    if (batch->committer)
        g_thread_pool_free(batch->committer, FALSE, TRUE);
    gboolean ok = go && !batch->error;
    if (go && batch->error)
        g_propagate_error(error, g_steal_pointer(&batch->error));
    g_clear_error(&batch->error);
    g_mutex_clear(&batch->lock);
    g_free(batch->workers);
    g_free(batch->order);
    g_free(batch);
    return ok;
}

/* ---- Outputs ------------------------------------------------------------ */

static gboolean write_boxes_figure(const char *path, const sf_image *overview,
                                   const sf_regions *found, int quality, GError **error)
{
    /* The method's figure: component boxes in yellow, final regions in green. */
    static const uint8_t initial_colour[3] = {255, 200, 0};
    static const uint8_t region_colour[3] = {0, 170, 0};
    g_autofree uint8_t *pixels = g_memdup2(overview->data, overview->stride * overview->height);
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

static void add_box(JsonBuilder *b, const char *name, const sf_box *box)
{
    json_builder_set_member_name(b, name);
    json_builder_begin_object(b);
    sf_json_add_int(b, "x", box->x);
    sf_json_add_int(b, "y", box->y);
    sf_json_add_int(b, "w", box->w);
    sf_json_add_int(b, "h", box->h);
    json_builder_end_object(b);
}

static void add_slide(JsonBuilder *b, const sf_slide *slide, const char *path, const char *stem)
{
    json_builder_set_member_name(b, "slide");
    json_builder_begin_object(b);
    /* JSON is UTF-8 and its readers refuse anything else; a file name need
     * not be. The path is recorded readably, the file stat'ed by its bytes. */
    g_autofree char *path_text = g_utf8_make_valid(path, -1);
    sf_json_add_string(b, "path", path_text);
    sf_json_add_string(b, "name", stem);
    /* Size and modification time let a resumed batch tell whether the file
     * it finished earlier is still the same. */
    GStatBuf st;
    if (g_stat(path, &st) == 0) {
        sf_json_add_int(b, "file_size", (int64_t)st.st_size);
        sf_json_add_int(b, "file_mtime", (int64_t)st.st_mtime);
    }
    sf_slide_json_members(b, slide);
    json_builder_end_object(b);
}

/* Whether a name is one of sf_output's temporary files (".<name>.XXXXXX.part"). */
static gboolean is_temp_name(const char *name)
{
    return name[0] == '.' && g_str_has_suffix(name, ".part");
}

/* Removes the temporary files of a run that was killed in this folder. Only
 * safe under the folder lock: otherwise they may be another run's. */
static void remove_temp_files(const char *dir)
{
    g_autoptr(GDir) listing = g_dir_open(dir, 0, NULL);
    if (!listing)
        return;
    const char *name;
    while ((name = g_dir_read_name(listing))) {
        if (!is_temp_name(name))
            continue;
        g_autofree char *path = g_build_filename(dir, name, NULL);
        g_unlink(path);
    }
}

/* Removes fragments an earlier run left that this run did not write, so the
 * folder matches its manifest. */
static void remove_stale_fragments(const char *dir, fragment_job *jobs, int n_jobs)
{
    g_autofree char *fragments = g_build_filename(dir, "fragments", NULL);
    g_autoptr(GDir) listing = g_dir_open(fragments, 0, NULL);
    if (!listing)
        return;
    g_autoptr(GHashTable) keep = g_hash_table_new(g_str_hash, g_str_equal);
    for (int i = 0; i < n_jobs; i++)
        g_hash_table_add(keep, jobs[i].name);
    const char *name;
    while ((name = g_dir_read_name(listing))) {
        if (g_hash_table_contains(keep, name) || !g_str_has_suffix(name, ".jpg"))
            continue;
        g_autofree char *path = g_build_filename(fragments, name, NULL);
        g_unlink(path);
    }
}

/*
 * Two runs writing one folder at once would each remove the other's
 * fragments as stale and leave a manifest that lists missing files, so a
 * run holds an exclusive lock on its folder and a second one waits. flock()
 * on the folder itself leaves no lock file behind and is released when the
 * process ends, however it ends. Where the file system has no such locks,
 * the run goes ahead unlocked (-1).
 */
typedef int dir_lock;

static dir_lock lock_folder(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    while (flock(fd, LOCK_EX) != 0) {
        if (errno != EINTR) {
            close(fd);
            return -1;
        }
    }
    return fd;
}

static void unlock_folder(dir_lock fd)
{
    if (fd >= 0)
        close(fd);
}
G_DEFINE_AUTO_CLEANUP_FREE_FUNC(dir_lock, unlock_folder, -1)

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
    gint64 start = g_get_monotonic_time(), stage = start;
    double t_open, t_overview, t_detect, t_write, t_fragments;
    g_autofree char *stem = sf_slide_stem(slide_path);
    g_autofree char *abs_path = g_canonicalize_filename(slide_path, NULL);

    g_autoptr(sf_slide) slide = sf_slide_open(slide_path, error);
    if (!slide)
        return FALSE;
    t_open = seconds_since(stage);

    /* Geometry and parameters are checked before anything is written. */
    int ov_w, ov_h, ov_level;
    if (!sf_overview_geometry(slide, &params->overview, &ov_w, &ov_h, &ov_level, error))
        return FALSE;
    int64_t w0 = sf_slide_width(slide), h0 = sf_slide_height(slide);
    double scale_x = (double)w0 / ov_w, scale_y = (double)h0 / ov_h;
    sf_detect_params detect;
    double padding;
    if (!sf_run_detect_params(params, slide, scale_x, &detect, &padding, error))
        return FALSE;

    g_autofree char *fragments_dir = g_build_filename(output_dir, "fragments", NULL);
    if (g_mkdir_with_parents(fragments_dir, 0777) != 0) {
        int err = errno;
        g_set_error(error, SF_ERROR, SF_EXIT_OUTPUT, "%s: cannot create folder: %s", fragments_dir,
                    g_strerror(err));
        return FALSE;
    }
    g_auto(dir_lock) lock = lock_folder(output_dir);
    if (lock >= 0) {
        remove_temp_files(output_dir);
        remove_temp_files(fragments_dir);
    }
    /* A folder without a manifest is unfinished: drop an earlier manifest
     * first so a failure below never leaves it describing other files. */
    g_autofree char *manifest_path = g_build_filename(output_dir, "manifest.json", NULL);
    if (g_unlink(manifest_path) != 0 && errno != ENOENT) {
        int err = errno;
        g_set_error(error, SF_ERROR, SF_EXIT_OUTPUT, "%s: cannot replace: %s", manifest_path,
                    g_strerror(err));
        return FALSE;
    }

    stage = g_get_monotonic_time();
    /* One read: all of --threads decode its tiles. */
    sf_slide_set_read_threads(slide, params->threads);
    g_autofree uint8_t *overview_pixels =
        sf_slide_read_scaled_buffer(slide, ov_level, 0, 0, w0, h0, ov_w, ov_h, error);
    if (!overview_pixels)
        return FALSE;
    sf_image overview = {overview_pixels, ov_w, ov_h, 3, (size_t)ov_w * 3};
    t_overview = seconds_since(stage);

    stage = g_get_monotonic_time();
    g_autofree uint8_t *mask_pixels = g_malloc((size_t)ov_w * ov_h);
    sf_image mask = {mask_pixels, ov_w, ov_h, 1, (size_t)ov_w};
    sf_regions found = {0};
    uint8_t threshold = 0;
    if (sf_detect(&overview, &detect, &mask, &threshold, &found) != SF_OK) {
        g_set_error(error, SF_ERROR, SF_EXIT_FAILURE, "%s: out of memory finding tissue",
                    slide_path);
        return FALSE;
    }
    t_detect = seconds_since(stage);

    /* Regions on level 0 and the fragment each becomes. */
    int n_jobs = (int)found.n_regions;
    fragment_job *jobs = g_new0(fragment_job, MAX(n_jobs, 1));
    gboolean ok = TRUE;
    for (int i = 0; i < n_jobs && ok; i++) {
        fragment_job *job = &jobs[i];
        job->level0 = sf_region_to_level0(&found.regions[i].box, padding, scale_x, scale_y, w0, h0);
        ok = sf_fragment_geometry(slide, &params->fragment, &job->level0, &job->width, &job->height,
                                  &job->level, error);
        job->name = sf_fragment_name_format(stem, job->level0.x, job->level0.y, job->level0.w,
                                            job->level0.h);
    }

    /* Fragments are cut while the overview's files are written. */
    gint64 fragments_stage = g_get_monotonic_time();
    fragment_batch *batch =
        ok ? fragments_start(slide, output_dir, params->jpeg_quality, params->threads, jobs, n_jobs)
           : NULL;

    stage = g_get_monotonic_time();
    const char *overview_name = params->overview_png ? "overview.png" : "overview.jpg";
    g_autofree char *overview_path = g_build_filename(output_dir, overview_name, NULL);
    g_autofree char *mask_path = g_build_filename(output_dir, "mask.png", NULL);
    g_autofree char *boxes_path = g_build_filename(output_dir, "boxes.jpg", NULL);
    if (ok)
        ok = params->overview_png
                 ? sf_png_save(overview_path, overview.data, ov_w, ov_h, 3, overview.stride, error)
                 : sf_jpeg_save(overview_path, overview.data, ov_w, ov_h, 3, overview.stride,
                                params->jpeg_quality, error);
    if (ok)
        ok = sf_png_save(mask_path, mask.data, ov_w, ov_h, 1, mask.stride, error);
    if (ok)
        ok = write_boxes_figure(boxes_path, &overview, &found, params->jpeg_quality, error);
    t_write = seconds_since(stage);

    if (batch)
        ok = fragments_finish(batch, ok, error);
    t_fragments = seconds_since(fragments_stage);

    if (ok) {
        g_autoptr(JsonBuilder) b = json_builder_new();
        json_builder_begin_object(b);
        sf_json_add_string(b, "schema", "slidefrag.manifest/1");
        json_builder_set_member_name(b, "tool");
        json_builder_begin_object(b);
        sf_json_add_string(b, "name", "slidefrag");
        sf_json_add_string(b, "version", SLIDEFRAG_VERSION);
        json_builder_end_object(b);
        add_slide(b, slide, abs_path, stem);

        json_builder_set_member_name(b, "overview");
        json_builder_begin_object(b);
        sf_json_add_string(b, "file", overview_name);
        sf_json_add_string(b, "mask", "mask.png");
        sf_json_add_string(b, "boxes", "boxes.jpg");
        sf_json_add_int(b, "level", ov_level);
        sf_json_add_double(b, "level_downsample", sf_slide_level(slide, ov_level)->downsample);
        sf_json_add_int(b, "width", ov_w);
        sf_json_add_int(b, "height", ov_h);
        sf_json_add_double(b, "scale_x", scale_x);
        sf_json_add_double(b, "scale_y", scale_y);
        json_builder_end_object(b);

        sf_run_params used;
        sf_run_params_for_mpp(params, sf_slide_mpp_x(slide), &used);
        json_builder_set_member_name(b, "params");
        json_builder_add_value(b, sf_run_params_to_json(&used));
        sf_json_add_int(b, "threshold", threshold);

        json_builder_set_member_name(b, "regions");
        json_builder_begin_array(b);
        for (int i = 0; i < n_jobs; i++) {
            const fragment_job *job = &jobs[i];
            json_builder_begin_object(b);
            sf_json_add_int(b, "id", i);
            add_box(b, "level0", &job->level0);
            add_box(b, "overview", &found.regions[i].box);
            sf_json_add_double(b, "tissue_fraction", found.regions[i].tissue_fraction);
            json_builder_set_member_name(b, "fragment");
            json_builder_begin_object(b);
            g_autofree char *file = g_strconcat("fragments/", job->name, NULL);
            sf_json_add_string(b, "file", file);
            sf_json_add_int(b, "width", job->width);
            sf_json_add_int(b, "height", job->height);
            sf_json_add_double(b, "downsample", (double)job->level0.w / job->width);
            sf_json_add_int(b, "level", job->level);
            json_builder_end_object(b);
            json_builder_end_object(b);
        }
        json_builder_end_array(b);

        json_builder_set_member_name(b, "timings");
        json_builder_begin_object(b);
        sf_json_add_double(b, "open", t_open);
        sf_json_add_double(b, "overview", t_overview);
        sf_json_add_double(b, "detect", t_detect);
        sf_json_add_double(b, "write", t_write);
        sf_json_add_double(b, "fragments", t_fragments);
        sf_json_add_double(b, "total", seconds_since(start));
        json_builder_end_object(b);
        json_builder_end_object(b);

        g_autoptr(JsonNode) root = json_builder_get_root(b);
        g_autofree char *text = sf_json_file_text(root);
        ok = sf_write_file_atomic(manifest_path, text, strlen(text), error);
    }
    if (ok) {
        remove_stale_fragments(output_dir, jobs, n_jobs);
        if (result) {
            result->output_dir = g_strdup(output_dir);
            result->n_regions = n_jobs;
            result->n_fragments = n_jobs;
            result->seconds = seconds_since(start);
        }
    }
    for (int i = 0; i < n_jobs; i++)
        g_free(jobs[i].name);
    g_free(jobs);
    sf_regions_free(&found);
    return ok;
}
