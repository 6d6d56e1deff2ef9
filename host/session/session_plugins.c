/* session_plugins.c: the session's plugins: loading them (with the index
 * and sonde.ini), their state hooks, and running their commands on events. */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/error.h"
#include "session/session_priv.h"
#include "session/signals.h"

void ss_report(session *s, int rc) {
  if (rc == PLG_FOUND) s->found = true;
  if (rc >= 0) return; /* 0, or PLG_FOUND: a command's finding is not a failure */
  ss_note(s, "%s", se_msg());
  se_clear();
  s->plugin_failed = true;
}

void ss_set_state(session *s, sonde_state to, sonde_reason why) {
  sonde_state from = s->state;
  s->state = to;
  for (size_t i = 0; i < s->np; i++) ss_report(s, plg_state_change(&s->p[i], from, to, why));
}

/* A plugin's own --every (command_every, from its sonde.ini section). */
int ss_op_every(void *ctx, plg_plugin *p, uint64_t interval_ms, const char *command) {
  session *s = ctx;
  sess_opts *o = s->o;
  if (o->nactions == SESS_MAX_ACTIONS)
    return se_set(SE_USAGE, "there are already %d commands on events, the most a session runs", SESS_MAX_ACTIONS);
  if (interval_ms < 10 || interval_ms > 86400000ull)
    return se_set(SE_USAGE, "an interval of %llu ms: give 10 ms to a day", (unsigned long long)interval_ms);
  size_t n = strlen(p->name) + strlen(command) + 2;
  char *text = malloc(n);
  if (!text) return se_set(SE_ERR, "out of memory");
  snprintf(text, n, "%s %s", p->name, command);
  sess_action *a = &o->actions[o->nactions];
  int rc = sess_action_parse(a, SESS_AT_EVERY, (double)interval_ms / 1000.0, text);
  if (rc == 0 && !plg_command(p, a->argv[1])) rc = se_set(SE_USAGE, "%s has no command '%s'", p->name, a->argv[1]);
  if (rc) {
    free(a->words);
    free(text);
    memset(a, 0, sizeof *a);
    return rc;
  }
  a->owned_text = text;
  s->next_every[o->nactions] = ss_since(s) + a->secs;
  o->nactions++;
  ss_arm_timer(s);
  return 0;
}

static plg_plugin *plugin_named(session *s, const char *name) {
  for (size_t i = 0; i < s->np; i++)
    if (!strcmp(s->p[i].name, name)) return &s->p[i];
  return NULL;
}

int ss_load_plugins(session *s) {
  const char *names[SESS_MAX_PLUGINS + SESS_MAX_ACTIONS];
  size_t n = 0;
  for (size_t i = 0; i < s->o->nplugins; i++) names[n++] = s->o->plugins[i];
  for (size_t i = 0; i < s->o->nactions; i++) { /* a command's plugin loads itself */
    bool seen = false;
    for (size_t k = 0; k < n; k++) seen |= !strcmp(names[k], s->o->actions[i].argv[0]);
    if (!seen) names[n++] = s->o->actions[i].argv[0];
  }
  if (n == 0) return 0;
  if (n > SESS_MAX_PLUGINS) return se_set(SE_USAGE, "at most %d plugins in one session", SESS_MAX_PLUGINS);
  idx_env env;
  penv_host_env(&env);
  penv_add_go(&env, &s->t.prog);
  int rc = penv_open(&s->pe, &s->o->po, true);
  if (rc) return rc;
  s->have_pe = true;
  for (size_t i = 0; i < n && rc == 0; i++) {
    plg_plugin *p = &s->p[s->np];
    rc = penv_load_plugin(&s->pe, names[i], &env, p);
    if (rc == 0 || p->desc || p->dl) s->np++;
    else if (p->fd >= 0) close(p->fd);
  }
  for (size_t i = 0; i < s->o->nactions && rc == 0; i++) {
    sess_action *a = &s->o->actions[i];
    plg_plugin *p = plugin_named(s, a->argv[0]);
    if (!p || !plg_command(p, a->argv[1]))
      rc = se_set(SE_USAGE, "'%s': plugin %s has no command '%s' (see 'sonde %s --help')", a->text, a->argv[0],
                  a->argv[1], a->argv[0]);
  }
  return rc;
}

void ss_unload_plugins(session *s) {
  for (size_t i = 0; i < s->np; i++) {
    if (s->p[i].attached) ss_report(s, plg_detach(&s->p[i]));
    plg_unload(&s->p[i]);
    if (s->p[i].crashed) s->plugin_failed = true;
  }
  s->np = 0;
}

/* Runs the commands for `when` (the target is stopped, or stops now). */
void ss_run_actions(session *s, sess_when when, size_t only) {
  for (size_t i = 0; i < s->o->nactions; i++) {
    sess_action *a = &s->o->actions[i];
    if (a->when != when || (only != SIZE_MAX && only != i)) continue;
    plg_plugin *p = plugin_named(s, a->argv[0]);
    if (!p || p->disabled) continue;
    if (ss_stop_all(s) != 0) { /* the target, not the plugin: say so, and skip the command */
      ss_note(s, "cannot run '%s': %s", a->text, se_msg());
      se_clear();
      return;
    }
    const sonde_command *c = plg_command(p, a->argv[1]);
    if (c && ss_read_for(s, c) != 0) { /* the target, not the plugin: say so, and skip the command */
      ss_note(s, "cannot run '%s': %s", a->text, se_msg());
      se_clear();
      ss_forget_stop(s);
      continue;
    }
    fflush(stdout);
    ss_report(s, plg_run(p, c, a->argc - 1, a->argv + 1));
    fflush(stdout);
    if (c && s->pt.waits) ss_forget_stop(s); /* the next command reads what it needs itself */
  }
}

bool ss_has_actions(const session *s, sess_when when) {
  for (size_t i = 0; i < s->o->nactions; i++)
    if (s->o->actions[i].when == when) return true;
  return false;
}

/* The target runs, with its breakpoints in: plugins attach, then the
 * --on-attach commands run with the target stopped. */
int ss_started(session *s) {
  for (size_t i = 0; i < s->np; i++) {
    s->p[i].target = &s->pt;
    s->p[i].out = stdout;
    ss_report(s, plg_attach(&s->p[i]));
  }
  ss_set_state(s, SONDE_STATE_RUNNING, SONDE_REASON_ATTACH);
  /* a plugin that read the goroutines in on_attach stopped every thread */
  if (!ss_has_actions(s, SESS_AT_ATTACH)) return s->all_stopped ? ss_resume_all(s) : 0;
  sigprocmask(SIG_BLOCK, &s->block, NULL);
  ss_set_state(s, SONDE_STATE_STOPPED, SONDE_REASON_INTERRUPT);
  ss_run_actions(s, SESS_AT_ATTACH, SIZE_MAX);
  ss_set_state(s, SONDE_STATE_RUNNING, SONDE_REASON_INTERRUPT);
  int rc = ss_resume_all(s);
  sigprocmask(SIG_SETMASK, &s->old, NULL);
  return rc;
}
