/*
 * Scores of detected boxes against ground truth (score.h).
 *
 * The assignment is the potentials form of Kuhn-Munkres on a rectangular
 * cost matrix with no more rows than columns (the longer side is the
 * columns, so nothing needs padding): one augmenting path per row, each
 * found with a Dijkstra-like scan over the columns, O(rows^2 * cols).
 */
#include "slidefrag/score.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* ---- IoU -------------------------------------------------------------- */

static int64_t overlap_1d(int64_t a0, int64_t a_len, int64_t b0, int64_t b_len)
{
    int64_t lo = a0 > b0 ? a0 : b0;
    int64_t a1 = a0 + a_len, b1 = b0 + b_len;
    int64_t hi = a1 < b1 ? a1 : b1;
    return hi > lo ? hi - lo : 0;
}

double sf_box_area(const sf_box *box)
{
    if (box->w <= 0 || box->h <= 0)
        return 0.0;
    return (double)box->w * (double)box->h;
}

double sf_box_intersection_area(const sf_box *a, const sf_box *b)
{
    if (sf_box_area(a) == 0.0 || sf_box_area(b) == 0.0)
        return 0.0;
    return (double)overlap_1d(a->x, a->w, b->x, b->w) * (double)overlap_1d(a->y, a->h, b->y, b->h);
}

double sf_box_iou(const sf_box *a, const sf_box *b)
{
    double inter = sf_box_intersection_area(a, b);
    double uni = sf_box_area(a) + sf_box_area(b) - inter;
    return uni > 0.0 ? inter / uni : 0.0;
}

size_t sf_boxes_mark_ignored(const sf_box *pred, size_t n_pred, const sf_box *ignore,
                             size_t n_ignore, bool *keep)
{
    size_t kept = 0;
    for (size_t i = 0; i < n_pred; i++) {
        double area = sf_box_area(&pred[i]);
        keep[i] = true;
        for (size_t k = 0; k < n_ignore && area > 0.0; k++) {
            if (sf_box_intersection_area(&pred[i], &ignore[k]) >= SF_IGNORE_COVER * area) {
                keep[i] = false;
                break;
            }
        }
        kept += keep[i];
    }
    return kept;
}

/* ---- Assignment ------------------------------------------------------- */

/*
 * Minimises the cost of an n x m matrix, n <= m, read through cost(i, j).
 * Arrays are 1-based with column 0 as the virtual start of every path;
 * owner[j] is the row (1-based, 0 = free) holding column j.
 */
typedef struct {
    const double *weight;
    size_t cols;     /* of `weight` */
    bool transposed; /* rows of the problem are columns of `weight` */
} matrix;

static double cost(const matrix *mx, size_t i, size_t j)
{
    /* Maximising weight is minimising its negation. */
    if (mx->transposed)
        return -mx->weight[(j - 1) * mx->cols + (i - 1)];
    return -mx->weight[(i - 1) * mx->cols + (j - 1)];
}

typedef struct {
    double *u, *v, *min_slack; /* row and column potentials, slack per column */
    size_t *owner, *prev;      /* prev: column before j on the shortest path */
    unsigned char *visited;
} workspace;

static void augment_row(const matrix *mx, size_t m, size_t row, workspace *w)
{
    size_t j0 = 0;
    w->owner[0] = row;
    for (size_t j = 0; j <= m; j++) {
        w->min_slack[j] = INFINITY;
        w->visited[j] = 0;
    }
    do {
        w->visited[j0] = 1;
        size_t i0 = w->owner[j0], j1 = 0;
        double delta = INFINITY;
        for (size_t j = 1; j <= m; j++) {
            if (w->visited[j])
                continue;
            double slack = cost(mx, i0, j) - w->u[i0] - w->v[j];
            if (slack < w->min_slack[j]) {
                w->min_slack[j] = slack;
                w->prev[j] = j0;
            }
            if (w->min_slack[j] < delta) {
                delta = w->min_slack[j];
                j1 = j;
            }
        }
        for (size_t j = 0; j <= m; j++) {
            if (w->visited[j]) {
                w->u[w->owner[j]] += delta;
                w->v[j] -= delta;
            } else {
                w->min_slack[j] -= delta;
            }
        }
        j0 = j1;
    } while (w->owner[j0] != 0);
    /* Flip the path: every column on it passes to the row before it. */
    do {
        size_t j1 = w->prev[j0];
        w->owner[j0] = w->owner[j1];
        j0 = j1;
    } while (j0 != 0);
}

