// G blocks in glibc's own thread list, so the loader reaches their TLS.
//
// When dlopen gives a module static TLS (initial-exec TLS, or dynamic TLS
// glibc chooses to place in its static reserve), glibc copies the module's
// initial image into every thread it knows: the lists GL(dl_stack_used)
// (its stacks) and GL(dl_stack_user) (threads on stacks of their own), in
// _rtld_global, under GL(dl_stack_cache_lock). A G's TCB on neither list
// kept garbage there (the dlopen caller, threads alive across the dlopen,
// dead Gs waiting for reuse). The same lists are what dlclose waits on for
// threads inside a symbol lookup (THREAD_GSCOPE_WAIT) and what set*id()
// signals (setxid.cpp).
//
// Invariants:
//  - Every G block's struct pthread is linked into GL(dl_stack_user) before
//    its first _dl_allocate_tls and stays linked while the process lives
//    (blocks are never unmapped, gpool.cpp): a module loaded at any moment
//    is initialised in every block, free ones included.
//  - A block's struct pthread.cancelhandling has glibc's EXITING bit: glibc
//    never signals a G for set*id() (its M gets the signal, setxid.cpp).
//    libgreen's cancellation state is its own (cancel.cpp).
//  - Links are made with glibc's lock protocol (the futex word of lll_lock,
//    private) and its fork record GL(dl_in_flight_stack), as glibc does.
//  - In a fork child glibc empties the lists and keeps only the forking
//    TCB (on its used list); glibc_threads_fork_child moves it to the user
//    list and starts a new epoch: a block is linked again when it is next
//    used (G.list_epoch), so the child touches no other block.
//  - The offsets come from glibc's own descriptors for libthread_db
//    (_thread_db_*); the lock, the record and the TLS generation are found
//    at fixed places next to described fields and checked at start-up
//    against what they must hold. If a check fails nothing is linked and
//    tls.cpp looks for loaded modules every REFRESH_EVERY resets instead.
#include <dlfcn.h>
#include <string.h>

#include <utility>

#include "internal.h"
#include "os.h"

