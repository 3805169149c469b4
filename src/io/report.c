/*
 * report.html: what a run found, to be checked by looking (report.h).
 *
 * Everything comes from the manifest, read through sf_manifest, so the
 * report shows what the run recorded and nothing it did not. The page is
 * one file: CSS and a few lines of script inline, fragment thumbnails as
 * JPEG data URIs (192 px, 5 to 15 kB each), the overview and mask by
 * relative name from the slide's folder, where the run wrote them. A
 * Content-Security-Policy forbids every other load, so a report opened from
 * a shared drive never reaches the network.
 *
 * The overview is an SVG whose viewBox is the overview's pixel grid: the
 * regions, component boxes and rejected objects are drawn in the very
 * coordinates the manifest gives, whatever size the browser shows it at.
 */
#include <math.h>
#include <string.h>

#include "slidefrag/json.h"
#include "slidefrag/error.h"
#include "slidefrag/image_io.h"
#include "slidefrag/report.h"
#include "slidefrag/version.h"

/* Thumbnails are small JPEGs: quality 80 keeps tissue texture readable. */
#define THUMBNAIL_QUALITY 80

/* ---- HTML text ----------------------------------------------------------- */

static void text(GString *out, const char *s)
{
    g_autofree char *valid = g_utf8_make_valid(s ? s : "", -1);
    g_autofree char *escaped = g_markup_escape_text(valid, -1);
    g_string_append(out, escaped);
}

G_GNUC_PRINTF(2, 3) static void textf(GString *out, const char *format, ...)
{
    va_list args;
    va_start(args, format);
    g_autofree char *s = g_strdup_vprintf(format, args);
    va_end(args);
    text(out, s);
}

/* A relative path as an href: each character a URL must not hold bare
 * ('#', '?', '%', spaces) escaped, '/' kept. */
static void href(GString *out, const char *path)
{
    g_autofree char *escaped = g_uri_escape_string(path, "/", TRUE);
    text(out, escaped);
}

/* A file name the manifest gives, usable beside the page: relative, no
 * "..", no backslash. NULL otherwise. */
static const char *safe_relative(const char *name)
{
    if (!name || !*name || name[0] == '/' || strchr(name, '\\'))
        return NULL;
    g_auto(GStrv) parts = g_strsplit(name, "/", -1);
    for (char **p = parts; *p; p++)
        if (!**p || !strcmp(*p, "..") || !strcmp(*p, "."))
            return NULL;
    return name;
}

static void number(GString *out, double value, int decimals)
{
    char buf[G_ASCII_DTOSTR_BUF_SIZE];
    g_autofree char *format = g_strdup_printf("%%.%df", decimals);
    g_string_append(out, g_ascii_formatd(buf, sizeof buf, format, value));
}

/* "1 region", "3 regions". */
static void count(GString *out, size_t n, const char *one, const char *many)
{
    g_string_append_printf(out, "%zu %s", n, n == 1 ? one : many);
}

