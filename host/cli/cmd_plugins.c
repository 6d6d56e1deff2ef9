/* cmd_plugins.c: `sonde plugins` (the index and each plugin's verdict),
 * `sonde index check|update`, and `sonde config`. */
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/error.h"
#include "base/file.h"
#include "base/json.h"
#include "base/strbuf.h"
#include "cli/cli.h"
#include "session/plugin_env.h"
#include "plugins/loader.h"

/* ---- sonde plugins -------------------------------------------------------- */

static void plugins_help(FILE *f) {
  fputs("Usage: sonde plugins [-p PID] [--json] [OPTIONS]\n"
        "\n"
        "Lists every plugin in the plugin index with its verdict: whether this sonde\n"
        "would load it (its ABI, the kernel, sonde's version, and with -p the target's\n"
        "Go version), and whether its file passes the checks (present, safe permissions,\n"
        "sha256 as indexed, a sonde plugin note). Each refusal says why.\n"
        "\n"
        "Options:\n"
        "  -p, --pid PID            also check against the Go version of process PID\n"
        "      --json               one JSON document: {\"index\", \"plugins\": [...]}\n"
        "      --config FILE        read this sonde.ini (see `sonde config --help`)\n"
        "      --index FILE         use this plugin index instead of the configured one\n"
        "      --plugin-dir DIR     where the index's relative file names are\n"
        "      --allow-unsafe-plugins  accept plugin files others could have written\n"
        "  -h, --help               show this help\n"
        "\n"
        "Exit codes: 0 listed (whatever the verdicts), 11 the index or sonde.ini is\n"
        "malformed; see 'sonde --help'.\n",
        f);
}

enum { O_CONFIG = 300, O_INDEX, O_PLUGIN_DIR, O_UNSAFE, O_JSON, O_OUT };
#define PENV_LONGOPTS                                                                        \
  {"config", required_argument, 0, O_CONFIG}, {"index", required_argument, 0, O_INDEX},     \
      {"plugin-dir", required_argument, 0, O_PLUGIN_DIR},                                   \
      {"allow-unsafe-plugins", no_argument, 0, O_UNSAFE}, {"help", no_argument, 0, 'h'}

/* Handles the shared options; returns 1 when c was one of them. */
static int penv_option(int c, penv_opts *o) {
  switch (c) {
    case O_CONFIG: o->config = optarg; return 1;
    case O_INDEX: o->index = optarg; return 1;
    case O_PLUGIN_DIR: o->plugin_dir = optarg; return 1;
    case O_UNSAFE: o->allow_unsafe = true; return 1;
    default: return 0;
  }
}

static int bad_option(char **argv, const char *cmd) {
  se_set(SE_USAGE, "unknown or incomplete option '%s'; see 'sonde %s --help'", argv[optind - 1], cmd);
  return cli_fail(SE_USAGE);
}

/* "1.0", or "-" for an entry whose abi is missing or broken. */
static const char *abi_text(const idx_entry *e, char buf[32]) {
  if (e->abi_major == 0 && e->abi_minor == 0) return "-";
  snprintf(buf, 32, "%u.%u", e->abi_major, e->abi_minor);
  return buf;
}

typedef struct {
  const idx_entry *e;
  bool ok;
  char why[1024];
  char path[PATH_MAX];
} verdict;

/* The whole verdict on one entry: the index's rules, then the file. */
static void judge(const penv *pe, const idx_entry *e, const idx_env *env, verdict *v) {
  memset(v, 0, sizeof *v);
  v->e = e;
  if (e->file) penv_plugin_path(pe, e->file, v->path, sizeof v->path);
  if (!idx_verdict(e, env, v->why, sizeof v->why)) return;
  int fd;
  plg_note note;
  if (penv_check_plugin(pe, e, &fd, &note, v->path, sizeof v->path) != 0) {
    snprintf(v->why, sizeof v->why, "%s", se_msg());
    se_clear();
    return;
  }
  close(fd);
  v->ok = true;
}

