/* out_json.c: --json for `sonde goroutines`. The schema is documented in
 * docs/json.md; fields are only ever added, never renamed. */
#include <stdio.h>

#include "base/error.h"
#include "base/json.h"
#include "cli/cli.h"
#include "goruntime/symbolize.h"

static void frame_obj(json_w *w, const gr_frame *f) {
  json_obj_begin(w);
  json_key(w, "function");
  json_str(w, f->print); /* as Go prints it (generic shapes as [...]), as the traceback does */
  json_key(w, "file");
  json_str(w, f->file);
  json_key(w, "line");
  json_i64(w, f->line);
  json_key(w, "pc");
  json_u64(w, f->pc);
  json_key(w, "inlined");
  json_bool(w, f->inlined);
  json_obj_end(w);
}

/* The fields every goroutine and every group share. */
static void state_fields(json_w *w, const ses_target *t, const gr_goroutine *g, const gr_trace *tr) {
  json_key(w, "status");
  json_str(w, gr_status_name(g->status));
  json_key(w, "wait_reason");
  json_str(w, gr_wait_reason_of(&t->prog, g));
  json_key(w, "wait_minutes");
  json_i64(w, gr_wait_minutes(&t->snap, g));
  json_key(w, "locked_to_thread");
  json_bool(w, g->lockedm != 0);
  json_key(w, "system");
  json_bool(w, g->system);
  json_key(w, "created_by");
  if (tr->has_creator) {
    json_obj_begin(w);
    json_key(w, "function");
    json_str(w, tr->creator.print);
    json_key(w, "file");
    json_str(w, tr->creator.file);
    json_key(w, "line");
    json_i64(w, tr->creator.line);
    json_key(w, "pc");
    json_u64(w, tr->creator.pc);
    json_obj_end(w);
  } else {
    json_null(w);
  }
  json_key(w, "frames");
  json_arr_begin(w);
  for (size_t i = 0; i < tr->n; i++) frame_obj(w, &tr->frames[i]);
  json_arr_end(w);
  json_key(w, "frames_elided");
  json_u64(w, tr->elided);
  json_key(w, "unwind");
  json_str(w, gr_unwind_end_str(g->end));
}

/* --waits: the channels goroutine i waits on, each case of a select apart. */
static void waits_field(json_w *w, const gr_waits *ws, size_t i) {
  json_key(w, "waiting_on");
  json_arr_begin(w);
  for (uint32_t k = 0; i < ws->n && k < ws->ncases[i]; k++) {
    const gr_chanwait *cw = &ws->cases[i][k];
    json_obj_begin(w);
    if (cw->kind != GR_WAIT_CHAN) { /* the primitive is the wait reason */
      json_key(w, "kind");
      json_str(w, cw->kind == GR_WAIT_COND ? "cond" : "sema");
      json_key(w, "addr");
      json_u64(w, cw->sema);
      json_obj_end(w);
      continue;
    }
    const gr_chan *ch = &ws->chans[cw->chan];
    json_key(w, "kind");
    json_str(w, "chan");
    json_key(w, "addr");
    json_u64(w, ch->addr);
    json_key(w, "dir");
    json_str(w, gr_dir_name(cw->dir));
    json_key(w, "select");
    json_bool(w, cw->select);
    json_key(w, "elem_type");
    if (ch->elem) json_str(w, ch->elem);
    else json_null(w);
    json_key(w, "cap");
    json_u64(w, ch->cap);
    json_key(w, "len");
    json_u64(w, ch->len);
    json_key(w, "closed");
    json_bool(w, ch->closed);
    json_obj_end(w);
  }
  json_arr_end(w);
}

enum { FLUSH_AT = 1 << 20 };

int out_json(const ses_target *t, const out_opts *o, FILE *f) {
  strbuf b;
  sb_init(&b);
  json_w w;
  json_init(&w, &b);
  int rc = 0;
  json_obj_begin(&w);
  json_key(&w, "pid");
  json_i64(&w, t->pid);
  json_key(&w, "go_version");
  json_str(&w, t->prog.bi.go_version);
  json_key(&w, "stopped_us"); /* how long the target was stopped */
  json_i64(&w, (int64_t)(t->stop_ms * 1000));
  if (!o->group) {
    json_key(&w, "goroutines");
    json_arr_begin(&w);
    for (size_t i = 0; i < t->snap.n && rc == 0; i++) {
      const gr_goroutine *g = &t->snap.gs[i];
      const gr_trace *tr = gr_trace_of(&t->snap, i);
      if (!tr) {
        rc = se_set(SE_ERR, "goroutine %llu was not resolved", (unsigned long long)g->goid);
        break;
      }
      json_obj_begin(&w);
      json_key(&w, "id");
      json_u64(&w, g->goid);
      json_key(&w, "parent_id");
      json_u64(&w, g->parent_goid);
      json_key(&w, "labels"); /* pprof labels, read on Go 1.24+ whatever GODEBUG says */
      json_obj_begin(&w);
      for (uint32_t k = 0; k < g->nlabels; k++) {
        json_strn(&w, g->labels[k].key, g->labels[k].klen);
        sb_putc(&b, ':');
        w.after_key = true;
        json_strn(&w, g->labels[k].value, g->labels[k].vlen);
      }
      json_obj_end(&w);
      state_fields(&w, t, g, tr);
      if (o->waits) waits_field(&w, o->waits, i);
      json_obj_end(&w);
      if (b.len > FLUSH_AT) rc = sb_flush(&b, f);
    }
    json_arr_end(&w);
  } else {
    cli_groups gs;
    rc = cli_make_groups(t, &gs);
    json_key(&w, "groups");
    json_arr_begin(&w);
    for (size_t k = 0; k < gs.n && rc == 0; k++) {
      const gr_goroutine *g = &t->snap.gs[gs.g[k].members[0]];
      const gr_trace *tr = gr_trace_of(&t->snap, gs.g[k].members[0]);
      if (!tr) {
        rc = se_set(SE_ERR, "goroutine %llu was not resolved", (unsigned long long)g->goid);
        break;
      }
      json_obj_begin(&w);
      json_key(&w, "count");
      json_u64(&w, gs.g[k].n);
      json_key(&w, "ids");
      json_arr_begin(&w);
      for (size_t j = 0; j < gs.g[k].n; j++) json_u64(&w, t->snap.gs[gs.g[k].members[j]].goid);
      json_arr_end(&w);
      state_fields(&w, t, g, tr);
      json_obj_end(&w);
      if (b.len > FLUSH_AT) rc = sb_flush(&b, f);
    }
    json_arr_end(&w);
    cli_free_groups(&gs);
  }
  json_obj_end(&w);
  sb_putc(&b, '\n');
  if (rc == 0) rc = sb_flush(&b, f);
  sb_free(&b);
  return rc;
}
