/*
 * slidefrag eval --truth TRUTH --pred PRED: scores detected boxes against
 * ground truth, per slide and overall (score.h for the definitions).
 */
#include <json-glib/json-glib.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"
#include "io/json_safe.h"
#include "slidefrag/boxes_read.h"
#include "slidefrag/error.h"
#include "slidefrag/score.h"

/* One truth slide, its predictions (NULL when missing), its ignore boxes
 * (NULL: none) and the score. */
typedef struct {
    const sf_slide_boxes *truth;
    const sf_slide_boxes *pred;
    const sf_slide_boxes *ignore;
    sf_score score;
    sf_match *matches; /* one per truth box; pred indices into the prediction file */
    gboolean *kept;    /* one per prediction: FALSE when ignored */
} slide_result;

static void slide_result_clear(gpointer p)
{
    slide_result *r = p;
    g_free(r->matches);
    g_free(r->kept);
}

static const sf_slide_boxes *find_stem(GPtrArray *set, const char *stem)
{
    for (guint i = 0; i < set->len; i++) {
        const sf_slide_boxes *b = set->pdata[i];
        if (!strcmp(b->stem, stem))
            return b;
    }
    return NULL;
}

static gboolean score_slide(slide_result *r, const sf_score_params *params, GError **error)
{
    size_t n_pred = r->pred ? r->pred->n_boxes : 0;
    r->matches = g_new0(sf_match, MAX(r->truth->n_boxes, 1));
    /* Ignored predictions leave the scoring; the rest keep their file order
     * and their matches are reported by their index in the file. */
    bool *keep = g_new(bool, MAX(n_pred, 1));
    r->kept = g_new(gboolean, MAX(n_pred, 1));
    size_t n_kept = sf_boxes_mark_ignored(r->pred ? r->pred->boxes : NULL, n_pred,
                                          r->ignore ? r->ignore->boxes : NULL,
                                          r->ignore ? r->ignore->n_boxes : 0, keep);
    sf_box *kept = g_new(sf_box, MAX(n_kept, 1));
    size_t *index = g_new(size_t, MAX(n_kept, 1));
    for (size_t i = 0, k = 0; i < n_pred; i++) {
        r->kept[i] = keep[i];
        if (keep[i]) {
            index[k] = i;
            kept[k++] = r->pred->boxes[i];
        }
    }
    sf_status status = sf_score_boxes(r->truth->boxes, r->truth->n_boxes, kept, n_kept, params,
                                      &r->score, r->matches);
    for (size_t t = 0; status == SF_OK && t < r->truth->n_boxes; t++)
        if (r->matches[t].pred >= 0)
            r->matches[t].pred = (ptrdiff_t)index[r->matches[t].pred];
    g_free(keep);
    g_free(kept);
    g_free(index);
    if (status != SF_OK) {
        g_set_error(error, SF_ERROR, SF_EXIT_FAILURE, "%s: cannot score: %s", r->truth->path,
                    status == SF_ERR_NOMEM ? "out of memory" : "invalid boxes");
        return FALSE;
    }
    return TRUE;
}

/* ---- JSON ---------------------------------------------------------------- */

static void add_box(JsonBuilder *b, const char *name, const sf_box *box)
{
    json_builder_set_member_name(b, name);
    if (!box) {
        json_builder_add_null_value(b);
        return;
    }
    json_builder_begin_array(b);
    json_builder_add_int_value(b, box->x);
    json_builder_add_int_value(b, box->y);
    json_builder_add_int_value(b, box->w);
    json_builder_add_int_value(b, box->h);
    json_builder_end_array(b);
}

