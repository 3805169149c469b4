/*
 * The boxes reader of `eval` and `tune` (sf_boxes_parse: manifest, GeoJSON
 * or a list) on one file, and the boxes it returns scored against
 * themselves and against a shifted copy, as `eval` would.
 */
#include <glib.h>
#include <math.h>

#include "fuzz.h"
#include "slidefrag/boxes_read.h"
#include "slidefrag/score.h"

static void check_score(const sf_score *s, size_t n_truth, size_t n_pred)
{
    SF_FUZZ_CHECK(s->n_truth == n_truth && s->n_pred == n_pred);
    SF_FUZZ_CHECK(s->true_positives <= s->n_matched && s->n_matched <= n_truth &&
                  s->n_matched <= n_pred);
    SF_FUZZ_CHECK(isfinite(s->loss) && isfinite(s->penalty) && isfinite(s->objective));
    SF_FUZZ_CHECK(s->precision >= 0 && s->precision <= 1 && s->recall >= 0 && s->recall <= 1);
    SF_FUZZ_CHECK(s->mean_iou >= 0 && s->mean_iou <= 1 + 1e-9);
}

int sf_fuzz_boxes(const uint8_t *data, size_t size)
{
    /* A manifest is read again from its path: the same bytes must be there. */
    const char *path = sf_fuzz_memfile(data, size);
    GError *error = NULL;
    sf_slide_boxes *boxes = sf_boxes_parse(path, (const char *)data, size, &error);
    if (!boxes) {
        SF_FUZZ_CHECK(error && strstr(error->message, path));
        g_error_free(error);
        return 0;
    }
    SF_FUZZ_CHECK(boxes->stem && *boxes->stem);
    for (size_t i = 0; i < boxes->n_boxes; i++) {
        const sf_box *b = &boxes->boxes[i];
        SF_FUZZ_CHECK(b->w > 0 && b->h > 0);
    }
    /* Scoring is quadratic and more: a few hundred boxes are plenty here. */
    size_t n = MIN(boxes->n_boxes, 300);
    sf_score score;
    if (sf_score_boxes(boxes->boxes, n, boxes->boxes, n, NULL, &score, NULL) == SF_OK) {
        check_score(&score, n, n);
        SF_FUZZ_CHECK(score.true_positives == n);
    }
    sf_box *shifted = g_new(sf_box, n + 1);
    for (size_t i = 0; i < n; i++) {
        shifted[i] = boxes->boxes[i];
        const int64_t far = (int64_t)1 << 60;
        if (shifted[i].x > -far && shifted[i].x < far && shifted[i].w < far)
            shifted[i].x += shifted[i].w / 3;
    }
    if (sf_score_boxes(boxes->boxes, n, shifted, n / 2, NULL, &score, NULL) == SF_OK)
        check_score(&score, n, n / 2);
    g_free(shifted);
    sf_slide_boxes_free(boxes);
    return 0;
}
