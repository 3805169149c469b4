/*
 * The tune engine: every candidate of a grid scored on every slide.
 *
 * Each overview is read once and kept. Candidates that agree on every
 * parameter up to the mask (the table's SF_PARAM_STAGE_MASK: channel,
 * polarity, threshold, ink, opening, closing, holes) share one mask per
 * slide, and only the region steps run per candidate, so a grid of about
 * 1300 sets costs a few dozen mask computations per slide.
 */
#include <string.h>

#include "io/json_safe.h"
#include "run/run_internal.h"
#include "slidefrag/boxes_read.h"
#include "slidefrag/error.h"
#include "slidefrag/image_io.h"
#include "tune/tune_internal.h"

typedef struct tune_slide {
    sf_slide *slide;
    sf_overview overview;
    const sf_slide_boxes *truth;
} tune_slide;

typedef struct tune_state {
    tune_slide *slides;
    int n_slides;
    sf_tune_candidate *candidates;
    size_t n_candidates;
    const sf_score_params *score_params;
    GMutex lock;
    GError *error; /* the first, under lock */
} tune_state;

/* The texts of every parameter that shapes the mask: equal keys, equal
 * masks. */
static char *mask_key_of(const sf_run_params *params)
{
    GString *key = g_string_new(NULL);
    for (size_t i = 0; i < sf_run_params_count(); i++) {
        const sf_param_info *info = sf_run_param_info_at(i);
        if (info->stage > SF_PARAM_STAGE_MASK)
            continue;
        g_autofree char *text = sf_run_param_text(params, info->key);
        g_string_append_printf(key, "%s=%s;", info->key, text ? text : "-");
    }
    return g_string_free(key, FALSE);
}

static char *describe(const sf_run_params *params, const sf_tune_grid *grid)
{
    GString *text = g_string_new(NULL);
    for (guint a = 0; a < grid->axes->len; a++) {
        const char *key = g_array_index(grid->axes, sf_tune_axis, a).key;
        g_autofree char *value = sf_run_param_text(params, key);
        g_string_append_printf(text, "%s%s=%s", a ? " " : "", key, value ? value : "?");
    }
    return g_string_free(text, FALSE);
}

/* The base parameters first (so a grid can never do worse than them), then
 * every combination of the grid's values. */
static GArray *expand_grid(const sf_run_params *base, const sf_tune_grid *grid)
{
    GArray *out = g_array_new(FALSE, TRUE, sizeof(sf_tune_candidate));
    sf_tune_candidate first = {.params = *base, .base = TRUE, .description = describe(base, grid)};
    g_array_append_val(out, first);
    const GArray *axes = grid->axes;
    g_autofree guint *index = g_new0(guint, axes->len + 1);
    for (;;) {
        sf_tune_candidate c = {.params = *base, .index = out->len};
        for (guint a = 0; a < axes->len; a++) {
            const sf_tune_axis *axis = &g_array_index(axes, sf_tune_axis, a);
            /* Values were checked when the grid was read. */
            sf_run_params_set(&c.params, axis->key, axis->values->pdata[index[a]], NULL);
        }
        c.description = describe(&c.params, grid);
        g_array_append_val(out, c);
        guint a = 0;
        while (a < axes->len) {
            const sf_tune_axis *axis = &g_array_index(axes, sf_tune_axis, a);
            if (++index[a] < axis->values->len)
                break;
            index[a++] = 0;
        }
        if (a == axes->len)
            break;
    }
    return out;
}

static void set_error_once(tune_state *state, GError *error)
{
    g_mutex_lock(&state->lock);
    if (!state->error)
        state->error = error;
    else
        g_error_free(error);
    g_mutex_unlock(&state->lock);
}