static void add_metrics(JsonBuilder *b, const sf_score *s)
{
    sf_json_add_int(b, "n_truth", (int64_t)s->n_truth);
    sf_json_add_int(b, "n_pred", (int64_t)s->n_pred);
    sf_json_add_int(b, "n_matched", (int64_t)s->n_matched);
    sf_json_add_int(b, "true_positives", (int64_t)s->true_positives);
    sf_json_add_int(b, "false_positives", (int64_t)s->false_positives);
    sf_json_add_int(b, "false_negatives", (int64_t)s->false_negatives);
    sf_json_add_double(b, "mean_iou", s->mean_iou);
    sf_json_add_double(b, "precision", s->precision);
    sf_json_add_double(b, "recall", s->recall);
    sf_json_add_double(b, "f1", s->f1);
    sf_json_add_double(b, "loss", s->loss);
    sf_json_add_double(b, "overlap_area", s->overlap_area);
    sf_json_add_double(b, "pred_area", s->pred_area);
    sf_json_add_double(b, "penalty", s->penalty);
    sf_json_add_double(b, "objective", s->objective);
}

static void add_slide(JsonBuilder *b, const slide_result *r)
{
    json_builder_begin_object(b);
    sf_json_add_string(b, "slide", r->truth->stem);
    sf_json_add_string(b, "truth_file", r->truth->path);
    sf_json_add_string(b, "truth_format", sf_boxes_format_name(r->truth->format));
    sf_json_add_string(b, "pred_file", r->pred ? r->pred->path : NULL);
    sf_json_add_string(b, "pred_format", r->pred ? sf_boxes_format_name(r->pred->format) : NULL);
    sf_json_add_bool(b, "missing_prediction", r->pred == NULL);
    add_metrics(b, &r->score);

    size_t n_pred = r->pred ? r->pred->n_boxes : 0;
    g_autofree gboolean *used = g_new0(gboolean, MAX(n_pred, 1));
    json_builder_set_member_name(b, "matches");
    json_builder_begin_array(b);
    for (size_t t = 0; t < r->truth->n_boxes; t++) {
        const sf_match *m = &r->matches[t];
        json_builder_begin_object(b);
        sf_json_add_int(b, "truth", (int64_t)t);
        add_box(b, "truth_box", &r->truth->boxes[t]);
        json_builder_set_member_name(b, "pred");
        if (m->pred >= 0) {
            json_builder_add_int_value(b, m->pred);
            used[m->pred] = TRUE;
        } else {
            json_builder_add_null_value(b);
        }
        add_box(b, "pred_box", m->pred >= 0 ? &r->pred->boxes[m->pred] : NULL);
        sf_json_add_double(b, "iou", m->iou);
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
    json_builder_set_member_name(b, "unmatched_predictions");
    json_builder_begin_array(b);
    for (size_t p = 0; p < n_pred; p++)
        if (!used[p] && r->kept[p])
            json_builder_add_int_value(b, (int64_t)p);
    json_builder_end_array(b);
    json_builder_set_member_name(b, "ignored_predictions");
    json_builder_begin_array(b);
    for (size_t p = 0; p < n_pred; p++)
        if (!r->kept[p])
            json_builder_add_int_value(b, (int64_t)p);
    json_builder_end_array(b);
    json_builder_end_object(b);
}

static char *to_json(GArray *results, const sf_score *total, const sf_score_params *params,
                     GPtrArray *notes)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    sf_json_add_double(b, "iou_threshold", params->iou_threshold);
    sf_json_add_double(b, "lambda", params->lambda);
    json_builder_set_member_name(b, "slides");
    json_builder_begin_array(b);
    for (guint i = 0; i < results->len; i++)
        add_slide(b, &g_array_index(results, slide_result, i));
    json_builder_end_array(b);
    json_builder_set_member_name(b, "overall");
    json_builder_begin_object(b);
    sf_json_add_int(b, "n_slides", (int64_t)total->n_slides);
    add_metrics(b, total);
    json_builder_end_object(b);
    json_builder_set_member_name(b, "notes");
    json_builder_begin_array(b);
    for (guint i = 0; i < notes->len; i++)
        json_builder_add_string_value(b, notes->pdata[i]);
    json_builder_end_array(b);
    json_builder_end_object(b);
    g_autoptr(JsonNode) root = json_builder_get_root(b);
    return sf_json_text(root, TRUE);
}

/* ---- Table ---------------------------------------------------------------- */

