/* Fragment file names: parsing, formatting, and whose a name is. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "support.h"
#include "slidefrag/fragment_name.h"

static void test_fragment_name_parse(void **state)
{
    (void)state;
    g_autofree char *stem = NULL;
    int64_t x = -1, y = -1, w = -1, h = -1;
    assert_true(sf_fragment_name_parse("cmu-1__x12_y34_w560_h780.jpg", &stem, &x, &y, &w, &h));
    assert_string_equal(stem, "cmu-1");
    assert_int_equal(x, 12);
    assert_int_equal(y, 34);
    assert_int_equal(w, 560);
    assert_int_equal(h, 780);
    g_clear_pointer(&stem, g_free);

    /* Directories are ignored; the stem may hold "__" and dots. */
    assert_true(sf_fragment_name_parse("out/a/b__c.d__x0_y0_w1_h2.png", &stem, &x, &y, &w, &h));
    assert_string_equal(stem, "b__c.d");
    assert_int_equal(h, 2);
    g_clear_pointer(&stem, g_free);
    assert_true(sf_fragment_name_parse("a___x5_y6_w7_h8.jpg", &stem, &x, NULL, NULL, NULL));
    assert_string_equal(stem, "a_");
    assert_int_equal(x, 5);
    g_clear_pointer(&stem, g_free);

    static const char *const bad[] = {
        "a__x1_y2_w3_h4",                        /* no extension */
        "a__x1_y2_w0_h4.jpg",                    /* empty box */
        "a__x-1_y2_w3_h4.jpg",                   /* negative */
        "a__x1_y2_w3.jpg",                       /* a field missing */
        "__x1_y2_w3_h4.jpg",                     /* no stem */
        "a__x1_y2_w3_h4_z5.jpg",                 /* trailing field */
        "a__x1_y2_w3_h4.",                       /* empty extension */
        "a__x1_y2_w3_h4.tar.gz",                 /* two extensions */
        "a_x1_y2_w3_h4.jpg",                     /* single underscore */
        "a__x 1_y2_w3_h4.jpg",                   /* space */
        "a__x99999999999999999999_y2_w3_h4.jpg", /* overflow */
        "",
    };
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++)
        if (sf_fragment_name_parse(bad[i], NULL, &x, &y, &w, &h))
            fail_msg("'%s' should not parse", bad[i]);
}

static void test_fragment_name_round_trip(void **state)
{
    (void)state;
    const int64_t values[][4] = {
        {0, 0, 1, 1}, {12345, 67890, 2000, 1600}, {G_MAXINT64 - 1, 7, G_MAXINT64, 3}};
    for (size_t i = 0; i < G_N_ELEMENTS(values); i++) {
        g_autofree char *name = sf_fragment_name_format("slide__v2", values[i][0], values[i][1],
                                                        values[i][2], values[i][3]);
        assert_true(g_str_has_suffix(name, ".jpg"));
        g_autofree char *stem = NULL;
        int64_t x, y, w, h;
        assert_true(sf_fragment_name_parse(name, &stem, &x, &y, &w, &h));
        assert_string_equal(stem, "slide__v2");
        assert_true(x == values[i][0] && y == values[i][1] && w == values[i][2] &&
                    h == values[i][3]);
    }
    g_autofree char *name = sf_fragment_name_format("s", 1, 2, 3, 4);
    assert_string_equal(name, "s__x1_y2_w3_h4.jpg");
}

/* A name is a slide's fragment name only when it is exactly what a run on
 * that slide writes: what a cleaner may remove as its own. */
static void test_fragment_name_is_of(void **state)
{
    (void)state;
    assert_true(sf_fragment_name_is_of("cmu-1__x12_y34_w560_h780.jpg", "cmu-1"));
    assert_true(sf_fragment_name_is_of("a__b__x0_y0_w1_h1.jpg", "a__b"));
    static const char *const not_of_cmu[] = {
        "cmu-2__x12_y34_w560_h780.jpg",     /* another slide */
        "cmu-1__x012_y34_w560_h780.jpg",    /* another spelling of 12 */
        "cmu-1__x12_y34_w560_h780.png",     /* another extension */
        "cmu-1__x12_y34_w560_h780.JPG",     /* case */
        "sub/cmu-1__x12_y34_w560_h780.jpg", /* a directory part */
        "../cmu-1__x12_y34_w560_h780.jpg",
        "x__cmu-1__x12_y34_w560_h780.jpg", /* a stem that only ends the same */
        "cmu-1.jpg",
        "holiday.jpg",
        "",
    };
    for (size_t i = 0; i < G_N_ELEMENTS(not_of_cmu); i++)
        if (sf_fragment_name_is_of(not_of_cmu[i], "cmu-1"))
            fail_msg("'%s' taken for a fragment of cmu-1", not_of_cmu[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fragment_name_parse),
        cmocka_unit_test(test_fragment_name_round_trip),
        cmocka_unit_test(test_fragment_name_is_of),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
