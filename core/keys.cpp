// pthread keys. The key table is process-wide; values live per thread of
// execution: in the G for Gs, in a TLS-anchored store for OS threads that
// are not Gs (Ms, threads made before the runtime started).
//
// Invariants (as glibc): a key slot is in use iff its sequence number is
// odd; a value is visible only if it was stored under the slot's current
// sequence, so a deleted-and-recreated key never shows old values.
// Destructors run at G exit for up to PTHREAD_DESTRUCTOR_ITERATIONS rounds.
#include <errno.h>
#include <limits.h>
#include <stdlib.h>

#include "internal.h"

namespace green {

namespace {

constexpr int BLOCK = 32;
constexpr int NBLOCKS = PTHREAD_KEYS_MAX / BLOCK;

struct key_slot {
  std::atomic<uint64_t> seq{0};
  std::atomic<void (*)(void*)> dtor{nullptr};
};
key_slot keys[PTHREAD_KEYS_MAX];

struct entry {
  uint64_t seq;
  void* value;
};

__thread key_store* tls_keys;

}  // namespace

struct key_store {
  entry first[BLOCK];
  entry* blocks[NBLOCKS];
};

namespace {

key_store*& current_store() {
  G* g = getg();
  return g ? g->keys : tls_keys;
}

entry* lookup(key_store* s, unsigned key, bool create) {
  if (key < BLOCK) return &s->first[key];
  entry*& b = s->blocks[key / BLOCK];
  if (!b) {
    if (!create) return nullptr;
    b = static_cast<entry*>(calloc(BLOCK, sizeof(entry)));
    if (!b) return nullptr;
  }
  return &b[key % BLOCK];
}

}  // namespace

int key_create(pthread_key_t* key, void (*destructor)(void*)) {
  for (unsigned i = 0; i < PTHREAD_KEYS_MAX; i++) {
    uint64_t s = keys[i].seq.load(std::memory_order_relaxed);
    if ((s & 1) || !keys[i].seq.compare_exchange_strong(s, s + 1, std::memory_order_acq_rel))
      continue;
    keys[i].dtor.store(destructor, std::memory_order_release);
    *key = i;
    return 0;
  }
  return EAGAIN;
}

int key_delete(pthread_key_t key) {
  if (key >= PTHREAD_KEYS_MAX) return EINVAL;
  uint64_t s = keys[key].seq.load(std::memory_order_relaxed);
  if (!(s & 1) || !keys[key].seq.compare_exchange_strong(s, s + 1, std::memory_order_acq_rel))
    return EINVAL;
  return 0;
}

void* getspecific(pthread_key_t key) {
  if (key >= PTHREAD_KEYS_MAX) return nullptr;
  key_store* s = current_store();
  if (!s) return nullptr;
  entry* e = lookup(s, key, false);
  if (!e || e->seq != keys[key].seq.load(std::memory_order_relaxed)) return nullptr;
  return e->value;
}

int setspecific(pthread_key_t key, const void* value) {
  if (key >= PTHREAD_KEYS_MAX) return EINVAL;
  uint64_t seq = keys[key].seq.load(std::memory_order_acquire);
  if (!(seq & 1)) return EINVAL;
  key_store*& s = current_store();
  if (!s) {
    s = static_cast<key_store*>(calloc(1, sizeof(key_store)));
    if (!s) return ENOMEM;
  }
  entry* e = lookup(s, key, true);
  if (!e) return ENOMEM;
  e->seq = seq;
  e->value = const_cast<void*>(value);
  return 0;
}

void keys_run_destructors() {
  key_store* s = current_store();
  if (!s) return;
  for (int round = 0; round < PTHREAD_DESTRUCTOR_ITERATIONS; round++) {
    bool called = false;
    for (unsigned k = 0; k < PTHREAD_KEYS_MAX; k++) {
      entry* e = lookup(s, k, false);
      if (!e) {
        k += BLOCK - 1;
        continue;
      }
      if (!e->value) continue;
      uint64_t seq = keys[k].seq.load(std::memory_order_acquire);
      void (*dtor)(void*) = keys[k].dtor.load(std::memory_order_acquire);
      void* v = e->value;
      e->value = nullptr;
      if (e->seq != seq || !(seq & 1) || !dtor) continue;
      dtor(v);
      called = true;
    }
    if (!called) break;
  }
  for (unsigned k = 0; k < PTHREAD_KEYS_MAX; k += BLOCK) {  // the store is reused
    entry* b = lookup(s, k, false);
    if (b)
      for (int i = 0; i < BLOCK; i++) b[i].value = nullptr;
  }
}

}  // namespace green
