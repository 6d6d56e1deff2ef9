/* services.c: the host services table (sonde_host_api) handed to plugins.
 *
 * Every struct a plugin passes in declares its own size: the host fills a
 * complete struct of its own and copies only the bytes the plugin's
 * version has (plg_fill_sized), so an older plugin's smaller struct is
 * never overrun, and writes back how much it filled (ABI 1.5), so that
 * SONDE_HAS_MEMBER tells a newer plugin what this host left out.
 *
 * Every failure goes through svc_fail, which records its message for
 * last_error; the codes each service returns are the ones plugin.h lists
 * for it (tests/plugins/abicheck.c checks each). Strings handed out are
 * owned by the host, with the lifetimes plugin.h gives. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/error.h"
#include "goruntime/layout.h"
#include "plugins/loader.h"

enum { MAX_READ = 64 << 20 };

int plg_fill_sized(void *dst, const void *src, size_t n) {
  uint32_t have;
  memcpy(&have, dst, sizeof have);
  if (have < sizeof have) return SONDE_EINVAL;
  uint32_t k = have < n ? have : (uint32_t)n;
  memcpy((char *)dst + sizeof have, (const char *)src + sizeof have, k - sizeof have);
  memcpy(dst, &k, sizeof k);
  return SONDE_OK;
}

/* A service's failure: rc, with its message kept for last_error. */
__attribute__((format(printf, 3, 4))) static int svc_fail(sonde_host *h, int rc, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(h->p->last_err, sizeof h->p->last_err, fmt, ap);
  va_end(ap);
  return rc == SONDE_OK ? SONDE_ERROR : rc;
}

/* An out struct the host can fill: not NULL, and big enough for its size. */
static int bad_out(sonde_host *h, const void *out, const char *what) {
  if (!out) return svc_fail(h, SONDE_EINVAL, "%s: the out pointer is NULL", what);
  uint32_t have;
  memcpy(&have, out, sizeof have);
  if (have < sizeof have)
    return svc_fail(h, SONDE_EINVAL, "%s: struct_size is %u; set it with SONDE_INIT", what, have);
  return SONDE_OK;
}
#define fill_sized plg_fill_sized

/* api->fail and vfail: the plugin's own message for a failed hook. */
static int vfail(sonde_host *h, int rc, const char *fmt, va_list ap) {
  vsnprintf(h->p->err, sizeof h->p->err, fmt ? fmt : "(no message)", ap);
  return rc == SONDE_OK ? SONDE_ERROR : rc;
}

__attribute__((format(printf, 3, 4))) static int fail(sonde_host *h, int rc, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  rc = vfail(h, rc, fmt, ap);
  va_end(ap);
  return rc;
}

static const char *h_last_error(sonde_host *h) { return h->p->last_err; }

static int h_report_found(sonde_host *h) {
  if (!h->p->in_run) return svc_fail(h, SONDE_EINVAL, "report_found: only a command's run can report a finding");
  h->p->found = true;
  return SONDE_OK;
}

static void *h_alloc(sonde_host *h, size_t n) {
  (void)h;
  return malloc(n ? n : 1);
}

static void h_free(sonde_host *h, void *ptr) {
  (void)h;
  free(ptr);
}

static void h_vlog(sonde_host *h, sonde_log_level level, const char *fmt, va_list ap) {
  static const char *const names[] = {"error", "warning", "info", "debug"};
  if (level > SONDE_LOG_INFO && !getenv("SONDE_DEBUG")) return;
  const char *lv = (unsigned)level < 4 ? names[level] : "log";
  char msg[2048];
  vsnprintf(msg, sizeof msg, fmt ? fmt : "(no message)", ap);
  fprintf(stderr, "sonde: %s: %s: %s\n", h->p->name, lv, msg);
}

__attribute__((format(printf, 3, 4))) static void h_log(sonde_host *h, sonde_log_level level, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  h_vlog(h, level, fmt, ap);
  va_end(ap);
}

static const char *h_config_get(sonde_host *h, const char *key) {
  if (!h->p->cfg || !key) return NULL;
  const cfg_entry *e = cfg_get(h->p->cfg, h->p->name, key);
  return e ? e->value : NULL;
}

static const plg_target *target_of(sonde_host *h) { return h->p->target; }

