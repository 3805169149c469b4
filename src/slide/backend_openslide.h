/*
 * The OpenSlide backend (backend_openslide.c): every format OpenSlide 3.4.1
 * opens, with the direct JPEG-TIFF tile reader (tiff_direct.h) as its
 * accelerator for Aperio and generic tiled TIFF. The only file that
 * includes openslide.h. The calls below are test hooks, private to
 * src/slide and its tests.
 */
#pragma once

#include "slide/backend.h"
#include "slide/tiff_direct.h"

G_BEGIN_DECLS

extern const sf_slide_backend sf_backend_openslide;

/* The OpenSlide handle (an openslide_t *) of a slide this backend opened,
 * else NULL. Typed void so that callers need not include openslide.h. */
void *sf_slide_openslide_handle(const sf_slide *slide);

/* The direct tile reader when the slide has one and direct reads are on,
 * else NULL: reads go through OpenSlide. */
sf_tiff_direct *sf_slide_direct(const sf_slide *slide);
/* Why the slide has no direct reader; NULL when it has one. */
const char *sf_slide_direct_unavailable(const sf_slide *slide);
/* On by default; off makes every read go through OpenSlide (for tests that
 * compare the two). */
void sf_slide_set_direct_reads(sf_slide *slide, gboolean on);

G_END_DECLS