static void print_row(int name_width, const char *name, const sf_score *s)
{
    printf("%-*s %6zu %6zu %5zu %5zu %5zu %8.4f %9.4f %7.4f %7.4f %9.4f %8.4f %9.4f\n", name_width,
           name, s->n_truth, s->n_pred, s->true_positives, s->false_positives, s->false_negatives,
           s->mean_iou, s->precision, s->recall, s->f1, s->loss, s->penalty, s->objective);
}

static void print_table(GArray *results, const sf_score *total, const sf_score_params *params,
                        GPtrArray *notes)
{
    g_autofree char *overall =
        g_strdup_printf("overall (%zu slide%s)", total->n_slides, total->n_slides == 1 ? "" : "s");
    int width = (int)strlen(overall);
    /* Stems come from file names and manifests: shown, never obeyed. */
    g_autoptr(GPtrArray) stems = g_ptr_array_new_with_free_func(g_free);
    for (guint i = 0; i < results->len; i++) {
        g_ptr_array_add(stems,
                        sf_message_safe(g_array_index(results, slide_result, i).truth->stem));
        width = MAX(width, (int)strlen(stems->pdata[i]));
    }
    printf("IoU threshold %g, lambda %g\n\n", params->iou_threshold, params->lambda);
    printf("%-*s %6s %6s %5s %5s %5s %8s %9s %7s %7s %9s %8s %9s\n", width, "slide", "truth",
           "pred", "TP", "FP", "FN", "mean IoU", "precision", "recall", "F1", "loss", "penalty",
           "objective");
    for (guint i = 0; i < results->len; i++) {
        const slide_result *r = &g_array_index(results, slide_result, i);
        print_row(width, stems->pdata[i], &r->score);
    }
    print_row(width, overall, total);
    for (guint i = 0; i < notes->len; i++) {
        g_autofree char *note = sf_message_safe(notes->pdata[i]);
        printf("%snote: %s\n", i == 0 ? "\n" : "", note);
    }
}

static int fail(const GError *error)
{
    g_autofree char *message = sf_message_safe(error->message);
    fprintf(stderr, "slidefrag eval: %s\n", message);
    return sf_exit_code(error);
}

/* ---- The command ------------------------------------------------------------ */

/* Pairs every truth slide with its predictions and ignore boxes (ignore may
 * be NULL); notes what does not pair. */
static GArray *pair_slides(GPtrArray *truth, GPtrArray *pred, GPtrArray *ignore, gboolean by_stem,
                           GPtrArray *notes)
{
    GArray *results = g_array_new(FALSE, TRUE, sizeof(slide_result));
    g_array_set_clear_func(results, slide_result_clear);
    for (guint i = 0; i < truth->len; i++) {
        slide_result r = {.truth = truth->pdata[i]};
        r.pred = by_stem ? find_stem(pred, r.truth->stem) : pred->pdata[0];
        if (ignore)
            r.ignore = by_stem ? find_stem(ignore, r.truth->stem) : ignore->pdata[0];
        if (!r.pred)
            g_ptr_array_add(notes, g_strdup_printf("no prediction for slide %s (%s): its %zu "
                                                   "truth boxes count as unmatched",
                                                   r.truth->stem, r.truth->path, r.truth->n_boxes));
        g_array_append_val(results, r);
    }
    if (by_stem)
        for (guint i = 0; i < pred->len; i++) {
            const sf_slide_boxes *p = pred->pdata[i];
            if (!find_stem(truth, p->stem))
                g_ptr_array_add(notes, g_strdup_printf("no truth for slide %s (%s): ignored",
                                                       p->stem, p->path));
        }
    return results;
}

