/*
 * What `cmake --install` puts in place, used the way a lab would use it:
 * the command from its bin folder, a C program built through slidefrag.pc,
 * the ctypes snippet of docs/library.md, the man pages and the bash
 * completion. One install into a temporary prefix serves every test.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <string.h>

#include "support.h"
#include "slidefrag/manifest.h"
#include "slidefrag/version.h"

static char *prefix;  /* the install */
static char *scratch; /* outputs of the tests */

static char *in_prefix(const char *relative)
{
    return g_build_filename(prefix, relative, NULL);
}

static char *installed_binary(void)
{
    return in_prefix("bin/slidefrag");
}

static int setup(void **state)
{
    (void)state;
    prefix = test_make_tmpdir();
    scratch = test_make_tmpdir();
    /* lib, not a multiarch path: the test's own choice, so paths are known. */
    const char *argv[] = {SLIDEFRAG_CMAKE, "--install", SLIDEFRAG_BUILD_DIR,
                          "--prefix",      prefix,      NULL};
    g_autofree char *out = NULL, *err = NULL;
    int code = test_run(argv, NULL, NULL, &out, &err);
    if (code != 0)
        fail_msg("cmake --install: exit %d\n%s%s", code, out, err);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    test_remove_tree(prefix);
    test_remove_tree(scratch);
    g_free(prefix);
    g_free(scratch);
    return 0;
}

/* The environment of a program run against the install. */
static char **install_env(void)
{
    char **env = g_get_environ();
    g_autofree char *lib = in_prefix("lib");
    g_autofree char *pc = in_prefix("lib/pkgconfig");
    env = g_environ_setenv(env, "LD_LIBRARY_PATH", lib, TRUE);
    env = g_environ_setenv(env, "PKG_CONFIG_PATH", pc, TRUE);
    return env;
}

/* The commands `slidefrag --help` lists. */
static GPtrArray *listed_commands(const char *binary)
{
    const char *argv[] = {binary, "--help", NULL};
    g_autofree char *out = NULL;
    assert_int_equal(test_run(argv, NULL, NULL, &out, NULL), 0);
    return test_help_commands(out);
}

static void test_files_in_place(void **state)
{
    (void)state;
    g_autofree char *binary = installed_binary();
    const char *argv[] = {binary, "--version", NULL};
    g_autofree char *out = NULL;
    assert_int_equal(test_run(argv, NULL, NULL, &out, NULL), 0);
    assert_string_equal(out, "slidefrag " SLIDEFRAG_VERSION "\n");

    /* The library under its soname, and the link-time name beside it. */
    g_autofree char *soname = in_prefix("lib/libslidefrag.so." SLIDEFRAG_SOVERSION);
    g_autofree char *devlink = in_prefix("lib/libslidefrag.so");
    assert_true(g_file_test(soname, G_FILE_TEST_IS_SYMLINK));
    assert_true(g_file_test(soname, G_FILE_TEST_IS_REGULAR));
    g_autofree char *target = g_file_read_link(devlink, NULL);
    assert_non_null(target);
    assert_true(g_str_has_prefix(target, "libslidefrag.so." SLIDEFRAG_SOVERSION));

    /* Every public header, and nothing from src/. */
    g_autofree char *source_headers =
        g_build_filename(SLIDEFRAG_SOURCE_DIR, "include", "slidefrag", NULL);
    g_autofree char *installed_headers = in_prefix("include/slidefrag");
    g_autofree char *expected = test_dir_entries(source_headers);
    g_autofree char *with_version = g_strconcat(expected, "|version.h", NULL);
    g_autofree char *found = test_dir_entries(installed_headers);
    assert_string_equal(found, with_version);

    const char *files[] = {"lib/pkgconfig/slidefrag.pc",
                           "share/bash-completion/completions/slidefrag",
                           "share/slidefrag/scripts/Snakefile",
                           "share/slidefrag/scripts/snakemake-config.yaml",
                           "share/slidefrag/scripts/example-slides.txt",
                           "share/slidefrag/fixtures/cmu-1-small-region.svs"};
    for (size_t i = 0; i < G_N_ELEMENTS(files); i++) {
        g_autofree char *path = in_prefix(files[i]);
        if (!g_file_test(path, G_FILE_TEST_IS_REGULAR))
            fail_msg("not installed: %s", files[i]);
    }
}

