/* sonde/plugin.h: the sonde plugin ABI, version 1.4. The only header a
 * plugin includes.
 *
 * A plugin is a shared object that exports one function, sonde_plugin_v1,
 * returning a static descriptor: who it is, the ABI it was built against,
 * its hooks and its commands. The host hands it a table of services
 * (sonde_host_api). It never links against host symbols, never calls
 * ptrace and never reads /proc itself. The compatibility rules (what a
 * minor version may add, how struct sizes travel) are in plugin-api/ABI.md.
 *
 * C11, self-contained, no host internals. */
#ifndef SONDE_PLUGIN_H
#define SONDE_PLUGIN_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- versions ------------------------------------------------------------ */

#define SONDE_ABI_MAJOR 1
#define SONDE_ABI_MINOR 4
#define SONDE_ABI_MAKE(major, minor) ((uint32_t)(major) << 16 | (uint32_t)(minor))
#define SONDE_ABI_VERSION SONDE_ABI_MAKE(SONDE_ABI_MAJOR, SONDE_ABI_MINOR)
#define SONDE_ABI_MAJOR_OF(v) ((uint32_t)(v) >> 16)
#define SONDE_ABI_MINOR_OF(v) ((uint32_t)(v)&0xffffu)

/* ---- results ------------------------------------------------------------- */

/* Every fallible function returns SONDE_OK (0) or one of these (< 0). */
typedef enum {
  SONDE_OK = 0,
  SONDE_ERROR = -1,     /* anything else; the message says what */
  SONDE_ENOMEM = -2,    /* out of memory */
  SONDE_EINVAL = -3,    /* a bad argument (from the user or the plugin) */
  SONDE_ENOTARGET = -4, /* the call needs a target and there is none */
  SONDE_ENOTFOUND = -5, /* no such goroutine, frame, symbol, field, key */
  SONDE_EFAULT = -6,    /* target memory that cannot be read */
  SONDE_EIO = -7,       /* a file that cannot be read or written */
  SONDE_ENOTSUP = -8,   /* this host does not offer the service (yet) */
  /* ABI 1.4: what a command's run may return (only run) when it worked and
   * found what it checks for (goroutine-graph leaks: leaked goroutines);
   * sonde then exits with status 13, for scripts and CI. */
  SONDE_FOUND = 1
} sonde_rc;

/* ---- opaque handles ------------------------------------------------------ */

/* One per loaded plugin; every service takes it first. */
typedef struct sonde_host sonde_host;

/* ---- data the host hands out --------------------------------------------
 *
 * Every struct starts with struct_size. For structs the plugin fills in
 * (out parameters), the plugin sets struct_size = sizeof(the struct) before
 * the call (SONDE_INIT) and the host writes only the members that fit,
 * leaving struct_size as the plugin set it. For structs the plugin hands
 * over (its descriptor, its commands), the host reads a member only when
 * the whole member lies within struct_size (SONDE_HAS_MEMBER). A host is
 * never older than the plugins it loads (ABI.md: the load rule), so a plugin
 * may use every member of the header it was built with. New members are
 * only ever appended. Strings are owned by the host and stay valid until
 * on_detach returns (target data) or on_unload (the rest). */
#define SONDE_HAS_MEMBER(ptr, type, member) \
  ((ptr)->struct_size >= offsetof(type, member) + sizeof(((type *)0)->member))
/* C only (a compound literal); in C++: `T x{}; x.struct_size = sizeof x;`. */
#define SONDE_INIT(type) ((type){.struct_size = (uint32_t)sizeof(type)})

typedef struct sonde_target_info {
  uint32_t struct_size;
  int32_t pid;
  const char *exe;           /* path of the executable */
  const char *go_version;    /* "go1.27.4" */
  const char *main_module;   /* main module path, "" when unknown */
  const char *kernel;        /* uname -r of this machine */
  uint64_t ngoroutines;      /* goroutines in the snapshot */
  uint32_t has_dwarf;        /* 1 when the binary has DWARF */
  uint32_t has_symtab;       /* 1 when the binary has an ELF symbol table */
} sonde_target_info;

