#include "support.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <glib/gstdio.h>
#include <inttypes.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "io/folder.h"
#include "slidefrag/error.h"
#include "slidefrag/fragment_name.h"
#include "slidefrag/image_io.h"
#include "slidefrag/manifest.h"

char *test_fixture(const char *name)
{
    return g_build_filename(SLIDEFRAG_SOURCE_DIR, "fixtures", name, NULL);
}

void test_copy_fixture(const char *name, const char *dir, const char *as)
{
    g_autofree char *from = test_fixture(name);
    g_autofree char *to = g_build_filename(dir, as ? as : name, NULL);
    g_autofree char *data = NULL;
    gsize length = 0;
    GError *error = NULL;
    if (!g_file_get_contents(from, &data, &length, &error) ||
        !g_file_set_contents(to, data, (gssize)length, &error))
        fail_msg("%s", error->message);
}

char *test_make_tmpdir(void)
{
    GError *error = NULL;
    char *dir = g_dir_make_tmp("slidefrag-test-XXXXXX", &error);
    assert_non_null(dir);
    return dir;
}

void test_remove_tree(const char *path)
{
    g_autofree char *quoted = g_shell_quote(path);
    g_autofree char *cmd = g_strdup_printf("rm -rf -- %s", quoted);
    int status = system(cmd);
    assert_int_equal(status, 0);
}

int test_run(const char *const *argv, const char *cwd, const char *const *envp, char **out,
             char **err)
{
    int wait_status = 0;
    GError *error = NULL;
    if (!g_spawn_sync(cwd, (char **)argv, (char **)envp,
                      G_SPAWN_SEARCH_PATH | G_SPAWN_SEARCH_PATH_FROM_ENVP, NULL, NULL, out, err,
                      &wait_status, &error))
        fail_msg("cannot run %s: %s", argv[0], error->message);
    if (WIFEXITED(wait_status))
        return WEXITSTATUS(wait_status);
    return 128 + WTERMSIG(wait_status);
}

/* Between fork and exec: SIGALRM ends the child after the given seconds
 * (an alarm survives exec; its default action terminates). */
static void set_alarm(gpointer seconds)
{
    alarm(GPOINTER_TO_UINT(seconds));
}

int test_run_slidefrag(const char *const *argv, char **out, char **err)
{
    return test_run_slidefrag_within(argv, 0, out, err);
}

int test_run_slidefrag_within(const char *const *argv, unsigned seconds, char **out, char **err)
{
    GPtrArray *args = g_ptr_array_new();
    g_ptr_array_add(args, (char *)SLIDEFRAG_BINARY);
    for (const char *const *a = argv; *a; a++)
        g_ptr_array_add(args, (char *)*a);
    g_ptr_array_add(args, NULL);
    int wait_status = 0;
    GError *error = NULL;
    gboolean ok =
        g_spawn_sync(NULL, (char **)args->pdata, NULL, G_SPAWN_DEFAULT, seconds ? set_alarm : NULL,
                     GUINT_TO_POINTER(seconds), out, err, &wait_status, &error);
    g_ptr_array_free(args, TRUE);
    if (!ok)
        fail_msg("cannot run %s: %s", SLIDEFRAG_BINARY, error->message);
    if (WIFEXITED(wait_status))
        return WEXITSTATUS(wait_status);
    return 128 + WTERMSIG(wait_status);
}

typedef struct {
    int resource;
    rlim_t value;
} child_limit;

static void apply_limit(gpointer data)
{
    const child_limit *limit = data;
    struct rlimit r = {limit->value, limit->value};
    if (limit->value)
        setrlimit(limit->resource, &r);
    signal(SIGXFSZ, SIG_IGN);
}

