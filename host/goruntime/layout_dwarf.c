/* layout_dwarf.c: fills a gr_layout from the binary's DWARF with libdw.
 *
 * Go emits each runtime struct once, as a top-level DIE of some CU; we walk
 * the top level of every CU until all wanted structs are found, then resolve
 * each "a.b" field path through member DIEs. */
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/error.h"
#include "goruntime/layout.h"

/* at most one struct per contract entry, so add_want never drops one (a
 * fixed 16 dropped the 17th, silently: its fields read as absent) */
enum { MAX_STRUCTS = GRL_COUNT_ + GRL_SIZE_COUNT_, MAX_PATH_DEPTH = 4 };

typedef struct {
  const char *name;
  Dwarf_Die die;
  bool found;
} want_struct;

static int add_want(want_struct *w, int n, const char *name) {
  for (int i = 0; i < n; i++)
    if (!strcmp(w[i].name, name)) return n;
  if (n < MAX_STRUCTS) w[n++].name = name;
  return n;
}

/* Is `name` one of the '|'-separated alternatives in `alts`? */
static bool is_alternative(const char *alts, const char *name) {
  size_t nl = strlen(name);
  for (const char *a = alts;;) {
    const char *bar = strchr(a, '|');
    size_t al = bar ? (size_t)(bar - a) : strlen(a);
    if (al == nl && !memcmp(a, name, nl)) return true;
    if (!bar) return false;
    a = bar + 1;
  }
}

/* The wanted struct whose spec is `spec` (exact), or NULL. */
static want_struct *find_want(want_struct *w, int n, const char *spec) {
  for (int i = 0; i < n; i++)
    if (!strcmp(w[i].name, spec)) return &w[i];
  return NULL;
}

/* The wanted struct that a DIE named `name` is, or NULL. */
static want_struct *match_want(want_struct *w, int n, const char *name) {
  for (int i = 0; i < n; i++)
    if (is_alternative(w[i].name, name)) return &w[i];
  return NULL;
}

static bool type_of(Dwarf_Die *die, Dwarf_Die *out) {
  Dwarf_Attribute a;
  return dwarf_attr_integrate(die, DW_AT_type, &a) && dwarf_formref_die(&a, out);
}

/* Finds member `name` (length len) of struct `st`: offset, type DIE. */
static bool find_member(Dwarf_Die *st, const char *name, size_t len, uint64_t *off, Dwarf_Die *type) {
  Dwarf_Die child;
  if (dwarf_child(st, &child) != 0) return false;
  do {
    if (dwarf_tag(&child) != DW_TAG_member) continue;
    const char *n = dwarf_diename(&child);
    if (!n || strlen(n) != len || memcmp(n, name, len)) continue;
    Dwarf_Attribute a;
    Dwarf_Word w = 0;
    if (!dwarf_attr(&child, DW_AT_data_member_location, &a) || dwarf_formudata(&a, &w) != 0) return false;
    if (!type_of(&child, type)) return false;
    *off = w;
    return true;
  } while (dwarf_siblingof(&child, &child) == 0);
  return false;
}

static void resolve_path(Dwarf_Die *st, const char *path, gr_layout *L, int i) {
  Dwarf_Die cur = *st, type;
  uint64_t total = 0;
  const char *p = path;
  for (int depth = 0; depth < MAX_PATH_DEPTH; depth++) {
    const char *dot = strchr(p, '.');
    size_t len = dot ? (size_t)(dot - p) : strlen(p);
    uint64_t off;
    if (!find_member(&cur, p, len, &off, &type)) return;
    total += off;
    if (!dot) {
      Dwarf_Word sz;
      L->off[i] = (int64_t)total;
      L->fsize[i] = dwarf_aggregate_size(&type, &sz) == 0 ? sz : 0;
      const char *tn = dwarf_diename(&type);
      snprintf(L->ftype[i], sizeof L->ftype[i], "%s", tn ? tn : "");
      return;
    }
    /* Go names types with a typedef over the struct: look through it */
    for (int k = 0; k < 8 && dwarf_tag(&type) == DW_TAG_typedef; k++)
      if (!type_of(&type, &type)) return;
    cur = type;
    p = dot + 1;
  }
}