int cmd_plugins(int argc, char **argv) {
  static const struct option longopts[] = {{"pid", required_argument, 0, 'p'}, {"json", no_argument, 0, O_JSON},
                                           PENV_LONGOPTS, {0, 0, 0, 0}};
  penv_opts po = {0};
  bool json = false;
  const char *pidarg = NULL;
  optind = 1;
  opterr = 0;
  int c;
  while ((c = getopt_long(argc, argv, "+p:h", longopts, NULL)) != -1) {
    if (penv_option(c, &po)) continue;
    switch (c) {
      case 'p': pidarg = optarg; break;
      case O_JSON: json = true; break;
      case 'h': plugins_help(stdout); return 0;
      default: return bad_option(argv, "plugins");
    }
  }
  if (optind < argc) {
    se_set(SE_USAGE, "unexpected argument '%s'; see 'sonde plugins --help'", argv[optind]);
    return cli_fail(SE_USAGE);
  }
  idx_env env;
  penv_host_env(&env);
  ses_target t;
  bool have_target = false;
  pid_t pid = 0;
  int rc = pidarg ? cli_parse_pid(pidarg, &pid) : 0;
  if (rc == 0) rc = penv_open_target(pid, &t, &have_target, &env);
  if (rc) {
    if (have_target) ses_target_free(&t);
    return cli_fail(rc);
  }
  penv pe;
  if ((rc = penv_open(&pe, &po, true))) {
    penv_close(&pe);
    if (have_target) ses_target_free(&t);
    return cli_fail(rc);
  }
  verdict *vs = calloc(pe.ix.n ? pe.ix.n : 1, sizeof *vs);
  if (!vs) {
    penv_close(&pe);
    return cli_fail(se_set(SE_NOMEM, "out of memory"));
  }
  for (size_t i = 0; i < pe.ix.n; i++) judge(&pe, &pe.ix.e[i], &env, &vs[i]);
  if (json) {
    strbuf b;
    sb_init(&b);
    json_w w;
    json_init(&w, &b);
    json_obj_begin(&w);
    json_key(&w, "index");
    json_str(&w, pe.index_path);
    json_key(&w, "plugin_dir");
    json_str(&w, pe.plugin_dir ? pe.plugin_dir : "");
    if (have_target) {
      json_key(&w, "go_version");
      json_str(&w, t.prog.bi.go_version);
    }
    json_key(&w, "plugins");
    json_arr_begin(&w);
    for (size_t i = 0; i < pe.ix.n; i++) {
      const idx_entry *e = vs[i].e;
      char abi[32];
      json_obj_begin(&w);
      json_key(&w, "name");
      json_str(&w, e->name ? e->name : "");
      json_key(&w, "version");
      json_str(&w, e->version ? e->version : "");
      json_key(&w, "abi");
      json_str(&w, abi_text(e, abi));
      json_key(&w, "file");
      json_str(&w, vs[i].path);
      json_key(&w, "description");
      json_str(&w, e->description ? e->description : "");
      json_key(&w, "compat");
      json_obj_begin(&w);
      json_key(&w, "go");
      json_str(&w, e->go_text);
      json_key(&w, "kernel");
      json_str(&w, e->kernel_text);
      json_key(&w, "sonde");
      json_str(&w, e->host_text);
      json_obj_end(&w);
      json_key(&w, "loads");
      json_bool(&w, vs[i].ok);
      json_key(&w, "reason");
      json_str(&w, vs[i].ok ? "" : vs[i].why);
      json_obj_end(&w);
    }
    json_arr_end(&w);
    json_obj_end(&w);
    sb_putc(&b, '\n');
    rc = sb_flush(&b, stdout);
    sb_free(&b);
  } else {
    printf("index: %s (from %s)\nplugin directory: %s (from %s)\n", pe.index_path, pe.index_src,
           pe.plugin_dir ? pe.plugin_dir : "-", pe.plugin_dir_src);
    if (have_target) printf("target: process %d, %s\n", (int)t.pid, t.prog.bi.go_version);
    if (pe.ix.n == 0) printf("\nno plugins in the index\n");
    size_t nok = 0;
    for (size_t i = 0; i < pe.ix.n; i++) {
      const idx_entry *e = vs[i].e;
      char abi[32];
      printf("\n%-16s %-10s ABI %-5s %s\n", e->name ? e->name : "(unnamed)", e->version ? e->version : "-",
             abi_text(e, abi),
             vs[i].ok ? "loads" : "REFUSED");
      if (e->description) printf("  %s\n", e->description);
      printf("  go %s, kernel %s, sonde %s\n", e->go_text, e->kernel_text, e->host_text);
      if (!vs[i].ok) printf("  why: %s\n", vs[i].why);
      nok += vs[i].ok;
    }
    printf("\n%zu of %zu plugins load\n", nok, pe.ix.n);
    rc = 0;
  }
  free(vs);
  penv_close(&pe);
  if (have_target) ses_target_free(&t);
  return rc ? cli_fail(rc) : 0;
}

