/* IoU, optimal matching, loss and overlap penalty against hand-computed numbers. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "support.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "slidefrag/score.h"

#define BOX(x_, y_, w_, h_) ((sf_box){.x = (x_), .y = (y_), .w = (w_), .h = (h_)})
#define EPS 1e-12

static void assert_near(double actual, double expected)
{
    if (!(fabs(actual - expected) <= EPS * (1.0 + fabs(expected))))
        fail_msg("got %.17g, expected %.17g", actual, expected);
}

/* ---- IoU ---------------------------------------------------------------- */

static void test_iou_cases(void **state)
{
    (void)state;
    sf_box a = BOX(0, 0, 10, 10);
    /* disjoint */
    sf_box far = BOX(20, 20, 5, 5);
    assert_near(sf_box_iou(&a, &far), 0.0);
    /* touching edge to edge: half-open boxes share no pixel */
    sf_box right = BOX(10, 0, 10, 10), below = BOX(0, 10, 10, 10), corner = BOX(10, 10, 3, 3);
    assert_near(sf_box_iou(&a, &right), 0.0);
    assert_near(sf_box_iou(&a, &below), 0.0);
    assert_near(sf_box_iou(&a, &corner), 0.0);
    /* identical */
    assert_near(sf_box_iou(&a, &a), 1.0);
    /* nested: 4x5 = 20 inside 100 -> 20 / 100 */
    sf_box inner = BOX(2, 3, 4, 5);
    assert_near(sf_box_intersection_area(&a, &inner), 20.0);
    assert_near(sf_box_iou(&a, &inner), 0.2);
    assert_near(sf_box_iou(&inner, &a), 0.2);
    /* partial: 5x5 = 25 shared, union 100 + 100 - 25 = 175 -> 1/7 */
    sf_box shifted = BOX(5, 5, 10, 10);
    assert_near(sf_box_intersection_area(&a, &shifted), 25.0);
    assert_near(sf_box_iou(&a, &shifted), 1.0 / 7.0);
    /* overlap of one pixel column: 1x10 = 10, union 190 */
    sf_box one = BOX(9, 0, 10, 10);
    assert_near(sf_box_iou(&a, &one), 10.0 / 190.0);
    /* empty boxes cover nothing, even themselves */
    sf_box empty = BOX(3, 3, 0, 5), negative = BOX(3, 3, -4, 5);
    assert_near(sf_box_area(&empty), 0.0);
    assert_near(sf_box_area(&negative), 0.0);
    assert_near(sf_box_iou(&empty, &empty), 0.0);
    assert_near(sf_box_iou(&a, &negative), 0.0);
    /* level-0 sized numbers stay exact: 30000x20000 half-shifted */
    sf_box big = BOX(40000, 10000, 30000, 20000), big2 = BOX(55000, 10000, 30000, 20000);
    assert_near(sf_box_iou(&big, &big2), 15000.0 * 20000.0 / (2 * 6e8 - 3e8));
}

/* ---- Matching ----------------------------------------------------------- */

/*
 * Truth A, B and predictions P, Q with
 *   IoU(A, P) = 60/100 = 0.6   (A = left 6 columns of P)
 *   IoU(A, Q) = 30/60  = 0.5   (Q = lower half of A)
 *   IoU(B, P) = 50/100 = 0.5   (B = upper half of P)
 *   IoU(B, Q) = 0              (B and Q touch along y = 5)
 * Greedy takes A-P first (0.6) and is left with B-Q (0): total 0.6.
 * The optimum is A-Q + B-P = 1.0.
 */
static const sf_box greedy_truth[] = {BOX(0, 0, 6, 10), BOX(0, 0, 10, 5)};
static const sf_box greedy_pred[] = {BOX(0, 0, 10, 10), BOX(0, 5, 6, 5)};

