/* loader.c: the file checks, dlopen, the descriptor checks, and the guard
 * around every call into a plugin.
 *
 * The guard: SIGSEGV, SIGBUS, SIGFPE, SIGILL and SIGABRT raised while a
 * plugin's code runs jump back (siglongjmp) to the call site, which marks
 * the plugin crashed and disabled; outside a plugin they go on to sonde's
 * own crash handler (detach, then die). The handler runs on its own stack,
 * so a plugin that overflows its stack is caught too. */
#include "plugins/loader.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <limits.h>
#include <nettle/sha2.h>
#include <setjmp.h>
#include <signal.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/error.h"
#include "base/file.h"

/* ---- file checks ---------------------------------------------------------- */

enum { MAX_PLUGIN_BYTES = 256 << 20 };

/* The sha256 of an open file, as 64 lowercase hex digits. */
static int sha256_fd(int fd, char out[65]) {
  struct sha256_ctx ctx;
  sha256_init(&ctx);
  uint8_t buf[1 << 16];
  off_t off = 0;
  for (;;) {
    ssize_t r = pread(fd, buf, sizeof buf, off);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return se_set(SE_IO, "cannot read the plugin file: %s", strerror(errno));
    if (r == 0) break;
    sha256_update(&ctx, (size_t)r, buf);
    off += r;
  }
  uint8_t digest[SHA256_DIGEST_SIZE];
  sha256_digest(&ctx, sizeof digest, digest);
  for (size_t i = 0; i < sizeof digest; i++) snprintf(out + 2 * i, 3, "%02x", digest[i]);
  return 0;
}

static void copy_padded(char *dst, size_t cap, const char *src, size_t srclen) {
  size_t n = strnlen(src, srclen);
  if (n >= cap) n = cap - 1;
  memcpy(dst, src, n);
  dst[n] = '\0';
}

/* The plugin's ELF note, from an open file. SE_PLUGIN when it has none. */
static int read_note(int fd, const char *path, plg_note *out) {
  memset(out, 0, sizeof *out);
  elf_version(EV_CURRENT);
  Elf *e = elf_begin(fd, ELF_C_READ_MMAP, NULL);
  if (!e || elf_kind(e) != ELF_K_ELF) {
    if (e) elf_end(e);
    return se_set(SE_PLUGIN, "%s is not an ELF shared object", path);
  }
  GElf_Ehdr eh;
  int found = 0;
  if (!gelf_getehdr(e, &eh) || eh.e_type != ET_DYN || eh.e_machine != EM_X86_64) {
    elf_end(e);
    return se_set(SE_PLUGIN, "%s is not an x86-64 shared object (build it with -shared -fPIC)", path);
  }
  Elf_Scn *scn = NULL;
  while (!found && (scn = elf_nextscn(e, scn)) != NULL) {
    GElf_Shdr sh;
    if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_NOTE) continue;
    Elf_Data *d = elf_getdata(scn, NULL);
    if (!d) continue;
    size_t off = 0, name_off, desc_off;
    GElf_Nhdr nh;
    while ((off = gelf_getnote(d, off, &nh, &name_off, &desc_off)) > 0) {
      if (nh.n_type != SONDE_NOTE_TYPE || nh.n_namesz != sizeof SONDE_NOTE_NAME ||
          memcmp((const char *)d->d_buf + name_off, SONDE_NOTE_NAME, sizeof SONDE_NOTE_NAME) != 0)
        continue;
      if (nh.n_descsz < offsetof(sonde_note_desc, version)) continue;
      sonde_note_desc desc;
      memset(&desc, 0, sizeof desc);
      memcpy(&desc, (const char *)d->d_buf + desc_off, nh.n_descsz < sizeof desc ? nh.n_descsz : sizeof desc);
      out->abi_version = desc.abi_version;
      copy_padded(out->name, sizeof out->name, desc.name, sizeof desc.name);
      copy_padded(out->version, sizeof out->version, desc.version, sizeof desc.version);
      found = 1;
      break;
    }
  }
  elf_end(e);
  if (!found)
    return se_set(SE_PLUGIN, "%s has no sonde plugin note: add SONDE_PLUGIN_NOTE(\"name\", \"version\") to one of its "
                  "source files (see docs/writing-plugins.md)", path);
  return 0;
}