static const char *const style =
    ":root{--ink:#1d2125;--muted:#5c6670;--line:#d8dde2;--bg:#f6f7f9;--card:#fff;"
    "--region:#00d000;--component:#f2b600;--rejected:#e8008a;--warn:#a15c00;--bad:#b3261e}"
    "*{box-sizing:border-box}"
    "body{margin:0;font:15px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;color:var(--ink);"
    "background:var(--bg)}"
    "header,section,footer{max-width:1400px;margin:0 auto;padding:12px 24px}"
    "h1{font-size:24px;margin:8px 0 4px;word-break:break-all}h2{font-size:18px;margin:18px 0 8px}"
    "h3{font-size:15px;margin:14px 0 6px}a{color:#0b57d0}"
    "nav{font-size:14px}.muted,.path{color:var(--muted);font-size:13px}.path{word-break:break-all}"
    "dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:2px 14px;margin:8px 0}"
    "dl.facts dt{color:var(--muted)}dl.facts dd{margin:0;word-break:break-all}"
    ".warnings ul{margin:0;padding:0;list-style:none}"
    ".warnings li{background:#fff4e0;border-left:4px solid var(--warn);padding:6px 10px;"
    "margin:4px 0}"
    ".ok-note{color:var(--muted)}"
    ".toggles{display:flex;flex-wrap:wrap;gap:6px 18px;margin:6px 0 10px}"
    ".toggles label{cursor:pointer;user-select:none}"
    ".swatch{display:inline-block;width:12px;height:12px;border:2px solid;margin:0 4px -1px 2px}"
    "figure{margin:0}"
    /* A table, so that the caption wraps at the picture's width. */
    "figure.overview{background:var(--card);border:1px solid var(--line);padding:8px;"
    "display:table}"
    "figure.overview figcaption{display:table-caption;caption-side:bottom;padding:4px 8px;"
    "background:var(--card);border:1px solid var(--line);border-top:0}"
    "svg#overview{display:block}"
    "svg#overview rect{fill:none;vector-effect:non-scaling-stroke}"
    ".region rect{stroke:var(--region);stroke-width:3px}"
    ".region.hl rect{stroke-width:6px}"
    ".region text{fill:var(--region);stroke:#000;stroke-width:2px;paint-order:stroke;"
    "font-weight:700;vector-effect:non-scaling-stroke}"
    "rect.component{stroke:var(--component);stroke-width:1.5px}"
    "rect.rejected{stroke:var(--rejected);stroke-width:2px;stroke-dasharray:5 3}"
    ".cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(230px,1fr));gap:12px}"
    "figure.fragment{background:var(--card);border:1px solid var(--line);padding:8px}"
    "figure.fragment:hover{border-color:var(--region)}"
    "figure.fragment .thumb{display:flex;align-items:center;justify-content:center;"
    "height:200px;background:#eef0f2}"
    "figure.fragment img{max-width:100%;max-height:192px}"
    "figure.fragment figcaption{font-size:13px;margin-top:6px}"
    "figure.fragment .name{word-break:break-all;font-family:ui-monospace,monospace;font-size:12px}"
    "figure.fragment .missing{color:var(--bad)}"
    "table{border-collapse:collapse;background:var(--card);font-size:14px}"
    "th,td{border:1px solid var(--line);padding:4px 10px;text-align:left;vertical-align:top}"
    "th{background:#eef0f2;font-weight:600}td.num{text-align:right;font-variant-numeric:tabular-"
    "nums}"
    "td.error{color:var(--bad);max-width:40em;word-break:break-word}"
    ".badge{display:inline-block;padding:0 8px;border-radius:9px;font-size:13px;color:#fff}"
    ".badge.ok{background:#1e7d32}.badge.skipped{background:#5c6670}"
    ".badge.failed{background:var(--bad)}.badge.interrupted{background:var(--warn)}"
    ".filters{margin:8px 0}.filters label{margin-right:14px}"
    "footer{color:var(--muted);font-size:13px;padding-bottom:24px}";

static void page_start(GString *out, const char *title)
{
    g_string_append(out,
                    "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                    /* Nothing but this file, images beside it and its
                     * own data URIs: no network, whatever the page
                     * holds. */
                    "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src "
                    "'none'; img-src 'self' data:; style-src 'unsafe-inline'; script-src "
                    "'unsafe-inline'\">\n");
    g_string_append(out, "<meta name=\"generator\" content=\"slidefrag " SLIDEFRAG_VERSION "\">\n");
    g_string_append(out, "<title>");
    text(out, title);
    g_string_append_printf(out, "</title>\n<style>%s</style>\n</head>\n<body>\n", style);
}

static void page_end(GString *out, const char *script)
{
    g_string_append(out, "<footer>Written by slidefrag " SLIDEFRAG_VERSION
                         " from the manifests; every figure here is in them.</footer>\n");
    if (script)
        g_string_append_printf(out, "<script>\n%s</script>\n", script);
    g_string_append(out, "</body>\n</html>\n");
}

/* ---- The page of one slide ----------------------------------------------- */

static const char *const slide_script =
    "'use strict';\n"
    "document.querySelectorAll('input[data-layer]').forEach(function (box) {\n"
    "  var layer = document.getElementById('layer-' + box.dataset.layer);\n"
    "  function show() { layer.style.display = box.checked ? '' : 'none'; }\n"
    "  box.addEventListener('change', show);\n"
    "  show();\n"
    "});\n"
    "document.querySelectorAll('figure.fragment').forEach(function (card) {\n"
    "  var region = document.getElementById('region-' + card.dataset.region);\n"
    "  if (!region) return;\n"
    "  card.addEventListener('mouseenter', function () { region.classList.add('hl'); });\n"
    "  card.addEventListener('mouseleave', function () { region.classList.remove('hl'); });\n"
    "});\n";

