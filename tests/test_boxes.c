/* Box sorting and merging to a fixed point. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "support.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BOX(x_, y_, w_, h_) ((sf_box){.x = (x_), .y = (y_), .w = (w_), .h = (h_)})

/* ---- naive reference --------------------------------------------------- */

static bool naive_meet(const sf_box *a, const sf_box *b, int64_t gap)
{
    if (gap < 0) /* positive-area overlap */
        return a->x < b->x + b->w && b->x < a->x + a->w && a->y < b->y + b->h && b->y < a->y + a->h;
    int64_t dx = MAX(0, MAX(b->x - (a->x + a->w), a->x - (b->x + b->w)));
    int64_t dy = MAX(0, MAX(b->y - (a->y + a->h), a->y - (b->y + b->h)));
    return dx <= gap && dy <= gap;
}

/* Merge any two meeting boxes, start over, until nothing meets. */
static size_t naive_merge(sf_box *b, size_t n, int64_t gap)
{
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (b[i].w > 0 && b[i].h > 0)
            b[m++] = b[i];
    n = m;
    bool changed = true;
    while (changed) {
        changed = false;
        for (size_t i = 0; i < n; i++)
            for (size_t j = i + 1; j < n; j++)
                if (naive_meet(&b[i], &b[j], gap)) {
                    int64_t x0 = MIN(b[i].x, b[j].x), y0 = MIN(b[i].y, b[j].y);
                    int64_t x1 = MAX(b[i].x + b[i].w, b[j].x + b[j].w);
                    int64_t y1 = MAX(b[i].y + b[i].h, b[j].y + b[j].h);
                    b[i] = BOX(x0, y0, x1 - x0, y1 - y0);
                    b[j--] = b[--n];
                    changed = true;
                }
    }
    /* insertion sort by (y, x, h, w), independent of sf_boxes_sort */
    for (size_t i = 1; i < n; i++) {
        sf_box key = b[i];
        size_t j = i;
        while (j > 0 &&
               (b[j - 1].y > key.y ||
                (b[j - 1].y == key.y &&
                 (b[j - 1].x > key.x ||
                  (b[j - 1].x == key.x &&
                   (b[j - 1].h > key.h || (b[j - 1].h == key.h && b[j - 1].w > key.w))))))) {
            b[j] = b[j - 1];
            j--;
        }
        b[j] = key;
    }
    return n;
}

/* Boxes compared with naive_merge, whose quadratic passes sanitizers slow
 * down a lot. */
static size_t naive_count(void)
{
    return g_getenv("SLIDEFRAG_SANITIZED") ? 1000 : 2000;
}

static sf_box *random_boxes(GRand *rng, size_t n, int64_t area, int max_size)
{
    sf_box *b = g_new(sf_box, n);
    for (size_t i = 0; i < n; i++)
        b[i] = BOX(g_rand_int_range(rng, 0, (int32_t)area), g_rand_int_range(rng, 0, (int32_t)area),
                   g_rand_int_range(rng, 1, max_size + 1), g_rand_int_range(rng, 1, max_size + 1));
    return b;
}

/* ---- hand cases --------------------------------------------------------- */

static void test_sort(void **state)
{
    (void)state;
    sf_box b[] = {BOX(5, 1, 1, 1), BOX(0, 2, 1, 1), BOX(3, 1, 2, 4),
                  BOX(3, 1, 9, 3), BOX(3, 1, 1, 3), BOX(-4, 1, 1, 1)};
    sf_boxes_sort(b, G_N_ELEMENTS(b));
    test_assert_box(&b[0], -4, 1, 1, 1);
    test_assert_box(&b[1], 3, 1, 1, 3);
    test_assert_box(&b[2], 3, 1, 9, 3);
    test_assert_box(&b[3], 3, 1, 2, 4);
    test_assert_box(&b[4], 5, 1, 1, 1);
    test_assert_box(&b[5], 0, 2, 1, 1);
    sf_boxes_sort(NULL, 0);
}

static void test_empty_and_single(void **state)
{
    (void)state;
    sf_box b = BOX(2, 3, 4, 5);
    assert_int_equal(sf_boxes_merge_intersecting(NULL, 0), 0);
    assert_int_equal(sf_boxes_merge_within_gap(NULL, 0, 10), 0);
    assert_int_equal(sf_boxes_merge_intersecting(&b, 0), 0);
    assert_int_equal(sf_boxes_merge_within_gap(&b, 1, 100), 1);
    test_assert_box(&b, 2, 3, 4, 5);
}

static void test_chain(void **state)
{
    (void)state;
    /* A meets B, B meets C, A and C are apart: one box. */
    sf_box b[] = {BOX(20, 0, 10, 10), BOX(0, 0, 10, 10), BOX(8, 5, 14, 10)};
    assert_int_equal(sf_boxes_merge_intersecting(b, 3), 1);
    test_assert_box(&b[0], 0, 0, 30, 15);
}

