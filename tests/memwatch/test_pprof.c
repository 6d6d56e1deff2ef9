/* test_pprof.c: memwatch's pprof output (plugins/memwatch/pprof.c): the file
 * reads back as the profile.proto we meant, `go tool pprof` shows and diffs
 * it by type, and a failed write leaves nothing behind.
 *
 * Not on tests/unit/unit.h: that one pulls in host/ (goruntime), and a
 * plugin's code and its tests see plugin-api/ only.
 *   test_memwatch_pprof [GO [GOCACHE]]   GO defaults to /usr/lib/go-1.27/bin/go;
 *   GOCACHE keeps the pprof tool that `go tool pprof` builds on first use
 *   (two minutes) between runs; by default it goes with the test's temp dir. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <zlib.h>

#include "mw.h"
#include "profile.pb-c.h"

typedef Perftools__Profiles__Profile pb_profile;

static const char *go_bin = "/usr/lib/go-1.27/bin/go";
static const char *go_cache; /* NULL: <temp dir>/gocache */

/* ---- a snapshot made by hand ---------------------------------------------- */

typedef struct {
  const char *name; /* NULL: untyped */
  uint32_t sizeclass;
  uint64_t object_size, objects, bytes;
  /* what pprof must show */
  const char *label, *frame, *cls;
} row_want;

static const row_want rows[] = {
    {"main.rec", 27, 640, 3000, 3000 * 640, "main.rec", "size class 27 (640 B)", "27"},
    {"[]*int64", 27, 640, 100, 100 * 640, "[]*int64", "size class 27 (640 B)", "27"},
    {NULL, 3, 24, 20000, 20000 * 24, "class 3 (24 B)", "size class 3 (24 B)", "3"},
    {"*main.node", 3, 24, 500, 500 * 24, "*main.node", "size class 3 (24 B)", "3"},
    {NULL, 0, 40960, 30, 30 * 40960, "large objects", "size class 0 (large objects)", "0"},
    {"main.gone", 5, 48, 0, 0, NULL, NULL, NULL}, /* nothing live: no sample */
};
enum { NROWS = sizeof rows / sizeof rows[0], NSAMPLES = NROWS - 1 };

/* rows, with main.rec's objects grown by extra_rec */
static void make_snap(mw_snap *s, uint64_t extra_rec) {
  mw_snap_init(s);
  s->pid = 123;
  s->exe = mw_snap_str(s, "/srv/app");
  s->go_version = mw_snap_str(s, "go1.27.4");
  s->unix_ns = 1700000000123456789LL;
  s->gc_cycle = 12;
  s->has_types = true;
  assert_non_null(s->exe);
  assert_non_null(s->go_version);
  for (size_t i = 0; i < NROWS; i++) {
    const row_want *w = &rows[i];
    uint64_t extra = w->name && !strcmp(w->name, "main.rec") ? extra_rec : 0;
    assert_int_equal(mw_snap_add_row(s, w->name, w->sizeclass, w->object_size, w->objects + extra,
                                     w->bytes + extra * w->object_size),
                     0);
    s->objects += w->objects + extra;
    s->bytes += w->bytes + extra * w->object_size;
  }
}

/* ---- temp dirs ------------------------------------------------------------ */

static void make_tmpdir(char *dir, size_t n) {
  snprintf(dir, n, "%s/memwatch-pprof-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
  if (!mkdtemp(dir)) fail_msg("mkdtemp %s: %s", dir, strerror(errno));
}

static int rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw) {
  (void)sb;
  (void)ftw;
  return flag == FTW_DP ? rmdir(p) : unlink(p);
}

static void rm_tree(const char *dir) {
  if (nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS) != 0) fail_msg("cannot remove %s: %s", dir, strerror(errno));
}

/* The names in dir other than . and .., joined by spaces, in buf. */
static size_t list_dir(const char *dir, char *buf, size_t n) {
  DIR *d = opendir(dir);
  if (!d) fail_msg("opendir %s: %s", dir, strerror(errno));
  size_t count = 0;
  buf[0] = '\0';
  for (struct dirent *e; (e = readdir(d));) {
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
    count++;
    size_t len = strlen(buf);
    snprintf(buf + len, n - len, "%s%s", len ? " " : "", e->d_name);
  }
  closedir(d);
  return count;
}

static void write_snap(const mw_snap *s, const char *path) {
  char err[512] = "";
  if (mw_pprof_write(s, path, err, sizeof err) != 0) fail_msg("mw_pprof_write %s: %s", path, err);
}

