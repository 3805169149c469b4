/*
 * Fragment pixels back to level-0 pixels.
 *
 * A fragment is its level-0 box (X, Y, W, H) resampled to width x height
 * pixels, so fragment pixel (px, py) covers level 0 at
 * (X + px * W / width, Y + py * H / height): edges map to edges exactly.
 * YOLO stores f = px / width, and X + f * W is the same point without
 * knowing width at all.
 */
#include <glib/gstdio.h>
#include <stdarg.h>
#include <string.h>

#include "slidefrag/annotations.h"
#include "slidefrag/error.h"

/* Vertices may sit this far outside the fragment: float noise in
 * pixels, and YOLO's 6-decimal rounding of a centre and a half size. */
#define PIXEL_TOLERANCE 1e-3
#define FRACTION_TOLERANCE 2e-6

typedef struct {
    const sf_manifest *manifest;
    const sf_manifest_region *region;
} fragment_ref;

struct sf_fragment_index {
    GPtrArray *manifests; /* sf_manifest*, owned */
    GHashTable *by_key;   /* image key of the fragment -> fragment_ref* */
    GHashTable *slides;   /* slide name -> sf_manifest* */
};

sf_fragment_index *sf_fragment_index_new(void)
{
    sf_fragment_index *index = g_new0(sf_fragment_index, 1);
    index->manifests = g_ptr_array_new_with_free_func((GDestroyNotify)sf_manifest_free);
    index->by_key = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    index->slides = g_hash_table_new(g_str_hash, g_str_equal);
    return index;
}

void sf_fragment_index_free(sf_fragment_index *index)
{
    if (!index)
        return;
    g_hash_table_unref(index->by_key);
    g_hash_table_unref(index->slides);
    g_ptr_array_unref(index->manifests);
    g_free(index);
}

size_t sf_fragment_index_n_manifests(const sf_fragment_index *index)
{
    return index ? index->manifests->len : 0;
}

gboolean sf_fragment_index_add(sf_fragment_index *index, sf_manifest *manifest, GError **error)
{
    const sf_manifest *other = g_hash_table_lookup(index->slides, manifest->slide_name);
    if (other) {
        /* Fragment names carry only the stem: two slides of one name could
         * not be told apart by an annotation's image name. */
        g_set_error(error, SF_ERROR, SF_EXIT_BAD_INPUT,
                    "%s: slide '%s' is already described by %s; map them separately",
                    manifest->path, manifest->slide_name, other->path);
        sf_manifest_free(manifest);
        return FALSE;
    }
    g_ptr_array_add(index->manifests, manifest);
    g_hash_table_insert(index->slides, manifest->slide_name, manifest);
    for (size_t i = 0; i < manifest->n_regions; i++) {
        fragment_ref *ref = g_new(fragment_ref, 1);
        ref->manifest = manifest;
        ref->region = &manifest->regions[i];
        g_hash_table_replace(index->by_key, sf_image_key(manifest->regions[i].fragment_name), ref);
    }
    return TRUE;
}

void sf_slide_annotations_free(sf_slide_annotations *slide)
{
    if (!slide)
        return;
    g_free(slide->stem);
    g_ptr_array_unref(slide->annotations);
    g_free(slide);
}

/* Where one image belongs on its slide. */
typedef struct {
    char *stem;
    char *fragment_name;
    const sf_manifest *manifest; /* NULL when from the name */
    int64_t x, y, w, h;          /* level-0 box */
    int width, height;           /* fragment pixels, 0 unknown */
} placement;

static void placement_clear(placement *p)
{
    g_free(p->stem);
    g_free(p->fragment_name);
}

typedef struct {
    sf_annotation_set *set;
    const sf_fragment_index *index;
    sf_slide_offset offset;
    GHashTable *slides;   /* stem -> sf_slide_annotations* */
    GHashTable *reported; /* "<source>\n<image>\n<reason>" -> problem, one per image */
    guint n_mapped;
} mapper;

