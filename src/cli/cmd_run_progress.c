/*
 * `slidefrag run`'s progress: the stage, and while fragments are cut how
 * many are done and how much of their pixels, on one line of stderr that is
 * redrawn, so a run of many minutes on a large slide is not silent. Only on
 * a terminal: a log or a pipe gets nothing.
 */
#include "cli/run_progress.h"

#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

/* Redrawing more often than this only costs time; a stage change or a
 * finished fragment is drawn at once all the same. */
#define REDRAW_INTERVAL_US 100000

struct sf_run_display {
    char *slide;
    gint64 last_draw;
    sf_run_stage last_stage;
    int last_fragments;
    gboolean shown;
};

sf_run_display *sf_run_display_new(void)
{
    const char *term = g_getenv("TERM");
    if (!isatty(STDERR_FILENO) || (term && !strcmp(term, "dumb")))
        return NULL;
    return g_new0(sf_run_display, 1);
}

void sf_run_display_slide(sf_run_display *display, const char *slide, int index, int n_slides)
{
    if (!display)
        return;
    g_autofree char *base = g_path_get_basename(slide);
    g_autofree char *name = g_utf8_make_valid(base, -1);
    g_free(display->slide);
    display->slide = n_slides > 1 ? g_strdup_printf("[%d/%d] %s", index, n_slides, name)
                                  : g_steal_pointer(&name);
    display->last_draw = 0;
    display->last_fragments = -1;
}

/* The terminal's width; 80 when it does not say. */
static int columns(void)
{
    struct winsize size;
    if (ioctl(STDERR_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_col > 0)
        return size.ws_col;
    return 80;
}

void sf_run_display_update(const sf_run_progress *progress, void *user_data)
{
    sf_run_display *display = user_data;
    if (!display)
        return;
    gint64 now = g_get_monotonic_time();
    gboolean news = progress->stage != display->last_stage ||
                    progress->fragments_done != display->last_fragments || !display->shown;
    if (!news && now - display->last_draw < REDRAW_INTERVAL_US)
        return;
    display->last_draw = now;
    display->last_stage = progress->stage;
    display->last_fragments = progress->fragments_done;

    GString *line = g_string_new(NULL);
    g_string_append_printf(line, "%s: %s", display->slide ? display->slide : "slidefrag run",
                           sf_run_stage_text(progress->stage));
    if (progress->stage == SF_RUN_CUTTING_FRAGMENTS && progress->n_fragments > 0)
        g_string_append_printf(
            line, " %d/%d, %d %%", progress->fragments_done, progress->n_fragments,
            (int)(progress->n_rows > 0 ? progress->rows_done * 100 / progress->n_rows : 0));
    /* A line longer than the terminal wraps and \r no longer reaches its
     * start: cut it to the width, in characters. */
    glong max = columns() - 1;
    if (g_utf8_strlen(line->str, -1) > max)
        g_string_truncate(line, g_utf8_offset_to_pointer(line->str, max) - line->str);
    fprintf(stderr, "\r\033[K%s", line->str);
    fflush(stderr);
    g_string_free(line, TRUE);
    display->shown = TRUE;
}

void sf_run_display_clear(sf_run_display *display)
{
    if (!display || !display->shown)
        return;
    fputs("\r\033[K", stderr);
    fflush(stderr);
    display->shown = FALSE;
}

void sf_run_display_free(sf_run_display *display)
{
    if (!display)
        return;
    sf_run_display_clear(display);
    g_free(display->slide);
    g_free(display);
}
