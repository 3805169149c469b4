/* The run parameter table (src/run/params.c) and the tune grid built on it. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "slidefrag/error.h"
#include "slidefrag/run.h"
#include "slidefrag/tune.h"
#include "support.h"

static char *params_json_text(const sf_run_params *params)
{
    g_autoptr(JsonNode) node = sf_run_params_to_json(params);
    g_autoptr(JsonGenerator) generator = json_generator_new();
    json_generator_set_root(generator, node);
    return json_generator_to_data(generator, NULL);
}

/* Every key is declared once, with help, and its default written as text
 * reads back as the same value. */
static void test_table_keys_unique_and_defaults_round_trip(void **state)
{
    (void)state;
    size_t n = sf_run_params_count();
    assert_true(n >= 21);
    sf_run_params defaults;
    sf_run_params_default(&defaults);
    g_autofree char *expected = params_json_text(&defaults);
    for (size_t i = 0; i < n; i++) {
        const sf_param_info *info = sf_run_param_info_at(i);
        assert_non_null(info->help);
        assert_ptr_equal(sf_run_param_lookup(info->key), info);
        for (size_t k = i + 1; k < n; k++)
            assert_string_not_equal(info->key, sf_run_param_info_at(k)->key);
        g_autofree char *text = sf_run_param_text(&defaults, info->key);
        if (!text)
            continue; /* an alternative not in effect (--mpp while --max-size is) */
        sf_run_params again = defaults;
        g_autoptr(GError) error = NULL;
        assert_true(sf_run_params_set(&again, info->key, text, &error));
        g_autofree char *got = params_json_text(&again);
        assert_string_equal(got, expected);
    }
    assert_null(sf_run_param_info_at(n));
    assert_null(sf_run_param_lookup("no-such-key"));
}

/* A parameter set from text, written to JSON and applied again is the same:
 * what the manifest records, --params reproduces. */
static void test_values_round_trip_through_json(void **state)
{
    (void)state;
    static const char *const settings[][2] = {
        {"mpp", "8"},
        {"fragment-downsample", "4"},
        {"overview-format", "png"},
        {"jpeg-quality", "75"},
        {"channel", "gray"},
        {"polarity", "bright"},
        {"threshold", "200"},
        {"remove-ink", "yes"},
        {"open", "3"},
        {"close", "0"},
        {"fill-holes", "1"},
        {"connectivity", "4"},
        {"gap", "30um"},
        {"min-area", "2mm2"},
        {"min-area-fraction", "0.0002"},
        {"padding", "3.5"},
        {"min-tissue-fraction", "0.25"},
    };
    sf_run_params p;
    sf_run_params_default(&p);
    for (size_t i = 0; i < G_N_ELEMENTS(settings); i++) {
        g_autoptr(GError) error = NULL;
        if (!sf_run_params_set(&p, settings[i][0], settings[i][1], &error))
            fail_msg("%s=%s: %s", settings[i][0], settings[i][1], error->message);
    }
    assert_int_equal(p.detect.channel, SF_CHANNEL_GREY);
    assert_int_equal(p.detect.polarity, SF_POLARITY_BRIGHT);
    assert_false(p.detect.otsu);
    assert_int_equal(p.detect.threshold, 200);
    assert_true(p.detect.remove_ink && p.detect.fill_holes);
    assert_int_equal(p.detect.regions.connectivity, 4);
    assert_true(p.min_area.microns && p.min_area.value == 2e6 && !p.min_area_default);
    assert_true(p.overview_png);
    assert_int_equal(p.overview.kind, SF_TARGET_MPP);

    g_autoptr(JsonNode) json = sf_run_params_to_json(&p);
    sf_run_params back;
    sf_run_params_default(&back);
    g_autoptr(GError) error = NULL;
    assert_true(sf_run_params_apply_json(&back, json_node_get_object(json), "test", &error));
    g_autofree char *a = params_json_text(&p);
    g_autofree char *b = params_json_text(&back);
    assert_string_equal(a, b);
    /* Words are written in their first spelling. */
    g_autofree char *channel = sf_run_param_text(&p, "channel");
    assert_string_equal(channel, "grey");
    g_autofree char *gap = sf_run_param_text(&p, "gap");
    assert_string_equal(gap, "30um");
    /* Only the way a resolution was given is written. */
    assert_null(sf_run_param_text(&p, "max-size"));
    g_autofree char *mpp = sf_run_param_text(&p, "mpp");
    assert_string_equal(mpp, "8");
}

/* The channel words of the table are the core's names, value for value. */
static void test_channel_names_match_core(void **state)
{
    (void)state;
    for (int c = SF_CHANNEL_RED; c <= SF_CHANNEL_SATURATION; c++) {
        sf_run_params p;
        sf_run_params_default(&p);
        assert_true(sf_run_params_set(&p, "channel", sf_channel_name(c), NULL));
        assert_int_equal(p.detect.channel, c);
        g_autofree char *text = sf_run_param_text(&p, "channel");
        assert_string_equal(text, sf_channel_name(c));
    }
}