/* A snapshot's resolved model (made once: later calls find it). */
static gr_snapshot *resolved(sonde_host *h, gr_snapshot *s) {
  if (s && gr_sym_resolve(target_of(h)->prog, s, false) != 0) {
    h_log(h, SONDE_LOG_WARN, "cannot resolve the goroutines' frames: %s", se_msg());
    se_clear();
    return NULL;
  }
  return s;
}

/* The goroutine snapshot: the command's, or one the session takes now. */
static const gr_snapshot *snap_of(sonde_host *h) {
  const plg_target *t = target_of(h);
  if (!t) return NULL;
  if (t->snap || !t->session || !t->session->snapshot) return resolved(h, t->snap);
  gr_snapshot *s = t->session->snapshot(t->session->ctx);
  if (!s) {
    h_log(h, SONDE_LOG_WARN, "no goroutine snapshot: %s", se_msg());
    se_clear();
  }
  return resolved(h, s);
}

static int h_target_info(sonde_host *h, sonde_target_info *out) {
  const plg_target *t = target_of(h);
  if (!t) return svc_fail(h, SONDE_ENOTARGET, "target_info: this command has no target");
  int bad = bad_out(h, out, "target_info");
  if (bad) return bad;
  sonde_target_info i = {.struct_size = sizeof i};
  i.pid = (int32_t)t->pid;
  i.exe = t->exe ? t->exe : "";
  i.go_version = t->prog->bi.go_version ? t->prog->bi.go_version : "";
  i.main_module = t->prog->bi.mod_path ? t->prog->bi.mod_path : "";
  i.kernel = t->kernel ? t->kernel : "";
  i.ngoroutines = t->snap ? t->snap->n : 0; /* what is taken already: no stop for this */
  i.has_dwarf = t->prog->img.has_dwarf;
  i.has_symtab = t->prog->img.has_symtab;
  i.stopped_ns = t->stop_ns;
  return fill_sized(out, &i, sizeof i);
}

static int h_read_memory(sonde_host *h, uint64_t addr, void *dst, size_t n) {
  const plg_target *t = target_of(h);
  if (!t) return svc_fail(h, SONDE_ENOTARGET, "read_memory: this command has no target");
  if (!dst) return svc_fail(h, SONDE_EINVAL, "read_memory: dst is NULL");
  if (n > MAX_READ) return svc_fail(h, SONDE_EINVAL, "read_memory: %zu bytes is more than %d", n, MAX_READ);
  if (n == 0) return SONDE_OK;
  if (tgt_mem_read_live(t->mem, addr, dst, n) != 0) {
    se_clear();
    return svc_fail(h, SONDE_EFAULT, "read_memory: %zu bytes at 0x%llx are not readable", n, (unsigned long long)addr);
  }
  return SONDE_OK;
}

static uint64_t h_goroutine_count(sonde_host *h) {
  const gr_snapshot *sn = snap_of(h);
  return sn ? sn->n : 0;
}

/* Which goroutines a call means: the snapshot's, or the hit's own one. */
typedef enum { IN_SNAPSHOT, IN_HIT } which_snap;

static const gr_snapshot *hit_snap_of(sonde_host *h) {
  const plg_target *t = target_of(h);
  if (!t || !t->session || !t->session->hit_snapshot) return NULL;
  return resolved(h, t->session->hit_snapshot(t->session->ctx));
}

/* The resolved frames of goroutine i: the model's, read once for all. */
static int trace_of(sonde_host *h, which_snap w, uint64_t i, const gr_trace **out, const gr_snapshot **snap) {
  const plg_target *t = target_of(h);
  const gr_snapshot *sn = w == IN_HIT ? hit_snap_of(h) : snap_of(h);
  if (!t || !sn) {
    se_clear();
    return svc_fail(h, SONDE_ENOTARGET, w == IN_HIT ? "hit_goroutine_get: there is no breakpoint hit here"
                                                    : "goroutines: there is no goroutine snapshot here");
  }
  if (i >= sn->n)
    return svc_fail(h, SONDE_ENOTFOUND, "goroutine index %llu: the snapshot has %zu goroutines", (unsigned long long)i,
                    (size_t)sn->n);
  const gr_trace *tr = gr_trace_of(sn, (size_t)i);
  if (!tr) return svc_fail(h, SONDE_ERROR, "goroutine %llu: its stack could not be symbolized", (unsigned long long)i);
  *out = tr;
  if (snap) *snap = sn;
  return SONDE_OK;
}

