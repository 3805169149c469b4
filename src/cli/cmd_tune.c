/*
 * slidefrag tune --truth DIR SLIDE... -o params.json: searches detection
 * parameters for the lowest objective (score.h) summed over the slides.
 *
 * Each overview is read once and kept. Parameter sets that share everything
 * up to the mask (channel, polarity, threshold, opening, closing, holes)
 * share one mask per slide, and only the region steps run per set, so a
 * grid of hundreds of sets costs a few dozen mask computations per slide.
 */
#include <json-glib/json-glib.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/run_options.h"
#include "io/input.h"
#include "io/json_read.h"
#include "io/json_safe.h"
#include "run/run_internal.h"
#include "slidefrag/boxes_read.h"
#include "slidefrag/error.h"
#include "slidefrag/image_io.h"
#include "slidefrag/score.h"

/* Keys that change the mask; the others only change the region steps. */
static const char *const mask_keys[] = {"channel", "polarity", "threshold",  "remove-ink",
                                        "open",    "close",    "fill-holes", NULL};

static const char default_grid[] = "{"
                                   "\"channel\": [\"red\", \"green\", \"grey\"],"
                                   "\"threshold\": [\"otsu\"],"
                                   "\"remove-ink\": [false, true],"
                                   "\"open\": [0, 3, 5],"
                                   "\"close\": [0, 7, 15, 31],"
                                   "\"gap\": [0, 8, 24],"
                                   "\"min-area\": [\"1000um2\", \"5000um2\", \"20000um2\"],"
                                   "\"padding\": [0, 4]"
                                   "}";

typedef struct tune_slide {
    char *path;
    sf_slide *slide;
    uint8_t *pixels; /* the overview, RGB */
    sf_image overview;
    double scale_x, scale_y;
    const sf_slide_boxes *truth;
} tune_slide;

typedef struct candidate {
    sf_run_params params;
    char *mask_key; /* the text of the mask-changing values */
    sf_score score;
    gboolean failed;
} candidate;

typedef struct tune_state {
    tune_slide *slides;
    int n_slides;
    candidate *candidates;
    int n_candidates;
    sf_score_params score_params;
    GMutex lock;
    GError *error;
} tune_state;

/* ---- The grid ----------------------------------------------------------- */

typedef struct grid_axis {
    const char *key;
    GPtrArray *values; /* char* texts for sf_run_params_set */
} grid_axis;

static char *scalar_text(JsonNode *node)
{
    if (!JSON_NODE_HOLDS_VALUE(node))
        return NULL;
    GType type = json_node_get_value_type(node);
    if (type == G_TYPE_STRING)
        return g_strdup(json_node_get_string(node));
    if (type == G_TYPE_BOOLEAN)
        return g_strdup(json_node_get_boolean(node) ? "true" : "false");
    if (type == G_TYPE_INT64)
        return g_strdup_printf("%" G_GINT64_FORMAT, json_node_get_int(node));
    if (type == G_TYPE_DOUBLE) {
        char buffer[G_ASCII_DTOSTR_BUF_SIZE];
        return g_strdup(g_ascii_dtostr(buffer, sizeof buffer, json_node_get_double(node)));
    }
    return NULL;
}