typedef struct sonde_frame {
  uint32_t struct_size;
  const char *function; /* "main.(*Server).handle" */
  const char *file;     /* "/src/svc/server.go" */
  uint32_t line;
  uint32_t inlined; /* 1 when this frame was inlined into the next one */
  uint64_t pc;      /* the return pc (or the current pc for the top frame) */
  /* --- ABI 1.4 --- */
  uint64_t entry;   /* its function's entry: Go prints " +0x<pc - entry>"
                       after file:line for frames not inlined; 0 when unknown */
} sonde_frame;

typedef struct sonde_goroutine {
  uint32_t struct_size;
  uint32_t nframes;   /* frames as Go's default traceback shows them */
  int64_t id;
  int64_t parent_id;  /* 0 when unknown */
  const char *status; /* "waiting", "runnable", "running", "syscall", ... */
  const char *wait_reason; /* "chan receive", "" when not waiting */
  int64_t wait_minutes;    /* as Go prints ", N minutes"; 0 under a minute */
  uint32_t system;         /* 1 for the runtime's own goroutines */
  uint32_t locked_to_thread;
  uint32_t has_creator;    /* 1 when creator_get has a "created by" frame */
  /* --- ABI 1.2 --- (check with SONDE_HAS_MEMBER before reading) */
  uint64_t stack_size; /* bytes of stack the goroutine owns (g.stack.hi - lo); 0 when unknown */
  /* --- ABI 1.4 --- in commands with SONDE_CMD_NEEDS_WAITS or _LEAKS */
  uint32_t nwaits;     /* what it waits on: wait_get(i, 0 .. nwaits-1); one per select case */
  uint32_t leak;       /* SONDE_LEAK_*: SONDE_LEAK_UNCHECKED without SONDE_CMD_NEEDS_LEAKS */
  uint32_t leak_group; /* leaked in a deadlock cycle: its group (1-based), else 0 */
  uint32_t nreaches;   /* leaked: primitives of other leaked goroutines it reaches (reach_get) */
  uint64_t address;    /* of its runtime.g */
} sonde_goroutine;

/* ABI 1.4: the leak verdict of one goroutine (sonde_goroutine.leak). */
typedef enum {
  SONDE_LEAK_UNCHECKED = 0, /* the command did not ask (SONDE_CMD_NEEDS_LEAKS) */
  SONDE_LEAK_RUNS = 1,      /* not parked on a concurrency primitive */
  SONDE_LEAK_WOKEN = 2,     /* parked on one that a goroutine that runs can reach */
  SONDE_LEAK_UNKNOWN = 3,   /* parked on one sonde could not identify, or the
                               analysis was incomplete: never reported */
  SONDE_LEAK_LEAKED = 4,    /* can never be woken */
  SONDE_LEAK_IDLE_MAIN = 5  /* goroutine 1 in select{}: parked for good by
                               design; not reported, as the runtime does */
} sonde_leak;

/* ABI 1.4: one thing a goroutine waits on. */
typedef enum { SONDE_WAIT_CHAN = 1, SONDE_WAIT_SEMA = 2, SONDE_WAIT_COND = 3 } sonde_wait_kind;
typedef enum { SONDE_DIR_UNKNOWN = 0, SONDE_DIR_SEND = 1, SONDE_DIR_RECV = 2 } sonde_dir;