/* symbolize's names as Go prints them: a copy owned by p (until on_detach)
 * when it differs. Frames from a snapshot carry theirs (gr_frame.print). */
static const char *kept_name(plg_plugin *p, const char *func) {
  char buf[1024];
  const char *name = gr_print_name(func, buf, sizeof buf);
  if (name != buf) return name;
  char **grown = realloc(p->strings, (p->nstrings + 1) * sizeof *grown);
  char *copy = strdup(buf);
  if (!grown || !copy) {
    free(copy);
    if (grown) p->strings = grown;
    return func;
  }
  p->strings = grown;
  p->strings[p->nstrings++] = copy;
  return copy;
}

static void frame_from(plg_plugin *p, const gr_frame *f, sonde_frame *out) {
  *out = (sonde_frame){.struct_size = sizeof *out};
  out->function = f->print ? f->print : kept_name(p, f->func);
  out->file = f->file ? f->file : "";
  out->line = f->line > 0 ? (uint32_t)f->line : 0;
  out->inlined = f->inlined;
  out->pc = f->pc;
  out->entry = f->entry;
}

static int goroutine_in(sonde_host *h, which_snap w, uint64_t i, sonde_goroutine *out) {
  int bad = bad_out(h, out, w == IN_HIT ? "hit_goroutine_get" : "goroutine_get");
  if (bad) return bad;
  const gr_trace *tr = NULL;
  const gr_snapshot *sn = NULL;
  int rc = trace_of(h, w, i, &tr, &sn);
  if (rc) return rc;
  const plg_target *t = target_of(h);
  const gr_goroutine *g = &sn->gs[i];
  sonde_goroutine o = {.struct_size = sizeof o};
  o.nframes = (uint32_t)tr->n;
  o.id = (int64_t)g->goid;
  o.parent_id = (int64_t)g->parent_goid;
  o.status = gr_status_name(g->status);
  o.wait_reason = gr_wait_reason_of(t->prog, g);
  o.wait_minutes = gr_wait_minutes(sn, g);
  o.system = g->system;
  o.locked_to_thread = g->lockedm != 0;
  o.has_creator = tr->has_creator;
  /* runtime.stackalloc hands out at most 1 GB (maxstacksize); a corrupt g
   * shows no size rather than a huge one */
  uint64_t size = g->stack_hi - g->stack_lo;
  o.stack_size = g->stack_hi > g->stack_lo && size <= ((uint64_t)1 << 32) ? size : 0;
  o.address = g->addr;
  if (w == IN_SNAPSHOT && t->waits && i < t->waits->n) o.nwaits = t->waits->ncases[i];
  if (w == IN_SNAPSHOT && t->reach && i < t->reach->n) {
    o.leak = t->reach->verdict[i] + 1; /* gr_leak_verdict + 1 == sonde_leak */
    o.leak_group = t->reach->group[i];
    o.nreaches = t->reach->nreaches[i];
  }
  return fill_sized(out, &o, sizeof o);
}

static int frame_in(sonde_host *h, which_snap w, uint64_t gi, uint32_t fi, sonde_frame *out) {
  int bad = bad_out(h, out, w == IN_HIT ? "hit_frame_get" : "frame_get");
  if (bad) return bad;
  const gr_trace *tr = NULL;
  int rc = trace_of(h, w, gi, &tr, NULL);
  if (rc) return rc;
  if (fi >= tr->n)
    return svc_fail(h, SONDE_ENOTFOUND, "frame %u: the goroutine has %zu frames", fi, (size_t)tr->n);
  sonde_frame f;
  frame_from(h->p, &tr->frames[fi], &f);
  return fill_sized(out, &f, sizeof f);
}

static int h_goroutine_get(sonde_host *h, uint64_t i, sonde_goroutine *out) {
  return goroutine_in(h, IN_SNAPSHOT, i, out);
}

static int h_frame_get(sonde_host *h, uint64_t gi, uint32_t fi, sonde_frame *out) {
  return frame_in(h, IN_SNAPSHOT, gi, fi, out);
}