/* ---- sonde index ---------------------------------------------------------- */

static void index_help(FILE *f) {
  fputs("Usage: sonde index check FILE\n"
        "       sonde index update [--index FILE] [--from FILE] [--plugin-dir DIR] [PLUGIN.so ...]\n"
        "\n"
        "check   validates a plugin index: YAML syntax, the schema, each entry's fields and\n"
        "        version ranges; every problem is reported with FILE:LINE:COLUMN.\n"
        "update  writes the entries of built plugins into the index: sha256, version and\n"
        "        ABI read from each file (its ELF note; no plugin code runs). An entry for a\n"
        "        new name is added with every range \"*\"; descriptions and compat ranges\n"
        "        already in the index are kept. Without PLUGIN.so arguments, every entry\n"
        "        whose file exists in the plugin directory is refreshed.\n"
        "\n"
        "Options (update):\n"
        "      --index FILE       the index to write (default: the configured one)\n"
        "      --from FILE        read the entries from FILE instead (e.g. the source tree's\n"
        "                         index/plugins.yaml), write them to --index\n"
        "      --plugin-dir DIR   the directory of the index's relative file names\n"
        "      --config FILE      read this sonde.ini\n"
        "  -h, --help             show this help\n"
        "\n"
        "Exit codes: 0 valid / written, 11 a malformed index (every problem is listed),\n"
        "12 a plugin file without a sonde note; see 'sonde --help'.\n",
        f);
}

static int index_check(const char *path) {
  idx_index ix;
  int rc = idx_load_file(path, &ix);
  if (rc) return cli_fail(rc);
  size_t bad = 0;
  for (size_t i = 0; i < ix.n; i++)
    if (ix.e[i].error) {
      fprintf(stderr, "%s\n", ix.e[i].error);
      bad++;
    }
  if (bad) {
    fprintf(stderr, "sonde: %s: %zu of %zu entries are broken and will never load\n", path, bad, ix.n);
  } else {
    printf("%s: ok, %zu plugin%s\n", path, ix.n, ix.n == 1 ? "" : "s");
  }
  idx_free(&ix);
  return bad ? se_exit_status(SE_CONFIG) : 0;
}

static char *xstrdup(const char *s) {
  char *d = strdup(s ? s : "");
  if (!d) abort();
  return d;
}

/* Fills (or adds) the entry for one built plugin file. */
static int update_one(idx_index *ix, const penv *pe, const char *so) {
  int fd;
  plg_note note;
  char sha[65];
  int rc = plg_check_file(so, NULL, true, NULL, NULL, &fd, &note, sha);
  if (rc) return rc;
  close(fd);
  idx_entry *e = NULL;
  for (size_t i = 0; i < ix->n; i++)
    if (ix->e[i].name && strcmp(ix->e[i].name, note.name) == 0) e = &ix->e[i];
  if (!e) {
    idx_entry *grown = realloc(ix->e, (ix->n + 1) * sizeof *grown);
    if (!grown) return se_set(SE_NOMEM, "out of memory");
    ix->e = grown;
    e = &ix->e[ix->n++];
    memset(e, 0, sizeof *e);
    e->name = xstrdup(note.name);
    e->go_text = xstrdup("*");
    e->kernel_text = xstrdup("*");
    e->host_text = xstrdup("*");
    /* in the plugin directory: a relative name; elsewhere: absolute */
    char real[PATH_MAX], dir[PATH_MAX];
    if (!realpath(so, real)) snprintf(real, sizeof real, "%s", so);
    size_t dl = 0;
    if (pe->plugin_dir && realpath(pe->plugin_dir, dir)) dl = strlen(dir);
    e->file = xstrdup(dl && strncmp(real, dir, dl) == 0 && real[dl] == '/' ? real + dl + 1 : real);
  }
  free(e->version);
  e->version = xstrdup(note.version);
  free(e->sha256);
  e->sha256 = xstrdup(sha);
  e->abi_major = SONDE_ABI_MAJOR_OF(note.abi_version);
  e->abi_minor = SONDE_ABI_MINOR_OF(note.abi_version);
  free(e->error);
  e->error = NULL;
  printf("%s: %s %s, ABI %u.%u, sha256 %.12s...\n", note.name, so, note.version, e->abi_major, e->abi_minor, sha);
  return 0;
}

