/* model.c: the goroutine-graph model, read from the host (gg.h). */
#include <stdlib.h>
#include <string.h>

#include "gg.h"

enum { MAX_FRAMES = 1 << 16 };

static void frame_of(const sonde_frame *f, gg_frame *out) {
  *out = (gg_frame){f->function, f->file, f->line, f->inlined, f->pc,
                    SONDE_HAS_MEMBER(f, sonde_frame, entry) ? f->entry : 0};
}

static int read_one(sonde_host *h, const sonde_host_api *api, uint64_t i, gg_frames which, gg_goroutine *g) {
  sonde_goroutine s = SONDE_INIT(sonde_goroutine);
  int rc = api->goroutine_get(h, i, &s);
  if (rc != SONDE_OK) return rc;
  *g = (gg_goroutine){.id = s.id, .parent_id = s.parent_id, .address = s.address, .status = s.status,
                      .reason = s.wait_reason, .wait_minutes = s.wait_minutes, .system = s.system,
                      .locked = s.locked_to_thread, .leak = s.leak, .group = s.leak_group};
  bool frames = which == GG_FRAMES_ALL || (which == GG_FRAMES_LEAKED && gg_reported_leak(g));
  if (frames && s.nframes) {
    uint32_t n = s.nframes < MAX_FRAMES ? s.nframes : MAX_FRAMES;
    if (!(g->frames = calloc(n, sizeof *g->frames))) return api->fail(h, SONDE_ENOMEM, "out of memory");
    for (uint32_t k = 0; k < n; k++) {
      sonde_frame f = SONDE_INIT(sonde_frame);
      if ((rc = api->frame_get(h, i, k, &f)) != SONDE_OK) return rc;
      frame_of(&f, &g->frames[g->nframes++]);
    }
  }
  if (frames && s.has_creator) {
    sonde_frame f = SONDE_INIT(sonde_frame);
    if (api->creator_get(h, i, &f) == SONDE_OK) {
      frame_of(&f, &g->creator);
      g->has_creator = true;
    }
  }
  if (s.nwaits) {
    if (!(g->waits = calloc(s.nwaits, sizeof *g->waits))) return api->fail(h, SONDE_ENOMEM, "out of memory");
    for (uint32_t k = 0; k < s.nwaits; k++) {
      g->waits[k] = SONDE_INIT(sonde_wait);
      if ((rc = api->wait_get(h, i, k, &g->waits[k])) != SONDE_OK) return rc;
      g->nwaits++;
    }
  }
  if (s.nreaches) {
    if (!(g->reaches = calloc(s.nreaches, sizeof *g->reaches))) return api->fail(h, SONDE_ENOMEM, "out of memory");
    for (uint32_t k = 0; k < s.nreaches; k++) {
      if ((rc = api->reach_get(h, i, k, &g->reaches[k])) != SONDE_OK) return rc;
      g->nreaches++;
    }
  }
  return SONDE_OK;
}

int gg_model_read(sonde_host *h, const sonde_host_api *api, gg_frames frames, gg_model *m) {
  memset(m, 0, sizeof *m);
  m->target = SONDE_INIT(sonde_target_info);
  int rc = api->target_info(h, &m->target);
  if (rc != SONDE_OK) return rc;
  m->leaks = SONDE_INIT(sonde_leak_info);
  m->has_leaks = api->leak_info(h, &m->leaks) == SONDE_OK;
  uint64_t n = api->goroutine_count(h);
  if (!(m->gs = calloc(n ? n : 1, sizeof *m->gs))) return api->fail(h, SONDE_ENOMEM, "out of memory");
  for (uint64_t i = 0; i < n; i++) {
    if ((rc = read_one(h, api, i, frames, &m->gs[i])) != SONDE_OK) {
      m->n = i + 1;
      gg_model_free(m);
      return rc;
    }
    m->n = i + 1;
  }
  return SONDE_OK;
}

void gg_model_free(gg_model *m) {
  for (size_t i = 0; i < m->n; i++) {
    free(m->gs[i].frames);
    free(m->gs[i].waits);
    free(m->gs[i].reaches);
  }
  free(m->gs);
  memset(m, 0, sizeof *m);
}

bool gg_reported_leak(const gg_goroutine *g) { return g->leak == SONDE_LEAK_LEAKED && !g->ignored; }

static bool matches(const char *func, const char *pat, size_t n) {
  if (n && pat[n - 1] == '*') return !strncmp(func, pat, n - 1);
  return strlen(func) == n && !strncmp(func, pat, n);
}

void gg_model_ignore(gg_model *m, const char *patterns) {
  m->nreported = m->nignored = 0;
  for (size_t i = 0; i < m->n; i++) {
    gg_goroutine *g = &m->gs[i];
    if (g->leak != SONDE_LEAK_LEAKED) continue;
    for (const char *p = patterns; p && *p && !g->ignored;) {
      size_t n = strcspn(p, ", \t");
      for (uint32_t k = 0; n && k < g->nframes && !g->ignored; k++)
        g->ignored = g->frames[k].function && matches(g->frames[k].function, p, n);
      p += n;
      p += strspn(p, ", \t");
    }
    if (g->ignored) m->nignored++;
    else m->nreported++;
  }
}

const char *gg_wait_kind_name(uint32_t kind) {
  return kind == SONDE_WAIT_CHAN ? "chan" : kind == SONDE_WAIT_SEMA ? "sema" : kind == SONDE_WAIT_COND ? "cond" : "?";
}

const char *gg_waits_for(const gg_goroutine *g) {
  static const struct {
    const char *prefix, *what;
  } by_reason[] = {
      {"chan send (nil chan)", "nil channel"}, {"chan receive (nil chan)", "nil channel"},
      {"select (no cases)", "nil channel"},    {"chan send", "channel"},
      {"chan receive", "channel"},             {"select", "select"},
      {"sync.Mutex", "mutex"},                 {"sync.RWMutex", "rwmutex"},
      {"sync.WaitGroup", "waitgroup"},         {"sync.Cond", "cond"},
      {"semacquire", "semaphore"},             {"sleep", "timer"},
      {"timer goroutine", "timer"},            {"IO wait", "network"},
  };
  const char *r = g->reason ? g->reason : "";
  if (r[0]) {
    for (size_t i = 0; i < sizeof by_reason / sizeof by_reason[0]; i++)
      if (!strncmp(r, by_reason[i].prefix, strlen(by_reason[i].prefix))) return by_reason[i].what;
    return "other";
  }
  if (!strcmp(g->status, "syscall")) return "syscall";
  if (!strcmp(g->status, "running")) return "running";
  if (!strcmp(g->status, "runnable")) return "runnable";
  return "other";
}

const char *gg_dir_name(uint32_t dir) {
  return dir == SONDE_DIR_SEND ? "send" : dir == SONDE_DIR_RECV ? "receive" : "?";
}
