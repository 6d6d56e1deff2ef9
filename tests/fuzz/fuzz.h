/* fuzz.h: what the libFuzzer harnesses share: the input as a file, for the
 * parsers that take a path, and a failed property as a crash.
 *
 * The file is one memfd per process, rewritten for each input and named
 * /proc/self/fd/N: nothing is written to disk, and every run sees the same
 * path, so messages (and what a harness does with them) do not vary. */
#ifndef SONDE_FUZZ_H
#define SONDE_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* A property the code under test documents did not hold: libFuzzer keeps the
 * input (crash-*) and prints this line above the stack. */
#define FZ_CHECK(cond, ...)                                    \
  do {                                                         \
    if (!(cond)) {                                             \
      fprintf(stderr, "fuzz: property failed: " __VA_ARGS__); \
      fputc('\n', stderr);                                     \
      abort();                                                 \
    }                                                          \
  } while (0)

/* The path of a file holding exactly data[0, size). */
static inline const char *fz_file(const uint8_t *data, size_t size) {
  static int fd = -1;
  static char path[64];
  if (fd < 0) {
    fd = memfd_create("sonde-fuzz", MFD_CLOEXEC);
    if (fd < 0) {
      perror("fuzz: memfd_create");
      abort();
    }
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
  }
  if (ftruncate(fd, 0) != 0) abort();
  for (size_t done = 0; done < size;) {
    ssize_t n = pwrite(fd, data + done, size - done, (off_t)done);
    if (n <= 0) abort();
    done += (size_t)n;
  }
  return path;
}

/* Reads every byte of a string the code under test returned, so that
 * AddressSanitizer sees a string that runs past its buffer. */
static inline size_t fz_touch(const char *s) {
  size_t n = 0;
  if (s)
    while (s[n]) n++;
  return n;
}

/* Reads the first and the last of n bytes the code under test handed out. */
static inline void fz_touch_bytes(const uint8_t *b, size_t n) {
  if (!b || !n) return;
  volatile uint8_t sink = b[0];
  sink = b[n - 1];
  (void)sink;
}

#endif