/* Reads {"key": [values...] or value, ...}; returns the axes in file order. */
static GArray *parse_grid(const char *name, const char *text, size_t length, GError **error)
{
    g_autoptr(JsonNode) root = sf_json_parse(name, text, length, SF_JSON_MAX_FILE_VALUES, error);
    g_autoptr(GError) local = NULL;
    if (!root)
        return NULL;
    if (!JSON_NODE_HOLDS_OBJECT(root)) {
        g_set_error(error, SF_ERROR, SF_EXIT_BAD_INPUT,
                    "%s: a grid is a JSON object of parameter names to lists of values", name);
        return NULL;
    }
    GArray *axes = g_array_new(FALSE, TRUE, sizeof(grid_axis));
    JsonObject *object = json_node_get_object(root);
    g_autoptr(GList) members = json_object_get_members(object);
    sf_run_params probe;
    sf_run_params_default(&probe);
    for (GList *m = members; m; m = m->next) {
        JsonNode *node = json_object_get_member(object, m->data);
        grid_axis axis = {g_intern_string(m->data), g_ptr_array_new_with_free_func(g_free)};
        g_array_append_val(axes, axis);
        if (JSON_NODE_HOLDS_ARRAY(node)) {
            JsonArray *array = json_node_get_array(node);
            for (guint i = 0; i < json_array_get_length(array); i++)
                g_ptr_array_add(axis.values, scalar_text(json_array_get_element(array, i)));
        } else {
            g_ptr_array_add(axis.values, scalar_text(node));
        }
        for (guint i = 0; i < axis.values->len; i++) {
            const char *value = axis.values->pdata[i];
            if (!value || !sf_run_params_set(&probe, axis.key, value, &local)) {
                g_set_error(error, SF_ERROR, SF_EXIT_BAD_INPUT, "%s: %s: %s", name, axis.key,
                            local ? local->message : "values must be numbers or strings");
                goto fail;
            }
        }
        if (axis.values->len == 0) {
            g_set_error(error, SF_ERROR, SF_EXIT_BAD_INPUT, "%s: %s has no values", name, axis.key);
            goto fail;
        }
    }
    return axes;
fail:
    for (guint i = 0; i < axes->len; i++)
        g_ptr_array_free(g_array_index(axes, grid_axis, i).values, TRUE);
    g_array_free(axes, TRUE);
    return NULL;
}

static void free_grid(GArray *axes)
{
    for (guint i = 0; i < axes->len; i++)
        g_ptr_array_free(g_array_index(axes, grid_axis, i).values, TRUE);
    g_array_free(axes, TRUE);
}

static char *mask_key_of(const sf_run_params *params)
{
    g_autoptr(JsonNode) json = sf_run_params_to_json(params);
    JsonObject *object = json_node_get_object(json);
    GString *key = g_string_new(NULL);
    for (const char *const *k = mask_keys; *k; k++) {
        g_autofree char *text = scalar_text(json_object_get_member(object, *k));
        g_string_append_printf(key, "%s=%s;", *k, text);
    }
    return g_string_free(key, FALSE);
}

/* The base parameters first (so a grid can never do worse than them), then
 * every combination of the grid's values. */
static GArray *expand_grid(const sf_run_params *base, GArray *axes)
{
    GArray *out = g_array_new(FALSE, TRUE, sizeof(candidate));
    candidate first = {.params = *base, .mask_key = mask_key_of(base)};
    g_array_append_val(out, first);
    guint *index = g_new0(guint, axes->len + 1);
    for (;;) {
        candidate c = {.params = *base};
        for (guint a = 0; a < axes->len; a++) {
            grid_axis *axis = &g_array_index(axes, grid_axis, a);
            /* Values were validated when the grid was read. */
            sf_run_params_set(&c.params, axis->key, axis->values->pdata[index[a]], NULL);
        }
        c.mask_key = mask_key_of(&c.params);
        g_array_append_val(out, c);
        guint a = 0;
        while (a < axes->len) {
            grid_axis *axis = &g_array_index(axes, grid_axis, a);
            if (++index[a] < axis->values->len)
                break;
            index[a++] = 0;
        }
        if (a == axes->len)
            break;
    }
    g_free(index);
    return out;
}

/* ---- Scoring ------------------------------------------------------------ */

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
static gboolean score_on_slide(tune_state *state, candidate *c, const tune_slide *ts,
                               const sf_image *mask, sf_score *score)
{
    sf_detect_params detect;
    double padding;
    GError *error = NULL;
    if (!sf_run_detect_params(&c->params, ts->slide, ts->scale_x, &detect, &padding, &error)) {
        set_error_once(state, error);
        return FALSE;
    }
    sf_regions found = {0};
    if (sf_find_regions(mask, &detect.regions, &found) != SF_OK)
        return FALSE;
    sf_box *pred = g_new(sf_box, MAX(found.n_regions, 1));
    for (size_t i = 0; i < found.n_regions; i++)
        pred[i] = sf_region_to_level0(&found.regions[i].box, padding, ts->scale_x, ts->scale_y,
                                      sf_slide_width(ts->slide), sf_slide_height(ts->slide));
    sf_status status = sf_score_boxes(ts->truth->boxes, ts->truth->n_boxes, pred, found.n_regions,
                                      &state->score_params, score, NULL);
    g_free(pred);
    sf_regions_free(&found);
    return status == SF_OK;
}

