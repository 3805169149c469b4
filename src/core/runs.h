/*
 * Runs of equal pixels in a row, and the union-find over them that both
 * connected components and hole filling label with. Private to src/core.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

typedef struct run {
    int32_t start, end; /* [start, end) columns */
    uint32_t parent;    /* union-find link, then what the caller makes of it */
} run;

/* Word-at-a-time scans: tissue masks are mostly long uniform stretches. */
static inline bool word_is_zero(const uint8_t *p)
{
    uint64_t w;
    memcpy(&w, p, sizeof w);
    return w == 0;
}

static inline bool word_has_zero(const uint8_t *p)
{
    uint64_t w;
    memcpy(&w, p, sizeof w);
    return ((w - 0x0101010101010101u) & ~w & 0x8080808080808080u) != 0;
}

/* The first non-zero column at or after x, or width. */
static inline int skip_zero(const uint8_t *row, int x, int width)
{
    while (x + 8 <= width && word_is_zero(row + x))
        x += 8;
    while (x < width && row[x] == 0)
        x++;
    return x;
}

/* The first zero column at or after x, or width. */
static inline int skip_nonzero(const uint8_t *row, int x, int width)
{
    while (x + 8 <= width && !word_has_zero(row + x))
        x += 8;
    while (x < width && row[x] != 0)
        x++;
    return x;
}

static inline uint32_t find_root(run *runs, uint32_t i)
{
    while (runs[i].parent != i) {
        runs[i].parent = runs[runs[i].parent].parent; /* path halving */
        i = runs[i].parent;
    }
    return i;
}

/* The smaller index wins: a root is its set's first run in raster order. */
static inline void join(run *runs, uint32_t a, uint32_t b)
{
    a = find_root(runs, a);
    b = find_root(runs, b);
    if (a < b)
        runs[b].parent = a;
    else if (b < a)
        runs[a].parent = b;
}
