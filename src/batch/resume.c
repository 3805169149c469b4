/* --resume: which slides a previous batch already finished. */
#include <string.h>

#include "batch/batch.h"
#include "slidefrag/manifest.h"
#include "slidefrag/run.h"

gboolean sf_batch_is_done(const char *output_dir, const char *slide_path, JsonNode *params,
                          int *n_regions, int *n_fragments)
{
    /* run writes the manifest last and removes it first, so its presence
     * means the folder is complete for the slide and parameters it names.
     * A manifest that does not load is not done: the slide runs again. */
    g_autofree char *manifest_path = g_build_filename(output_dir, "manifest.json", NULL);
    g_autoptr(sf_manifest) manifest = sf_manifest_load(manifest_path, NULL);
    if (!manifest || !manifest->params)
        return FALSE;
    g_autofree char *abs_path = g_canonicalize_filename(slide_path, NULL);
    if (!sf_manifest_is_of_slide(manifest, abs_path) ||
        !sf_manifest_file_unchanged(manifest, abs_path))
        return FALSE;
    /* The manifest holds the parameters as resolved for its slide (a
     * default min-area depends on the µm/px); resolve ours the same way.
     * json_node_equal compares numbers by value and objects by member, so
     * 2048 and 2048.0 or a different key order still match. */
    sf_run_params wanted, resolved;
    sf_run_params_default(&wanted);
    if (!JSON_NODE_HOLDS_OBJECT(params) ||
        !sf_run_params_apply_json(&wanted, json_node_get_object(params), "parameters", NULL))
        return FALSE;
    sf_run_params_for_mpp(&wanted, sf_run_usable_mpp(manifest->mpp_x), &resolved);
    g_autoptr(JsonNode) resolved_json = sf_run_params_to_json(&resolved);
    if (!json_node_equal(manifest->params, resolved_json))
        return FALSE;
    /* Regions of tissue, each cut into one or more fragments. */
    g_autoptr(GArray) tissue = sf_manifest_tissue_boxes(manifest);
    *n_regions = (int)tissue->len;
    *n_fragments = (int)manifest->n_regions;
    return TRUE;
}