/* ---- reading a profile back ----------------------------------------------- */

/* path, gunzipped: the file must be gzip, as go tool pprof expects. */
static uint8_t *gunzip_file(const char *path, size_t *out_n) {
  FILE *f = fopen(path, "rb");
  if (!f) fail_msg("cannot open %s: %s", path, strerror(errno));
  size_t cap = 1 << 16, n = 0;
  uint8_t *gz = malloc(cap);
  assert_non_null(gz);
  for (size_t k; (k = fread(gz + n, 1, cap - n, f)) > 0;) {
    n += k;
    if (n == cap) {
      gz = realloc(gz, cap *= 2);
      assert_non_null(gz);
    }
  }
  fclose(f);
  if (n < 2 || gz[0] != 0x1f || gz[1] != 0x8b) fail_msg("%s is not gzip (first bytes not 1f 8b)", path);

  z_stream zs;
  memset(&zs, 0, sizeof zs);
  assert_int_equal(inflateInit2(&zs, 15 + 16), Z_OK); /* gzip only, not zlib or raw */
  size_t rcap = 1 << 16;
  uint8_t *raw = malloc(rcap);
  assert_non_null(raw);
  zs.next_in = gz;
  zs.avail_in = (uInt)n;
  int zrc;
  do {
    if (zs.total_out == rcap) {
      raw = realloc(raw, rcap *= 2);
      assert_non_null(raw);
    }
    zs.next_out = raw + zs.total_out;
    zs.avail_out = (uInt)(rcap - zs.total_out);
    zrc = inflate(&zs, Z_NO_FLUSH);
    if (zrc != Z_OK && zrc != Z_STREAM_END) fail_msg("%s: bad gzip: %s", path, zs.msg ? zs.msg : zError(zrc));
  } while (zrc != Z_STREAM_END);
  if (zs.avail_in != 0) fail_msg("%s: %u bytes after the gzip stream", path, zs.avail_in);
  *out_n = zs.total_out;
  inflateEnd(&zs);
  free(gz);
  return raw;
}

static pb_profile *read_profile(const char *path) {
  size_t n;
  uint8_t *raw = gunzip_file(path, &n);
  pb_profile *p = perftools__profiles__profile__unpack(NULL, n, raw);
  free(raw);
  if (!p) fail_msg("%s does not unpack as a perftools.profiles.Profile", path);
  return p;
}

static const char *str_at(const pb_profile *p, int64_t i) {
  if (i < 0 || (size_t)i >= p->n_string_table) fail_msg("string index %lld outside the table of %zu", (long long)i,
                                                        p->n_string_table);
  return p->string_table[i];
}

/* The function name of location id, checking that it and its function exist. */
static const char *frame_name(const pb_profile *p, uint64_t id) {
  for (size_t i = 0; i < p->n_location; i++) {
    const Perftools__Profiles__Location *l = p->location[i];
    if (l->id != id) continue;
    if (l->n_line != 1) fail_msg("location %llu has %zu lines, expected 1", (unsigned long long)id, l->n_line);
    for (size_t j = 0; j < p->n_function; j++)
      if (p->function[j]->id == l->line[0]->function_id) {
        const Perftools__Profiles__Function *fn = p->function[j];
        assert_string_equal(str_at(p, fn->name), str_at(p, fn->system_name));
        assert_string_equal(str_at(p, fn->filename), "");
        return str_at(p, fn->name);
      }
    fail_msg("location %llu names function %llu, which does not exist", (unsigned long long)id,
             (unsigned long long)l->line[0]->function_id);
  }
  fail_msg("a sample names location %llu, which does not exist", (unsigned long long)id);
  return NULL;
}

/* Location and function ids are nonzero and unique (pprof refuses the file
 * otherwise); every location is in the one mapping, which says it has
 * function names (pprof would try to symbolize it otherwise). */
static void assert_ids_unique(const pb_profile *p) {
  assert_int_equal(p->n_mapping, 1);
  assert_int_equal(p->mapping[0]->id, 1);
  assert_true(p->mapping[0]->has_functions);
  for (size_t i = 0; i < p->n_location; i++) {
    assert_true(p->location[i]->id != 0);
    assert_int_equal(p->location[i]->mapping_id, 1);
    for (size_t j = i + 1; j < p->n_location; j++) assert_true(p->location[i]->id != p->location[j]->id);
  }
  for (size_t i = 0; i < p->n_function; i++) {
    assert_true(p->function[i]->id != 0);
    for (size_t j = i + 1; j < p->n_function; j++) assert_true(p->function[i]->id != p->function[j]->id);
  }
}

