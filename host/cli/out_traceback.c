/* out_traceback.c: goroutines in Go's own traceback format.
 *
 * Mirrors runtime/traceback.go: goroutineheader, traceback2's frame lines,
 * printcreatedby1. What differs on purpose: arguments print as "(...)"
 * (sonde does not decode them), and --group adds a count and ids. */
#include <stdio.h>
#include <string.h>

#include "base/error.h"
#include "base/text.h"
#include "cli/cli.h"
#include "goruntime/symbolize.h"

/* runtime/print.go printquoted. Go 1.26 prints an invalid byte as \ufffd,
 * 1.27 as \xNN. */
static void go_quote(strbuf *b, const char *str, size_t len, bool invalid_as_hex) {
  const unsigned char *s = (const unsigned char *)str;
  sb_putc(b, '"');
  for (size_t i = 0; i < len;) {
    size_t n;
    uint32_t r = sonde_utf8_decode(s + i, len - i, &n);
    if (r == '\n') sb_puts(b, "\\n");
    else if (r == '\r') sb_puts(b, "\\r");
    else if (r == '\t') sb_puts(b, "\\t");
    else if (r == '\\' || r == '"') {
      sb_putc(b, '\\');
      sb_putc(b, (char)r);
    } else if (r == 0xfffd && n == 1 && invalid_as_hex) sb_printf(b, "\\x%02x", s[i]);
    else if (r >= ' ' && r <= '~') sb_putc(b, (char)r);
    else if (r < 127) sb_printf(b, "\\x%02x", (unsigned)r);
    else if (r < 0x10000) sb_printf(b, "\\u%04x", (unsigned)r);
    else sb_printf(b, "\\U%08x", (unsigned)r);
    i += n;
  }
  sb_putc(b, '"');
}

/* runtime/traceback.go tracebackStringNeedsQuoting (1.27) */
static bool needs_quoting(const char *s, size_t len) {
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)s[i];
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '/' ||
          c == '_'))
      return true;
  }
  return false;
}

/* pprof labels as the target's own traceback shows them (Go 1.26+ with
 * GODEBUG tracebacklabels=1): 1.26 inside the brackets, 1.27 after them. */
static void labels(strbuf *b, const ses_target *t, const gr_goroutine *g, int format) {
  if (!g->nlabels || !t->prog.tracebacklabels || t->prog.style.labels_format != format) return;
  sb_puts(b, format == 126 ? " labels:{" : " {");
  for (uint32_t i = 0; i < g->nlabels; i++) {
    const gr_label *l = &g->labels[i];
    const char *str[2] = {l->key, l->value};
    uint32_t len[2] = {l->klen, l->vlen};
    for (int k = 0; k < 2; k++) {
      if (format == 126 || needs_quoting(str[k], len[k])) go_quote(b, str[k], len[k], format != 126);
      else sb_putn(b, str[k], len[k]);
      if (k == 0) sb_puts(b, ": ");
    }
    if (i + 1 < g->nlabels) sb_puts(b, ", ");
  }
  sb_putc(b, '}');
}

/* show_labels is off for --group: members may carry different labels. */
static void header(strbuf *b, const ses_target *t, const gr_goroutine *g, bool show_labels) {
  const gr_program *p = &t->prog;
  sb_puts(b, gr_status_text(p, g));
  if (g->status == GR_GLEAKED) sb_puts(b, " (leaked)");
  if (g->scan) sb_puts(b, " (scan)");
  int64_t minutes = gr_wait_minutes(&t->snap, g);
  if (minutes >= 1) {
    sb_puts(b, ", ");
    sb_put_u64(b, (uint64_t)minutes);
    sb_puts(b, " minutes");
  }
  if (g->lockedm) sb_puts(b, ", locked to thread");
  if (show_labels) labels(b, t, g, 126);
}

