/*
 * Replays what fuzzing found and kept, without libFuzzer: every file under
 * tests/fuzz_regressions/<name>/ (inputs that once crashed or broke a
 * property) and fuzz/corpus/<name>/ (the corpus the fuzzer grew) goes
 * through the harness sf_fuzz_<name> (fuzz/fuzz.h), which aborts when a
 * property fails.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "support.h"

#include "fuzz.h"

/* Under AddressSanitizer: a corrupt tile size makes OpenSlide ask for tens
 * of GB, which plain malloc refuses and OpenSlide handles; ASan would abort
 * instead of returning NULL. (Unused without ASan.) */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
    return "allocator_may_return_null=1";
}

/* Feeds every file of `dir` to `target`; returns how many. */
static guint replay_dir(const sf_fuzz_target *target, const char *dir)
{
    g_autoptr(GDir) listing = g_dir_open(dir, 0, NULL);
    if (!listing)
        return 0;
    guint n = 0;
    const char *name;
    while ((name = g_dir_read_name(listing))) {
        g_autofree char *path = g_build_filename(dir, name, NULL);
        if (!g_file_test(path, G_FILE_TEST_IS_REGULAR) || name[0] == '.')
            continue;
        g_autofree char *data = NULL;
        gsize length = 0;
        assert_true(g_file_get_contents(path, &data, &length, NULL));
        /* A copy of exactly the file's size, so ASan sees reads past it. */
        uint8_t *copy = g_memdup2(data, length);
        assert_int_equal(target->run(copy, length), 0);
        g_free(copy);
        n++;
    }
    return n;
}

static void test_replay(void **state)
{
    const sf_fuzz_target *target = *state;
    g_autofree char *kept =
        g_build_filename(SLIDEFRAG_SOURCE_DIR, "tests", "fuzz_regressions", target->name, NULL);
    g_autofree char *corpus =
        g_build_filename(SLIDEFRAG_SOURCE_DIR, "fuzz", "corpus", target->name, NULL);
    guint n = replay_dir(target, kept) + replay_dir(target, corpus);
    /* Every harness has at least its seeds. */
    if (n == 0)
        fail_msg("nothing to replay for %s in %s or %s", target->name, kept, corpus);
    /* And an empty input, the fuzzer's first. */
    assert_int_equal(target->run((const uint8_t *)"", 0), 0);
}

int main(void)
{
    GArray *tests = g_array_new(FALSE, FALSE, sizeof(struct CMUnitTest));
    for (const sf_fuzz_target *t = sf_fuzz_targets; t->name; t++) {
        struct CMUnitTest test = {t->name, test_replay, NULL, NULL, (void *)t};
        g_array_append_val(tests, test);
    }
    int failed = _cmocka_run_group_tests("fuzz_regressions", (struct CMUnitTest *)tests->data,
                                         tests->len, NULL, NULL);
    g_array_free(tests, TRUE);
    return failed;
}