static const row_want *want_for(const char *label) {
  for (size_t i = 0; i < NROWS; i++)
    if (rows[i].label && !strcmp(rows[i].label, label)) return &rows[i];
  fail_msg("a sample for \"%s\", which is no row of the snapshot", label);
  return NULL;
}

static void assert_sample(const pb_profile *p, const Perftools__Profiles__Sample *sm, bool *seen) {
  assert_int_equal(sm->n_location_id, 2);
  const row_want *w = want_for(frame_name(p, sm->location_id[0]));
  if (seen[w - rows]) fail_msg("two samples for %s", w->label);
  seen[w - rows] = true;
  assert_string_equal(frame_name(p, sm->location_id[1]), w->frame);
  assert_int_equal(sm->n_value, 2);
  assert_int_equal(sm->value[0], w->objects);
  assert_int_equal(sm->value[1], w->bytes);
  assert_int_equal(sm->n_label, 2);
  bool cls = false, size = false;
  for (size_t i = 0; i < sm->n_label; i++) {
    const Perftools__Profiles__Label *l = sm->label[i];
    const char *key = str_at(p, l->key);
    if (!strcmp(key, "class")) {
      cls = true;
      assert_string_equal(str_at(p, l->str), w->cls);
      assert_int_equal(l->num, 0);
    } else if (!strcmp(key, "object_size")) {
      size = true;
      assert_int_equal(l->str, 0);
      assert_int_equal(l->num, w->object_size);
      assert_string_equal(str_at(p, l->num_unit), "bytes");
    } else {
      fail_msg("%s: unexpected label \"%s\"", w->label, key);
    }
  }
  assert_true(cls && size);
}

/* ---- (a) the file, read back ---------------------------------------------- */

static void test_pprof_file_reads_back_as_one_sample_per_live_row(void **state) {
  (void)state;
  char dir[256], path[512];
  make_tmpdir(dir, sizeof dir);
  snprintf(path, sizeof path, "%s/heap.pb.gz", dir);
  mw_snap s;
  make_snap(&s, 0);
  write_snap(&s, path);
  mw_snap_free(&s);
  pb_profile *p = read_profile(path);

  assert_true(p->n_string_table > 0);
  assert_string_equal(p->string_table[0], "");
  assert_int_equal(p->n_sample_type, 2);
  assert_string_equal(str_at(p, p->sample_type[0]->type), "inuse_objects");
  assert_string_equal(str_at(p, p->sample_type[0]->unit), "count");
  assert_string_equal(str_at(p, p->sample_type[1]->type), "inuse_space");
  assert_string_equal(str_at(p, p->sample_type[1]->unit), "bytes");
  assert_string_equal(str_at(p, p->default_sample_type), "inuse_space");
  assert_non_null(p->period_type);
  assert_string_equal(str_at(p, p->period_type->type), "space");
  assert_string_equal(str_at(p, p->period_type->unit), "bytes");
  assert_int_equal(p->period, 1);
  assert_int_equal(p->time_nanos, 1700000000123456789LL);
  assert_true(p->n_comment >= 1);
  assert_string_equal(str_at(p, p->comment[0]), "sonde memwatch: pid 123 /srv/app go1.27.4 gc_cycle 12");

  assert_ids_unique(p);
  assert_int_equal(p->n_sample, NSAMPLES);
  bool seen[NROWS] = {false};
  for (size_t i = 0; i < p->n_sample; i++) assert_sample(p, p->sample[i], seen);
  /* one location per distinct name: 5 labels and 3 size classes */
  assert_int_equal(p->n_location, 8);
  assert_int_equal(p->n_function, 8);

  perftools__profiles__profile__free_unpacked(p, NULL);
  rm_tree(dir);
}

