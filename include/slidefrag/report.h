/*
 * The report a pathologist looks at: OUTDIR/<slide>/report.html per slide
 * (the overview with its regions, component boxes, rejected objects and
 * mask to toggle, a thumbnail per fragment, the parameters, the detector's
 * decisions and warnings, the timings) and OUTDIR/report.html, a table of
 * every slide linking to those pages. Made from the manifests alone; one
 * HTML file each, with no network access: styles and script inline,
 * thumbnails as data URIs, the overview and mask read from beside the page.
 */
#pragma once

#include <glib.h>

#include "slidefrag/manifest.h"

G_BEGIN_DECLS

/* Fragment thumbnails fit this many pixels on their longer side. */
#define SF_REPORT_THUMBNAIL_SIZE 192

/* The page of one slide as text, for the manifest of the folder `dir`
 * (fragments are read from there for their thumbnails; one that cannot be
 * read is shown as missing). g_free it. */
char *sf_report_slide_html(const sf_manifest *manifest, const char *dir);

/* Writes dir/report.html from the manifest, atomically. Errors:
 * SF_EXIT_OUTPUT. */
gboolean sf_report_write_slide(const sf_manifest *manifest, const char *dir, GError **error);

/* One slide of a batch or run, as the index lists it. */
typedef struct sf_report_row {
    const char *path;   /* the slide file */
    const char *folder; /* its output folder, NULL when none was written */
    const char *status; /* "ok", "failed", "skipped" or "interrupted" */
    const char *error;  /* NULL unless failed or interrupted */
    double seconds;     /* < 0 when unknown */
} sf_report_row;

/*
 * Writes out_root/report.html, atomically: one row per slide in the order
 * given (status, regions, warnings, seconds, error) linking to each finished
 * slide's page. A finished slide's manifest gives its regions and warnings;
 * when its folder lacks report.html (a folder from an older slidefrag), the
 * page is written too. Errors: SF_EXIT_OUTPUT.
 */
gboolean sf_report_write_index(const char *out_root, const sf_report_row *rows, size_t n_rows,
                               GError **error);

G_END_DECLS
