/* Run parameters: one table of keys shared by the command line, --params
 * files and the manifest, so the three can never disagree. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "io/json_safe.h"
#include "slidefrag/error.h"
#include "slidefrag/run.h"

void sf_run_params_default(sf_run_params *params)
{
    *params = (sf_run_params){
        .overview = {SF_TARGET_MAX_SIZE, 2048},
        /* The finest resolution whose longest side fits 4096 px: large
         * enough to annotate cells, small enough for a browser tool. */
        .fragment = {SF_TARGET_MAX_SIZE, 4096},
        .overview_png = FALSE,
        .jpeg_quality = 90,
        .gap = {0, FALSE},
        .min_area = {SF_MIN_AREA_DEFAULT_UM2, TRUE},
        .min_area_default = TRUE,
        .min_area_fraction = 0,
        .min_tissue_fraction = 0,
        .padding = {0, FALSE},
        .threads = 1,
    };
    sf_detect_params_default(&params->detect);
    params->gap.value = (double)params->detect.regions.gap;
    /* Region sizes are physical by default (SF_MIN_AREA_DEFAULT_UM2), not a
     * fraction of the image: the same biopsy pieces must survive whether
     * the slide is 0.3 or 3 gigapixels. */
    params->min_tissue_fraction = params->detect.regions.min_tissue_fraction;
}

static gboolean bad_value(GError **error, const char *key, const char *value, const char *why)
{
    g_set_error(error, SF_ERROR, SF_EXIT_USAGE, "--%s: '%s' is not %s", key, value, why);
    return FALSE;
}

static gboolean parse_double(const char *key, const char *value, double min, double max,
                             gboolean min_exclusive, double *out, GError **error)
{
    char *end = NULL;
    errno = 0;
    double v = g_ascii_strtod(value, &end);
    if (end == value || *end || errno || !isfinite(v))
        return bad_value(error, key, value, "a number");
    if (v < min || (min_exclusive && v == min) || v > max) {
        g_autofree char *range =
            g_strdup_printf("in the range %s%g .. %g", min_exclusive ? "above " : "", min, max);
        return bad_value(error, key, value, range);
    }
    *out = v;
    return TRUE;
}

static gboolean parse_int(const char *key, const char *value, int64_t min, int64_t max, int *out,
                          GError **error)
{
    char *end = NULL;
    errno = 0;
    long long v = strtoll(value, &end, 10);
    if (end == value || *end || errno)
        return bad_value(error, key, value, "a whole number");
    if (v < min || v > max) {
        g_autofree char *range =
            g_strdup_printf("in the range %" G_GINT64_FORMAT " .. %" G_GINT64_FORMAT, min, max);
        return bad_value(error, key, value, range);
    }
    *out = (int)v;
    return TRUE;
}

static gboolean parse_bool(const char *key, const char *value, gboolean *out, GError **error)
{
    if (!g_ascii_strcasecmp(value, "true") || !strcmp(value, "1") ||
        !g_ascii_strcasecmp(value, "yes"))
        *out = TRUE;
    else if (!g_ascii_strcasecmp(value, "false") || !strcmp(value, "0") ||
             !g_ascii_strcasecmp(value, "no"))
        *out = FALSE;
    else
        return bad_value(error, key, value, "true or false");
    return TRUE;
}

/* "12" is overview pixels; "12um" or "12µm" micrometres (for areas "um2",
 * "µm2", "µm²" or "mm2"). */
static gboolean parse_measure(const char *key, const char *value, gboolean area, sf_measure *out,
                              GError **error)
{
    static const struct {
        const char *suffix;
        double factor;
        gboolean area;
    } units[] = {
        {"um", 1, FALSE}, {"µm", 1, FALSE}, {"um2", 1, TRUE},
        {"µm2", 1, TRUE}, {"µm²", 1, TRUE}, {"mm2", 1e6, TRUE},
    };
    g_autofree char *number = g_strdup(value);
    double factor = 1;
    gboolean microns = FALSE;
    for (size_t i = 0; i < G_N_ELEMENTS(units); i++) {
        if (units[i].area == area && g_str_has_suffix(number, units[i].suffix) &&
            strlen(number) > strlen(units[i].suffix)) {
            number[strlen(number) - strlen(units[i].suffix)] = '\0';
            factor = units[i].factor;
            microns = TRUE;
            break;
        }
    }
    double v;
    const char *why =
        area ? "an area (pixels, or with um2 / mm2)" : "a length (pixels, or with um)";
    char *end = NULL;
    errno = 0;
    v = g_ascii_strtod(number, &end);
    if (end == number || *end || errno || !isfinite(v))
        return bad_value(error, key, value, why);
    if (v < 0)
        return bad_value(error, key, value, "zero or more");
    if (v * factor > 1e15)
        return bad_value(error, key, value, "a plausible size");
    out->value = v * factor;
    out->microns = microns;
    return TRUE;
}

