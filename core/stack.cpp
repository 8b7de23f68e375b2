// Stacks for Gs.
//
// Invariants:
//  - A stack is [guard][usable], the guard just below `base`; usable memory
//    is committed lazily (MAP_NORESERVE), so a big reservation costs only
//    the pages a G touches.
//  - Stacks of the default size come from chunks of CHUNK_STACKS slots in
//    one mapping each; guards inside a chunk are installed with
//    MADV_GUARD_INSTALL (Linux 6.13+), which keeps the chunk a single VMA.
//    Where the kernel refuses it, mprotect(PROT_NONE) is used instead (one
//    more VMA per stack; vm.max_map_count then bounds the thread count).
//  - A free pool slot is linked through a word at the top of its usable
//    range, the end a G touches first anyway: the pool never commits any
//    other page of a stack (the bottom page of every 8 MiB stack would
//    cost a page and, stacks being 8 MiB apart, a page-table page).
//  - Slots are never unmapped: a freed default stack goes back on the free
//    list (its G keeps it while the G sits in a free-G cache). Other sizes
//    get a mapping of their own, unmapped when freed.
//  - User stacks (pthread_attr_setstack) are never freed or reused by us.
#include <sys/mman.h>
#include <unistd.h>

#include "internal.h"
#include "os.h"

#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL 102
#endif

namespace green {

namespace {

constexpr size_t PAGE = 4096;
constexpr int CHUNK_STACKS = 64;

struct free_slot {
  free_slot* next;
};

lock pool_mu;
free_slot* pool_free = nullptr;  // stored at the top of each free slot's usable range
size_t pool_size = 0;            // usable size of pooled stacks
size_t pool_guard = 0;
int guard_mode = 0;              // 0 unknown, 1 MADV_GUARD_INSTALL, 2 mprotect

size_t round_page(size_t n) { return (n + PAGE - 1) & ~(PAGE - 1); }

// A free slot's link sits just below the top of its usable range.
free_slot* slot_link(char* base) { return reinterpret_cast<free_slot*>(base + pool_size) - 1; }
char* link_base(free_slot* f) { return reinterpret_cast<char*>(f + 1) - pool_size; }

bool install_guard(char* at, size_t len) {
  if (len == 0) return true;
  if (guard_mode != 2) {
    if (os::madvise(at, len, MADV_GUARD_INSTALL) == 0) {
      guard_mode = 1;
      return true;
    }
    guard_mode = 2;
  }
  return os::mprotect(at, len, PROT_NONE) == 0;
}

bool grow_pool() {  // pool_mu held
  size_t slot = pool_guard + pool_size;
  char* chunk = static_cast<char*>(os::mmap_anon(slot * CHUNK_STACKS, true));
  if (!chunk) return false;
  for (int i = CHUNK_STACKS - 1; i >= 0; i--) {
    char* s = chunk + slot * i;
    if (!install_guard(s, pool_guard)) return false;
    free_slot* f = slot_link(s + pool_guard);
    f->next = pool_free;
    pool_free = f;
  }
  return true;
}

}  // namespace

bool stack_alloc(stack_desc* s, size_t size, size_t guard) {
  size = round_page(size);
  guard = round_page(guard);
  if (size == sched.cfg.stack_size && (guard == PAGE || guard == 0)) {
    lock_guard l(pool_mu);
    if (pool_size == 0) {
      pool_size = size;
      pool_guard = PAGE;
    }
    if (!pool_free && !grow_pool()) return false;
    free_slot* f = pool_free;
    pool_free = f->next;
    *s = stack_desc{link_base(f), pool_size, pool_guard, false, true};
    return true;
  }
  char* m = static_cast<char*>(os::mmap_anon(guard + size, true));
  if (!m) return false;
  if (!install_guard(m, guard)) {
    os::munmap(m, guard + size);
    return false;
  }
  *s = stack_desc{m + guard, size, guard, false, false};
  return true;
}

void stack_free(stack_desc* s) {
  if (s->user || !s->base) {
    *s = stack_desc{};
    return;
  }
  if (s->pooled) {
    stack_release_memory(s);
    lock_guard l(pool_mu);
    free_slot* f = slot_link(s->base);
    f->next = pool_free;
    pool_free = f;
  } else {
    os::munmap(s->base - s->guard, s->guard + s->size);
  }
  *s = stack_desc{};
}

void stack_fork(fork_phase ph) {
  if (ph == fork_phase::prepare)
    pool_mu.acquire();
  else
    pool_mu.release();
}

void stack_release_memory(stack_desc* s) {
  if (!s->user && s->base) os::madvise(s->base, s->size, MADV_DONTNEED);
}

}  // namespace green