int sf_cmd_eval(int argc, char **argv)
{
    g_autofree char *truth_path = NULL;
    g_autofree char *pred_path = NULL;
    g_autofree char *ignore_path = NULL;
    sf_score_params params;
    sf_score_params_default(&params);
    gboolean json = FALSE;
    GOptionEntry entries[] = {
        {"truth", 't', 0, G_OPTION_ARG_FILENAME, &truth_path,
         "True boxes: a manifest, GeoJSON, JSON list of [x, y, w, h], or a folder of them",
         "TRUTH"},
        {"pred", 'p', 0, G_OPTION_ARG_FILENAME, &pred_path,
         "Predicted boxes, in any of the same forms", "PRED"},
        {"ignore", 0, 0, G_OPTION_ARG_FILENAME, &ignore_path,
         "Boxes where detections do not count (crumbs too small to judge), in any of the "
         "same forms",
         "IGNORE"},
        {"lambda", 0, 0, G_OPTION_ARG_DOUBLE, &params.lambda,
         "Weight of the overlap penalty in the objective (default 1)", "L"},
        {"iou", 0, 0, G_OPTION_ARG_DOUBLE, &params.iou_threshold,
         "IoU at which a match is a true positive (default 0.5)", "T"},
        {"json", 0, 0, G_OPTION_ARG_NONE, &json, "Print JSON", NULL},
        {NULL},
    };
    g_autoptr(GOptionContext) context =
        g_option_context_new("- score detected boxes against ground truth");
    g_option_context_add_main_entries(context, entries, NULL);
    g_option_context_set_description(
        context,
        "Folders are matched by slide: <stem>.json, <stem>.geojson or <stem>/manifest.json.\n"
        "Matching is one to one and maximises the total IoU. loss = sum over truth boxes of\n"
        "(1 - IoU of its match) + 1 per unmatched prediction; penalty = area shared by pairs\n"
        "of predicted boxes / their total area; objective = loss + lambda * penalty.\n"
        "A prediction with at least half its area inside an --ignore box is left out.\n");
    g_autoptr(GError) error = NULL;
    if (!g_option_context_parse(context, &argc, &argv, &error)) {
        fprintf(stderr, "slidefrag eval: %s\n", error->message);
        return SF_EXIT_USAGE;
    }
    if (argc > 1) {
        fprintf(stderr, "slidefrag eval: unexpected argument '%s'\n", argv[1]);
        return SF_EXIT_USAGE;
    }
    if (!truth_path || !pred_path) {
        fprintf(stderr, "slidefrag eval: give --truth and --pred\n");
        return SF_EXIT_USAGE;
    }
    if (!(params.lambda >= 0) || !isfinite(params.lambda)) {
        fprintf(stderr, "slidefrag eval: --lambda must be a number >= 0\n");
        return SF_EXIT_USAGE;
    }
    if (!(params.iou_threshold >= 0 && params.iou_threshold <= 1)) {
        fprintf(stderr, "slidefrag eval: --iou must be between 0 and 1\n");
        return SF_EXIT_USAGE;
    }

    g_autoptr(GPtrArray) notes = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GPtrArray) truth = sf_boxes_load_path(truth_path, notes, &error);
    g_autoptr(GPtrArray) pred = truth ? sf_boxes_load_path(pred_path, notes, &error) : NULL;
    g_autoptr(GPtrArray) ignore =
        pred && ignore_path ? sf_boxes_load_path(ignore_path, notes, &error) : NULL;
    if (!pred || (ignore_path && !ignore))
        return fail(error);
    /* Two files are one slide whatever their names; folders pair by stem. */
    gboolean by_stem = g_file_test(truth_path, G_FILE_TEST_IS_DIR) ||
                       g_file_test(pred_path, G_FILE_TEST_IS_DIR) ||
                       (ignore_path && g_file_test(ignore_path, G_FILE_TEST_IS_DIR));
    g_autoptr(GArray) results = pair_slides(truth, pred, ignore, by_stem, notes);

    sf_score total = {0};
    for (guint i = 0; i < results->len; i++) {
        slide_result *r = &g_array_index(results, slide_result, i);
        if (!score_slide(r, &params, &error))
            return fail(error);
        sf_score_add(&total, &r->score);
    }

    if (json) {
        g_autofree char *text = to_json(results, &total, &params, notes);
        printf("%s\n", text);
        for (guint i = 0; i < notes->len; i++) {
            g_autofree char *note = sf_message_safe(notes->pdata[i]);
            fprintf(stderr, "slidefrag eval: note: %s\n", note);
        }
    } else {
        print_table(results, &total, &params, notes);
    }
    return SF_EXIT_OK;
}