namespace green {

namespace {

struct list_node {
  list_node* next;
  list_node* prev;
};

constexpr int EXITING_BITMASK = 0x10;  // glibc's nptl/descr.h

struct {
  list_node* user = nullptr;  // GL(dl_stack_user)
  int* lock = nullptr;        // GL(dl_stack_cache_lock)
  uintptr_t* in_flight = nullptr;
  const size_t* generation = nullptr;  // GL(dl_tls_generation)
  size_t list_offset = 0, cancel_offset = 0;
  uint32_t epoch = 1;
} gt;

// glibc's descriptor: {bits per element, elements, offset}; nullptr if absent.
const uint32_t* descriptor(const char* name) {
  return static_cast<const uint32_t*>(dlvsym(RTLD_DEFAULT, name, "GLIBC_PRIVATE"));
}

void lll_lock(int* w) {
  int expected = 0;
  if (__atomic_compare_exchange_n(w, &expected, 1, false, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) return;
  syscall_enter();  // glibc may hold it over a walk of every thread
  while (__atomic_exchange_n(w, 2, __ATOMIC_ACQUIRE) != 0) os::futex_wait(w, 2, nullptr);
  syscall_exit();
}

void lll_unlock(int* w) {
  if (__atomic_exchange_n(w, 0, __ATOMIC_RELEASE) > 1) os::futex_wake(w, 1);
}

list_node* node_of(void* tcb) {
  return reinterpret_cast<list_node*>(static_cast<char*>(tcb) + gt.list_offset);
}

void link_first(list_node* n) {  // list lock held
  __atomic_store_n(gt.in_flight, reinterpret_cast<uintptr_t>(n) | 1, __ATOMIC_RELEASE);
  n->next = gt.user->next;
  n->prev = gt.user;
  gt.user->next->prev = n;
  __atomic_store_n(&gt.user->next, n, __ATOMIC_RELEASE);
  __atomic_store_n(gt.in_flight, 0, __ATOMIC_RELEASE);
}

bool on_list(list_node* head, list_node* n) {
  int steps = 0;
  for (list_node* p = head->next; p != head && steps < 4096; p = p->next, steps++)
    if (p == n) return true;
  return false;
}

}  // namespace

bool glibc_threads_init(void* self_tcb, size_t list_offset) {
  auto* rtld = static_cast<char*>(dlvsym(RTLD_DEFAULT, "_rtld_global", "GLIBC_PRIVATE"));
  const uint32_t* used = descriptor("_thread_db_rtld_global__dl_stack_used");
  const uint32_t* user = descriptor("_thread_db_rtld_global__dl_stack_user");
  const uint32_t* cancel = descriptor("_thread_db_pthread_cancelhandling");
  const uint32_t* slotinfo = descriptor("_thread_db_rtld_global__dl_tls_dtv_slotinfo_list");
  if (!rtld || !used || !user || !cancel || !slotinfo) return false;
  // ldsodefs.h: used, user, cache (list_t each), cache size, in-flight
  // record, lock; slotinfo list, static nelem, static used, optional,
  // initial DTV, generation.
  if (used[0] != 128 || user[0] != 128 || user[2] != used[2] + 16 || cancel[0] != 32) return false;
  auto* head = reinterpret_cast<list_node*>(rtld + user[2]);
  auto* cache = head + 1;
  auto* in_flight = reinterpret_cast<uintptr_t*>(rtld + user[2] + 40);
  auto* lock = reinterpret_cast<int*>(rtld + user[2] + 48);
  gt.list_offset = list_offset;
  gt.cancel_offset = cancel[2];
  // What they hold now: the calling (initial) thread on the user list, a
  // well-formed cache list, no list operation in flight.
  if (!on_list(head, node_of(self_tcb)) || cache->next->prev != cache || *in_flight != 0)
    return false;
  char* tls = rtld + slotinfo[2];
  void* initial_dtv = *reinterpret_cast<void**>(tls + 32);
  void* my_dtv = static_cast<void**>(self_tcb)[1];  // tcbhead_t.dtv
  if (slotinfo[0] == 64 && initial_dtv == my_dtv)
    gt.generation = reinterpret_cast<const size_t*>(tls + 40);
  gt.user = head;
  gt.lock = lock;
  gt.in_flight = in_flight;
  return true;
}

bool glibc_threads_active() { return gt.user != nullptr; }

const size_t* glibc_tls_generation() { return gt.generation; }

// A block's first set-up, before it is on the list: nobody else reads it yet.
void glibc_threads_mark(void* tcb) {
  if (!gt.user) return;
  auto* ch = reinterpret_cast<int*>(static_cast<char*>(tcb) + gt.cancel_offset);
  __atomic_store_n(ch, __atomic_load_n(ch, __ATOMIC_RELAXED) | EXITING_BITMASK, __ATOMIC_RELAXED);
}

// Zero a block's struct pthread for its next G, except what glibc may read
// meanwhile: the list node and cancelhandling (which keeps EXITING).
void glibc_threads_clear(void* tcb, size_t size) {
  char* t = static_cast<char*>(tcb);
  if (!gt.user) {
    memset(t, 0, size);
    return;
  }
  struct {
    size_t at, len;
  } keep[2] = {{gt.list_offset, sizeof(list_node)}, {gt.cancel_offset, sizeof(int)}};
  if (keep[1].at < keep[0].at) std::swap(keep[0], keep[1]);
  size_t from = 0;
  for (auto& k : keep) {
    memset(t + from, 0, k.at - from);
    from = k.at + k.len;
  }
  memset(t + from, 0, size - from);
}

void glibc_threads_add(G* g) {
  if (!gt.user || g->list_epoch == gt.epoch) return;
  lll_lock(gt.lock);
  link_first(node_of(g->tcb));
  lll_unlock(gt.lock);
  g->list_epoch = gt.epoch;
}

void glibc_threads_fork_child(G* self) {
  if (!gt.user) return;
  *gt.lock = 0;
  *gt.in_flight = 0;
  gt.epoch++;
  if (!self) return;
  list_node* n = node_of(self->tcb);
  n->prev->next = n->next;  // glibc put it on its used list
  n->next->prev = n->prev;
  link_first(n);
  self->list_epoch = gt.epoch;
}

}  // namespace green
