/*
 * The manifest reader (sf_manifest_load) on one file, then the manifest
 * used to place an annotation on each of its fragments, as `map
 * --manifest` does: odd sizes and boxes must give finite coordinates or a
 * reported problem, never a crash. Also the --params reader on the same
 * file, since a manifest is a valid --params file.
 */
#include <glib.h>
#include <math.h>

#include "fuzz.h"
#include "slidefrag/annotations.h"
#include "slidefrag/manifest.h"
#include "slidefrag/run.h"

int sf_fuzz_manifest(const uint8_t *data, size_t size)
{
    const char *path = sf_fuzz_memfile(data, size);
    GError *error = NULL;
    sf_manifest *manifest = sf_manifest_load(path, &error);
    if (!manifest) {
        SF_FUZZ_CHECK(error && strstr(error->message, path));
        g_error_free(error);
        return 0;
    }
    GString *csv = g_string_new(NULL);
    for (size_t i = 0; i < manifest->n_regions; i++) {
        const sf_manifest_region *r = &manifest->regions[i];
        SF_FUZZ_CHECK(r->fragment_name && !strchr(r->fragment_name, '/'));
        if (i < 8)
            g_string_append_printf(csv, "t,1,1,%s,%d,%d\n", r->fragment_name, r->fragment_width,
                                   r->fragment_height);
    }
    gboolean bounds = manifest->has_bounds;
    sf_fragment_index *index = sf_fragment_index_new();
    if (sf_fragment_index_add(index, manifest, &error)) {
        sf_annotation_set *set = sf_annotation_set_new();
        SF_FUZZ_CHECK(sf_annotations_read_data(set, "points.csv", csv->str, csv->len, NULL));
        guint n_mapped = 0;
        GPtrArray *slides = sf_annotations_map(
            set, index, bounds ? SF_OFFSET_BOUNDS : SF_OFFSET_NONE, &n_mapped, &error);
        SF_FUZZ_CHECK(slides != NULL);
        sf_fuzz_check_mapped(slides, n_mapped);
        g_ptr_array_unref(slides);
        sf_annotation_set_free(set);
    } else {
        g_clear_error(&error);
    }
    sf_fragment_index_free(index);
    g_string_free(csv, TRUE);
    return 0;
}

int sf_fuzz_params(const uint8_t *data, size_t size)
{
    const char *path = sf_fuzz_memfile(data, size);
    sf_run_params params;
    sf_run_params_default(&params);
    GError *error = NULL;
    if (!sf_run_params_load(&params, path, &error)) {
        SF_FUZZ_CHECK(error && strstr(error->message, path));
        g_error_free(error);
        return 0;
    }
    /* Whatever was accepted is within the documented ranges. */
    SF_FUZZ_CHECK(params.jpeg_quality >= 1 && params.jpeg_quality <= 100);
    SF_FUZZ_CHECK(params.overview.value > 0 && isfinite(params.overview.value));
    SF_FUZZ_CHECK(params.fragment.value > 0 && isfinite(params.fragment.value));
    SF_FUZZ_CHECK(params.detect.open_size >= 0 && params.detect.close_size >= 0);
    SF_FUZZ_CHECK(params.gap.value >= 0 && params.min_area.value >= 0 && params.padding.value >= 0);
    SF_FUZZ_CHECK(params.detect.regions.connectivity == 4 ||
                  params.detect.regions.connectivity == 8);
    /* Written back (as a manifest records them) and read again, they are
     * the same parameters. */
    JsonNode *json = sf_run_params_to_json(&params);
    char *text = json_to_string(json, FALSE);
    json_node_unref(json);
    sf_run_params again;
    sf_run_params_default(&again);
    const char *copy = sf_fuzz_memfile((const uint8_t *)text, strlen(text));
    SF_FUZZ_CHECK(sf_run_params_load(&again, copy, NULL));
    json = sf_run_params_to_json(&again);
    char *text_again = json_to_string(json, FALSE);
    json_node_unref(json);
    SF_FUZZ_CHECK(strcmp(text, text_again) == 0);
    g_free(text);
    g_free(text_again);
    return 0;
}