typedef struct sonde_wait {
  uint32_t struct_size;
  uint32_t kind;          /* sonde_wait_kind */
  uint64_t addr;          /* the channel (its runtime.hchan), the semaphore
                             (inside a sync.Mutex, RWMutex, WaitGroup), or
                             the sync.Cond's notifyList */
  uint64_t object;        /* the heap object holding addr (a Mutex inside a
                             struct: the struct); 0 outside the heap (a global)
                             or when the heap was not read */
  uint32_t dir;           /* SONDE_WAIT_CHAN: sonde_dir */
  uint32_t select;        /* 1: one case of a select */
  const char *elem_type;  /* SONDE_WAIT_CHAN: "*main.job"; NULL when unknown */
  uint64_t cap, len;      /* SONDE_WAIT_CHAN: capacity and queued values */
  uint32_t closed;
} sonde_wait;

/* ABI 1.4: how the leak analysis went (SONDE_CMD_NEEDS_LEAKS). */
typedef struct sonde_leak_info {
  uint32_t struct_size;
  uint32_t complete;        /* 1: every root was read, the verdicts stand. 0:
                               `incomplete` says what was missing, and no
                               goroutine is called leaked */
  const char *incomplete;   /* "" when complete */
  uint64_t parked;          /* goroutines parked on a concurrency primitive */
  uint64_t leaked;          /* of them, leaked (idle main not counted) */
  uint64_t unknown;         /* parked on something sonde could not check */
  uint64_t groups;          /* deadlock cycles among the leaked */
  uint32_t groups_complete; /* 0: the cycle search hit its budget (groups may be missing) */
  uint32_t conservative;    /* 1: heap objects are read conservatively (every
                               word that looks like a pointer; stacks go through
                               the compiler's stack maps): more kept alive, never less */
  uint64_t objects_marked, bytes_scanned, root_bytes;
  uint64_t analysis_ns;     /* the analysis, inside the stop */
  uint64_t stopped_ns;      /* how long the process was stopped for the
                               command (goroutines, waits, heap, analysis) */
} sonde_leak_info;

/* A runtime struct field as the target binary lays it out. */
typedef struct sonde_field {
  uint32_t struct_size;
  uint64_t offset;
  uint64_t size;
} sonde_field;

/* States of the target, for on_state_change. */
typedef enum {
  SONDE_STATE_ATTACHING = 1,
  SONDE_STATE_RUNNING = 2,
  SONDE_STATE_STOPPED = 3,
  SONDE_STATE_EXITED = 4,
  SONDE_STATE_DETACHED = 5
} sonde_state;

typedef enum {
  SONDE_REASON_NONE = 0,
  SONDE_REASON_ATTACH = 1,     /* sonde attached or took a snapshot */
  SONDE_REASON_BREAKPOINT = 2, /* a breakpoint was hit */
  SONDE_REASON_INTERRUPT = 3,  /* sonde stopped the target on request */
  SONDE_REASON_SIGNAL = 4,     /* the target received a signal */
  SONDE_REASON_EXIT = 5,       /* the target exited or was killed */
  SONDE_REASON_DETACH = 6      /* sonde let go of the target */
} sonde_reason;

typedef struct sonde_state_change {
  uint32_t struct_size;
  uint32_t old_state, new_state; /* sonde_state */
  uint32_t reason;               /* sonde_reason */
} sonde_state_change;

/* The amd64 registers of the thread at a hit (ABI 1.1); rip is the
 * breakpoint's address, before its instruction ran. Fixed: never grows. */
typedef struct sonde_regs {
  uint64_t rax, rbx, rcx, rdx, rsi, rdi, rbp, rsp;
  uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
  uint64_t rip, rflags, fs_base;
} sonde_regs;

typedef struct sonde_breakpoint_hit {
  uint32_t struct_size;
  uint64_t breakpoint_id;
  int32_t thread_id;     /* the thread that hit it */
  int64_t goroutine_id;  /* its current goroutine, 0 when none */
  uint64_t pc;
  /* --- ABI 1.1 --- (check struct_size before reading) */
  const sonde_regs *regs; /* valid during the hook */
  uint64_t g_addr;        /* the runtime.g of that goroutine (R14 at a Go function), 0 when none */
} sonde_breakpoint_hit;