sf_status sf_assign_max(const double *weight, size_t rows, size_t cols, ptrdiff_t *row_to_col,
                        double *total)
{
    if (total)
        *total = 0.0;
    if ((rows && cols && !weight) || (rows && !row_to_col) || (cols && rows > SIZE_MAX / cols))
        return SF_ERR_INVALID;
    for (size_t k = 0; k < rows * cols; k++)
        if (!isfinite(weight[k]))
            return SF_ERR_INVALID;
    for (size_t r = 0; r < rows; r++)
        row_to_col[r] = -1;
    if (rows == 0 || cols == 0)
        return SF_OK;

    matrix mx = {.weight = weight, .cols = cols, .transposed = rows > cols};
    size_t n = mx.transposed ? cols : rows, m = mx.transposed ? rows : cols;
    /* One block: doubles first, then size_t, then bytes, all aligned. */
    size_t n_doubles = (n + 1) + 2 * (m + 1), n_sizes = 2 * (m + 1);
    if (m >= SIZE_MAX / 64)
        return SF_ERR_NOMEM;
    char *block = malloc(n_doubles * sizeof(double) + n_sizes * sizeof(size_t) + (m + 1));
    if (!block)
        return SF_ERR_NOMEM;
    workspace w;
    w.u = (double *)block;
    w.v = w.u + (n + 1);
    w.min_slack = w.v + (m + 1);
    w.owner = (size_t *)(w.min_slack + (m + 1));
    w.prev = w.owner + (m + 1);
    w.visited = (unsigned char *)(w.prev + (m + 1));
    for (size_t i = 0; i <= n; i++)
        w.u[i] = 0.0;
    for (size_t j = 0; j <= m; j++) {
        w.v[j] = 0.0;
        w.owner[j] = 0;
        w.prev[j] = 0;
    }

    for (size_t i = 1; i <= n; i++)
        augment_row(&mx, m, i, &w);

    double sum = 0.0;
    for (size_t j = 1; j <= m; j++) {
        size_t i = w.owner[j];
        if (i == 0)
            continue;
        size_t r = mx.transposed ? j - 1 : i - 1, c = mx.transposed ? i - 1 : j - 1;
        row_to_col[r] = (ptrdiff_t)c;
        sum += weight[r * cols + c];
    }
    free(block);
    if (total)
        *total = sum;
    return SF_OK;
}

/* ---- Pairwise overlap ------------------------------------------------- */

/*
 * With c(x, y) the number of boxes covering a pixel, the shared area summed
 * over pairs is the integral of c(c-1)/2. Sweeping x, each slab between two
 * box edges has a fixed coverage along y; a segment tree over the distinct
 * y edges keeps sum(len * c) and sum(len * c^2) under range increments.
 * A node's sums include its own pending increment but not its ancestors':
 * the root is exact and nothing is ever pushed down.
 */
typedef struct {
    int64_t x, y0, y1;
    int delta;
} edge;

typedef struct {
    int64_t len, add;
    double s1, s2; /* sum(len * c), sum(len * c^2) over the node's range */
} node;

static int compare_edge(const void *pa, const void *pb)
{
    const edge *a = pa, *b = pb;
    return (a->x > b->x) - (a->x < b->x);
}

static int compare_int64(const void *pa, const void *pb)
{
    int64_t a = *(const int64_t *)pa, b = *(const int64_t *)pb;
    return (a > b) - (a < b);
}

