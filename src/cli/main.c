/* slidefrag: whole-slide images to annotation-ready fragments. */
#define _DEFAULT_SOURCE /* sigaltstack */

#include <glib.h>
#include <locale.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "cli/commands.h"
#include "slidefrag/error.h"
#include "slidefrag/version.h"

typedef struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} command;

static const command commands[] = {
    {"info", sf_cmd_info, "describe a slide: vendor, levels, resolution"},
    {"run", sf_cmd_run, "find tissue and cut fragments with a manifest"},
    {"batch", sf_cmd_batch, "run many slides in parallel, resumable, with a summary"},
    {"map", sf_cmd_map, "place Makesense.AI annotations back on their slides"},
    {"pre-annotate", sf_cmd_preannotate, "put existing slide annotations on fragments to import"},
    {"eval", sf_cmd_eval, "score detected boxes against ground truth"},
    {"tune", sf_cmd_tune, "search detection parameters that best match ground truth"},
};

static void usage(FILE *to)
{
    fprintf(to, "Usage: slidefrag COMMAND [OPTION...]\n\n"
                "Turns whole-slide images into annotation-ready fragments.\n\nCommands:\n");
    for (size_t i = 0; i < G_N_ELEMENTS(commands); i++)
        fprintf(to, "  %-12s %s\n", commands[i].name, commands[i].summary);
    fprintf(to, "\n'slidefrag COMMAND --help' lists a command's options.\n"
                "  --version  print the version\n");
}

/* ---- Out of memory: exit 1 and one line, never a signal ---------------- */

static void write_text(const char *text)
{
    if (text && write(STDERR_FILENO, text, strlen(text)) < 0)
        return;
}

static void write_failure(const char *cause)
{
    write_text(g_get_prgname() ? g_get_prgname() : "slidefrag");
    write_text(": ");
    write_text(cause);
    write_text("\n");
}

/*
 * GLib reports a refused allocation through g_error, which aborts. This
 * handler needs no memory: fixed text and the program name GLib already
 * holds, through write(2).
 */
static void on_fatal(const gchar *domain, GLogLevelFlags level, const gchar *message, gpointer data)
{
    (void)domain;
    (void)level;
    (void)data;
    write_failure(message && strstr(message, "allocate") ? "out of memory"
                  : message                              ? message
                                                         : "fatal error");
    _exit(SF_EXIT_FAILURE);
}

static void on_nothing(const gchar *domain, GLogLevelFlags level, const gchar *message,
                       gpointer data)
{
    (void)domain;
    (void)level;
    (void)message;
    (void)data;
}

#if !defined(__SANITIZE_ADDRESS__)
/* Where the main thread's stack may grow: [stack_floor, stack_top). */
static uintptr_t stack_top, stack_floor;
static char signal_stack[64 * 1024];

/*
 * When even a 60-byte allocation fails, GLib 2.74's g_error formats its
 * message with another allocation, fails again and recurses (g_logv masks
 * out its own recursion flag before testing it) until the stack runs out:
 * a 2.6 MB zip ended in SIGSEGV that way. A stack that cannot grow for
 * lack of address space ends the same way. Both fault just below the
 * stack, where nothing else is ever mapped; this handler, on a stack of
 * its own, reports those as what they are and leaves. Any other fault is
 * a bug: the default action runs, as before.
 */
static void on_segv(int signal_number, siginfo_t *info, void *context)
{
    (void)context;
    uintptr_t at = (uintptr_t)info->si_addr;
    if (at >= stack_floor && at < stack_top) {
        write_failure("out of memory (no room left for the stack)");
        _exit(SF_EXIT_FAILURE);
    }
    signal(signal_number, SIG_DFL);
    raise(signal_number);
}

static void watch_stack(void)
{
    struct rlimit limit;
    uintptr_t room = (uintptr_t)8 << 20;
    if (getrlimit(RLIMIT_STACK, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY)
        room = (uintptr_t)limit.rlim_cur;
    char here;
    stack_top = (uintptr_t)&here;
    stack_floor = stack_top > room + 65536 ? stack_top - room - 65536 : 0;
    stack_t alternate = {.ss_sp = signal_stack, .ss_size = sizeof signal_stack};
    struct sigaction action = {.sa_sigaction = on_segv, .sa_flags = SA_SIGINFO | SA_ONSTACK};
    sigemptyset(&action.sa_mask);
    if (sigaltstack(&alternate, NULL) == 0)
        sigaction(SIGSEGV, &action, NULL);
}
#else
/* ASan reports faults itself. */
static void watch_stack(void)
{
}
#endif

/*
 * Touches the stack the command may need, once, at the start: under an
 * address-space limit a heap that fills the space then meets a refused
 * allocation, which reports, rather than a stack that cannot grow.
 * slidefrag's deepest call chains use well under 100 kB.
 */
static void reserve_stack(void)
{
    volatile char pages[256 * 1024];
    for (size_t i = 0; i < sizeof pages; i += 4096)
        pages[i] = 0;
}

static void guard_out_of_memory(void)
{
    reserve_stack();
    /* GLib 2.74's slice allocator aborts by itself when memory runs out;
     * with always-malloc its allocations go through g_malloc and on_fatal,
     * as they do by default since GLib 2.76. Set before GLib allocates. */
    g_setenv("G_SLICE", "always-malloc", TRUE);
    g_log_set_handler("GLib", G_LOG_LEVEL_ERROR | G_LOG_FLAG_FATAL | G_LOG_FLAG_RECURSION, on_fatal,
                      NULL);
    /* g_log allocates its recursion counter on first use, and aborts when
     * it cannot: the first use is here, not at the first failure. */
    g_log_set_handler("slidefrag", G_LOG_LEVEL_DEBUG, on_nothing, NULL);
    g_log("slidefrag", G_LOG_LEVEL_DEBUG, "ready");
    watch_stack();
}

/* Runs command `name` with its own argv (argv[0] is the command). */
static int run_command(const char *name, int argc, char **argv)
{
    for (size_t i = 0; i < G_N_ELEMENTS(commands); i++)
        if (!strcmp(name, commands[i].name)) {
            /* GOption's "Usage:" line names the program: the whole command,
             * not just "run". */
            g_autofree char *prgname = g_strconcat("slidefrag ", commands[i].name, NULL);
            g_set_prgname(prgname);
            return commands[i].run(argc, argv);
        }
    fprintf(stderr, "slidefrag: unknown command '%s'\n", name);
    usage(stderr);
    return SF_EXIT_USAGE;
}

int main(int argc, char **argv)
{
    guard_out_of_memory();
    setlocale(LC_ALL, "");
    /* Numbers in files we write and read must not follow the user's locale. */
    setlocale(LC_NUMERIC, "C");
    if (argc < 2) {
        usage(stderr);
        return SF_EXIT_USAGE;
    }
    /* "slidefrag help run" is "slidefrag run --help". */
    if (!strcmp(argv[1], "help") && argc == 3) {
        char help_option[] = "--help";
        char *help_argv[] = {argv[2], help_option, NULL};
        return run_command(argv[2], 2, help_argv);
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return SF_EXIT_OK;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("slidefrag %s\n", SLIDEFRAG_VERSION);
        return SF_EXIT_OK;
    }
    /* Not listed: the child process of batch. */
    if (!strcmp(argv[1], "_run-one"))
        return sf_cmd_run_one(argc - 1, argv + 1);
    return run_command(argv[1], argc - 1, argv + 1);
}
