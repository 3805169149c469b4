/*
 * Run parameters: ONE table (specs[] below) declares each parameter once:
 * its key, argument, help, kind, where it is stored, its range and what a
 * change of it invalidates. Everything else is driven from the table: the
 * command line (cli/cmd_run_options.c builds its GOption group from
 * sf_run_param_info_at), --params files, the manifest's "params", tune's grid
 * and mask groups. Adding a parameter is one line here.
 */
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "io/json_read.h"
#include "io/json_safe.h"
#include "slidefrag/error.h"
#include "slidefrag/run.h"

typedef enum {
    KIND_TARGET, /* one way of giving a resolution; keys of one field are alternatives */
    KIND_INT,    /* a whole number in [min, max], stored in `size` bytes */
    KIND_DOUBLE, /* a number in [min, max] */
    KIND_BOOL,   /* true/false, 1/0, yes/no; a bare flag on the command line */
    KIND_CHOICE, /* one of `names` ("a|b": b is another spelling of a); stored as an int */
    KIND_LENGTH, /* sf_measure: overview pixels, or µm with "um" */
    KIND_AREA,   /* sf_measure: overview pixels², or µm² with "um2" / "mm2" */
} param_kind;

typedef struct param_spec {
    sf_param_info info;
    param_kind kind;
    size_t offset; /* of the value in sf_run_params */
    size_t size;   /* KIND_INT: bytes of the stored integer */
    double min, max;
    gboolean min_exclusive;   /* min itself is not allowed */
    gboolean whole;           /* KIND_TARGET: a whole number */
    sf_target_kind target;    /* KIND_TARGET: the way this key gives it */
    const char *const *names; /* KIND_CHOICE: spellings, by stored value */
    const int
        *choice_values; /* KIND_CHOICE: stored values when not 0, 1, ...; written as numbers */
    /* A word that stands for "decide per slide" ("otsu", "auto"): it sets
     * the bool at auto_flag and the value back to its default. */
    const char *auto_word;
    size_t auto_flag;
    const char *why; /* what a bad value must be, when not derived from the kind */
} param_spec;

/* Far beyond any slide, and the JPEG side limit: guards arithmetic. */
#define MAX_PIXELS 65535.0
#define MAX_DOWNSAMPLE 1e6
#define MAX_MPP 1e6
#define MAX_KERNEL 4095

static const char *const channel_names[] = {"red",       "green",      "blue",
                                            "grey|gray", "saturation", NULL};
static const char *const polarity_names[] = {"dark", "bright", NULL};
static const char *const format_names[] = {"jpg|jpeg", "png", NULL};
static const char *const connectivity_names[] = {"4", "8", NULL};
static const int connectivity_values[] = {4, 8};

/* One parameter: key, argument (NULL for a flag), what a change
 * invalidates, help, kind, field, then what the kind needs. */