static void frame_line(strbuf *b, const gr_frame *f, bool created_by, uint64_t parent, bool style_in_goroutine) {
  const char *name = f->print;
  if (created_by) {
    sb_puts(b, "created by ");
    sb_puts(b, name);
    if (style_in_goroutine && parent) {
      sb_puts(b, " in goroutine ");
      sb_put_u64(b, parent);
    }
    sb_putc(b, '\n');
  } else {
    sb_puts(b, name);
    sb_puts(b, "(...)\n");
  }
  sb_putc(b, '\t');
  sb_puts(b, f->file);
  sb_putc(b, ':');
  sb_put_u64(b, (uint64_t)(f->line < 0 ? 0 : f->line));
  if (!f->inlined && f->pc > f->entry) {
    sb_puts(b, " +");
    sb_put_hex(b, f->pc - f->entry);
  }
  sb_putc(b, '\n');
}

static void stack(strbuf *b, const ses_target *t, const gr_goroutine *g, const gr_trace *tr) {
  for (size_t i = 0; i < tr->n; i++) {
    if (tr->elided && i == tr->elide_at) {
      sb_puts(b, "...");
      sb_put_u64(b, tr->elided);
      sb_puts(b, " frames elided...\n");
    }
    frame_line(b, &tr->frames[i], false, 0, false);
  }
  if (tr->elided_tail) sb_puts(b, "...additional frames elided...\n");
  if (g->end != GR_UNWIND_COMPLETE && g->end != GR_UNWIND_SPWRITE) {
    sb_puts(b, "...stack unwinding stopped: ");
    sb_puts(b, gr_unwind_end_str(g->end));
    sb_puts(b, "...\n");
  }
  if (tr->has_creator) frame_line(b, &tr->creator, true, g->parent_goid, t->prog.style.created_by_goroutine);
}

enum { FLUSH_AT = 1 << 20, MAX_IDS_SHOWN = 32 };

int out_traceback(const ses_target *t, const out_opts *o, FILE *f) {
  (void)o->all_frames; /* the model was resolved for it (ses_target.all_frames) */
  strbuf b;
  sb_init(&b);
  int rc = 0;
  if (!o->group) {
    for (size_t i = 0; i < t->snap.n && rc == 0; i++) {
      const gr_goroutine *g = &t->snap.gs[i];
      const gr_trace *tr = gr_trace_of(&t->snap, i);
      if (!tr) {
        rc = se_set(SE_ERR, "goroutine %llu was not resolved", (unsigned long long)g->goid);
        break;
      }
      if (i) sb_putc(&b, '\n');
      sb_puts(&b, "goroutine ");
      sb_put_u64(&b, g->goid);
      sb_puts(&b, " [");
      header(&b, t, g, true);
      sb_putc(&b, ']');
      labels(&b, t, g, 127);
      sb_puts(&b, ":\n");
      stack(&b, t, g, tr);
      if (b.len > FLUSH_AT) rc = sb_flush(&b, f);
    }
  } else {
    cli_groups gs;
    rc = cli_make_groups(t, &gs);
    for (size_t k = 0; k < gs.n && rc == 0; k++) {
      const cli_group *grp = &gs.g[k];
      const gr_goroutine *g = &t->snap.gs[grp->members[0]];
      const gr_trace *tr = gr_trace_of(&t->snap, grp->members[0]);
      if (!tr) {
        rc = se_set(SE_ERR, "goroutine %llu was not resolved", (unsigned long long)g->goid);
        break;
      }
      if (k) sb_putc(&b, '\n');
      sb_put_u64(&b, grp->n);
      sb_puts(&b, grp->n == 1 ? " goroutine [" : " goroutines [");
      header(&b, t, g, false);
      sb_puts(&b, "]: ");
      for (size_t j = 0; j < grp->n && j < MAX_IDS_SHOWN; j++) {
        if (j) sb_putc(&b, ' ');
        sb_put_u64(&b, t->snap.gs[grp->members[j]].goid);
      }
      if (grp->n > MAX_IDS_SHOWN) sb_printf(&b, " ... (%zu more; --json lists all)", grp->n - MAX_IDS_SHOWN);
      sb_putc(&b, '\n');
      stack(&b, t, g, tr);
      if (b.len > FLUSH_AT) rc = sb_flush(&b, f);
    }
    cli_free_groups(&gs);
  }
  if (rc == 0) rc = sb_flush(&b, f);
  sb_free(&b);
  return rc;
}