static void node_pull(node *tree, size_t k, bool leaf)
{
    double s1 = 0.0, s2 = 0.0;
    if (!leaf) {
        s1 = tree[2 * k].s1 + tree[2 * k + 1].s1;
        s2 = tree[2 * k].s2 + tree[2 * k + 1].s2;
    }
    /* sum len (c + a)^2 = s2 + 2 a s1 + a^2 len */
    double a = (double)tree[k].add, len = (double)tree[k].len;
    tree[k].s2 = s2 + 2.0 * a * s1 + a * a * len;
    tree[k].s1 = s1 + a * len;
}

static void tree_build(node *tree, size_t k, size_t lo, size_t hi, const int64_t *ys)
{
    tree[k] = (node){.len = ys[hi] - ys[lo]};
    if (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        tree_build(tree, 2 * k, lo, mid, ys);
        tree_build(tree, 2 * k + 1, mid, hi, ys);
    }
}

/* Adds delta to the elementary segments [a, b) of the node over [lo, hi). */
static void tree_add(node *tree, size_t k, size_t lo, size_t hi, size_t a, size_t b, int delta)
{
    if (b <= lo || hi <= a)
        return;
    if (a <= lo && hi <= b) {
        tree[k].add += delta;
    } else {
        size_t mid = lo + (hi - lo) / 2;
        tree_add(tree, 2 * k, lo, mid, a, b, delta);
        tree_add(tree, 2 * k + 1, mid, hi, a, b, delta);
    }
    node_pull(tree, k, hi - lo == 1);
}

static size_t index_of(const int64_t *ys, size_t n, int64_t y)
{
    const int64_t *p = bsearch(&y, ys, n, sizeof *ys, compare_int64);
    return (size_t)(p - ys);
}

sf_status sf_boxes_pairwise_overlap(const sf_box *boxes, size_t count, double *overlap)
{
    *overlap = 0.0;
    size_t n = 0;
    for (size_t i = 0; i < count; i++)
        n += sf_box_area(&boxes[i]) > 0.0;
    if (n < 2)
        return SF_OK;
    if (n > SIZE_MAX / 16 / sizeof(node))
        return SF_ERR_NOMEM;
    size_t n_edges = 2 * n, n_ys = 2 * n;
    char *block = malloc(n_edges * sizeof(edge) + n_ys * sizeof(int64_t) + 4 * n_ys * sizeof(node));
    if (!block)
        return SF_ERR_NOMEM;
    node *tree = (node *)block;
    edge *edges = (edge *)(tree + 4 * n_ys);
    int64_t *ys = (int64_t *)(edges + n_edges);

    size_t e = 0;
    for (size_t i = 0; i < count; i++) {
        const sf_box *b = &boxes[i];
        if (sf_box_area(b) == 0.0)
            continue;
        edges[e++] = (edge){.x = b->x, .y0 = b->y, .y1 = b->y + b->h, .delta = +1};
        edges[e++] = (edge){.x = b->x + b->w, .y0 = b->y, .y1 = b->y + b->h, .delta = -1};
        ys[e - 2] = b->y;
        ys[e - 1] = b->y + b->h;
    }
    qsort(edges, n_edges, sizeof *edges, compare_edge);
    qsort(ys, n_ys, sizeof *ys, compare_int64);
    size_t m = 0;
    for (size_t i = 0; i < n_ys; i++)
        if (m == 0 || ys[i] != ys[m - 1])
            ys[m++] = ys[i];
    /* m >= 2: every box has h > 0. m - 1 elementary segments. */
    tree_build(tree, 1, 0, m - 1, ys);

    double sum = 0.0;
    for (size_t i = 0; i < n_edges;) {
        int64_t x = edges[i].x;
        for (; i < n_edges && edges[i].x == x; i++)
            tree_add(tree, 1, 0, m - 1, index_of(ys, m, edges[i].y0), index_of(ys, m, edges[i].y1),
                     edges[i].delta);
        if (i < n_edges)
            sum += (double)(edges[i].x - x) * (tree[1].s2 - tree[1].s1) / 2.0;
    }
    free(block);
    *overlap = sum;
    return SF_OK;
}

