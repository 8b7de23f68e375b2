// throw_loop [THREADS] [N]: CPU-bound threads that throw and catch C++
// exceptions in a loop (the unwinder, the loader's object lookup and
// malloc are all on that path) and keep a std::string-heavy tally. Each
// thread checks it caught exactly N exceptions carrying the right values;
// a preempting runtime interrupts them everywhere, including mid-throw.
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

static long per_thread;

static void thrower(long i) {
  if (i % 3 == 0) throw std::runtime_error("e" + std::to_string(i));
  throw i;
}

int main(int argc, char** argv) {
  int n = argc > 1 ? atoi(argv[1]) : 8;
  per_thread = argc > 2 ? atol(argv[2]) : 20000;
  if (n < 1 || n > 256 || per_thread < 1) {
    fprintf(stderr, "usage: throw_loop [1..256] [N>0]\n");
    return 2;
  }
  std::vector<long> bad(n, 0);
  std::vector<std::thread> ts;
  for (int t = 0; t < n; t++)
    ts.emplace_back([t, &bad] {
      long caught = 0;
      for (long i = 0; i < per_thread; i++) {
        try {
          thrower(i);
        } catch (const std::runtime_error& e) {
          caught += e.what() == "e" + std::to_string(i);
        } catch (long v) {
          caught += v == i;
        }
      }
      bad[t] = per_thread - caught;
    });
  for (auto& t : ts) t.join();
  long total = 0;
  for (long b : bad) total += b;
  if (total) {
    fprintf(stderr, "throw_loop: %ld exceptions lost or wrong\n", total);
    return 1;
  }
  printf("throw_loop: %d threads x %ld exceptions, all caught\n", n, per_thread);
  return 0;
}