static int index_update(int argc, char **argv) {
  static const struct option longopts[] = {{"from", required_argument, 0, O_OUT}, PENV_LONGOPTS, {0, 0, 0, 0}};
  penv_opts po = {0};
  const char *from = NULL;
  optind = 1;
  opterr = 0;
  int c;
  /* no '+': options may follow the plugin files */
  while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
    if (penv_option(c, &po)) continue;
    if (c == O_OUT) from = optarg;
    else if (c == 'h') {
      index_help(stdout);
      return 0;
    } else return bad_option(argv, "index");
  }
  penv pe;
  int rc = penv_open(&pe, &po, false);
  if (rc) {
    penv_close(&pe);
    return cli_fail(rc);
  }
  const char *out = pe.index_path;
  const char *in = from ? from : out;
  idx_index ix = {0};
  if (access(in, F_OK) == 0) rc = idx_load_file(in, &ix);
  else if (from) rc = se_set(SE_IO, "cannot read %s: no such file", from);
  if (rc == 0) {
    if (optind < argc) {
      for (int i = optind; i < argc && rc == 0; i++) rc = update_one(&ix, &pe, argv[i]);
    } else {
      size_t n0 = ix.n;
      for (size_t i = 0; i < n0 && rc == 0; i++) {
        char path[PATH_MAX];
        if (!ix.e[i].file) continue;
        penv_plugin_path(&pe, ix.e[i].file, path, sizeof path);
        if (access(path, F_OK) == 0) rc = update_one(&ix, &pe, path);
        else fprintf(stderr, "sonde: warning: %s: no file %s; entry left as it was\n", ix.e[i].name, path);
      }
    }
  }
  if (rc == 0) {
    /* written beside the index and renamed over it (base/file.h): no link is
     * followed and a failure leaves the old index as it was */
    sonde_outfile of;
    int e = sonde_outfile_open(&of, out);
    FILE *f = e ? NULL : sonde_outfile_stream(&of);
    if (!f) {
      if (!e) e = errno, sonde_outfile_abort(&of);
      rc = se_set(SE_IO, "cannot write %s: %s", out, strerror(e));
    } else {
      rc = idx_write(f, &ix);
      /* what we wrote must read back as a valid index */
      idx_index back;
      if (rc == 0 && fflush(f) != 0) rc = se_set(SE_IO, "cannot write %s: %s", out, strerror(errno));
      if (rc == 0 && (rc = idx_load_file(of.tmp[0] ? of.tmp : out, &back)) == 0) {
        for (size_t i = 0; i < back.n; i++)
          if (back.e[i].error) fprintf(stderr, "sonde: warning: %s\n", back.e[i].error);
        idx_free(&back);
      }
      if (rc) sonde_outfile_abort(&of);
      else if ((e = sonde_outfile_commit(&of)) != 0) rc = se_set(SE_IO, "cannot replace %s: %s", out, strerror(e));
      if (!rc) printf("wrote %s (%zu plugin%s)\n", out, ix.n, ix.n == 1 ? "" : "s");
    }
  }
  if (ix.e || ix.path) idx_free(&ix);
  penv_close(&pe);
  return rc ? cli_fail(rc) : 0;
}