/* ---- Scores ----------------------------------------------------------- */

void sf_score_params_default(sf_score_params *params)
{
    params->iou_threshold = 0.5;
    params->lambda = 1.0;
}

static void derive(sf_score *s)
{
    s->mean_iou = s->n_truth ? s->iou_sum / (double)s->n_truth : 1.0;
    s->precision = s->n_pred ? (double)s->true_positives / (double)s->n_pred : 1.0;
    s->recall = s->n_truth ? (double)s->true_positives / (double)s->n_truth : 1.0;
    double denominator =
        2.0 * (double)s->true_positives + (double)s->false_positives + (double)s->false_negatives;
    s->f1 = denominator > 0.0 ? 2.0 * (double)s->true_positives / denominator : 1.0;
}

/* ---- Sparse matching ---------------------------------------------------- */

/*
 * Only boxes that share a pixel can be matched (IoU 0 is no match), and a
 * truth box and a prediction in different components of the overlap graph
 * never compete: the assignment of the whole matrix is the assignments of
 * the components side by side. Each component is solved by the same
 * Kuhn-Munkres on its own IoU matrix, so 3,000 boxes that overlap nothing
 * cost 3,000 trivial problems instead of one O(n^3) problem of 9 million
 * zeros (31 s before, milliseconds now). One large component costs what
 * the whole did.
 */

static size_t find_root(size_t *parent, size_t i)
{
    while (parent[i] != i) {
        parent[i] = parent[parent[i]];
        i = parent[i];
    }
    return i;
}

static void unite(size_t *parent, size_t a, size_t b)
{
    a = find_root(parent, a);
    b = find_root(parent, b);
    /* The smaller index roots, so a component's root is its first member. */
    if (a < b)
        parent[b] = a;
    else if (b < a)
        parent[a] = b;
}

/* A prediction's left edge, for the sweep that finds overlapping pairs. */
typedef struct {
    int64_t x;
    size_t index;
} left_edge;

static int compare_left_edges(const void *pa, const void *pb)
{
    const left_edge *a = pa, *b = pb;
    if (a->x != b->x)
        return (a->x > b->x) - (a->x < b->x);
    return (a->index > b->index) - (a->index < b->index);
}

/*
 * The (truth, prediction) pairs sharing a pixel: predictions sorted by
 * their left edge, each truth box scans those starting before its right
 * edge and after its left edge minus the widest prediction.
 */
typedef struct {
    size_t t, p;
} pair;

static sf_status overlapping_pairs(const sf_box *truth, size_t n_truth, const sf_box *pred,
                                   size_t n_pred, pair **out, size_t *n_out)
{
    *out = NULL;
    *n_out = 0;
    left_edge *order = malloc(n_pred * sizeof *order + 1);
    size_t capacity = 16, n = 0;
    pair *pairs = malloc(capacity * sizeof *pairs);
    if (!order || !pairs) {
        free(order);
        free(pairs);
        return SF_ERR_NOMEM;
    }
    int64_t widest = 0;
    for (size_t p = 0; p < n_pred; p++) {
        order[p] = (left_edge){pred[p].x, p};
        if (sf_box_area(&pred[p]) > 0.0 && pred[p].w > widest)
            widest = pred[p].w;
    }
    qsort(order, n_pred, sizeof *order, compare_left_edges);
    for (size_t t = 0; t < n_truth; t++) {
        const sf_box *a = &truth[t];
        if (sf_box_area(a) == 0.0)
            continue;
        /* The first prediction that could reach a: x > a.x - widest. */
        size_t lo = 0, hi = n_pred;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (order[mid].x <= a->x - widest)
                lo = mid + 1;
            else
                hi = mid;
        }
        for (size_t k = lo; k < n_pred && order[k].x < a->x + a->w; k++) {
            size_t p = order[k].index;
            if (sf_box_intersection_area(a, &pred[p]) <= 0.0)
                continue;
            if (n == capacity) {
                pair *grown = capacity < SIZE_MAX / 4 / sizeof *pairs
                                  ? realloc(pairs, 2 * capacity * sizeof *pairs)
                                  : NULL;
                if (!grown) {
                    free(pairs);
                    free(order);
                    return SF_ERR_NOMEM;
                }
                pairs = grown;
                capacity *= 2;
            }
            pairs[n++] = (pair){t, p};
        }
    }
    free(order);
    *out = pairs;
    *n_out = n;
    return SF_OK;
}