static int h_hit_goroutine_get(sonde_host *h, sonde_goroutine *out) { return goroutine_in(h, IN_HIT, 0, out); }

static int h_hit_frame_get(sonde_host *h, uint32_t fi, sonde_frame *out) { return frame_in(h, IN_HIT, 0, fi, out); }

static int h_creator_get(sonde_host *h, uint64_t gi, sonde_frame *out) {
  int bad = bad_out(h, out, "creator_get");
  if (bad) return bad;
  const gr_trace *tr = NULL;
  int rc = trace_of(h, IN_SNAPSHOT, gi, &tr, NULL);
  if (rc) return rc;
  if (!tr->has_creator)
    return svc_fail(h, SONDE_ENOTFOUND, "goroutine index %llu has no \"created by\" frame", (unsigned long long)gi);
  sonde_frame f;
  frame_from(h->p, &tr->creator, &f);
  return fill_sized(out, &f, sizeof f);
}

static int h_symbolize(sonde_host *h, uint64_t pc, sonde_frame *out) {
  const plg_target *t = target_of(h);
  if (!t) return svc_fail(h, SONDE_ENOTARGET, "symbolize: this command has no target");
  int bad = bad_out(h, out, "symbolize");
  if (bad) return bad;
  pcln_func f;
  if (pcln_find(&t->prog->pcln, pc, &f) != 0) {
    se_clear();
    return svc_fail(h, SONDE_ENOTFOUND, "symbolize: 0x%llx is in no Go function", (unsigned long long)pc);
  }
  gr_frame g = {.func = pcln_name(&t->prog->pcln, &f), .pc = pc, .entry = f.entry};
  if (!g.func) return svc_fail(h, SONDE_ENOTFOUND, "symbolize: 0x%llx: its function has no name", (unsigned long long)pc);
  if (!pcln_fileline(&t->prog->pcln, &f, pc, &g.file, &g.line)) g.file = "?";
  sonde_frame o;
  frame_from(h->p, &g, &o);
  return fill_sized(out, &o, sizeof o);
}

static int h_layout_field(sonde_host *h, const char *type, const char *field, sonde_field *out) {
  const plg_target *t = target_of(h);
  if (!t) return svc_fail(h, SONDE_ENOTARGET, "layout_field: this command has no target");
  if (!type || !field) return svc_fail(h, SONDE_EINVAL, "layout_field: a type and a field name are needed");
  int bad = bad_out(h, out, "layout_field");
  if (bad) return bad;
  for (int i = 0; i < GRL_COUNT_; i++) {
    const gr_field_spec *s = gr_layout_spec((gr_field)i);
    if (strcmp(s->st, type) != 0 || strcmp(s->path, field) != 0) continue;
    if (t->prog->layout.off[i] < 0)
      return svc_fail(h, SONDE_ENOTFOUND, "layout_field: this binary has no %s.%s", type, field);
    sonde_field o = {.struct_size = sizeof o, .offset = (uint64_t)t->prog->layout.off[i],
                     .size = t->prog->layout.fsize[i]};
    return fill_sized(out, &o, sizeof o);
  }
  return svc_fail(h, SONDE_ENOTFOUND, "layout_field: sonde does not know %s.%s (sonde layout BINARY lists what it knows)",
                  type, field);
}

static int h_write_out(sonde_host *h, const void *data, size_t n) {
  if (!data && n) return svc_fail(h, SONDE_EINVAL, "write_out: data is NULL");
  FILE *f = h->p->out ? h->p->out : stdout;
  if (n && fwrite(data, 1, n, f) != n) return svc_fail(h, SONDE_EIO, "cannot write the output: %s", strerror(errno));
  return SONDE_OK;
}

static int h_open_output(sonde_host *h, const char *name, char **out_path) {
  if (!name || !name[0] || strchr(name, '/') || !strcmp(name, ".") || !strcmp(name, "..") || !out_path)
    return svc_fail(h, SONDE_EINVAL, "open_output: '%s' is not a plain file name", name ? name : "(null)");
  const char *dir = h->p->output_dir && h->p->output_dir[0] ? h->p->output_dir : ".";
  if (mkdir(dir, 0755) != 0 && errno != EEXIST)
    return svc_fail(h, SONDE_EIO, "cannot create the output directory %s: %s", dir, strerror(errno));
  size_t n = strlen(dir) + strlen(name) + 2;
  char *path = malloc(n);
  if (!path) return svc_fail(h, SONDE_ENOMEM, "open_output: out of memory");
  snprintf(path, n, "%s/%s", dir, name);
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    int e = errno;
    free(path);
    return svc_fail(h, SONDE_EIO, "cannot create %s/%s: %s", dir, name, strerror(e));
  }
  close(fd);
  *out_path = path;
  return SONDE_OK;
}

