/* Atomic output files: temp name beside the target, rename on commit. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "support.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>

#include "slidefrag/error.h"
#include "slidefrag/image_io.h"

/* Names in `dir`, sorted, as one string joined by '|' ("" when empty). */
static char *read_all(const char *path, size_t *length)
{
    char *contents = NULL;
    gsize len = 0;
    assert_true(g_file_get_contents(path, &contents, &len, NULL));
    *length = len;
    return contents;
}

static void test_commit_writes_and_renames(void **state)
{
    (void)state;
    g_autofree char *dir = test_make_tmpdir();
    g_autofree char *path = g_build_filename(dir, "out.bin", NULL);
    GError *error = NULL;
    sf_output *output = sf_output_create(path, &error);
    assert_non_null(output);
    assert_null(error);
    assert_string_equal(sf_output_path(output), path);
    fputs("hello ", sf_output_stream(output));
    fputs("world", sf_output_stream(output));

    /* Until commit only the hidden temp file exists, named after the target. */
    g_autofree char *during = test_dir_entries(dir);
    assert_true(g_str_has_prefix(during, ".out.bin."));
    assert_true(g_str_has_suffix(during, ".part"));
    assert_int_equal(strlen(during), strlen(".out.bin.XXXXXX.part"));
    assert_false(g_file_test(path, G_FILE_TEST_EXISTS));

    assert_true(sf_output_commit(output, &error));
    assert_null(error);
    g_autofree char *after = test_dir_entries(dir);
    assert_string_equal(after, "out.bin");
    size_t length = 0;
    g_autofree char *contents = read_all(path, &length);
    assert_int_equal(length, 11);
    assert_memory_equal(contents, "hello world", 11);
    test_remove_tree(dir);
}

static void test_commit_replaces_existing_file(void **state)
{
    (void)state;
    g_autofree char *dir = test_make_tmpdir();
    g_autofree char *path = g_build_filename(dir, "out.txt", NULL);
    assert_true(g_file_set_contents(path, "old contents, longer", -1, NULL));
    GError *error = NULL;
    assert_true(sf_write_file_atomic(path, "new", 3, &error));
    size_t length = 0;
    g_autofree char *contents = read_all(path, &length);
    assert_int_equal(length, 3);
    assert_memory_equal(contents, "new", 3);
    g_autofree char *names = test_dir_entries(dir);
    assert_string_equal(names, "out.txt");
    test_remove_tree(dir);
}

static void test_empty_file(void **state)
{
    (void)state;
    g_autofree char *dir = test_make_tmpdir();
    g_autofree char *path = g_build_filename(dir, "empty", NULL);
    GError *error = NULL;
    assert_true(sf_write_file_atomic(path, NULL, 0, &error));
    GStatBuf st;
    assert_int_equal(g_stat(path, &st), 0);
    assert_int_equal(st.st_size, 0);
    test_remove_tree(dir);
}

/* The result is an ordinary file: the umask decides, not mkstemp's 0600. */
static void test_permissions_follow_umask(void **state)
{
    (void)state;
    g_autofree char *dir = test_make_tmpdir();
    g_autofree char *path = g_build_filename(dir, "perm", NULL);
    mode_t old = umask(022);
    GError *error = NULL;
    gboolean ok = sf_write_file_atomic(path, "x", 1, &error);
    umask(old);
    assert_true(ok);
    GStatBuf st;
    assert_int_equal(g_stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0644);
    test_remove_tree(dir);
}

static void test_abort_leaves_nothing(void **state)
{
    (void)state;
    g_autofree char *dir = test_make_tmpdir();
    g_autofree char *path = g_build_filename(dir, "out.bin", NULL);
    GError *error = NULL;
    sf_output *output = sf_output_create(path, &error);
    assert_non_null(output);
    fputs("partial", sf_output_stream(output));
    sf_output_abort(output);
    g_autofree char *names = test_dir_entries(dir);
    assert_string_equal(names, "");

    /* Going out of scope uncommitted is an abort too. */
    {
        g_autoptr(sf_output) scoped = sf_output_create(path, &error);
        assert_non_null(scoped);
        fputs("partial", sf_output_stream(scoped));
    }
    g_autofree char *names2 = test_dir_entries(dir);
    assert_string_equal(names2, "");
    sf_output_abort(NULL);
    test_remove_tree(dir);
}

/* An abort must not touch an existing file of the same name. */
static void test_abort_keeps_old_file(void **state)
{
    (void)state;
    g_autofree char *dir = test_make_tmpdir();
    g_autofree char *path = g_build_filename(dir, "keep", NULL);
    assert_true(g_file_set_contents(path, "old", -1, NULL));
    sf_output *output = sf_output_create(path, NULL);
    assert_non_null(output);
    fputs("new", sf_output_stream(output));
    sf_output_abort(output);
    size_t length = 0;
    g_autofree char *contents = read_all(path, &length);
    assert_int_equal(length, 3);
    assert_memory_equal(contents, "old", 3);
    g_autofree char *names = test_dir_entries(dir);
    assert_string_equal(names, "keep");
    test_remove_tree(dir);
}