static void test_nested(void **state)
{
    (void)state;
    sf_box b[] = {BOX(2, 2, 3, 3), BOX(0, 0, 10, 10), BOX(4, 4, 1, 1), BOX(20, 0, 1, 1)};
    assert_int_equal(sf_boxes_merge_intersecting(b, 4), 2);
    test_assert_box(&b[0], 0, 0, 10, 10);
    test_assert_box(&b[1], 20, 0, 1, 1);
}

static void test_touching(void **state)
{
    (void)state;
    /* Edge to edge and corner to corner share no pixel: apart unless the
     * gap allows 0 pixels of space. */
    sf_box edge[] = {BOX(0, 0, 5, 5), BOX(5, 2, 5, 5)};
    sf_box corner[] = {BOX(0, 0, 5, 5), BOX(5, 5, 5, 5)};
    sf_box e2[2], c2[2];
    memcpy(e2, edge, sizeof edge);
    memcpy(c2, corner, sizeof corner);
    assert_int_equal(sf_boxes_merge_intersecting(edge, 2), 2);
    test_assert_box(&edge[0], 0, 0, 5, 5);
    test_assert_box(&edge[1], 5, 2, 5, 5);
    assert_int_equal(sf_boxes_merge_intersecting(corner, 2), 2);
    assert_int_equal(sf_boxes_merge_within_gap(e2, 2, 0), 1);
    test_assert_box(&e2[0], 0, 0, 10, 7);
    assert_int_equal(sf_boxes_merge_within_gap(c2, 2, 0), 1);
    test_assert_box(&c2[0], 0, 0, 10, 10);

    /* A negative gap is intersecting-only. */
    sf_box n2[] = {BOX(0, 0, 5, 5), BOX(5, 2, 5, 5)};
    assert_int_equal(sf_boxes_merge_within_gap(n2, 2, -7), 2);
}

static void test_gap_threshold(void **state)
{
    (void)state;
    /* 3 empty columns between them horizontally, 2 empty rows vertically:
     * both distances must be within the gap. */
    const sf_box pair[] = {BOX(0, 0, 4, 4), BOX(7, 6, 2, 2)};
    sf_box b[2];
    memcpy(b, pair, sizeof pair);
    assert_int_equal(sf_boxes_merge_within_gap(b, 2, 2), 2);
    memcpy(b, pair, sizeof pair);
    assert_int_equal(sf_boxes_merge_within_gap(b, 2, 3), 1);
    test_assert_box(&b[0], 0, 0, 9, 8);
    /* Vertically stacked, 4 empty rows. */
    const sf_box stack[] = {BOX(0, 10, 3, 3), BOX(1, 0, 3, 6)};
    memcpy(b, stack, sizeof stack);
    assert_int_equal(sf_boxes_merge_within_gap(b, 2, 3), 2);
    test_assert_box(&b[0], 1, 0, 3, 6);
    memcpy(b, stack, sizeof stack);
    assert_int_equal(sf_boxes_merge_within_gap(b, 2, 4), 1);
    test_assert_box(&b[0], 0, 0, 4, 13);
}

static void test_second_round(void **state)
{
    (void)state;
    /* A and B overlap; C meets neither but lies inside their bounding box
     * (0,0)-(7,7), so only a second round can take it in. */
    sf_box b[] = {BOX(5, 0, 2, 2), BOX(0, 0, 4, 4), BOX(3, 3, 4, 4), BOX(20, 20, 2, 2)};
    assert_int_equal(sf_boxes_merge_intersecting(b, 4), 2);
    test_assert_box(&b[0], 0, 0, 7, 7);
    test_assert_box(&b[1], 20, 20, 2, 2);

    /* A cascade over three rounds: {A, B} and {C, D, E} form first; their
     * boxes (0,0)-(10,10) and (8,0)-(14,3) then overlap; only the result
     * reaches G. F stays apart above everything. */
    sf_box c[] = {
        BOX(0, 0, 6, 6),   /* A */
        BOX(5, 5, 5, 5),   /* B: meets A */
        BOX(8, 0, 2, 2),   /* C: meets D only */
        BOX(11, 1, 3, 2),  /* E: meets D only */
        BOX(9, 1, 3, 1),   /* D */
        BOX(13, -3, 1, 2), /* F */
        BOX(12, 8, 4, 4),  /* G: meets only (0,0)-(14,10) */
    };
    size_t n = sf_boxes_merge_intersecting(c, G_N_ELEMENTS(c));
    assert_int_equal(n, 2);
    test_assert_box(&c[0], 13, -3, 1, 2);
    test_assert_box(&c[1], 0, 0, 16, 12);
}