int test_run_slidefrag_limited(int resource, uint64_t value, const char *const *argv, char **err)
{
    GPtrArray *args = g_ptr_array_new();
    g_ptr_array_add(args, (char *)SLIDEFRAG_BINARY);
    for (const char *const *a = argv; *a; a++)
        g_ptr_array_add(args, (char *)*a);
    g_ptr_array_add(args, NULL);
    child_limit limit = {resource, (rlim_t)value};
    int wait_status = 0;
    GError *error = NULL;
    gboolean ok = g_spawn_sync(NULL, (char **)args->pdata, NULL, G_SPAWN_STDOUT_TO_DEV_NULL,
                               apply_limit, &limit, NULL, err, &wait_status, &error);
    g_ptr_array_free(args, TRUE);
    if (!ok)
        fail_msg("cannot run %s: %s", SLIDEFRAG_BINARY, error->message);
    if (WIFEXITED(wait_status))
        return WEXITSTATUS(wait_status);
    return 128 + WTERMSIG(wait_status);
}

GPtrArray *test_help_commands(const char *help)
{
    GPtrArray *commands = g_ptr_array_new_with_free_func(g_free);
    const char *section = strstr(help, "\nCommands:\n");
    assert_non_null(section);
    g_auto(GStrv) lines = g_strsplit(section + strlen("\nCommands:\n"), "\n", -1);
    for (char **line = lines; *line && **line; line++) {
        g_auto(GStrv) words = g_strsplit_set(g_strstrip(*line), " ", 2);
        g_ptr_array_add(commands, g_strdup(words[0]));
    }
    assert_true(commands->len > 0);
    return commands;
}

GPtrArray *test_help_options(const char *binary, const char *command)
{
    const char *argv[] = {binary, command, "--help-all", NULL};
    g_autofree char *out = NULL;
    assert_int_equal(test_run(argv, NULL, NULL, &out, NULL), 0);
    GPtrArray *options = g_ptr_array_new_with_free_func(g_free);
    g_auto(GStrv) lines = g_strsplit(out, "\n", -1);
    for (char **line = lines; *line; line++) {
        /* "  -o, --output=OUTDIR    Output folder": the spellings end at
         * the first run of two spaces. */
        const char *spec = *line + strspn(*line, " ");
        if (spec == *line || *spec != '-')
            continue;
        const char *gap = strstr(spec, "  ");
        g_autofree char *names = gap ? g_strndup(spec, gap - spec) : g_strdup(spec);
        g_auto(GStrv) parts = g_strsplit(names, ", ", -1);
        for (char **part = parts; *part; part++) {
            char *equals = strchr(*part, '=');
            g_ptr_array_add(options, equals ? g_strndup(*part, equals - *part) : g_strdup(*part));
        }
    }
    return options;
}

sf_image test_image_new(int width, int height, int channels)
{
    sf_image image = {
        .data = g_malloc0((size_t)width * height * channels + 1),
        .width = width,
        .height = height,
        .channels = channels,
        .stride = (size_t)width * channels,
    };
    return image;
}

void test_image_free(sf_image *image)
{
    g_free(image->data);
    image->data = NULL;
}

sf_image test_image_load_png(const char *path, int channels)
{
    GError *error = NULL;
    int width = 0, height = 0;
    uint8_t *pixels = sf_png_load(path, channels, &width, &height, &error);
    if (!pixels)
        fail_msg("%s", error->message);
    sf_image image = {
        .data = pixels,
        .width = width,
        .height = height,
        .channels = channels,
        .stride = (size_t)width * channels,
    };
    return image;
}

void test_assert_no_partial_files(const char *dir)
{
    g_autoptr(GDir) listing = g_dir_open(dir, 0, NULL);
    if (!listing)
        return;
    const char *name;
    while ((name = g_dir_read_name(listing))) {
        g_autofree char *path = g_build_filename(dir, name, NULL);
        if (g_str_has_suffix(name, ".part"))
            fail_msg("temporary file left: %s", path);
        if (g_file_test(path, G_FILE_TEST_IS_DIR) && !g_file_test(path, G_FILE_TEST_IS_SYMLINK))
            test_assert_no_partial_files(path);
    }
}

void test_assert_error(const GError *error, int code, const char *needle)
{
    assert_non_null(error);
    assert_true(error->domain == SF_ERROR);
    if (error->code != code)
        fail_msg("error code %d, expected %d: %s", error->code, code, error->message);
    if (needle && !strstr(error->message, needle))
        fail_msg("error '%s' does not contain '%s'", error->message, needle);
}