static void rect(GString *out, const char *class_name, const sf_box *b)
{
    g_string_append_printf(out,
                           "<rect class=\"%s\" x=\"%" G_GINT64_FORMAT "\" y=\"%" G_GINT64_FORMAT
                           "\" width=\"%" G_GINT64_FORMAT "\" height=\"%" G_GINT64_FORMAT "\">",
                           class_name, b->x, b->y, b->w, b->h);
}

static void toggle(GString *out, const char *layer, const char *label, const char *colour, size_t n,
                   gboolean available, gboolean on)
{
    g_string_append_printf(out, "<label><input type=\"checkbox\" data-layer=\"%s\"%s%s>", layer,
                           on && available ? " checked" : "", available ? "" : " disabled");
    g_string_append_printf(out, "<span class=\"swatch\" style=\"border-color:%s\"></span>", colour);
    text(out, label);
    if (n != (size_t)-1)
        g_string_append_printf(out, " (%zu)", n);
    g_string_append(out, "</label>\n");
}

static void overview_figure(GString *out, const sf_manifest *m, const char *dir)
{
    const char *image = m->has_overview ? safe_relative(m->overview.file) : NULL;
    if (!image || m->overview.width <= 0 || m->overview.height <= 0) {
        g_string_append(out, "<p class=\"muted\">The manifest names no overview.</p>\n");
        return;
    }
    /* The run writes the mask beside the overview, always by this name. */
    g_autofree char *mask_path = g_build_filename(dir, "mask.png", NULL);
    const char *mask = g_file_test(mask_path, G_FILE_TEST_IS_REGULAR) ? "mask.png" : NULL;
    int w = m->overview.width, h = m->overview.height;
    g_string_append(out, "<div class=\"toggles\">\n");
    toggle(out, "regions", "Regions", "var(--region)", m->n_regions, TRUE, TRUE);
    toggle(out, "components", "Component boxes", "var(--component)", m->n_components,
           m->n_components > 0, FALSE);
    toggle(out, "rejected", "Rejected objects", "var(--rejected)", m->n_rejected, m->n_rejected > 0,
           TRUE);
    toggle(out, "mask", "Tissue mask", "#1a73ff", (size_t)-1, mask != NULL, FALSE);
    g_string_append(out, "</div>\n<figure class=\"overview\">\n");
    /* As large as the window allows, whole: its width bounded by the
     * page's, and by 85 % of the window's height at this aspect. */
    char ratio[G_ASCII_DTOSTR_BUF_SIZE];
    g_ascii_formatd(ratio, sizeof ratio, "%.5f", (double)w / h);
    g_string_append_printf(out,
                           "<svg id=\"overview\" xmlns=\"http://www.w3.org/2000/svg\" "
                           "viewBox=\"0 0 %d %d\" width=\"%d\" height=\"%d\" "
                           "style=\"aspect-ratio:%d/%d;height:auto;width:min(calc(100vw - 72px),"
                           "1350px,calc(85vh * %s))\" role=\"img\" "
                           "aria-label=\"Overview with the regions found\">\n",
                           w, h, w, h, w, h, ratio);
    /* The mask's white (tissue) becomes blue, its black transparent. */
    g_string_append(out, "<defs><filter id=\"tint\" color-interpolation-filters=\"sRGB\">"
                         "<feColorMatrix type=\"matrix\" values=\"0 0 0 0 0.1 0 0 0 0 0.45 0 0 0 "
                         "0 1 0.3333 0.3333 0.3333 0 0\"/></filter></defs>\n");
    g_string_append(out, "<image id=\"overview-image\" href=\"");
    href(out, image);
    g_string_append_printf(out, "\" x=\"0\" y=\"0\" width=\"%d\" height=\"%d\"/>\n", w, h);
    g_string_append(out, "<g id=\"layer-mask\" class=\"layer\">");
    if (mask) {
        g_string_append(out, "<image href=\"");
        href(out, mask);
        g_string_append_printf(out,
                               "\" x=\"0\" y=\"0\" width=\"%d\" height=\"%d\" "
                               "filter=\"url(#tint)\" opacity=\"0.55\"/>",
                               w, h);
    }
    g_string_append(out, "</g>\n<g id=\"layer-components\" class=\"layer\">\n");
    for (size_t i = 0; i < m->n_components; i++) {
        rect(out, "component", &m->components[i]);
        g_string_append(out, "</rect>\n");
    }
    g_string_append(out, "</g>\n<g id=\"layer-rejected\" class=\"layer\">\n");
    for (size_t i = 0; i < m->n_rejected; i++) {
        if (m->rejected[i].box.w <= 0)
            continue;
        rect(out, "rejected", &m->rejected[i].box);
        g_string_append(out, "<title>Rejected: ");
        text(out, m->rejected[i].reason);
        g_string_append(out, "</title></rect>\n");
    }
    g_string_append(out, "</g>\n<g id=\"layer-regions\" class=\"layer\">\n");
    /* Labels a fortieth of the overview's longer side: readable at any
     * display size, since they scale with it. */
    int font = MAX(8, MAX(w, h) / 40);
    for (size_t i = 0; i < m->n_regions; i++) {
        const sf_manifest_region *r = &m->regions[i];
        if (!r->has_overview)
            continue;
        g_string_append_printf(out, "<g class=\"region\" id=\"region-%d\" data-id=\"%d\">", r->id,
                               r->id);
        rect(out, "outline", &r->overview);
        g_string_append(out, "</rect>");
        g_string_append_printf(out,
                               "<text x=\"%" G_GINT64_FORMAT "\" y=\"%" G_GINT64_FORMAT
                               "\" font-size=\"%d\">%d</text><title>",
                               r->overview.x + font / 4, r->overview.y + font, font, r->id);
        textf(out, "Region %d: %s", r->id, r->fragment_name);
        g_string_append(out, "</title></g>\n");
    }
    g_string_append(out, "</g>\n</svg>\n<figcaption class=\"muted\">");
    g_string_append_printf(out, "Overview %d × %d px, each pixel ", w, h);
    number(out, (double)m->width / w, 2);
    g_string_append(out, " level-0 pixels wide. ");
    g_string_append(out, "Regions as the detector found them, before padding; hover over a "
                         "fragment below to find its region.</figcaption>\n</figure>\n");
}

