// Per-G thread control block: every G runs with its own glibc TCB and static
// TLS block, so errno, __thread/thread_local variables, pthread_self() and
// compiler-cached TLS addresses stay right when the G migrates between Ms
// (trap 8: a G that kept its M's TCB would read another thread's errno).
//
// A G block is laid out as glibc lays out a thread (TLS_TCB_AT_TP):
//
//   block ........ tcb - static_tls .... tcb ............ tcb + sizeof(pthread) ... G
//   [ static TLS of every module      ][ struct pthread (tcbhead_t first) ][ G ]
//
// Invariants:
//  - The static TLS part of a block is glibc's whole static TLS size, its
//    reserve for libraries dlopen'ed later included: every offset the
//    loader hands out (now or at a later dlopen) lies inside every block.
//    glibc's tunables (glibc.rtld.nns, optional_static_tls) size the reserve.
//  - tcb, tcbhead_t.tcb and tcbhead_t.self are the block's own TCB; dtv comes
//    from the loader's _dl_allocate_tls(tcb); stack_guard and pointer_guard
//    equal every other thread's (a frame may return on another TCB).
//  - struct pthread.tid holds the kernel tid of the M the G runs on; it is
//    rewritten on every switch-in (glibc's recursive locks use it as owner).
//  - the rseq area of a G's TCB is marked unregistered (cpu_id = -2), so
//    sched_getcpu() asks the kernel instead of reading a stale value.
//  - struct pthread.list is an empty (self-linked) list node: glibc's fork
//    unlinks THREAD_SELF from its thread list in the child.
//  - On reuse, libc's own TLS block is carried over from the previous G:
//    it holds malloc's per-thread cache, which glibc only frees from its
//    own thread-exit path; reinitialising it would leak that cache per G.
//    errno and the locale are reset at G start instead. Every other module's
//    static TLS is reinitialised from its image.
//  - Reuse fast path: while the set of loaded modules is the one captured at
//    start-up (checked every REFRESH_EVERY resets and whenever the DTV shows
//    dynamically allocated TLS), we re-copy the captured static TLS images
//    ourselves and keep the DTV; otherwise the loader rebuilds it. Only
//    modules present at start-up are ever captured: a dlopen'ed one may be
//    dlclose'd and its image unmapped, so once one with TLS is loaded,
//    resets go through the loader.
//  - ThreadSanitizer builds: libtsan's static TLS block (~770 KiB, all
//    zero-initialised) holds a thread's state and one word, `current`, that
//    points to the state in use (its own, or a fiber's). A G's copy of the
//    block is zero except `current`, which points to the G's fiber
//    (tls_tsan_bind); its other pages are given back, never touched. The
//    M's own copy's `current` names whatever runs on that M, G or g0: the
//    switch code (sched.cpp) calls __tsan_switch_to_fiber only while the
//    thread pointer is the M's own, so the switch of the thread pointer
//    itself never changes which state TSan sees.
#include <dlfcn.h>
#include <errno.h>
#include <link.h>
#include <locale.h>
#include <string.h>
#include <sys/mman.h>

#include "internal.h"
#include "os.h"

#if defined(__SANITIZE_THREAD__)
#include <sanitizer/tsan_interface.h>
#endif