int cmd_index(int argc, char **argv) {
  if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
    index_help(argc < 2 ? stderr : stdout);
    return argc < 2 ? se_exit_status(SE_USAGE) : 0;
  }
  if (!strcmp(argv[1], "check")) {
    if (argc == 3 && (!strcmp(argv[2], "-h") || !strcmp(argv[2], "--help"))) {
      index_help(stdout);
      return 0;
    }
    if (argc != 3) return cli_fail(se_set(SE_USAGE, "usage: sonde index check FILE"));
    return index_check(argv[2]);
  }
  if (!strcmp(argv[1], "update")) return index_update(argc - 1, argv + 1);
  return cli_fail(se_set(SE_USAGE, "no index command '%s': use check or update", argv[1]));
}

/* ---- sonde config --------------------------------------------------------- */

static void config_help(FILE *f) {
  fputs("Usage: sonde config [--config FILE]\n"
        "\n"
        "Shows the configuration sonde uses and where each value comes from. sonde reads\n"
        "one sonde.ini, the first found of: --config FILE, $SONDE_CONFIG, ./sonde.ini,\n"
        "$XDG_CONFIG_HOME/sonde/sonde.ini (default ~/.config/sonde/sonde.ini),\n"
        "/etc/sonde/sonde.ini. ./sonde.ini is read only when it is yours and nobody else\n"
        "can change it (else it is skipped, with a warning, and shown here), and never\n"
        "for allow_unsafe_permissions; every other file and the directories above it\n"
        "must be owned by root or you and not writable by group or others.\n"
        "\n"
        "  [host]\n"
        "  plugin_dir = DIR                 where the index's relative plugin files are\n"
        "  index = FILE                     the plugin index (plugins.yaml)\n"
        "  output_dir = DIR                 where plugins write their files\n"
        "  allow_unsafe_permissions = no    yes: load plugin files others could write\n"
        "\n"
        "  [PLUGIN]                         one section per plugin, handed to it\n"
        "  key = value\n"
        "\n"
        "Relative paths are relative to the file's directory. An unknown key or section\n"
        "is a warning with FILE:LINE; a bad value is an error (exit 11).\n",
        f);
}

int cmd_config(int argc, char **argv) {
  static const struct option longopts[] = {PENV_LONGOPTS, {0, 0, 0, 0}};
  penv_opts po = {0};
  optind = 1;
  opterr = 0;
  int c;
  while ((c = getopt_long(argc, argv, "+h", longopts, NULL)) != -1) {
    if (penv_option(c, &po)) continue;
    if (c == 'h') {
      config_help(stdout);
      return 0;
    }
    return bad_option(argv, "config");
  }
  penv pe;
  int rc = penv_open(&pe, &po, false);
  if (rc) {
    penv_close(&pe);
    return cli_fail(rc);
  }
  printf("config file: %s (%s)\n", pe.cfg.path ? pe.cfg.path : "none", pe.cfg.origin);
  for (size_t i = 0; i < pe.cfg.nskipped; i++) printf("skipped: %s\n", pe.cfg.skipped[i]);
  printf("\n[host]\n");
  printf("plugin_dir = %-40s ; %s\n", pe.plugin_dir ? pe.plugin_dir : "", pe.plugin_dir_src);
  printf("index = %-45s ; %s\n", pe.index_path ? pe.index_path : "", pe.index_src);
  printf("output_dir = %-40s ; %s\n", pe.output_dir, pe.host.output_dir.source);
  printf("allow_unsafe_permissions = %-26s ; %s\n", pe.allow_unsafe ? "yes" : "no",
         po.allow_unsafe ? "--allow-unsafe-plugins" : pe.host.allow_unsafe_permissions.source);
  const char *last = NULL;
  for (size_t i = 0; i < pe.cfg.n; i++) {
    const cfg_entry *e = &pe.cfg.e[i];
    if (!strcmp(e->section, "host")) continue;
    if (!last || strcmp(last, e->section) != 0) printf("\n[%s]\n", e->section);
    last = e->section;
    printf("%s = %s ; %s:%d\n", e->key, e->value, pe.cfg.path, e->line);
  }
  penv_close(&pe);
  return 0;
}
