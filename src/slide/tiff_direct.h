/*
 * Reading the levels of JPEG-tiled TIFF slides (Aperio, generic tiled TIFF)
 * directly: each tile's bytes are read from the file and decoded with
 * libjpeg-turbo, instead of through openslide_read_region(). OpenSlide
 * 3.4.1 reads these tiles with libtiff's TIFFRGBAImage, whose JPEG codec is
 * the same libjpeg-turbo with the same settings (see tiff_direct.c), so the
 * pixels are the same; what is skipped is libtiff's codec layer and
 * OpenSlide's cairo compositing of every tile, most of the cost of a read.
 * Private to src/slide: an accelerator of the OpenSlide backend
 * (backend_openslide.c).
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "slide/backend.h"
#include "slidefrag/slide.h"

G_BEGIN_DECLS

typedef struct sf_tiff_direct sf_tiff_direct;

/*
 * Probes `path` with libtiff: every one of the n_levels levels (as OpenSlide
 * reports them) must be exactly one tiled directory of the level's size
 * whose tiles this reader decodes exactly like OpenSlide (JPEG, 8-bit RGB or
 * YCbCr, contiguous, top-left orientation, no missing tiles). NULL when any
 * is not, with the reason in *why when `why` is non-NULL (g_free it).
 */
sf_tiff_direct *sf_tiff_direct_open(const char *path, const sf_level *levels, int n_levels,
                                    char **why);
void sf_tiff_direct_free(sf_tiff_direct *td);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(sf_tiff_direct, sf_tiff_direct_free)

/* The largest reduction sf_tiff_read_rgb() takes, as a shift: 3 (1/8). */
#define SF_TIFF_SHIFT_MAX 3

/*
 * Opaque RGB pixels [lx, lx + w) x [ly, ly + h) of `level` reduced by
 * 2^shift (0 to SF_TIFF_SHIFT_MAX) into rows of `stride` bytes at `dest`.
 * Shift 0 gives the level's own pixels, those OpenSlide gives. A shift
 * decodes every tile with libjpeg's DCT scaling: a reduced pixel is close
 * to the mean of the 2^shift x 2^shift level pixels under it (not equal:
 * the scaled inverse DCT drops frequencies instead of averaging, and
 * clipping happens after). The reduced level is ceil(width / 2^shift) x
 * ceil(height / 2^shift); its last column and row take what the partial
 * edge tiles hold past the level's edge. The rectangle must lie within it.
 *
 * With `more_below` (a read of the rows from ly + h follows), the tiles
 * that the rectangle's bottom edge cuts stay decoded for that read instead
 * of being decoded twice; otherwise tiles decode straight into `dest`, no
 * copy between. Safe to call from several threads at once. Errors:
 * SF_EXIT_SLIDE_READ naming the file, the tile and libjpeg's message.
 */
gboolean sf_tiff_read_rgb(sf_tiff_direct *td, int level, int shift, int64_t lx, int64_t ly,
                          int64_t w, int64_t h, gboolean more_below, uint8_t *dest, size_t stride,
                          GError **error);

/*
 * Level pixels [lx, lx + w) x [ly, ly + h) into `dest` (w * h pixels, rows of
 * w): opaque 0xffRRGGBB within the level, transparent 0 outside it, the
 * layout openslide_read_region() gives. A partial tile at the level's right
 * or bottom edge gives its decoded pixels up to the edge, as OpenSlide does
 * for these slides. (For some other generic TIFFs, which this reader turns
 * down, OpenSlide 3.4.1 returns varying transparent junk in places.) Safe to
 * call from several threads at once. Errors as sf_tiff_read_rgb().
 */
gboolean sf_tiff_read_level(sf_tiff_direct *td, int level, int64_t lx, int64_t ly, int64_t w,
                            int64_t h, uint32_t *dest, GError **error);

/* sf_tiff_read_level() for reads in horizontal strips, `more_below` as in
 * sf_tiff_read_rgb(). */
gboolean sf_tiff_read_strip(sf_tiff_direct *td, int level, int64_t lx, int64_t ly, int64_t w,
                            int64_t h, gboolean more_below, uint32_t *dest, GError **error);

/* How many tiles this reader has decoded, in all and into a buffer of their
 * own (to be kept or cut) instead of straight into the caller's rows: for
 * tests, which check that reads in whole tile rows copy nothing. */
void sf_tiff_direct_counts(sf_tiff_direct *td, uint64_t *decoded, uint64_t *buffered);

/*
 * For each level (as OpenSlide reports them) that is exactly one TIFF
 * directory of its size, tiled or stripped (a tiled one wins a tie with
 * stripped ones): the sum of its tile or strip byte counts and how many
 * are missing. Other levels, and every level when `path` is not a TIFF
 * libtiff reads, are left as they are.
 */
void sf_tiff_level_storage(const char *path, const sf_level *levels, int n_levels,
                           sf_level_storage *storage);

G_END_DECLS
