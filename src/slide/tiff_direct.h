/*
 * Reading the levels of JPEG-tiled TIFF slides (Aperio, generic tiled TIFF)
 * with libtiff directly, tile by tile, instead of through
 * openslide_read_region(). OpenSlide 3.4.1 decodes these tiles with
 * libtiff's TIFFRGBAImage, which calls the same TIFFReadEncodedTile() used
 * here, so the pixels are the same; what is skipped is OpenSlide's cairo
 * compositing of every tile, most of the cost of a read. Private to
 * src/slide: an accelerator of the OpenSlide backend (backend_openslide.c).
 */
#pragma once

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

/*
 * Level pixels [lx, lx + w) x [ly, ly + h) into `dest` (w * h pixels, rows of
 * w): opaque 0xffRRGGBB within the level, transparent 0 outside it, the
 * layout openslide_read_region() gives. A partial tile at the level's right
 * or bottom edge gives its decoded pixels up to the edge, as OpenSlide does
 * for these slides. (For some other generic TIFFs, which this reader turns
 * down, OpenSlide 3.4.1 returns varying transparent junk in places.) Safe to
 * call from several threads at once. Errors: SF_EXIT_SLIDE_READ naming the
 * file and libtiff's message.
 */
gboolean sf_tiff_read_level(sf_tiff_direct *td, int level, int64_t lx, int64_t ly, int64_t w,
                            int64_t h, uint32_t *dest, GError **error);

/*
 * sf_tiff_read_level() for reads in horizontal strips: with `more_below`
 * (a strip starting at ly + h follows), the tiles that the rectangle's
 * bottom edge cuts stay decoded for that strip instead of being decoded
 * twice.
 */
gboolean sf_tiff_read_strip(sf_tiff_direct *td, int level, int64_t lx, int64_t ly, int64_t w,
                            int64_t h, gboolean more_below, uint32_t *dest, GError **error);

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