/* Every command the program lists has its man page, and CMakeLists.txt's
 * list (which makes them) is the program's. */
static void test_a_man_page_per_command(void **state)
{
    (void)state;
    g_autofree char *binary = installed_binary();
    g_autoptr(GPtrArray) commands = listed_commands(binary);
    g_ptr_array_add(commands, NULL);
    g_autofree char *joined = g_strjoinv(" ", (char **)commands->pdata);
    assert_string_equal(joined, SLIDEFRAG_COMMANDS);

    g_autofree char *page = in_prefix("share/man/man1/slidefrag.1");
    assert_true(g_file_test(page, G_FILE_TEST_IS_REGULAR));
    for (guint i = 0; commands->pdata[i]; i++) {
        g_autofree char *name =
            g_strdup_printf("share/man/man1/slidefrag-%s.1", (char *)commands->pdata[i]);
        g_autofree char *path = in_prefix(name);
        if (!g_file_test(path, G_FILE_TEST_IS_REGULAR))
            fail_msg("no man page %s", name);
    }
}

/* man renders each page, and the rendered page names every option the
 * command's --help-all lists. */
static void test_man_pages_render_every_option(void **state)
{
    (void)state;
    g_autofree char *binary = installed_binary();
    g_autoptr(GPtrArray) commands = listed_commands(binary);
    g_auto(GStrv) env = g_environ_setenv(g_get_environ(), "MANWIDTH", "100", TRUE);
    env = g_environ_setenv(env, "LC_ALL", "C.UTF-8", TRUE);
    for (guint i = 0; i < commands->len; i++) {
        const char *command = commands->pdata[i];
        g_autofree char *name = g_strdup_printf("share/man/man1/slidefrag-%s.1", command);
        g_autofree char *page = in_prefix(name);
        const char *man_argv[] = {"man", "-l", page, NULL};
        g_autofree char *text = NULL, *err = NULL;
        int code = test_run(man_argv, NULL, (const char *const *)env, &text, &err);
        if (code != 0)
            fail_msg("man -l %s: exit %d: %s", name, code, err);
        /* man justifies lines: one space wherever it put several. */
        g_autoptr(GRegex) spaces = g_regex_new(" +", 0, 0, NULL);
        g_autofree char *squeezed = g_regex_replace_literal(spaces, text, -1, 0, " ", 0, NULL);
        g_autofree char *title = g_strdup_printf("slidefrag-%s - ", command);
        if (!strstr(squeezed, title) || !strstr(text, "SYNOPSIS") || !strstr(text, "EXAMPLES"))
            fail_msg("%s renders without its NAME, SYNOPSIS or EXAMPLES:\n%s", name, text);

        g_autoptr(GPtrArray) options = test_help_options(binary, command);
        assert_true(options->len > 1);
        for (guint k = 0; k < options->len; k++) {
            const char *option = options->pdata[k];
            if (!strstr(text, option))
                fail_msg("%s does not mention %s", name, option);
        }
    }
}

/* What bash offers for the words `words`, through the installed completion
 * (space-separated). */
static char *complete(const char *const *words)
{
    g_autofree char *script = in_prefix("share/bash-completion/completions/slidefrag");
    GString *program = g_string_new(NULL);
    g_autofree char *quoted_script = g_shell_quote(script);
    g_string_append_printf(program, "source %s\nCOMP_WORDS=(", quoted_script);
    int n = 0;
    for (const char *const *w = words; *w; w++, n++) {
        g_autofree char *quoted = g_shell_quote(*w);
        g_string_append_printf(program, "%s ", quoted);
    }
    g_string_append_printf(program,
                           ")\nCOMP_CWORD=%d\n_slidefrag\n"
                           "printf '%%s\\n' \"${COMPREPLY[@]}\"\n",
                           n - 1);
    g_autofree char *text = g_string_free(program, FALSE);
    const char *argv[] = {"bash", "--norc", "-c", text, NULL};
    char *out = NULL;
    g_autofree char *err = NULL;
    int code = test_run(argv, scratch, NULL, &out, &err);
    if (code != 0 || *err)
        fail_msg("bash completion: exit %d: %s", code, err);
    return out;
}

