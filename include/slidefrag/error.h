/* slidefrag errors: one GError domain whose codes are also the exit codes. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define SF_ERROR (sf_error_quark())
GQuark sf_error_quark(void);

/* Documented in README.md; keep the numbers stable, scripts depend on them. */
typedef enum {
    SF_EXIT_OK = 0,
    SF_EXIT_FAILURE = 1,     /* internal error, out of memory */
    SF_EXIT_USAGE = 2,       /* bad command line or option value */
    SF_EXIT_MISSING = 3,     /* an input file does not exist or cannot be read */
    SF_EXIT_SLIDE_OPEN = 4,  /* not a slide OpenSlide can open */
    SF_EXIT_SLIDE_READ = 5,  /* the slide opened but its pixels cannot be read */
    SF_EXIT_OUTPUT = 6,      /* an output cannot be written */
    SF_EXIT_SOME_FAILED = 7, /* several inputs: at least one failed, others done */
    SF_EXIT_BAD_INPUT = 8,   /* malformed annotation, manifest or truth file */
} sf_exit_status;

/* The exit status an error stands for: its code in SF_ERROR, else
 * SF_EXIT_FAILURE (an error from a library that escaped a wrapper). */
int sf_exit_code(const GError *error);

/* Characters of a message that shows input text, at the most. */
#define SF_MESSAGE_MAX_CHARS 500

/*
 * A message made safe to print when it holds text from an input file (a
 * label, an image name, a zip member, a field's value): one line, shown
 * as it is, never obeyed by the terminal. Control characters, ANSI
 * escapes, bidirectional overrides and bytes that are not UTF-8 become
 * escapes (\n, \x1b, \u202e, \xff), a backslash \\, and beyond
 * SF_MESSAGE_MAX_CHARS the middle is cut (" ... "), so a 200 MB label is
 * a 500-character line. g_free the result.
 */
char *sf_message_safe(const char *text);

G_END_DECLS
