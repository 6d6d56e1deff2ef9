/* sys.c: the clock and the kernel's release (sys.h). */
#include "base/sys.h"

#include <stdio.h>
#include <sys/utsname.h>

double sys_ms_between(const struct timespec *a, const struct timespec *b) {
  return (double)(b->tv_sec - a->tv_sec) * 1e3 + (double)(b->tv_nsec - a->tv_nsec) / 1e6;
}

double sys_ms_since(const struct timespec *a) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return sys_ms_between(a, &now);
}

void sys_kernel_release(char *out, size_t n) {
  struct utsname u;
  if (n == 0) return;
  if (uname(&u) == 0) snprintf(out, n, "%s", u.release);
  else snprintf(out, n, "unknown");
}
