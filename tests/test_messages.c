/*
 * sf_message_safe: input text in a message is shown, bounded, never
 * obeyed by the terminal.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "support.h"

#include <string.h>

#include "slidefrag/error.h"

static void expect_safe(const char *text, const char *shown)
{
    g_autofree char *safe = sf_message_safe(text);
    assert_string_equal(safe, shown);
}

static void test_escapes(void **state)
{
    (void)state;
    expect_safe("a.csv:3: label 'tumour' unknown", "a.csv:3: label 'tumour' unknown");
    expect_safe("é, 腫瘍, 😀", "é, 腫瘍, 😀");
    expect_safe("\x1b[2J\x1b[31mred", "\\x1b[2J\\x1b[31mred");
    expect_safe("one\ntwo\rthree\tfour", "one\\ntwo\\rthree\\tfour");
    expect_safe("C:\\dir", "C:\\\\dir");
    expect_safe("bad \xff\xfe byte", "bad \\xff\\xfe byte");
    expect_safe("cut \xe2\x82", "cut \\xe2\\x82");
    /* C1 controls, bidirectional overrides (Trojan Source), line separator. */
    expect_safe("\xc2\x9b"
                "31m",
                "\\u009b31m");
    expect_safe("abc\xe2\x80\xae"
                "fed",
                "abc\\u202efed");
    expect_safe("x\xe2\x81\xa6y\xe2\x80\xa8z", "x\\u2066y\\u2028z");
    expect_safe("", "");
    g_autofree char *none = sf_message_safe(NULL);
    assert_string_equal(none, "");
}

/* A long text keeps its start and its end around " ... ", and stays UTF-8
 * wherever the cut falls. */
static void test_bounded(void **state)
{
    (void)state;
    GString *text = g_string_new("big.csv:2: label '");
    for (int i = 0; i < 5 << 20; i++)
        g_string_append(text, i % 3 ? "x" : "é");
    g_string_append(text, "' is unknown");
    g_autofree char *safe = sf_message_safe(text->str);
    g_string_free(text, TRUE);
    assert_true(g_utf8_validate(safe, -1, NULL));
    assert_true(g_str_has_prefix(safe, "big.csv:2: label '"));
    assert_true(g_str_has_suffix(safe, "' is unknown"));
    assert_non_null(strstr(safe, " ... "));
    assert_true(g_utf8_strlen(safe, -1) <= SF_MESSAGE_MAX_CHARS);

    /* Just at the bound, nothing is cut. */
    g_autofree char *exact = g_strnfill(SF_MESSAGE_MAX_CHARS, 'a');
    g_autofree char *same = sf_message_safe(exact);
    assert_string_equal(same, exact);
    g_autofree char *over = g_strnfill(SF_MESSAGE_MAX_CHARS + 1, 'a');
    g_autofree char *cut = sf_message_safe(over);
    assert_non_null(strstr(cut, " ... "));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_escapes),
        cmocka_unit_test(test_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