static void test_pprof_write_replaces_an_existing_file_whole(void **state) {
  (void)state;
  char dir[256], path[512], names[512];
  make_tmpdir(dir, sizeof dir);
  snprintf(path, sizeof path, "%s/heap.pb.gz", dir);
  mw_snap s;
  make_snap(&s, 0);
  write_snap(&s, path);
  mw_snap_free(&s);
  make_snap(&s, 1000);
  write_snap(&s, path);
  mw_snap_free(&s);
  pb_profile *p = read_profile(path);
  bool found = false;
  for (size_t i = 0; i < p->n_sample; i++)
    if (!strcmp(frame_name(p, p->sample[i]->location_id[0]), "main.rec")) {
      found = true;
      assert_int_equal(p->sample[i]->value[0], 4000);
    }
  assert_true(found);
  perftools__profiles__profile__free_unpacked(p, NULL);
  assert_int_equal(list_dir(dir, names, sizeof names), 1); /* no temporary file left */
  assert_string_equal(names, "heap.pb.gz");
  rm_tree(dir);
}

/* Thousands of types (the string table grows and rehashes), one type in two
 * size classes (one function, two samples), and a generic type's name longer
 * than any label buffer (whole, not cut). */
static void test_pprof_many_types_each_get_one_function(void **state) {
  (void)state;
  enum { NTYPES = 3000 };
  char dir[256], path[512], name[64];
  static char longname[2100];
  size_t len = 0;
  len += (size_t)snprintf(longname + len, sizeof longname - len, "main.G[");
  while (len < 2000) len += (size_t)snprintf(longname + len, sizeof longname - len, "map[string]");
  snprintf(longname + len, sizeof longname - len, "int]");
  make_tmpdir(dir, sizeof dir);
  snprintf(path, sizeof path, "%s/heap.pb.gz", dir);
  mw_snap s;
  mw_snap_init(&s);
  for (uint32_t i = 0; i < NTYPES; i++) {
    snprintf(name, sizeof name, "main.t%u", i);
    assert_int_equal(mw_snap_add_row(&s, name, 1 + i % 60, 8u * (1 + i % 60), i + 1, (i + 1) * 8u * (1 + i % 60)), 0);
  }
  assert_int_equal(mw_snap_add_row(&s, "[]*int64", 3, 24, 7, 7 * 24), 0);
  assert_int_equal(mw_snap_add_row(&s, "[]*int64", 27, 216, 9, 9 * 216), 0); /* class N is 8N bytes here */
  assert_int_equal(mw_snap_add_row(&s, longname, 0, 81920, 1, 81920), 0);
  write_snap(&s, path);
  mw_snap_free(&s);

  pb_profile *p = read_profile(path);
  assert_int_equal(p->n_sample, NTYPES + 3);
  /* NTYPES + "[]*int64" + the long name; 60 size classes, 0 among them */
  assert_int_equal(p->n_location, NTYPES + 2 + 61);
  assert_int_equal(p->n_function, NTYPES + 2 + 61);
  assert_ids_unique(p);
  for (size_t i = 1; i < p->n_string_table; i++)
    for (size_t j = i + 1; j < p->n_string_table; j++)
      if (!strcmp(p->string_table[i], p->string_table[j]))
        fail_msg("\"%s\" twice in the string table", p->string_table[i]);
  size_t ints = 0, longs = 0;
  for (size_t i = 0; i < p->n_sample; i++) {
    const char *label = frame_name(p, p->sample[i]->location_id[0]);
    if (!strcmp(label, "[]*int64")) ints++;
    if (!strcmp(label, longname)) longs++;
  }
  assert_int_equal(ints, 2);
  assert_int_equal(longs, 1);
  perftools__profiles__profile__free_unpacked(p, NULL);
  rm_tree(dir);
}

/* ---- (b) go tool pprof ------------------------------------------------------ */

/* `go tool pprof ARGS` with its output in out; fails the test unless it exits 0. */
static void run_pprof(const char *home, const char *args, char *out, size_t n) {
  char cache[600], cmd[4096];
  if (go_cache) snprintf(cache, sizeof cache, "%s", go_cache);
  else snprintf(cache, sizeof cache, "%s/gocache", home);
  /* a HOME of our own: pprof keeps its history and downloads under it */
  snprintf(cmd, sizeof cmd,
           "env GOTOOLCHAIN=local GOFLAGS=-mod=mod GOPROXY=off GOENV=off HOME='%s' GOCACHE='%s' '%s' tool pprof %s "
           "2>&1",
           home, cache, go_bin, args);
  FILE *f = popen(cmd, "r");
  if (!f) fail_msg("popen %s: %s", cmd, strerror(errno));
  size_t len = fread(out, 1, n - 1, f);
  out[len] = '\0';
  while (fgetc(f) != EOF) {
  }
  int st = pclose(f);
  printf("$ go tool pprof %s\n%s", args, out);
  if (st == -1 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) fail_msg("go tool pprof %s: exit status %d", args, st);
}

