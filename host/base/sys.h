/* sys.h: facts about the machine sonde runs on, and its clock. Nothing
 * here touches a target: every layer may use it. */
#ifndef SONDE_BASE_SYS_H
#define SONDE_BASE_SYS_H

#include <stddef.h>
#include <time.h>

/* Milliseconds from a to b (CLOCK_MONOTONIC readings). */
double sys_ms_between(const struct timespec *a, const struct timespec *b);
/* Milliseconds from a to now. */
double sys_ms_since(const struct timespec *a);
/* This kernel's release (uname -r), "unknown" when uname fails. */
void sys_kernel_release(char *out, size_t n);

#endif
