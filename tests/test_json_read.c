/*
 * The JSON pull reader: tokens, the RFC 8259 grammar, numbers exactly or
 * refused, nesting bound, and trees built as json-glib would build them.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "support.h"

#include <string.h>

#include "io/json_read.h"
#include "slidefrag/error.h"

/* The tokens of `text`, one letter each ({ } [ ] s i d b n), with "k:" for
 * a member and the depth after each: "{0 k:[1 i1 ]1 }0". */
static char *tokens(const char *text)
{
    g_autoptr(sf_json_reader) r = sf_json_reader_new("t.json", text, strlen(text));
    GString *s = g_string_new(NULL);
    g_autoptr(GError) error = NULL;
    while (sf_json_reader_next(r, &error) && r->token != SF_JSON_END) {
        static const char letters[] = "Enbids{}[]";
        if (s->len)
            g_string_append_c(s, ' ');
        if (r->key)
            g_string_append_printf(s, "%s:", r->key);
        g_string_append_printf(s, "%c%d", letters[r->token], r->depth);
    }
    if (error)
        g_string_append_printf(s, " ERROR %s", error->message);
    return g_string_free(s, FALSE);
}

/* The error a whole text gives, or NULL when it parses. */
static char *parse_error(const char *text)
{
    g_autoptr(GError) error = NULL;
    JsonNode *node = sf_json_parse("t.json", text, strlen(text), 1000, &error);
    if (node) {
        json_node_unref(node);
        return NULL;
    }
    assert_non_null(error);
    assert_int_equal(error->code, SF_EXIT_BAD_INPUT);
    return g_strdup(error->message);
}

static void assert_refused(const char *text, const char *message)
{
    g_autofree char *error = parse_error(text);
    if (!error || !strstr(error, message))
        fail_msg("'%s': error '%s', expected '%s'", text, error ? error : "(none)", message);
}

static void test_tokens_and_depths(void **state)
{
    (void)state;
    g_autofree char *t = tokens(" {\"a\": [1, 2.5, \"x\", true, null, {}], \"b\": {\"c\": false}}");
    assert_string_equal(t, "{0 a:[1 i2 d2 s2 b2 n2 {2 }2 ]1 b:{1 c:b2 }1 }0");
    g_autofree char *scalar = tokens("\xEF\xBB\xBF -0 ");
    assert_string_equal(scalar, "i0");
}

static void test_integers_exact_or_refused(void **state)
{
    (void)state;
    const char *text = "[9223372036854775807, -9223372036854775808, -0, 0, 12]";
    g_autoptr(sf_json_reader) r = sf_json_reader_new("t.json", text, strlen(text));
    const int64_t expected[] = {INT64_MAX, INT64_MIN, 0, 0, 12};
    assert_true(sf_json_reader_next(r, NULL));
    for (size_t i = 0; i < G_N_ELEMENTS(expected); i++) {
        assert_true(sf_json_reader_next(r, NULL));
        assert_int_equal(r->token, SF_JSON_INTEGER);
        assert_true(r->integer == expected[i]);
    }
    /* json-glib read the first as 10 and the second as -1. */
    assert_refused("[-18446744073709551606]",
                   "t.json:1: integer -18446744073709551606 does not fit in 64 bits");
    assert_refused("[18446744073709551617]", "does not fit in 64 bits");
    assert_refused("[9223372036854775808]", "does not fit in 64 bits");
    assert_refused("[-9223372036854775809]", "does not fit in 64 bits");
    /* A long one is cut in the message. */
    g_autofree char *digits = g_strnfill(100000, '7');
    g_autofree char *long_text = g_strdup_printf("\n\n[%s]", digits);
    g_autofree char *error = parse_error(long_text);
    assert_non_null(strstr(error, "t.json:3: integer 7777"));
    assert_true(strlen(error) < 200);
}