static void test_huge_gap(void **state)
{
    (void)state;
    sf_box b[] = {BOX(1000, 5, 1, 1), BOX(-50, 900, 3, 3), BOX(0, 0, 1, 1)};
    assert_int_equal(sf_boxes_merge_within_gap(b, 3, INT64_MAX), 1);
    test_assert_box(&b[0], -50, 0, 1051, 903);
}

static void test_zero_size_dropped(void **state)
{
    (void)state;
    /* Boxes without pixels neither survive nor bridge other boxes. */
    sf_box b[] = {BOX(0, 0, 2, 2), BOX(2, 0, 0, 10), BOX(5, 5, -1, 3), BOX(3, 0, 2, 2),
                  BOX(1, 1, 5, 0)};
    assert_int_equal(sf_boxes_merge_within_gap(b, 5, 0), 2);
    test_assert_box(&b[0], 0, 0, 2, 2);
    test_assert_box(&b[1], 3, 0, 2, 2);
    sf_box only_empty[] = {BOX(0, 0, 0, 0), BOX(1, 1, 0, 3)};
    assert_int_equal(sf_boxes_merge_intersecting(only_empty, 2), 0);
}

/* ---- against the naive fixed point -------------------------------------- */

static void test_random_against_naive(void **state)
{
    (void)state;
    GRand *rng = g_rand_new_with_seed(1234);
    const int64_t gaps[] = {-1, 0, 3};
    /* area, largest box side, offset: from chains across everything to
     * mostly apart, in negative coordinates too */
    const int64_t configs[][3] = {
        {400, 12, 0}, {900, 12, 0}, {1500, 12, 0}, {2200, 30, -500}, {6000, 90, -7}};
    for (size_t c = 0; c < G_N_ELEMENTS(configs); c++)
        for (size_t g = 0; g < G_N_ELEMENTS(gaps); g++) {
            size_t n = naive_count();
            sf_box *boxes = random_boxes(rng, n, configs[c][0], (int)configs[c][1]);
            for (size_t i = 0; i < n; i++) {
                boxes[i].x += configs[c][2];
                boxes[i].y += configs[c][2];
            }
            sf_box *expect = g_memdup2(boxes, n * sizeof *boxes);
            size_t n_expect = naive_merge(expect, n, gaps[g]);
            size_t got = gaps[g] < 0 ? sf_boxes_merge_intersecting(boxes, n)
                                     : sf_boxes_merge_within_gap(boxes, n, gaps[g]);
            print_message("config %zu gap %" PRId64 ": %zu boxes -> %zu\n", c, gaps[g], n, got);
            assert_int_equal(got, n_expect);
            assert_memory_equal(boxes, expect, got * sizeof *boxes);
            g_free(expect);
            g_free(boxes);
        }
    g_rand_free(rng);
}

/* Boxes gathered around a few centres, like tissue pieces and their dust:
 * the result mixes large merged boxes with stragglers. */
static void test_clustered_against_naive(void **state)
{
    (void)state;
    GRand *rng = g_rand_new_with_seed(77);
    for (int trial = 0; trial < 6; trial++) {
        size_t n = naive_count();
        int64_t gap = trial % 3;
        sf_box *boxes = g_new(sf_box, n);
        int64_t cx[12], cy[12];
        for (int c = 0; c < 12; c++) {
            cx[c] = g_rand_int_range(rng, 0, 5000);
            cy[c] = g_rand_int_range(rng, 0, 5000);
        }
        for (size_t i = 0; i < n; i++) {
            int c = g_rand_int_range(rng, 0, 12);
            double spread = 60.0 + 40.0 * trial;
            boxes[i] = BOX(cx[c] + (int64_t)(g_rand_double_range(rng, -1, 1) * spread),
                           cy[c] + (int64_t)(g_rand_double_range(rng, -1, 1) * spread),
                           g_rand_int_range(rng, 1, 16), g_rand_int_range(rng, 1, 16));
        }
        sf_box *expect = g_memdup2(boxes, n * sizeof *boxes);
        size_t n_expect = naive_merge(expect, n, gap);
        size_t got = sf_boxes_merge_within_gap(boxes, n, gap);
        print_message("clustered trial %d gap %" PRId64 ": %zu boxes -> %zu\n", trial, gap, n, got);
        assert_int_equal(got, n_expect);
        assert_memory_equal(boxes, expect, got * sizeof *boxes);
        g_free(expect);
        g_free(boxes);
    }
    g_rand_free(rng);
}

/* Checks a merge result of `in` on a coarse grid, independently of the
 * sweep: no two results meet and every input lies inside one result. */
