/* slidefrag: whole-slide images to annotation-ready fragments. */
#include <glib.h>
#include <locale.h>
#include <stdio.h>
#include <string.h>

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
    {"eval", sf_cmd_eval, "score detected boxes against ground truth"},
    {"tune", sf_cmd_tune, "search detection parameters that best match ground truth"},
};

static void usage(FILE *to)
{
    fprintf(to, "Usage: slidefrag COMMAND [OPTION...]\n\n"
                "Turns whole-slide images into annotation-ready fragments.\n\nCommands:\n");
    for (size_t i = 0; i < G_N_ELEMENTS(commands); i++)
        fprintf(to, "  %-8s %s\n", commands[i].name, commands[i].summary);
    fprintf(to, "\n'slidefrag COMMAND --help' lists a command's options.\n"
                "  --version  print the version\n");
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
