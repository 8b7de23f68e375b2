// cxx [max_kernel_threads]: the C++ standard library's threads and
// synchronisation: std::thread, std::mutex, std::shared_mutex,
// std::condition_variable (wait_until on steady_clock, which libstdc++ turns
// into pthread_cond_clockwait), std::async/std::future, std::counting_semaphore
// and std::atomic<T>::wait/notify (libstdc++ reaches the kernel with
// syscall(SYS_futex)). With an argument, 200 threads blocked in
// std::atomic::wait and 200 blocked on a semaphore must leave at most that
// many kernel threads.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <mutex>
#include <semaphore>
#include <shared_mutex>
#include <thread>
#include <vector>

extern "C" {
#include "common.h"
}

static int max_threads;

static void check_threads(const char* what) {
  int k = kernel_threads();
  if (max_threads && k > max_threads) fprintf(stderr, "%s: %d kernel threads > %d\n", what, k, max_threads);
  CHECK(!max_threads || k <= max_threads);
}

static void mutex_and_threads() {
  std::mutex m;
  long counter = 0;
  std::vector<std::thread> ts;
  for (int i = 0; i < 100; i++)
    ts.emplace_back([&] {
      for (int j = 0; j < 5000; j++) {
        std::lock_guard<std::mutex> g(m);
        counter++;
      }
    });
  for (auto& t : ts) t.join();
  CHECK(counter == 100 * 5000);
}

static void shared_mutex() {
  std::shared_mutex sm;
  std::atomic<int> readers{0}, writers{0}, violations{0};
  std::vector<std::thread> ts;
  for (int i = 0; i < 16; i++)
    ts.emplace_back([&, i] {
      for (int j = 0; j < 3000; j++) {
        if ((i + j) % 8 == 0) {
          std::unique_lock<std::shared_mutex> g(sm);
          if (writers.fetch_add(1) != 0 || readers.load() != 0) violations++;
          writers.fetch_sub(1);
        } else {
          std::shared_lock<std::shared_mutex> g(sm);
          readers.fetch_add(1);
          if (writers.load() != 0) violations++;
          readers.fetch_sub(1);
        }
      }
    });
  for (auto& t : ts) t.join();
  CHECK(violations.load() == 0);
}

static void condvar() {
  std::mutex m;
  std::condition_variable cv;
  int turn = 0;
  std::thread a([&] {
    for (int i = 0; i < 10000; i++) {
      std::unique_lock<std::mutex> g(m);
      cv.wait(g, [&] { return turn == 0; });
      turn = 1;
      cv.notify_all();
    }
  });
  for (int i = 0; i < 10000; i++) {
    std::unique_lock<std::mutex> g(m);
    cv.wait(g, [&] { return turn == 1; });
    turn = 0;
    cv.notify_all();
  }
  a.join();
  // wait_until on steady_clock times out, never early
  std::unique_lock<std::mutex> g(m);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(30);
  CHECK(cv.wait_until(g, deadline) == std::cv_status::timeout);
  CHECK(std::chrono::steady_clock::now() >= deadline);
  auto sys_deadline = std::chrono::system_clock::now() + std::chrono::milliseconds(30);
  CHECK(cv.wait_until(g, sys_deadline) == std::cv_status::timeout);
  CHECK(std::chrono::system_clock::now() >= sys_deadline);
}

static void async_future() {
  std::vector<std::future<long>> fs;
  for (long i = 0; i < 100; i++)
    fs.push_back(std::async(std::launch::async, [i] { return i * i; }));
  long sum = 0;
  for (auto& f : fs) sum += f.get();
  CHECK(sum == 328350);
  std::promise<int> p;
  auto f = p.get_future();
  CHECK(f.wait_for(std::chrono::milliseconds(20)) == std::future_status::timeout);
  std::thread t([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    p.set_value(5);
  });
  CHECK(f.get() == 5);
  t.join();
}

static void semaphore_and_atomic_wait() {
  std::counting_semaphore<1000> sem(0);
  std::atomic<int> flag{0}, passed{0}, started{0};
  std::vector<std::thread> ts;
  for (int i = 0; i < 200; i++)
    ts.emplace_back([&] {
      started.fetch_add(1);
      flag.wait(0);  // blocks until flag != 0
      passed.fetch_add(1);
    });
  for (int i = 0; i < 200; i++)
    ts.emplace_back([&] {
      started.fetch_add(1);
      sem.acquire();
      passed.fetch_add(1);
    });
  while (started.load() < 400) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  check_threads("atomic wait + semaphore");
  CHECK(passed.load() == 0);
  flag.store(1);
  flag.notify_all();
  sem.release(200);
  for (auto& t : ts) t.join();
  CHECK(passed.load() == 400);
  // try_acquire_for times out, not early
  auto t0 = std::chrono::steady_clock::now();
  CHECK(!sem.try_acquire_for(std::chrono::milliseconds(20)));
  CHECK(std::chrono::steady_clock::now() - t0 >= std::chrono::milliseconds(20));
  // notify_one ping-pong through an atomic
  std::atomic<int> turn{0};
  std::thread b([&] {
    for (int i = 0; i < 5000; i++) {
      turn.wait(0);
      turn.store(0);
      turn.notify_one();
    }
  });
  for (int i = 0; i < 5000; i++) {
    turn.store(1);
    turn.notify_one();
    turn.wait(1);
  }
  b.join();
  CHECK(turn.load() == 0);
}

int main(int argc, char** argv) {
  max_threads = argc > 1 ? atoi(argv[1]) : 0;
  mutex_and_threads();
  shared_mutex();
  condvar();
  async_future();
  semaphore_and_atomic_wait();
  return finish("cxx");
}