/* ---- the Go heap (ABI 1.3) ----------------------------------------------
 *
 * Read while the target is stopped: in a one-shot command that declares
 * SONDE_CMD_NEEDS_HEAP, during the command's stop; in a session, on first
 * use during a stop, like the goroutine snapshot. Counts are exact for
 * spans swept since the last GC (unswept_spans says how many are not: their
 * counts still include objects that GC found dead). */
#define SONDE_UNKNOWN UINT64_MAX

typedef struct sonde_heap_info {
  uint32_t struct_size;
  uint32_t has_types;        /* 1 when the runtime records object types (Go 1.22+) */
  uint64_t nspans;           /* heap spans in use: heap_span_get's indexes, by address */
  uint64_t ntypes;           /* heap_type_get's indexes */
  uint64_t objects, bytes;   /* allocated objects and their bytes (slots) */
  uint64_t span_bytes;       /* bytes of the spans in use */
  uint64_t resident_bytes;   /* of span_bytes, in RAM; SONDE_UNKNOWN when unreadable */
  uint64_t unswept_spans, unreadable_spans;
  uint64_t manual_spans, manual_bytes; /* goroutine stacks and other runtime memory */
  uint64_t typed_objects, typed_bytes; /* objects whose type the runtime records */
  uint64_t bad_headers;      /* type headers that point at no type (left out of types) */
  uint64_t gc_cycle;         /* GC cycles completed (runtime.memstats.numgc); SONDE_UNKNOWN */
  uint64_t last_gc_unix_ns;  /* when the last ended; 0 when unknown */
  /* The runtime's own accounting (memstats.heapStats), read in the same
   * stop, for cross-checking: its HeapObjects, HeapAlloc, HeapInuse and
   * StackInuse. SONDE_UNKNOWN when sonde cannot read it. They equal
   * objects, bytes and span_bytes unless a thread was stopped mid-update. */
  uint64_t runtime_objects, runtime_bytes, runtime_heap_inuse, runtime_stacks_inuse;
} sonde_heap_info;

typedef struct sonde_heap_span {
  uint32_t struct_size;
  uint32_t sizeclass;        /* 0: one large object */
  uint32_t noscan;           /* 1: holds no pointers */
  uint32_t swept;            /* 1: nalloc is exact */
  uint64_t base, npages;     /* pages of 8 KiB */
  uint64_t elemsize;         /* bytes per slot (the whole span for a large object) */
  uint64_t nelems, nalloc;   /* slots, allocated objects */
  uint64_t resident_bytes;   /* SONDE_UNKNOWN when unreadable */
  const char *type;          /* a large object's type ("main.Buf", "[]*int"), NULL when unknown */
} sonde_heap_span;

/* Objects of one type in one size class, largest bytes first. */
typedef struct sonde_heap_type {
  uint32_t struct_size;
  uint32_t sizeclass;        /* 0: large objects */
  uint32_t named;            /* 0: a type made at run time (reflect), named "(type 0x...)" */
  uint32_t array;            /* 1: slots of several values: "[]T" (a slice's backing array) */
  const char *name;          /* "main.rec", "[]*int64" */
  uint64_t type_addr, type_size; /* the descriptor in the target; one value's bytes */
  uint64_t objects, bytes;   /* bytes: whole slots (for small objects with a header, 8 bytes of it) */
} sonde_heap_type;

/* Log levels for sonde_host_api.log. */
typedef enum { SONDE_LOG_ERROR = 0, SONDE_LOG_WARN = 1, SONDE_LOG_INFO = 2, SONDE_LOG_DEBUG = 3 } sonde_log_level;

/* ---- the host's services --------------------------------------------------
 *
 * Append-only: members are grouped by the ABI minor that added them, new
 * ones go at the end, none is ever removed or changed. The host's table is
 * never older than the plugin's header (the load rule), and the host never
 * leaves a member it declares NULL. */