static void test_greedy_is_wrong(void **state)
{
    (void)state;
    const sf_box *A = &greedy_truth[0], *B = &greedy_truth[1];
    const sf_box *P = &greedy_pred[0], *Q = &greedy_pred[1];
    assert_near(sf_box_iou(A, P), 0.6);
    assert_near(sf_box_iou(A, Q), 0.5);
    assert_near(sf_box_iou(B, P), 0.5);
    assert_near(sf_box_iou(B, Q), 0.0);

    double w[4] = {0.6, 0.5, 0.5, 0.0};
    ptrdiff_t col[2];
    double total = -1;
    assert_int_equal(sf_assign_max(w, 2, 2, col, &total), SF_OK);
    assert_int_equal(col[0], 1); /* A -> Q */
    assert_int_equal(col[1], 0); /* B -> P */
    assert_near(total, 1.0);

    /*
     * The slide's score at IoU 0.5, lambda 1:
     *   both pairs at 0.5 >= 0.5: TP 2, FP 0, FN 0, P = R = F1 = 1
     *   mean IoU (0.5 + 0.5) / 2 = 0.5
     *   loss (1 - 0.5) + (1 - 0.5) = 1, no unmatched prediction
     *   penalty: Q lies inside P, shared 30 px; areas 100 + 30 -> 30/130
     *   objective 1 + 3/13 = 16/13
     * (Greedy would say loss 0.4 + 1 + 1 = 2.4.)
     */
    sf_score s;
    sf_match m[2];
    sf_score_params params = {.iou_threshold = 0.5, .lambda = 1.0};
    assert_int_equal(sf_score_boxes(greedy_truth, 2, greedy_pred, 2, &params, &s, m), SF_OK);
    assert_int_equal(m[0].pred, 1);
    assert_int_equal(m[1].pred, 0);
    assert_near(m[0].iou, 0.5);
    assert_near(m[1].iou, 0.5);
    assert_int_equal(s.n_slides, 1);
    assert_int_equal(s.n_truth, 2);
    assert_int_equal(s.n_pred, 2);
    assert_int_equal(s.n_matched, 2);
    assert_int_equal(s.true_positives, 2);
    assert_int_equal(s.false_positives, 0);
    assert_int_equal(s.false_negatives, 0);
    assert_near(s.iou_sum, 1.0);
    assert_near(s.mean_iou, 0.5);
    assert_near(s.precision, 1.0);
    assert_near(s.recall, 1.0);
    assert_near(s.f1, 1.0);
    assert_near(s.loss, 1.0);
    assert_near(s.overlap_area, 30.0);
    assert_near(s.pred_area, 130.0);
    assert_near(s.penalty, 3.0 / 13.0);
    assert_near(s.objective, 16.0 / 13.0);

    /* Stricter threshold 0.6 and lambda 2: no true positive, the loss and
     * matching do not depend on the threshold; objective 1 + 6/13. */
    params = (sf_score_params){.iou_threshold = 0.6, .lambda = 2.0};
    assert_int_equal(sf_score_boxes(greedy_truth, 2, greedy_pred, 2, &params, &s, NULL), SF_OK);
    assert_int_equal(s.true_positives, 0);
    assert_int_equal(s.false_positives, 2);
    assert_int_equal(s.false_negatives, 2);
    assert_near(s.precision, 0.0);
    assert_near(s.recall, 0.0);
    assert_near(s.f1, 0.0);
    assert_near(s.mean_iou, 0.5);
    assert_near(s.loss, 1.0);
    assert_near(s.objective, 1.0 + 6.0 / 13.0);
}

/*
 * Truth T1 = (0,0,10,10), T2 = (100,100,10,10); predictions
 *   P1 = T1 (IoU 1), P2 = (5,0,10,10) (IoU with T1: 50 / 150 = 1/3),
 *   P3 = (200,200,4,4) far from everything.
 * T1 takes P1; T2 meets nothing; P2 and P3 stay unmatched.
 *   loss (1 - 1) + 1 (T2) + 1 (P2) + 1 (P3) = 3
 *   TP 1, FP 2, FN 1: P 1/3, R 1/2, F1 2 / (2 + 2 + 1) = 0.4
 *   mean IoU (1 + 0) / 2 = 0.5
 *   penalty: P1 and P2 share 5x10 = 50; areas 100 + 100 + 16 = 216
 *   objective at lambda 0.5: 3 + 0.5 * 50/216 = 3 + 25/216
 */
static const sf_box more_truth[] = {BOX(0, 0, 10, 10), BOX(100, 100, 10, 10)};
static const sf_box more_pred[] = {BOX(5, 0, 10, 10), BOX(0, 0, 10, 10), BOX(200, 200, 4, 4)};