/* The "decide per slide" words set their flag; a value clears it, and the
 * word brings the default value back. */
static void test_auto_words(void **state)
{
    (void)state;
    sf_run_params p;
    sf_run_params_default(&p);
    assert_true(p.detect.otsu && p.min_area_default);
    assert_true(sf_run_params_set(&p, "threshold", "17", NULL));
    assert_true(sf_run_params_set(&p, "min-area", "50", NULL));
    assert_false(p.detect.otsu);
    assert_false(p.min_area_default);
    assert_true(sf_run_params_set(&p, "threshold", "otsu", NULL));
    assert_true(sf_run_params_set(&p, "min-area", "auto", NULL));
    sf_run_params defaults;
    sf_run_params_default(&defaults);
    g_autofree char *a = params_json_text(&p);
    g_autofree char *b = params_json_text(&defaults);
    assert_string_equal(a, b);
    assert_true(p.min_area.microns && p.min_area.value == SF_MIN_AREA_DEFAULT_UM2);
}

/* The fragment resolution and the padding default per slide too: 1 µm/px
 * and 20 µm where the slide records its µm/px, a 4096 px longest side and
 * one overview pixel where it does not; any given value wins. */
static void test_fragment_and_padding_defaults(void **state)
{
    (void)state;
    sf_run_params p, with_mpp, without;
    sf_run_params_default(&p);
    assert_true(p.fragment_default && p.padding_default);
    sf_run_params_for_mpp(&p, 0.25, &with_mpp);
    assert_int_equal(with_mpp.fragment.kind, SF_TARGET_MPP);
    assert_float_equal(with_mpp.fragment.value, SF_FRAGMENT_MPP_DEFAULT, 0);
    assert_true(with_mpp.padding.microns && with_mpp.padding.value == SF_PADDING_DEFAULT_UM);
    sf_run_params_for_mpp(&p, 0, &without);
    assert_int_equal(without.fragment.kind, SF_TARGET_MAX_SIZE);
    assert_float_equal(without.fragment.value, SF_FRAGMENT_MAX_SIZE_NO_MPP, 0);
    assert_false(without.padding.microns);
    assert_float_equal(without.padding.value, SF_PADDING_NO_MPP_PX, 0);
    /* Given: kept on every slide; "auto" brings the default back. */
    assert_true(sf_run_params_set(&p, "fragment-max-size", "1000", NULL));
    assert_true(sf_run_params_set(&p, "padding", "3", NULL));
    sf_run_params_for_mpp(&p, 0.25, &with_mpp);
    assert_int_equal(with_mpp.fragment.kind, SF_TARGET_MAX_SIZE);
    assert_float_equal(with_mpp.padding.value, 3, 0);
    assert_true(sf_run_params_set(&p, "fragment-downsample", "auto", NULL));
    assert_true(sf_run_params_set(&p, "padding", "auto", NULL));
    sf_run_params defaults;
    sf_run_params_default(&defaults);
    g_autofree char *a = params_json_text(&p);
    g_autofree char *b = params_json_text(&defaults);
    assert_string_equal(a, b);
}

static void test_bad_values_name_the_option(void **state)
{
    (void)state;
    static const char *const cases[][3] = {
        {"max-size", "-1", "--max-size: '-1' is not in the range 1 .. 65535"},
        {"max-size", "10.5", "is not a whole number of pixels"},
        {"mpp", "0", "is not in the range above 0 .. 1e+06"},
        {"jpeg-quality", "101", "--jpeg-quality: '101' is not in the range 1 .. 100"},
        {"channel", "purple", "'purple' is not red, green, blue, grey or saturation"},
        {"threshold", "256", "'256' is not otsu or a whole number 0 .. 255"},
        {"connectivity", "6", "'6' is not 4 or 8"},
        {"remove-ink", "maybe", "'maybe' is not true or false"},
        {"gap", "3mm2", "is not a length (pixels, or with um)"},
        {"min-area", "-4", "is not zero or more"},
        {"min-tissue-fraction", "1.5", "is not in the range 0 .. 1"},
        {"nonsense", "1", "unknown parameter 'nonsense'"},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        sf_run_params p;
        sf_run_params_default(&p);
        g_autoptr(GError) error = NULL;
        assert_false(sf_run_params_set(&p, cases[i][0], cases[i][1], &error));
        test_assert_error(error, SF_EXIT_USAGE, cases[i][2]);
    }
}