static gboolean offered(const char *completions, const char *word)
{
    g_auto(GStrv) lines = g_strsplit(completions, "\n", -1);
    return g_strv_contains((const char *const *)lines, word);
}

static void test_completion_offers_every_command_and_option(void **state)
{
    (void)state;
    g_autofree char *binary = installed_binary();
    g_autoptr(GPtrArray) commands = listed_commands(binary);

    const char *first[] = {binary, "", NULL};
    g_autofree char *listed = complete(first);
    for (guint i = 0; i < commands->len; i++)
        if (!offered(listed, commands->pdata[i]))
            fail_msg("'slidefrag <TAB>' does not offer %s: %s", (char *)commands->pdata[i], listed);

    for (guint i = 0; i < commands->len; i++) {
        const char *command = commands->pdata[i];
        const char *words[] = {binary, command, "-", NULL};
        g_autofree char *got = complete(words);
        g_autoptr(GPtrArray) options = test_help_options(binary, command);
        for (guint k = 0; k < options->len; k++)
            if (!offered(got, options->pdata[k]))
                fail_msg("'slidefrag %s -<TAB>' does not offer %s; offers:\n%s", command,
                         (char *)options->pdata[k], got);
    }
}

static void test_completion_offers_values(void **state)
{
    (void)state;
    g_autofree char *binary = installed_binary();
    /* The choices an option's help spells "dark|bright", both ways to
     * write the argument. */
    const char *separate[] = {binary, "run", "--polarity", "", NULL};
    g_autofree char *got = complete(separate);
    assert_string_equal(got, "dark\nbright\n");
    const char *joined[] = {binary, "run", "--threshold", "=", "o", NULL};
    g_autofree char *otsu = complete(joined);
    assert_string_equal(otsu, "otsu\n");
    /* An output folder completes to folders only. */
    g_autofree char *folder = g_build_filename(scratch, "a-folder", NULL);
    g_autofree char *file = g_build_filename(scratch, "a-file", NULL);
    g_mkdir(folder, 0755);
    g_file_set_contents(file, "", 0, NULL);
    const char *output[] = {binary, "run", "-o", "a-", NULL};
    g_autofree char *dirs = complete(output);
    assert_string_equal(dirs, "a-folder\n");
}

/* The function names the public headers declare, read here on their own
 * terms. */
static GHashTable *declared_functions(void)
{
    g_autofree char *dir = g_build_filename(SLIDEFRAG_SOURCE_DIR, "include", "slidefrag", NULL);
    g_autoptr(GDir) listing = g_dir_open(dir, 0, NULL);
    assert_non_null(listing);
    GHashTable *names = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    g_autoptr(GRegex) comment = g_regex_new("/\\*.*?\\*/", G_REGEX_DOTALL, 0, NULL);
    g_autoptr(GRegex) call = g_regex_new("\\b(sf_\\w+)\\s*\\(", 0, 0, NULL);
    const char *name;
    while ((name = g_dir_read_name(listing))) {
        g_autofree char *path = g_build_filename(dir, name, NULL);
        g_autofree char *text = NULL;
        assert_true(g_file_get_contents(path, &text, NULL, NULL));
        g_autofree char *code = g_regex_replace_literal(comment, text, -1, 0, "", 0, NULL);
        g_autoptr(GMatchInfo) match = NULL;
        g_regex_match(call, code, 0, &match);
        while (g_match_info_matches(match)) {
            g_hash_table_add(names, g_match_info_fetch(match, 1));
            g_match_info_next(match, NULL);
        }
    }
    return names;
}

/* The library exports the public API: every function a public header
 * declares (so none is declared without being in the library), and
 * nothing else (so the helpers shared inside src/ stay private). */