static int h_breakpoint_set(sonde_host *h, const char *location, uint64_t *out_id) {
  const plg_target *t = target_of(h);
  if (!location || !out_id) return svc_fail(h, SONDE_EINVAL, "breakpoint_set: a location and an id pointer are needed");
  if (!t || !t->session || !t->session->breakpoint_set)
    return svc_fail(h, SONDE_ENOTSUP, "breakpoint at '%s': breakpoints exist only while sonde stays attached "
                "(sonde attach or sonde exec)", location);
  if (t->session->breakpoint_set(t->session->ctx, h->p, location, out_id) != 0) {
    int rc = svc_fail(h, se_code() == SE_USAGE ? SONDE_ENOTFOUND : SONDE_ERROR, "breakpoint at '%s': %s", location,
                      se_msg());
    se_clear();
    return rc;
  }
  return SONDE_OK;
}

static int h_command_every(sonde_host *h, uint64_t interval_ms, const char *command) {
  const plg_target *t = target_of(h);
  if (!command || !command[0]) return svc_fail(h, SONDE_EINVAL, "command_every: name one of your commands");
  if (!t || !t->session || !t->session->every)
    return svc_fail(h, SONDE_ENOTSUP, "'%s' every %llu ms: only a session that stays attached (sonde attach or sonde "
                "exec) runs commands on an interval", command, (unsigned long long)interval_ms);
  if (t->session->every(t->session->ctx, h->p, interval_ms, command) != 0) {
    int rc = svc_fail(h, SONDE_EINVAL, "'%s' every %llu ms: %s", command, (unsigned long long)interval_ms, se_msg());
    se_clear();
    return rc;
  }
  return SONDE_OK;
}

static int h_breakpoint_clear(sonde_host *h, uint64_t id) {
  const plg_target *t = target_of(h);
  if (!t || !t->session || !t->session->breakpoint_clear)
    return svc_fail(h, SONDE_ENOTSUP, "breakpoints exist only while sonde stays attached (sonde attach or sonde exec)");
  if (t->session->breakpoint_clear(t->session->ctx, h->p, id) != 0) {
    int rc = svc_fail(h, SONDE_ENOTFOUND, "breakpoint %llu: %s", (unsigned long long)id, se_msg());
    se_clear();
    return rc;
  }
  return SONDE_OK;
}

/* ---- the heap (ABI 1.3) ---- */

/* The heap: the command's, or one the session reads now; NULL with *rc
 * set (and the message kept) when there is none. */
static const gr_heap *heap_of(sonde_host *h, int *rc) {
  const plg_target *t = target_of(h);
  if (!t) {
    *rc = svc_fail(h, SONDE_ENOTARGET, "heap: this command has no target");
    return NULL;
  }
  if (t->heap) return t->heap;
  if (!t->session || !t->session->heap) {
    *rc = svc_fail(h, SONDE_ENOTSUP, "heap: the command was not declared with SONDE_CMD_NEEDS_HEAP, so the heap was "
                   "not read during its stop");
    return NULL;
  }
  const gr_heap *hp = t->session->heap(t->session->ctx);
  if (!hp) {
    *rc = svc_fail(h, SONDE_ENOTSUP, "heap: %s", se_msg());
    se_clear();
  }
  return hp;
}

