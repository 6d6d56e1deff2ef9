/* cmd_heap.c: sonde heap -p PID: the Go heap by size class.
 *
 * The first view of the heap model (goruntime/heap.c): spans in use, object
 * slots and allocated objects per size class, read while the process is
 * stopped, printed after it runs again. Counts are exact for spans swept
 * since the last GC; the output says how many are not. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/error.h"
#include "cli/cli.h"
#include "goruntime/heap.h"

static void help(FILE *f) {
  fputs("Usage: sonde heap -p PID [--json] [-o FILE]\n"
        "\n"
        "The Go heap of a running process, by size class: spans in use, object\n"
        "slots, allocated objects and their bytes, from the runtime's own span\n"
        "table (runtime.mheap_). The process is stopped only while the spans are\n"
        "read. Class 0 holds the large objects (over 32 KiB), one per span.\n"
        "\n"
        "Counts are exact for spans swept since the last GC. A span the runtime\n"
        "has not swept yet still counts objects that GC found unreachable; the\n"
        "output says how many spans are in that state.\n"
        "\n"
        "  -p, --pid PID   the process\n"
        "      --json      JSON instead of a table\n"
        "  -o, --output F  write to F instead of standard output\n"
        "      --stats     print timings to stderr: how long the target was stopped, RSS, ...\n"
        "\n"
        "Exit codes: 0 ok, 2 usage, 3 no such process, 4 permission denied, 5 not a Go\n"
        "program or a binary whose heap sonde cannot read, 7 exited while reading;\n"
        "see 'sonde --help'.\n",
        f);
}

typedef struct {
  uint64_t spans, slots, objects, bytes, span_bytes;
} totals;

static int read_heap(cli_target *t, tgt_session *sess, void *payload) {
  (void)sess;
  return gr_heap_take(&t->prog, payload);
}

static void add(totals *t, const gr_span *s) {
  t->spans++;
  t->slots += s->nelems;
  t->objects += s->nalloc;
  t->bytes += (uint64_t)s->nalloc * s->elemsize;
  t->span_bytes += s->npages * GR_PAGE_SIZE;
}

static void human(char *dst, size_t n, uint64_t b) {
  if (b >= (1ull << 30))
    snprintf(dst, n, "%.1f GiB", (double)b / (1 << 30));
  else if (b >= (1ull << 20))
    snprintf(dst, n, "%.1f MiB", (double)b / (1 << 20));
  else if (b >= 1024)
    snprintf(dst, n, "%.1f KiB", (double)b / 1024);
  else
    snprintf(dst, n, "%llu B", (unsigned long long)b);
}

static void print_text(const cli_target *t, const gr_heap *h, const totals *cls, const uint64_t *elem, const totals *all,
                       FILE *f) {
  char inuse[32], spanb[32];
  human(inuse, sizeof inuse, all->bytes);
  human(spanb, sizeof spanb, all->span_bytes);
  fprintf(f, "pid %d (%s): %s in %" PRIu64 " objects, in %" PRIu64 " spans of %s\n", (int)t->pid,
          t->prog.bi.go_version, inuse, all->objects, all->spans, spanb);
  fprintf(f, "%7s %10s %9s %12s %12s %11s %6s\n", "CLASS", "OBJ SIZE", "SPANS", "OBJECTS", "SLOTS", "IN USE", "FULL");
  for (int c = 0; c < GR_NUM_SIZE_CLASSES; c++) {
    const totals *x = &cls[c];
    if (!x->spans) continue;
    char b[32], sz[32];
    human(b, sizeof b, x->bytes);
    if (c)
      snprintf(sz, sizeof sz, "%llu", (unsigned long long)elem[c]);
    else
      snprintf(sz, sizeof sz, "large");
    fprintf(f, "%7d %10s %9" PRIu64 " %12" PRIu64 " %12" PRIu64 " %11s %5.1f%%\n", c, sz, x->spans, x->objects, x->slots,
            b, x->slots ? 100.0 * (double)x->objects / (double)x->slots : 0.0);
  }
  char man[32];
  human(man, sizeof man, h->manual_bytes);
  fprintf(f, "not heap: %zu spans of stacks and other runtime memory (%s); %zu spans in all, ever\n", h->nmanual, man,
          h->nallspans);
  if (h->nunswept)
    fprintf(f, "note: %zu of %zu spans are not swept since the last GC: their counts include objects that GC found "
               "unreachable (runtime.GC() in the program, or the next cycle, makes them exact)\n",
            h->nunswept, h->n);
  if (h->nunreadable) fprintf(f, "note: %zu spans could not be read and are left out\n", h->nunreadable);
}

static void print_json(const cli_target *t, const gr_heap *h, const totals *cls, const uint64_t *elem,
                       const totals *all, FILE *f) {
  fprintf(f, "{\"pid\": %d, \"go_version\": \"%s\",\n", (int)t->pid, t->prog.bi.go_version);
  fprintf(f, " \"spans\": %" PRIu64 ", \"span_bytes\": %" PRIu64 ", \"objects\": %" PRIu64 ", \"bytes\": %" PRIu64
             ", \"slots\": %" PRIu64 ",\n",
          all->spans, all->span_bytes, all->objects, all->bytes, all->slots);
  fprintf(f, " \"unswept_spans\": %zu, \"unreadable_spans\": %zu, \"all_spans\": %zu, \"manual_spans\": %zu, "
             "\"manual_bytes\": %" PRIu64 ",\n \"classes\": [",
          h->nunswept, h->nunreadable, h->nallspans, h->nmanual, h->manual_bytes);
  int first = 1;
  for (int c = 0; c < GR_NUM_SIZE_CLASSES; c++) {
    const totals *x = &cls[c];
    if (!x->spans) continue;
    fprintf(f, "%s\n  {\"class\": %d, \"object_size\": %" PRIu64 ", \"spans\": %" PRIu64 ", \"span_bytes\": %" PRIu64
               ", \"objects\": %" PRIu64 ", \"slots\": %" PRIu64 ", \"bytes\": %" PRIu64 "}",
            first ? "" : ",", c, c ? elem[c] : 0, x->spans, x->span_bytes, x->objects, x->slots, x->bytes);
    first = 0;
  }
  fputs(first ? "]}\n" : "\n ]}\n", f);
}

int cmd_heap(int argc, char **argv) {
  enum { O_JSON = 256, O_STATS };
  static const struct option longopts[] = {{"pid", required_argument, 0, 'p'},    {"json", no_argument, 0, O_JSON},
                                           {"output", required_argument, 0, 'o'}, {"stats", no_argument, 0, O_STATS},
                                           {"help", no_argument, 0, 'h'},         {0, 0, 0, 0}};
  bool json = false, stats = false;
  const char *pidarg = NULL, *output = NULL;
  optind = 1;
  opterr = 0;
  int c;
  while ((c = getopt_long(argc, argv, "+p:o:h", longopts, NULL)) != -1) {
    switch (c) {
      case 'p': pidarg = optarg; break;
      case 'o': output = optarg; break;
      case 'h': help(stdout); return 0;
      case O_JSON: json = true; break;
      case O_STATS: stats = true; break;
      default:
        fprintf(stderr, "sonde heap: unknown or incomplete option '%s'; see 'sonde heap --help'\n", argv[optind - 1]);
        return se_exit_status(SE_USAGE);
    }
  }
  pid_t pid;
  int rc = cli_pid_operand("heap", pidarg, argc, argv, &pid);
  if (rc) return rc;

  struct timespec t0, t1, t2;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  cli_target t;
  gr_heap h;
  memset(&h, 0, sizeof h);
  rc = cli_open_target(pid, &t);
  if (rc == 0) rc = gr_heap_supported(&t.prog); /* refuse before stopping anything */
  if (rc == 0) rc = cli_capture_with(&t, read_heap, &h);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  if (rc == 0) {
    totals cls[GR_NUM_SIZE_CLASSES], all;
    uint64_t elem[GR_NUM_SIZE_CLASSES];
    memset(cls, 0, sizeof cls);
    memset(elem, 0, sizeof elem);
    memset(&all, 0, sizeof all);
    for (size_t i = 0; i < h.n; i++) {
      add(&cls[h.spans[i].sizeclass], &h.spans[i]);
      add(&all, &h.spans[i]);
      elem[h.spans[i].sizeclass] = h.spans[i].elemsize;
    }
    FILE *f;
    if ((rc = cli_output_open(output, &f)) == 0) {
      if (json)
        print_json(&t, &h, cls, elem, &all, f);
      else
        print_text(&t, &h, cls, elem, &all, f);
      rc = cli_output_close(f, output, 0);
    }
  }
  clock_gettime(CLOCK_MONOTONIC, &t2);
  if (stats && rc == 0)
    fprintf(stderr,
            "sonde: stats: spans %zu in use (of %zu), threads %zu, target stopped %.2f ms (stopping took %.2f ms), "
            "read %.2f ms, print %.2f ms, total %.2f ms, read syscalls %llu, peak RSS %.1f MiB\n",
            h.n, h.nallspans, t.nthreads, t.stop_ms, t.attach_ms, tgt_ms_between(&t0, &t1), tgt_ms_between(&t1, &t2),
            tgt_ms_between(&t0, &t2), (unsigned long long)t.mem.n_syscalls, cli_peak_rss_mb());
  gr_heap_free(&h);
  cli_target_free(&t);
  return rc ? cli_fail(rc) : 0;
}