static void test_more_predictions_than_truth(void **state)
{
    (void)state;
    sf_score s;
    sf_match m[2];
    sf_score_params params = {.iou_threshold = 0.5, .lambda = 0.5};
    assert_int_equal(sf_score_boxes(more_truth, 2, more_pred, 3, &params, &s, m), SF_OK);
    assert_int_equal(m[0].pred, 1);
    assert_near(m[0].iou, 1.0);
    assert_int_equal(m[1].pred, -1);
    assert_near(m[1].iou, 0.0);
    assert_int_equal(s.n_matched, 1);
    assert_int_equal(s.true_positives, 1);
    assert_int_equal(s.false_positives, 2);
    assert_int_equal(s.false_negatives, 1);
    assert_near(s.precision, 1.0 / 3.0);
    assert_near(s.recall, 0.5);
    assert_near(s.f1, 0.4);
    assert_near(s.mean_iou, 0.5);
    assert_near(s.loss, 3.0);
    assert_near(s.overlap_area, 50.0);
    assert_near(s.pred_area, 216.0);
    assert_near(s.penalty, 50.0 / 216.0);
    assert_near(s.objective, 3.0 + 25.0 / 216.0);
}

/* A pair the assignment forms without a shared pixel is no match: both
 * sides count 1 in the loss (2), not 1 for the pair. */
static void test_zero_iou_pair_is_unmatched(void **state)
{
    (void)state;
    sf_box t = BOX(0, 0, 10, 10), p = BOX(50, 50, 10, 10);
    sf_score s;
    sf_match m;
    assert_int_equal(sf_score_boxes(&t, 1, &p, 1, NULL, &s, &m), SF_OK);
    assert_int_equal(m.pred, -1);
    assert_int_equal(s.n_matched, 0);
    assert_near(s.loss, 2.0);
    assert_near(s.objective, 2.0); /* one box: no overlap */
    assert_near(s.f1, 0.0);
}

static void test_empty_sides(void **state)
{
    (void)state;
    sf_box boxes[] = {BOX(0, 0, 10, 10), BOX(5, 5, 10, 10), BOX(40, 0, 2, 2)};
    sf_score s;
    sf_match m[3];

    /* no truth, two predictions overlapping 25 px of 200:
     * loss 2, P 0, R 1 (nothing missed), F1 0, penalty 1/8 */
    assert_int_equal(sf_score_boxes(NULL, 0, boxes, 2, NULL, &s, NULL), SF_OK);
    assert_int_equal(s.false_positives, 2);
    assert_near(s.loss, 2.0);
    assert_near(s.precision, 0.0);
    assert_near(s.recall, 1.0);
    assert_near(s.mean_iou, 1.0);
    assert_near(s.f1, 0.0);
    assert_near(s.penalty, 25.0 / 200.0);
    assert_near(s.objective, 2.0 + 0.125);

    /* three truth boxes, no prediction: loss 3, P 1, R 0, mean IoU 0 */
    assert_int_equal(sf_score_boxes(boxes, 3, NULL, 0, NULL, &s, m), SF_OK);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(m[i].pred, -1);
        assert_near(m[i].iou, 0.0);
    }
    assert_int_equal(s.false_negatives, 3);
    assert_near(s.loss, 3.0);
    assert_near(s.precision, 1.0);
    assert_near(s.recall, 0.0);
    assert_near(s.mean_iou, 0.0);
    assert_near(s.f1, 0.0);
    assert_near(s.penalty, 0.0);

    /* nothing at all is a perfect score */
    assert_int_equal(sf_score_boxes(NULL, 0, NULL, 0, NULL, &s, NULL), SF_OK);
    assert_near(s.loss, 0.0);
    assert_near(s.objective, 0.0);
    assert_near(s.f1, 1.0);
    assert_near(s.precision, 1.0);
    assert_near(s.recall, 1.0);
}

/* The greedy slide plus the more-predictions slide:
 *   truth 4, pred 5, TP 2 + 1, FP 0 + 2, FN 0 + 1
 *   mean IoU (0.5 + 0.5 + 1 + 0) / 4 = 0.5
 *   P 3/5, R 3/4, F1 6 / (6 + 2 + 1) = 2/3
 *   loss 1 + 3, penalty 3/13 + 50/216, objective (lambda 1) 4 + both */
