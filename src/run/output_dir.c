/* Where a slide's outputs go: OUTDIR/<stem>, unless another slide owns it.
 * `run` and `batch` both name folders here. */
#include <string.h>

#include "run/run_internal.h"
#include "slidefrag/manifest.h"

/* The folder an earlier run left for another slide file, if any. */
static gboolean owned_by_other_slide(const char *dir, const char *slide_path)
{
    g_autofree char *manifest_path = g_build_filename(dir, "manifest.json", NULL);
    if (!g_file_test(manifest_path, G_FILE_TEST_EXISTS))
        return FALSE;
    g_autoptr(sf_manifest) manifest = sf_manifest_load(manifest_path, NULL);
    /* An unreadable manifest is a leftover of ours: the run replaces it. */
    return manifest && !sf_manifest_is_of_slide(manifest, slide_path);
}

/* OUTDIR/<stem>, or OUTDIR/<stem>-<hash of the path> when stem_shared
 * (several inputs have this stem) or an earlier run left that folder for
 * another slide file. */
static char *output_dir(const char *out_root, const char *slide_path, gboolean stem_shared)
{
    g_autofree char *stem = sf_slide_stem(slide_path);
    g_autofree char *abs_path = g_canonicalize_filename(slide_path, NULL);
    char *dir = g_build_filename(out_root, stem, NULL);
    if (!stem_shared && !owned_by_other_slide(dir, slide_path))
        return dir;
    /* Same stem, different file: a suffix from the full path keeps both, and
     * stays the same on every run so that resuming finds it again. */
    g_free(dir);
    g_autofree char *hash = g_compute_checksum_for_string(G_CHECKSUM_SHA1, abs_path, -1);
    g_autofree char *name = g_strdup_printf("%s-%.8s", stem, hash);
    return g_build_filename(out_root, name, NULL);
}

char **sf_run_output_dirs(const char *out_root, const char *const *slide_paths, size_t n)
{
    g_autoptr(GHashTable) stem_counts =
        g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    char **stems = g_new0(char *, n + 1);
    for (size_t i = 0; i < n; i++) {
        stems[i] = sf_slide_stem(slide_paths[i]);
        int count = GPOINTER_TO_INT(g_hash_table_lookup(stem_counts, stems[i]));
        g_hash_table_replace(stem_counts, g_strdup(stems[i]), GINT_TO_POINTER(count + 1));
    }
    char **dirs = g_new0(char *, n + 1);
    for (size_t i = 0; i < n; i++) {
        gboolean shared = GPOINTER_TO_INT(g_hash_table_lookup(stem_counts, stems[i])) > 1;
        dirs[i] = output_dir(out_root, slide_paths[i], shared);
    }
    g_strfreev(stems);
    return dirs;
}