namespace green {

namespace {

using allocate_tls_fn = void* (*)(void*);
using deallocate_tls_fn = void (*)(void*, bool);
using get_tls_static_info_fn = void (*)(size_t*, size_t*);

struct tls_geometry {
  allocate_tls_fn allocate;
  deallocate_tls_fn deallocate;
  void (*call_tls_dtors)();
  size_t static_size;  // static TLS including struct pthread (TLS_TCB_SIZE)
  size_t align;
  size_t pthread_size;
  size_t tid_offset;
  size_t list_offset;
  long rseq_offset;
  bool rseq;
  ptrdiff_t libc_offset;  // libc's block = tcb - libc_offset
  size_t libc_size;
} geo;

struct static_module {
  ptrdiff_t offset;  // block = tcb - offset
  const char* image;
  size_t filesz, memsz;
};
constexpr int MAX_MODULES = 64;
constexpr unsigned REFRESH_EVERY = 1024;
static_module modules[MAX_MODULES];
int nmodules = -1;  // -1: fast path unusable
unsigned long long modules_adds = 0;
size_t modules_gen = 0;  // GL(dl_tls_generation) when captured, if known
lock modules_mu;
std::atomic<unsigned> resets{0};

constexpr size_t HEADER_COPY_BEGIN = 0x18;  // multiple_threads .. feature_1
constexpr size_t HEADER_COPY_END = 0x50;

void* private_sym(const char* name) { return dlvsym(RTLD_DEFAULT, name, "GLIBC_PRIVATE"); }

// Find libc's static TLS block relative to the thread pointer.
int find_libc_block(struct dl_phdr_info* info, size_t, void* data) {
  auto* self = static_cast<char*>(data);
  if (!info->dlpi_name || !strstr(info->dlpi_name, "/libc.so")) return 0;
  for (int i = 0; i < info->dlpi_phnum; i++) {
    if (info->dlpi_phdr[i].p_type != PT_TLS || !info->dlpi_tls_data) continue;
    geo.libc_offset = self - static_cast<char*>(info->dlpi_tls_data);
    geo.libc_size = info->dlpi_phdr[i].p_memsz;
    return 1;
  }
  return 0;
}

#if defined(__SANITIZE_THREAD__)
// libtsan's static TLS block (offsets below the thread pointer) and the
// offset of its `current` word (see the invariants above).
ptrdiff_t tsan_offset;
size_t tsan_size;
ptrdiff_t tsan_current_offset;

int find_tsan_block(struct dl_phdr_info* info, size_t, void* data) {
  if (!info->dlpi_name || !strstr(info->dlpi_name, "/libtsan.so")) return 0;
  for (int i = 0; i < info->dlpi_phnum; i++)
    if (info->dlpi_phdr[i].p_type == PT_TLS && info->dlpi_tls_data &&
        info->dlpi_phdr[i].p_filesz == 0) {
      tsan_offset = static_cast<char*>(data) - static_cast<char*>(info->dlpi_tls_data);
      tsan_size = info->dlpi_phdr[i].p_memsz;
    }
  return 1;
}

// Find `current`: on a thread that never switched fibers it points to the
// thread's own state, which is inside the block; it is the one such word
// that names a fiber once we switch to it. Runs on an M or a plain thread.
bool find_tsan_current(char* self) {
  char* block = self - tsan_offset;
  char* state = static_cast<char*>(__tsan_get_current_fiber());
  if (!tsan_size || state < block || state >= block + tsan_size) return false;
  auto* w = reinterpret_cast<void**>(block);
  size_t n = tsan_size / sizeof(void*);
  void* fiber = __tsan_create_fiber(0);
  __tsan_switch_to_fiber(fiber, __tsan_switch_to_fiber_no_sync);
  ptrdiff_t found = -1;
  int matches = 0;
  for (size_t i = 0; i < n; i++)
    if (w[i] == fiber) {
      found = static_cast<ptrdiff_t>(i);
      matches++;
    }
  __tsan_switch_to_fiber(state, __tsan_switch_to_fiber_no_sync);
  __tsan_destroy_fiber(fiber);
  if (matches != 1 || w[found] != state) return false;
  tsan_current_offset = self - reinterpret_cast<char*>(&w[found]);
  return true;
}

bool tsan_block_owned(ptrdiff_t off) { return tsan_size && off == tsan_offset; }
#else
bool tsan_block_owned(ptrdiff_t) { return false; }
#endif

struct capture {
  char* self;
  int n;
  bool ok;
  unsigned long long adds;
};

// Load addresses of the modules with TLS present at start-up (the first
// capture). Only their images may be copied by the fast path: a module
// dlopen'ed later can be dlclose'd, which unmaps the image we would copy.
ElfW(Addr) initial_bases[MAX_MODULES];
int ninitial = -1;

bool is_initial(ElfW(Addr) base) {
  for (int i = 0; i < ninitial; i++)
    if (initial_bases[i] == base) return true;
  return false;
}

int capture_module(struct dl_phdr_info* info, size_t, void* data) {
  auto* c = static_cast<capture*>(data);
  c->adds = info->dlpi_adds;
  for (int i = 0; i < info->dlpi_phnum; i++) {
    const ElfW(Phdr)& ph = info->dlpi_phdr[i];
    if (ph.p_type != PT_TLS) continue;
    if (ninitial >= 0 && !is_initial(info->dlpi_addr)) {
      c->ok = false;  // dlopen'ed: leave resets to the loader (see initial_bases)
      continue;
    }
    if (!info->dlpi_tls_data) {
      c->ok = false;  // dynamic TLS module: leave resets to the loader
      continue;
    }
    ptrdiff_t off = c->self - static_cast<char*>(info->dlpi_tls_data);
    if (off == geo.libc_offset) continue;  // carried over, see above
    if (tsan_block_owned(off)) continue;   // tls_tsan_bind's
    if (off <= 0 || (size_t)off > geo.static_size || c->n == MAX_MODULES) {
      c->ok = false;
      continue;
    }
    modules[c->n++] = static_module{off, reinterpret_cast<const char*>(info->dlpi_addr + ph.p_vaddr),
                                    ph.p_filesz, ph.p_memsz};
  }
  return 0;
}

int record_initial(struct dl_phdr_info* info, size_t, void*) {
  for (int i = 0; i < info->dlpi_phnum; i++)
    if (info->dlpi_phdr[i].p_type == PT_TLS && ninitial < MAX_MODULES)
      initial_bases[ninitial++] = info->dlpi_addr;
  return 0;
}

// (Re)capture the static TLS modules; nmodules = -1 if the fast path
// cannot be used. Runs on an M or a G whose TLS is fully initialised.
void capture_modules() {
  lock_guard l(modules_mu);
  if (ninitial < 0) {
    ninitial = 0;
    dl_iterate_phdr(record_initial, nullptr);
  }
  if (const size_t* gen = glibc_tls_generation()) modules_gen = __atomic_load_n(gen, __ATOMIC_ACQUIRE);
  capture c{static_cast<char*>(os::thread_pointer()), 0, true, 0};
  dl_iterate_phdr(capture_module, &c);
  modules_adds = c.adds;
  nmodules = c.ok ? c.n : -1;
}

int count_adds(struct dl_phdr_info* info, size_t, void* data) {
  *static_cast<unsigned long long*>(data) = info->dlpi_adds;
  return 1;
}

// Whether modules with TLS were loaded or unloaded since the capture: by
// glibc's TLS generation, one load (glibcthreads.cpp); without it, a look
// every REFRESH_EVERY resets. If so recapture and report it (the caller
// then takes the slow path).
bool modules_changed() {
  if (const size_t* gen = glibc_tls_generation()) {
    if (__atomic_load_n(gen, __ATOMIC_ACQUIRE) == modules_gen) return false;
    capture_modules();
    return true;
  }
  // A plain increment: a lost count only delays the look a little.
  unsigned n = resets.load(std::memory_order_relaxed);
  resets.store(n + 1, std::memory_order_relaxed);
  if (n % REFRESH_EVERY) return false;
  unsigned long long adds = 0;
  dl_iterate_phdr(count_adds, &adds);
  if (adds == modules_adds) return false;
  capture_modules();
  return true;
}

// True if the DTV holds nothing the loader allocated lazily (dlopen'ed
// modules' TLS): then it stays valid for the next G as it is.
bool dtv_is_static(char* tcb) {
  auto* dtv = *reinterpret_cast<uintptr_t**>(tcb + 8);  // tcbhead_t.dtv
  size_t slots = dtv[-2];                               // dtv[-1].counter
  for (size_t i = 1; i <= slots; i++)
    if (dtv[2 * i + 1]) return false;  // dtv[i].pointer.to_free
  return true;
}


#if defined(__SANITIZE_ADDRESS__)
// AddressSanitizer keeps its per-thread state in libasan's static TLS. A G
// runs with the state of the M it is on (ASan's fiber model: fibers run on
// threads), carried into the G's TCB on switch-in and back on switch-out.
ptrdiff_t asan_offset;
size_t asan_size;
int find_asan_block(struct dl_phdr_info* info, size_t, void* data) {
  if (!info->dlpi_name || !strstr(info->dlpi_name, "/libasan.so")) return 0;
  for (int i = 0; i < info->dlpi_phnum; i++)
    if (info->dlpi_phdr[i].p_type == PT_TLS && info->dlpi_tls_data) {
      asan_offset = static_cast<char*>(data) - static_cast<char*>(info->dlpi_tls_data);
      asan_size = info->dlpi_phdr[i].p_memsz;
    }
  return 1;
}
#endif

}  // namespace

void tls_sanitizer_in(M* m, G* g) {
#if defined(__SANITIZE_ADDRESS__)
  if (asan_size)
    memcpy(static_cast<char*>(g->tcb) - asan_offset, static_cast<char*>(m->tcb) - asan_offset,
           asan_size);
#else
  (void)m, (void)g;
#endif
}

void tls_sanitizer_out(M* m, G* g) {
#if defined(__SANITIZE_ADDRESS__)
  if (asan_size)
    memcpy(static_cast<char*>(m->tcb) - asan_offset, static_cast<char*>(g->tcb) - asan_offset,
           asan_size);
#else
  (void)m, (void)g;
#endif
}


bool tls_init() {
  auto get_info = (get_tls_static_info_fn)private_sym("_dl_get_tls_static_info");
  geo.allocate = (allocate_tls_fn)private_sym("_dl_allocate_tls");
  geo.deallocate = (deallocate_tls_fn)private_sym("_dl_deallocate_tls");
  geo.call_tls_dtors = (void (*)())private_sym("__call_tls_dtors");
  auto* tid_desc = (const uint32_t*)private_sym("_thread_db_pthread_tid");
  auto* list_desc = (const uint32_t*)private_sym("_thread_db_pthread_list");
  auto* pthread_size = (const uint32_t*)private_sym("_thread_db_sizeof_pthread");
  auto* rseq_off = (const long*)dlsym(RTLD_DEFAULT, "__rseq_offset");
  auto* rseq_size = (const unsigned*)dlsym(RTLD_DEFAULT, "__rseq_size");
  if (!get_info || !geo.allocate || !geo.deallocate || !geo.call_tls_dtors || !tid_desc ||
      !list_desc || !pthread_size)
    return false;
  get_info(&geo.static_size, &geo.align);
  geo.pthread_size = *pthread_size;
  geo.tid_offset = tid_desc[2];
  if (tid_desc[0] != 32 || geo.tid_offset + 4 > geo.pthread_size) return false;
  geo.list_offset = list_desc[2];
  if (list_desc[0] != 128 || geo.list_offset + 16 > geo.pthread_size) return false;
  geo.rseq = rseq_off && rseq_size && *rseq_size >= 8;
  geo.rseq_offset = geo.rseq ? *rseq_off : 0;
  // The static TLS area ends where struct pthread begins; keep tcb aligned.
  if (geo.static_size % geo.align || geo.pthread_size % geo.align) return false;
  char* self = static_cast<char*>(os::thread_pointer());
  // Verify the tid offset on this very thread before trusting it.
  if (*reinterpret_cast<int*>(self + geo.tid_offset) != os::gettid()) return false;
  dl_iterate_phdr(find_libc_block, self);
  if (geo.libc_size == 0) return false;
#if defined(__SANITIZE_ADDRESS__)
  dl_iterate_phdr(find_asan_block, self);
#endif
#if defined(__SANITIZE_THREAD__)
  dl_iterate_phdr(find_tsan_block, self);
  GREEN_CHECK(find_tsan_current(self), "cannot find ThreadSanitizer's per-thread state in its TLS");
#endif
  glibc_threads_init(self, geo.list_offset);
  capture_modules();
  return true;
}

size_t tls_block_size() { return geo.static_size; }
size_t tls_tcb_offset() { return geo.static_size - geo.pthread_size; }

static void fill_header(char* tcb) {
  char* mine = static_cast<char*>(os::thread_pointer());
  memcpy(tcb + HEADER_COPY_BEGIN, mine + HEADER_COPY_BEGIN, HEADER_COPY_END - HEADER_COPY_BEGIN);
  reinterpret_cast<void**>(tcb)[0] = tcb;  // tcbhead_t.tcb
  reinterpret_cast<void**>(tcb)[2] = tcb;  // tcbhead_t.self
  *reinterpret_cast<int*>(tcb + 0x18) = 1;  // multiple_threads
  if (!glibc_threads_active()) {  // else its list node is glibc's (glibcthreads.cpp)
    void** list = reinterpret_cast<void**>(tcb + geo.list_offset);
    list[0] = list[1] = list;  // empty node: fork's list_del(&self->list) is harmless
  }
  if (geo.rseq) *reinterpret_cast<int32_t*>(tcb + geo.rseq_offset + 4) = -2;  // unregistered
}

void tls_setup(G* g, char* block) {
  char* tcb = block + tls_tcb_offset();
  g->tcb = tcb;
  fill_header(tcb);
  glibc_threads_mark(tcb);  // kept on reuse (glibc_threads_clear)
  glibc_threads_add(g);  // before the loader fills it: a dlopen meanwhile reaches it too
  GREEN_CHECK(geo.allocate(tcb) == tcb, "_dl_allocate_tls failed");
  g->tls_ready = true;
}

void tls_reset(G* g) {
  char* tcb = static_cast<char*>(g->tcb);
  glibc_threads_add(g);  // again in a fork child
  bool changed = modules_changed();
  if (!changed && nmodules >= 0 && dtv_is_static(tcb)) {
    void* dtv = reinterpret_cast<void**>(tcb)[1];
    glibc_threads_clear(tcb, geo.pthread_size);
    fill_header(tcb);
    reinterpret_cast<void**>(tcb)[1] = dtv;
    for (int i = 0; i < nmodules; i++) {
      char* block = tcb - modules[i].offset;
      memcpy(block, modules[i].image, modules[i].filesz);
      memset(block + modules[i].filesz, 0, modules[i].memsz - modules[i].filesz);
    }
    return;
  }
  char libc_block[512];
  size_t keep = geo.libc_size < sizeof libc_block ? geo.libc_size : 0;
  if (keep) memcpy(libc_block, tcb - geo.libc_offset, keep);
  geo.deallocate(tcb, false);
  glibc_threads_clear(tcb, geo.pthread_size);
  fill_header(tcb);
  GREEN_CHECK(geo.allocate(tcb) == tcb, "_dl_allocate_tls failed");
  if (keep) memcpy(tcb - geo.libc_offset, libc_block, keep);
}

// In a fork child, glibc marked every TCB but THREAD_SELF (the forking G's)
// dead and cached its stack, including the TCB of the M we run on; a
// live tid makes its stack unusable again for glibc's next pthread_create.
void tls_mark_alive(void* tcb, int tid) {
  *reinterpret_cast<int*>(static_cast<char*>(tcb) + geo.tid_offset) = tid;
}

int tls_tid(const G* g) {
  auto* tid = reinterpret_cast<const int*>(static_cast<const char*>(g->tcb) + geo.tid_offset);
  return __atomic_load_n(tid, __ATOMIC_RELAXED);
}

void tls_fork(fork_phase ph) {
  if (ph == fork_phase::prepare) {
    modules_mu.acquire();
    return;
  }
  modules_mu.release();
  if (ph == fork_phase::child) glibc_threads_fork_child(getg());
}

void tls_enter(G* g, M* m) {
  *reinterpret_cast<int*>(static_cast<char*>(g->tcb) + geo.tid_offset) = m->tid;
  os::set_thread_pointer(g->tcb);
}

void tls_tsan_bind(G* g) {
#if defined(__SANITIZE_THREAD__)
  // Zero the block as a new thread's is: whole pages are given back (they
  // read as zero), the partial pages at both ends and the page of
  // `current` are cleared by hand.
  constexpr uintptr_t PAGE = 4096;
  auto zero = [](uintptr_t x, uintptr_t y) {
    if (x < y) memset(reinterpret_cast<void*>(x), 0, y - x);
  };
  auto drop = [](uintptr_t x, uintptr_t y) {
    if (x < y) os::madvise(reinterpret_cast<void*>(x), y - x, MADV_DONTNEED);
  };
  char* tcb = static_cast<char*>(g->tcb);
  auto lo = reinterpret_cast<uintptr_t>(tcb - tsan_offset), hi = lo + tsan_size;
  auto cur = reinterpret_cast<uintptr_t>(tcb - tsan_current_offset);
  uintptr_t a = (lo + PAGE - 1) & ~(PAGE - 1), b = hi & ~(PAGE - 1);
  if (a >= b) {
    zero(lo, hi);
  } else {
    zero(lo, a);
    zero(b, hi);
    uintptr_t c0 = cur & ~(PAGE - 1), c1 = c0 + PAGE;
    if (c0 >= a && c1 <= b) {
      drop(a, c0);
      zero(c0, c1);
      drop(c1, b);
    } else {
      drop(a, b);
    }
  }
  *reinterpret_cast<void**>(cur) = g->tsan_fiber;
#else
  (void)g;
#endif
}

void tls_start_thread() {
  uselocale(LC_GLOBAL_LOCALE);  // also sets the ctype tables' TLS pointers
  errno = 0;
}

void tls_run_dtors() { geo.call_tls_dtors(); }

}  // namespace green
