/*
 * Fragment file names: "<stem>__x<X>_y<Y>_w<W>_h<H>.jpg", the level-0 box
 * of the fragment in its name, so that an annotation on it maps back to the
 * slide without a manifest.
 */
#include <inttypes.h>
#include <string.h>

#include "slidefrag/error.h"
#include "slidefrag/fragment_name.h"

/* Parses `prefix` followed by decimal digits at *p; advances *p. */
static gboolean parse_field(const char **p, char prefix, int64_t *out)
{
    if (**p != prefix)
        return FALSE;
    const char *s = *p + 1;
    if (!g_ascii_isdigit(*s))
        return FALSE;
    int64_t value = 0;
    for (; g_ascii_isdigit(*s); s++) {
        int digit = *s - '0';
        if (value > (G_MAXINT64 - digit) / 10)
            return FALSE;
        value = value * 10 + digit;
    }
    *out = value;
    *p = s;
    return TRUE;
}

/* "x<X>_y<Y>_w<W>_h<H>.<ext>" exactly. */
static gboolean parse_box(const char *s, int64_t *x, int64_t *y, int64_t *w, int64_t *h)
{
    if (!parse_field(&s, 'x', x) || *s++ != '_' || !parse_field(&s, 'y', y) || *s++ != '_' ||
        !parse_field(&s, 'w', w) || *s++ != '_' || !parse_field(&s, 'h', h))
        return FALSE;
    if (*s != '.' || s[1] == '\0' || strchr(s + 1, '.'))
        return FALSE;
    return *w > 0 && *h > 0;
}

gboolean sf_fragment_name_parse(const char *name, char **stem, int64_t *x, int64_t *y, int64_t *w,
                                int64_t *h)
{
    g_return_val_if_fail(name != NULL, FALSE);
    const char *slash = strrchr(name, '/');
    const char *base = slash ? slash + 1 : name;
    size_t length = strlen(base);
    int64_t bx, by, bw, bh;
    /* The stem may contain "__" itself: the separator is the last "__" that
     * is followed by a box, and something must precede it. */
    for (size_t i = length < 2 ? 0 : length - 2; i > 0; i--) {
        if (base[i] != '_' || base[i + 1] != '_' || !parse_box(base + i + 2, &bx, &by, &bw, &bh))
            continue;
        if (stem)
            *stem = g_strndup(base, i);
        if (x)
            *x = bx;
        if (y)
            *y = by;
        if (w)
            *w = bw;
        if (h)
            *h = bh;
        return TRUE;
    }
    return FALSE;
}

char *sf_fragment_name_format(const char *stem, int64_t x, int64_t y, int64_t w, int64_t h)
{
    return g_strdup_printf("%s__x%" PRId64 "_y%" PRId64 "_w%" PRId64 "_h%" PRId64 ".jpg", stem, x,
                           y, w, h);
}

gboolean sf_fragment_name_is_of(const char *name, const char *stem)
{
    g_autofree char *name_stem = NULL;
    int64_t x, y, w, h;
    if (!sf_fragment_name_parse(name, &name_stem, &x, &y, &w, &h) || strcmp(name_stem, stem))
        return FALSE;
    /* Exactly the name a run writes: no directory part, no other spelling
     * of the same numbers ("x007"), no other extension. */
    g_autofree char *canonical = sf_fragment_name_format(stem, x, y, w, h);
    return !strcmp(name, canonical);
}

static const char *stem_fault(const char *stem, size_t max)
{
    if (!stem || !*stem)
        return "it is empty";
    if (stem[0] == '.')
        return "it starts with '.'";
    if (strpbrk(stem, "/\\"))
        return "it holds a '/' or '\\'";
    for (const char *p = stem; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            return "it holds a control character";
    if (strlen(stem) > max)
        return "it is too long: fragment names, which add up to 100 bytes to it, must fit in "
               "a file name's 255";
    return NULL;
}

gboolean sf_stem_check(const char *stem, GError **error)
{
    const char *fault = stem_fault(stem, SF_STEM_MAX_BYTES);
    if (!fault)
        return TRUE;
    g_set_error(error, SF_ERROR, SF_EXIT_USAGE, "'%s' cannot name a slide's outputs: %s",
                stem ? stem : "", fault);
    return FALSE;
}

gboolean sf_slide_stem_is_safe(const char *stem)
{
    return stem_fault(stem, SF_NAME_MAX_BYTES) == NULL;
}