static int h_heap_info(sonde_host *h, sonde_heap_info *out) {
  int bad = bad_out(h, out, "heap_info");
  if (bad) return bad;
  int heap_rc = SONDE_OK;
  const gr_heap *hp = heap_of(h, &heap_rc);
  if (!hp) return heap_rc;
  sonde_heap_info o = {.struct_size = sizeof o};
  o.has_types = hp->has_types;
  o.nspans = hp->n;
  o.ntypes = hp->ntyped;
  for (size_t i = 0; i < hp->n; i++) {
    o.objects += hp->spans[i].nalloc;
    o.bytes += (uint64_t)hp->spans[i].nalloc * hp->spans[i].elemsize;
    o.span_bytes += hp->spans[i].npages * GR_PAGE_SIZE;
  }
  o.resident_bytes = hp->resident == GR_UNKNOWN ? SONDE_UNKNOWN : hp->resident;
  o.unswept_spans = hp->nunswept;
  o.unreadable_spans = hp->nunreadable;
  o.manual_spans = hp->nmanual;
  o.manual_bytes = hp->manual_bytes;
  o.typed_objects = hp->typed_objects;
  o.typed_bytes = hp->typed_bytes;
  o.bad_headers = hp->nbadheaders;
  o.gc_cycle = hp->has_memstats ? hp->numgc : SONDE_UNKNOWN;
  o.last_gc_unix_ns = hp->has_memstats ? hp->last_gc_unix : 0;
  o.runtime_objects = o.runtime_bytes = o.runtime_heap_inuse = o.runtime_stacks_inuse = SONDE_UNKNOWN;
  if (hp->has_rtstats && hp->rt_objects >= 0 && hp->rt_bytes >= 0 && hp->rt_inheap >= 0 && hp->rt_instacks >= 0) {
    o.runtime_objects = (uint64_t)hp->rt_objects;
    o.runtime_bytes = (uint64_t)hp->rt_bytes;
    o.runtime_heap_inuse = (uint64_t)hp->rt_inheap;
    o.runtime_stacks_inuse = (uint64_t)hp->rt_instacks;
  }
  return fill_sized(out, &o, sizeof o);
}

static int h_heap_span_get(sonde_host *h, uint64_t i, sonde_heap_span *out) {
  int bad = bad_out(h, out, "heap_span_get");
  if (bad) return bad;
  int heap_rc = SONDE_OK;
  const gr_heap *hp = heap_of(h, &heap_rc);
  if (!hp) return heap_rc;
  if (i >= hp->n)
    return svc_fail(h, SONDE_ENOTFOUND, "heap span %llu: the heap has %zu spans", (unsigned long long)i, (size_t)hp->n);
  const gr_span *s = &hp->spans[i];
  const gr_heap_type *ty = gr_heap_type_at(hp, s->large_type);
  sonde_heap_span o = {.struct_size = sizeof o, .sizeclass = s->sizeclass, .noscan = s->noscan, .swept = s->swept,
                       .base = s->base, .npages = s->npages, .elemsize = s->elemsize, .nelems = s->nelems,
                       .nalloc = s->nalloc, .resident_bytes = s->resident == GR_UNKNOWN ? SONDE_UNKNOWN : s->resident,
                       .type = !s->sizeclass && ty ? ty->name : NULL};
  return fill_sized(out, &o, sizeof o);
}

static int h_heap_type_get(sonde_host *h, uint64_t i, sonde_heap_type *out) {
  int bad = bad_out(h, out, "heap_type_get");
  if (bad) return bad;
  int heap_rc = SONDE_OK;
  const gr_heap *hp = heap_of(h, &heap_rc);
  if (!hp) return heap_rc;
  if (i >= hp->ntyped)
    return svc_fail(h, SONDE_ENOTFOUND, "heap type %llu: the heap has %zu type rows", (unsigned long long)i,
                    (size_t)hp->ntyped);
  const gr_heap_typed *r = &hp->typed[i];
  const gr_heap_type *ty = &hp->types[r->type];
  sonde_heap_type o = {.struct_size = sizeof o, .sizeclass = r->sizeclass, .named = ty->name != NULL,
                       .array = r->array, .name = hp->row_names[i], .type_addr = ty->addr, .type_size = ty->size,
                       .objects = r->objects, .bytes = r->bytes};
  return fill_sized(out, &o, sizeof o);
}

static int h_heap_find(sonde_host *h, uint64_t addr, uint64_t *span_index, uint64_t *object) {
  int heap_rc = SONDE_OK;
  const gr_heap *hp = heap_of(h, &heap_rc);
  if (!hp) return heap_rc;
  uint64_t obj;
  const gr_span *s = gr_heap_find(hp, addr, &obj);
  if (!s) return svc_fail(h, SONDE_ENOTFOUND, "heap_find: 0x%llx is in no heap slot", (unsigned long long)addr);
  if (span_index) *span_index = (uint64_t)(s - hp->spans);
  if (object) *object = obj;
  return SONDE_OK;
}

