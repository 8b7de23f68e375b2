// Waiting on a 32-bit word, for the synchronisation objects (mutex, cond,
// rwlock, barrier, sem). One call site per primitive, two mechanisms:
//   private objects: the parking lot, keyed by `key` (any address inside the
//     object), validated by *word == val under the bucket lock;
//   process-shared objects: the kernel futex on `word` itself, without the
//     PRIVATE flag (waiters may sit in other processes), inside a syscall
//     section so the G's P keeps running other Gs while it sleeps.
// Either way a waker that changes *word and then calls wake_word() on the
// same key/word never misses a waiter that validated the old value.
#pragma once
#include <atomic>
#include <stdint.h>
#include <time.h>

#include "green.h"

namespace green {

// Returns 0 (woken, or *word != val already: the caller re-checks its
// state), ETIMEDOUT once the deadline (absolute ns of clock, <= 0: none) has
// passed, EINTR (shared: a signal interrupted the kernel wait; either kind
// when `interruptible` and the G was interrupted: a cancellation point).
// why: what the caller waits for, for thread dumps (park). front: queue
// ahead of the other waiters (private only). validate (private only):
// replaces the check *word == val; runs under the bucket lock as
// validate(key, validate_ctx), and may update the object there (the
// mutex takes itself if free, else marks itself contended and queued).
int wait_word(const void* key, const std::atomic<uint32_t>* word, uint32_t val,
              int64_t deadline_ns, clockid_t clock, bool shared, wait_on why = {},
              bool interruptible = false, bool front = false,
              park_validate_fn validate = nullptr, const void* validate_ctx = nullptr);
// Wake one (all = false) or every waiter of key (private) / word (shared).
void wake_word(const void* key, const void* word, bool all, bool shared);

// Who holds an object, for the kinds that check (error-checking and
// recursive mutexes, rwlock writers): the G's owner_id, or the kernel tid
// outside a G. The numbers repeat across processes, so a process-shared
// object stores owner_pshared(id): pid and number as one 64-bit word,
// written and compared at once.
int owner_self();
uint64_t owner_pshared(int id);

}  // namespace green