static void test_aggregate(void **state)
{
    (void)state;
    sf_score a, b, total = {0};
    assert_int_equal(sf_score_boxes(greedy_truth, 2, greedy_pred, 2, NULL, &a, NULL), SF_OK);
    assert_int_equal(sf_score_boxes(more_truth, 2, more_pred, 3, NULL, &b, NULL), SF_OK);
    sf_score_add(&total, &a);
    sf_score_add(&total, &b);
    assert_int_equal(total.n_slides, 2);
    assert_int_equal(total.n_truth, 4);
    assert_int_equal(total.n_pred, 5);
    assert_int_equal(total.true_positives, 3);
    assert_int_equal(total.false_positives, 2);
    assert_int_equal(total.false_negatives, 1);
    assert_near(total.mean_iou, 0.5);
    assert_near(total.precision, 0.6);
    assert_near(total.recall, 0.75);
    assert_near(total.f1, 2.0 / 3.0);
    assert_near(total.loss, 4.0);
    assert_near(total.penalty, 3.0 / 13.0 + 50.0 / 216.0);
    assert_near(total.objective, 4.0 + 3.0 / 13.0 + 50.0 / 216.0);
    assert_near(total.overlap_area, 80.0);
    assert_near(total.pred_area, 346.0);
}

/* ---- Penalty ------------------------------------------------------------ */

static void test_pairwise_overlap(void **state)
{
    (void)state;
    double o = -1;
    /* Three 4x4 boxes at x = 0, 2, 1, pair by pair:
     * x=0 & x=2: [2,4) 2x4 = 8; x=0 & x=1: [1,4) 3x4 = 12;
     * x=2 & x=1: [2,5) 3x4 = 12; total 32 of area 48 -> penalty 2/3. */
    sf_box three[] = {BOX(0, 0, 4, 4), BOX(2, 0, 4, 4), BOX(1, 0, 4, 4)};
    assert_int_equal(sf_boxes_pairwise_overlap(three, 3, &o), SF_OK);
    assert_near(o, 32.0);
    sf_score s;
    assert_int_equal(sf_score_boxes(NULL, 0, three, 3, NULL, &s, NULL), SF_OK);
    assert_near(s.penalty, 2.0 / 3.0);

    /* The same box three times: 3 pairs x 16 = 48. */
    sf_box same[] = {BOX(7, 7, 4, 4), BOX(7, 7, 4, 4), BOX(7, 7, 4, 4)};
    assert_int_equal(sf_boxes_pairwise_overlap(same, 3, &o), SF_OK);
    assert_near(o, 48.0);

    /* Touching boxes and empty boxes share nothing. */
    sf_box touching[] = {BOX(0, 0, 4, 4), BOX(4, 0, 4, 4), BOX(0, 4, 4, 4), BOX(1, 1, 0, 9)};
    assert_int_equal(sf_boxes_pairwise_overlap(touching, 4, &o), SF_OK);
    assert_near(o, 0.0);
    assert_int_equal(sf_boxes_pairwise_overlap(touching, 1, &o), SF_OK);
    assert_near(o, 0.0);
    assert_int_equal(sf_boxes_pairwise_overlap(NULL, 0, &o), SF_OK);
    assert_near(o, 0.0);
}

/* ---- Randomised checks against brute force ------------------------------- */

static uint64_t rng_state = 0x9e3779b97f4a7c15u;

static uint64_t next_random(void)
{
    /* xorshift64*: a fixed, platform-independent sequence */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545f4914f6cdd1du;
}

static int64_t random_below(int64_t n)
{
    return (int64_t)(next_random() % (uint64_t)n);
}

/* The best sum over injective maps of the rows into the columns (rows <=
 * cols) by trying every one. */
static double brute_best(const double *w, size_t rows, size_t cols, bool transposed, size_t row,
                         bool *used)
{
    if (row == rows)
        return 0.0;
    double best = -INFINITY;
    for (size_t c = 0; c < cols; c++) {
        if (used[c])
            continue;
        used[c] = true;
        double v = (transposed ? w[c * rows + row] : w[row * cols + c]) +
                   brute_best(w, rows, cols, transposed, row + 1, used);
        used[c] = false;
        if (v > best)
            best = v;
    }
    return best;
}