/* Records a problem (or a note) once per image and source file, counting
 * every annotation it costs, so a wrong name does not print a line per
 * box. */
static void image_report(mapper *m, const sf_annotation *a, sf_skip_reason reason, gboolean note,
                         const char *format, va_list args)
{
    g_autofree char *key =
        g_strdup_printf("%s\n%s\n%d\n%d", a->source, a->image, (int)reason, note);
    sf_annotation_problem *known = g_hash_table_lookup(m->reported, key);
    if (known) {
        known->n_skipped += !note;
        return;
    }
    g_autofree char *cause = g_strdup_vprintf(format, args);
    g_autofree char *location = sf_annotation_location(a);
    if (note)
        sf_annotation_set_add_note(m->set, reason, location, "%s", cause);
    else
        sf_annotation_set_add_problem(m->set, reason, 1, location, "%s", cause);
    g_hash_table_insert(m->reported, g_steal_pointer(&key),
                        m->set->problems->pdata[m->set->problems->len - 1]);
}

static void image_problem(mapper *m, const sf_annotation *a, sf_skip_reason reason,
                          const char *format, ...) G_GNUC_PRINTF(4, 5);
static void image_problem(mapper *m, const sf_annotation *a, sf_skip_reason reason,
                          const char *format, ...)
{
    va_list args;
    va_start(args, format);
    image_report(m, a, reason, FALSE, format, args);
    va_end(args);
}

static void image_note(mapper *m, const sf_annotation *a, sf_skip_reason reason, const char *format,
                       ...) G_GNUC_PRINTF(4, 5);
static void image_note(mapper *m, const sf_annotation *a, sf_skip_reason reason, const char *format,
                       ...)
{
    va_list args;
    va_start(args, format);
    image_report(m, a, reason, TRUE, format, args);
    va_end(args);
}

/* Strips `suffix` and what follows it when that is digits only. */
static gboolean strip_numbered(char *name, const char *suffix, gboolean number_required)
{
    char *at = g_strrstr(name, suffix);
    if (!at || at == name)
        return FALSE;
    const char *rest = at + strlen(suffix);
    if (number_required && !*rest)
        return FALSE;
    for (const char *r = rest; *r; r++)
        if (!g_ascii_isdigit(*r))
            return FALSE;
    *at = '\0';
    return TRUE;
}

/*
 * The name inside what a browser or a file manager calls a copy: "x (1)"
 * (a second download), "x - Copy", "x - Copy (2)" (Windows), "x copy",
 * "x copy 2" (macOS), "Copy of x" (Google Drive). NULL when `key` is none
 * of those.
 */
static char *copied_name(const char *key)
{
    g_autofree char *name = g_strdup(key);
    gboolean changed = FALSE;
    for (gboolean again = TRUE; again;) {
        size_t n = strlen(name);
        again = FALSE;
        if (n > 4 && name[n - 1] == ')') {
            name[n - 1] = '\0';
            if (strip_numbered(name, " (", TRUE))
                again = TRUE;
            else
                name[n - 1] = ')';
        }
        if (!again && g_str_has_suffix(name, " - Copy")) {
            name[n - strlen(" - Copy")] = '\0';
            again = TRUE;
        }
        if (!again && (g_str_has_suffix(name, " copy") || strip_numbered(name, " copy ", TRUE))) {
            if (g_str_has_suffix(name, " copy"))
                name[strlen(name) - strlen(" copy")] = '\0';
            again = TRUE;
        }
        if (!again && !g_ascii_strncasecmp(name, "copy of ", 8) && name[8]) {
            memmove(name, name + 8, strlen(name + 8) + 1);
            again = TRUE;
        }
        changed = changed || again;
    }
    return changed ? g_steal_pointer(&name) : NULL;
}

