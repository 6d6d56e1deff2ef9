/* main.c: sonde's entry point: command dispatch and --help.
 *
 * What each signal does to sonde, and so to its target, is decided in one
 * place, signals.c: sig_setup first, sig_finish on the way out. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/error.h"
#include "cli/cli.h"
#include "session/signals.h"

static void usage(FILE *f) {
  fputs("sonde: look inside running Go programs (Linux x86-64, Go 1.19 and 1.21-1.27)\n"
        "\n"
        "Usage: sonde COMMAND [OPTIONS]\n"
        "\n"
        "Commands:\n"
        "  goroutines   every goroutine and its stack, in Go's own traceback format\n"
        "  heap         the Go heap by size class: spans, objects and bytes in use\n"
        "  info         Go version and build information of a process or a binary\n"
        "  layout       the runtime struct fields sonde reads, as a binary has them\n"
        "  attach       stay attached with breakpoints on Go functions; report each hit\n"
        "  plugins      the plugins in the index, and whether each would load\n"
        "  index        check a plugin index, or write built plugins into it\n"
        "  config       the configuration in use (sonde.ini) and where each value comes from\n"
        "  PLUGIN       a plugin's commands: sonde PLUGIN --help\n"
        "  help [CMD]   this text, or a command's help\n"
        "\n"
        "Options:\n"
        "  -h, --help     show help\n"
        "  -V, --version  show sonde's version\n"
        "\n"
        "Run 'sonde COMMAND --help' for a command's options.\n"
        "\n"
        "Exit codes:\n",
        f);
  for (int c = 0; c > -(int)SE_COUNT_; c--) fprintf(f, "  %2d  %s\n", se_exit_status(c), se_desc(c));
  fprintf(f, "  %2d  a check found what it looks for (goroutine-graph leaks)\n", SE_EXIT_FOUND);
  fprintf(f, "  %2d  the output was closed (| head): sonde stopped, the target let go\n", SE_EXIT_CLOSED);
  fputs("  128+N  sonde was ended by signal N (after letting the target run again; SIGINT ends a\n"
        "         session with 0)\n", f);
}

static int run(int argc, char **argv);

int main(int argc, char **argv) {
  sig_setup();
  return sig_finish(run(argc, argv));
}

static int run(int argc, char **argv) {
  if (argc < 2) {
    usage(stderr);
    return se_exit_status(SE_USAGE);
  }
  const char *cmd = argv[1];
  if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help")) {
    usage(stdout);
    return 0;
  }
  if (!strcmp(cmd, "help")) {
    if (argc < 3) {
      usage(stdout);
      return 0;
    }
    char *help_argv[] = {argv[2], "--help", NULL};
    if (!strcmp(argv[2], "goroutines")) return cmd_goroutines(2, help_argv);
    if (!strcmp(argv[2], "info")) return cmd_info(2, help_argv);
    if (!strcmp(argv[2], "heap")) return cmd_heap(2, help_argv);
    if (!strcmp(argv[2], "layout")) return cmd_layout(2, help_argv);
    if (!strcmp(argv[2], "attach")) return cmd_attach(2, help_argv);
    if (!strcmp(argv[2], "exec")) return cmd_exec(2, help_argv);
    if (!strcmp(argv[2], "plugins")) return cmd_plugins(2, help_argv);
    if (!strcmp(argv[2], "index")) return cmd_index(2, help_argv);
    if (!strcmp(argv[2], "config")) return cmd_config(2, help_argv);
    bool found;
    return cmd_plugin(2, help_argv, &found);
  }
  if (!strcmp(cmd, "-V") || !strcmp(cmd, "--version")) {
    printf("sonde %s\n", SONDE_VERSION);
    return 0;
  }
  if (!strcmp(cmd, "goroutines") || !strcmp(cmd, "gr")) return cmd_goroutines(argc - 1, argv + 1);
  if (!strcmp(cmd, "info")) return cmd_info(argc - 1, argv + 1);
  if (!strcmp(cmd, "heap")) return cmd_heap(argc - 1, argv + 1);
  if (!strcmp(cmd, "layout")) return cmd_layout(argc - 1, argv + 1);
  if (!strcmp(cmd, "attach")) return cmd_attach(argc - 1, argv + 1);
  if (!strcmp(cmd, "exec")) return cmd_exec(argc - 1, argv + 1);
  if (!strcmp(cmd, "plugins")) return cmd_plugins(argc - 1, argv + 1);
  if (!strcmp(cmd, "index")) return cmd_index(argc - 1, argv + 1);
  if (!strcmp(cmd, "config")) return cmd_config(argc - 1, argv + 1);
  bool found; /* a plugin's name, or an unknown command */
  return cmd_plugin(argc - 1, argv + 1, &found);
}