/* A thumbnail of the fragment as an <img> with a data URI, or a note. */
static void thumbnail(GString *out, const char *dir, const sf_manifest_region *r)
{
    const char *file = safe_relative(r->fragment_file);
    g_autofree char *path = file ? g_build_filename(dir, file, NULL) : NULL;
    g_autoptr(GError) error = NULL;
    int w = 0, h = 0;
    g_autofree uint8_t *pixels =
        path ? sf_jpeg_load_thumbnail(path, SF_REPORT_THUMBNAIL_SIZE, &w, &h, &error) : NULL;
    size_t length = 0;
    g_autofree uint8_t *jpeg =
        pixels ? sf_jpeg_encode(pixels, w, h, 3, (size_t)w * 3, THUMBNAIL_QUALITY, &length, &error)
               : NULL;
    if (!jpeg) {
        g_string_append(out, "<span class=\"missing\">");
        text(out, error ? error->message : "the fragment's file name is not usable here");
        g_string_append(out, "</span>");
        return;
    }
    g_autofree char *base64 = g_base64_encode(jpeg, length);
    g_string_append(out, "<a href=\"");
    href(out, file);
    g_string_append_printf(out,
                           "\"><img src=\"data:image/jpeg;base64,%s\" width=\"%d\" "
                           "height=\"%d\" alt=\"",
                           base64, w, h);
    text(out, r->fragment_name);
    g_string_append(out, "\"></a>");
}

static void fragment_cards(GString *out, const sf_manifest *m, const char *dir)
{
    g_string_append(out, "<div class=\"cards\">\n");
    for (size_t i = 0; i < m->n_regions; i++) {
        const sf_manifest_region *r = &m->regions[i];
        g_string_append_printf(out,
                               "<figure class=\"fragment\" id=\"fragment-%d\" "
                               "data-region=\"%d\">\n<div class=\"thumb\">",
                               r->id, r->id);
        thumbnail(out, dir, r);
        g_string_append(out, "</div>\n<figcaption><div class=\"name\">");
        const char *file = safe_relative(r->fragment_file);
        if (file) {
            g_string_append(out, "<a href=\"");
            href(out, file);
            g_string_append(out, "\">");
        }
        text(out, r->fragment_name);
        g_string_append(out, file ? "</a></div>\n<div>" : "</div>\n<div>");
        textf(out, "Region %d · %d × %d px", r->id, r->fragment_width, r->fragment_height);
        g_string_append(out, "</div>\n<div>");
        /* µm per fragment pixel: the slide's, times level-0 pixels per
         * fragment pixel. */
        double downsample =
            r->fragment_downsample > 0 ? r->fragment_downsample : (double)r->w / r->fragment_width;
        if (m->mpp_x > 0 && downsample > 0) {
            number(out, m->mpp_x * downsample, 3);
            g_string_append(out, " µm/px");
        } else {
            g_string_append(out, "µm/px unknown");
        }
        g_string_append(out, " · tissue ");
        number(out, 100 * r->tissue_fraction, 0);
        g_string_append(out, " %</div>\n<div class=\"muted\">");
        textf(out,
              "level 0: x %" G_GINT64_FORMAT ", y %" G_GINT64_FORMAT ", %" G_GINT64_FORMAT
              " × %" G_GINT64_FORMAT,
              r->x, r->y, r->w, r->h);
        g_string_append(out, "</div></figcaption>\n</figure>\n");
    }
    g_string_append(out, "</div>\n");
}

