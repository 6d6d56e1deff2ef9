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
#include "base/sys.h"
#include "base/json.h"
#include "base/strbuf.h"
#include "cli/cli.h"
#include "goruntime/heap.h"

static void help(FILE *f) {
  fputs("Usage: sonde heap -p PID [--json] [-o FILE] [--types N]\n"
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
        "Go 1.22 and later record the type of objects over 512 bytes that hold\n"
        "pointers, and of large objects: those are also listed by type, named\n"
        "from the runtime's own type descriptors (no DWARF needed). \"[]T\" is a\n"
        "slice's backing array or an array of T. Smaller and pointer-free\n"
        "objects are known by size class only.\n"
        "\n"
        "Also shown: how much of each class is resident in RAM (/proc/PID/pagemap),\n"
        "the heap arenas, the GC cycle count, and the runtime's own accounting\n"
        "(memstats.heapStats, read in the same stop), which should equal sonde's\n"
        "count: a difference means a thread was stopped while updating it.\n"
        "\n"
        "  -p, --pid PID   the process\n"
        "      --json      JSON instead of a table\n"
        "  -o, --output F  write to F instead of standard output\n"
        "      --types N   the N types with the most bytes (default 20; 'all'; 0: do not\n"
        "                  read types, which keeps the stop shorter)\n"
        "      --stats     print timings to stderr: how long the target was stopped, RSS, ...\n"
        "\n"
        "Exit codes: 0 ok, 2 usage, 3 no such process, 4 permission denied, 5 not a Go\n"
        "program or a binary whose heap sonde cannot read, 7 exited while reading;\n"
        "see 'sonde --help'.\n",
        f);
}

typedef struct {
  uint64_t spans, slots, objects, bytes, span_bytes, resident;
} totals;

