// G blocks: each G lives in one block of a single reserved arena, laid out
// as [static TLS | struct pthread | G] (see tls.cpp), so pthread_t -> G is
// arithmetic and is_green() is a range check.
//
// Invariants:
//  - Blocks are never unmapped: a dead G goes to its P's free cache (up to
//    GFREE_LOCAL) or the global free list and is reused, with its TCB and,
//    for default-size stacks, its stack (as Go keeps dead Gs in gFree).
//  - The global free list keeps up to GFREE_WARM Gs with their stack memory
//    committed. Beyond that, freed Gs go to a pending list whose stack
//    memory idle Ms give back (MADV_DONTNEED, a TLB shoot-down on every CPU
//    running us) in small batches before they sleep (gpool_trim), never on
//    the freeing thread's path; trimmed Gs move to the cold list. Reuse
//    prefers warm, then pending, then cold Gs.
//  - A block in a free list has status idle; handles to it are invalid.
//    A block leaves idle (galloc, release) and gets its magic (fresh_block,
//    release) only once set up: walkers that find it with acquire loads
//    read a complete G.
//  - G ids are unique and never reused; a P takes them from the global
//    counter in batches (new_id), so they increase per P, not globally.
//  - ThreadSanitizer builds: each G has a TSan fiber from galloc to gfree
//    (named "G <id>" in reports), made by its creator, so reports show
//    where a G was created; a block is ~800 KiB there (libtsan's TLS), so
//    the arena holds fewer of them.
#include <string.h>

#include <boost/context/detail/fcontext.hpp>

#include "internal.h"
#include "os.h"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#endif
#if defined(__SANITIZE_THREAD__)
#include <stdio.h>
#include <sanitizer/tsan_interface.h>
#endif

