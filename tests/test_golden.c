/*
 * The image core against OpenCV: fixtures/golden/golden.json lists cases
 * computed by scripts/make-goldens (see its header for the layout). Each case
 * runs one core function on OpenCV's own input for that step, so a mismatch
 * points at one function. Every case runs; each test lists all mismatches
 * before failing.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "support.h"

#include <json-glib/json-glib.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "slidefrag/core.h"

typedef struct {
    JsonParser *parser;
    JsonObject *inputs;
    JsonArray *cases;
    GHashTable *images; /* cache key -> sf_image*, each file loaded once */
} golden;

static void image_destroy(gpointer data)
{
    sf_image *image = data;
    test_image_free(image);
    g_free(image);
}

static int setup(void **state)
{
    golden *g = g_new0(golden, 1);
    g_autofree char *path = test_fixture("golden/golden.json");
    GError *error = NULL;
    g->parser = json_parser_new();
    if (!json_parser_load_from_file(g->parser, path, &error)) {
        print_error("cannot read %s: %s\n", path, error->message);
        g_error_free(error);
        return -1;
    }
    JsonObject *root = json_node_get_object(json_parser_get_root(g->parser));
    g->inputs = json_object_get_object_member(root, "inputs");
    g->cases = json_object_get_array_member(root, "cases");
    g->images = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, image_destroy);
    *state = g;
    return 0;
}

static int teardown(void **state)
{
    golden *g = *state;
    g_hash_table_destroy(g->images);
    g_object_unref(g->parser);
    g_free(g);
    return 0;
}

/* A PNG under fixtures/ with `channels` channels, loaded once. */
static const sf_image *load_png(golden *g, const char *rel, int channels)
{
    g_autofree char *key = g_strdup_printf("%s#%d", rel, channels);
    sf_image *image = g_hash_table_lookup(g->images, key);
    if (!image) {
        g_autofree char *path = test_fixture(rel);
        image = g_new(sf_image, 1);
        *image = test_image_load_png(path, channels);
        g_hash_table_insert(g->images, g_steal_pointer(&key), image);
    }
    return image;
}

static const sf_image *load_input(golden *g, const char *name)
{
    JsonObject *input = json_object_get_object_member(g->inputs, name);
    if (!input)
        fail_msg("golden.json has no input '%s'", name);
    return load_png(g, json_object_get_string_member(input, "file"), 3);
}

/* One plane of an RGB input, copied here without the core. */
static const sf_image *load_plane(golden *g, const char *name, int plane)
{
    g_autofree char *key = g_strdup_printf("%s:%d", name, plane);
    sf_image *image = g_hash_table_lookup(g->images, key);
    if (!image) {
        const sf_image *rgb = load_input(g, name);
        image = g_new(sf_image, 1);
        *image = test_image_new(rgb->width, rgb->height, 1);
        for (int y = 0; y < rgb->height; y++)
            for (int x = 0; x < rgb->width; x++)
                image->data[(size_t)y * image->stride + x] =
                    rgb->data[(size_t)y * rgb->stride + (size_t)x * 3 + plane];
        g_hash_table_insert(g->images, g_steal_pointer(&key), image);
    }
    return image;
}

static const sf_image *load_source(golden *g, JsonObject *c)
{
    JsonObject *source = json_object_get_object_member(c, "source");
    if (json_object_has_member(source, "file"))
        return load_png(g, json_object_get_string_member(source, "file"), 1);
    return load_plane(g, json_object_get_string_member(source, "input"),
                      (int)json_object_get_int_member(source, "plane"));
}

static const char *case_name(JsonObject *c)
{
    return json_object_get_string_member(c, "name");
}

/* A copy with `pad` junk bytes after each row, so stride handling shows. */
static sf_image padded_copy(const sf_image *src, int pad)
{
    sf_image copy = {
        .data = g_malloc((src->stride + (size_t)pad) * src->height + 1),
        .width = src->width,
        .height = src->height,
        .channels = src->channels,
        .stride = (size_t)src->width * src->channels + (size_t)pad,
    };
    memset(copy.data, 0xA5, copy.stride * copy.height);
    for (int y = 0; y < src->height; y++)
        memcpy(copy.data + (size_t)y * copy.stride, src->data + (size_t)y * src->stride,
               (size_t)src->width * src->channels);
    return copy;
}

