// Thread dumps: every G with its state, what it waits for and since when,
// and a symbolised backtrace unwound from its saved context. Printed on
// GREEN_DUMP_SIGNAL (diag.cpp) and for a deadlock (deadlock.cpp).
//
// A G that is not running has its registers in the frame its last switch
// left on its own stack, at G.ctx (Boost.Context's jump_fcontext):
//   ctx+0x00 mxcsr, x87 cw   ctx+0x08 r12   ctx+0x10 r13   ctx+0x18 r14
//   ctx+0x20 r15   ctx+0x28 rbx   ctx+0x30 rbp   ctx+0x38 return address
// and it resumes with rsp = ctx+0x40. The dump copies the stack from ctx
// up (at most SNAPSHOT_MAX bytes) with process_vm_readv, which fails
// rather than faults if the stack has gone, and unwinds the copy with
// libunwind's remote interface: its memory accessor serves the copy and
// the loaded objects' segments (unwind tables, code) and refuses anything
// else. So a G that runs, exits or loses its stack while it is being
// dumped costs at worst a wrong or short backtrace, never a fault, and the
// world is not stopped. Gs running on an M or blocked in a system call
// have no saved context: they are listed with their OS thread, without a
// backtrace.
//
// Names come from the objects' symbol tables (libunwind reads .symtab from
// the file, so static functions are named too), C++ names demangled. The
// frames of libgreen itself (green::..., make_fcontext) at either end are
// left out: a backtrace runs from the program's call into libgreen (or the
// function that called it, when that call was a tail call) down to the
// thread's start routine or main.
//
// Runs on the dump thread or an idle M's g0, never on a G (it takes locks
// and allocates); diag_mu makes dumps one at a time.
#include <cxxabi.h>
#include <errno.h>
#include <link.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include <libunwind.h>

#include "internal.h"
#include "os.h"