/* Scores candidate c on one slide whose mask for c's mask key is `mask`. */
static gboolean score_on_slide(tune_state *state, const sf_tune_candidate *c, const tune_slide *ts,
                               const sf_image *mask, sf_score *score)
{
    sf_detect_params detect;
    double padding;
    GError *error = NULL;
    const sf_overview *ov = &ts->overview;
    if (!sf_run_detect_params(&c->params, ts->slide, ov->scale_x, &detect, &padding, &error)) {
        set_error_once(state, error);
        return FALSE;
    }
    sf_regions found = {0};
    if (sf_find_regions(mask, &detect.regions, &found) != SF_OK)
        return FALSE;
    /* The detected boxes, as eval scores a run's manifest: padding is a
     * margin around the fragments, not part of what was found. */
    (void)padding;
    sf_box *pred = g_new(sf_box, MAX(found.n_regions, 1));
    for (size_t i = 0; i < found.n_regions; i++)
        pred[i] = sf_region_to_level0(&found.regions[i].box, 0, ov->scale_x, ov->scale_y,
                                      sf_slide_width(ts->slide), sf_slide_height(ts->slide));
    sf_status status = sf_score_boxes(ts->truth->boxes, ts->truth->n_boxes, pred, found.n_regions,
                                      state->score_params, score, NULL);
    g_free(pred);
    sf_regions_clear(&found);
    return status == SF_OK;
}

/* One job: every candidate sharing a mask key, on every slide. */
typedef struct mask_group {
    GArray *members; /* size_t indices into state->candidates */
} mask_group;

static void run_group(gpointer data, gpointer user_data)
{
    mask_group *group = data;
    tune_state *state = user_data;
    const sf_tune_candidate *lead = &state->candidates[g_array_index(group->members, size_t, 0)];
    for (int s = 0; s < state->n_slides; s++) {
        const tune_slide *ts = &state->slides[s];
        const sf_overview *ov = &ts->overview;
        sf_detect_params detect;
        double padding;
        GError *error = NULL;
        if (!sf_run_detect_params(&lead->params, ts->slide, ov->scale_x, &detect, &padding,
                                  &error)) {
            set_error_once(state, error);
            return;
        }
        g_autofree uint8_t *pixels = g_try_malloc((size_t)ov->width * ov->height);
        sf_image mask = {pixels, ov->width, ov->height, 1, (size_t)ov->width};
        sf_image image = sf_overview_image(ov);
        /* sf_detect's region step is redone per candidate below; here only
         * the mask matters. */
        sf_regions unused = {0};
        uint8_t threshold;
        if (!pixels || sf_detect(&image, &detect, &mask, &threshold, &unused) != SF_OK) {
            for (guint i = 0; i < group->members->len; i++)
                state->candidates[g_array_index(group->members, size_t, i)].failed = TRUE;
            return;
        }
        sf_regions_clear(&unused);
        for (guint i = 0; i < group->members->len; i++) {
            sf_tune_candidate *c = &state->candidates[g_array_index(group->members, size_t, i)];
            sf_score score;
            if (c->failed || !score_on_slide(state, c, ts, &mask, &score)) {
                c->failed = TRUE;
                continue;
            }
            sf_score_add(&c->score, &score);
        }
    }
}

static int compare_candidates(const void *pa, const void *pb)
{
    const sf_tune_candidate *a = pa, *b = pb;
    if (a->failed != b->failed)
        return a->failed ? 1 : -1;
    if (a->score.objective != b->score.objective)
        return a->score.objective < b->score.objective ? -1 : 1;
    /* Equal scores: the earlier candidate, the base first (qsort is not
     * stable, so the order is part of the key). */
    return a->index < b->index ? -1 : a->index > b->index;
}

static gboolean load_slide(tune_slide *ts, const char *path, const sf_run_params *base,
                           GPtrArray *truth, GError **error)
{
    g_autofree char *stem = sf_slide_stem(path);
    for (guint i = 0; i < truth->len && !ts->truth; i++)
        if (!strcmp(((sf_slide_boxes *)truth->pdata[i])->stem, stem))
            ts->truth = truth->pdata[i];
    if (!ts->truth) {
        g_set_error(error, SF_ERROR, SF_EXIT_MISSING, "%s: no truth boxes for slide '%s'", path,
                    stem);
        return FALSE;
    }
    ts->slide = sf_slide_open(path, error);
    return ts->slide && sf_overview_plan(ts->slide, &base->overview, &ts->overview, error) &&
           sf_overview_read(ts->slide, &ts->overview, error);
}

