/* cmd_plugin.c: `sonde PLUGIN [COMMAND] [ARGS]`: a plugin's commands.
 *
 * Order, for the target's sake and the user's: the index verdict and the
 * file checks (no plugin code yet); with -p, the target's executable is read
 * for its Go version before the plugin is loaded; then on_load; then the
 * stop, the snapshot and the detach; only then on_attach, the command and
 * on_detach, with the target already running. A plugin that crashes can
 * therefore never leave the target stopped. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/error.h"
#include "base/sys.h"
#include "goruntime/heap.h"
#include "cli/cli.h"
#include "session/plugin_env.h"
#include "plugins/loader.h"

/* the flags that make a command read a process (-p PID) */
#define CMD_NEEDS_PID (SONDE_CMD_NEEDS_TARGET | SONDE_CMD_NEEDS_HEAP | SONDE_CMD_NEEDS_WAITS | SONDE_CMD_NEEDS_LEAKS)

typedef struct {
  penv_opts po;
  const char *pidarg;
  const char *output;
  bool help;
  int argc;    /* what is left for the plugin: argv[0] is the command */
  char **argv;
} plugin_args;

/* Takes the host's options out of argv[2..]; everything after "--" is the
 * plugin's, verbatim. */
static int split_args(int argc, char **argv, plugin_args *a) {
  memset(a, 0, sizeof *a);
  a->argv = calloc((size_t)argc + 1, sizeof *a->argv);
  if (!a->argv) return se_set(SE_NOMEM, "out of memory");
  bool verbatim = false;
  for (int i = 1; i < argc; i++) {
    const char *s = argv[i];
    const char *val = NULL;
#define TAKES(opt) (!strcmp(s, opt) || (!strncmp(s, opt "=", sizeof opt) && (val = s + sizeof opt)))
    if (verbatim || i == 1) {
      if (i == 1 && (!strcmp(s, "-h") || !strcmp(s, "--help"))) {
        a->help = true;
        continue;
      }
      a->argv[a->argc++] = argv[i];
      continue;
    }
    if (!strcmp(s, "--")) {
      verbatim = true;
      continue;
    }
    const char **slot = NULL;
    if (!strcmp(s, "-p") || TAKES("--pid")) slot = &a->pidarg;
    else if (TAKES("--config")) slot = &a->po.config;
    else if (TAKES("--index")) slot = &a->po.index;
    else if (TAKES("--plugin-dir")) slot = &a->po.plugin_dir;
    else if (!strcmp(s, "--allow-unsafe-plugins")) {
      a->po.allow_unsafe = true;
      continue;
    }
#undef TAKES
    if (!slot) {
      a->argv[a->argc++] = argv[i];
      continue;
    }
    if (!val) {
      if (i + 1 >= argc) return se_set(SE_USAGE, "option '%s' needs a value", s);
      val = argv[++i];
    }
    *slot = val;
  }
  return 0;
}

static void list_commands(const plg_plugin *p, const char *name, FILE *f) {
  const sonde_plugin *d = p->desc;
  fprintf(f, "Usage: sonde %s COMMAND [ARGS]\n\n%s %s: %s\n\nCommands:\n", name, d->name,
          d->version ? d->version : "", d->description ? d->description : "");
  for (uint32_t i = 0; i < d->ncommands; i++) {
    const sonde_command *c = plg_command_at(p, i);
    char head[256];
    snprintf(head, sizeof head, "%s%s%s%s", c->name,
             (c->flags & CMD_NEEDS_PID) ? " -p PID" : "",
             c->usage && c->usage[0] ? " " : "", c->usage ? c->usage : "");
    /* a long usage gets a line of its own, the summary indented below it */
    if (strlen(head) <= 28)
      fprintf(f, "  %-28s %s\n", head, c->summary ? c->summary : "");
    else
      fprintf(f, "  %s\n      %s\n", head, c->summary ? c->summary : "");
  }
  fprintf(f,
          "\nRun 'sonde %s COMMAND --help' for a command's options. Host options, taken\n"
          "before the plugin sees its arguments: -p/--pid PID, --config FILE, --index FILE,\n"
          "--plugin-dir DIR, --allow-unsafe-plugins; '--' passes the rest verbatim.\n",
          name);
}

static void command_help(const plg_plugin *p, const sonde_command *c, FILE *f) {
  fprintf(f, "Usage: sonde %s %s%s %s\n\n%s\n", p->name, c->name,
          (c->flags & CMD_NEEDS_PID) ? " -p PID" : "", c->usage ? c->usage : "",
          c->summary ? c->summary : "");
  if (c->help && c->help[0]) fprintf(f, "\n%s%s", c->help, c->help[strlen(c->help) - 1] == '\n' ? "" : "\n");
}

/* heap_refresh in a one-shot command: another stop, the heap read again. */
typedef struct {
  ses_target *t;
  gr_heap *heap;
} reread_ctx;

static int reread_heap(void *ctx) {
  reread_ctx *r = ctx;
  gr_heap fresh;
  memset(&fresh, 0, sizeof fresh);
  ses_heap_req req = {&fresh, true};
  int rc = ses_capture_with(r->t, ses_read_heap, &req);
  if (rc) return rc;
  gr_heap_settle(r->t->pid, &fresh); /* after the stop */
  gr_heap_free(r->heap);
  *r->heap = fresh;
  return 0;
}

