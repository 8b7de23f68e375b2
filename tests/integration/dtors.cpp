// thread_local destructors and pthread key destructors run at thread exit,
// once per thread, with that thread's values; a key destructor that stores
// a value again is called again (POSIX destructor iterations).
#include <pthread.h>
#include <stdio.h>

#include <atomic>

static std::atomic<long> tl_destroyed_sum{0}, key_destroyed{0}, again_calls{0};
static pthread_key_t key, again_key;

struct tracker {
  long v = 0;
  ~tracker() { tl_destroyed_sum += v; }
};
static thread_local tracker tl;

static void key_dtor(void* p) { key_destroyed += (long)p; }
static void again_dtor(void* p) {
  long n = (long)p;
  again_calls++;
  if (n < 3) pthread_setspecific(again_key, (void*)(n + 1));  // set again: called again
}

static void* body(void* arg) {
  long i = (long)arg;
  tl.v = i;
  pthread_setspecific(key, (void*)i);
  pthread_setspecific(again_key, (void*)1L);
  if (pthread_getspecific(key) != (void*)i) return (void*)1;
  return nullptr;
}

int main() {
  pthread_key_create(&key, key_dtor);
  pthread_key_create(&again_key, again_dtor);
  const long n = 100;
  pthread_t t[n];
  long expect = 0;
  for (long i = 1; i <= n; i++) {
    pthread_create(&t[i - 1], nullptr, body, (void*)i);
    expect += i;
  }
  long bad = 0;
  for (auto& x : t) {
    void* r;
    pthread_join(x, &r);
    bad += r != nullptr;
  }
  printf("dtors: thread_local sum %ld (want %ld), key sum %ld (want %ld), re-set calls %ld (want %ld)\n",
         tl_destroyed_sum.load(), expect, key_destroyed.load(), expect, again_calls.load(), 3 * n);
  return bad || tl_destroyed_sum != expect || key_destroyed != expect || again_calls != 3 * n;
}
