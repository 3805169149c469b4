/*
 * `slidefrag run`'s progress: on a terminal, one redrawn line with the
 * stage and the fragments done; nothing when stderr is a pipe or a log, or
 * the terminal is dumb.
 */
#define _DEFAULT_SOURCE /* forkpty */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <pty.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "support.h"
#include "slidefrag/run.h"

/* Runs slidefrag with stdin, stdout and stderr on a new pseudo-terminal,
 * TERM set to `term`; returns everything it wrote there. */
static char *run_on_terminal(const char *const *args, const char *term, int *code)
{
    GPtrArray *argv = g_ptr_array_new();
    g_ptr_array_add(argv, (char *)SLIDEFRAG_BINARY);
    for (const char *const *a = args; *a; a++)
        g_ptr_array_add(argv, (char *)*a);
    g_ptr_array_add(argv, NULL);
    char **env = g_environ_setenv(g_get_environ(), "TERM", term, TRUE);

    int master = -1;
    pid_t pid = forkpty(&master, NULL, NULL, NULL);
    assert_true(pid >= 0);
    if (pid == 0) {
        execve(SLIDEFRAG_BINARY, (char **)argv->pdata, env);
        _exit(127);
    }
    GString *out = g_string_new(NULL);
    char buf[4096];
    for (;;) {
        ssize_t n = read(master, buf, sizeof buf);
        if (n > 0)
            g_string_append_len(out, buf, n);
        else if (n < 0 && errno == EINTR)
            continue;
        else
            break; /* EIO once the child closed its side */
    }
    close(master);
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    *code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    g_ptr_array_free(argv, TRUE);
    g_strfreev(env);
    return g_string_free(out, FALSE);
}

static void test_terminal_shows_stages_and_fragments(void **state)
{
    (void)state;
    g_autofree char *dir = test_make_tmpdir();
    g_autofree char *slide = test_fixture("cmu-1-small-region.svs");
    const char *args[] = {"run", slide, "-o", dir, "--max-size", "512", NULL};
    int code = 0;
    g_autofree char *text = run_on_terminal(args, "xterm", &code);
    assert_int_equal(code, 0);

    /* Every stage, in order, each drawn over the last. */
    const sf_run_stage stages[] = {SF_RUN_OPENING,           SF_RUN_READING_OVERVIEW,
                                   SF_RUN_FINDING_TISSUE,    SF_RUN_WRITING_OVERVIEW,
                                   SF_RUN_CUTTING_FRAGMENTS, SF_RUN_WRITING_MANIFEST};
    const char *at = text;
    for (size_t i = 0; i < G_N_ELEMENTS(stages); i++) {
        g_autofree char *line =
            g_strdup_printf("\r\033[Kcmu-1-small-region.svs: %s", sf_run_stage_text(stages[i]));
        const char *found = strstr(at, line);
        if (!found)
            fail_msg("no '%s' after the earlier stages in:\n%s", line + 4, text);
        at = found + strlen(line);
    }
    /* The fragments, counted as they are done. */
    assert_non_null(strstr(text, "cutting fragments 0/1, 0 %"));
    assert_non_null(strstr(text, "cutting fragments 1/1, 100 %"));
    /* The line is cleared before the result is printed. */
    const char *last = g_strrstr(text, "\r\033[K");
    assert_non_null(last);
    assert_true(g_str_has_prefix(last + 4, slide));
    assert_non_null(strstr(last, ": 1 region, 1 fragment -> "));
    test_remove_tree(dir);
}

static void test_quiet_in_logs_and_dumb_terminals(void **state)
{
    (void)state;
    g_autofree char *dir = test_make_tmpdir();
    g_autofree char *slide = test_fixture("cmu-1-small-region.svs");
    const char *args[] = {"run", slide, "-o", dir, "--max-size", "512", NULL};
    g_autofree char *out = NULL, *err = NULL;
    assert_int_equal(test_run_slidefrag(args, &out, &err), 0);
    assert_string_equal(err, "");
    assert_null(strchr(out, '\r'));

    int code = 0;
    g_autofree char *text = run_on_terminal(args, "dumb", &code);
    assert_int_equal(code, 0);
    assert_null(strstr(text, "\033["));
    assert_null(strstr(text, "cutting fragments"));
    test_remove_tree(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_terminal_shows_stages_and_fragments),
        cmocka_unit_test(test_quiet_in_logs_and_dumb_terminals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