static void test_assignment_matches_brute_force(void **state)
{
    (void)state;
    double w[49];
    ptrdiff_t col[7];
    bool used[7] = {false};
    for (int trial = 0; trial < 3000; trial++) {
        size_t rows = (size_t)random_below(8), cols = (size_t)random_below(8);
        bool ties = trial % 3 == 0; /* small integers: many equal sums */
        for (size_t k = 0; k < rows * cols; k++)
            w[k] = ties ? (double)random_below(4)
                        : (double)random_below(2000001) / 1e6 - (trial % 2 ? 0.0 : 1.0);
        double total = NAN;
        assert_int_equal(sf_assign_max(w, rows, cols, col, &total), SF_OK);

        double expected = 0.0;
        if (rows && cols)
            expected = rows <= cols ? brute_best(w, rows, cols, false, 0, used)
                                    : brute_best(w, cols, rows, true, 0, used);
        assert_near(total, expected);

        /* The assignment itself: injective, min(rows, cols) pairs, sums up. */
        bool taken[7] = {false};
        size_t n_assigned = 0;
        double sum = 0.0;
        for (size_t r = 0; r < rows; r++) {
            if (col[r] < 0) {
                assert_int_equal(col[r], -1);
                continue;
            }
            assert_true((size_t)col[r] < cols);
            assert_false(taken[col[r]]);
            taken[col[r]] = true;
            n_assigned++;
            sum += w[r * cols + (size_t)col[r]];
        }
        assert_int_equal(n_assigned, rows < cols ? rows : cols);
        assert_near(sum, total);
    }
}

static void test_assignment_rejects_nan(void **state)
{
    (void)state;
    double w[4] = {0.1, NAN, 0.3, 0.4};
    ptrdiff_t col[2];
    assert_int_equal(sf_assign_max(w, 2, 2, col, NULL), SF_ERR_INVALID);
}

/* The sweep against the definition, pair by pair, on boxes crowded into a
 * small square so that most of them overlap several others. */
static void test_pairwise_overlap_random(void **state)
{
    (void)state;
    sf_box boxes[300];
    for (int trial = 0; trial < 200; trial++) {
        size_t n = (size_t)random_below(trial < 150 ? 12 : 300);
        int64_t span = trial % 2 ? 40 : 4000;
        for (size_t i = 0; i < n; i++)
            boxes[i] =
                BOX(random_below(span) - span / 4, random_below(span),
                    random_below(span / 2) + (i % 17 == 0 ? 0 : 1), random_below(span / 2) + 1);
        double naive = 0.0;
        for (size_t i = 0; i < n; i++)
            for (size_t j = i + 1; j < n; j++)
                naive += sf_box_intersection_area(&boxes[i], &boxes[j]);
        double o = -1;
        assert_int_equal(sf_boxes_pairwise_overlap(boxes, n, &o), SF_OK);
        assert_near(o, naive);
    }
}

/* Score on random boxes: the matched IoUs sum to the brute-force optimum
 * and the loss is n_truth + n_pred - matched - sum IoU by its definition. */
static void test_score_random(void **state)
{
    (void)state;
    sf_box truth[7], pred[7];
    double w[49];
    bool used[7] = {false};
    for (int trial = 0; trial < 500; trial++) {
        size_t nt = (size_t)random_below(8), np = (size_t)random_below(8);
        for (size_t i = 0; i < nt; i++)
            truth[i] =
                BOX(random_below(60), random_below(60), random_below(30) + 1, random_below(30) + 1);
        for (size_t i = 0; i < np; i++)
            pred[i] =
                BOX(random_below(60), random_below(60), random_below(30) + 1, random_below(30) + 1);
        sf_score s;
        sf_match m[7];
        assert_int_equal(sf_score_boxes(truth, nt, pred, np, NULL, &s, m), SF_OK);
        for (size_t t = 0; t < nt; t++)
            for (size_t p = 0; p < np; p++)
                w[t * np + p] = sf_box_iou(&truth[t], &pred[p]);
        double best = 0.0;
        if (nt && np)
            best = nt <= np ? brute_best(w, nt, np, false, 0, used)
                            : brute_best(w, np, nt, true, 0, used);
        assert_near(s.iou_sum, best);
        size_t matched = 0;
        double loss = 0.0;
        for (size_t t = 0; t < nt; t++) {
            if (m[t].pred >= 0) {
                matched++;
                assert_true(m[t].iou > 0.0);
                assert_near(m[t].iou, sf_box_iou(&truth[t], &pred[m[t].pred]));
            }
            loss += 1.0 - m[t].iou;
        }
        loss += (double)(np - matched);
        assert_int_equal(s.n_matched, matched);
        assert_near(s.loss, loss);
    }
}

