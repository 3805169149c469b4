/* The slidefrag subcommands; each returns a process exit code (sf_exit_status). */
#pragma once

int sf_cmd_info(int argc, char **argv);
int sf_cmd_run(int argc, char **argv);
int sf_cmd_batch(int argc, char **argv);
/* Hidden: batch's child process for one slide (cmd_run_one.c). */
int sf_cmd_run_one(int argc, char **argv);
int sf_cmd_map(int argc, char **argv);
int sf_cmd_preannotate(int argc, char **argv);
int sf_cmd_eval(int argc, char **argv);
int sf_cmd_tune(int argc, char **argv);