/* The longest JPEG side, and far beyond any slide: guards arithmetic. */
#define MAX_PIXELS 65535.0
#define MAX_DOWNSAMPLE 1e6
#define MAX_KERNEL 4095

static gboolean set_target(sf_target *target, sf_target_kind kind, const char *key,
                           const char *value, GError **error)
{
    double v;
    gboolean ok;
    switch (kind) {
    case SF_TARGET_MAX_SIZE:
        ok = parse_double(key, value, 1, MAX_PIXELS, FALSE, &v, error);
        if (ok && v != floor(v))
            ok = bad_value(error, key, value, "a whole number of pixels");
        break;
    case SF_TARGET_DOWNSAMPLE:
        ok = parse_double(key, value, 1, MAX_DOWNSAMPLE, FALSE, &v, error);
        break;
    default:
        ok = parse_double(key, value, 0, 1e6, TRUE, &v, error);
        break;
    }
    if (ok)
        *target = (sf_target){kind, v};
    return ok;
}

static const char *const keys[] = {
    "max-size",
    "downsample",
    "mpp",
    "fragment-max-size",
    "fragment-downsample",
    "fragment-mpp",
    "overview-format",
    "jpeg-quality",
    "channel",
    "polarity",
    "threshold",
    "remove-ink",
    "open",
    "close",
    "fill-holes",
    "connectivity",
    "gap",
    "min-area",
    "min-area-fraction",
    "min-tissue-fraction",
    "padding",
    NULL,
};

const char *const *sf_run_params_keys(void)
{
    return keys;
}