static void test_library_exports_exactly_the_public_api(void **state)
{
    (void)state;
    g_autofree char *library = in_prefix("lib/libslidefrag.so." SLIDEFRAG_SOVERSION);
    const char *argv[] = {"nm", "-D", "--defined-only", library, NULL};
    g_autofree char *out = NULL;
    assert_int_equal(test_run(argv, NULL, NULL, &out, NULL), 0);
    g_autoptr(GHashTable) declared = declared_functions();
    g_autoptr(GHashTable) exported = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    g_auto(GStrv) lines = g_strsplit(out, "\n", -1);
    for (char **line = lines; *line; line++) {
        g_auto(GStrv) fields = g_strsplit(g_strstrip(*line), " ", -1);
        guint n = g_strv_length(fields);
        if (n < 3 || !strcmp(fields[1], "A")) /* the version node itself */
            continue;
        char *at = strchr(fields[2], '@');
        if (!at || strcmp(at, "@@SLIDEFRAG_" SLIDEFRAG_SOVERSION))
            fail_msg("%s is not in the version node SLIDEFRAG_%s", fields[2], SLIDEFRAG_SOVERSION);
        *at = '\0';
        g_hash_table_add(exported, g_strdup(fields[2]));
    }
    GHashTableIter iter;
    gpointer key;
    g_hash_table_iter_init(&iter, exported);
    while (g_hash_table_iter_next(&iter, &key, NULL))
        if (!g_hash_table_contains(declared, key))
            fail_msg("%s is exported but no public header declares it", (char *)key);
    g_hash_table_iter_init(&iter, declared);
    while (g_hash_table_iter_next(&iter, &key, NULL))
        if (!g_hash_table_contains(exported, key))
            fail_msg("%s is declared in a public header but not exported", (char *)key);
    /* Helpers every part of the tool calls, and the commands, stay inside. */
    const char *internal[] = {"sf_json_add_double",   "sf_json_file_text",
                              "sf_cmd_run",           "sf_slide_stem",
                              "sf_batch_status_name", "sf_folder_sorted_names"};
    for (size_t i = 0; i < G_N_ELEMENTS(internal); i++)
        assert_false(g_hash_table_contains(exported, internal[i]));
    assert_true(g_hash_table_size(exported) > 50);
}

/* slidefrag run's manifest, read for one number. */
static int64_t manifest_int(const char *dir, const char *member)
{
    g_autofree char *path = g_build_filename(dir, "cmu-1-small-region", "manifest.json", NULL);
    g_autoptr(JsonParser) parser = json_parser_new();
    assert_true(json_parser_load_from_file(parser, path, NULL));
    return json_object_get_int_member(json_node_get_object(json_parser_get_root(parser)), member);
}

static char *run_installed(const char *max_size)
{
    g_autofree char *binary = installed_binary();
    g_autofree char *slide = test_fixture("cmu-1-small-region.svs");
    char *out_dir = g_build_filename(scratch, max_size, NULL);
    const char *argv[] = {binary, "run", slide, "-o", out_dir, "--max-size", max_size, NULL};
    g_autofree char *err = NULL;
    int code = test_run(argv, NULL, NULL, NULL, &err);
    if (code != 0)
        fail_msg("installed slidefrag run: exit %d: %s", code, err);
    return out_dir;
}

/* examples/slide_regions.c, compiled the way its comment says, finds the
 * region `slidefrag run` finds. */