/* Compares a 1-channel result with the expected PNG; prints the first
 * difference and the count. Returns TRUE when identical. */
static gboolean compare_image(golden *g, const char *name, const sf_image *got,
                              const char *expected_rel)
{
    const sf_image *want = load_png(g, expected_rel, 1);
    if (got->width != want->width || got->height != want->height) {
        print_error("%s: size %dx%d, expected %dx%d\n", name, got->width, got->height, want->width,
                    want->height);
        return FALSE;
    }
    size_t differ = 0;
    int fx = -1, fy = -1, got_v = 0, want_v = 0;
    for (int y = 0; y < want->height; y++) {
        const uint8_t *a = got->data + (size_t)y * got->stride;
        const uint8_t *b = want->data + (size_t)y * want->stride;
        if (!memcmp(a, b, (size_t)want->width))
            continue;
        for (int x = 0; x < want->width; x++)
            if (a[x] != b[x]) {
                if (differ++ == 0) {
                    fx = x;
                    fy = y;
                    got_v = a[x];
                    want_v = b[x];
                }
            }
    }
    if (differ) {
        print_error("%s: %zu of %d pixels differ; first at (x=%d, y=%d): %d, expected %d "
                    "(%s)\n",
                    name, differ, want->width * want->height, fx, fy, got_v, want_v, expected_rel);
        return FALSE;
    }
    return TRUE;
}

static char *sha256_of(const sf_image *image)
{
    GChecksum *sum = g_checksum_new(G_CHECKSUM_SHA256);
    for (int y = 0; y < image->height; y++)
        g_checksum_update(sum, image->data + (size_t)y * image->stride,
                          (gssize)((size_t)image->width * image->channels));
    char *hex = g_strdup(g_checksum_get_string(sum));
    g_checksum_free(sum);
    return hex;
}

typedef gboolean (*case_fn)(golden *g, JsonObject *c);

/* Under the sanitizers (scripts/test sets SLIDEFRAG_SANITIZED) the core runs
 * ten times slower; the memory checks need every code path, not every
 * image, so there the small input keeps all its cases and the large ones
 * one in SANITIZED_STRIDE. The plain run checks everything. */
enum { SMALL_IMAGE = 50000, SANITIZED_STRIDE = 8 };

static gboolean sampled_out(golden *g, JsonObject *c, guint index)
{
    if (!g_getenv("SLIDEFRAG_SANITIZED") || !json_object_has_member(c, "source"))
        return FALSE;
    const sf_image *src = load_source(g, c);
    return src->width * src->height >= SMALL_IMAGE && index % SANITIZED_STRIDE != 0;
}

/* Runs the cases of `op`; fails once at the end with the tally. */
static void run_cases(golden *g, const char *op, case_fn fn)
{
    guint n = json_array_get_length(g->cases), total = 0, run = 0, failed = 0;
    gint64 start = g_get_monotonic_time();
    for (guint i = 0; i < n; i++) {
        JsonObject *c = json_array_get_object_element(g->cases, i);
        if (strcmp(json_object_get_string_member(c, "op"), op) != 0)
            continue;
        if (sampled_out(g, c, total++))
            continue;
        run++;
        if (!fn(g, c))
            failed++;
    }
    print_message("%s: %u of %u cases run, %u failed, %.2f s\n", op, run, total, failed,
                  (double)(g_get_monotonic_time() - start) / 1e6);
    assert_true(run > 0);
    if (failed)
        fail_msg("%u of %u %s cases differ from OpenCV", failed, run, op);
}

/* ---- Inputs: the pixels the goldens were computed from ---------------- */

static void test_inputs(void **state)
{
    golden *g = *state;
    g_autoptr(GList) names = json_object_get_members(g->inputs);
    assert_non_null(names);
    for (GList *l = names; l; l = l->next) {
        JsonObject *input = json_object_get_object_member(g->inputs, l->data);
        const sf_image *rgb = load_input(g, l->data);
        assert_int_equal(rgb->width, json_object_get_int_member(input, "width"));
        assert_int_equal(rgb->height, json_object_get_int_member(input, "height"));
        g_autofree char *hex = sha256_of(rgb);
        /* If this fails, the PNG decoding differs, not the core. */
        if (strcmp(hex, json_object_get_string_member(input, "sha256")) != 0)
            fail_msg("input %s decodes to other pixels than OpenCV read", (char *)l->data);
    }
}