int plg_check_file(const char *path, const char *want_sha256, bool allow_unsafe,
                   void (*warn)(void *, const char *), void *payload, int *fd_out, plg_note *note,
                   char sha256[65]) {
  *fd_out = -1;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return se_set(SE_PLUGIN, "plugin file %s does not exist: build it, or fix `file:` in the index", path);
    return se_set(SE_PLUGIN, "cannot open plugin file %s: %s", path, strerror(errno));
  }
  struct stat st;
  int rc = 0;
  if (fstat(fd, &st) != 0) {
    rc = se_set(SE_PLUGIN, "cannot stat plugin file %s: %s", path, strerror(errno));
  } else if (!S_ISREG(st.st_mode)) {
    rc = se_set(SE_PLUGIN, "plugin %s is not a regular file", path);
  } else if (st.st_size > MAX_PLUGIN_BYTES) {
    rc = se_set(SE_PLUGIN, "plugin %s is %lld bytes, more than any plugin should be", path, (long long)st.st_size);
  } else if ((rc = bf_check_trusted(fd, path, &st, &(bf_trust){"plugin", NULL, "run code as you", "loading",
                                                                allow_unsafe, warn, payload})) == 0) {
    char got[65];
    if ((rc = sha256_fd(fd, got)) != 0) {
      rc = se_wrap(SE_PLUGIN, "%s: ", path);
    } else if (want_sha256 && strcmp(got, want_sha256) != 0) {
      rc = se_set(SE_PLUGIN, "plugin %s does not match the index: its sha256 is %s, the index says %s. "
                  "It was changed after it was indexed; if you rebuilt it, run `sonde index update`",
                  path, got, want_sha256);
    } else {
      rc = read_note(fd, path, note);
      if (rc == 0 && sha256) memcpy(sha256, got, sizeof got);
    }
  }
  if (rc) {
    close(fd);
    return rc;
  }
  *fd_out = fd;
  return 0;
}

/* ---- the guard ----------------------------------------------------------- */

static const int k_crash_sigs[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};
enum { NCRASH = sizeof k_crash_sigs / sizeof k_crash_sigs[0] };
static struct sigaction g_prev[NCRASH];
static bool g_guard_installed;
static sigjmp_buf g_jmp;
static volatile sig_atomic_t g_in_plugin;
static volatile sig_atomic_t g_crash_sig;
/* static, not malloc'd: it lives as long as the handlers that use it */
static char g_altstack[1 << 16];

static void on_crash_signal(int sig, siginfo_t *si, void *uc) {
  if (g_in_plugin) {
    g_in_plugin = 0;
    g_crash_sig = sig;
    siglongjmp(g_jmp, 1);
  }
  /* Not a plugin: sonde's own handler (detach, die), or the default. */
  for (int i = 0; i < NCRASH; i++) {
    if (k_crash_sigs[i] != sig) continue;
    struct sigaction *pa = &g_prev[i];
    if ((pa->sa_flags & SA_SIGINFO) && pa->sa_sigaction) {
      pa->sa_sigaction(sig, si, uc);
      return;
    }
    if (pa->sa_handler != SIG_DFL && pa->sa_handler != SIG_IGN) {
      pa->sa_handler(sig);
      return;
    }
  }
  signal(sig, SIG_DFL);
  raise(sig);
}

static void guard_install(void) {
  if (g_guard_installed) return;
  g_guard_installed = true;
  stack_t ss = {.ss_sp = g_altstack, .ss_size = sizeof g_altstack, .ss_flags = 0};
  sigaltstack(&ss, NULL);
  for (int i = 0; i < NCRASH; i++) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_crash_signal;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
    sigemptyset(&sa.sa_mask);
    sigaction(k_crash_sigs[i], &sa, &g_prev[i]);
  }
}

static const char *signame(int sig) {
  switch (sig) {
    case SIGSEGV: return "SIGSEGV (invalid memory access)";
    case SIGBUS: return "SIGBUS (bus error)";
    case SIGFPE: return "SIGFPE (arithmetic error)";
    case SIGILL: return "SIGILL (illegal instruction)";
    case SIGABRT: return "SIGABRT (abort)";
    default: return "a fatal signal";
  }
}

