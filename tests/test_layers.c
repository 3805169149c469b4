/*
 * What may include what (ARCHITECTURE of src/): OpenSlide only in its
 * backend; slide reading uses the error domain and nothing else of
 * slidefrag's; the file formats of src/io use slides only through the
 * public header. Checked on the sources, so a stray include fails here
 * rather than in a later reshuffle.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "support.h"

#include <string.h>

/* The quoted and angled includes of every .c and .h file in src/<dir>,
 * as "file: include" lines. */
static GPtrArray *includes_in(const char *dir)
{
    g_autofree char *path = g_build_filename(SLIDEFRAG_SOURCE_DIR, "src", dir, NULL);
    g_autoptr(GDir) listing = g_dir_open(path, 0, NULL);
    assert_non_null(listing);
    GPtrArray *found = g_ptr_array_new_with_free_func(g_free);
    const char *name;
    while ((name = g_dir_read_name(listing))) {
        if (!g_str_has_suffix(name, ".c") && !g_str_has_suffix(name, ".h"))
            continue;
        g_autofree char *file = g_build_filename(path, name, NULL);
        g_autofree char *text = NULL;
        assert_true(g_file_get_contents(file, &text, NULL, NULL));
        g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
        for (char **l = lines; *l; l++) {
            const char *p = *l;
            if (!g_str_has_prefix(p, "#include"))
                continue;
            p += strlen("#include");
            while (*p == ' ')
                p++;
            g_ptr_array_add(found, g_strdup_printf("%s/%s: %s", dir, name, p));
        }
    }
    return found;
}

static const char *included(const char *line)
{
    return strstr(line, ": ") + 2;
}

static void test_openslide_only_in_its_backend(void **state)
{
    (void)state;
    static const char *const dirs[] = {"core", "error", "slide", "io", "run", "batch", "cli"};
    int seen = 0;
    for (size_t d = 0; d < G_N_ELEMENTS(dirs); d++) {
        g_autoptr(GPtrArray) lines = includes_in(dirs[d]);
        for (guint i = 0; i < lines->len; i++) {
            const char *line = lines->pdata[i];
            if (!strstr(included(line), "openslide.h") ||
                strstr(included(line), "backend_openslide.h"))
                continue;
            if (!g_str_has_prefix(line, "slide/backend_openslide.c: "))
                fail_msg("OpenSlide included outside its backend: %s", line);
            seen++;
        }
    }
    assert_int_equal(seen, 1);
}

/* Each quoted include in src/<dir> names one of the allowed prefixes. */
static void assert_includes_only(const char *dir, const char *const *allowed)
{
    g_autoptr(GPtrArray) lines = includes_in(dir);
    assert_true(lines->len > 0);
    for (guint i = 0; i < lines->len; i++) {
        const char *what = included(lines->pdata[i]);
        if (what[0] != '"')
            continue;
        gboolean ok = FALSE;
        for (const char *const *a = allowed; *a && !ok; a++)
            ok = g_str_has_prefix(what + 1, *a);
        if (!ok)
            fail_msg("not allowed in src/%s: %s", dir, (const char *)lines->pdata[i]);
    }
}

static void test_slide_uses_only_the_error_domain(void **state)
{
    (void)state;
    static const char *const allowed[] = {"slide/", "slidefrag/error.h", "slidefrag/slide.h", NULL};
    assert_includes_only("slide", allowed);
    static const char *const error_allowed[] = {"slidefrag/error.h", NULL};
    assert_includes_only("error", error_allowed);
}

static void test_io_uses_slides_only_through_the_public_header(void **state)
{
    (void)state;
    g_autoptr(GPtrArray) lines = includes_in("io");
    for (guint i = 0; i < lines->len; i++)
        if (g_str_has_prefix(included(lines->pdata[i]), "\"slide/"))
            fail_msg("src/io includes slide internals: %s", (const char *)lines->pdata[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_openslide_only_in_its_backend),
        cmocka_unit_test(test_slide_uses_only_the_error_domain),
        cmocka_unit_test(test_io_uses_slides_only_through_the_public_header),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