static void check_fixed_point(const sf_box *in, size_t n_in, const sf_box *out, size_t n_out,
                              int64_t gap, int64_t area)
{
    const int64_t cell = 256;
    int64_t cells = area / cell + 2;
    GPtrArray **grid = g_new0(GPtrArray *, (size_t)(cells * cells));
    for (size_t i = 0; i < n_out; i++) {
        int64_t gx0 = MAX(0, (out[i].x - gap - 1) / cell),
                gy0 = MAX(0, (out[i].y - gap - 1) / cell);
        int64_t gx1 = MIN(cells - 1, (out[i].x + out[i].w + gap) / cell);
        int64_t gy1 = MIN(cells - 1, (out[i].y + out[i].h + gap) / cell);
        for (int64_t gy = gy0; gy <= gy1; gy++)
            for (int64_t gx = gx0; gx <= gx1; gx++) {
                GPtrArray **slot = &grid[gy * cells + gx];
                if (!*slot)
                    *slot = g_ptr_array_new();
                for (guint k = 0; k < (*slot)->len; k++)
                    if (naive_meet(g_ptr_array_index(*slot, k), &out[i], gap))
                        fail_msg("results %zu and another still meet", i);
                g_ptr_array_add(*slot, (gpointer)&out[i]);
            }
    }
    for (size_t i = 0; i < n_in; i++) {
        GPtrArray *slot = grid[(in[i].y / cell) * cells + in[i].x / cell];
        bool inside = false;
        for (guint k = 0; slot && k < slot->len && !inside; k++) {
            const sf_box *o = g_ptr_array_index(slot, k);
            inside = in[i].x >= o->x && in[i].y >= o->y && in[i].x + in[i].w <= o->x + o->w &&
                     in[i].y + in[i].h <= o->y + o->h;
        }
        if (!inside)
            fail_msg("input box %zu is in no result", i);
    }
    for (int64_t c = 0; c < cells * cells; c++)
        if (grid[c])
            g_ptr_array_free(grid[c], TRUE);
    g_free(grid);
}

/* 100,000 boxes up to 40x40: sparse enough that most stay apart, or dense
 * enough that merged boxes chain across the whole area into one. */
static void merge_hundred_thousand(int64_t area, size_t min_result, size_t max_result)
{
    GRand *rng = g_rand_new_with_seed(42);
    const size_t n = 100000;
    const int64_t gap = 3;
    sf_box *in = random_boxes(rng, n, area, 40);
    sf_box *boxes = g_memdup2(in, n * sizeof *in);
    gint64 t0 = g_get_monotonic_time();
    clock_t c0 = clock();
    size_t m = sf_boxes_merge_within_gap(boxes, n, gap);
    double cpu = (double)(clock() - c0) / CLOCKS_PER_SEC;
    double wall = (double)(g_get_monotonic_time() - t0) / 1e6;
    print_message("%zu boxes in %" PRId64 "^2 merged into %zu: %.3f s CPU, %.3f s wall\n", n, area,
                  m, cpu, wall);
    assert_in_range(m, min_result, max_result);
    /* CPU time, as tests run in parallel; sanitizers cost several times. */
    assert_true(cpu < (g_getenv("SLIDEFRAG_SANITIZED") ? 10.0 : 1.0));
    for (size_t i = 1; i < m; i++) {
        sf_box a = boxes[i - 1], b = boxes[i];
        assert_true(a.y < b.y || (a.y == b.y && a.x <= b.x));
    }
    check_fixed_point(in, n, boxes, m, gap, area);

    /* Merging again changes nothing. */
    sf_box *again = g_memdup2(boxes, m * sizeof *boxes);
    assert_int_equal(sf_boxes_merge_within_gap(again, m, gap), m);
    assert_memory_equal(again, boxes, m * sizeof *boxes);
    g_free(again);
    g_free(boxes);
    g_free(in);
    g_rand_free(rng);
}

static void test_hundred_thousand_sparse(void **state)
{
    (void)state;
    merge_hundred_thousand(40000, 50000, 99999);
}

static void test_hundred_thousand_dense(void **state)
{
    (void)state;
    merge_hundred_thousand(15000, 1, 10);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sort),
        cmocka_unit_test(test_empty_and_single),
        cmocka_unit_test(test_chain),
        cmocka_unit_test(test_nested),
        cmocka_unit_test(test_touching),
        cmocka_unit_test(test_gap_threshold),
        cmocka_unit_test(test_second_round),
        cmocka_unit_test(test_huge_gap),
        cmocka_unit_test(test_zero_size_dropped),
        cmocka_unit_test(test_random_against_naive),
        cmocka_unit_test(test_clustered_against_naive),
        cmocka_unit_test(test_hundred_thousand_sparse),
        cmocka_unit_test(test_hundred_thousand_dense),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