/* ---- Channels ---------------------------------------------------------- */

static gboolean channel_case(golden *g, JsonObject *c)
{
    const char *name = case_name(c);
    const sf_image *rgb = load_input(g, json_object_get_string_member(c, "input"));
    sf_channel channel;
    if (!sf_channel_from_name(json_object_get_string_member(c, "channel"), &channel))
        fail_msg("%s: unknown channel", name);
    sf_image out = test_image_new(rgb->width, rgb->height, 1);
    sf_status status = sf_extract_channel(rgb, channel, &out);
    gboolean ok = status == SF_OK;
    if (!ok)
        print_error("%s: status %d\n", name, status);
    if (ok && json_object_has_member(c, "expected"))
        ok = compare_image(g, name, &out, json_object_get_string_member(c, "expected"));
    if (ok) {
        g_autofree char *hex = sha256_of(&out);
        int64_t sum = 0;
        for (size_t i = 0; i < (size_t)out.width * out.height; i++)
            sum += out.data[i];
        if (strcmp(hex, json_object_get_string_member(c, "sha256")) != 0) {
            print_error("%s: channel differs (sum %" G_GINT64_FORMAT ", expected %" G_GINT64_FORMAT
                        ")\n",
                        name, sum, json_object_get_int_member(c, "sum"));
            ok = FALSE;
        }
    }
    test_image_free(&out);
    return ok;
}

static void test_channels(void **state)
{
    run_cases(*state, "channel", channel_case);
}

/* ---- Thresholds ------------------------------------------------------ */

static gboolean threshold_case(golden *g, JsonObject *c)
{
    const char *name = case_name(c);
    const sf_image *src = load_source(g, c);
    int expected_t = (int)json_object_get_int_member(c, "expected_threshold");
    gboolean ok = TRUE;
    if (!strcmp(json_object_get_string_member(c, "kind"), "otsu")) {
        uint64_t hist[256];
        sf_histogram(src, hist);
        int t = sf_otsu_threshold(hist);
        if (t != expected_t) {
            print_error("%s: Otsu threshold %d, expected %d\n", name, t, expected_t);
            ok = FALSE;
        }
    }
    /* The mask with OpenCV's threshold, so a wrong Otsu value does not hide
     * whether sf_threshold itself is right. */
    sf_polarity polarity = strcmp(json_object_get_string_member(c, "polarity"), "dark") == 0
                               ? SF_POLARITY_DARK
                               : SF_POLARITY_BRIGHT;
    /* Small images also go through padded strides. */
    gboolean padded = src->width * src->height < SMALL_IMAGE;
    sf_image in = padded ? padded_copy(src, 7) : *src;
    sf_image mask = test_image_new(src->width, src->height, 1);
    sf_image out = padded ? padded_copy(&mask, 3) : mask;
    sf_status status = sf_threshold(&in, (uint8_t)expected_t, polarity, &out);
    if (status != SF_OK) {
        print_error("%s: status %d\n", name, status);
        ok = FALSE;
    } else if (!compare_image(g, name, &out, json_object_get_string_member(c, "expected"))) {
        ok = FALSE;
    }
    if (padded) {
        test_image_free(&in);
        test_image_free(&out);
    }
    test_image_free(&mask);
    return ok;
}

static void test_thresholds(void **state)
{
    run_cases(*state, "threshold", threshold_case);
}

/* ---- Morphology ------------------------------------------------------ */

static gboolean parse_morph(JsonObject *c, sf_morph_op *op, sf_kernel_shape *shape)
{
    static const char *const ops[] = {"erode", "dilate", "open", "close"};
    static const sf_morph_op op_values[] = {SF_MORPH_ERODE, SF_MORPH_DILATE, SF_MORPH_OPEN,
                                            SF_MORPH_CLOSE};
    const char *morph = json_object_get_string_member(c, "morph");
    gboolean found = FALSE;
    for (size_t i = 0; i < G_N_ELEMENTS(ops); i++)
        if (!strcmp(morph, ops[i])) {
            *op = op_values[i];
            found = TRUE;
        }
    const char *s = json_object_get_string_member(c, "shape");
    if (!strcmp(s, "rect"))
        *shape = SF_KERNEL_RECT;
    else if (!strcmp(s, "ellipse"))
        *shape = SF_KERNEL_ELLIPSE;
    else
        found = FALSE;
    return found;
}

