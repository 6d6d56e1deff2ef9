/* layout.c: the field contract and its checker. */
#include "goruntime/layout.h"

#include <stdio.h>
#include <string.h>

#include "base/error.h"

static const gr_field_spec k_fields[GRL_COUNT_] = {
#define GR_FIELD_ROW_(id, st, path, size, types, flags) {st, path, types, size, flags},
    GR_LAYOUT_FIELDS(GR_FIELD_ROW_)
#undef GR_FIELD_ROW_
};

static const char *k_size_structs[GRL_SIZE_COUNT_] = {
#define GR_SIZE_ROW_(id, st, flags) st,
    GR_LAYOUT_SIZES(GR_SIZE_ROW_)
#undef GR_SIZE_ROW_
};

static const int k_size_flags[GRL_SIZE_COUNT_] = {
#define GR_SIZE_FLAGS_(id, st, flags) flags,
    GR_LAYOUT_SIZES(GR_SIZE_FLAGS_)
#undef GR_SIZE_FLAGS_
};

const gr_field_spec *gr_layout_spec(gr_field f) { return &k_fields[f]; }
const char *gr_layout_size_struct(gr_size s) { return k_size_structs[s]; }
int gr_layout_size_flags(gr_size s) { return k_size_flags[s]; }

void gr_layout_init(gr_layout *L) {
  memset(L, 0, sizeof *L);
  for (int i = 0; i < GRL_COUNT_; i++) L->off[i] = -1;
}

/* Does `name` end with one of the '|'-separated alternatives? */
static bool type_matches(const char *name, const char *alts) {
  size_t nl = strlen(name);
  while (*alts) {
    const char *bar = strchr(alts, '|');
    size_t al = bar ? (size_t)(bar - alts) : strlen(alts);
    if (al <= nl && !memcmp(name + nl - al, alts, al) && (al == nl || strchr("./", name[nl - al - 1])))
      return true;
    if (!bar) break;
    alts = bar + 1;
  }
  return false;
}

/* The size of struct `st` when the layout knows it, else 0. */
static uint64_t struct_size(const gr_layout *L, const char *st) {
  for (int i = 0; i < GRL_SIZE_COUNT_; i++)
    if (!strcmp(k_size_structs[i], st)) return L->size[i];
  return 0;
}

bool gr_layout_size_ok(gr_field f, uint64_t found) {
  uint64_t want = k_fields[f].size;
  if (want == GR_ANY_SIZE) return found > 0;
  return want ? found == want : found == 1 || found == 2 || found == 4 || found == 8;
}

int gr_layout_check(const gr_layout *L) {
  char msg[900] = "";
  size_t used = 0;
  int bad = 0;
  for (int i = 0; i < GRL_COUNT_; i++) {
    const gr_field_spec *s = &k_fields[i];
    char one[200] = "";
    if (L->off[i] < 0) {
      if (s->flags == LF_REQ) snprintf(one, sizeof one, "%s.%s is missing; ", s->st, s->path);
    } else if (!gr_layout_size_ok((gr_field)i, L->fsize[i])) {
      if (s->size)
        snprintf(one, sizeof one, "%s.%s is %llu bytes, expected %llu; ", s->st, s->path,
                 (unsigned long long)L->fsize[i], (unsigned long long)s->size);
      else
        snprintf(one, sizeof one, "%s.%s is %llu bytes, expected 1, 2, 4 or 8; ", s->st, s->path,
                 (unsigned long long)L->fsize[i]);
    } else if (struct_size(L, s->st) && (uint64_t)L->off[i] + L->fsize[i] > struct_size(L, s->st)) {
      snprintf(one, sizeof one, "%s.%s at offset %lld runs past the end of the %llu-byte struct; ", s->st, s->path,
               (long long)L->off[i], (unsigned long long)struct_size(L, s->st));
    } else if (L->ftype[i][0] && !type_matches(L->ftype[i], s->types)) {
      snprintf(one, sizeof one, "%s.%s has type %s, expected %s; ", s->st, s->path, L->ftype[i], s->types);
    }
    if (one[0]) {
      bad++;
      if (used + strlen(one) < sizeof msg) {
        strcpy(msg + used, one);
        used += strlen(one);
      }
    }
  }
  for (int i = 0; i < GRL_SIZE_COUNT_; i++)
    if (L->size[i] == 0 && k_size_flags[i] == LF_REQ) {
      bad++;
      char one[120];
      snprintf(one, sizeof one, "size of %s unknown; ", k_size_structs[i]);
      if (used + strlen(one) < sizeof msg) {
        strcpy(msg + used, one);
        used += strlen(one);
      }
    }
  if (!bad) return 0;
  if (used >= 2) msg[used - 2] = '\0';
  return se_set(SE_NOTGO, "the Go runtime's layout is not what sonde expects (%s): %s", L->source ? L->source : "?",
                msg);
}
