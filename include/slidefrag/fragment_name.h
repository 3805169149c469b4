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

/*
 * The one rule for slide stems, which name OUTDIR/<stem>/, the fragments
 * "<stem>__x<X>_y<Y>_w<W>_h<H>.jpg" and map's "<stem>.<format>": not
 * empty, not starting with '.' (hidden, or "." and ".."), no '/' or '\\'
 * (a path on Linux or Windows), no control character, and at most
 * SF_STEM_MAX_BYTES bytes. A fragment name adds up to 92 bytes to its stem
 * (four 19-digit numbers and their separators) and a file name holds 255
 * bytes; 150 leaves room for a suffix that keeps stems apart. run checks it
 * before it writes anything, map before it maps an image.
 */
#define SF_STEM_MAX_BYTES 150
/* A slide's name in its outputs: its stem, or the stem and "-<8 hex
 * digits>" when several slides share it (sf_run_output_dirs). */
#define SF_NAME_MAX_BYTES (SF_STEM_MAX_BYTES + 9)
/* FALSE with SF_EXIT_USAGE "'<stem>' cannot name ...: <why>" when a slide's
 * `stem` breaks the rule. */
gboolean sf_stem_check(const char *stem, GError **error);
/* Whether a name (a stem, perhaps with its suffix: at most
 * SF_NAME_MAX_BYTES) can name a slide's outputs; map checks the names in
 * fragment names with it. */
gboolean sf_slide_stem_is_safe(const char *name);

G_END_DECLS