gboolean sf_run_params_set(sf_run_params *p, const char *key, const char *value, GError **error)
{
    sf_detect_params *d = &p->detect;
    int i;
    if (!strcmp(key, "max-size"))
        return set_target(&p->overview, SF_TARGET_MAX_SIZE, key, value, error);
    if (!strcmp(key, "downsample"))
        return set_target(&p->overview, SF_TARGET_DOWNSAMPLE, key, value, error);
    if (!strcmp(key, "mpp"))
        return set_target(&p->overview, SF_TARGET_MPP, key, value, error);
    if (!strcmp(key, "fragment-max-size"))
        return set_target(&p->fragment, SF_TARGET_MAX_SIZE, key, value, error);
    if (!strcmp(key, "fragment-downsample"))
        return set_target(&p->fragment, SF_TARGET_DOWNSAMPLE, key, value, error);
    if (!strcmp(key, "fragment-mpp"))
        return set_target(&p->fragment, SF_TARGET_MPP, key, value, error);
    if (!strcmp(key, "overview-format")) {
        if (!strcmp(value, "jpg") || !strcmp(value, "jpeg"))
            p->overview_png = FALSE;
        else if (!strcmp(value, "png"))
            p->overview_png = TRUE;
        else
            return bad_value(error, key, value, "jpg or png");
        return TRUE;
    }
    if (!strcmp(key, "jpeg-quality"))
        return parse_int(key, value, 1, 100, &p->jpeg_quality, error);
    if (!strcmp(key, "channel")) {
        if (!sf_channel_from_name(value, &d->channel))
            return bad_value(error, key, value, "red, green, blue, grey or saturation");
        return TRUE;
    }
    if (!strcmp(key, "polarity")) {
        if (!strcmp(value, "dark"))
            d->polarity = SF_POLARITY_DARK;
        else if (!strcmp(value, "bright"))
            d->polarity = SF_POLARITY_BRIGHT;
        else
            return bad_value(error, key, value, "dark (brightfield) or bright (fluorescence)");
        return TRUE;
    }
    if (!strcmp(key, "threshold")) {
        if (!strcmp(value, "otsu")) {
            d->otsu = TRUE;
            return TRUE;
        }
        if (!parse_int(key, value, 0, 255, &i, error)) {
            g_clear_error(error);
            return bad_value(error, key, value, "otsu or a whole number 0 .. 255");
        }
        d->otsu = FALSE;
        d->threshold = (uint8_t)i;
        return TRUE;
    }
    if (!strcmp(key, "open"))
        return parse_int(key, value, 0, MAX_KERNEL, &d->open_size, error);
    if (!strcmp(key, "close"))
        return parse_int(key, value, 0, MAX_KERNEL, &d->close_size, error);
    if (!strcmp(key, "fill-holes") || !strcmp(key, "remove-ink")) {
        gboolean b;
        if (!parse_bool(key, value, &b, error))
            return FALSE;
        if (!strcmp(key, "fill-holes"))
            d->fill_holes = b;
        else
            d->remove_ink = b;
        return TRUE;
    }
    if (!strcmp(key, "connectivity")) {
        if (strcmp(value, "4") && strcmp(value, "8"))
            return bad_value(error, key, value, "4 or 8");
        d->regions.connectivity = atoi(value);
        return TRUE;
    }
    if (!strcmp(key, "gap"))
        return parse_measure(key, value, FALSE, &p->gap, error);
    if (!strcmp(key, "min-area")) {
        /* "auto" is the default, still to be resolved for a slide. */
        if (!strcmp(value, "auto")) {
            p->min_area = (sf_measure){SF_MIN_AREA_DEFAULT_UM2, TRUE};
            p->min_area_default = TRUE;
            return TRUE;
        }
        if (!parse_measure(key, value, TRUE, &p->min_area, error))
            return FALSE;
        p->min_area_default = FALSE;
        return TRUE;
    }
    if (!strcmp(key, "min-area-fraction"))
        return parse_double(key, value, 0, 1, FALSE, &p->min_area_fraction, error);
    if (!strcmp(key, "min-tissue-fraction"))
        return parse_double(key, value, 0, 1, FALSE, &p->min_tissue_fraction, error);
    if (!strcmp(key, "padding"))
        return parse_measure(key, value, FALSE, &p->padding, error);
    g_set_error(error, SF_ERROR, SF_EXIT_USAGE, "unknown parameter '%s'", key);
    return FALSE;
}

static const char *target_key(const sf_target *target, gboolean fragment)
{
    static const char *const names[2][3] = {
        {"max-size", "downsample", "mpp"},
        {"fragment-max-size", "fragment-downsample", "fragment-mpp"},
    };
    return names[fragment ? 1 : 0][target->kind];
}

static void add_measure(JsonBuilder *b, const char *key, const sf_measure *m, gboolean area)
{
    json_builder_set_member_name(b, key);
    if (m->microns) {
        g_autofree char *text = g_strdup_printf("%.9g%s", m->value, area ? "um2" : "um");
        json_builder_add_string_value(b, text);
    } else {
        json_builder_add_double_value(b, m->value);
    }
}

JsonNode *sf_run_params_to_json(const sf_run_params *p)
{
    const sf_detect_params *d = &p->detect;
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    sf_json_add_double(b, target_key(&p->overview, FALSE), p->overview.value);
    sf_json_add_double(b, target_key(&p->fragment, TRUE), p->fragment.value);
    sf_json_add_string(b, "overview-format", p->overview_png ? "png" : "jpg");
    sf_json_add_int(b, "jpeg-quality", p->jpeg_quality);
    sf_json_add_string(b, "channel", sf_channel_name(d->channel));
    sf_json_add_string(b, "polarity", d->polarity == SF_POLARITY_DARK ? "dark" : "bright");
    json_builder_set_member_name(b, "threshold");
    if (d->otsu)
        json_builder_add_string_value(b, "otsu");
    else
        json_builder_add_int_value(b, d->threshold);
    sf_json_add_bool(b, "remove-ink", d->remove_ink);
    sf_json_add_int(b, "open", d->open_size);
    sf_json_add_int(b, "close", d->close_size);
    sf_json_add_bool(b, "fill-holes", d->fill_holes);
    sf_json_add_int(b, "connectivity", d->regions.connectivity);
    add_measure(b, "gap", &p->gap, FALSE);
    if (p->min_area_default)
        sf_json_add_string(b, "min-area", "auto");
    else
        add_measure(b, "min-area", &p->min_area, TRUE);
    sf_json_add_double(b, "min-area-fraction", p->min_area_fraction);
    sf_json_add_double(b, "min-tissue-fraction", p->min_tissue_fraction);
    add_measure(b, "padding", &p->padding, FALSE);
    json_builder_end_object(b);
    return json_builder_get_root(b);
}