static gboolean set_all(const char *const *pairs, GError **error)
{
    size_t n = sf_run_params_count();
    g_autofree char **values = g_new0(char *, n);
    for (; *pairs; pairs += 2)
        for (size_t i = 0; i < n; i++)
            if (!strcmp(sf_run_param_info_at(i)->key, pairs[0]))
                values[i] = (char *)pairs[1];
    sf_run_params p;
    sf_run_params_default(&p);
    return sf_run_params_set_all(&p, values, error);
}

/* Two ways of giving one resolution are refused, whatever their order. */
static void test_alternatives_exclusive(void **state)
{
    (void)state;
    g_autoptr(GError) error = NULL;
    const char *both[] = {"mpp", "4", "max-size", "100", NULL};
    assert_false(set_all(both, &error));
    test_assert_error(error, SF_EXIT_USAGE,
                      "--max-size and --mpp both set the same resolution; give one");
    g_clear_error(&error);
    const char *fragment[] = {"fragment-downsample", "2", "fragment-mpp", "1", NULL};
    assert_false(set_all(fragment, &error));
    test_assert_error(error, SF_EXIT_USAGE, "--fragment-downsample and --fragment-mpp");
    g_clear_error(&error);
    const char *apart[] = {"mpp", "4", "fragment-max-size", "100", NULL};
    assert_true(set_all(apart, &error));
}

/* What tune's mask groups rely on: the stages of the table. */
static void test_stages(void **state)
{
    (void)state;
    static const char *const mask[] = {"channel", "polarity", "threshold", "remove-ink",
                                       "open",    "close",    "fill-holes"};
    for (size_t i = 0; i < G_N_ELEMENTS(mask); i++)
        assert_int_equal(sf_run_param_lookup(mask[i])->stage, SF_PARAM_STAGE_MASK);
    assert_int_equal(sf_run_param_lookup("max-size")->stage, SF_PARAM_STAGE_OVERVIEW);
    assert_int_equal(sf_run_param_lookup("gap")->stage, SF_PARAM_STAGE_REGIONS);
    assert_int_equal(sf_run_param_lookup("fragment-mpp")->stage, SF_PARAM_STAGE_OUTPUT);
}

static sf_tune_grid *parse_grid(const char *text, GError **error)
{
    return sf_tune_grid_parse("grid.json", text, strlen(text), error);
}

static void test_grid_refuses_overview_and_huge_products(void **state)
{
    (void)state;
    g_autoptr(GError) error = NULL;
    g_autoptr(sf_tune_grid) overview = parse_grid("{\"max-size\": [512, 1024]}", &error);
    assert_null(overview);
    test_assert_error(error, SF_EXIT_BAD_INPUT, "max-size cannot vary in a grid");
    g_clear_error(&error);

    /* A few hundred bytes that expand to 2.2e10 sets: 7 axes of 30 values. */
    GString *text = g_string_new("{");
    static const char *const keys[] = {
        "open", "close", "gap", "padding", "threshold", "min-area-fraction", "jpeg-quality"};
    for (size_t k = 0; k < G_N_ELEMENTS(keys); k++) {
        g_string_append_printf(text, "%s\"%s\": [", k ? ", " : "", keys[k]);
        for (int v = 1; v <= 30; v++)
            g_string_append_printf(text, "%s%s%d", v > 1 ? ", " : "",
                                   !strcmp(keys[k], "min-area-fraction") ? "0.0" : "", v);
        g_string_append(text, "]");
    }
    g_string_append(text, "}");
    g_autoptr(sf_tune_grid) huge = parse_grid(text->str, &error);
    g_string_free(text, TRUE);
    assert_null(huge);
    test_assert_error(error, SF_EXIT_BAD_INPUT, "2.187e+10 parameter sets (open 30 x close 30");
    test_assert_error(error, SF_EXIT_BAD_INPUT, "more than the 100000 tune tries");
    g_clear_error(&error);

    g_autoptr(sf_tune_grid) bad = parse_grid("{\"close\": [3, \"x\"]}", &error);
    assert_null(bad);
    test_assert_error(error, SF_EXIT_BAD_INPUT, "grid.json: close: --close: 'x' is not");
    g_clear_error(&error);

    g_autoptr(sf_tune_grid) fine = parse_grid("{\"close\": [3, 5], \"remove-ink\": true}", &error);
    assert_non_null(fine);
    g_autoptr(sf_tune_grid) builtin = sf_tune_grid_default();
    assert_non_null(builtin);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table_keys_unique_and_defaults_round_trip),
        cmocka_unit_test(test_values_round_trip_through_json),
        cmocka_unit_test(test_channel_names_match_core),
        cmocka_unit_test(test_auto_words),
        cmocka_unit_test(test_fragment_and_padding_defaults),
        cmocka_unit_test(test_bad_values_name_the_option),
        cmocka_unit_test(test_alternatives_exclusive),
        cmocka_unit_test(test_stages),
        cmocka_unit_test(test_grid_refuses_overview_and_huge_products),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
