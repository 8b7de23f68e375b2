// cxx_heavy: a C++20 program that leans on the standard library's threads:
// std::thread, std::async, std::condition_variable(_any), std::future /
// std::shared_future / std::packaged_task, std::barrier and std::jthread
// with stop tokens. Every phase computes a result that is checked exactly
// against a serial computation (or a count fixed by construction), prints
// it, and the program ends with "cxx_heavy: OK" (exit 0) or names the
// first phase that went wrong (exit 1). The printed lines do not depend on
// timing, so a native and a libgreen run must print the same text.
//
// Phases: a thread pool of 32 workers running 20,000 packaged tasks; a
// merge sort that splits with std::async 7 levels deep (127 extra
// threads); a three-stage pipeline over bounded queues (mutex + two
// condition variables); a token ring of 200 threads, one condition
// variable each; 100 timed waits, half satisfied and half timing out;
// 500 threads alive at once behind a shared_future gate; a std::barrier of
// 64 threads over 100 phases; 32 jthreads stopped through their tokens.
#include <algorithm>
#include <atomic>
#include <barrier>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <functional>
#include <future>
#include <mutex>
#include <numeric>
#include <optional>
#include <stop_token>
#include <thread>
#include <vector>

namespace {

bool ok = true;

void check(const char* phase, uint64_t got, uint64_t want) {
  std::printf("%-10s %llu\n", phase, (unsigned long long)got);
  if (got != want) {
    std::fprintf(stderr, "cxx_heavy: %s: got %llu, expected %llu\n", phase, (unsigned long long)got,
                 (unsigned long long)want);
    ok = false;
  }
}

uint64_t mix(uint64_t x) {  // splitmix64, iterated: some work per task
  for (int i = 0; i < 50; i++) {
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    x ^= x >> 31;
  }
  return x;
}

// ---- 1. thread pool --------------------------------------------------------
class pool {
 public:
  explicit pool(int n) {
    for (int i = 0; i < n; i++) workers_.emplace_back([this] { run(); });
  }
  ~pool() {
    {
      std::lock_guard<std::mutex> g(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    for (auto& t : workers_) t.join();
  }
  std::future<uint64_t> submit(std::function<uint64_t()> f) {
    std::packaged_task<uint64_t()> task(std::move(f));
    auto fut = task.get_future();
    {
      std::lock_guard<std::mutex> g(mu_);
      q_.push_back(std::move(task));
    }
    cv_.notify_one();
    return fut;
  }

 private:
  void run() {
    for (;;) {
      std::packaged_task<uint64_t()> task;
      {
        std::unique_lock<std::mutex> l(mu_);
        cv_.wait(l, [this] { return stop_ || !q_.empty(); });
        if (q_.empty()) return;  // stop_ and drained
        task = std::move(q_.front());
        q_.pop_front();
      }
      task();
    }
  }
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::packaged_task<uint64_t()>> q_;
  bool stop_ = false;
  std::vector<std::thread> workers_;
};

void phase_pool() {
  constexpr int TASKS = 20000;
  uint64_t want = 0;
  for (uint64_t i = 0; i < TASKS; i++) want += mix(i);
  uint64_t got = 0;
  {
    pool p(32);
    std::vector<std::future<uint64_t>> fs;
    fs.reserve(TASKS);
    for (uint64_t i = 0; i < TASKS; i++) fs.push_back(p.submit([i] { return mix(i); }));
    for (auto& f : fs) got += f.get();
  }
  check("pool", got, want);
}

// ---- 2. merge sort with std::async ------------------------------------------
void msort(uint32_t* a, uint32_t* tmp, size_t n, int depth) {
  if (n < 2) return;
  size_t h = n / 2;
  if (depth > 0) {
    auto left = std::async(std::launch::async, msort, a, tmp, h, depth - 1);
    msort(a + h, tmp + h, n - h, depth - 1);
    left.get();
  } else {
    msort(a, tmp, h, 0);
    msort(a + h, tmp + h, n - h, 0);
  }
  std::merge(a, a + h, a + h, a + n, tmp);
  std::copy(tmp, tmp + n, a);
}

void phase_sort() {
  constexpr size_t N = 1 << 18;
  std::vector<uint32_t> v(N), tmp(N);
  for (size_t i = 0; i < N; i++) v[i] = (uint32_t)mix(i);
  std::vector<uint32_t> want = v;
  std::sort(want.begin(), want.end());
  msort(v.data(), tmp.data(), N, 7);
  size_t same = 0;
  for (size_t i = 0; i < N; i++) same += v[i] == want[i];
  check("sort", same, N);
}

// ---- 3. pipeline over bounded queues ----------------------------------------
template <typename T>
class bounded {
 public:
  explicit bounded(size_t cap) : cap_(cap) {}
  void push(T v) {
    std::unique_lock<std::mutex> l(mu_);
    not_full_.wait(l, [this] { return q_.size() < cap_; });
    q_.push_back(v);
    not_empty_.notify_one();
  }
  T pop() {
    std::unique_lock<std::mutex> l(mu_);
    not_empty_.wait(l, [this] { return !q_.empty(); });
    T v = q_.front();
    q_.pop_front();
    not_full_.notify_one();
    return v;
  }

 private:
  std::mutex mu_;
  std::condition_variable not_full_, not_empty_;
  std::deque<T> q_;
  size_t cap_;
};

uint64_t stage(uint64_t x) { return x * x % 1000000007ull; }

void phase_pipeline() {
  constexpr uint64_t ITEMS = 200000;
  constexpr int PRODUCERS = 4, MIDDLE = 8, CONSUMERS = 4;
  constexpr uint64_t END = 0;  // items are 1..ITEMS
  uint64_t want = 0;
  for (uint64_t x = 1; x <= ITEMS; x++) want += stage(x);
  bounded<uint64_t> q1(16), q2(16);
  std::atomic<uint64_t> sum{0};
  std::vector<std::thread> ts;
  for (int p = 0; p < PRODUCERS; p++)
    ts.emplace_back([&, p] {
      for (uint64_t x = 1 + p; x <= ITEMS; x += PRODUCERS) q1.push(x);
    });
  for (int m = 0; m < MIDDLE; m++)
    ts.emplace_back([&] {
      for (uint64_t x; (x = q1.pop()) != END;) q2.push(stage(x) + 1);  // +1: never END
      q2.push(END);
    });
  for (int c = 0; c < CONSUMERS; c++)
    ts.emplace_back([&] {
      uint64_t local = 0;
      for (int ends = 0; ends < MIDDLE / CONSUMERS;) {
        uint64_t y = q2.pop();
        if (y == END) ends++;
        else local += y - 1;
      }
      sum += local;
    });
  for (int p = 0; p < PRODUCERS; p++) ts[p].join();
  for (int m = 0; m < MIDDLE; m++) q1.push(END);
  for (auto& t : ts)
    if (t.joinable()) t.join();
  check("pipeline", sum.load(), want);
}

// ---- 4. token ring -----------------------------------------------------------
void phase_ring() {
  constexpr int R = 200, ROUNDS = 50;
  struct slot {
    std::mutex mu;
    std::condition_variable cv;
    std::optional<uint64_t> token;
  };
  std::vector<slot> ring(R);
  std::atomic<uint64_t> receipts{0};
  uint64_t final_token = 0;
  std::vector<std::thread> ts;
  for (int i = 0; i < R; i++)
    ts.emplace_back([&, i] {
      for (int r = 0; r < ROUNDS; r++) {
        uint64_t v;
        {
          std::unique_lock<std::mutex> l(ring[i].mu);
          ring[i].cv.wait(l, [&] { return ring[i].token.has_value(); });
          v = *ring[i].token;
          ring[i].token.reset();
        }
        receipts++;
        if (i == R - 1 && r == ROUNDS - 1) {
          final_token = v + 1;
          return;
        }
        slot& next = ring[(i + 1) % R];
        {
          std::lock_guard<std::mutex> g(next.mu);
          next.token = v + 1;
        }
        next.cv.notify_one();
      }
    });
  {
    std::lock_guard<std::mutex> g(ring[0].mu);
    ring[0].token = 0;
  }
  ring[0].cv.notify_one();
  for (auto& t : ts) t.join();
  check("ring", final_token, (uint64_t)R * ROUNDS);
  check("receipts", receipts.load(), (uint64_t)R * ROUNDS);
}

// ---- 5. timed waits: half satisfied, half time out ---------------------------
void phase_timed() {
  constexpr int N = 100;
  std::mutex mu;
  std::condition_variable cv;
  std::vector<char> flag(N, 0);
  std::atomic<int> satisfied{0}, timed_out{0};
  std::vector<std::thread> ts;
  for (int i = 0; i < N; i++)
    ts.emplace_back([&, i] {
      std::unique_lock<std::mutex> l(mu);
      if (cv.wait_for(l, std::chrono::milliseconds(i % 2 ? 20 : 10000), [&] { return flag[i] != 0; }))
        satisfied++;
      else
        timed_out++;
    });
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  {
    std::lock_guard<std::mutex> g(mu);
    for (int i = 0; i < N; i += 2) flag[i] = 1;  // odd ones never come true
  }
  cv.notify_all();
  for (auto& t : ts) t.join();
  check("satisfied", satisfied.load(), N / 2);
  check("timed_out", timed_out.load(), N / 2);
}

// ---- 6. 500 threads behind a shared_future gate ------------------------------
void phase_gate() {
  constexpr int N = 500;
  std::promise<uint64_t> start;
  std::shared_future<uint64_t> gate = start.get_future().share();
  std::atomic<int> waiting{0};
  std::vector<std::future<uint64_t>> fs;
  for (int i = 0; i < N; i++)
    fs.push_back(std::async(std::launch::async, [gate, i, &waiting] {
      waiting++;
      return gate.get() * (uint64_t)i;
    }));
  while (waiting.load() < N) std::this_thread::yield();  // all N alive at once
  start.set_value(7);
  uint64_t sum = 0;
  for (auto& f : fs) sum += f.get();
  check("gate", sum, 7ull * N * (N - 1) / 2);
}

// ---- 7. std::barrier ---------------------------------------------------------
void phase_barrier() {
  constexpr int N = 64, PHASES = 100;
  uint64_t completions = 0, checksum = 0;
  std::vector<uint64_t> part(N, 0);
  auto done = [&]() noexcept {  // runs once per phase, all others blocked
    completions++;
    for (uint64_t v : part) checksum += v;
  };
  std::barrier sync(N, done);
  std::vector<std::thread> ts;
  for (int i = 0; i < N; i++)
    ts.emplace_back([&, i] {
      for (int p = 0; p < PHASES; p++) {
        part[i] = (uint64_t)i * p;
        sync.arrive_and_wait();
      }
    });
  for (auto& t : ts) t.join();
  check("barrier", completions, PHASES);
  check("bchecksum", checksum, (uint64_t)N * (N - 1) / 2 * PHASES * (PHASES - 1) / 2);
}

// ---- 8. jthreads stopped through their stop tokens ----------------------------
void phase_jthread() {
  constexpr int N = 32;
  std::mutex mu;
  std::condition_variable_any cv;
  std::atomic<int> started{0}, stopped{0};
  {
    std::vector<std::jthread> ts;
    for (int i = 0; i < N; i++)
      ts.emplace_back([&](std::stop_token st) {
        std::unique_lock<std::mutex> l(mu);
        started++;
        // Nothing ever notifies cv: only a stop request ends this wait.
        bool pred = cv.wait(l, st, [] { return false; });
        if (!pred && st.stop_requested()) stopped++;
      });
    while (started.load() < N) std::this_thread::yield();
  }  // ~jthread: request_stop() and join(), in reverse order
  check("jthread", stopped.load(), N);
}

}  // namespace

int main() {
  phase_pool();
  phase_sort();
  phase_pipeline();
  phase_ring();
  phase_timed();
  phase_gate();
  phase_barrier();
  phase_jthread();
  std::printf("cxx_heavy: %s\n", ok ? "OK" : "FAILED");
  return ok ? 0 : 1;
}
