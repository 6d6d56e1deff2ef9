/* cli_common.c: what the commands share: the process operand, the output
 * file, the error message and its exit status. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "base/error.h"
#include "cli/cli.h"

int cli_parse_pid(const char *s, pid_t *out) {
  char *end;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (errno || end == s || *end || v <= 0 || v > 4194304)
    return se_set(SE_USAGE, "'%s' is not a process id (a positive number, see `pgrep -a NAME`)", s);
  *out = (pid_t)v;
  return 0;
}

int cli_fail(int rc) {
  fprintf(stderr, "sonde: %s\n", se_msg());
  return se_exit_status(rc);
}

double cli_peak_rss_mb(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return (double)ru.ru_maxrss / 1024.0;
}

int cli_pid_operand(const char *cmd, const char *pidarg, int argc, char **argv, pid_t *out) {
  if (!pidarg && optind < argc) pidarg = argv[optind++];
  if (!pidarg || optind < argc) {
    fprintf(stderr, "sonde %s: %s; see 'sonde %s --help'\n", cmd,
            pidarg ? "too many arguments" : "which process? give -p PID", cmd);
    return se_exit_status(SE_USAGE);
  }
  int rc = cli_parse_pid(pidarg, out);
  return rc ? cli_fail(rc) : 0;
}

int cli_output_open(const char *path, cli_output *out) {
  memset(out, 0, sizeof *out);
  out->file.fd = -1;
  out->f = stdout;
  if (!path) return 0;
  int e = sonde_outfile_open(&out->file, path);
  if (!e && !(out->f = sonde_outfile_stream(&out->file))) {
    e = errno;
    sonde_outfile_abort(&out->file);
  }
  return e ? se_set(SE_IO, "cannot write %s: %s", path, strerror(e)) : 0;
}

int cli_output_close(cli_output *o, const char *path, int rc) {
  if (o->f == stdout) return rc;
  if (rc) {
    sonde_outfile_abort(&o->file); /* the old file stays as it was */
    return rc;
  }
  int e = sonde_outfile_commit(&o->file);
  return e ? se_set(SE_IO, "cannot write %s: %s (it was left as it was)", path, strerror(e)) : 0;
}