static void test_doubles(void **state)
{
    (void)state;
    const char *text = "[1.5, -2e3, 1e-400, 0.1E+2]";
    g_autoptr(JsonNode) root = sf_json_parse("t.json", text, strlen(text), 100, NULL);
    assert_non_null(root);
    JsonArray *a = json_node_get_array(root);
    assert_true(json_array_get_double_element(a, 0) == 1.5);
    assert_true(json_array_get_double_element(a, 1) == -2000);
    assert_true(json_array_get_double_element(a, 2) == 0);
    assert_true(json_array_get_double_element(a, 3) == 10);
    assert_refused("[1e400]", "number 1e400 is out of range");
    assert_refused("[-1e999]", "out of range");
}

/* What json-glib took that RFC 8259 does not allow is refused, each on its
 * line. */
static void test_strict_grammar(void **state)
{
    (void)state;
    static const struct {
        const char *text, *error;
    } cases[] = {
        {"[01]", "t.json:1: not valid JSON: a number runs into '1'"},
        {"[1.]", "no digit after a decimal point"},
        {"[.5]", "unexpected '.'"},
        {"[+1]", "unexpected '+'"},
        {"[1e]", "no digit in an exponent"},
        {"[0x10]", "a number runs into 'x'"},
        {"['a']", "unexpected '''"},
        {"[1 /* c */]", "unexpected '/'"},
        {"[1,]", "unexpected ']', expected a value"},
        {"{\"a\":1,}", "expected a member name"},
        {"{\"a\" 1}", "expected ':'"},
        {"{a:1}", "expected a member name"},
        {"[1 2]", "expected ',' or ']'"},
        {"[1] [2]", "unexpected '[' after the end"},
        {"[NaN]", "unexpected 'N'"},
        {"[tru]", "unexpected 't'"},
        {"[truex]", "unexpected 't'"},
        {"", "no value in the text"},
        {"  \n ", "t.json:2: not valid JSON: no value"},
        {"[\"a\x01\"]", "control character 0x01 in a string"},
        {"[\"a\nb\"]", "unterminated string"},
        {"[\"ab", "unterminated string"},
        {"[\"\\x\"]", "unknown escape '\\x'"},
        {"[\"\\u12G4\"]", "four hex digits"},
        {"[\"\xff\xfe\"]", "a string is not UTF-8"},
        {"[1,\n2,\n{\"a\":\n}]", "t.json:4: not valid JSON: unexpected '}', expected a value"},
        {"[", "the text ends where a value should be"},
        {"{\"a\":[1,2}", "expected ',' or ']'"},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++)
        assert_refused(cases[i].text, cases[i].error);
}

static void test_strings(void **state)
{
    (void)state;
    const char *text = "[\"a\\\"\\\\\\/\\b\\f\\n\\r\\t\", \"\\ud83d\\ude00\", \"\\ud800x\", "
                       "\"a\\u0000b\", \"\\u00e9\xc3\xa9\", \"\"]";
    g_autoptr(JsonNode) root = sf_json_parse("t.json", text, strlen(text), 100, NULL);
    assert_non_null(root);
    JsonArray *a = json_node_get_array(root);
    assert_string_equal(json_array_get_string_element(a, 0), "a\"\\/\b\f\n\r\t");
    assert_string_equal(json_array_get_string_element(a, 1), "\xF0\x9F\x98\x80");
    /* A lone surrogate (JavaScript writes them) and NUL become U+FFFD. */
    assert_string_equal(json_array_get_string_element(a, 2), "\xEF\xBF\xBDx");
    assert_string_equal(json_array_get_string_element(a, 3), "a\xEF\xBF\xBD"
                                                             "b");
    assert_string_equal(json_array_get_string_element(a, 4), "\xC3\xA9\xC3\xA9");
    assert_string_equal(json_array_get_string_element(a, 5), "");
}