static int h_gc_cycle(sonde_host *h, uint64_t *out) {
  const plg_target *t = target_of(h);
  if (!t) return svc_fail(h, SONDE_ENOTARGET, "gc_cycle: this command has no target");
  if (!out) return svc_fail(h, SONDE_EINVAL, "gc_cycle: the out pointer is NULL");
  const gr_program *p = t->prog;
  uint64_t ms = p->globals.addr[GR_GLOBAL_MEMSTATS];
  if (!ms || !GR_HAS(&p->layout, MST_NUMGC))
    return svc_fail(h, SONDE_ENOTSUP, "gc_cycle: sonde cannot find runtime.memstats in this binary");
  uint32_t n;
  if (tgt_mem_read_live(t->mem, gr_rt(p, ms) + (uint64_t)GR_OFF(&p->layout, MST_NUMGC), &n, sizeof n) != 0) {
    se_clear();
    return svc_fail(h, SONDE_EFAULT, "gc_cycle: runtime.memstats is not readable");
  }
  *out = n;
  return SONDE_OK;
}

static int h_heap_refresh(sonde_host *h) {
  plg_target *t = h->p->target;
  if (!t) return svc_fail(h, SONDE_ENOTARGET, "heap_refresh: this command has no target");
  if (t->reread_heap) {
    if (t->reread_heap(t->reread_ctx) != 0) {
      int code = se_code();
      svc_fail(h, code == SE_NOPROC || code == SE_EXITED ? SONDE_ENOTARGET : SONDE_ERROR, "heap: %s", se_msg());
      se_clear();
      return code == SE_NOPROC || code == SE_EXITED ? SONDE_ENOTARGET : SONDE_ERROR;
    }
    return SONDE_OK;
  }
  int heap_rc = SONDE_OK;
  return heap_of(h, &heap_rc) ? SONDE_OK : heap_rc;
}

/* ---- waits and leaks (ABI 1.4) ---- */

/* sonde_goroutine.leak is the host's verdict + 1 */
_Static_assert(GR_LEAK_RUNS + 1 == SONDE_LEAK_RUNS && GR_LEAK_WOKEN + 1 == SONDE_LEAK_WOKEN &&
                   GR_LEAK_UNKNOWN + 1 == SONDE_LEAK_UNKNOWN && GR_LEAK_LEAKED + 1 == SONDE_LEAK_LEAKED &&
                   GR_LEAK_IDLE_MAIN + 1 == SONDE_LEAK_IDLE_MAIN,
               "leak verdicts");

static int h_wait_get(sonde_host *h, uint64_t gi, uint32_t wi, sonde_wait *out) {
  const plg_target *t = target_of(h);
  int bad = bad_out(h, out, "wait_get");
  if (bad) return bad;
  if (!t) return svc_fail(h, SONDE_ENOTARGET, "wait_get: this command has no target");
  if (!t->waits)
    return svc_fail(h, SONDE_ENOTSUP, "wait_get: the command was not declared with SONDE_CMD_NEEDS_WAITS, so the waits "
                                  "were not read during its stop");
  if (gi >= t->waits->n || wi >= t->waits->ncases[gi]) return svc_fail(h, SONDE_ENOTFOUND, "wait_get: goroutine index %llu has no wait %u", (unsigned long long)gi, wi);
  const gr_chanwait *cw = &t->waits->cases[gi][wi];
  sonde_wait o = {.struct_size = sizeof o, .select = cw->select};
  if (cw->kind == GR_WAIT_CHAN) {
    const gr_chan *ch = &t->waits->chans[cw->chan];
    o.kind = SONDE_WAIT_CHAN;
    o.addr = ch->addr;
    o.dir = cw->dir == GR_DIR_SEND ? SONDE_DIR_SEND : cw->dir == GR_DIR_RECV ? SONDE_DIR_RECV : SONDE_DIR_UNKNOWN;
    o.elem_type = ch->elem;
    o.cap = ch->cap;
    o.len = ch->len;
    o.closed = ch->closed;
  } else {
    o.kind = cw->kind == GR_WAIT_COND ? SONDE_WAIT_COND : SONDE_WAIT_SEMA;
    o.addr = cw->sema;
  }
  uint64_t obj;
  if (t->heap && gr_heap_find(t->heap, o.addr, &obj)) o.object = obj;
  return fill_sized(out, &o, sizeof o);
}

