/*
 * Micro-benchmark of the image core on a synthetic tissue-like overview:
 * pale noisy glass with pink elliptical tissue pieces, holes and dust.
 * Prints megapixels per second (best of 3) for each stage of the detector,
 * and the time to merge 100,000 random boxes.
 *
 * Usage: bench_core [SIDE]   (default 8192, a SIDE x SIDE image)
 */
#define _POSIX_C_SOURCE 200809L

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "slidefrag/core.h"

#define RUNS 3

static uint64_t rng_state = 0x9E3779B97F4A7C15u;

static uint64_t next_random(void)
{
    /* xorshift64*: fast and good enough for synthetic pixels */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545F4914F6CDD1Du;
}

static int random_range(int lo, int hi)
{
    return lo + (int)(next_random() % (uint64_t)(hi - lo));
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void *xmalloc(size_t size)
{
    void *p = malloc(size);
    if (!p) {
        fprintf(stderr, "bench_core: out of memory allocating %zu bytes\n", size);
        exit(1);
    }
    return p;
}

static void check(sf_status status, const char *what)
{
    if (status != SF_OK) {
        fprintf(stderr, "bench_core: %s failed with status %d\n", what, (int)status);
        exit(1);
    }
}

/* Fills an ellipse with a noisy colour. */
static void paint_ellipse(sf_image *rgb, int cx, int cy, int rx, int ry, const uint8_t colour[3],
                          int noise)
{
    for (int y = cy - ry; y <= cy + ry; y++) {
        if (y < 0 || y >= rgb->height)
            continue;
        double t = (double)(y - cy) / ry;
        int half = (int)(rx * (1.0 - t * t > 0 ? sqrt(1.0 - t * t) : 0.0));
        int x0 = cx - half < 0 ? 0 : cx - half;
        int x1 = cx + half >= rgb->width ? rgb->width - 1 : cx + half;
        uint8_t *row = rgb->data + (size_t)y * rgb->stride;
        for (int x = x0; x <= x1; x++) {
            uint64_t r = next_random();
            for (int c = 0; c < 3; c++) {
                int v = colour[c] + (int)((r >> (8 * c)) % (uint64_t)(2 * noise + 1)) - noise;
                row[3 * x + c] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
            }
        }
    }
}

static sf_image synthetic_slide(int side)
{
    sf_image rgb = {.width = side, .height = side, .channels = 3, .stride = (size_t)side * 3};
    rgb.data = xmalloc(rgb.stride * (size_t)side);
    for (size_t i = 0; i < rgb.stride * (size_t)side; i += 8) {
        uint64_t r = next_random();
        for (size_t k = 0; k < 8 && i + k < rgb.stride * (size_t)side; k++)
            rgb.data[i + k] = (uint8_t)(228 + ((r >> (8 * k)) & 15)); /* glass */
    }
    const uint8_t tissue[3] = {170, 110, 160}, glass[3] = {236, 236, 236}, dust[3] = {90, 80, 90};
    int pieces = 24;
    for (int i = 0; i < pieces; i++) {
        int rx = random_range(side / 40, side / 9), ry = random_range(side / 40, side / 9);
        int cx = random_range(0, side), cy = random_range(0, side);
        paint_ellipse(&rgb, cx, cy, rx, ry, tissue, 25);
        /* a few holes (vessels, tears) inside the tissue */
        for (int h = 0; h < 3; h++)
            paint_ellipse(&rgb, cx + random_range(-rx / 2, rx / 2 + 1),
                          cy + random_range(-ry / 2, ry / 2 + 1), rx / 10 + 1, ry / 10 + 1, glass,
                          4);
    }
    for (int i = 0; i < side * 4; i++) /* dust specks */
        paint_ellipse(&rgb, random_range(0, side), random_range(0, side), random_range(0, 4),
                      random_range(1, 4), dust, 10);
    return rgb;
}

static sf_image new_grey(int side)
{
    sf_image img = {.width = side, .height = side, .channels = 1, .stride = (size_t)side};
    img.data = xmalloc((size_t)side * (size_t)side);
    return img;
}

/* The images every stage reads or writes. */
typedef struct bench {
    sf_image rgb, red, mask, opened, scratch;
    sf_kernel_shape shape;
    int kernel;
    uint8_t threshold;
    size_t n_components;
    sf_box *boxes, *work;
    size_t n_boxes, n_merged;
    int64_t gap;
} bench;

static void run_extract(bench *b)
{
    check(sf_extract_channel(&b->rgb, SF_CHANNEL_RED, &b->red), "sf_extract_channel");
}

static void run_threshold(bench *b)
{
    uint64_t hist[256];
    sf_histogram(&b->red, hist);
    b->threshold = sf_otsu_threshold(hist);
    check(sf_threshold(&b->red, b->threshold, SF_POLARITY_DARK, &b->mask), "sf_threshold");
}

static void run_open(bench *b)
{
    check(sf_morphology(&b->mask, &b->opened, SF_MORPH_OPEN, b->shape, b->kernel, b->kernel, 1),
          "sf_morphology");
}

static void copy_opened(bench *b)
{
    memcpy(b->scratch.data, b->opened.data, (size_t)b->opened.height * b->opened.stride);
}

static void run_fill_holes(bench *b)
{
    check(sf_fill_holes(&b->scratch), "sf_fill_holes");
}

static void label(bench *b, const sf_image *mask)
{
    sf_component *components = NULL;
    check(sf_connected_components(mask, 8, NULL, &components, &b->n_components),
          "sf_connected_components");
    free(components);
}

static void run_components_raw(bench *b)
{
    label(b, &b->mask);
}

static void run_components_opened(bench *b)
{
    label(b, &b->opened);
}

static void copy_boxes(bench *b)
{
    memcpy(b->work, b->boxes, b->n_boxes * sizeof *b->work);
}

static void run_merge(bench *b)
{
    b->n_merged = sf_boxes_merge_within_gap(b->work, b->n_boxes, b->gap);
    if (b->n_merged == (size_t)-1)
        check(SF_ERR_NOMEM, "sf_boxes_merge_within_gap");
}

/* Best wall time of RUNS calls of run; prepare (untimed) resets inputs. */
static double best_of(bench *b, void (*prepare)(bench *), void (*run)(bench *))
{
    double best = 1e30;
    for (int r = 0; r < RUNS; r++) {
        if (prepare)
            prepare(b);
        double t = now();
        run(b);
        t = now() - t;
        best = t < best ? t : best;
    }
    return best;
}

static void report(const char *name, double best, double megapixels)
{
    printf("%-36s %9.1f ms %10.1f MP/s\n", name, best * 1e3, megapixels / best);
}

int main(int argc, char **argv)
{
    int side = argc > 1 ? atoi(argv[1]) : 8192;
    if (side < 64) {
        fprintf(stderr, "Usage: bench_core [SIDE >= 64]\n");
        return 2;
    }
    double mp = (double)side * side / 1e6;
    printf("bench_core: %dx%d synthetic overview (%.1f MP), best of %d\n", side, side, mp, RUNS);

    bench b = {
        .rgb = synthetic_slide(side),
        .red = new_grey(side),
        .mask = new_grey(side),
        .opened = new_grey(side),
        .scratch = new_grey(side),
    };

    report("extract red", best_of(&b, NULL, run_extract), mp);
    report("histogram + Otsu + threshold", best_of(&b, NULL, run_threshold), mp);
    printf("  (Otsu threshold %d)\n", b.threshold);

    const struct {
        const char *name;
        sf_kernel_shape shape;
        int size;
    } morph[] = {
        {"open ellipse 15x15", SF_KERNEL_ELLIPSE, 15},
        {"open rect 31x31", SF_KERNEL_RECT, 31},
        {"open rect 3x3", SF_KERNEL_RECT, 3}, /* last: its result feeds the rest */
    };
    for (size_t k = 0; k < sizeof morph / sizeof morph[0]; k++) {
        b.shape = morph[k].shape;
        b.kernel = morph[k].size;
        report(morph[k].name, best_of(&b, NULL, run_open), mp);
    }

    report("fill holes (opened 3x3)", best_of(&b, copy_opened, run_fill_holes), mp);
    report("components, 8 (thresholded)", best_of(&b, NULL, run_components_raw), mp);
    printf("  (%zu components)\n", b.n_components);
    report("components, 8 (opened 3x3)", best_of(&b, NULL, run_components_opened), mp);
    printf("  (%zu components)\n", b.n_components);

    b.n_boxes = 100000;
    b.gap = 2;
    b.boxes = xmalloc(b.n_boxes * sizeof *b.boxes);
    b.work = xmalloc(b.n_boxes * sizeof *b.work);
    for (size_t i = 0; i < b.n_boxes; i++)
        b.boxes[i] = (sf_box){random_range(0, side), random_range(0, side), random_range(1, 17),
                              random_range(1, 17)};
    double t = best_of(&b, copy_boxes, run_merge);
    printf("%-36s %9.1f ms   (%zu boxes up to 16x16 -> %zu, gap %d)\n", "merge 100000 boxes",
           t * 1e3, b.n_boxes, b.n_merged, (int)b.gap);

    free(b.work);
    free(b.boxes);
    free(b.scratch.data);
    free(b.opened.data);
    free(b.mask.data);
    free(b.red.data);
    free(b.rgb.data);
    return 0;
}
