/*
 * Scoring detected boxes against ground truth: IoU, the optimal one-to-one
 * matching, precision/recall/F1 and the method's objective
 *
 *     loss + lambda * penalty,
 *     loss    = sum over truth boxes of (1 - IoU with its match)
 *               + 1 for every prediction left unmatched,
 *     penalty = area shared by pairs of predicted boxes / their total area.
 *
 * Pure like the core (core.h): no I/O, libc and libm only, so `tune` can
 * score thousands of parameter sets on boxes in memory.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "slidefrag/core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Pixels shared by two half-open boxes (0 when disjoint or touching). */
double sf_box_intersection_area(const sf_box *a, const sf_box *b);
/* Pixels of a box; 0 when w <= 0 or h <= 0. */
double sf_box_area(const sf_box *box);
/* Intersection over union in [0, 1]; 0 when the union is empty. */
double sf_box_iou(const sf_box *a, const sf_box *b);

/*
 * Optimal assignment (Kuhn-Munkres, O(n^3)): pairs rows with columns one to
 * one so that the summed weight is maximal. weight is rows x cols,
 * row-major, any finite values. row_to_col[r] receives the column of row r,
 * or -1 when rows > cols left it out; every row is assigned when
 * rows <= cols. *total (may be NULL) receives the summed weight.
 * SF_ERR_INVALID for a non-finite weight.
 */
sf_status sf_assign_max(const double *weight, size_t rows, size_t cols, ptrdiff_t *row_to_col,
                        double *total);

/*
 * Sum over unordered pairs of predicted boxes of the pixels they share: a
 * pixel covered c times counts c(c-1)/2. One sweep over x with a segment
 * tree over y, O(n log n) however much the boxes overlap.
 */
sf_status sf_boxes_pairwise_overlap(const sf_box *boxes, size_t count, double *overlap);

typedef struct sf_score_params {
    double iou_threshold; /* a match is a true positive at IoU >= this */
    double lambda;        /* weight of the overlap penalty */
} sf_score_params;

/* IoU threshold 0.5, lambda 1. */
void sf_score_params_default(sf_score_params *params);

/* The match of one truth box. */
typedef struct sf_match {
    ptrdiff_t pred; /* index into the predictions, -1 when unmatched */
    double iou;     /* 0 when unmatched */
} sf_match;

/*
 * One slide's score, or the sum over slides. Counts and sums add up; the
 * ratios are derived from them (sf_score_add).
 *
 * A truth box and a prediction are matched when the IoU-maximising
 * assignment pairs them and they share at least one pixel: a pair with
 * IoU 0 is no match, both sides count as unmatched in the loss.
 * Empty cases: precision is 1 without predictions, recall and mean IoU
 * are 1 without truth boxes, F1 = 2TP / (2TP + FP + FN) is 1 when both are
 * empty.
 */
typedef struct sf_score {
    size_t n_slides;
    size_t n_truth, n_pred;
    size_t n_matched;       /* pairs with IoU > 0 */
    size_t true_positives;  /* matched pairs with IoU >= threshold */
    size_t false_positives; /* n_pred - true_positives */
    size_t false_negatives; /* n_truth - true_positives */
    double iou_sum;         /* summed IoU of the matched pairs */
    double overlap_area;    /* sf_boxes_pairwise_overlap of the predictions */
    double pred_area;       /* summed area of the predictions */
    double loss;
    double penalty;   /* overlap_area / pred_area per slide; summed over slides */
    double objective; /* loss + lambda * penalty; summed over slides */
    /* derived */
    double mean_iou; /* iou_sum / n_truth */
    double precision, recall, f1;
} sf_score;

/*
 * Scores predictions against the truth of one slide. params NULL means the
 * defaults. matches (may be NULL) receives n_truth entries. Allocates its
 * scratch once per call. On failure *score is zeroed.
 */
sf_status sf_score_boxes(const sf_box *truth, size_t n_truth, const sf_box *pred, size_t n_pred,
                         const sf_score_params *params, sf_score *score, sf_match *matches);

/*
 * "Don't care" areas of a truth: crumbs too small to judge, where finding
 * tissue or not is neither right nor wrong. A prediction that has at least
 * SF_IGNORE_COVER of its area inside one ignore box is ignored. keep[i]
 * (n_pred entries) is set false for ignored predictions and true for the
 * rest; returns how many are kept.
 */
#define SF_IGNORE_COVER 0.5
size_t sf_boxes_mark_ignored(const sf_box *pred, size_t n_pred, const sf_box *ignore,
                             size_t n_ignore, bool *keep);

/*
 * Adds one slide's score into a total that starts zeroed ({0}): counts,
 * IoU sums, areas, loss, penalty and objective add up; mean IoU over all
 * truth boxes and precision/recall/F1 from the summed TP/FP/FN are derived
 * again after every call.
 */
void sf_score_add(sf_score *total, const sf_score *slide);

#ifdef __cplusplus
}
#endif