/* The flat value of the -top line whose name is exactly name; fails when none. */
static long long top_flat(const char *out, const char *name) {
  size_t nl = strlen(name);
  for (const char *line = out; *line;) {
    const char *end = strchr(line, '\n');
    if (!end) end = line + strlen(line);
    size_t len = (size_t)(end - line);
    if (len > nl + 1 && line[len - nl - 1] == ' ' && !memcmp(end - nl, name, nl)) {
      char *after;
      long long v = strtoll(line, &after, 10);
      if (after == line || *after != ' ') fail_msg("no flat number in: %.*s", (int)len, line);
      return v;
    }
    line = *end ? end + 1 : end;
  }
  fail_msg("no line for %s in go tool pprof's output", name);
  return 0;
}

static void test_go_tool_pprof_top_and_diff_base_show_types(void **state) {
  (void)state;
  if (access(go_bin, X_OK) != 0) {
    printf("note: no Go toolchain at %s: the go tool pprof part is skipped\n", go_bin);
    skip();
  }
  char dir[256], a[512], b[512], args[1200];
  static char out[1 << 16];
  make_tmpdir(dir, sizeof dir);
  snprintf(a, sizeof a, "%s/a.pb.gz", dir);
  snprintf(b, sizeof b, "%s/b.pb.gz", dir);
  mw_snap s;
  make_snap(&s, 0);
  write_snap(&s, a);
  mw_snap_free(&s);
  make_snap(&s, 1000);
  write_snap(&s, b);
  mw_snap_free(&s);

  snprintf(args, sizeof args, "-top -sample_index=inuse_objects '%s'", a);
  run_pprof(dir, args, out, sizeof out);
  assert_int_equal(top_flat(out, "main.rec"), 3000);
  assert_int_equal(top_flat(out, "class 3 (24 B)"), 20000);
  assert_int_equal(top_flat(out, "size class 27 (640 B)"), 0); /* a size class is cum only */
  assert_null(strstr(out, "Main binary filename not available")); /* nothing to symbolize */
  /* pprof drops nodes under 0.5% of the total by default; all rows show without that */
  snprintf(args, sizeof args, "-top -sample_index=inuse_objects -nodefraction=0 '%s'", a);
  run_pprof(dir, args, out, sizeof out);
  assert_int_equal(top_flat(out, "large objects"), 30);
  assert_int_equal(top_flat(out, "[]*int64"), 100);

  snprintf(args, sizeof args, "-top -sample_index=inuse_objects -diff_base '%s' '%s'", a, b);
  run_pprof(dir, args, out, sizeof out);
  assert_int_equal(top_flat(out, "main.rec"), 1000);

  snprintf(args, sizeof args, "-comments '%s'", a);
  run_pprof(dir, args, out, sizeof out);
  assert_non_null(strstr(out, "sonde memwatch: pid 123 /srv/app go1.27.4 gc_cycle 12"));
  rm_tree(dir);
}

/* ---- (c) failures ------------------------------------------------------------ */

static void test_pprof_write_to_missing_dir_fails_naming_the_path(void **state) {
  (void)state;
  const char *path = "/nonexistent-dir/x.pb.gz";
  char err[512] = "";
  mw_snap s;
  make_snap(&s, 0);
  assert_int_equal(mw_pprof_write(&s, path, err, sizeof err), -1);
  mw_snap_free(&s);
  printf("err: %s\n", err);
  assert_non_null(strstr(err, path));
  assert_non_null(strstr(err, strerror(ENOENT)));
  struct stat st;
  assert_int_equal(stat(path, &st), -1);
}

/* A count beyond pprof's int64 values (a corrupt snapshot file) is refused,
 * not wrapped to a negative number; no file is made. */
static void test_pprof_write_refuses_counts_beyond_int64(void **state) {
  (void)state;
  char dir[256], path[512], err[512] = "", names[512];
  make_tmpdir(dir, sizeof dir);
  snprintf(path, sizeof path, "%s/heap.pb.gz", dir);
  mw_snap s;
  make_snap(&s, 0);
  assert_int_equal(mw_snap_add_row(&s, "main.huge", 27, 640, UINT64_MAX, 640), 0);
  assert_int_equal(mw_pprof_write(&s, path, err, sizeof err), -1);
  mw_snap_free(&s);
  printf("err: %s\n", err);
  assert_non_null(strstr(err, path));
  assert_non_null(strstr(err, "main.huge"));
  assert_int_equal(list_dir(dir, names, sizeof names), 0);
  rm_tree(dir);
}

