/*
 * Fragment file names: "<stem>__x<X>_y<Y>_w<W>_h<H>.jpg" carries the
 * fragment's level-0 box, so an annotation on it maps back to the slide
 * without a manifest.
 */
#pragma once

#include <glib.h>
#include <stdint.h>

G_BEGIN_DECLS

/*
 * Parses a fragment file name "<stem>__x<X>_y<Y>_w<W>_h<H>.<ext>" (any
 * directory part is ignored). The stem may itself contain "__"; the last
 * occurrence is used. Returns FALSE when the name does not have that form or
 * a number is out of range (w, h must be > 0; x, y >= 0).
 */
gboolean sf_fragment_name_parse(const char *name, char **stem, int64_t *x, int64_t *y, int64_t *w,
                                int64_t *h);
/* The fragment file name for a slide stem and level-0 box (".jpg"). */
char *sf_fragment_name_format(const char *stem, int64_t x, int64_t y, int64_t w, int64_t h);
/* Whether `name` is exactly the name sf_fragment_name_format gives for a
 * slide of this stem and some box (no directory part, no other spelling of
 * the numbers, ".jpg"). */
gboolean sf_fragment_name_is_of(const char *name, const char *stem);

G_END_DECLS