/* Records a crash of p in `hook` and disables it. */
static int crashed(plg_plugin *p, const char *hook) {
  p->crashed = true;
  p->disabled = true;
  return se_set(SE_PLUGIN, "plugin %s crashed in %s with %s; it is disabled for the rest of this run "
                "(the target was not affected). Report it to the plugin's authors",
                p->name, hook, signame((int)g_crash_sig));
}

/* A hook's error: the plugin's own message when it left one. A plugin
 * whose lifecycle hook failed is disabled (its state may be half made); a
 * command that failed only failed that run: in a session, the next run
 * (--every, --on-hit) may well succeed. */
static int failed(plg_plugin *p, const char *hook, int prc, bool disable) {
  if (disable) p->disabled = true;
  if (p->err[0]) return se_set(SE_PLUGIN, "%s: %s", p->name, p->err);
  if (p->last_err[0])
    return se_set(SE_PLUGIN, "plugin %s: %s failed (code %d); its last failed host call said: %s", p->name, hook, prc,
                  p->last_err);
  return se_set(SE_PLUGIN, "plugin %s: %s failed (code %d) without saying why", p->name, hook, prc);
}

/* One call into a plugin, described as data so that a single guarded
 * function can make every kind of call. */
typedef enum { CALL_DLOPEN, CALL_ENTRY, CALL_LOAD, CALL_ATTACH, CALL_DETACH, CALL_RUN, CALL_UNLOAD, CALL_STATE, CALL_HIT } call_kind;
typedef struct {
  call_kind kind;
  const char *path;             /* CALL_DLOPEN */
  void *dl;                     /* CALL_DLOPEN's result */
  sonde_plugin_entry_fn entry;  /* CALL_ENTRY */
  const sonde_plugin *desc;     /* CALL_ENTRY's result */
  const sonde_command *cmd;     /* CALL_RUN */
  int argc;
  char **argv;
  const sonde_state_change *change; /* CALL_STATE */
  const sonde_breakpoint_hit *hit;  /* CALL_HIT */
} call;

static int invoke(plg_plugin *p, call *c) {
  const sonde_plugin *d = p->desc;
  switch (c->kind) {
    case CALL_DLOPEN: c->dl = dlopen(c->path, RTLD_NOW | RTLD_LOCAL); return SONDE_OK;
    case CALL_ENTRY: c->desc = c->entry(); return SONDE_OK;
    case CALL_LOAD: return d->on_load(&p->handle, plg_host_api(), &p->state);
    case CALL_ATTACH: return d->on_attach(&p->handle, p->state);
    case CALL_DETACH: return d->on_detach(&p->handle, p->state);
    case CALL_RUN: return c->cmd->run(&p->handle, p->state, c->argc, c->argv);
    case CALL_UNLOAD: d->on_unload(&p->handle, p->state); return SONDE_OK;
    case CALL_STATE: return d->on_state_change(&p->handle, p->state, c->change);
    case CALL_HIT: return d->on_breakpoint_hit(&p->handle, p->state, c->hit);
  }
  return SONDE_ERROR;
}

/* Makes call c inside the guard. Returns 0, or SE_PLUGIN after a crash (the
 * plugin is then disabled) or an error the plugin returned. */
static int guarded(plg_plugin *p, const char *hook, call *c) {
  guard_install();
  p->err[0] = '\0';
  p->last_err[0] = '\0';
  p->in_run = c->kind == CALL_RUN;
  p->found = false;
  if (sigsetjmp(g_jmp, 1) != 0) {
    p->in_run = false;
    return crashed(p, hook);
  }
  g_in_plugin = 1;
  int prc = invoke(p, c);
  g_in_plugin = 0;
  p->in_run = false;
  if (c->kind == CALL_RUN && (prc == SONDE_FOUND || (prc == SONDE_OK && p->found))) return PLG_FOUND;
  return prc == SONDE_OK ? 0 : failed(p, hook, prc, c->kind != CALL_RUN);
}

/* ---- loading ------------------------------------------------------------- */