/* A path with alternatives ("Size_|size"): the first that resolves. */
static void resolve_field(Dwarf_Die *st, const char *paths, gr_layout *L, int i) {
  char one[128];
  for (const char *a = paths;;) {
    const char *bar = strchr(a, '|');
    size_t al = bar ? (size_t)(bar - a) : strlen(a);
    if (al < sizeof one) {
      memcpy(one, a, al);
      one[al] = '\0';
      resolve_path(st, one, L, i);
      if (L->off[i] >= 0) return;
    }
    if (!bar) return;
    a = bar + 1;
  }
}

int gr_layout_from_dwarf(const gr_image *img, gr_layout *L) {
  gr_layout_init(L);
  L->source = "DWARF";
  if (!img->has_dwarf)
    return se_set(SE_NOTGO, "%s has no DWARF (built with -ldflags=-w)", img->path);
  int fd = dup(img->fd);
  if (fd < 0) return se_set(SE_IO, "dup: cannot reopen %s", img->path);
  Dwarf *dw = dwarf_begin(fd, DWARF_C_READ);
  if (!dw) {
    close(fd);
    return se_set(SE_NOTGO, "cannot read the DWARF of %s: %s", img->path, dwarf_errmsg(-1));
  }
  want_struct want[MAX_STRUCTS] = {0};
  int nwant = 0;
  for (int i = 0; i < GRL_COUNT_; i++) nwant = add_want(want, nwant, gr_layout_spec((gr_field)i)->st);
  for (int i = 0; i < GRL_SIZE_COUNT_; i++) nwant = add_want(want, nwant, gr_layout_size_struct((gr_size)i));

  int nfound = 0;
  Dwarf_Off off = 0, next;
  size_t hsize;
  while (nfound < nwant && dwarf_nextcu(dw, off, &next, &hsize, NULL, NULL, NULL) == 0) {
    Dwarf_Die cu, child;
    if (dwarf_offdie(dw, off + hsize, &cu) && dwarf_child(&cu, &child) == 0) {
      do {
        int tag = dwarf_tag(&child);
        if (tag != DW_TAG_structure_type && tag != DW_TAG_variable) continue;
        const char *n = dwarf_diename(&child);
        if (!n) continue;
        /* a variable is wanted for its type, as "@name" */
        char vname[256];
        if (tag == DW_TAG_variable) {
          if (strncmp(n, "runtime.", 8) != 0) continue;
          snprintf(vname, sizeof vname, "@%s", n);
          n = vname;
        }
        want_struct *w = match_want(want, nwant, n);
        if (!w || w->found) continue;
        Dwarf_Die die = child;
        if (tag == DW_TAG_variable) {
          if (!type_of(&child, &die)) continue;
          for (int k = 0; k < 8 && dwarf_tag(&die) == DW_TAG_typedef; k++)
            if (!type_of(&die, &die)) break;
        }
        w->die = die;
        w->found = true;
        nfound++;
      } while (dwarf_siblingof(&child, &child) == 0);
    }
    off = next;
  }
  for (int i = 0; i < GRL_COUNT_; i++) {
    want_struct *w = find_want(want, nwant, gr_layout_spec((gr_field)i)->st);
    if (w && w->found) resolve_field(&w->die, gr_layout_spec((gr_field)i)->path, L, i);
  }
  for (int i = 0; i < GRL_SIZE_COUNT_; i++) {
    want_struct *w = find_want(want, nwant, gr_layout_size_struct((gr_size)i));
    Dwarf_Word sz;
    if (w && w->found && dwarf_aggregate_size(&w->die, &sz) == 0) L->size[i] = sz;
  }
  dwarf_end(dw);
  close(fd);
  return 0;
}