#define PARAM(key_, arg_, stage_, help_, kind_, field_, ...)                                       \
    {                                                                                              \
        .info = {key_, arg_, help_, SF_PARAM_STAGE_##stage_}, .kind = KIND_##kind_,                \
        .offset = offsetof(sf_run_params, field_), .size = sizeof(((sf_run_params *)0)->field_),   \
        __VA_ARGS__                                                                                \
    }

/* clang-format off */
static const param_spec specs[] = {
    PARAM("max-size", "PX", OVERVIEW, "Overview: longest side in pixels",
          TARGET, overview, .target = SF_TARGET_MAX_SIZE, .min = 1, .max = MAX_PIXELS, .whole = TRUE),
    PARAM("downsample", "D", OVERVIEW, "Overview: level-0 pixels per overview pixel",
          TARGET, overview, .target = SF_TARGET_DOWNSAMPLE, .min = 1, .max = MAX_DOWNSAMPLE),
    PARAM("mpp", "M", OVERVIEW, "Overview: micrometres per pixel (needs the slide's µm/px)",
          TARGET, overview, .target = SF_TARGET_MPP, .min = 0, .min_exclusive = TRUE, .max = MAX_MPP),
    PARAM("fragment-max-size", "PX", OUTPUT, "Fragments: finest resolution whose longest side fits PX",
          TARGET, fragment, .target = SF_TARGET_MAX_SIZE, .min = 1, .max = MAX_PIXELS, .whole = TRUE,
          .auto_word = "auto", .auto_flag = offsetof(sf_run_params, fragment_default)),
    PARAM("fragment-downsample", "D", OUTPUT, "Fragments: level-0 pixels per fragment pixel",
          TARGET, fragment, .target = SF_TARGET_DOWNSAMPLE, .min = 1, .max = MAX_DOWNSAMPLE,
          .auto_word = "auto", .auto_flag = offsetof(sf_run_params, fragment_default)),
    PARAM("fragment-mpp", "M", OUTPUT, "Fragments: micrometres per pixel; auto: 1 µm/px, or a 4096 px longest side where the slide's µm/px is unknown",
          TARGET, fragment, .target = SF_TARGET_MPP, .min = 0, .min_exclusive = TRUE, .max = MAX_MPP,
          .auto_word = "auto", .auto_flag = offsetof(sf_run_params, fragment_default)),
    PARAM("tile", "PX", OUTPUT, "Fragments: regions larger than PX a side are cut into overlapping tiles (64-12000)",
          INT, tile, .min = SF_TILE_MIN, .max = SF_TILE_MAX),
    PARAM("overlap", "N[um]", OUTPUT, "Fragments: neighbouring tiles overlap by this, fragment px or µm",
          LENGTH, overlap),
    PARAM("overview-format", "jpg|png", OUTPUT, "Overview file format",
          CHOICE, overview_png, .names = format_names, .why = "jpg or png"),
    PARAM("jpeg-quality", "Q", OUTPUT, "JPEG quality 1-100",
          INT, jpeg_quality, .min = 1, .max = 100),
    PARAM("channel", "NAME", MASK, "red, green, blue, grey or saturation",
          CHOICE, detect.channel, .names = channel_names, .why = "red, green, blue, grey or saturation"),
    PARAM("polarity", "dark|bright", MASK, "Tissue darker than glass (brightfield) or brighter",
          CHOICE, detect.polarity, .names = polarity_names,
          .why = "dark (brightfield) or bright (fluorescence)"),
    PARAM("threshold", "otsu|N", MASK, "Otsu's threshold or a fixed value 0-255",
          INT, detect.threshold, .min = 0, .max = 255, .auto_word = "otsu",
          .auto_flag = offsetof(sf_run_params, detect.otsu), .why = "otsu or a whole number 0 .. 255"),
    PARAM("remove-ink", NULL, MASK, "Green and blue marker ink is not tissue",
          BOOL, detect.remove_ink),
    PARAM("open", "K", MASK, "Opening with a KxK rectangle, 0 = off",
          INT, detect.open_size, .min = 0, .max = MAX_KERNEL),
    PARAM("close", "K", MASK, "Closing with a KxK rectangle after it, 0 = off",
          INT, detect.close_size, .min = 0, .max = MAX_KERNEL),
    PARAM("fill-holes", NULL, MASK, "Fill holes inside tissue",
          BOOL, detect.fill_holes),
    PARAM("connectivity", "4|8", REGIONS, "Pixel connectivity of components",
          CHOICE, detect.regions.connectivity, .names = connectivity_names,
          .choice_values = connectivity_values, .why = "4 or 8"),
    PARAM("gap", "N[um]", REGIONS, "Merge regions closer than this, overview px or µm",
          LENGTH, gap),
    PARAM("min-area", "N[um2|mm2]", REGIONS, "Drop regions smaller than this, overview px² or µm²; auto: 5000 µm², or 1/10000 of the slide where its µm/px is unknown",
          AREA, min_area, .auto_word = "auto", .auto_flag = offsetof(sf_run_params, min_area_default)),
    PARAM("min-area-fraction", "F", REGIONS, "Drop regions smaller than this fraction of the slide",
          DOUBLE, min_area_fraction, .min = 0, .max = 1),
    PARAM("min-tissue-fraction", "F", REGIONS, "Drop regions with less tissue than this fraction",
          DOUBLE, min_tissue_fraction, .min = 0, .max = 1),
    PARAM("padding", "N[um]|auto", OUTPUT, "Grow each fragment's region by this, overview px or µm; auto: 20 µm, or 1 overview px where the slide's µm/px is unknown",
          LENGTH, padding, .auto_word = "auto", .auto_flag = offsetof(sf_run_params, padding_default)),
};
/* clang-format on */

/* KIND_CHOICE values are stored through an int pointer. */
G_STATIC_ASSERT(sizeof(sf_channel) == sizeof(int) && sizeof(sf_polarity) == sizeof(int));
G_STATIC_ASSERT(sizeof(gboolean) == sizeof(int));

void sf_run_params_default(sf_run_params *params)
{
    *params = (sf_run_params){
        .overview = {SF_TARGET_MAX_SIZE, 2048},
        /* A physical resolution, the same on every slide: 1 µm/px is a 10x
         * view, fine enough to tell a tumour cell from a lymphocyte. Large
         * regions are cut into tiles instead of coarsened to fit. */
        .fragment = {SF_TARGET_MPP, SF_FRAGMENT_MPP_DEFAULT},
        .fragment_default = TRUE,
        .overview_png = FALSE,
        .jpeg_quality = 90,
        .gap = {0, FALSE},
        /* Region sizes are physical by default, not a fraction of the
         * image: the same biopsy pieces must survive whether the slide is
         * 0.3 or 3 gigapixels. */
        .min_area = {SF_MIN_AREA_DEFAULT_UM2, TRUE},
        .min_area_default = TRUE,
        .min_area_fraction = 0,
        /* A margin of glass around the tissue, so that its edge is never
         * the image's. */
        .padding = {SF_PADDING_DEFAULT_UM, TRUE},
        .padding_default = TRUE,
        .tile = SF_TILE_DEFAULT,
        .overlap = {SF_OVERLAP_DEFAULT_PX, FALSE},
        .threads = 1,
    };
    sf_detect_params_default(&params->detect);
    params->gap.value = (double)params->detect.regions.gap;
    params->min_tissue_fraction = params->detect.regions.min_tissue_fraction;
}

size_t sf_run_params_count(void)
{
    return G_N_ELEMENTS(specs);
}

const sf_param_info *sf_run_param_info_at(size_t index)
{
    return index < G_N_ELEMENTS(specs) ? &specs[index].info : NULL;
}

static const param_spec *find_spec(const char *key)
{
    for (size_t i = 0; i < G_N_ELEMENTS(specs); i++)
        if (!strcmp(specs[i].info.key, key))
            return &specs[i];
    return NULL;
}

const sf_param_info *sf_run_param_lookup(const char *key)
{
    const param_spec *spec = find_spec(key);
    return spec ? &spec->info : NULL;
}

/* ---- Values in place ---------------------------------------------------- */

static void *field(sf_run_params *p, size_t offset)
{
    return (char *)p + offset;
}

static const void *cfield(const sf_run_params *p, size_t offset)
{
    return (const char *)p + offset;
}

static int64_t get_int(const sf_run_params *p, const param_spec *s)
{
    if (s->size == 1)
        return *(const uint8_t *)cfield(p, s->offset);
    return *(const int *)cfield(p, s->offset);
}

static void put_int(sf_run_params *p, const param_spec *s, int64_t v)
{
    if (s->size == 1)
        *(uint8_t *)field(p, s->offset) = (uint8_t)v;
    else
        *(int *)field(p, s->offset) = (int)v;
}

/* Whether the auto word is in effect (a bool beside the value). */
static gboolean get_auto(const sf_run_params *p, const param_spec *s)
{
    return *(const bool *)cfield(p, s->auto_flag);
}

static void put_auto(sf_run_params *p, const param_spec *s, gboolean on)
{
    *(bool *)field(p, s->auto_flag) = on;
}

/* ---- Parsing ------------------------------------------------------------ */

static gboolean bad_value(GError **error, const char *key, const char *value, const char *why)
{
    g_set_error(error, SF_ERROR, SF_EXIT_USAGE, "--%s: '%s' is not %s", key, value, why);
    return FALSE;
}

static gboolean parse_double(const param_spec *s, const char *value, double *out, GError **error)
{
    const char *key = s->info.key;
    char *end = NULL;
    errno = 0;
    double v = g_ascii_strtod(value, &end);
    if (end == value || *end || errno || !isfinite(v))
        return bad_value(error, key, value, "a number");
    if (v < s->min || (s->min_exclusive && v == s->min) || v > s->max) {
        g_autofree char *range = g_strdup_printf("in the range %s%g .. %g",
                                                 s->min_exclusive ? "above " : "", s->min, s->max);
        return bad_value(error, key, value, range);
    }
    *out = v;
    return TRUE;
}

static gboolean parse_int(const param_spec *s, const char *value, int64_t *out, GError **error)
{
    char *end = NULL;
    errno = 0;
    long long v = strtoll(value, &end, 10);
    if (end == value || *end || errno)
        return bad_value(error, s->info.key, value, "a whole number");
    if (v < s->min || v > s->max) {
        g_autofree char *range = g_strdup_printf("in the range %g .. %g", s->min, s->max);
        return bad_value(error, s->info.key, value, range);
    }
    *out = v;
    return TRUE;
}

static gboolean parse_bool(const char *value, gboolean *out)
{
    if (!g_ascii_strcasecmp(value, "true") || !strcmp(value, "1") ||
        !g_ascii_strcasecmp(value, "yes"))
        *out = TRUE;
    else if (!g_ascii_strcasecmp(value, "false") || !strcmp(value, "0") ||
             !g_ascii_strcasecmp(value, "no"))
        *out = FALSE;
    else
        return FALSE;
    return TRUE;
}

/* The stored value of `name` among "a|b" spellings, or -1. */
static int parse_choice(const param_spec *s, const char *value)
{
    for (int i = 0; s->names[i]; i++) {
        g_auto(GStrv) spellings = g_strsplit(s->names[i], "|", -1);
        for (int k = 0; spellings[k]; k++)
            if (!strcmp(value, spellings[k]))
                return s->choice_values ? s->choice_values[i] : i;
    }
    return -1;
}

/* "12" is overview pixels; "12um" or "12µm" micrometres (for areas "um2",
 * "µm2", "µm²" or "mm2"). */
static gboolean parse_measure(const param_spec *s, const char *value, sf_measure *out,
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
    const char *key = s->info.key;
    gboolean area = s->kind == KIND_AREA;
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
    const char *why =
        area ? "an area (pixels, or with um2 / mm2)" : "a length (pixels, or with um)";
    char *end = NULL;
    errno = 0;
    double v = g_ascii_strtod(number, &end);
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

/* Sets one parameter; the message of a failure comes from the kind, or is
 * the spec's `why` for kinds whose values are words. */
static gboolean set_value(sf_run_params *p, const param_spec *s, const char *value, GError **error)
{
    const char *key = s->info.key;
    if (s->auto_word && !strcmp(value, s->auto_word)) {
        sf_run_params defaults;
        sf_run_params_default(&defaults);
        if (s->kind == KIND_INT)
            put_int(p, s, get_int(&defaults, s));
        else if (s->kind == KIND_TARGET)
            *(sf_target *)field(p, s->offset) = *(const sf_target *)cfield(&defaults, s->offset);
        else
            *(sf_measure *)field(p, s->offset) = *(const sf_measure *)cfield(&defaults, s->offset);
        put_auto(p, s, TRUE);
        return TRUE;
    }
    switch (s->kind) {
    case KIND_TARGET: {
        double v;
        if (!parse_double(s, value, &v, error))
            return FALSE;
        if (s->whole && v != floor(v))
            return bad_value(error, key, value, "a whole number of pixels");
        *(sf_target *)field(p, s->offset) = (sf_target){s->target, v};
        if (s->auto_word)
            put_auto(p, s, FALSE);
        return TRUE;
    }
    case KIND_INT: {
        int64_t v;
        if (!parse_int(s, value, &v, error)) {
            if (s->why) {
                g_clear_error(error);
                return bad_value(error, key, value, s->why);
            }
            return FALSE;
        }
        put_int(p, s, v);
        if (s->auto_word)
            put_auto(p, s, FALSE);
        return TRUE;
    }
    case KIND_DOUBLE:
        return parse_double(s, value, (double *)field(p, s->offset), error);
    case KIND_BOOL: {
        gboolean b;
        if (!parse_bool(value, &b))
            return bad_value(error, key, value, "true or false");
        *(bool *)field(p, s->offset) = b;
        return TRUE;
    }
    case KIND_CHOICE: {
        int v = parse_choice(s, value);
        if (v < 0)
            return bad_value(error, key, value, s->why);
        *(int *)field(p, s->offset) = v;
        return TRUE;
    }
    case KIND_LENGTH:
    case KIND_AREA:
        if (!parse_measure(s, value, (sf_measure *)field(p, s->offset), error))
            return FALSE;
        if (s->auto_word)
            put_auto(p, s, FALSE);
        return TRUE;
    }
    g_assert_not_reached();
}

gboolean sf_run_params_set(sf_run_params *p, const char *key, const char *value, GError **error)
{
    const param_spec *s = find_spec(key);
    if (!s) {
        g_set_error(error, SF_ERROR, SF_EXIT_USAGE, "unknown parameter '%s'", key);
        return FALSE;
    }
    return set_value(p, s, value, error);
}

/* ---- Writing ------------------------------------------------------------ */

/* Whether the key holds the parameter's value: of the alternatives for one
 * field, only the way it was given. */
static gboolean in_effect(const sf_run_params *p, const param_spec *s)
{
    return s->kind != KIND_TARGET || ((const sf_target *)cfield(p, s->offset))->kind == s->target;
}

/* The value as a JSON node: numbers as numbers, words as strings, measures
 * in µm as "12um" so they read back as given. */
static JsonNode *value_node(const sf_run_params *p, const param_spec *s)
{
    JsonNode *node = json_node_new(JSON_NODE_VALUE);
    if (s->auto_word && get_auto(p, s)) {
        json_node_set_string(node, s->auto_word);
        return node;
    }
    switch (s->kind) {
    case KIND_TARGET:
        json_node_set_double(node, ((const sf_target *)cfield(p, s->offset))->value);
        break;
    case KIND_INT:
        json_node_set_int(node, get_int(p, s));
        break;
    case KIND_DOUBLE:
        json_node_set_double(node, *(const double *)cfield(p, s->offset));
        break;
    case KIND_BOOL:
        json_node_set_boolean(node, *(const bool *)cfield(p, s->offset));
        break;
    case KIND_CHOICE: {
        int v = *(const int *)cfield(p, s->offset);
        if (s->choice_values) {
            json_node_set_int(node, v);
        } else {
            g_auto(GStrv) spellings = g_strsplit(s->names[v], "|", 2);
            json_node_set_string(node, spellings[0]);
        }
        break;
    }
    case KIND_LENGTH:
    case KIND_AREA: {
        const sf_measure *m = cfield(p, s->offset);
        if (m->microns) {
            char number[SF_NUMBER_TEXT_SIZE];
            g_autofree char *text = g_strconcat(sf_number_text(number, m->value),
                                                s->kind == KIND_AREA ? "um2" : "um", NULL);
            json_node_set_string(node, text);
        } else {
            json_node_set_double(node, m->value);
        }
        break;
    }
    }
    return node;
}

JsonNode *sf_run_params_to_json(const sf_run_params *p)
{
    JsonObject *object = json_object_new();
    for (size_t i = 0; i < G_N_ELEMENTS(specs); i++)
        if (in_effect(p, &specs[i]))
            json_object_set_member(object, specs[i].info.key, value_node(p, &specs[i]));
    JsonNode *root = json_node_new(JSON_NODE_OBJECT);
    json_node_take_object(root, object);
    return root;
}

/* JSON scalars back to the text the setter parses. */
static char *json_scalar_text(JsonNode *node)
{
    if (!node || !JSON_NODE_HOLDS_VALUE(node))
        return NULL;
    switch (json_node_get_value_type(node)) {
    case G_TYPE_STRING:
        return g_strdup(json_node_get_string(node));
    case G_TYPE_BOOLEAN:
        return g_strdup(json_node_get_boolean(node) ? "true" : "false");
    case G_TYPE_INT64:
        return g_strdup_printf("%" G_GINT64_FORMAT, json_node_get_int(node));
    case G_TYPE_DOUBLE: {
        char number[SF_NUMBER_TEXT_SIZE];
        return g_strdup(sf_number_text(number, json_node_get_double(node)));
    }
    default:
        return NULL;
    }
}

char *sf_run_param_text(const sf_run_params *p, const char *key)
{
    const param_spec *s = find_spec(key);
    if (!s || !in_effect(p, s))
        return NULL;
    g_autoptr(JsonNode) node = value_node(p, s);
    /* Numbers as typed: 0.0002, not 0.00020000000000000001 (the scalar's
     * text is the shortest that reads back). */
    return json_scalar_text(node);
}

/* ---- Reading ------------------------------------------------------------ */

gboolean sf_run_params_load(sf_run_params *params, const char *path, GError **error)
{
    g_autoptr(JsonNode) root = sf_json_load(path, "parameters", SF_INPUT_STREAM, error);
    if (!root)
        return FALSE;
    if (!JSON_NODE_HOLDS_OBJECT(root)) {
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

gboolean sf_run_params_set_all(sf_run_params *p, char *const *values, GError **error)
{
    /* Alternatives for one value (--max-size and --mpp) would silently
     * override each other: one of them, or none. */
    for (size_t i = 0; i < G_N_ELEMENTS(specs); i++)
        for (size_t k = i + 1; k < G_N_ELEMENTS(specs) && values[i]; k++)
            if (values[k] && specs[i].offset == specs[k].offset) {
                g_set_error(error, SF_ERROR, SF_EXIT_USAGE,
                            "--%s and --%s both set the same %s; give one", specs[i].info.key,
                            specs[k].info.key,
                            specs[i].kind == KIND_TARGET ? "resolution" : "value");
                return FALSE;
            }
    for (size_t i = 0; i < G_N_ELEMENTS(specs); i++)
        if (values[i] && !set_value(p, &specs[i], values[i], error))
            return FALSE;
    return TRUE;
}

void sf_run_params_for_mpp(const sf_run_params *params, double mpp, sf_run_params *out)
{
    *out = *params;
    if (out->min_area_default) {
        out->min_area_default = FALSE;
        if (mpp <= 0) {
            out->min_area = (sf_measure){0, FALSE};
            out->min_area_fraction = MAX(out->min_area_fraction, SF_MIN_AREA_FRACTION_NO_MPP);
        }
    }
    if (out->fragment_default) {
        out->fragment_default = FALSE;
        if (mpp <= 0)
            out->fragment = (sf_target){SF_TARGET_MAX_SIZE, SF_FRAGMENT_MAX_SIZE_NO_MPP};
    }
    if (out->padding_default) {
        out->padding_default = FALSE;
        if (mpp <= 0)
            out->padding = (sf_measure){SF_PADDING_NO_MPP_PX, FALSE};
    }
}