static int compare_pairs_by_truth(const void *pa, const void *pb)
{
    const pair *a = pa, *b = pb;
    if (a->t != b->t)
        return (a->t > b->t) - (a->t < b->t);
    return (a->p > b->p) - (a->p < b->p);
}

/*
 * match[t] receives the prediction matched to truth box t (or -1) and its
 * IoU, the IoU-maximising one-to-one assignment solved per component.
 */
static sf_status assign_sparse(const sf_box *truth, size_t n_truth, const sf_box *pred,
                               size_t n_pred, sf_match *match)
{
    for (size_t t = 0; t < n_truth; t++)
        match[t] = (sf_match){.pred = -1, .iou = 0.0};
    if (n_truth == 0 || n_pred == 0)
        return SF_OK;
    pair *pairs = NULL;
    size_t n_pairs = 0;
    sf_status status = overlapping_pairs(truth, n_truth, pred, n_pred, &pairs, &n_pairs);
    if (status != SF_OK)
        return status;
    /* Nodes: truth boxes 0..n_truth-1, then predictions. */
    size_t n_nodes = n_truth + n_pred;
    size_t *parent = malloc(n_nodes * sizeof *parent);
    size_t *local = malloc(n_nodes * sizeof *local); /* index within its component */
    size_t *rows = malloc(n_truth * sizeof *rows), *cols = malloc(n_pred * sizeof *cols);
    size_t *members = malloc(n_nodes * sizeof *members); /* grouped by component */
    size_t *start = malloc((n_nodes + 1) * sizeof *start);
    if (!parent || !local || !rows || !cols || !members || !start) {
        status = SF_ERR_NOMEM;
        goto done;
    }
    for (size_t i = 0; i < n_nodes; i++)
        parent[i] = i;
    for (size_t k = 0; k < n_pairs; k++)
        unite(parent, pairs[k].t, n_truth + pairs[k].p);
    /* Counting sort of the nodes by root, keeping index order inside. */
    for (size_t i = 0; i <= n_nodes; i++)
        start[i] = 0;
    for (size_t i = 0; i < n_nodes; i++)
        start[find_root(parent, i) + 1]++;
    for (size_t i = 0; i < n_nodes; i++)
        start[i + 1] += start[i];
    for (size_t i = 0; i < n_nodes; i++)
        members[start[find_root(parent, i)]++] = i;
    for (size_t i = n_nodes; i > 0; i--)
        start[i] = start[i - 1];
    start[0] = 0;

    qsort(pairs, n_pairs, sizeof *pairs, compare_pairs_by_truth);
    for (size_t root = 0; root < n_nodes && status == SF_OK; root++) {
        size_t n_rows = 0, n_cols = 0;
        for (size_t k = start[root]; k < start[root + 1]; k++) {
            size_t i = members[k];
            if (i < n_truth) {
                local[i] = n_rows;
                rows[n_rows++] = i;
            } else {
                local[i] = n_cols;
                cols[n_cols++] = i - n_truth;
            }
        }
        if (n_rows == 0 || n_cols == 0)
            continue; /* a box alone: nothing to match */
        double *iou = calloc(n_rows * n_cols + n_rows, sizeof *iou);
        if (!iou) {
            status = SF_ERR_NOMEM;
            break;
        }
        ptrdiff_t *row_to_col = (ptrdiff_t *)(iou + n_rows * n_cols);
        /* The component's pairs: its rows' pairs, found by binary search. */
        for (size_t r = 0; r < n_rows; r++) {
            size_t t = rows[r], lo = 0, hi = n_pairs;
            while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                if (pairs[mid].t < t)
                    lo = mid + 1;
                else
                    hi = mid;
            }
            for (size_t k = lo; k < n_pairs && pairs[k].t == t; k++)
                iou[r * n_cols + local[n_truth + pairs[k].p]] =
                    sf_box_iou(&truth[t], &pred[pairs[k].p]);
        }
        status = sf_assign_max(iou, n_rows, n_cols, row_to_col, NULL);
        for (size_t r = 0; status == SF_OK && r < n_rows; r++) {
            ptrdiff_t c = row_to_col[r];
            double value = c >= 0 ? iou[r * n_cols + (size_t)c] : 0.0;
            if (value > 0.0)
                match[rows[r]] = (sf_match){.pred = (ptrdiff_t)cols[c], .iou = value};
        }
        free(iou);
    }
