/* floor.c: the least a breakpoint hit can cost on this machine, with any
 * ptrace debugger. A child executes int3 in a loop; the parent does only
 * what every hit needs: waitpid for the stop, PTRACE_CONT. Two context
 * switches and a signal-delivery stop per round trip, nothing else.
 *
 *   floor [ROUNDS]   prints "floor_us=X" (microseconds per round trip) */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
  long rounds = argc > 1 ? atol(argv[1]) : 200000;
  if (rounds <= 0) rounds = 200000;
  pid_t c = fork();
  if (c < 0) return perror("fork"), 1;
  if (c == 0) {
    raise(SIGSTOP);
    for (;;) __asm__ volatile("int3");
  }
  int st;
  if (waitpid(c, &st, WUNTRACED) != c || ptrace(PTRACE_SEIZE, c, 0, 0) != 0) return perror("seize"), kill(c, SIGKILL), 1;
  kill(c, SIGCONT);
  waitpid(c, &st, __WALL); /* the SIGCONT's stop */
  ptrace(PTRACE_CONT, c, 0, 0);
  struct timespec a, b;
  clock_gettime(CLOCK_MONOTONIC, &a);
  for (long i = 0; i < rounds; i++) {
    if (waitpid(c, &st, __WALL) != c || !WIFSTOPPED(st)) return fprintf(stderr, "floor: the child went away\n"), 1;
    ptrace(PTRACE_CONT, c, 0, 0);
  }
  clock_gettime(CLOCK_MONOTONIC, &b);
  kill(c, SIGKILL);
  waitpid(c, &st, 0);
  printf("floor_us=%.2f\n", ((double)(b.tv_sec - a.tv_sec) * 1e9 + (double)(b.tv_nsec - a.tv_nsec)) / 1e3 / (double)rounds);
  return 0;
}