/* A write that fails halfway (the file-size limit, as a full disk would) leaves
 * the old file as it was and no temporary file beside it. */
static void test_pprof_write_failing_halfway_keeps_the_old_file(void **state) {
  (void)state;
  char dir[256], path[512], err[512] = "", names[512];
  make_tmpdir(dir, sizeof dir);
  snprintf(path, sizeof path, "%s/heap.pb.gz", dir);
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fputs("old", f);
  assert_int_equal(fclose(f), 0);

  mw_snap s;
  make_snap(&s, 0);
  struct rlimit old, small = {64, 0};
  assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
  small.rlim_max = old.rlim_max;
  void (*oldsig)(int) = signal(SIGXFSZ, SIG_IGN); /* EFBIG instead of the signal */
  assert_int_equal(setrlimit(RLIMIT_FSIZE, &small), 0);
  int rc = mw_pprof_write(&s, path, err, sizeof err);
  assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
  signal(SIGXFSZ, oldsig);
  mw_snap_free(&s);

  printf("err: %s\n", err);
  assert_int_equal(rc, -1);
  assert_non_null(strstr(err, path));
  assert_non_null(strstr(err, strerror(EFBIG)));
  assert_int_equal(list_dir(dir, names, sizeof names), 1);
  assert_string_equal(names, "heap.pb.gz");
  char buf[16] = "";
  f = fopen(path, "r");
  assert_non_null(f);
  assert_non_null(fgets(buf, sizeof buf, f));
  fclose(f);
  assert_string_equal(buf, "old");
  rm_tree(dir);
}

/* A path that is a pipe (or /dev/stdout) is written to, not replaced by a
 * regular file: renaming over it would take the reader's pipe away. */
static void test_pprof_write_to_a_fifo_writes_through_it(void **state) {
  (void)state;
  char dir[256], fifo[512], copy[512], err[512] = "";
  make_tmpdir(dir, sizeof dir);
  snprintf(fifo, sizeof fifo, "%s/heap.pb.gz", dir);
  snprintf(copy, sizeof copy, "%s/copy.pb.gz", dir);
  assert_int_equal(mkfifo(fifo, 0600), 0);
  fflush(NULL);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) { /* the reader: the fifo's bytes to copy */
    FILE *in = fopen(fifo, "rb"), *out = fopen(copy, "wb");
    if (!in || !out) _exit(1);
    for (int c; (c = fgetc(in)) != EOF;) fputc(c, out);
    _exit(fclose(out) == 0 ? 0 : 1);
  }
  mw_snap s;
  make_snap(&s, 0);
  int rc = mw_pprof_write(&s, fifo, err, sizeof err);
  mw_snap_free(&s);
  int st;
  assert_int_equal(waitpid(pid, &st, 0), pid);
  if (rc != 0) fail_msg("mw_pprof_write %s: %s", fifo, err);
  assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
  struct stat sb;
  assert_int_equal(lstat(fifo, &sb), 0);
  assert_true(S_ISFIFO(sb.st_mode));
  pb_profile *p = read_profile(copy);
  assert_int_equal(p->n_sample, NSAMPLES);
  perftools__profiles__profile__free_unpacked(p, NULL);
  rm_tree(dir);
}

int main(int argc, char **argv) {
  if (argc > 1) go_bin = argv[1];
  if (argc > 2) go_cache = argv[2];
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_pprof_file_reads_back_as_one_sample_per_live_row),
      cmocka_unit_test(test_pprof_write_replaces_an_existing_file_whole),
      cmocka_unit_test(test_pprof_many_types_each_get_one_function),
      cmocka_unit_test(test_go_tool_pprof_top_and_diff_base_show_types),
      cmocka_unit_test(test_pprof_write_to_missing_dir_fails_naming_the_path),
      cmocka_unit_test(test_pprof_write_refuses_counts_beyond_int64),
      cmocka_unit_test(test_pprof_write_failing_halfway_keeps_the_old_file),
      cmocka_unit_test(test_pprof_write_to_a_fifo_writes_through_it),
  };
  return cmocka_run_group_tests_name("memwatch_pprof", tests, NULL, NULL);
}