/* Large inputs stay fast: 400 x 400 assignment and 100000 boxes' overlap. */
static void test_large_inputs(void **state)
{
    (void)state;
    size_t n = 400;
    sf_box *truth = malloc(n * sizeof *truth), *pred = malloc(n * sizeof *pred);
    assert_non_null(truth);
    assert_non_null(pred);
    for (size_t i = 0; i < n; i++) {
        /* a grid of cells, each predicted shifted by one pixel */
        truth[i] = BOX((int64_t)(i % 20) * 100, (int64_t)(i / 20) * 100, 50, 50);
        pred[n - 1 - i] = BOX(truth[i].x + 1, truth[i].y, 50, 50);
    }
    sf_score s;
    assert_int_equal(sf_score_boxes(truth, n, pred, n, NULL, &s, NULL), SF_OK);
    assert_int_equal(s.true_positives, n);
    assert_near(s.mean_iou, 49.0 * 50.0 / (2 * 2500.0 - 49.0 * 50.0));
    free(truth);
    free(pred);

    size_t big = 100000;
    sf_box *boxes = malloc(big * sizeof *boxes);
    assert_non_null(boxes);
    for (size_t i = 0; i < big; i++) /* each overlaps the next by 1 column */
        boxes[i] = BOX((int64_t)i * 9, 0, 10, 7);
    double o = 0;
    assert_int_equal(sf_boxes_pairwise_overlap(boxes, big, &o), SF_OK);
    assert_near(o, (double)(big - 1) * 7.0);
    free(boxes);
}

/* A prediction half inside an ignore box is ignored; less than half, or
 * spread over two ignore boxes none of which holds half, is kept. */
static void test_mark_ignored(void **state)
{
    (void)state;
    const sf_box ignore[] = {{0, 0, 10, 10}, {20, 0, 10, 10}};
    const sf_box pred[] = {
        {2, 2, 4, 4},   /* inside: ignored */
        {5, 0, 10, 10}, /* half inside the first: ignored */
        {6, 0, 10, 10}, /* 40 % inside: kept */
        {8, 0, 16, 4},  /* 2/16 in one, 4/16 in the other: kept */
        {40, 40, 5, 5}, /* elsewhere: kept */
        {3, 3, 0, 5},   /* no area: kept, whatever scores it drops it */
    };
    bool keep[6];
    assert_int_equal(sf_boxes_mark_ignored(pred, 6, ignore, 2, keep), 4);
    assert_false(keep[0]);
    assert_false(keep[1]);
    assert_true(keep[2]);
    assert_true(keep[3]);
    assert_true(keep[4]);
    assert_true(keep[5]);
    /* No ignore boxes: all kept. */
    assert_int_equal(sf_boxes_mark_ignored(pred, 6, NULL, 0, keep), 6);
    for (int i = 0; i < 6; i++)
        assert_true(keep[i]);
}

/* What sf_score_boxes matched before it solved components apart: the
 * whole IoU matrix in one assignment. */
static void dense_matches(const sf_box *truth, size_t nt, const sf_box *pred, size_t np,
                          sf_match *out)
{
    double *w = malloc((nt * np + 1) * sizeof *w);
    ptrdiff_t *row_to_col = malloc((nt + 1) * sizeof *row_to_col);
    assert_non_null(w);
    assert_non_null(row_to_col);
    for (size_t t = 0; t < nt; t++)
        for (size_t p = 0; p < np; p++)
            w[t * np + p] = sf_box_iou(&truth[t], &pred[p]);
    assert_int_equal(sf_assign_max(w, nt, np, row_to_col, NULL), SF_OK);
    for (size_t t = 0; t < nt; t++) {
        ptrdiff_t p = row_to_col[t];
        double value = p >= 0 ? w[t * np + (size_t)p] : 0.0;
        out[t] = value > 0.0 ? (sf_match){p, value} : (sf_match){-1, 0.0};
    }
    free(w);
    free(row_to_col);
}