static gboolean morphology_case(golden *g, JsonObject *c)
{
    const char *name = case_name(c);
    sf_morph_op op = SF_MORPH_ERODE;
    sf_kernel_shape shape = SF_KERNEL_RECT;
    if (!parse_morph(c, &op, &shape))
        fail_msg("%s: unknown operation or shape", name);
    JsonArray *kernel = json_object_get_array_member(c, "kernel");
    int kw = (int)json_array_get_int_element(kernel, 0);
    int kh = (int)json_array_get_int_element(kernel, 1);
    int iterations = (int)json_object_get_int_member(c, "iterations");
    const char *expected = json_object_get_string_member(c, "expected");
    const sf_image *src = load_source(g, c);

    sf_image out = test_image_new(src->width, src->height, 1);
    sf_status status = sf_morphology(src, &out, op, shape, kw, kh, iterations);
    gboolean ok = status == SF_OK;
    if (!ok)
        print_error("%s: status %d\n", name, status);
    else
        ok = compare_image(g, name, &out, expected);
    test_image_free(&out);

    /* Small images also run in place on a padded stride (dst == src is
     * allowed). */
    if (ok && src->width * src->height < SMALL_IMAGE) {
        sf_image inplace = padded_copy(src, 5);
        g_autofree char *label = g_strdup_printf("%s (in place, stride %zu)", name, inplace.stride);
        status = sf_morphology(&inplace, &inplace, op, shape, kw, kh, iterations);
        if (status != SF_OK) {
            print_error("%s: status %d\n", label, status);
            ok = FALSE;
        } else {
            ok = compare_image(g, label, &inplace, expected);
        }
        test_image_free(&inplace);
    }
    return ok;
}

static void test_morphology(void **state)
{
    run_cases(*state, "morphology", morphology_case);
}

/* ---- Connected components -------------------------------------------- */

typedef struct {
    int x, y, w, h;
    int64_t area;
    double cx, cy;
} stat_row;

static int stat_row_cmp(const void *pa, const void *pb)
{
    const stat_row *a = pa, *b = pb;
    if (a->x != b->x)
        return a->x < b->x ? -1 : 1;
    if (a->y != b->y)
        return a->y < b->y ? -1 : 1;
    if (a->w != b->w)
        return a->w < b->w ? -1 : 1;
    if (a->h != b->h)
        return a->h < b->h ? -1 : 1;
    if (a->area != b->area)
        return a->area < b->area ? -1 : 1;
    if (a->cx != b->cx)
        return a->cx < b->cx ? -1 : 1;
    if (a->cy != b->cy)
        return a->cy < b->cy ? -1 : 1;
    return 0;
}

static gboolean same_row(const stat_row *a, const stat_row *b)
{
    return a->x == b->x && a->y == b->y && a->w == b->w && a->h == b->h && a->area == b->area &&
           fabs(a->cx - b->cx) <= 1e-9 && fabs(a->cy - b->cy) <= 1e-9;
}

/* Boxes and areas measured from the label image, to check `labels` agrees
 * with the component list. */
static stat_row *rows_from_labels(const int32_t *labels, int width, int height, size_t count)
{
    stat_row *rows = g_new0(stat_row, count);
    for (size_t i = 0; i < count; i++) {
        rows[i].x = width;
        rows[i].y = height;
        rows[i].w = -1; /* holds max x until the end */
        rows[i].h = -1;
    }
    for (int y = 0; y < height; y++)
        for (int x = 0; x < width; x++) {
            int32_t l = labels[(size_t)y * width + x];
            if (l <= 0 || (size_t)l > count)
                continue;
            stat_row *r = &rows[l - 1];
            r->x = MIN(r->x, x);
            r->y = MIN(r->y, y);
            r->w = MAX(r->w, x);
            r->h = MAX(r->h, y);
            r->area++;
        }
    for (size_t i = 0; i < count; i++) {
        rows[i].w = rows[i].w - rows[i].x + 1;
        rows[i].h = rows[i].h - rows[i].y + 1;
    }
    return rows;
}

static int box_area_cmp(const void *pa, const void *pb)
{
    stat_row a = *(const stat_row *)pa, b = *(const stat_row *)pb;
    a.cx = a.cy = b.cx = b.cy = 0;
    return stat_row_cmp(&a, &b);
}

