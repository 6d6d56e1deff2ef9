/* cmd_layout.c: `sonde layout BINARY`: the runtime struct fields sonde relies
 * on, where this binary has them, and whether they keep the contract in
 * goruntime/layout.h. The per-toolchain contract test runs it. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "base/error.h"
#include "cli/cli.h"

static void help(FILE *f) {
  fputs("Usage: sonde layout [--yaml] BINARY\n"
        "\n"
        "Prints each Go runtime field sonde reads (struct, field, offset, size, type) as\n"
        "BINARY has them (from its DWARF, or for a binary without DWARF from sonde's\n"
        "layout table for its Go version), the runtime globals sonde needs (from the\n"
        "symbol table, or found in code and data when there is none), and checks them\n"
        "against the sizes and types sonde expects. Exit 0 when the binary keeps the\n"
        "contract, 5 when something is missing or changed (the message names it).\n"
        "\n"
        "Options:\n"
        "  --yaml   print the layout as a table for index/layouts/ (needs DWARF)\n"
        "\n"
        "Examples:\n"
        "  sonde layout ./myservice\n"
        "  sonde layout --yaml ./reference-build > index/layouts/go1.27.yaml\n",
        f);
}

int cmd_layout(int argc, char **argv) {
  enum { O_YAML = 256 };
  static const struct option longopts[] = {{"help", no_argument, 0, 'h'}, {"yaml", no_argument, 0, O_YAML}, {0, 0, 0, 0}};
  bool yaml = false;
  optind = 1;
  opterr = 0;
  int c;
  while ((c = getopt_long(argc, argv, "+h", longopts, NULL)) != -1) {
    if (c == 'h') {
      help(stdout);
      return 0;
    }
    if (c == O_YAML) {
      yaml = true;
      continue;
    }
    fprintf(stderr, "sonde layout: unknown option '%s'; see 'sonde layout --help'\n", argv[optind - 1]);
    return se_exit_status(SE_USAGE);
  }
  if (optind != argc - 1) {
    fprintf(stderr, "sonde layout: give one binary; see 'sonde layout --help'\n");
    return se_exit_status(SE_USAGE);
  }
  gr_program p;
  int rc = gr_program_open(&p, argv[optind]);
  if (rc == 0 && yaml) {
    rc = gr_layout_from_dwarf(&p.img, &p.layout);
    if (rc == 0) rc = gr_layout_check(&p.layout);
    if (rc == 0) rc = gr_layout_emit_yaml(&p.layout, p.bi.go_version, p.bi.go_minor, stdout);
    gr_program_close(&p);
    return rc ? cli_fail(rc) : 0;
  }
  /* the layout and globals exactly as `sonde goroutines` would get them */
  int lrc = rc ? rc : gr_program_load_runtime(&p);
  if (rc || (lrc && !p.layout.source)) {
    gr_program_close(&p);
    return cli_fail(rc ? rc : lrc);
  }
  printf("%s (%s), layout from %s, globals from %s\n\n", argv[optind], p.bi.go_version, p.layout.source,
         p.globals.source ? p.globals.source : "(not found)");
  printf("%-20s %-18s %7s %5s  %-34s %s\n", "struct", "field", "offset", "size", "type", "status");
  for (int i = 0; i < GRL_COUNT_; i++) {
    const gr_field_spec *s = gr_layout_spec((gr_field)i);
    const gr_layout *L = &p.layout;
    if (L->off[i] < 0) {
      printf("%-20s %-18s %7s %5s  %-34s %s\n", s->st, s->path, "-", "-", "-",
             s->flags == LF_OPT ? "absent (optional)" : "MISSING");
      continue;
    }
    printf("%-20s %-18s %7lld %5llu  %-34s %s\n", s->st, s->path, (long long)L->off[i],
           (unsigned long long)L->fsize[i], L->ftype[i], gr_layout_size_ok((gr_field)i, L->fsize[i]) ? "ok" : "WRONG SIZE");
  }
  for (int i = 0; i < GRL_SIZE_COUNT_; i++)
    printf("%-20s %-18s %7s %5llu\n", gr_layout_size_struct((gr_size)i), "(size)", "",
           (unsigned long long)p.layout.size[i]);
  printf("\n");
  for (int g = 0; g < GR_GLOBAL_COUNT_; g++)
    printf("global %-28s 0x%llx (%llu bytes)\n", gr_global_name((gr_global)g),
           (unsigned long long)p.globals.addr[g], (unsigned long long)p.globals.size[g]);
  rc = lrc;
  gr_program_close(&p);
  if (rc) return cli_fail(rc);
  printf("\ncontract: ok\n");
  return 0;
}