/* A JSON value as the page shows it: strings as they are, numbers as
 * slidefrag writes them, anything else as compact JSON. */
static char *value_text(JsonNode *node)
{
    if (JSON_NODE_HOLDS_VALUE(node) && json_node_get_value_type(node) == G_TYPE_STRING)
        return g_strdup(json_node_get_string(node));
    if (JSON_NODE_HOLDS_VALUE(node) && json_node_get_value_type(node) == G_TYPE_DOUBLE) {
        char number[SF_NUMBER_TEXT_SIZE]; /* 1024, not JSON's 1024.0 */
        return g_strdup(sf_number_text(number, json_node_get_double(node)));
    }
    return sf_json_text(node, FALSE);
}

/* The members of a JSON object as table rows. */
static void member_rows(GString *out, JsonNode *object)
{
    if (!object || !JSON_NODE_HOLDS_OBJECT(object))
        return;
    JsonObject *o = json_node_get_object(object);
    g_autoptr(GList) names = json_object_get_members(o);
    for (GList *l = names; l; l = l->next) {
        g_autofree char *value = value_text(json_object_get_member(o, l->data));
        g_string_append(out, "<tr><th>");
        text(out, l->data);
        g_string_append(out, "</th><td>");
        text(out, value);
        g_string_append(out, "</td></tr>\n");
    }
}

static void decisions(GString *out, const sf_manifest *m)
{
    g_string_append(out, "<section id=\"decisions\">\n<h2>Detection</h2>\n"
                         "<table id=\"decision-table\" class=\"kv\">\n");
    if (m->threshold >= 0)
        g_string_append_printf(out, "<tr><th>threshold</th><td>%d</td></tr>\n", m->threshold);
    member_rows(out, m->detection);
    g_string_append_printf(out, "<tr><th>components</th><td>%zu</td></tr>\n", m->n_components);
    g_string_append_printf(out, "<tr><th>regions</th><td>%zu</td></tr>\n</table>\n", m->n_regions);
    g_string_append(out, "<h3>Rejected objects</h3>\n");
    if (m->n_rejected == 0) {
        g_string_append(out, "<p class=\"ok-note\">The manifest lists none.</p>\n");
    } else {
        g_string_append(out, "<table id=\"rejected-table\">\n<tr><th>#</th><th>Reason</th>"
                             "<th>Overview box</th></tr>\n");
        for (size_t i = 0; i < m->n_rejected; i++) {
            const sf_manifest_rejected *r = &m->rejected[i];
            g_string_append_printf(out, "<tr><td class=\"num\">%zu</td><td>", i);
            text(out, r->reason);
            g_string_append(out, "</td><td>");
            if (r->box.w > 0)
                textf(out,
                      "x %" G_GINT64_FORMAT ", y %" G_GINT64_FORMAT ", %" G_GINT64_FORMAT
                      " × %" G_GINT64_FORMAT,
                      r->box.x, r->box.y, r->box.w, r->box.h);
            g_string_append(out, "</td></tr>\n");
        }
        g_string_append(out, "</table>\n");
    }
    g_string_append(out, "</section>\n");
}