typedef struct sonde_host_api {
  uint32_t struct_size;
  uint32_t abi_version; /* the host's SONDE_ABI_VERSION */
  const char *host_version;

  /* --- ABI 1.0 --- */
  /* Memory that crosses the boundary. */
  void *(*alloc)(sonde_host *h, size_t n);
  void (*free)(sonde_host *h, void *p);

  /* Messages for the user, prefixed with the plugin's name. */
  void (*message)(sonde_host *h, sonde_log_level level, const char *fmt, ...)
#if defined(__GNUC__)
      __attribute__((format(printf, 3, 4)))
#endif
      ;
  /* Records why a hook or command failed; returns rc, so a plugin writes
   * `return api->fail(h, SONDE_EINVAL, "no such file %s", path);`. The host
   * prints it as "sonde: PLUGIN: message". */
  int (*fail)(sonde_host *h, int rc, const char *fmt, ...)
#if defined(__GNUC__)
      __attribute__((format(printf, 3, 4)))
#endif
      ;

  /* The plugin's own section of sonde.ini. NULL when the key is absent. */
  const char *(*config_get)(sonde_host *h, const char *key);

  /* The target (only between on_attach and on_detach). */
  int (*target_info)(sonde_host *h, sonde_target_info *out);
  /* Reads n bytes of the target's memory at addr into dst. The snapshot's
   * data was read while the target was stopped; reads made through this call
   * see the target as it runs now. n is at most 64 MiB. */
  int (*read_memory)(sonde_host *h, uint64_t addr, void *dst, size_t n);

  /* The goroutine snapshot, in the runtime's allgs order. */
  uint64_t (*goroutine_count)(sonde_host *h);
  int (*goroutine_get)(sonde_host *h, uint64_t index, sonde_goroutine *out);
  int (*frame_get)(sonde_host *h, uint64_t goroutine_index, uint32_t frame_index, sonde_frame *out);
  /* The "created by" frame of a goroutine; SONDE_ENOTFOUND when it has none. */
  int (*creator_get)(sonde_host *h, uint64_t goroutine_index, sonde_frame *out);

  /* pc -> function, file and line (the outermost function when inlined). */
  int (*symbolize)(sonde_host *h, uint64_t pc, sonde_frame *out);
  /* A runtime struct field ("runtime.g", "goid") as this binary lays it out. */
  int (*layout_field)(sonde_host *h, const char *type, const char *field, sonde_field *out);

  /* Output. write_out goes to the command's output (standard output, or the
   * file named by the host's -o); open_output creates NAME in the output
   * directory ([host] output_dir) and returns its path through out_path
   * (allocated with alloc). */
  int (*write_out)(sonde_host *h, const void *data, size_t n);
  int (*open_output)(sonde_host *h, const char *name, char **out_path);

  /* Breakpoints: a function name ("main.(*Server).handle") or "file.go:LINE".
   * ABI 1.0 hosts may answer SONDE_ENOTSUP outside `sonde attach`. */
  int (*breakpoint_set)(sonde_host *h, const char *location, uint64_t *out_id);
  int (*breakpoint_clear)(sonde_host *h, uint64_t id);

  /* --- ABI 1.1 --- */
  /* During on_breakpoint_hit (and commands run by --on-hit): the goroutine
   * that hit, with its stack unwound from the hit's registers. Only the
   * hitting thread needs to be stopped for these, so they stay cheap when
   * the goroutine snapshot (goroutine_get) would mean stopping every
   * thread. SONDE_ENOTARGET outside a hit. */
  int (*hit_goroutine_get)(sonde_host *h, sonde_goroutine *out);
  int (*hit_frame_get)(sonde_host *h, uint32_t frame_index, sonde_frame *out);

  /* --- ABI 1.2 --- */
  /* In a session (sonde attach, sonde exec), from on_attach on: runs one of
   * this plugin's own commands, "snapshot -o snap-%n.json" (arguments split
   * as the shell would), every interval_ms (10 ms to a day), with every
   * thread stopped, exactly as `--every` does. For settings such as
   * `every = 10s` in the plugin's sonde.ini section. SONDE_ENOTSUP in a
   * one-shot command; SONDE_EINVAL for an unknown command or an interval
   * out of range. */
  int (*command_every)(sonde_host *h, uint64_t interval_ms, const char *command);

  /* --- ABI 1.3 --- */
  /* The Go heap (see sonde_heap_info). SONDE_ENOTSUP when this binary's heap
   * cannot be read (the message says why), or in a one-shot command without
   * SONDE_CMD_NEEDS_HEAP. */
  int (*heap_info)(sonde_host *h, sonde_heap_info *out);
  int (*heap_span_get)(sonde_host *h, uint64_t index, sonde_heap_span *out);
  int (*heap_type_get)(sonde_host *h, uint64_t index, sonde_heap_type *out);
  /* The span (its index) and the start of the slot that hold addr;
   * SONDE_ENOTFOUND when addr is in no slot of a heap span. Whether the slot
   * holds a live object is not checked. */
  int (*heap_find)(sonde_host *h, uint64_t addr, uint64_t *span_index, uint64_t *object);
  /* GC cycles completed, read from the running target without stopping it
   * (for watching GC cycles); SONDE_ENOTSUP when runtime.memstats is unknown. */
  int (*gc_cycle)(sonde_host *h, uint64_t *out);
  /* Reads the heap again, now: in a one-shot command, with a stop of its
   * own (as short as the first), so that a command can follow a process
   * over time; in a session, the heap of the current stop. heap_info and
   * the getters then describe it. SONDE_ENOTARGET when the process is gone. */
  int (*heap_refresh)(sonde_host *h);

  /* --- ABI 1.4 --- */
  /* What goroutine gi waits on: wi < sonde_goroutine.nwaits. SONDE_ENOTSUP
   * in a command without SONDE_CMD_NEEDS_WAITS (or _LEAKS). */
  int (*wait_get)(sonde_host *h, uint64_t gi, uint32_t wi, sonde_wait *out);
  /* The leak analysis (SONDE_CMD_NEEDS_LEAKS), else SONDE_ENOTSUP. */
  int (*leak_info)(sonde_host *h, sonde_leak_info *out);
  /* A leaked goroutine's i-th reached primitive (i < nreaches): the addr of
   * a wait of another leaked goroutine, which this one could complete if it
   * ran. */
  int (*reach_get)(sonde_host *h, uint64_t gi, uint32_t i, uint64_t *out);
} sonde_host_api;