static int check_descriptor(plg_plugin *p, const sonde_plugin *d, const plg_note *note) {
  if (!d) return se_set(SE_PLUGIN, "plugin %s: %s() returned NULL", p->name, SONDE_PLUGIN_ENTRY_NAME);
  if (d->struct_size < offsetof(sonde_plugin, command_size) + sizeof d->command_size)
    return se_set(SE_PLUGIN, "plugin %s: its descriptor is %u bytes, too small for ABI 1.0 (%zu): was it built "
                  "against sonde/plugin.h?", p->name, d->struct_size, sizeof(sonde_plugin));
  uint32_t maj = SONDE_ABI_MAJOR_OF(d->abi_version), min = SONDE_ABI_MINOR_OF(d->abi_version);
  if (maj != SONDE_ABI_MAJOR)
    return se_set(SE_PLUGIN, "plugin %s was built for plugin ABI %u.%u; this sonde speaks ABI %u.%u (majors differ). "
                  "Rebuild the plugin against this sonde's SDK", p->name, maj, min, SONDE_ABI_MAJOR, SONDE_ABI_MINOR);
  if (min > SONDE_ABI_MINOR)
    return se_set(SE_PLUGIN, "plugin %s was built for plugin ABI %u.%u, newer than this sonde's %u.%u: upgrade sonde",
                  p->name, maj, min, SONDE_ABI_MAJOR, SONDE_ABI_MINOR);
  if (d->abi_version != note->abi_version)
    return se_set(SE_PLUGIN, "plugin %s: its descriptor says ABI %u.%u but its ELF note says %u.%u", p->name, maj, min,
                  SONDE_ABI_MAJOR_OF(note->abi_version), SONDE_ABI_MINOR_OF(note->abi_version));
  if (!d->name || strcmp(d->name, note->name) != 0)
    return se_set(SE_PLUGIN, "plugin %s: its descriptor's name '%s' differs from its ELF note's '%s'", p->name,
                  d->name ? d->name : "(null)", note->name);
  /* 1.4 and older plugins declared the version twice and were never held
   * to it; 1.5 ones write it once (SONDE_PLUGIN_VERSION) */
  if (min >= 5 && (!d->version || strcmp(d->version, note->version) != 0))
    return se_set(SE_PLUGIN, "plugin %s: its descriptor's version '%s' differs from its ELF note's '%s' (ABI 1.5: "
                  "write .version = SONDE_PLUGIN_VERSION)", p->name, d->version ? d->version : "(null)", note->version);
  if (d->ncommands > 0) {
    if (!d->commands)
      return se_set(SE_PLUGIN, "plugin %s declares %u commands but no command table", p->name, d->ncommands);
    if (d->command_size < offsetof(sonde_command, run) + sizeof(void (*)(void)))
      return se_set(SE_PLUGIN, "plugin %s: command_size %u is too small for ABI 1.0", p->name, d->command_size);
    if (d->ncommands > 1024) return se_set(SE_PLUGIN, "plugin %s declares %u commands", p->name, d->ncommands);
    for (uint32_t i = 0; i < d->ncommands; i++) {
      const sonde_command *c = plg_command_at(p, i);
      if (!c->name || !c->name[0] || !c->run)
        return se_set(SE_PLUGIN, "plugin %s: command %u has no name or no run function", p->name, i);
    }
  }
  return 0;
}

const sonde_command *plg_command_at(const plg_plugin *p, uint32_t i) {
  const sonde_plugin *d = p->desc;
  return (const sonde_command *)(const void *)((const char *)d->commands + (size_t)i * d->command_size);
}

const sonde_command *plg_command(const plg_plugin *p, const char *name) {
  if (!p->desc) return NULL;
  for (uint32_t i = 0; i < p->desc->ncommands; i++) {
    const sonde_command *c = plg_command_at(p, i);
    if (strcmp(c->name, name) == 0) return c;
  }
  return NULL;
}