static void timings(GString *out, const sf_manifest *m)
{
    const sf_manifest_timings *t = &m->timings;
    const struct {
        const char *stage;
        double seconds;
    } stages[] = {{"open", t->open},   {"overview", t->overview},   {"detect", t->detect},
                  {"write", t->write}, {"fragments", t->fragments}, {"total", t->total}};
    g_string_append(out, "<section id=\"timings\">\n<h2>Timings</h2>\n");
    if (t->total <= 0) {
        g_string_append(out, "<p class=\"muted\">The manifest records none.</p>\n</section>\n");
        return;
    }
    g_string_append(out, "<table id=\"timing-table\">\n");
    for (size_t i = 0; i < G_N_ELEMENTS(stages); i++) {
        g_string_append_printf(out, "<tr><th>%s</th><td class=\"num\">", stages[i].stage);
        number(out, stages[i].seconds, 3);
        g_string_append(out, " s</td></tr>\n");
    }
    g_string_append(out, "</table>\n</section>\n");
}

char *sf_report_slide_html(const sf_manifest *m, const char *dir)
{
    GString *out = g_string_sized_new(16384);
    g_autofree char *title = g_strdup_printf("%s · slidefrag report", m->slide_name);
    page_start(out, title);

    g_string_append(out, "<header>\n<nav><a href=\"../report.html\">All slides</a></nav>\n<h1>");
    text(out, m->slide_name);
    g_string_append(out, "</h1>\n<dl class=\"facts\">\n<dt>Slide</dt><dd>");
    text(out, m->slide_path);
    g_string_append(out, "</dd>\n<dt>Format</dt><dd>");
    text(out, m->vendor ? m->vendor : "unknown");
    g_string_append(out, "</dd>\n<dt>Level 0</dt><dd>");
    textf(out, "%" G_GINT64_FORMAT " × %" G_GINT64_FORMAT " px", m->width, m->height);
    g_string_append(out, "</dd>\n<dt>Resolution</dt><dd>");
    if (m->mpp_x > 0) {
        number(out, m->mpp_x, 4);
        g_string_append(out, " µm/px");
    } else {
        g_string_append(out, "not recorded in the slide");
    }
    g_string_append(out, "</dd>\n<dt>Found</dt><dd id=\"found\">");
    count(out, m->n_regions, "region", "regions");
    g_string_append(out, ", ");
    count(out, m->n_regions, "fragment", "fragments");
    g_string_append(out, "</dd>\n</dl>\n</header>\n");

    g_string_append(out, "<section id=\"warnings\" class=\"warnings\">\n<h2>Warnings</h2>\n");
    if (!m->warnings || !m->warnings[0]) {
        g_string_append(out, "<p class=\"ok-note\">None.</p>\n");
    } else {
        g_string_append(out, "<ul>\n");
        for (char **w = m->warnings; *w; w++) {
            g_string_append(out, "<li>");
            text(out, *w);
            g_string_append(out, "</li>\n");
        }
        g_string_append(out, "</ul>\n");
    }
    g_string_append(out, "</section>\n<section id=\"overview-section\">\n<h2>Overview</h2>\n");
    overview_figure(out, m, dir);
    g_string_append(out, "</section>\n<section id=\"fragments\">\n<h2>Fragments</h2>\n");
    if (m->n_regions == 0)
        g_string_append(out,
                        "<p class=\"muted\">No region was found, so no fragment was cut.</p>\n");
    else
        fragment_cards(out, m, dir);
    g_string_append(out, "</section>\n");
    decisions(out, m);
    g_string_append(out, "<section id=\"parameters\">\n<h2>Parameters</h2>\n"
                         "<table id=\"parameter-table\" class=\"kv\">\n");
    member_rows(out, m->params);
    g_string_append(out, "</table>\n</section>\n");
    timings(out, m);
    page_end(out, slide_script);
    return g_string_free(out, FALSE);
}

gboolean sf_report_write_slide(const sf_manifest *manifest, const char *dir, GError **error)
{
    g_autofree char *html = sf_report_slide_html(manifest, dir);
    g_autofree char *path = g_build_filename(dir, "report.html", NULL);
    return sf_write_file_atomic(path, html, strlen(html), error);
}

/* ---- The index of a batch or run ----------------------------------------- */

static const char *const index_script =
    "'use strict';\n"
    "var boxes = document.querySelectorAll('input[data-status]');\n"
    "function filter() {\n"
    "  var shown = {};\n"
    "  boxes.forEach(function (b) { shown[b.dataset.status] = b.checked; });\n"
    "  document.querySelectorAll('#slides tbody tr').forEach(function (row) {\n"
    "    row.style.display = shown[row.dataset.status] ? '' : 'none';\n"
    "  });\n"
    "}\n"
    "boxes.forEach(function (b) { b.addEventListener('change', filter); });\n"
    "filter();\n";