namespace green {

namespace {

constexpr size_t SNAPSHOT_MAX = 256 << 10;
constexpr int MAX_FRAMES = 64;
constexpr int CACHE_SIZE = 4096;  // symbol cache entries (power of two)

// ---- output: lines gathered in a buffer, written with raw write(2) ----
struct out {
  int fd;
  char buf[8192];
  size_t n = 0;
  void flush() {
    os::write_all(fd, buf, n);
    n = 0;
  }
  __attribute__((format(printf, 2, 3))) void put(const char* fmt, ...) {
    if (n > sizeof buf - 1024) flush();
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(buf + n, sizeof buf - n, fmt, ap);
    va_end(ap);
    if (k > 0) n += (size_t)k < sizeof buf - n ? (size_t)k : sizeof buf - n - 1;
  }
};

// ---- the loaded objects' segments ----
struct segment {
  uintptr_t lo, hi;  // mapped [lo, hi)
  uintptr_t base;    // the object's load bias
  const char* path;  // "" for the executable
};
struct segments {
  segment* v = nullptr;
  int n = 0, cap = 0;
};

int add_segments(struct dl_phdr_info* info, size_t, void* ctx) {
  auto* s = static_cast<segments*>(ctx);
  for (int i = 0; i < info->dlpi_phnum; i++) {
    const ElfW(Phdr)& ph = info->dlpi_phdr[i];
    if (ph.p_type != PT_LOAD) continue;
    if (s->n == s->cap) {
      int cap = s->cap ? s->cap * 2 : 64;
      auto* v = static_cast<segment*>(realloc(s->v, sizeof(segment) * (size_t)cap));
      if (!v) return 1;
      s->v = v;
      s->cap = cap;
    }
    uintptr_t lo = info->dlpi_addr + ph.p_vaddr;
    s->v[s->n++] = segment{lo, lo + ph.p_memsz, info->dlpi_addr, info->dlpi_name};
  }
  return 0;
}

const segment* segment_of(const segments& s, uintptr_t a, size_t len) {
  for (int i = 0; i < s.n; i++)
    if (a >= s.v[i].lo && a + len <= s.v[i].hi) return &s.v[i];
  return nullptr;
}

const char* object_name(const segment* seg) {
  if (!seg || !seg->path[0]) return program_invocation_short_name;
  const char* slash = strrchr(seg->path, '/');
  return slash ? slash + 1 : seg->path;
}

// ---- unwinding a copy of a stack (libunwind's remote interface) ----
struct unwind_arg {
  unw_word_t regs[UNW_X86_64_RIP + 1];
  const char* copy;        // the stack bytes [lo, hi)
  uintptr_t lo, hi;
  const segments* segs;
};

unw_accessors_t* local_acc;  // libunwind's own, for unwind tables and names
unw_addr_space_t space;

int access_mem(unw_addr_space_t, unw_word_t addr, unw_word_t* val, int write, void* a) {
  auto* u = static_cast<unwind_arg*>(a);
  if (write) return -UNW_EREADONLYREG;
  if (addr >= u->lo && addr + sizeof *val <= u->hi) {
    memcpy(val, u->copy + (addr - u->lo), sizeof *val);
    return 0;
  }
  if (segment_of(*u->segs, addr, sizeof *val)) {  // mapped as long as the object is loaded
    memcpy(val, reinterpret_cast<const void*>(addr), sizeof *val);
    return 0;
  }
  return -UNW_EINVAL;
}

int access_reg(unw_addr_space_t, unw_regnum_t reg, unw_word_t* val, int write, void* a) {
  if (write) return -UNW_EREADONLYREG;
  auto* u = static_cast<unwind_arg*>(a);
  *val = reg >= 0 && reg <= UNW_X86_64_RIP ? u->regs[reg] : 0;  // caller-saved: unknown
  return 0;
}

int access_fpreg(unw_addr_space_t, unw_regnum_t, unw_fpreg_t*, int, void*) { return -UNW_EBADREG; }
int resume(unw_addr_space_t, unw_cursor_t*, void*) { return -UNW_EINVAL; }
int no_dyn_info(unw_addr_space_t, unw_word_t*, void*) { return -UNW_ENOINFO; }

int find_proc_info(unw_addr_space_t as, unw_word_t ip, unw_proc_info_t* pi, int need, void* a) {
  return local_acc->find_proc_info(as, ip, pi, need, a);
}
void put_unwind_info(unw_addr_space_t as, unw_proc_info_t* pi, void* a) {
  local_acc->put_unwind_info(as, pi, a);
}

bool unwinder_ready() {
  if (space) return true;
  local_acc = unw_get_accessors(unw_local_addr_space);
  unw_accessors_t acc = {};
  acc.find_proc_info = find_proc_info;
  acc.put_unwind_info = put_unwind_info;
  acc.get_dyn_info_list_addr = no_dyn_info;
  acc.access_mem = access_mem;
  acc.access_reg = access_reg;
  acc.access_fpreg = access_fpreg;
  acc.resume = resume;
  space = unw_create_addr_space(&acc, 0);
  if (space) unw_set_caching_policy(space, UNW_CACHE_GLOBAL);
  return space != nullptr;
}

// ---- symbol names, cached by address ----
struct sym {
  uintptr_t pc;   // looked-up address (0: free slot)
  char* name;     // mangled as in the symbol table, nullptr if none
  uintptr_t off;
};

struct symbols {
  sym* table = nullptr;
  const sym* lookup(uintptr_t pc) {
    if (!table) table = static_cast<sym*>(calloc(CACHE_SIZE, sizeof(sym)));
    static sym none;
    if (!table) return &none;
    size_t i = (pc * 0x9e3779b97f4a7c15ull) >> 52;  // 12 bits
    for (int probe = 0; probe < 16; probe++, i = (i + 1) & (CACHE_SIZE - 1)) {
      sym& s = table[i];
      if (s.pc == pc) return &s;
      if (s.pc) continue;
      char buf[512];
      unw_word_t off = 0;
      s.pc = pc;
      if (local_acc->get_proc_name(unw_local_addr_space, pc, buf, sizeof buf, &off, nullptr) == 0) {
        s.name = strdup(buf);
        s.off = off;
      }
      return &s;
    }
    return &none;
  }
  ~symbols() {
    if (!table) return;
    for (int i = 0; i < CACHE_SIZE; i++) free(table[i].name);
    free(table);
  }
};

// libgreen's own frames (green::..., and the context switch's entry).
bool runtime_frame(const sym* s) {
  return s->name && (strncmp(s->name, "_ZN5green", 9) == 0 || strcmp(s->name, "make_fcontext") == 0);
}

// ---- one G ----
struct dumper {
  out o;
  segments segs;
  symbols syms;
  char* snapshot;
  int pid;
  int64_t now;
  bool stopped;
};

// Copy [addr, addr+len) of this process without faulting; false if it is
// not mapped. Where process_vm_readv is refused (a seccomp filter), only a
// dump of a stopped world (a deadlock: no G runs, no stack goes away) reads
// the memory directly.
bool peek(const dumper& d, const void* addr, void* to, size_t len) {
  struct iovec local = {to, len}, remote = {const_cast<void*>(addr), len};
  long r = os::syscall6(SYS_process_vm_readv, d.pid, (long)&local, 1, (long)&remote, 1, 0);
  if (r == (long)len) return true;
  if (r == -EFAULT || !d.stopped) return false;
  memcpy(to, addr, len);
  return true;
}

void print_frame(dumper& d, int i, uintptr_t ip) {
  const sym* s = d.syms.lookup(ip - 1);  // a return address: the call is just before it
  const segment* seg = segment_of(d.segs, ip, 1);
  if (!s->name) {
    d.o.put("    #%-2d 0x%016lx in ?? (%s+0x%lx)\n", i, (unsigned long)ip, object_name(seg),
            (unsigned long)(seg ? ip - seg->base : 0));
    return;
  }
  int status = -1;
  char* pretty = abi::__cxa_demangle(s->name, nullptr, nullptr, &status);
  d.o.put("    #%-2d 0x%016lx in %s+0x%lx (%s)\n", i, (unsigned long)ip,
          status == 0 && pretty ? pretty : s->name, (unsigned long)(s->off + 1), object_name(seg));
  free(pretty);
}

void print_backtrace(dumper& d, G* g, fcontext_t ctx) {
  uintptr_t top = reinterpret_cast<uintptr_t>(g->stack.base) + g->stack.size;
  uintptr_t c = reinterpret_cast<uintptr_t>(ctx);
  if (c < reinterpret_cast<uintptr_t>(g->stack.base) || c + 0x40 > top) {
    d.o.put("    (no saved context)\n");
    return;
  }
  if (c == (top & ~uintptr_t(15)) - 0x40) {  // the frame make_fcontext made: never switched in
    d.o.put("    (not started yet)\n");
    return;
  }
  size_t len = top - c < SNAPSHOT_MAX ? top - c : SNAPSHOT_MAX;
  if (!d.snapshot || !peek(d, ctx, d.snapshot, len)) {
    d.o.put("    (stack not readable)\n");
    return;
  }
  unwind_arg u = {};
  const uint64_t* f = reinterpret_cast<const uint64_t*>(d.snapshot);
  u.regs[UNW_X86_64_R12] = f[1];
  u.regs[UNW_X86_64_R13] = f[2];
  u.regs[UNW_X86_64_R14] = f[3];
  u.regs[UNW_X86_64_R15] = f[4];
  u.regs[UNW_X86_64_RBX] = f[5];
  u.regs[UNW_X86_64_RBP] = f[6];
  u.regs[UNW_X86_64_RIP] = f[7];
  u.regs[UNW_X86_64_RSP] = c + 0x40;
  u.copy = d.snapshot;
  u.lo = c;
  u.hi = c + len;
  u.segs = &d.segs;
  uintptr_t ips[MAX_FRAMES];
  int n = 0;
  unw_cursor_t cur;
  if (unw_init_remote(&cur, space, &u) == 0) {
    do {
      unw_word_t ip = 0;
      if (unw_get_reg(&cur, UNW_REG_IP, &ip) < 0 || ip == 0 || !segment_of(d.segs, ip, 1)) break;
      ips[n++] = ip;
    } while (n < MAX_FRAMES && unw_step(&cur) > 0);
  }
  if (n == 0) {
    d.o.put("    (no backtrace)\n");
    return;
  }
  // From the program's call into libgreen down to the thread's start routine.
  int first = 0, last = n - 1;
  while (first < last && runtime_frame(d.syms.lookup(ips[first] - 1))) first++;
  while (last > first && runtime_frame(d.syms.lookup(ips[last] - 1))) last--;
  if (n == MAX_FRAMES) last = n - 1;
  for (int i = first; i <= last; i++) print_frame(d, i - first, ips[i]);
  if (n == MAX_FRAMES) d.o.put("    ...\n");
}

// " in pthread_mutex_lock(0x...), held by thread 3" and the like.
void print_wait(dumper& d, const G* g, wait_kind kind, const void* obj) {
  switch (kind) {
    case wait_kind::mutex: {
      d.o.put("pthread_mutex_lock(%p)", obj);
      int owner = 0;
      if (peek(d, &static_cast<const pthread_mutex_t*>(obj)->__data.__owner, &owner,
               sizeof owner) && owner > 0) {
        if (G* o = g_from_owner_id(owner))
          d.o.put(", held by thread %lu", (unsigned long)o->id);
        else if (!(owner & 0x40000000))
          d.o.put(", held by OS thread %d", owner);
      }
      return;
    }
    case wait_kind::cond: return d.o.put("pthread_cond_wait(%p)", obj);
    case wait_kind::rwlock_read: return d.o.put("pthread_rwlock_rdlock(%p)", obj);
    case wait_kind::rwlock_write: return d.o.put("pthread_rwlock_wrlock(%p)", obj);
    case wait_kind::sem: return d.o.put("sem_wait(%p)", obj);
    case wait_kind::barrier: return d.o.put("pthread_barrier_wait(%p)", obj);
    case wait_kind::once: return d.o.put("pthread_once(%p)", obj);
    case wait_kind::join: {
      G* t = g_from_handle(reinterpret_cast<pthread_t>(obj));
      if (t && t != g)
        return d.o.put("pthread_join of thread %lu", (unsigned long)t->id);
      return d.o.put("pthread_join");
    }
    case wait_kind::futex: return d.o.put("a futex wait on %p", obj);
    case wait_kind::sleep: return d.o.put("a sleep");
    case wait_kind::fd_read: return d.o.put("a wait for fd %d to be readable", (int)(intptr_t)obj);
    case wait_kind::fd_write: return d.o.put("a wait for fd %d to be writable", (int)(intptr_t)obj);
    case wait_kind::unknown: return d.o.put("the parking lot");
  }
}

bool print_g(G* g, void* ctx) {
  auto& d = *static_cast<dumper*>(ctx);
  gstatus st = g->status.load(std::memory_order_acquire);
  fcontext_t saved = g->ctx;
  wait_kind kind = g->wait.load(std::memory_order_relaxed);
  const void* obj = g->wait_obj.load(std::memory_order_relaxed);
  int64_t since = g->wait_since.load(std::memory_order_relaxed);
  M* m = g->m;
  char name[16];
  memcpy(name, g->name, sizeof name);
  name[15] = 0;
  d.o.put("thread %lu (%s): ", (unsigned long)g->id, name[0] ? name : program_invocation_short_name);
  switch (st) {
    case gstatus::running:
    case gstatus::syscall: {
      int tid = m ? m->tid : 0;
      d.o.put("%s on OS thread %d\n", st == gstatus::running ? "running" : "in a system call", tid);
      break;
    }
    case gstatus::dead:
      d.o.put("exited, not joined yet\n");
      break;
    case gstatus::runnable:
      d.o.put("runnable\n");
      print_backtrace(d, g, saved);
      break;
    case gstatus::waiting: {
      d.o.put("waiting ");
      if (since > 0) {
        int64_t ns = d.now > since ? d.now - since : 0;
        d.o.put("%ld.%03ld s ", (long)(ns / 1000000000), (long)(ns / 1000000 % 1000));
      }
      d.o.put("in ");
      print_wait(d, g, kind, obj);
      d.o.put("\n");
      print_backtrace(d, g, saved);
      break;
    }
    case gstatus::idle:
      d.o.n = 0;  // freed meanwhile: drop the line
      return true;
  }
  d.o.flush();
  return true;
}

struct tally {
  long total = 0, running = 0;
};

bool count_g(G* g, void* ctx) {
  auto* t = static_cast<tally*>(ctx);
  t->total++;
  gstatus st = g->status.load(std::memory_order_relaxed);
  if (st == gstatus::running || st == gstatus::syscall) t->running++;
  return true;
}

}  // namespace

void dump_threads(int fd, const char* why, bool stopped) {
  lock_guard l(diag_mu);
  dumper* d = new (std::nothrow) dumper;
  if (!d) return diag("libgreen: %s: out of memory for the thread dump\n", why);
  d->o.fd = fd;
  d->stopped = stopped;
  d->pid = (int)os::syscall6(SYS_getpid);
  d->now = os::now_ns(CLOCK_MONOTONIC_COARSE);
  d->snapshot = static_cast<char*>(malloc(SNAPSHOT_MAX));
  dl_iterate_phdr(add_segments, &d->segs);
  bool unwind = unwinder_ready();
  if (unwind) unw_flush_cache(space, 0, 0);  // objects may have come and gone
  if (!unwind) free(d->snapshot), d->snapshot = nullptr;
  tally t;
  for_each_g(count_g, &t);
  d->o.put("libgreen: %s\n", why);
  d->o.put("libgreen: %ld threads, %ld of them running or in a system call\n", t.total,
           t.running);
  d->o.flush();
  for_each_g(print_g, d);
  d->o.put("libgreen: end of thread dump\n");
  d->o.flush();
  free(d->snapshot);
  free(d->segs.v);
  delete d;
}

}  // namespace green