static const fragment_ref *find_fragment(mapper *m, const sf_annotation *a, const char *key)
{
    const fragment_ref *ref = g_hash_table_lookup(m->index->by_key, key);
    if (ref)
        return ref;
    g_autofree char *real = copied_name(key);
    ref = real ? g_hash_table_lookup(m->index->by_key, real) : NULL;
    if (ref)
        image_note(m, a, SF_SKIP_NO_FRAGMENT, "image '%s' taken for fragment '%s' (a renamed copy)",
                   a->image, ref->region->fragment_name);
    return ref;
}

/*
 * VGG states no pixel size: with a manifest the fragment is assumed to be
 * the manifest's, which a run at another resolution (same names, other
 * pixels) would make silently wrong, by up to a thousand level-0 px. Its
 * `size` is the annotated file's byte count; the fragment file beside the
 * manifest has one too. FALSE (a problem recorded) when they differ.
 */
static gboolean confirm_unsized(mapper *m, const sf_annotation *a, const fragment_ref *ref)
{
    const sf_manifest_region *region = ref->region;
    int width, height;
    int64_t bytes;
    if (sf_annotation_set_image_size(m->set, a->image, &width, &height)) {
        if (width == region->fragment_width && height == region->fragment_height)
            return TRUE;
        image_problem(m, a, SF_SKIP_SIZE_MISMATCH,
                      "image '%s' is %d x %d px in this export but the manifest's fragment is "
                      "%d x %d px",
                      a->image, width, height, region->fragment_width, region->fragment_height);
        return FALSE;
    }
    if (!sf_annotation_set_image_bytes(m->set, a->image, &bytes))
        return TRUE; /* nothing to compare: placed as the manifest says */
    g_autofree char *dir = g_path_get_dirname(ref->manifest->path);
    g_autofree char *file = g_build_filename(dir, region->fragment_file, NULL);
    GStatBuf st;
    if (g_stat(file, &st) != 0) {
        image_note(m, a, SF_SKIP_SIZE_UNKNOWN,
                   "image '%s': the export states no pixel size and the fragment file %s is not "
                   "there to confirm it: placed as the manifest's %d x %d px",
                   a->image, file, region->fragment_width, region->fragment_height);
        return TRUE;
    }
    if ((int64_t)st.st_size == bytes)
        return TRUE;
    image_problem(m, a, SF_SKIP_SIZE_MISMATCH,
                  "image '%s' was %" G_GINT64_FORMAT " bytes when annotated but the fragment "
                  "file %s is %" G_GINT64_FORMAT " bytes: a fragment of another run (another "
                  "resolution?), not the manifest's %d x %d px",
                  a->image, bytes, file, (int64_t)st.st_size, region->fragment_width,
                  region->fragment_height);
    return FALSE;
}