/* JSON scalars back to the text the setter parses. */
static char *json_scalar_text(JsonNode *node)
{
    if (!JSON_NODE_HOLDS_VALUE(node))
        return NULL;
    switch (json_node_get_value_type(node)) {
    case G_TYPE_STRING:
        return g_strdup(json_node_get_string(node));
    case G_TYPE_BOOLEAN:
        return g_strdup(json_node_get_boolean(node) ? "true" : "false");
    case G_TYPE_INT64:
        return g_strdup_printf("%" G_GINT64_FORMAT, json_node_get_int(node));
    case G_TYPE_DOUBLE: {
        char buffer[G_ASCII_DTOSTR_BUF_SIZE];
        return g_strdup(g_ascii_dtostr(buffer, sizeof buffer, json_node_get_double(node)));
    }
    default:
        return NULL;
    }
}

gboolean sf_run_params_load(sf_run_params *params, const char *path, GError **error)
{
    g_autoptr(GError) local = NULL;
    g_autofree char *text = NULL;
    gsize length = 0;
    if (!g_file_get_contents(path, &text, &length, &local)) {
        g_set_error(error, SF_ERROR, SF_EXIT_MISSING, "%s: %s", path, local->message);
        return FALSE;
    }
    /* Read here rather than by json-glib so the nesting is checked first. */
    if (!sf_json_check_depth(path, text, length, error))
        return FALSE;
    g_autoptr(JsonParser) parser = json_parser_new();
    if (!json_parser_load_from_data(parser, text, (gssize)length, &local)) {
        /* json-glib names in-memory text "<data>": put the path there. */
        const char *message = local->message;
        if (g_str_has_prefix(message, "<data>:"))
            g_set_error(error, SF_ERROR, SF_EXIT_BAD_INPUT, "%s:%s", path,
                        message + strlen("<data>:"));
        else
            g_set_error(error, SF_ERROR, SF_EXIT_BAD_INPUT, "%s: %s", path, message);
        return FALSE;
    }
    JsonNode *root = json_parser_get_root(parser);
    if (!root || !JSON_NODE_HOLDS_OBJECT(root)) {
        g_set_error(error, SF_ERROR, SF_EXIT_BAD_INPUT, "%s: not a JSON object of parameters",
                    path);
        return FALSE;
    }
    JsonObject *object = json_node_get_object(root);
    /* A manifest or a tune result carries its parameters under "params". */
    if (json_object_has_member(object, "params") &&
        JSON_NODE_HOLDS_OBJECT(json_object_get_member(object, "params")))
        object = json_object_get_object_member(object, "params");
    return sf_run_params_apply_json(params, object, path, error);
}

gboolean sf_run_params_apply_json(sf_run_params *params, JsonObject *object, const char *source,
                                  GError **error)
{
    g_autoptr(GError) local = NULL;
    g_autoptr(GList) members = json_object_get_members(object);
    for (GList *m = members; m; m = m->next) {
        const char *key = m->data;
        g_autofree char *text = json_scalar_text(json_object_get_member(object, key));
        if (!text) {
            g_set_error(error, SF_ERROR, SF_EXIT_BAD_INPUT,
                        "%s: parameter '%s' must be a number, string or boolean", source, key);
            return FALSE;
        }
        if (!sf_run_params_set(params, key, text, &local)) {
            g_set_error(error, SF_ERROR, SF_EXIT_BAD_INPUT, "%s: %s", source, local->message);
            return FALSE;
        }
    }
    return TRUE;
}

void sf_run_params_for_mpp(const sf_run_params *params, double mpp, sf_run_params *out)
{
    *out = *params;
    if (!out->min_area_default)
        return;
    out->min_area_default = FALSE;
    if (mpp <= 0) {
        out->min_area = (sf_measure){0, FALSE};
        out->min_area_fraction = MAX(out->min_area_fraction, SF_MIN_AREA_FRACTION_NO_MPP);
    }
}

void sf_run_result_clear(sf_run_result *result)
{
    g_clear_pointer(&result->output_dir, g_free);
}