static gboolean check_labels(const char *name, const sf_image *mask, const int32_t *labels,
                             const stat_row *got, size_t count)
{
    for (int y = 0; y < mask->height; y++)
        for (int x = 0; x < mask->width; x++) {
            gboolean on = mask->data[(size_t)y * mask->stride + x] != 0;
            int32_t l = labels[(size_t)y * mask->width + x];
            if (on != (l != 0) || l < 0 || (size_t)l > count) {
                print_error("%s: label %d at (x=%d, y=%d) where the mask is %d\n", name, l, x, y,
                            on ? 255 : 0);
                return FALSE;
            }
        }
    g_autofree stat_row *from_labels = rows_from_labels(labels, mask->width, mask->height, count);
    g_autofree stat_row *listed = g_memdup2(got, count * sizeof(stat_row));
    qsort(from_labels, count, sizeof(stat_row), box_area_cmp);
    qsort(listed, count, sizeof(stat_row), box_area_cmp);
    for (size_t i = 0; i < count; i++)
        if (box_area_cmp(&from_labels[i], &listed[i]) != 0) {
            print_error("%s: the label image disagrees with the component list "
                        "(box %d,%d %dx%d area %" G_GINT64_FORMAT ")\n",
                        name, from_labels[i].x, from_labels[i].y, from_labels[i].w,
                        from_labels[i].h, from_labels[i].area);
            return FALSE;
        }
    return TRUE;
}

static gboolean components_case(golden *g, JsonObject *c)
{
    const char *name = case_name(c);
    const sf_image *mask = load_source(g, c);
    int connectivity = (int)json_object_get_int_member(c, "connectivity");
    JsonArray *expected = json_object_get_array_member(c, "expected");
    size_t n_want = json_array_get_length(expected);

    g_autofree int32_t *labels = g_new(int32_t, (size_t)mask->width * mask->height);
    sf_component *components = NULL;
    size_t count = 0;
    sf_status status = sf_connected_components(mask, connectivity, labels, &components, &count);
    if (status != SF_OK) {
        print_error("%s: status %d\n", name, status);
        return FALSE;
    }
    g_autofree stat_row *got = g_new0(stat_row, MAX(count, 1));
    for (size_t i = 0; i < count; i++)
        got[i] = (stat_row){components[i].x,         components[i].y,    components[i].width,
                            components[i].height,    components[i].area, components[i].centroid_x,
                            components[i].centroid_y};
    free(components);
    g_autofree stat_row *want = g_new0(stat_row, MAX(n_want, 1));
    for (size_t i = 0; i < n_want; i++) {
        JsonArray *r = json_array_get_array_element(expected, (guint)i);
        want[i] =
            (stat_row){(int)json_array_get_int_element(r, 0), (int)json_array_get_int_element(r, 1),
                       (int)json_array_get_int_element(r, 2), (int)json_array_get_int_element(r, 3),
                       json_array_get_int_element(r, 4),      json_array_get_double_element(r, 5),
                       json_array_get_double_element(r, 6)};
    }

    gboolean ok = check_labels(name, mask, labels, got, count);
    if (count != n_want) {
        print_error("%s: %zu components, expected %zu\n", name, count, n_want);
        ok = FALSE;
    }
    qsort(got, count, sizeof(stat_row), stat_row_cmp);
    qsort(want, n_want, sizeof(stat_row), stat_row_cmp);
    for (size_t i = 0; i < MIN(count, n_want); i++)
        if (!same_row(&got[i], &want[i])) {
            print_error("%s: component %zu (sorted) is box %d,%d %dx%d area %" G_GINT64_FORMAT
                        " centroid (%.12g, %.12g); expected %d,%d %dx%d area %" G_GINT64_FORMAT
                        " centroid (%.12g, %.12g)\n",
                        name, i, got[i].x, got[i].y, got[i].w, got[i].h, got[i].area, got[i].cx,
                        got[i].cy, want[i].x, want[i].y, want[i].w, want[i].h, want[i].area,
                        want[i].cx, want[i].cy);
            ok = FALSE;
            break;
        }
    return ok;
}

static void test_components(void **state)
{
    run_cases(*state, "components", components_case);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_inputs),     cmocka_unit_test(test_channels),
        cmocka_unit_test(test_thresholds), cmocka_unit_test(test_morphology),
        cmocka_unit_test(test_components),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
