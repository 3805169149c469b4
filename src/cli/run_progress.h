/* `slidefrag run`'s progress on a terminal: one line, redrawn. */
#pragma once

#include "slidefrag/run.h"

typedef struct sf_run_display sf_run_display;

/* A display on stderr when it is a terminal (not TERM=dumb), else NULL:
 * logs and pipes get no progress. */
sf_run_display *sf_run_display_new(void);
/* Names the slide the next run is for: "[2/5] name" when n_slides > 1. */
void sf_run_display_slide(sf_run_display *display, const char *slide, int index, int n_slides);
/* An sf_run_progress_fn; user_data is the display (NULL draws nothing). */
void sf_run_display_update(const sf_run_progress *progress, void *user_data);
/* Clears the line, before anything else is printed. */
void sf_run_display_clear(sf_run_display *display);
void sf_run_display_free(sf_run_display *display);