/* One job: every candidate sharing a mask key, on every slide. */
typedef struct mask_group {
    tune_state *state;
    GArray *members; /* int indices into state->candidates */
} mask_group;

static void run_group(gpointer data, gpointer user_data)
{
    mask_group *group = data;
    tune_state *state = user_data;
    candidate *lead = &state->candidates[g_array_index(group->members, int, 0)];
    for (int s = 0; s < state->n_slides; s++) {
        const tune_slide *ts = &state->slides[s];
        sf_detect_params detect;
        double padding;
        GError *error = NULL;
        if (!sf_run_detect_params(&lead->params, ts->slide, ts->scale_x, &detect, &padding,
                                  &error)) {
            set_error_once(state, error);
            return;
        }
        g_autofree uint8_t *pixels = g_malloc((size_t)ts->overview.width * ts->overview.height);
        sf_image mask = {pixels, ts->overview.width, ts->overview.height, 1,
                         (size_t)ts->overview.width};
        /* sf_detect's region step is redone per candidate below; here only
         * the mask matters. */
        sf_regions unused = {0};
        uint8_t threshold;
        if (sf_detect(&ts->overview, &detect, &mask, &threshold, &unused) != SF_OK) {
            for (guint i = 0; i < group->members->len; i++)
                state->candidates[g_array_index(group->members, int, i)].failed = TRUE;
            return;
        }
        sf_regions_free(&unused);
        for (guint i = 0; i < group->members->len; i++) {
            candidate *c = &state->candidates[g_array_index(group->members, int, i)];
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
    const candidate *a = *(candidate *const *)pa, *b = *(candidate *const *)pb;
    if (a->failed != b->failed)
        return a->failed ? 1 : -1;
    if (a->score.objective != b->score.objective)
        return a->score.objective < b->score.objective ? -1 : 1;
    /* Equal scores: the earlier candidate (the base parameters first). */
    return a < b ? -1 : a > b;
}

/* ---- Loading ------------------------------------------------------------ */

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
    ts->path = g_strdup(path);
    ts->slide = sf_slide_open(path, error);
    if (!ts->slide)
        return FALSE;
    int w, h, level;
    if (!sf_overview_geometry(ts->slide, &base->overview, &w, &h, &level, error))
        return FALSE;
    ts->pixels = sf_slide_read_scaled_buffer(ts->slide, level, 0, 0, sf_slide_width(ts->slide),
                                             sf_slide_height(ts->slide), w, h, error);
    if (!ts->pixels)
        return FALSE;
    ts->overview = (sf_image){ts->pixels, w, h, 3, (size_t)w * 3};
    ts->scale_x = (double)sf_slide_width(ts->slide) / w;
    ts->scale_y = (double)sf_slide_height(ts->slide) / h;
    return TRUE;
}

static gboolean write_result(const char *path, const candidate *best, int n_slides, GError **error)
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

/* The grid values of a candidate, for the top-list. */
static char *describe(const candidate *c, GArray *axes)
{
    g_autoptr(JsonNode) json = sf_run_params_to_json(&c->params);
    JsonObject *object = json_node_get_object(json);
    GString *text = g_string_new(NULL);
    for (guint a = 0; a < axes->len; a++) {
        const char *key = g_array_index(axes, grid_axis, a).key;
        JsonNode *node = json_object_get_member(object, key);
        /* Grid values read as typed: 0.0002, not 0.00020000000000000001. */
        g_autofree char *value =
            JSON_NODE_HOLDS_VALUE(node) && json_node_get_value_type(node) == G_TYPE_DOUBLE
                ? g_strdup_printf("%g", json_node_get_double(node))
                : scalar_text(node);
        g_string_append_printf(text, "%s%s=%s", a ? " " : "", key, value ? value : "?");
    }
    return g_string_free(text, FALSE);
}

int sf_cmd_tune(int argc, char **argv)
{
    g_autofree char *truth_path = NULL, *grid_path = NULL, *out_path = NULL;
    int jobs = 0, top = 5;
    sf_run_options options = {0};
    tune_state state = {0};
    sf_score_params_default(&state.score_params);
    GOptionEntry entries[] = {
        {"truth", 0, 0, G_OPTION_ARG_FILENAME, &truth_path,
         "Ground truth: a folder of <stem>.json / .geojson / manifests, or one file", "DIR"},
        {"grid", 0, 0, G_OPTION_ARG_FILENAME, &grid_path,
         "JSON object of parameter names to lists of values (default: built in)", "FILE"},
        {"output", 'o', 0, G_OPTION_ARG_FILENAME, &out_path,
         "Write the best parameters here (for run --params)", "FILE"},
        {"jobs", 'j', 0, G_OPTION_ARG_INT, &jobs, "Parallel workers (default: all cores)", "N"},
        {"lambda", 0, 0, G_OPTION_ARG_DOUBLE, &state.score_params.lambda,
         "Weight of the overlap penalty (default 1)", "L"},
        {"iou", 0, 0, G_OPTION_ARG_DOUBLE, &state.score_params.iou_threshold,
         "IoU for a true positive, reported only (default 0.5)", "T"},
        {"top", 0, 0, G_OPTION_ARG_INT, &top, "Parameter sets to list (default 5)", "N"},
        {NULL},
    };
    g_autoptr(GOptionContext) context =
        g_option_context_new("SLIDE... - find detection parameters that match the truth");
    g_option_context_set_summary(
        context, "Minimises loss + lambda * overlap penalty summed over the slides; the\n"
                 "run options below set the base that the grid varies.");
    g_option_context_add_main_entries(context, entries, NULL);
    g_option_context_add_group(context, sf_run_option_group(&options));
    g_autoptr(GError) error = NULL;
    int code = SF_EXIT_OK;
    sf_run_params base;
    if (!g_option_context_parse(context, &argc, &argv, &error) ||
        !sf_run_options_resolve(&options, &base, &error)) {
        sf_run_options_clear(&options);
        fprintf(stderr, "slidefrag tune: %s\n", error->message);
        return error->domain == SF_ERROR ? error->code : SF_EXIT_USAGE;
    }
    sf_run_options_clear(&options);
    if (argc < 2 || !truth_path || !out_path) {
        fprintf(stderr, "slidefrag tune: give --truth DIR, -o FILE and at least one slide\n");
        return SF_EXIT_USAGE;
    }
    if (!(state.score_params.lambda >= 0) || !isfinite(state.score_params.lambda) ||
        !(state.score_params.iou_threshold >= 0 && state.score_params.iou_threshold <= 1) ||
        jobs < 0) {
        fprintf(stderr, "slidefrag tune: --lambda must be >= 0, --iou in 0..1, --jobs >= 0\n");
        return SF_EXIT_USAGE;
    }

    g_autofree char *grid_text = NULL;
    size_t grid_length = 0;
    if (grid_path) {
        if (!sf_input_read(grid_path, "grid", SF_INPUT_FILE, SF_JSON_MAX_FILE_BYTES, &grid_text,
                           &grid_length, &error)) {
            fprintf(stderr, "slidefrag tune: %s\n", error->message);
            return error->code;
        }
    } else {
        grid_text = g_strdup(default_grid);
        grid_length = strlen(grid_text);
    }
    GArray *axes =
        parse_grid(grid_path ? grid_path : "default grid", grid_text, grid_length, &error);
    if (!axes) {
        fprintf(stderr, "slidefrag tune: %s\n", error->message);
        return error->code;
    }
    GPtrArray *truth = sf_boxes_load_path(truth_path, NULL, &error);
    if (!truth) {
        fprintf(stderr, "slidefrag tune: %s\n", error->message);
        free_grid(axes);
        return error->code;
    }

    gint64 start = g_get_monotonic_time();
    state.n_slides = argc - 1;
    state.slides = g_new0(tune_slide, state.n_slides);
    for (int s = 0; s < state.n_slides && code == SF_EXIT_OK; s++) {
        if (!load_slide(&state.slides[s], argv[s + 1], &base, truth, &error)) {
            fprintf(stderr, "slidefrag tune: %s\n", error->message);
            code = error->code;
        }
    }
    double load_seconds = (double)(g_get_monotonic_time() - start) / G_USEC_PER_SEC;

    GArray *candidates = NULL;
    if (code == SF_EXIT_OK) {
        candidates = expand_grid(&base, axes);
        state.candidates = (candidate *)(void *)candidates->data;
        state.n_candidates = (int)candidates->len;
        g_mutex_init(&state.lock);
        /* Group candidates by mask so each mask is computed once per slide. */
        g_autoptr(GHashTable) groups = g_hash_table_new(g_str_hash, g_str_equal);
        GPtrArray *order = g_ptr_array_new();
        for (int i = 0; i < state.n_candidates; i++) {
            mask_group *group = g_hash_table_lookup(groups, state.candidates[i].mask_key);
            if (!group) {
                group = g_new0(mask_group, 1);
                group->members = g_array_new(FALSE, FALSE, sizeof(int));
                g_hash_table_insert(groups, state.candidates[i].mask_key, group);
                g_ptr_array_add(order, group);
            }
            g_array_append_val(group->members, i);
        }
        int n_workers = jobs > 0 ? jobs : (int)g_get_num_processors();
        GThreadPool *pool = g_thread_pool_new(run_group, &state, n_workers, TRUE, NULL);
        for (guint g = 0; g < order->len; g++)
            g_thread_pool_push(pool, order->pdata[g], NULL);
        g_thread_pool_free(pool, FALSE, TRUE);
        printf("%d slides, %d parameter sets, %u masks per slide: %.1f s (overviews %.1f s)\n",
               state.n_slides, state.n_candidates, order->len,
               (double)(g_get_monotonic_time() - start) / G_USEC_PER_SEC, load_seconds);
        for (guint g = 0; g < order->len; g++) {
            mask_group *group = order->pdata[g];
            g_array_free(group->members, TRUE);
            g_free(group);
        }
        g_ptr_array_free(order, TRUE);
        g_mutex_clear(&state.lock);
        if (state.error) {
            fprintf(stderr, "slidefrag tune: %s\n", state.error->message);
            code = state.error->code;
            g_error_free(state.error);
        }
    }

    if (code == SF_EXIT_OK) {
        candidate **ranked = g_new(candidate *, state.n_candidates);
        for (int i = 0; i < state.n_candidates; i++)
            ranked[i] = &state.candidates[i];
        qsort(ranked, state.n_candidates, sizeof *ranked, compare_candidates);
        if (ranked[0]->failed) {
            fprintf(stderr, "slidefrag tune: every parameter set failed (out of memory)\n");
            code = SF_EXIT_FAILURE;
        } else {
            printf("%4s  %10s  %8s  %6s  %s\n", "rank", "objective", "mean IoU", "F1",
                   "parameters");
            for (int i = 0; i < MIN(top, state.n_candidates); i++) {
                g_autofree char *text = describe(ranked[i], axes);
                printf("%4d  %10.4f  %8.4f  %6.4f  %s%s\n", i + 1, ranked[i]->score.objective,
                       ranked[i]->score.mean_iou, ranked[i]->score.f1, text,
                       ranked[i] == &state.candidates[0] ? "  (base)" : "");
            }
            const candidate *base_c = &state.candidates[0];
            printf("base: objective %.4f, mean IoU %.4f, F1 %.4f\n", base_c->score.objective,
                   base_c->score.mean_iou, base_c->score.f1);
            if (!write_result(out_path, ranked[0], state.n_slides, &error)) {
                fprintf(stderr, "slidefrag tune: %s\n", error->message);
                code = error->code;
            } else {
                printf("best parameters: %s\n", out_path);
            }
        }
        g_free(ranked);
    }

    if (candidates) {
        for (guint i = 0; i < candidates->len; i++)
            g_free(g_array_index(candidates, candidate, i).mask_key);
        g_array_free(candidates, TRUE);
    }
    for (int s = 0; s < state.n_slides; s++) {
        g_free(state.slides[s].path);
        g_free(state.slides[s].pixels);
        if (state.slides[s].slide)
            sf_slide_close(state.slides[s].slide);
    }
    g_free(state.slides);
    g_ptr_array_free(truth, TRUE);
    free_grid(axes);
    return code;
}
