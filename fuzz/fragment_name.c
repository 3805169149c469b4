/*
 * Names from outside: fragment names (sf_fragment_name_parse and back),
 * image keys, slide stems for output folders, and the stem check that
 * keeps annotation files inside their folder. The input is one name.
 */
#include <glib.h>

#include "fuzz.h"
#include "run/run_internal.h"
#include "slidefrag/annotations.h"
#include "slidefrag/manifest.h"

/* A name that, joined to a folder, names something inside that folder. */
static int stays_inside(const char *name)
{
    return *name && strcmp(name, ".") != 0 && strcmp(name, "..") != 0 && !strchr(name, '/');
}

int sf_fuzz_fragment_name(const uint8_t *data, size_t size)
{
    char *name = g_strndup((const char *)data, size);
    char *stem = NULL;
    int64_t x, y, w, h;
    if (sf_fragment_name_parse(name, &stem, &x, &y, &w, &h)) {
        SF_FUZZ_CHECK(stem && x >= 0 && y >= 0 && w > 0 && h > 0);
        SF_FUZZ_CHECK(!strchr(stem, '/'));
        char *again = sf_fragment_name_format(stem, x, y, w, h);
        char *stem2 = NULL;
        int64_t x2, y2, w2, h2;
        SF_FUZZ_CHECK(sf_fragment_name_parse(again, &stem2, &x2, &y2, &w2, &h2));
        SF_FUZZ_CHECK(!strcmp(stem, stem2) && x == x2 && y == y2 && w == w2 && h == h2);
        g_free(stem2);
        g_free(again);
    }
    g_free(stem);

    char *key = sf_image_key(name);
    SF_FUZZ_CHECK(key != NULL);
    g_free(key);
    if (sf_slide_stem_is_safe(name))
        SF_FUZZ_CHECK(stays_inside(name) && !strchr(name, '\\') && name[0] != '.');

    /* The output folder of a slide with this file name (a path ending in
     * "/", "." or ".." names a folder, which no slide is). */
    char *base = g_path_get_basename(name);
    if (stays_inside(base) && name[strlen(name) - 1] != '/') {
        char *slide_stem = sf_slide_stem(name);
        SF_FUZZ_CHECK(stays_inside(slide_stem));
        g_free(slide_stem);
    }
    g_free(base);
    g_free(name);
    return 0;
}