static void add(totals *t, const gr_span *s) {
  t->spans++;
  t->slots += s->nelems;
  t->objects += s->nalloc;
  t->bytes += (uint64_t)s->nalloc * s->elemsize;
  t->span_bytes += s->npages * GR_PAGE_SIZE;
  t->resident = s->resident == GR_UNKNOWN || t->resident == GR_UNKNOWN ? GR_UNKNOWN : t->resident + s->resident;
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

static void print_text(const ses_target *t, const gr_heap *h, const totals *cls, const uint64_t *elem,
                       const totals *all, FILE *f) {
  char inuse[32], spanb[32];
  human(inuse, sizeof inuse, all->bytes);
  human(spanb, sizeof spanb, all->span_bytes);
  fprintf(f, "pid %d (%s): %s in %" PRIu64 " objects, in %" PRIu64 " spans of %s", (int)t->pid, t->prog.bi.go_version,
          inuse, all->objects, all->spans, spanb);
  if (all->resident != GR_UNKNOWN) {
    char res[32];
    human(res, sizeof res, all->resident);
    fprintf(f, " (%s resident)", res);
  }
  if (h->has_memstats) fprintf(f, "; %u GC cycles", h->numgc);
  fputc('\n', f);
  fprintf(f, "%7s %10s %9s %12s %12s %11s %6s %11s\n", "CLASS", "OBJ SIZE", "SPANS", "OBJECTS", "SLOTS", "IN USE",
          "FULL", "RESIDENT");
  for (int c = 0; c < GR_NUM_SIZE_CLASSES; c++) {
    const totals *x = &cls[c];
    if (!x->spans) continue;
    char b[32], sz[32];
    human(b, sizeof b, x->bytes);
    if (c)
      snprintf(sz, sizeof sz, "%llu", (unsigned long long)elem[c]);
    else
      snprintf(sz, sizeof sz, "large");
    char res[32] = "?";
    if (x->resident != GR_UNKNOWN) human(res, sizeof res, x->resident);
    fprintf(f, "%7d %10s %9" PRIu64 " %12" PRIu64 " %12" PRIu64 " %11s %5.1f%% %11s\n", c, sz, x->spans, x->objects,
            x->slots, b, x->slots ? 100.0 * (double)x->objects / (double)x->slots : 0.0, res);
  }
  char man[32];
  human(man, sizeof man, h->manual_bytes);
  fprintf(f, "not heap: %zu spans of stacks and other runtime memory (%s); %zu spans in all, ever\n", h->nmanual, man,
          h->nallspans);
  if (h->narenas) {
    char ar[32];
    human(ar, sizeof ar, h->narenas * GR_ARENA_BYTES);
    fprintf(f, "arenas: %zu of 64 MiB (%s of address space), from 0x%llx\n", h->narenas, ar,
            (unsigned long long)h->arenas[0]);
  }
  if (h->nunswept)
    fprintf(f,
            "note: %zu of %zu spans are not swept since the last GC: their counts include objects that GC found "
            "unreachable (runtime.GC() in the program, or the next cycle, makes them exact)\n",
            h->nunswept, h->n);
  if (h->nunreadable) fprintf(f, "note: %zu spans could not be read and are left out\n", h->nunreadable);
  if (h->has_rtstats) {
    char rb[32];
    human(rb, sizeof rb, h->rt_bytes > 0 ? (uint64_t)h->rt_bytes : 0);
    bool same = h->rt_objects == (int64_t)all->objects && h->rt_bytes == (int64_t)all->bytes &&
                h->rt_inheap == (int64_t)all->span_bytes;
    fprintf(f, "the runtime's own accounting (memstats): %s in %" PRId64 " objects, %" PRId64 " bytes of spans: %s\n",
            rb, h->rt_objects, h->rt_inheap,
            same ? "the same" : "differs (a thread caught updating its counters, or spans sonde could not read)");
  }
}

/* The largest types, when they were read. */
static void print_types(const gr_heap *h, const totals *all, size_t top, FILE *f) {
  if (!h->has_types) {
    fputs("types: this Go version records no types in the heap (Go 1.22+ does, for objects over 512 bytes "
          "that hold pointers)\n",
          f);
    return;
  }
  char b[32], tb[32];
  human(tb, sizeof tb, h->typed_bytes);
  fprintf(f,
          "\nby type: %s in %" PRIu64 " objects (%.1f%% of the bytes) carry a type: objects over 512 bytes that "
          "hold pointers, and large objects\n",
          tb, h->typed_objects, all->bytes ? 100.0 * (double)h->typed_bytes / (double)all->bytes : 0.0);
  fprintf(f, "%12s %11s %7s  %s\n", "OBJECTS", "BYTES", "CLASS", "TYPE");
  size_t n = h->ntyped < top ? h->ntyped : top;
  for (size_t i = 0; i < n; i++) {
    const gr_heap_typed *r = &h->typed[i];
    human(b, sizeof b, r->bytes);
    char cls[16];
    if (r->sizeclass)
      snprintf(cls, sizeof cls, "%u", r->sizeclass);
    else
      snprintf(cls, sizeof cls, "large");
    fprintf(f, "%12" PRIu64 " %11s %7s  %s\n", r->objects, b, cls, h->row_names[i]);
  }
  if (h->ntyped > n) fprintf(f, "... and %zu more (--types all)\n", h->ntyped - n);
  if (h->nbadheaders)
    fprintf(f, "note: %" PRIu64 " objects have a type header that points at no type sonde can read\n", h->nbadheaders);
}

static void print_json(const ses_target *t, const gr_heap *h, const totals *cls, const uint64_t *elem,
                       const totals *all, FILE *f) {
  fprintf(f, "{\"pid\": %d, \"go_version\": \"%s\",\n", (int)t->pid, t->prog.bi.go_version);
  fprintf(f,
          " \"spans\": %" PRIu64 ", \"span_bytes\": %" PRIu64 ", \"objects\": %" PRIu64 ", \"bytes\": %" PRIu64
          ", \"slots\": %" PRIu64 ",\n",
          all->spans, all->span_bytes, all->objects, all->bytes, all->slots);
  fprintf(f,
          " \"unswept_spans\": %zu, \"unreadable_spans\": %zu, \"all_spans\": %zu, \"manual_spans\": %zu, "
          "\"manual_bytes\": %" PRIu64 ",\n",
          h->nunswept, h->nunreadable, h->nallspans, h->nmanual, h->manual_bytes);
  fprintf(f, " \"arenas\": [");
  for (size_t i = 0; i < h->narenas; i++)
    fprintf(f, "%s{\"base\": %llu, \"bytes\": %llu}", i ? ", " : "", (unsigned long long)h->arenas[i],
            (unsigned long long)GR_ARENA_BYTES);
  fputs("],\n", f);
  if (h->has_memstats) fprintf(f, " \"gc_cycles\": %u, \"last_gc_unix_ns\": %" PRIu64 ",\n", h->numgc, h->last_gc_unix);
  if (all->resident != GR_UNKNOWN) fprintf(f, " \"resident_bytes\": %" PRIu64 ",\n", all->resident);
  if (h->has_rtstats)
    fprintf(f,
            " \"runtime\": {\"objects\": %" PRId64 ", \"bytes\": %" PRId64 ", \"heap_inuse\": %" PRId64
            ", \"stacks_inuse\": %" PRId64 ", \"workbufs_inuse\": %" PRId64 "},\n",
            h->rt_objects, h->rt_bytes, h->rt_inheap, h->rt_instacks, h->rt_inworkbufs);
  fputs(" \"classes\": [", f);
  int first = 1;
  for (int c = 0; c < GR_NUM_SIZE_CLASSES; c++) {
    const totals *x = &cls[c];
    if (!x->spans) continue;
    fprintf(f,
            "%s\n  {\"class\": %d, \"object_size\": %" PRIu64 ", \"spans\": %" PRIu64 ", \"span_bytes\": %" PRIu64
            ", \"objects\": %" PRIu64 ", \"slots\": %" PRIu64 ", \"bytes\": %" PRIu64,
            first ? "" : ",", c, c ? elem[c] : 0, x->spans, x->span_bytes, x->objects, x->slots, x->bytes);
    if (x->resident != GR_UNKNOWN) fprintf(f, ", \"resident_bytes\": %" PRIu64, x->resident);
    fputc('}', f);
    first = 0;
  }
  fputs(first ? "]" : "\n ]", f);
  if (h->has_types) {
    fprintf(f,
            ",\n \"typed_objects\": %" PRIu64 ", \"typed_bytes\": %" PRIu64 ", \"bad_headers\": %" PRIu64
            ",\n \"types\": [",
            h->typed_objects, h->typed_bytes, h->nbadheaders);
    for (size_t i = 0; i < h->ntyped; i++) {
      const gr_heap_typed *r = &h->typed[i];
      const gr_heap_type *ty = &h->types[r->type];
      const char *name = h->row_names[i];
      fprintf(f, "%s\n  {\"type\": ", i ? "," : "");
      strbuf sb;
      json_w w;
      sb_init(&sb);
      json_init(&w, &sb);
      json_str(&w, name);
      sb_flush(&sb, f);
      sb_free(&sb);
      fprintf(f,
              ", \"type_addr\": %" PRIu64 ", \"type_size\": %" PRIu64 ", \"named\": %s, \"array\": %s, "
              "\"class\": %u, \"objects\": %" PRIu64 ", \"bytes\": %" PRIu64 "}",
              ty->addr, ty->size, ty->name ? "true" : "false", r->array ? "true" : "false", r->sizeclass, r->objects,
              r->bytes);
    }
    fputs(h->ntyped ? "\n ]" : "]", f);
  }
  fputs("}\n", f);
}

int cmd_heap(int argc, char **argv) {
  enum { O_JSON = 256, O_STATS, O_TYPES };
  static const struct option longopts[] = {{"pid", required_argument, 0, 'p'},
                                           {"json", no_argument, 0, O_JSON},
                                           {"output", required_argument, 0, 'o'},
                                           {"stats", no_argument, 0, O_STATS},
                                           {"types", required_argument, 0, O_TYPES},
                                           {"help", no_argument, 0, 'h'},
                                           {0, 0, 0, 0}};
  size_t top = 20;
  bool json = false, stats = false;
  const char *pidarg = NULL, *output = NULL;
  optind = 1;
  opterr = 0;
  int c;
  while ((c = getopt_long(argc, argv, "+p:o:h", longopts, NULL)) != -1) {
    switch (c) {
    case 'p':
      pidarg = optarg;
      break;
    case 'o':
      output = optarg;
      break;
    case 'h':
      help(stdout);
      return 0;
    case O_JSON:
      json = true;
      break;
    case O_STATS:
      stats = true;
      break;
    case O_TYPES: {
      char *end;
      errno = 0;
      unsigned long long v = strtoull(optarg, &end, 10);
      if (!strcmp(optarg, "all"))
        top = SIZE_MAX;
      else if (!*optarg || *end || errno || optarg[0] == '-' || v > SIZE_MAX) {
        fprintf(stderr,
                "sonde heap: --types takes a number of types to show, or 'all' (0: do not read types), "
                "not '%s'\n",
                optarg);
        return se_exit_status(SE_USAGE);
      } else
        top = (size_t)v;
      break;
    }
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
  ses_target t;
  gr_heap heap;
  memset(&heap, 0, sizeof heap);
  gr_heap *hp = &heap;
  ses_heap_req req = {hp, top > 0};
  rc = ses_open_target(pid, &t);
  if (rc == 0) rc = gr_heap_supported(&t.prog); /* refuse before stopping anything */
  if (rc == 0) rc = ses_capture_with(&t, ses_read_heap, &req);
  /* after the stop: sorting and residency need none */
  if (rc == 0) gr_heap_settle(t.pid, hp);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  if (rc == 0) {
    totals cls[GR_NUM_SIZE_CLASSES], all;
    uint64_t elem[GR_NUM_SIZE_CLASSES];
    memset(cls, 0, sizeof cls);
    memset(elem, 0, sizeof elem);
    memset(&all, 0, sizeof all);
    for (size_t i = 0; i < hp->n; i++) {
      add(&cls[hp->spans[i].sizeclass], &hp->spans[i]);
      add(&all, &hp->spans[i]);
      elem[hp->spans[i].sizeclass] = hp->spans[i].elemsize;
    }
    cli_output o;
    if ((rc = cli_output_open(output, &o)) == 0) {
      FILE *f = o.f;
      if (json)
        print_json(&t, hp, cls, elem, &all, f);
      else
        print_text(&t, hp, cls, elem, &all, f);
      if (!json && top) print_types(hp, &all, top, f);
      rc = cli_output_close(&o, output, 0);
    }
  }
  clock_gettime(CLOCK_MONOTONIC, &t2);
  if (stats && rc == 0)
    fprintf(stderr,
            "sonde: stats: spans %zu in use (of %zu), threads %zu, target stopped %.2f ms (stopping took %.2f ms), "
            "read %.2f ms, print %.2f ms, total %.2f ms, read syscalls %llu, peak RSS %.1f MiB\n",
            hp->n, hp->nallspans, t.nthreads, t.stop_ms, t.attach_ms, sys_ms_between(&t0, &t1),
            sys_ms_between(&t1, &t2), sys_ms_between(&t0, &t2), (unsigned long long)t.mem.n_syscalls,
            cli_peak_rss_mb());
  gr_heap_free(hp);
  ses_target_free(&t);
  return rc ? cli_fail(rc) : 0;
}