namespace green {

namespace {

#if defined(__SANITIZE_THREAD__)
constexpr size_t ARENA_BLOCKS = size_t(1) << 16;  // TSan's address space has no room for more
#else
constexpr size_t ARENA_BLOCKS = size_t(1) << 24;  // 16M Gs alive at most
#endif
constexpr int GFREE_LOCAL = 64;
constexpr int GFREE_WARM = 4096;

char* arena = nullptr;
size_t block_size = 0;
std::atomic<size_t> next_fresh{0};
lock free_mu;
G* free_list = nullptr;  // warm
int free_count = 0;
G* free_pending = nullptr;  // stack memory still committed, to be trimmed
std::atomic<int> npending{0};
G* free_cold = nullptr;  // stack memory given back
std::atomic<uint64_t> next_id{1};

G* block_g(char* block) { return reinterpret_cast<G*>(block + tls_block_size()); }

bool arena_init() {
  if (arena) return true;
  block_size = (tls_block_size() + sizeof(G) + 63) & ~size_t(63);
  arena = static_cast<char*>(os::mmap_anon(block_size * ARENA_BLOCKS, true));
  return arena != nullptr;
}

G* fresh_block() {
  if (!arena && !arena_init()) return nullptr;
  size_t i = next_fresh.fetch_add(1, std::memory_order_relaxed);
  if (i >= ARENA_BLOCKS) return nullptr;
  char* block = arena + i * block_size;
  G* g = block_g(block);
  g->slot = (uint32_t)i;
  g->owner_id = 0x40000000 | (int)i;
  tls_setup(g, block);
  // Walkers (for_each_g, g_from_*) see blocks [0, next_fresh), this one
  // included while it is set up: it counts once this is visible.
  g->magic.store(G_MAGIC, std::memory_order_release);
  return g;
}

// Unique, never reused; increasing per P, not globally.
constexpr uint64_t GOID_BATCH = 16;
uint64_t new_id() {
  P* p = getp();
  if (!p) return next_id.fetch_add(1, std::memory_order_relaxed);
  if (p->idcache == p->idcache_end) {
    p->idcache = next_id.fetch_add(GOID_BATCH, std::memory_order_relaxed);
    p->idcache_end = p->idcache + GOID_BATCH;
  }
  return p->idcache++;
}

G* take_free(size_t stack_size) {
  P* p = getp();
  if (p && p->gfree && p->gfree->stack.size == stack_size) {
    G* g = p->gfree;
    p->gfree = g->schedlink;
    p->ngfree--;
    return g;
  }
  lock_guard l(free_mu);
  G* g = free_list;
  if (g) {
    free_list = g->schedlink;
    free_count--;
  } else if ((g = free_pending)) {
    free_pending = g->schedlink;
    npending.fetch_sub(1, std::memory_order_relaxed);
  } else if ((g = free_cold)) {
    free_cold = g->schedlink;
  }
  return g;
}

}  // namespace

bool g_in_arena(const void* p) {
  auto* c = static_cast<const char*>(p);
  return arena && c >= arena && c < arena + block_size * next_fresh.load(std::memory_order_acquire);
}

bool for_each_g(bool (*fn)(G* g, void* ctx), void* ctx) {
  size_t n = arena ? next_fresh.load(std::memory_order_acquire) : 0;
  for (size_t i = 0; i < n; i++) {
    G* g = block_g(arena + i * block_size);
    if (g->magic.load(std::memory_order_acquire) != G_MAGIC ||
        g->status.load(std::memory_order_acquire) == gstatus::idle)
      continue;
    if (!fn(g, ctx)) return false;
  }
  return true;
}

G* g_from_owner_id(int id) {
  if ((id & 0x40000000) == 0) return nullptr;
  size_t i = (size_t)(id & 0x3fffffff);
  if (!arena || i >= next_fresh.load(std::memory_order_acquire)) return nullptr;
  G* g = block_g(arena + i * block_size);
  if (g->magic.load(std::memory_order_acquire) != G_MAGIC ||
      g->status.load(std::memory_order_acquire) == gstatus::idle)
    return nullptr;
  return g;
}

G* g_from_handle(pthread_t t) {
  char* tcb = reinterpret_cast<char*>(t);
  if (!g_in_arena(tcb)) return nullptr;
  char* block = tcb - tls_tcb_offset();
  if ((size_t)(block - arena) % block_size) return nullptr;
  G* g = block_g(block);
  if (g->magic.load(std::memory_order_acquire) != G_MAGIC ||
      g->status.load(std::memory_order_acquire) == gstatus::idle)
    return nullptr;
  return g;
}

G* galloc(size_t stack_size, void* user_stack, size_t guard) {
  G* g = take_free(user_stack ? 0 : stack_size);
  bool reused = g != nullptr;
  if (!g) g = fresh_block();
  if (!g) return nullptr;
  if (reused) tls_reset(g);
  bool stack_fits = !user_stack && g->stack.base && g->stack.size == stack_size &&
                    !g->stack.user && g->stack.guard >= guard;
  if (!stack_fits) {
    stack_free(&g->stack);
    if (user_stack) {
      g->stack = stack_desc{static_cast<char*>(user_stack), stack_size, 0, true, false};
    } else if (!stack_alloc(&g->stack, stack_size, guard)) {
      gfree(g);
      return nullptr;
    }
  }
  g->id = new_id();
  g->schedlink = nullptr;
  g->m = nullptr;
  g->name[0] = 0;
  g->is_main = false;
  g->started = false;
  g->entry_sp = 0;
  g->nopark = 0;
  g->intr.store(0, std::memory_order_relaxed);
  g->park_bucket.store(nullptr, std::memory_order_relaxed);
  g->park_waiter = nullptr;
  g->intr_restart = false;
  g->delivering = false;
  g->sigwait_set.store(0, std::memory_order_relaxed);
  g->sigdirected.store(0, std::memory_order_relaxed);
  g->section_depth = 0;
  g->section_real = false;
  cancel_reset(g);
  g->result = nullptr;
  g->joining = nullptr;
  g->asan_fake_stack = nullptr;
#if defined(__SANITIZE_THREAD__)
  g->tsan_fiber = __tsan_create_fiber(0);
  char name[32];
  snprintf(name, sizeof name, "G %llu", (unsigned long long)g->id);
  __tsan_set_fiber_name(g->tsan_fiber, name);
  tls_tsan_bind(g);
#endif
#if defined(__SANITIZE_ADDRESS__)
  // A G leaves its stack by a jump, never by returning: redzones its frames
  // poisoned are still marked. A fresh G starts with a clean stack.
  ASAN_UNPOISON_MEMORY_REGION(g->stack.base, g->stack.size);
#endif
  g->ctx = boost::context::detail::make_fcontext(g->stack.base + g->stack.size, g->stack.size,
                                                  g_entry);
  // Last: walkers (for_each_g, g_from_*) skip an idle G, so they see this
  // one only set up.
  g->status.store(gstatus::waiting, std::memory_order_release);
  return g;
}

void gfree(G* g) {
  if (g->stack.user) stack_free(&g->stack);
#if defined(__SANITIZE_THREAD__)
  if (g->tsan_fiber) __tsan_destroy_fiber(g->tsan_fiber);
  g->tsan_fiber = nullptr;
#endif
  g->status.store(gstatus::idle, std::memory_order_release);
  P* p = getp();
  if (p && p->ngfree < GFREE_LOCAL && g->stack.base) {
    g->schedlink = p->gfree;
    p->gfree = g;
    p->ngfree++;
    return;
  }
  lock_guard l(free_mu);
  if (free_count >= GFREE_WARM) {
    g->schedlink = free_pending;
    free_pending = g;
    npending.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  g->schedlink = free_list;
  free_list = g;
  free_count++;
}

void gpool_fork(fork_phase ph) {
  if (ph == fork_phase::prepare)
    free_mu.acquire();
  else
    free_mu.release();  // dead Gs stay reusable in the child
}

bool gpool_trim(int max) {
  for (int i = 0; i < max && npending.load(std::memory_order_relaxed) > 0; i++) {
    G* g;
    {
      lock_guard l(free_mu);
      if (!(g = free_pending)) break;
      free_pending = g->schedlink;
      npending.fetch_sub(1, std::memory_order_relaxed);
    }
    stack_release_memory(&g->stack);  // g is ours alone meanwhile
    lock_guard l(free_mu);
    g->schedlink = free_cold;
    free_cold = g;
  }
  return npending.load(std::memory_order_relaxed) > 0;
}

}  // namespace green