char *test_dir_entries(const char *dir)
{
    g_autoptr(GError) error = NULL;
    GPtrArray *names = sf_folder_sorted_names(dir, &error);
    if (!names)
        fail_msg("%s", error->message);
    g_ptr_array_add(names, NULL);
    char *joined = g_strjoinv("|", (char **)names->pdata);
    g_ptr_array_free(names, TRUE);
    return joined;
}

/* Every image file of a slide folder decodes completely. */
static void assert_images_whole(const char *dir)
{
    static const char *const names[] = {"overview.jpg", "boxes.jpg"};
    for (size_t i = 0; i < G_N_ELEMENTS(names); i++) {
        g_autofree char *path = g_build_filename(dir, names[i], NULL);
        if (!g_file_test(path, G_FILE_TEST_EXISTS))
            continue;
        int w, h;
        g_autoptr(GError) error = NULL;
        g_autofree uint8_t *pixels = sf_jpeg_load(path, &w, &h, &error);
        if (!pixels)
            fail_msg("%s", error->message);
    }
    g_autofree char *mask = g_build_filename(dir, "mask.png", NULL);
    if (g_file_test(mask, G_FILE_TEST_EXISTS)) {
        int w, h;
        g_autoptr(GError) error = NULL;
        g_autofree uint8_t *pixels = sf_png_load(mask, 1, &w, &h, &error);
        if (!pixels)
            fail_msg("%s", error->message);
    }
    g_autofree char *fragments = g_build_filename(dir, "fragments", NULL);
    g_autoptr(GDir) listing = g_dir_open(fragments, 0, NULL);
    const char *name;
    while (listing && (name = g_dir_read_name(listing))) {
        g_autofree char *path = g_build_filename(fragments, name, NULL);
        int w, h;
        g_autoptr(GError) error = NULL;
        g_autofree uint8_t *pixels = sf_jpeg_load(path, &w, &h, &error);
        if (!pixels)
            fail_msg("%s", error->message);
    }
}

sf_manifest *test_assert_slide_folder_finished(const char *dir)
{
    g_autofree char *manifest_path = g_build_filename(dir, "manifest.json", NULL);
    g_autoptr(GError) error = NULL;
    sf_manifest *manifest = sf_manifest_load(manifest_path, &error);
    if (!manifest)
        fail_msg("%s", error->message);
    g_autoptr(GHashTable) listed = g_hash_table_new(g_str_hash, g_str_equal);
    for (size_t i = 0; i < manifest->n_regions; i++) {
        const sf_manifest_region *r = &manifest->regions[i];
        g_autofree char *path = g_build_filename(dir, r->fragment_file, NULL);
        int w = 0, h = 0;
        g_autoptr(GError) load_error = NULL;
        g_autofree uint8_t *pixels = sf_jpeg_load(path, &w, &h, &load_error);
        if (!pixels)
            fail_msg("manifest lists %s: %s", r->fragment_file, load_error->message);
        assert_int_equal(w, r->fragment_width);
        assert_int_equal(h, r->fragment_height);
        g_hash_table_add(listed, r->fragment_name);
    }
    g_autofree char *fragments = g_build_filename(dir, "fragments", NULL);
    g_autoptr(GDir) listing = g_dir_open(fragments, 0, NULL);
    assert_non_null(listing);
    const char *name;
    while ((name = g_dir_read_name(listing)))
        if (!g_hash_table_contains(listed, name))
            fail_msg("%s/%s is not in the manifest", fragments, name);
    assert_images_whole(dir);
    test_assert_no_partial_files(dir);
    return manifest;
}

void test_assert_slide_folder_unfinished(const char *dir)
{
    g_autofree char *manifest_path = g_build_filename(dir, "manifest.json", NULL);
    assert_false(g_file_test(manifest_path, G_FILE_TEST_EXISTS));
    assert_images_whole(dir);
    test_assert_no_partial_files(dir);
}

void test_assert_contains(const char *text, const char *part)
{
    if (!text || !strstr(text, part))
        fail_msg("'%s' not in: %s", part, text ? text : "(null)");
}

void test_write_text(const char *path, const char *text)
{
    GError *error = NULL;
    if (!g_file_set_contents(path, text, -1, &error))
        fail_msg("%s", error->message);
}