static const char *const statuses[] = {"ok", "failed", "skipped", "interrupted"};

gboolean sf_report_write_index(const char *out_root, const sf_report_row *rows, size_t n_rows,
                               GError **error)
{
    size_t counts[G_N_ELEMENTS(statuses)] = {0};
    for (size_t i = 0; i < n_rows; i++)
        for (size_t s = 0; s < G_N_ELEMENTS(statuses); s++)
            counts[s] += rows[i].status && !strcmp(rows[i].status, statuses[s]);

    GString *out = g_string_sized_new(4096 + 512 * n_rows);
    page_start(out, "slidefrag report");
    g_string_append(out, "<header>\n<h1>");
    count(out, n_rows, "slide", "slides");
    g_string_append(out, "</h1>\n<p class=\"path\">");
    text(out, out_root);
    g_string_append(out, "</p>\n<div class=\"filters\">Show: ");
    for (size_t s = 0; s < G_N_ELEMENTS(statuses); s++)
        g_string_append_printf(out,
                               "<label><input type=\"checkbox\" data-status=\"%s\" checked> "
                               "<span class=\"badge %s\">%s</span> %zu</label>",
                               statuses[s], statuses[s], statuses[s], counts[s]);
    g_string_append(out, "</div>\n</header>\n<section>\n<table id=\"slides\">\n<thead><tr>"
                         "<th>Slide</th><th>Status</th><th>Regions</th><th>Warnings</th>"
                         "<th>Seconds</th><th>Error</th></tr></thead>\n<tbody>\n");
    for (size_t i = 0; i < n_rows; i++) {
        const sf_report_row *row = &rows[i];
        const char *status = row->status ? row->status : "failed";
        g_autoptr(sf_manifest) manifest = NULL;
        g_autofree char *folder_name = NULL;
        gboolean page = FALSE;
        if (row->folder && (!strcmp(status, "ok") || !strcmp(status, "skipped"))) {
            g_autofree char *manifest_path = g_build_filename(row->folder, "manifest.json", NULL);
            manifest = sf_manifest_load(manifest_path, NULL);
            g_autofree char *page_path = g_build_filename(row->folder, "report.html", NULL);
            page = g_file_test(page_path, G_FILE_TEST_IS_REGULAR);
            /* A folder an older slidefrag finished has no page yet. */
            if (manifest && !page)
                page = sf_report_write_slide(manifest, row->folder, NULL);
            folder_name = g_path_get_basename(row->folder);
        }
        g_autofree char *name = g_path_get_basename(row->path);
        g_string_append_printf(out, "<tr data-status=\"%s\"><td>", status);
        if (page) {
            g_autofree char *link = g_build_filename(folder_name, "report.html", NULL);
            g_string_append(out, "<a href=\"");
            href(out, link);
            g_string_append(out, "\">");
            text(out, name);
            g_string_append(out, "</a>");
        } else {
            text(out, name);
        }
        g_string_append(out, "<div class=\"path\">");
        text(out, row->path);
        g_string_append(out, "</div></td><td><span class=\"badge ");
        text(out, status);
        g_string_append(out, "\">");
        text(out, status);
        g_string_append(out, "</span></td><td class=\"num\">");
        if (manifest)
            g_string_append_printf(out, "%zu", manifest->n_regions);
        g_string_append(out, "</td><td class=\"num\"");
        guint n_warnings = manifest && manifest->warnings ? g_strv_length(manifest->warnings) : 0;
        if (n_warnings) {
            g_autofree char *all = g_strjoinv("\n", manifest->warnings);
            g_string_append(out, " title=\"");
            text(out, all);
            g_string_append(out, "\"");
        }
        g_string_append(out, ">");
        if (manifest)
            g_string_append_printf(out, "%u", n_warnings);
        g_string_append(out, "</td><td class=\"num\">");
        if (row->seconds >= 0)
            number(out, row->seconds, 2);
        g_string_append(out, "</td><td class=\"error\">");
        text(out, row->error);
        g_string_append(out, "</td></tr>\n");
    }
    g_string_append(out, "</tbody>\n</table>\n</section>\n");
    page_end(out, index_script);

    g_autofree char *html = g_string_free(out, FALSE);
    g_autofree char *path = g_build_filename(out_root, "report.html", NULL);
    return sf_write_file_atomic(path, html, strlen(html), error);
}
