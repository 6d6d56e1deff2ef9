/* cmd_info.c: `sonde info`: what Go built this program, and how. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "base/error.h"
#include "base/sys.h"
#include "base/json.h"
#include "cli/cli.h"

static void help(FILE *f) {
  fputs("Usage: sonde info -p PID [--json]\n"
        "       sonde info BINARY [--json]\n"
        "\n"
        "Prints the Go version, main module, VCS revision and build settings recorded in a\n"
        "Go binary, whether it carries DWARF and a symbol table, and the kernel version.\n"
        "For a PID it also counts the goroutines (a stop of a few milliseconds).\n"
        "\n"
        "Options:\n"
        "  -p, --pid PID   a running Go process\n"
        "      --json      one JSON document\n"
        "  -h, --help      show this help\n"
        "\n"
        "Examples:\n"
        "  sonde info ./myservice\n"
        "  sonde info -p $(pgrep -n myservice) --json | jq .go_version\n",
        f);
}

static void text(const gr_program *p, const ses_target *t, const char *kernel) {
  const bi_info *bi = &p->bi;
  if (t) printf("Process:        %d (%s)\n", (int)t->pid, t->info.comm);
  printf("Executable:     %s\n", t ? t->info.exe : p->img.path);
  printf("Go version:     %s\n", bi->go_version);
  if (bi->path) printf("Package path:   %s\n", bi->path);
  if (bi->mod_path)
    printf("Main module:    %s %s%s%s\n", bi->mod_path, bi->mod_version ? bi->mod_version : "",
           bi->mod_sum && *bi->mod_sum ? " " : "", bi->mod_sum ? bi->mod_sum : "");
  if (bi->vcs_revision)
    printf("VCS:            %s %s%s%s%s\n", bi->vcs ? bi->vcs : "", bi->vcs_revision, bi->vcs_time ? " at " : "",
           bi->vcs_time ? bi->vcs_time : "",
           bi->vcs_modified && !strcmp(bi->vcs_modified, "true") ? " (modified)" : "");
  printf("Dependencies:   %zu modules\n", bi->ndeps);
  printf("Binary:         %s, %s, %s\n", p->img.is_dyn ? "position-independent (PIE)" : "static addresses",
         p->img.has_dwarf ? "DWARF" : "no DWARF", p->img.has_symtab ? "symbol table" : "no symbol table");
  printf("Functions:      %llu (from the pclntab)\n", (unsigned long long)p->pcln.nfunc);
  printf("Kernel:         %s\n", kernel);
  if (bi->nsettings) {
    printf("Build settings:\n");
    for (size_t i = 0; i < bi->nsettings; i++) printf("  %s=%s\n", bi->settings[i].key, bi->settings[i].value);
  }
  if (t) {
    size_t user = 0;
    for (size_t i = 0; i < t->snap.n; i++) user += !t->snap.gs[i].system;
    printf("Goroutines:     %zu (%zu user, %zu runtime); threads: %zu; stopped for %.2f ms\n", t->snap.n, user,
           t->snap.n - user, t->nthreads, t->stop_ms);
  }
}

static int json(const gr_program *p, const ses_target *t, const char *kernel) {
  const bi_info *bi = &p->bi;
  strbuf b;
  sb_init(&b);
  json_w w;
  json_init(&w, &b);
  json_obj_begin(&w);
  if (t) {
    json_key(&w, "pid");
    json_i64(&w, t->pid);
    json_key(&w, "name");
    json_str(&w, t->info.comm);
  }
  json_key(&w, "executable");
  json_str(&w, t ? t->info.exe : p->img.path);
  json_key(&w, "go_version");
  json_str(&w, bi->go_version);
  json_key(&w, "path");
  json_str(&w, bi->path);
  json_key(&w, "main_module");
  json_obj_begin(&w);
  json_key(&w, "path");
  json_str(&w, bi->mod_path);
  json_key(&w, "version");
  json_str(&w, bi->mod_version);
  json_key(&w, "sum");
  json_str(&w, bi->mod_sum);
  json_obj_end(&w);
  json_key(&w, "dependencies");
  json_u64(&w, bi->ndeps);
  json_key(&w, "settings");
  json_obj_begin(&w);
  for (size_t i = 0; i < bi->nsettings; i++) {
    json_key(&w, bi->settings[i].key);
    json_str(&w, bi->settings[i].value);
  }
  json_obj_end(&w);
  json_key(&w, "pie");
  json_bool(&w, p->img.is_dyn);
  json_key(&w, "dwarf");
  json_bool(&w, p->img.has_dwarf);
  json_key(&w, "symtab");
  json_bool(&w, p->img.has_symtab);
  json_key(&w, "functions");
  json_u64(&w, p->pcln.nfunc);
  json_key(&w, "kernel");
  json_str(&w, kernel);
  if (t) {
    size_t user = 0;
    for (size_t i = 0; i < t->snap.n; i++) user += !t->snap.gs[i].system;
    json_key(&w, "goroutines");
    json_u64(&w, t->snap.n);
    json_key(&w, "user_goroutines");
    json_u64(&w, user);
    json_key(&w, "threads");
    json_u64(&w, t->nthreads);
  }
  json_obj_end(&w);
  sb_putc(&b, '\n');
  int rc = sb_flush(&b, stdout);
  sb_free(&b);
  return rc;
}

int cmd_info(int argc, char **argv) {
  enum { O_JSON = 256 };
  static const struct option longopts[] = {
      {"pid", required_argument, 0, 'p'}, {"json", no_argument, 0, O_JSON}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
  const char *pidarg = NULL, *path = NULL;
  bool as_json = false;
  optind = 1;
  opterr = 0;
  int c;
  while ((c = getopt_long(argc, argv, "+p:h", longopts, NULL)) != -1) {
    switch (c) {
      case 'p': pidarg = optarg; break;
      case 'h': help(stdout); return 0;
      case O_JSON: as_json = true; break;
      default:
        fprintf(stderr, "sonde info: unknown or incomplete option '%s'; see 'sonde info --help'\n", argv[optind - 1]);
        return se_exit_status(SE_USAGE);
    }
  }
  if (!pidarg && optind < argc) path = argv[optind++];
  if ((!pidarg && !path) || optind < argc) {
    fprintf(stderr, "sonde info: %s; see 'sonde info --help'\n",
            optind < argc ? "too many arguments" : "give -p PID or a binary");
    return se_exit_status(SE_USAGE);
  }
  char kernel[128];
  sys_kernel_release(kernel, sizeof kernel);
  int rc;
  if (pidarg) {
    pid_t pid;
    if ((rc = cli_parse_pid(pidarg, &pid))) return cli_fail(rc);
    ses_target t;
    gr_snapshot_opts so = {.include_system = true, .skip_stacks = true};
    rc = ses_snapshot(pid, &so, &t);
    if (rc == 0) {
      if (as_json) rc = json(&t.prog, &t, kernel);
      else text(&t.prog, &t, kernel);
    }
    ses_target_free(&t);
  } else {
    gr_program p;
    rc = gr_program_open(&p, path);
    if (rc == 0) {
      if (as_json) rc = json(&p, NULL, kernel);
      else text(&p, NULL, kernel);
    }
    gr_program_close(&p);
  }
  return rc ? cli_fail(rc) : 0;
}
