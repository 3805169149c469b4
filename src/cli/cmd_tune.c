/*
 * slidefrag tune --truth DIR SLIDE... -o params.json: searches detection
 * parameters for the lowest objective (score.h) summed over the slides. The
 * search itself is src/tune; this is its command line and its table.
 */
#include <math.h>
#include <stdio.h>

#include "cli/commands.h"
#include "cli/run_options.h"
#include "slidefrag/boxes_read.h"
#include "slidefrag/error.h"
#include "slidefrag/tune.h"

static int fail(const GError *error)
{
    fprintf(stderr, "slidefrag tune: %s\n", error->message);
    return sf_exit_code(error);
}

static void print_ranking(const sf_tune_result *result, int top)
{
    printf("%d slides, %zu parameter sets, %zu masks per slide: %.1f s (overviews %.1f s)\n",
           result->n_slides, result->n_candidates, result->n_masks, result->seconds,
           result->load_seconds);
    printf("%4s  %10s  %8s  %6s  %s\n", "rank", "objective", "mean IoU", "F1", "parameters");
    for (size_t i = 0; i < MIN((size_t)top, result->n_candidates); i++) {
        const sf_tune_candidate *c = &result->ranked[i];
        printf("%4zu  %10.4f  %8.4f  %6.4f  %s%s\n", i + 1, c->score.objective, c->score.mean_iou,
               c->score.f1, c->description, c->base ? "  (base)" : "");
    }
    const sf_score *base = &result->base->score;
    printf("base: objective %.4f, mean IoU %.4f, F1 %.4f\n", base->objective, base->mean_iou,
           base->f1);
}

int sf_cmd_tune(int argc, char **argv)
{
    g_autofree char *truth_path = NULL, *grid_path = NULL, *out_path = NULL;
    int jobs = 0, top = 5;
    sf_run_options options = {0};
    sf_score_params score_params;
    sf_score_params_default(&score_params);
    GOptionEntry entries[] = {
        {"truth", 0, 0, G_OPTION_ARG_FILENAME, &truth_path,
         "Ground truth: a folder of <stem>.json / .geojson / manifests, or one file", "DIR"},
        {"grid", 0, 0, G_OPTION_ARG_FILENAME, &grid_path,
         "JSON object of parameter names to lists of values (default: built in)", "FILE"},
        {"output", 'o', 0, G_OPTION_ARG_FILENAME, &out_path,
         "Write the best parameters here (for run --params)", "FILE"},
        {"jobs", 'j', 0, G_OPTION_ARG_INT, &jobs, "Parallel workers (default: all cores)", "N"},
        {"lambda", 0, 0, G_OPTION_ARG_DOUBLE, &score_params.lambda,
         "Weight of the overlap penalty (default 1)", "L"},
        {"iou", 0, 0, G_OPTION_ARG_DOUBLE, &score_params.iou_threshold,
         "IoU for a true positive, reported only (default 0.5)", "T"},
        {"top", 0, 0, G_OPTION_ARG_INT, &top, "Parameter sets to list (default 5)", "N"},
        {NULL},
    };
    g_autoptr(GOptionContext) context =
        g_option_context_new("SLIDE... - find detection parameters that match the truth");
    g_option_context_set_summary(
        context, "Minimises loss + lambda * overlap penalty summed over the slides; the\n"
                 "run options below set the base that the grid varies.");
    sf_run_options_add(context, entries, &options);
    g_autoptr(GError) error = NULL;
    sf_run_params base;
    gboolean parsed = g_option_context_parse(context, &argc, &argv, &error) &&
                      sf_run_options_resolve(&options, &base, &error);
    sf_run_options_clear(&options);
    if (!parsed)
        return fail(error);
    if (argc < 2 || !truth_path || !out_path) {
        fprintf(stderr, "slidefrag tune: give --truth DIR, -o FILE and at least one slide\n");
        return SF_EXIT_USAGE;
    }
    if (!(score_params.lambda >= 0) || !isfinite(score_params.lambda) ||
        !(score_params.iou_threshold >= 0 && score_params.iou_threshold <= 1) || jobs < 0) {
        fprintf(stderr, "slidefrag tune: --lambda must be >= 0, --iou in 0..1, --jobs >= 0\n");
        return SF_EXIT_USAGE;
    }

    g_autoptr(sf_tune_grid) grid = NULL;
    if (grid_path) {
        grid = sf_tune_grid_load(grid_path, &error);
    } else {
        grid = sf_tune_grid_default();
    }
    if (!grid)
        return fail(error);
    g_autoptr(GPtrArray) truth = sf_boxes_load_path(truth_path, NULL, &error);
    if (!truth)
        return fail(error);

    sf_tune_result result;
    int code = SF_EXIT_OK;
    if (!sf_tune(&base, grid, (const char *const *)argv + 1, argc - 1, truth, &score_params, jobs,
                 &result, &error)) {
        code = fail(error);
    } else {
        print_ranking(&result, top);
        if (!sf_tune_write_params(out_path, &result.ranked[0], result.n_slides, &error))
            code = fail(error);
        else
            printf("best parameters: %s\n", out_path);
    }
    sf_tune_result_clear(&result);
    return code;
}