int plg_load(plg_plugin *p, const char *name, int fd, const plg_note *note, const cfg_config *cfg) {
  memset(p, 0, sizeof *p);
  p->handle.p = p;
  p->fd = fd;
  p->cfg = cfg;
  p->out = stdout;
  snprintf(p->name, sizeof p->name, "%s", name);
  int rc;
  /* /proc/PID/fd/N rather than /proc/self/fd/N: the same inode, and a
   * debugger attached to sonde (gdb reads the path to load the plugin's
   * symbols) finds sonde's descriptor, not its own. */
  char fdpath[64];
  snprintf(fdpath, sizeof fdpath, "/proc/%d/fd/%d", (int)getpid(), fd);
  /* Constructors run inside dlopen: guard it like any other plugin code. */
  call c = {.kind = CALL_DLOPEN, .path = fdpath};
  if ((rc = guarded(p, "its constructor (while loading)", &c))) return rc;
  p->dl = c.dl;
  if (!p->dl) return se_set(SE_PLUGIN, "cannot load plugin %s: %s", name, dlerror());
  sonde_plugin_entry_fn fn;
  void *sym = dlsym(p->dl, SONDE_PLUGIN_ENTRY_NAME);
  if (!sym)
    return se_set(SE_PLUGIN, "plugin %s does not export %s(): define it with SONDE_EXPORT (see "
                  "docs/writing-plugins.md). Plugin not loaded", name, SONDE_PLUGIN_ENTRY_NAME);
  memcpy(&fn, &sym, sizeof fn); /* POSIX: a data pointer from dlsym may be a function */
  c = (call){.kind = CALL_ENTRY, .entry = fn};
  if ((rc = guarded(p, SONDE_PLUGIN_ENTRY_NAME "()", &c))) return rc;
  p->desc = c.desc;
  if ((rc = check_descriptor(p, p->desc, note))) {
    p->desc = NULL;
    return rc;
  }
  if (p->desc->on_load) {
    c = (call){.kind = CALL_LOAD};
    if ((rc = guarded(p, "on_load", &c))) return rc;
  }
  p->loaded = true;
  return 0;
}

int plg_attach(plg_plugin *p) {
  if (p->disabled || !p->desc) return se_set(SE_PLUGIN, "plugin %s is disabled", p->name);
  int rc = 0;
  call c = {.kind = CALL_ATTACH};
  if (p->desc->on_attach) rc = guarded(p, "on_attach", &c);
  if (rc == 0) p->attached = true;
  return rc;
}

int plg_detach(plg_plugin *p) {
  int rc = 0;
  call c = {.kind = CALL_DETACH};
  if (p->attached && !p->crashed && p->desc->on_detach) rc = guarded(p, "on_detach", &c);
  p->attached = false;
  p->target = NULL;
  plg_services_reset(p);
  return rc;
}

int plg_run(plg_plugin *p, const sonde_command *c, int argc, char **argv) {
  if (p->disabled) return se_set(SE_PLUGIN, "plugin %s is disabled", p->name);
  char hook[128];
  snprintf(hook, sizeof hook, "command '%s'", c->name);
  call k = {.kind = CALL_RUN, .cmd = c, .argc = argc, .argv = argv};
  return guarded(p, hook, &k);
}

void plg_unload(plg_plugin *p) {
  if (p->loaded && !p->crashed && p->desc && p->desc->on_unload) {
    call c = {.kind = CALL_UNLOAD};
    (void)guarded(p, "on_unload", &c); /* a crash here is reported through se_msg by the caller */
  }
  plg_services_reset(p);
  /* After a crash the plugin's code and data may be broken: its destructors
   * must not run. The mapping stays until sonde exits. */
  if (p->dl && !p->crashed) dlclose(p->dl);
  p->dl = NULL;
  if (p->fd >= 0) close(p->fd);
  p->fd = -1;
  p->desc = NULL;
  p->loaded = false;
}

int plg_state_change(plg_plugin *p, sonde_state from, sonde_state to, sonde_reason why) {
  if (p->disabled || !p->desc || !p->desc->on_state_change) return 0;
  sonde_state_change ch = {.struct_size = sizeof ch, .old_state = from, .new_state = to, .reason = why};
  call c = {.kind = CALL_STATE, .change = &ch};
  return guarded(p, "on_state_change", &c);
}

int plg_breakpoint_hit(plg_plugin *p, const sonde_breakpoint_hit *hit) {
  if (p->disabled || !p->desc || !p->desc->on_breakpoint_hit) return 0;
  call c = {.kind = CALL_HIT, .hit = hit};
  return guarded(p, "on_breakpoint_hit", &c);
}