void test_assert_box(const sf_box *b, int64_t x, int64_t y, int64_t w, int64_t h)
{
    if (b->x != x || b->y != y || b->w != w || b->h != h)
        fail_msg("box (%" PRId64 ", %" PRId64 ", %" PRId64 ", %" PRId64 "), expected (%" PRId64
                 ", %" PRId64 ", %" PRId64 ", %" PRId64 ")",
                 b->x, b->y, b->w, b->h, x, y, w, h);
}

sf_slide *test_open_slide(const char *path)
{
    GError *error = NULL;
    sf_slide *slide = sf_slide_open(path, &error);
    if (!slide)
        fail_msg("%s", error->message);
    return slide;
}

sf_slide *test_open_fixture_slide(const char *name)
{
    g_autofree char *path = test_fixture(name);
    return test_open_slide(path);
}

sf_image test_padded_image(int width, int height, int channels, size_t pad)
{
    sf_image image = {
        .width = width,
        .height = height,
        .channels = channels,
        .stride = (size_t)width * channels + pad,
    };
    image.data = g_malloc((size_t)height * image.stride + 1);
    memset(image.data, TEST_PAD_VALUE, (size_t)height * image.stride + 1);
    return image;
}

void test_assert_padding_intact(const sf_image *image)
{
    size_t used = (size_t)image->width * image->channels;
    for (int y = 0; y < image->height; y++)
        for (size_t i = used; i < image->stride; i++)
            if (image->data[(size_t)y * image->stride + i] != TEST_PAD_VALUE)
                fail_msg("row %d: padding byte %zu overwritten", y, i - used);
}

void test_write_manifest(const char *path, const char *slide, int64_t width, int64_t height,
                         const char *mpp, const char *bounds, const test_region *regions, size_t n)
{
    GString *s = g_string_new(NULL);
    g_string_append_printf(
        s,
        "{\n  \"schema\": \"slidefrag.manifest/1\",\n"
        "  \"tool\": {\"name\": \"slidefrag\", \"version\": \"0.1.0\"},\n"
        "  \"slide\": {\"path\": \"/data/%s.mrxs\", \"name\": \"%s\", \"vendor\": \"mirax\",\n"
        "    \"width\": %" G_GINT64_FORMAT ", \"height\": %" G_GINT64_FORMAT
        ", \"mpp_x\": %s, \"mpp_y\": %s,\n"
        "    \"objective_power\": null, \"quickhash\": null, \"bounds\": %s, \"levels\": []},\n"
        "  \"overview\": {\"file\": \"overview.jpg\", \"level\": 0, \"level_downsample\": 1.0,\n"
        "    \"width\": 3000, \"height\": 2000, \"scale_x\": 3.0, \"scale_y\": 3.0},\n"
        "  \"params\": {}, \"threshold\": 200,\n  \"regions\": [",
        slide, slide, width, height, mpp, mpp, bounds);
    for (size_t i = 0; i < n; i++) {
        const test_region *r = &regions[i];
        g_autofree char *name = sf_fragment_name_format(slide, r->x, r->y, r->w, r->h);
        g_string_append_printf(
            s,
            "%s\n    {\"id\": %zu, \"level0\": {\"x\": %" G_GINT64_FORMAT
            ", \"y\": %" G_GINT64_FORMAT ", \"w\": %" G_GINT64_FORMAT ", \"h\": %" G_GINT64_FORMAT
            "},\n"
            "     \"overview\": {\"x\": 0, \"y\": 0, \"w\": 1, \"h\": 1}, \"tissue_fraction\": "
            "0.5,\n"
            "     \"fragment\": {\"file\": \"fragments/%s\", \"width\": %d, \"height\": %d,\n"
            "       \"downsample\": %.6f, \"level\": 0}}",
            i ? "," : "", i, r->x, r->y, r->w, r->h, name, r->width, r->height,
            (double)r->w / r->width);
    }
    g_string_append(s, "\n  ],\n  \"timings\": {\"total\": 1.0}\n}\n");
    test_write_text(path, s->str);
    g_string_free(s, TRUE);
}