static gboolean place(mapper *m, const sf_annotation *a, placement *p)
{
    g_autofree char *key = sf_image_key(a->image);
    memset(p, 0, sizeof *p);
    if (sf_fragment_index_n_manifests(m->index) > 0) {
        const fragment_ref *ref = find_fragment(m, a, key);
        if (!ref) {
            image_problem(m, a, SF_SKIP_NO_FRAGMENT,
                          "image '%s' matches no fragment in the manifests", a->image);
            return FALSE;
        }
        if (!a->normalised && a->image_width <= 0 && !confirm_unsized(m, a, ref))
            return FALSE;
        p->manifest = ref->manifest;
        p->stem = g_strdup(ref->manifest->slide_name);
        p->fragment_name = g_strdup(ref->region->fragment_name);
        p->x = ref->region->x;
        p->y = ref->region->y;
        p->w = ref->region->w;
        p->h = ref->region->h;
        p->width = ref->region->fragment_width;
        p->height = ref->region->fragment_height;
        if (!a->normalised && a->image_width > 0 &&
            (a->image_width != p->width || a->image_height != p->height)) {
            image_problem(m, a, SF_SKIP_SIZE_MISMATCH,
                          "image '%s' is %d x %d px in the export but the manifest's fragment "
                          "is %d x %d px",
                          a->image, a->image_width, a->image_height, p->width, p->height);
            placement_clear(p);
            return FALSE;
        }
        return TRUE;
    }
    /* No manifest: the name carries the box; the export the pixel size. */
    g_autofree char *real = copied_name(key);
    g_autofree char *real_name = real ? g_strconcat(real, ".jpg", NULL) : NULL;
    g_autofree char *name = g_strconcat(key, ".jpg", NULL);
    if (real_name && sf_fragment_name_parse(real_name, NULL, NULL, NULL, NULL, NULL)) {
        image_note(m, a, SF_SKIP_NO_FRAGMENT, "image '%s' taken for fragment '%s' (a renamed copy)",
                   a->image, real_name);
        g_free(name);
        name = g_steal_pointer(&real_name);
    }
    if (!sf_fragment_name_parse(name, &p->stem, &p->x, &p->y, &p->w, &p->h)) {
        image_problem(m, a, SF_SKIP_NO_FRAGMENT,
                      "image '%s' is not a fragment name "
                      "(<slide>__x<X>_y<Y>_w<W>_h<H>.jpg); pass --manifest",
                      a->image);
        return FALSE;
    }
    p->fragment_name = g_steal_pointer(&name);
    p->width = a->image_width;
    p->height = a->image_height;
    if (!a->normalised && p->width <= 0 &&
        !sf_annotation_set_image_size(m->set, a->image, &p->width, &p->height)) {
        image_problem(m, a, SF_SKIP_SIZE_UNKNOWN,
                      "pixel size of image '%s' unknown (this export does not state it); "
                      "pass --manifest",
                      a->image);
        placement_clear(p);
        return FALSE;
    }
    return TRUE;
}

static sf_slide_annotations *slide_for(mapper *m, const placement *p)
{
    sf_slide_annotations *slide = g_hash_table_lookup(m->slides, p->stem);
    if (slide)
        return slide;
    slide = g_new0(sf_slide_annotations, 1);
    slide->stem = g_strdup(p->stem);
    slide->manifest = p->manifest;
    slide->offset = m->offset;
    if (m->offset == SF_OFFSET_BOUNDS && p->manifest && p->manifest->has_bounds) {
        slide->offset_x = p->manifest->bounds_x;
        slide->offset_y = p->manifest->bounds_y;
    }
    slide->annotations = g_ptr_array_new_with_free_func((GDestroyNotify)sf_annotation_free);
    g_hash_table_insert(m->slides, slide->stem, slide);
    return slide;
}