done:
    free(pairs);
    free(parent);
    free(local);
    free(rows);
    free(cols);
    free(members);
    free(start);
    return status;
}

sf_status sf_score_boxes(const sf_box *truth, size_t n_truth, const sf_box *pred, size_t n_pred,
                         const sf_score_params *params, sf_score *score, sf_match *matches)
{
    sf_score_params defaults;
    if (!params) {
        sf_score_params_default(&defaults);
        params = &defaults;
    }
    memset(score, 0, sizeof *score);
    if ((n_truth && !truth) || (n_pred && !pred))
        return SF_ERR_INVALID;
    sf_match *match = malloc(n_truth * sizeof *match + 1);
    if (!match)
        return SF_ERR_NOMEM;
    sf_status status = assign_sparse(truth, n_truth, pred, n_pred, match);
    double overlap = 0.0;
    if (status == SF_OK)
        status = sf_boxes_pairwise_overlap(pred, n_pred, &overlap);
    if (status != SF_OK) {
        free(match);
        return status;
    }

    sf_score s = {.n_slides = 1, .n_truth = n_truth, .n_pred = n_pred, .overlap_area = overlap};
    for (size_t t = 0; t < n_truth; t++) {
        double value = match[t].iou;
        if (match[t].pred >= 0) {
            s.n_matched++;
            s.iou_sum += value;
            s.true_positives += value >= params->iou_threshold;
        }
        s.loss += 1.0 - value;
        if (matches)
            matches[t] = match[t];
    }
    free(match);
    s.loss += (double)(n_pred - s.n_matched);
    for (size_t p = 0; p < n_pred; p++)
        s.pred_area += sf_box_area(&pred[p]);
    s.penalty = s.pred_area > 0.0 ? s.overlap_area / s.pred_area : 0.0;
    s.objective = s.loss + params->lambda * s.penalty;
    s.false_positives = n_pred - s.true_positives;
    s.false_negatives = n_truth - s.true_positives;
    derive(&s);
    *score = s;
    return SF_OK;
}

void sf_score_add(sf_score *total, const sf_score *slide)
{
    total->n_slides += slide->n_slides;
    total->n_truth += slide->n_truth;
    total->n_pred += slide->n_pred;
    total->n_matched += slide->n_matched;
    total->true_positives += slide->true_positives;
    total->false_positives += slide->false_positives;
    total->false_negatives += slide->false_negatives;
    total->iou_sum += slide->iou_sum;
    total->overlap_area += slide->overlap_area;
    total->pred_area += slide->pred_area;
    total->loss += slide->loss;
    total->penalty += slide->penalty;
    total->objective += slide->objective;
    derive(total);
}