static const gr_reach *reach_of(sonde_host *h, const char *what, int *rc) {
  const plg_target *t = target_of(h);
  if (!t) {
    *rc = svc_fail(h, SONDE_ENOTARGET, "%s: this command has no target", what);
    return NULL;
  }
  if (!t->reach)
    *rc = svc_fail(h, SONDE_ENOTSUP, "%s: the command was not declared with SONDE_CMD_NEEDS_LEAKS, so no leak analysis ran "
                           "during its stop", what);
  return t->reach;
}

static int h_leak_info(sonde_host *h, sonde_leak_info *out) {
  int bad = bad_out(h, out, "leak_info");
  if (bad) return bad;
  int reach_rc = SONDE_OK;
  const gr_reach *r = reach_of(h, "leak_info", &reach_rc);
  if (!r) return reach_rc;
  sonde_leak_info o = {.struct_size = sizeof o,
                       .complete = r->complete,
                       .incomplete = r->incomplete,
                       .parked = r->nparked,
                       .leaked = r->nleaked,
                       .unknown = r->nunknown + r->nundecided, /* both: never called leaked */
                       .groups = r->ngroups,
                       .groups_complete = r->groups_complete,
                       .conservative = 1,
                       .objects_marked = r->objects_marked,
                       .bytes_scanned = r->bytes_scanned,
                       .root_bytes = r->root_bytes,
                       .analysis_ns = target_of(h)->reach_ns,
                       .stopped_ns = target_of(h)->stop_ns};
  return fill_sized(out, &o, sizeof o);
}

static int h_reach_get(sonde_host *h, uint64_t gi, uint32_t i, uint64_t *out) {
  if (!out) return svc_fail(h, SONDE_EINVAL, "reach_get: the out pointer is NULL");
  int reach_rc = SONDE_OK;
  const gr_reach *r = reach_of(h, "reach_get", &reach_rc);
  if (!r) return reach_rc;
  if (gi >= r->n || i >= r->nreaches[gi]) return svc_fail(h, SONDE_ENOTFOUND, "reach_get: goroutine index %llu has no reach %u", (unsigned long long)gi, i);
  *out = r->reaches[gi][i];
  return SONDE_OK;
}

static const sonde_host_api k_api = {
    .struct_size = sizeof(sonde_host_api),
    .abi_version = SONDE_ABI_VERSION,
    .host_version = SONDE_VERSION,
    .alloc = h_alloc,
    .free = h_free,
    .message = h_log,
    .fail = fail,
    .config_get = h_config_get,
    .target_info = h_target_info,
    .read_memory = h_read_memory,
    .goroutine_count = h_goroutine_count,
    .goroutine_get = h_goroutine_get,
    .frame_get = h_frame_get,
    .creator_get = h_creator_get,
    .symbolize = h_symbolize,
    .layout_field = h_layout_field,
    .write_out = h_write_out,
    .open_output = h_open_output,
    .breakpoint_set = h_breakpoint_set,
    .breakpoint_clear = h_breakpoint_clear,
    .hit_goroutine_get = h_hit_goroutine_get,
    .hit_frame_get = h_hit_frame_get,
    .command_every = h_command_every,
    .heap_info = h_heap_info,
    .heap_span_get = h_heap_span_get,
    .heap_type_get = h_heap_type_get,
    .heap_find = h_heap_find,
    .gc_cycle = h_gc_cycle,
    .heap_refresh = h_heap_refresh,
    .wait_get = h_wait_get,
    .leak_info = h_leak_info,
    .reach_get = h_reach_get,
    .last_error = h_last_error,
    .vmessage = h_vlog,
    .vfail = vfail,
    .report_found = h_report_found,
};

const sonde_host_api *plg_host_api(void) { return &k_api; }

void plg_services_reset(plg_plugin *p) {
  for (size_t i = 0; i < p->nstrings; i++) free(p->strings[i]);
  free(p->strings);
  p->strings = NULL;
  p->nstrings = 0;
}