/* Places `a` on its slide, taking it; frees it when it cannot be placed. */
static void map_one(mapper *m, sf_annotation *a)
{
    placement p;
    if (!place(m, a, &p)) {
        sf_annotation_free(a);
        return;
    }
    if (!sf_slide_stem_is_safe(p.stem)) {
        image_problem(m, a, SF_SKIP_PATH,
                      "slide name '%s' cannot name an output file (path parts or \"..\")", p.stem);
        placement_clear(&p);
        sf_annotation_free(a);
        return;
    }
    /* The unit the vertices are in: fractions or fragment pixels. */
    double unit_w = a->normalised ? 1.0 : p.width;
    double unit_h = a->normalised ? 1.0 : p.height;
    double tolerance = a->normalised ? FRACTION_TOLERANCE : PIXEL_TOLERANCE;
    for (size_t i = 0; i < a->n_vertices; i++) {
        const sf_vertex *v = &a->vertices[i];
        if (v->x < -tolerance || v->y < -tolerance || v->x > unit_w + tolerance ||
            v->y > unit_h + tolerance) {
            g_autofree char *location = sf_annotation_location(a);
            if (a->normalised)
                sf_annotation_set_add_problem(
                    m->set, SF_SKIP_OUTSIDE, 1, location,
                    "%s '%s': vertex (%g, %g) lies outside the image (fractions 0..1)",
                    sf_shape_name(a->shape), a->label, v->x, v->y);
            else
                sf_annotation_set_add_problem(
                    m->set, SF_SKIP_OUTSIDE, 1, location,
                    "%s '%s': vertex (%g, %g) lies outside the %d x %d px image '%s'",
                    sf_shape_name(a->shape), a->label, v->x, v->y, p.width, p.height, a->image);
            placement_clear(&p);
            sf_annotation_free(a);
            return;
        }
    }

    /* In place: the annotation moves to its slide, in level-0 pixels. */
    sf_slide_annotations *slide = slide_for(m, &p);
    for (size_t i = 0; i < a->n_vertices; i++) {
        sf_vertex *v = &a->vertices[i];
        v->x = (double)p.x + v->x * (double)p.w / unit_w - (double)slide->offset_x;
        v->y = (double)p.y + v->y * (double)p.h / unit_h - (double)slide->offset_y;
    }
    g_free(a->image);
    a->image = g_steal_pointer(&p.fragment_name);
    a->normalised = FALSE;
    a->image_width = p.width;
    a->image_height = p.height;
    a->fragment_x = p.x;
    a->fragment_y = p.y;
    a->fragment_w = p.w;
    a->fragment_h = p.h;
    g_ptr_array_add(slide->annotations, a);
    m->n_mapped++;
    placement_clear(&p);
}

static gint compare_slides(gconstpointer a, gconstpointer b)
{
    const sf_slide_annotations *sa = *(const sf_slide_annotations *const *)a;
    const sf_slide_annotations *sb = *(const sf_slide_annotations *const *)b;
    return strcmp(sa->stem, sb->stem);
}

GPtrArray *sf_annotations_map(sf_annotation_set *set, const sf_fragment_index *index,
                              sf_slide_offset offset, guint *n_mapped, GError **error)
{
    if (offset == SF_OFFSET_BOUNDS && sf_fragment_index_n_manifests(index) == 0) {
        g_set_error(error, SF_ERROR, SF_EXIT_USAGE,
                    "--slide-offset bounds needs --manifest: the bounds come from the manifest");
        return NULL;
    }
    mapper m = {
        .set = set,
        .index = index,
        .offset = offset,
        .slides = g_hash_table_new(g_str_hash, g_str_equal),
        .reported = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL),
    };
    sf_annotation_set_drop_repeats(set);
    gsize n = 0;
    sf_annotation **annotations = (sf_annotation **)g_ptr_array_steal(set->annotations, &n);
    for (gsize i = 0; i < n; i++)
        map_one(&m, annotations[i]);
    g_free(annotations);

    GPtrArray *slides = g_ptr_array_new_with_free_func((GDestroyNotify)sf_slide_annotations_free);
    GHashTableIter iter;
    gpointer value;
    g_hash_table_iter_init(&iter, m.slides);
    while (g_hash_table_iter_next(&iter, NULL, &value))
        g_ptr_array_add(slides, value);
    g_ptr_array_sort(slides, compare_slides);
    for (guint i = 0; i < slides->len; i++) {
        sf_slide_annotations *slide = slides->pdata[i];
        guint n_joined = 0;
        guint n_shapes = sf_annotations_join_seams(slide, &n_joined);
        if (n_joined == 0)
            continue;
        m.n_mapped -= n_joined - n_shapes;
        sf_annotation_set_add_note(set, SF_SKIP_DUPLICATE, slide->stem,
                                   "%u pieces of shapes cut by tile seams, or drawn again where "
                                   "tiles overlap, joined into %u",
                                   n_joined, n_shapes);
    }
    g_hash_table_unref(m.slides);
    g_hash_table_unref(m.reported);
    if (n_mapped)
        *n_mapped = m.n_mapped;
    return slides;
}
