/* The slidefrag subcommands; each returns a process exit code (sf_exit_code). */
#pragma once

int sf_cmd_info(int argc, char **argv);
int sf_cmd_run(int argc, char **argv);
