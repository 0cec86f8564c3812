/*
 * cli.h - what the subcommands share: the command table's signature, messages, number parsing.
 *
 * Messages follow the house style: "joulebench: error: <what failed>: <why> (<fix>)" on stderr,
 * data on stdout.  Exit codes: 0 success, 1 failure, 2 usage.  Only the tool prints; the library
 * returns codes and messages.
 */
#ifndef JB_SRC_CLI_CLI_H
#define JB_SRC_CLI_CLI_H

#include <stdarg.h>
#include <stddef.h>

#define JB_EXIT_OK 0
#define JB_EXIT_FAIL 1
#define JB_EXIT_USAGE 2

/* Each subcommand: cmd_<name>.c defines int cmd_<name>(int argc, char **argv), argv[0] being the
 * subcommand's name.  Returns the process exit status. */
int cmd_devices(int argc, char **argv);
int cmd_sample(int argc, char **argv);
int cmd_stat(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_index(int argc, char **argv);
int cmd_data(int argc, char **argv);
int cmd_import(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_slurm(int argc, char **argv);

/* Prints "joulebench: error: ..." to stderr; returns JB_EXIT_FAIL. */
int cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints "joulebench: warning: ..." to stderr. */
void cli_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints "joulebench: note: ..." to stderr. */
void cli_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints "joulebench <cmd>: <message>" and the usage line to stderr; returns JB_EXIT_USAGE. */
int cli_usage_error(const char *usage, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Strict number parsing: whole string, range-checked.  Return 0 or -1. */
int cli_parse_long(const char *s, long min, long max, long *out);
int cli_parse_double(const char *s, double min, double max, double *out);

#endif