static void test_depth_bound(void **state)
{
    (void)state;
    GString *ok = g_string_new(NULL);
    for (int i = 0; i < SF_JSON_MAX_DEPTH; i++)
        g_string_append_c(ok, '[');
    for (int i = 0; i < SF_JSON_MAX_DEPTH; i++)
        g_string_append_c(ok, ']');
    g_autofree char *fine = parse_error(ok->str);
    assert_null(fine);
    g_string_free(ok, TRUE);

    GString *deep = g_string_new("{\"a\":\n");
    for (int i = 0; i < 100000; i++)
        g_string_append(deep, "{\"a\":[");
    g_autofree char *error = parse_error(deep->str);
    assert_string_equal(error, "t.json:2: JSON nested deeper than 512 levels; refused");
    g_string_free(deep, TRUE);
}

/* Trees as json-glib's own parser builds them, repeated names included. */
static void test_build_like_json_glib(void **state)
{
    (void)state;
    static const char *const texts[] = {
        "{\"a\":1,\"b\":[1,2.5,\"x\",true,false,null,{},[]],\"c\":{\"d\":{\"e\":[[]]}}}",
        "{\"a\":1,\"a\":2,\"b\":{\"x\":1,\"x\":[3]}}",
        "[]",
        "\"text\"",
        "-12",
    };
    for (size_t i = 0; i < G_N_ELEMENTS(texts); i++) {
        g_autoptr(GError) error = NULL;
        g_autoptr(JsonNode) ours = sf_json_parse("t.json", texts[i], strlen(texts[i]), 100, &error);
        assert_non_null(ours);
        g_autoptr(JsonParser) parser = json_parser_new();
        assert_true(json_parser_load_from_data(parser, texts[i], -1, NULL));
        g_autofree char *want = json_to_string(json_parser_get_root(parser), FALSE);
        g_autofree char *got = json_to_string(ours, FALSE);
        assert_string_equal(got, want);
    }
}

/* One entry of a large array at a time, each bounded. */
static void test_build_entries_and_skip(void **state)
{
    (void)state;
    const char *text = "{\"skip\": {\"deep\": [[1], {\"x\": 2}]}, \"list\": [[1, 2], {\"a\": "
                       "[1, 2, 3, 4, 5]}, 7]}";
    g_autoptr(sf_json_reader) r = sf_json_reader_new("t.json", text, strlen(text));
    assert_true(sf_json_reader_next(r, NULL));
    assert_true(sf_json_reader_next(r, NULL));
    assert_string_equal(r->key, "skip");
    assert_true(sf_json_reader_skip(r, NULL));
    assert_int_equal(r->token, SF_JSON_OBJECT_END);
    assert_int_equal(r->depth, 1);
    assert_true(sf_json_reader_next(r, NULL));
    assert_string_equal(r->key, "list");
    assert_int_equal(r->token, SF_JSON_ARRAY_BEGIN);

    assert_true(sf_json_reader_next(r, NULL));
    g_autoptr(JsonNode) first = sf_json_reader_build(r, 3, NULL);
    assert_non_null(first);
    assert_int_equal(json_array_get_length(json_node_get_array(first)), 2);

    /* 1 object + 1 array + 5 numbers: over a bound of 6. */
    assert_true(sf_json_reader_next(r, NULL));
    g_autoptr(GError) error = NULL;
    JsonNode *second = sf_json_reader_build(r, 6, &error);
    assert_null(second);
    assert_non_null(error);
    assert_string_equal(error->message, "t.json:1: more than 6 values in one entry; refused");
    assert_string_equal(sf_json_reader_error_cause(r), "more than 6 values in one entry; refused");
    assert_int_equal(sf_json_reader_error_line(r), 1);
    /* The reader stays failed. */
    assert_false(sf_json_reader_next(r, NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tokens_and_depths),
        cmocka_unit_test(test_integers_exact_or_refused),
        cmocka_unit_test(test_doubles),
        cmocka_unit_test(test_strict_grammar),
        cmocka_unit_test(test_strings),
        cmocka_unit_test(test_depth_bound),
        cmocka_unit_test(test_build_like_json_glib),
        cmocka_unit_test(test_build_entries_and_skip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