/* The overlap graph's components solved apart give the matches the whole
 * matrix gave: sparse, dense and chained layouts, more truth than
 * predictions and fewer. Where two assignments tie (identical boxes) only
 * the total is the same. */
static void test_sparse_matching_equals_dense(void **state)
{
    (void)state;
    size_t ties = 0, compared = 0;
    for (int trial = 0; trial < 400; trial++) {
        size_t nt = (size_t)random_below(60), np = (size_t)random_below(60);
        int64_t span = trial % 3 == 0 ? 200 : trial % 3 == 1 ? 1000 : 5000;
        sf_box truth[60], pred[60];
        for (size_t i = 0; i < nt; i++)
            truth[i] = BOX(random_below(span), random_below(span), random_below(97) + 3,
                           random_below(89) + 3);
        for (size_t i = 0; i < np; i++)
            pred[i] = BOX(random_below(span), random_below(span), random_below(97) + 3,
                          random_below(89) + 3);
        sf_match dense[60], sparse[60];
        dense_matches(truth, nt, pred, np, dense);
        sf_score s;
        assert_int_equal(sf_score_boxes(truth, nt, pred, np, NULL, &s, sparse), SF_OK);
        double dense_sum = 0.0, sparse_sum = 0.0;
        gboolean same = TRUE;
        for (size_t t = 0; t < nt; t++) {
            dense_sum += dense[t].iou;
            sparse_sum += sparse[t].iou;
            same = same && dense[t].pred == sparse[t].pred && dense[t].iou == sparse[t].iou;
        }
        assert_near(sparse_sum, dense_sum);
        assert_near(s.iou_sum, dense_sum);
        ties += !same;
        compared++;
    }
    /* Random boxes rarely tie: nearly every trial gives the same pairs. */
    print_message("%zu of %zu trials matched other pairs of the same total\n", ties, compared);
    assert_true(ties * 20 < compared);
}

/* 100,000 boxes on each side that overlap nothing: the whole matrix would
 * be 80 GB (and an O(n^3) assignment); the components are single boxes. */
static void test_sparse_matching_scales(void **state)
{
    (void)state;
    size_t n = 100000;
    sf_box *truth = malloc(n * sizeof *truth), *pred = malloc(n * sizeof *pred);
    assert_non_null(truth);
    assert_non_null(pred);
    for (size_t i = 0; i < n; i++) {
        int64_t x = (int64_t)(i % 300) * 100, y = (int64_t)(i / 300) * 100;
        truth[i] = BOX(x, y, 50, 50);
        /* Every tenth predicted where its truth is, the others apart. */
        pred[n - 1 - i] = i % 10 ? BOX(x + 60, y, 30, 30) : BOX(x + 5, y, 50, 50);
    }
    sf_score s;
    assert_int_equal(sf_score_boxes(truth, n, pred, n, NULL, &s, NULL), SF_OK);
    assert_int_equal(s.n_matched, n / 10);
    assert_int_equal(s.true_positives, n / 10);
    assert_near(s.iou_sum, (double)(n / 10) * 45.0 * 50.0 / (2 * 2500.0 - 45.0 * 50.0));
    free(truth);
    free(pred);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_iou_cases),
        cmocka_unit_test(test_greedy_is_wrong),
        cmocka_unit_test(test_more_predictions_than_truth),
        cmocka_unit_test(test_zero_iou_pair_is_unmatched),
        cmocka_unit_test(test_empty_sides),
        cmocka_unit_test(test_aggregate),
        cmocka_unit_test(test_pairwise_overlap),
        cmocka_unit_test(test_assignment_matches_brute_force),
        cmocka_unit_test(test_assignment_rejects_nan),
        cmocka_unit_test(test_pairwise_overlap_random),
        cmocka_unit_test(test_score_random),
        cmocka_unit_test(test_large_inputs),
        cmocka_unit_test(test_mark_ignored),
        cmocka_unit_test(test_sparse_matching_equals_dense),
        cmocka_unit_test(test_sparse_matching_scales),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
