/*
 * The Debian package, built from this tree and used as installed:
 * scripts/test-package builds it with scripts/package, unpacks it into a
 * scratch root, checks that apt resolves its Depends, and runs
 * `slidefrag --version` from PATH, `pkg-config --libs slidefrag`, the C
 * example against it, `man slidefrag-run` and the demo slide (see the
 * script for each check). CI also installs it for real with apt
 * (`scripts/test-package --system` in .ci/run).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "support.h"
#include "slidefrag/version.h"

static void test_package_builds_installs_and_runs(void **state)
{
    (void)state;
    /* The package is built with Debian's flags, not this build's: once, in
     * the plain run of the suite. */
    if (g_getenv("SLIDEFRAG_SANITIZED"))
        skip();
    g_autofree char *script =
        g_build_filename(SLIDEFRAG_SOURCE_DIR, "scripts", "test-package", NULL);
    const char *argv[] = {script, NULL};
    g_autofree char *out = NULL, *err = NULL;
    int code = test_run(argv, NULL, NULL, &out, &err);
    if (code != 0)
        fail_msg("scripts/test-package: exit %d\n%s%s", code, out, err);
    g_autofree char *works = g_strdup_printf("slidefrag_%s_", SLIDEFRAG_VERSION);
    assert_non_null(strstr(out, works));
    assert_non_null(strstr(out, "works (unpacked in a scratch root)"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_package_builds_installs_and_runs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