static void test_c_example_builds_through_pkg_config(void **state)
{
    (void)state;
    g_auto(GStrv) env = install_env();
    const char *pc_argv[] = {"pkg-config", "--cflags", "--libs", "slidefrag", NULL};
    g_autofree char *flags = NULL, *pc_err = NULL;
    if (test_run(pc_argv, NULL, (const char *const *)env, &flags, &pc_err) != 0)
        fail_msg("pkg-config --cflags --libs slidefrag: %s", pc_err);
    g_autofree char *lib = in_prefix("lib");
    assert_non_null(strstr(flags, "-lslidefrag"));
    assert_non_null(strstr(flags, lib));

    g_autofree char *source =
        g_build_filename(SLIDEFRAG_SOURCE_DIR, "examples", "slide_regions.c", NULL);
    g_autofree char *program = g_build_filename(scratch, "slide_regions", NULL);
    /* An installed sanitized library needs its runtime in the program. */
    const char *sanitize = g_getenv("SLIDEFRAG_SANITIZED") ? "-fsanitize=address,undefined" : "";
    g_autofree char *command =
        g_strdup_printf("%s -std=c11 -Wall -Wextra -Werror %s %s -o %s %s", SLIDEFRAG_CC, sanitize,
                        source, program, g_strstrip(flags));
    const char *cc_argv[] = {"sh", "-c", command, NULL};
    g_autofree char *cc_out = NULL, *cc_err = NULL;
    if (test_run(cc_argv, NULL, (const char *const *)env, &cc_out, &cc_err) != 0)
        fail_msg("%s\n%s%s", command, cc_out, cc_err);

    g_autofree char *slide = test_fixture("cmu-1-small-region.svs");
    const char *argv[] = {program, slide, NULL};
    g_autofree char *out = NULL, *err = NULL;
    int code = test_run(argv, NULL, (const char *const *)env, &out, &err);
    if (code != 0)
        fail_msg("slide_regions: exit %d: %s", code, err);
    assert_non_null(strstr(out, "2220 x 2967 pixels"));

    g_autofree char *run_dir = run_installed("1024");
    g_autofree char *manifest =
        g_build_filename(run_dir, "cmu-1-small-region", "manifest.json", NULL);
    g_autoptr(sf_manifest) m = sf_manifest_load(manifest, NULL);
    assert_non_null(m);
    g_autofree char *count = g_strdup_printf("%zu region(s)", m->n_regions);
    if (!strstr(out, count))
        fail_msg("slide_regions says\n%s\nbut run found %zu regions", out, m->n_regions);
    /* The example prints the tissue as detected; run pads it into the
     * fragment's box, and keeps the detected box beside it. */
    assert_true(m->regions[0].has_tissue);
    g_autofree char *first = g_strdup_printf("region 0: x %" G_GINT64_FORMAT " y %" G_GINT64_FORMAT,
                                             m->regions[0].detected.x, m->regions[0].detected.y);
    if (!strstr(out, first))
        fail_msg("slide_regions says\n%s\nbut run's first region is at %s", out, first);
}

/* The ```python block of docs/library.md, run as it stands. */
static void test_ctypes_snippet_of_the_docs(void **state)
{
    (void)state;
    /* Python cannot load a sanitized library without its runtime first. */
    if (g_getenv("SLIDEFRAG_SANITIZED"))
        skip();
    g_autofree char *doc = g_build_filename(SLIDEFRAG_SOURCE_DIR, "docs", "library.md", NULL);
    g_autofree char *text = NULL;
    assert_true(g_file_get_contents(doc, &text, NULL, NULL));
    const char *start = strstr(text, "```python\n");
    assert_non_null(start);
    start += strlen("```python\n");
    const char *end = strstr(start, "```\n");
    assert_non_null(end);
    g_autofree char *snippet = g_strndup(start, end - start);
    g_autofree char *script = g_build_filename(scratch, "snippet.py", NULL);
    assert_true(g_file_set_contents(script, snippet, -1, NULL));

    g_auto(GStrv) env = install_env();
    g_autofree char *slide = test_fixture("cmu-1-small-region.svs");
    const char *argv[] = {"python3", script, slide, NULL};
    g_autofree char *out = NULL, *err = NULL;
    int code = test_run(argv, NULL, (const char *const *)env, &out, &err);
    if (code != 0)
        fail_msg("the ctypes snippet: exit %d\n%s%s", code, out, err);
    assert_non_null(strstr(out, "2220 x 2967 pixels, 0.499 um/px"));

    g_autofree char *run_dir = run_installed("512");
    g_autofree char *expected = g_strdup_printf("Otsu threshold %" G_GINT64_FORMAT "\n",
                                                manifest_int(run_dir, "threshold"));
    if (!strstr(out, expected))
        fail_msg("the snippet says\n%s\nslidefrag run --max-size 512 used %s", out, expected);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_files_in_place),
        cmocka_unit_test(test_a_man_page_per_command),
        cmocka_unit_test(test_man_pages_render_every_option),
        cmocka_unit_test(test_completion_offers_every_command_and_option),
        cmocka_unit_test(test_completion_offers_values),
        cmocka_unit_test(test_library_exports_exactly_the_public_api),
        cmocka_unit_test(test_c_example_builds_through_pkg_config),
        cmocka_unit_test(test_ctypes_snippet_of_the_docs),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