static void test_missing_directory(void **state)
{
    (void)state;
    g_autofree char *dir = test_make_tmpdir();
    g_autofree char *path = g_build_filename(dir, "no-such-dir", "out.bin", NULL);
    GError *error = NULL;
    assert_null(sf_output_create(path, &error));
    test_assert_error(error, SF_EXIT_OUTPUT, path);
    assert_non_null(strstr(error->message, g_strerror(ENOENT)));
    g_clear_error(&error);

    assert_false(sf_write_file_atomic(path, "x", 1, &error));
    test_assert_error(error, SF_EXIT_OUTPUT, path);
    g_clear_error(&error);
    test_remove_tree(dir);
}

/* A regular file where a directory should be: fails even for root, unlike a
 * read-only directory. */
static void test_parent_is_a_file(void **state)
{
    (void)state;
    g_autofree char *dir = test_make_tmpdir();
    g_autofree char *file = g_build_filename(dir, "file", NULL);
    assert_true(g_file_set_contents(file, "", 0, NULL));
    g_autofree char *path = g_build_filename(file, "out.bin", NULL);
    GError *error = NULL;
    assert_null(sf_output_create(path, &error));
    test_assert_error(error, SF_EXIT_OUTPUT, path);
    assert_non_null(strstr(error->message, g_strerror(ENOTDIR)));
    g_clear_error(&error);
    test_remove_tree(dir);
}

/* The rename fails when the target is a directory: commit reports it and
 * removes the temp file. */
static void test_commit_failure_cleans_up(void **state)
{
    (void)state;
    g_autofree char *dir = test_make_tmpdir();
    g_autofree char *path = g_build_filename(dir, "target", NULL);
    assert_int_equal(g_mkdir(path, 0755), 0);
    GError *error = NULL;
    sf_output *output = sf_output_create(path, &error);
    assert_non_null(output);
    fputs("data", sf_output_stream(output));
    assert_false(sf_output_commit(output, &error));
    test_assert_error(error, SF_EXIT_OUTPUT, path);
    g_clear_error(&error);
    g_autofree char *names = test_dir_entries(dir);
    assert_string_equal(names, "target");
    assert_true(g_file_test(path, G_FILE_TEST_IS_DIR));
    test_remove_tree(dir);
}

/* More than stdio's buffer, so the data reaches the file in several writes
 * before the final flush. */
static void test_large_write_round_trip(void **state)
{
    (void)state;
    g_autofree char *dir = test_make_tmpdir();
    g_autofree char *path = g_build_filename(dir, "big", NULL);
    size_t length = (1 << 20) + 7;
    g_autofree char *data = g_malloc(length);
    for (size_t i = 0; i < length; i++)
        data[i] = (char)(i * 31 + (i >> 9));
    GError *error = NULL;
    assert_true(sf_write_file_atomic(path, data, length, &error));
    size_t read_length = 0;
    g_autofree char *contents = read_all(path, &read_length);
    assert_int_equal(read_length, length);
    assert_memory_equal(contents, data, length);
    test_remove_tree(dir);
}

/* The temporary names sf_output makes are recognised, with the file each
 * becomes; names that merely look alike are not. */
static void test_temp_target(void **state)
{
    (void)state;
    g_autofree char *dir = test_make_tmpdir();
    g_autofree char *path = g_build_filename(dir, "mask.png", NULL);
    sf_output *output = sf_output_create(path, NULL);
    assert_non_null(output);
    g_autofree char *entries = test_dir_entries(dir);
    g_autofree char *target = sf_output_temp_target(entries);
    assert_non_null(target);
    assert_string_equal(target, "mask.png");
    sf_output_abort(output);
    test_remove_tree(dir);

    g_autofree char *dotted = sf_output_temp_target("..pending.Ab3xYz.part");
    assert_string_equal(dotted, ".pending");
    static const char *const not_temp[] = {
        "mask.png",
        ".mask.png.part",
        "mask.png.Ab3xYz.part",
        ".mask.png.Ab3xY.part",
        ".mask.png.Ab3-Yz.part",
        ".Ab3xYz.part",
        ".mask.png.Ab3xYz.parts",
        "notes.part",
    };
    for (size_t i = 0; i < G_N_ELEMENTS(not_temp); i++) {
        g_autofree char *none = sf_output_temp_target(not_temp[i]);
        if (none)
            fail_msg("'%s' taken for a temporary name of '%s'", not_temp[i], none);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_commit_writes_and_renames),
        cmocka_unit_test(test_commit_replaces_existing_file),
        cmocka_unit_test(test_empty_file),
        cmocka_unit_test(test_permissions_follow_umask),
        cmocka_unit_test(test_abort_leaves_nothing),
        cmocka_unit_test(test_abort_keeps_old_file),
        cmocka_unit_test(test_missing_directory),
        cmocka_unit_test(test_parent_is_a_file),
        cmocka_unit_test(test_commit_failure_cleans_up),
        cmocka_unit_test(test_large_write_round_trip),
        cmocka_unit_test(test_temp_target),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