/* Runs every group on a pool of `jobs` threads; returns the mask count. */
static size_t score_all(tune_state *state, int jobs)
{
    g_autoptr(GHashTable) groups = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    g_autoptr(GPtrArray) order = g_ptr_array_new();
    for (size_t i = 0; i < state->n_candidates; i++) {
        char *key = mask_key_of(&state->candidates[i].params);
        mask_group *group = g_hash_table_lookup(groups, key);
        if (!group) {
            group = g_new0(mask_group, 1);
            group->members = g_array_new(FALSE, FALSE, sizeof(size_t));
            g_hash_table_insert(groups, key, group);
            g_ptr_array_add(order, group);
        } else {
            g_free(key);
        }
        g_array_append_val(group->members, i);
    }
    GThreadPool *pool = g_thread_pool_new(run_group, state, jobs, TRUE, NULL);
    for (guint g = 0; g < order->len; g++)
        g_thread_pool_push(pool, order->pdata[g], NULL);
    g_thread_pool_free(pool, FALSE, TRUE);
    for (guint g = 0; g < order->len; g++) {
        mask_group *group = order->pdata[g];
        g_array_free(group->members, TRUE);
        g_free(group);
    }
    return order->len;
}

gboolean sf_tune(const sf_run_params *base, const sf_tune_grid *grid,
                 const char *const *slide_paths, int n_slides, GPtrArray *truth,
                 const sf_score_params *score_params, int jobs, sf_tune_result *result,
                 GError **error)
{
    *result = (sf_tune_result){.n_slides = n_slides};
    gint64 start = g_get_monotonic_time();
    tune_state state = {.n_slides = n_slides, .score_params = score_params};
    state.slides = g_new0(tune_slide, n_slides);
    gboolean ok = TRUE;
    for (int s = 0; s < n_slides && ok; s++)
        ok = load_slide(&state.slides[s], slide_paths[s], base, truth, error);
    result->load_seconds = (double)(g_get_monotonic_time() - start) / G_USEC_PER_SEC;

    if (ok) {
        GArray *candidates = expand_grid(base, grid);
        state.n_candidates = candidates->len;
        state.candidates = (sf_tune_candidate *)(void *)g_array_free(candidates, FALSE);
        g_mutex_init(&state.lock);
        result->n_masks = score_all(&state, jobs > 0 ? jobs : (int)g_get_num_processors());
        g_mutex_clear(&state.lock);
        qsort(state.candidates, state.n_candidates, sizeof *state.candidates, compare_candidates);
        result->ranked = state.candidates;
        result->n_candidates = state.n_candidates;
        for (size_t i = 0; i < state.n_candidates; i++)
            if (state.candidates[i].base)
                result->base = &state.candidates[i];
        if (state.error) {
            g_propagate_error(error, state.error);
            ok = FALSE;
        } else if (state.candidates[0].failed) {
            g_set_error(error, SF_ERROR, SF_EXIT_FAILURE,
                        "every parameter set failed (out of memory)");
            ok = FALSE;
        }
    }
    result->seconds = (double)(g_get_monotonic_time() - start) / G_USEC_PER_SEC;
    for (int s = 0; s < n_slides; s++) {
        sf_overview_clear(&state.slides[s].overview);
        if (state.slides[s].slide)
            sf_slide_close(state.slides[s].slide);
    }
    g_free(state.slides);
    return ok;
}

void sf_tune_result_clear(sf_tune_result *result)
{
    for (size_t i = 0; i < result->n_candidates; i++)
        g_free(result->ranked[i].description);
    g_clear_pointer(&result->ranked, g_free);
    result->n_candidates = 0;
    result->base = NULL;
}

gboolean sf_tune_write_params(const char *path, const sf_tune_candidate *best, int n_slides,
                              GError **error)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "params");
    json_builder_add_value(b, sf_run_params_to_json(&best->params));
    sf_json_add_int(b, "slides", n_slides);
    sf_json_add_double(b, "objective", best->score.objective);
    sf_json_add_double(b, "mean_iou", best->score.mean_iou);
    sf_json_add_double(b, "f1", best->score.f1);
    json_builder_end_object(b);
    g_autoptr(JsonNode) root = json_builder_get_root(b);
    g_autofree char *text = sf_json_file_text(root);
    return sf_write_file_atomic(path, text, strlen(text), error);
}