/* ---- what a plugin declares ---------------------------------------------- */

/* A command: `sonde PLUGIN NAME [ARGS]`. */
enum {
  SONDE_CMD_NEEDS_TARGET = 1u << 0, /* the host parses -p/--pid, attaches, and
                                       calls on_attach before run */
  SONDE_CMD_NEEDS_HEAP = 1u << 1,   /* ABI 1.3: also reads the Go heap during
                                       the stop (implies NEEDS_TARGET) */
  SONDE_CMD_NEEDS_WAITS = 1u << 2,  /* ABI 1.4: also what each goroutine waits
                                       on (wait_get; implies NEEDS_TARGET) */
  SONDE_CMD_NEEDS_LEAKS = 1u << 3   /* ABI 1.4: also the heap and the leak
                                       verdicts, in the same stop (implies
                                       the three above); the snapshot then
                                       includes the runtime's own goroutines
                                       (system = 1): they are roots too */
};

typedef struct sonde_command {
  uint32_t struct_size;
  uint32_t flags;        /* SONDE_CMD_* */
  const char *name;      /* "snapshot" */
  const char *summary;   /* one line for `sonde PLUGIN --help` */
  const char *usage;     /* argument syntax: "[-o FILE]" (the host adds -p PID) */
  const char *help;      /* the full text for `sonde PLUGIN NAME --help` */
  /* argv[0] is the command's name; the host has removed -p/--pid. Return
   * SONDE_OK, SONDE_FOUND (ABI 1.4: found what it checks for), or an error
   * recorded with api->fail. */
  int (*run)(sonde_host *h, void *state, int argc, char **argv);
} sonde_command;

