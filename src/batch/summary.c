/* OUTDIR/summary.json and summary.csv: what became of every slide. */
#include <glib/gstdio.h>
#include <string.h>

#include "batch/batch.h"
#include "io/json_safe.h"
#include "slidefrag/image_io.h"

const char *sf_batch_status_name(sf_batch_status status)
{
    switch (status) {
    case SF_BATCH_OK:
        return "ok";
    case SF_BATCH_FAILED:
        return "failed";
    case SF_BATCH_SKIPPED:
        return "skipped";
    case SF_BATCH_INTERRUPTED:
        return "interrupted";
    default:
        return "pending";
    }
}

void sf_batch_item_free(sf_batch_item *item)
{
    if (!item)
        return;
    g_free(item->path);
    g_free(item->output_dir);
    g_free(item->error);
    g_free(item->note);
    g_free(item);
}

const char *sf_batch_item_folder(const sf_batch_item *item)
{
    return g_file_test(item->output_dir, G_FILE_TEST_IS_DIR) ? item->output_dir : NULL;
}

/* Counts are known only for slides whose manifest exists. */
static gboolean has_counts(const sf_batch_item *item)
{
    return item->status == SF_BATCH_OK || item->status == SF_BATCH_SKIPPED;
}

static char *summary_json(const char *out_root, sf_batch_item *const *items, guint n_items)
{
    guint counts[SF_BATCH_INTERRUPTED + 1] = {0};
    for (guint i = 0; i < n_items; i++)
        counts[items[i]->status]++;

    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    sf_json_add_string(b, "schema", "slidefrag.batch-summary/1");
    sf_json_add_string(b, "output", out_root);
    json_builder_set_member_name(b, "counts");
    json_builder_begin_object(b);
    sf_json_add_int(b, "total", n_items);
    for (int s = SF_BATCH_OK; s <= SF_BATCH_INTERRUPTED; s++)
        sf_json_add_int(b, sf_batch_status_name(s), counts[s]);
    json_builder_end_object(b);

    json_builder_set_member_name(b, "slides");
    json_builder_begin_array(b);
    for (guint i = 0; i < n_items; i++) {
        const sf_batch_item *item = items[i];
        json_builder_begin_object(b);
        sf_json_add_string(b, "path", item->path);
        sf_json_add_string(b, "status", sf_batch_status_name(item->status));
        sf_json_add_string(b, "error", item->error);
        json_builder_set_member_name(b, "regions");
        if (has_counts(item))
            json_builder_add_int_value(b, item->n_regions);
        else
            json_builder_add_null_value(b);
        json_builder_set_member_name(b, "fragments");
        if (has_counts(item))
            json_builder_add_int_value(b, item->n_fragments);
        else
            json_builder_add_null_value(b);
        sf_json_add_double(b, "seconds", item->seconds);
        sf_json_add_string(b, "output", sf_batch_item_folder(item));
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
    json_builder_end_object(b);

    g_autoptr(JsonNode) root = json_builder_get_root(b);
    return sf_json_file_text(root);
}

/* RFC 4180: quoted when it holds a separator, a quote or a line break. */
static void csv_field(GString *out, const char *raw)
{
    if (!raw)
        return;
    /* Text, as in summary.json: a file name that is not UTF-8 made valid. */
    g_autofree char *value = g_utf8_make_valid(raw, -1);
    if (!strpbrk(value, ",\"\r\n")) {
        g_string_append(out, value);
        return;
    }
    g_string_append_c(out, '"');
    for (const char *p = value; *p; p++) {
        if (*p == '"')
            g_string_append_c(out, '"');
        g_string_append_c(out, *p);
    }
    g_string_append_c(out, '"');
}

static char *summary_csv(sf_batch_item *const *items, guint n_items)
{
    GString *out = g_string_new("path,status,error,regions,fragments,seconds,output\r\n");
    for (guint i = 0; i < n_items; i++) {
        const sf_batch_item *item = items[i];
        csv_field(out, item->path);
        g_string_append_c(out, ',');
        csv_field(out, sf_batch_status_name(item->status));
        g_string_append_c(out, ',');
        csv_field(out, item->error);
        g_string_append_c(out, ',');
        if (has_counts(item))
            g_string_append_printf(out, "%d,%d", item->n_regions, item->n_fragments);
        else
            g_string_append_c(out, ',');
        char seconds[SF_NUMBER_TEXT_SIZE];
        g_string_append_printf(out, ",%s,", sf_number_text(seconds, item->seconds));
        csv_field(out, sf_batch_item_folder(item));
        g_string_append(out, "\r\n");
    }
    return g_string_free(out, FALSE);
}

gboolean sf_batch_write_summary(const char *out_root, sf_batch_item *const *items, guint n_items,
                                GError **error)
{
    g_autofree char *json = summary_json(out_root, items, n_items);
    g_autofree char *csv = summary_csv(items, n_items);
    g_autofree char *json_path = g_build_filename(out_root, "summary.json", NULL);
    g_autofree char *csv_path = g_build_filename(out_root, "summary.csv", NULL);
    if (sf_write_file_atomic(json_path, json, strlen(json), error) &&
        sf_write_file_atomic(csv_path, csv, strlen(csv), error))
        return TRUE;
    /* An earlier batch's summaries must not stay to describe this one (one
     * that said "ok" for slides that have now failed), nor a new JSON
     * beside an old CSV. */
    g_unlink(json_path);
    g_unlink(csv_path);
    return FALSE;
}