int cmd_plugin(int argc, char **argv, bool *found) {
  const char *name = argv[0];
  *found = false;
  plugin_args a;
  int rc = split_args(argc, argv, &a);
  if (rc) {
    free(a.argv);
    return cli_fail(rc);
  }
  penv pe;
  rc = penv_open(&pe, &a.po, true);
  const idx_entry *e = rc == 0 ? idx_find(&pe.ix, name) : NULL;
  if (!e) {
    /* Not a plugin either: a plain unknown command (and why we could not tell). */
    char why[1200] = "";
    /* a missing index is normal for a typo; a broken one is worth saying */
    if (rc && pe.index_path && access(pe.index_path, F_OK) == 0)
      snprintf(why, sizeof why, " (the plugin index could not be read: %s)", se_msg());
    penv_close(&pe);
    free(a.argv);
    se_set(SE_USAGE, "no command '%s'; run 'sonde --help' for the list, 'sonde plugins' for plugins%s", name, why);
    return cli_fail(SE_USAGE);
  }
  *found = true;

  idx_env env;
  penv_host_env(&env);
  ses_target t;
  gr_heap heap;
  gr_waits waits;
  gr_reach reach;
  memset(&heap, 0, sizeof heap);
  memset(&waits, 0, sizeof waits);
  memset(&reach, 0, sizeof reach);
  bool have_target, finding = false;
  plg_plugin p;
  memset(&p, 0, sizeof p);
  p.fd = -1;
  pid_t pid = 0;
  have_target = false;
  if (a.pidarg && (rc = cli_parse_pid(a.pidarg, &pid))) goto out;
  if ((rc = penv_open_target(pid, &t, &have_target, &env))) goto out;
  if ((rc = penv_load_plugin(&pe, name, &env, &p))) goto out;

  if (a.help || a.argc == 0) {
    list_commands(&p, name, a.help ? stdout : stderr);
    rc = a.help ? 0 : se_set(SE_USAGE, "give a command; the list is above");
    goto out;
  }
  const sonde_command *c = plg_command(&p, a.argv[0]);
  if (!c) {
    rc = se_set(SE_USAGE, "plugin %s has no command '%s'; run 'sonde %s --help' for its commands", name, a.argv[0],
                name);
    goto out;
  }
  for (int i = 1; i < a.argc; i++)
    if (!strcmp(a.argv[i], "-h") || !strcmp(a.argv[i], "--help")) {
      command_help(&p, c, stdout);
      rc = 0;
      goto out;
    }
  bool needs = c->flags & CMD_NEEDS_PID;
  if (needs && !have_target) {
    rc = se_set(SE_USAGE, "'sonde %s %s' reads a process: give -p PID", name, c->name);
    goto out;
  }
  if (!needs && have_target) {
    rc = se_set(SE_USAGE, "'sonde %s %s' does not read a process: drop -p", name, c->name);
    goto out;
  }
  char kernel[65];
  plg_target pt;
  reread_ctx rr;
  if (needs) {
    ses_stop_req req;
    if ((rc = ses_stop_req_for(&t.prog, c->flags, &heap, &waits, &reach, &req)) != 0) goto out; /* nothing stopped */
    rc = ses_capture_with(&t, ses_read_stop, &req);
    if (rc) goto out; /* the target runs again from here on */
    if (req.heap) gr_heap_settle(t.pid, &heap); /* sort, residency: after the stop */
    sys_kernel_release(kernel, sizeof kernel);
    pt = (plg_target){.pid = t.pid, .exe = t.info.exe, .kernel = kernel, .prog = &t.prog, .snap = &t.snap,
                      .heap = req.heap, .waits = req.waits, .reach = req.reach, .reach_ns = req.reach_ns,
                      .stop_ns = (uint64_t)(t.stop_ms * 1e6), .mem = &t.mem};
    if (req.heap) {
      rr = (reread_ctx){&t, &heap};
      pt.reread_heap = reread_heap;
      pt.reread_ctx = &rr;
    }
    p.target = &pt;
    if ((rc = plg_attach(&p))) goto out;
  }
  rc = plg_run(&p, c, a.argc, a.argv);
  finding = rc == PLG_FOUND;
  if (finding) rc = 0;
  if (fflush(stdout) != 0 && rc == 0) rc = se_set(SE_IO, "cannot write the output");
  if (needs) {
    se_kept k;
    se_keep(&k);
    int drc = plg_detach(&p);
    if (rc) (void)se_restore(&k); /* rc stays the failure's own code */
    else rc = drc;
  }
out:
  if (p.desc || p.dl) {
    se_kept k;
    se_keep(&k);
    if (p.attached) (void)plg_detach(&p);
    plg_unload(&p);
    if (rc) (void)se_restore(&k);
  } else if (p.fd >= 0) {
    close(p.fd);
  }
  gr_reach_free(&reach);
  gr_waits_free(&waits);
  gr_heap_free(&heap);
  if (have_target) ses_target_free(&t);
  penv_close(&pe);
  free(a.argv);
  return rc ? cli_fail(rc) : finding ? SE_EXIT_FOUND : 0;
}