typedef struct sonde_plugin {
  uint32_t struct_size;
  uint32_t abi_version;    /* SONDE_ABI_VERSION as the plugin was built */
  const char *name;        /* [a-z0-9][a-z0-9_-]*, as in the index */
  const char *version;     /* the plugin's own version */
  const char *description; /* one line */

  /* Hooks, each optional (NULL). A hook that returns an error is reported
   * and stops only this plugin. *state is the plugin's own pointer, set by
   * on_load and passed to every later hook. */
  int (*on_load)(sonde_host *h, const sonde_host_api *api, void **state);
  int (*on_attach)(sonde_host *h, void *state);
  int (*on_state_change)(sonde_host *h, void *state, const sonde_state_change *change);
  int (*on_breakpoint_hit)(sonde_host *h, void *state, const sonde_breakpoint_hit *hit);
  int (*on_detach)(sonde_host *h, void *state);
  void (*on_unload)(sonde_host *h, void *state);

  const sonde_command *commands; /* an array of ncommands elements, each command_size bytes */
  uint32_t ncommands;
  uint32_t command_size;         /* sizeof(sonde_command) as the plugin was built */
} sonde_plugin;

/* The one symbol a plugin exports. */
#define SONDE_PLUGIN_ENTRY sonde_plugin_v1
#define SONDE_PLUGIN_ENTRY_NAME "sonde_plugin_v1"
typedef const sonde_plugin *(*sonde_plugin_entry_fn)(void);

#if defined(__GNUC__)
#define SONDE_EXPORT __attribute__((visibility("default")))
#else
#define SONDE_EXPORT
#endif

/* The entry's prototype: a plugin defines exactly this function. */
SONDE_EXPORT const sonde_plugin *SONDE_PLUGIN_ENTRY(void);

/* ---- the ELF note: who the plugin is, readable without running it -------
 *
 * The host reads this note from the file before dlopen (which would run the
 * plugin's constructors), to check the name and ABI against the index.
 * `sonde index update` reads it too, to write the index entry. Put
 * SONDE_PLUGIN_NOTE("name", "version") in one source file of the plugin;
 * the name and version must equal the descriptor's. */
#define SONDE_NOTE_NAME "sonde"
#define SONDE_NOTE_TYPE 0x534f4e31u /* "SON1" */
#define SONDE_NOTE_PLUGIN_NAME_MAX 32
#define SONDE_NOTE_PLUGIN_VERSION_MAX 32

typedef struct sonde_note_desc {
  uint32_t abi_version;
  char name[SONDE_NOTE_PLUGIN_NAME_MAX];       /* NUL-padded */
  char version[SONDE_NOTE_PLUGIN_VERSION_MAX]; /* NUL-padded */
} sonde_note_desc;

typedef struct sonde_note {
  uint32_t namesz, descsz, type;
  char note_name[8]; /* "sonde", padded to 4 bytes */
  sonde_note_desc desc;
} sonde_note;

#if defined(__GNUC__)
/* A section attribute is the only way to place an ELF note from C. */
#define SONDE_PLUGIN_NOTE(plugin_name, plugin_version)                                         \
  __attribute__((section(".note.sonde"), used, aligned(4))) static const sonde_note          \
      sonde_plugin_note_ = {sizeof(SONDE_NOTE_NAME), sizeof(sonde_note_desc), SONDE_NOTE_TYPE, \
                            SONDE_NOTE_NAME, {SONDE_ABI_VERSION, plugin_name, plugin_version}}
#endif

#ifdef __cplusplus
}
#endif

#endif
