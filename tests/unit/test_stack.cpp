// Stack pool: lazily committed reservations, reuse, and guard pages that
// catch an overflow.
#include <criterion/criterion.h>
#include <signal.h>
#include <sys/mman.h>

#include "internal.h"

using namespace green;

static void setup() { sched.cfg.stack_size = 256 << 10; }
TestSuite(stack, .init = setup);

Test(stack, default_size_is_reused) {
  stack_desc a, b;
  cr_assert(stack_alloc(&a, 256 << 10, 4096));
  cr_expect(a.pooled);
  cr_expect_eq(a.size, (size_t)256 << 10);
  char* base = a.base;
  base[0] = 1;
  base[a.size - 1] = 2;  // whole usable range is writable
  stack_free(&a);
  cr_assert(stack_alloc(&b, 256 << 10, 4096));
  cr_expect_eq(b.base, base, "the freed stack is handed out again");
  stack_free(&b);
}

// Resident pages of [lo, lo + len).
static size_t resident_pages(char* lo, size_t len) {
  unsigned char v[1024];
  size_t n = len / 4096;
  cr_assert(n <= sizeof v && mincore(lo, len, v) == 0);
  size_t r = 0;
  for (size_t i = 0; i < n; i++) r += v[i] & 1;
  return r;
}

// A G uses its stack from the top down: the pool's bookkeeping must not
// commit any page of a stack but its top one, or every thread of a
// program with 100,000 sleeping threads pays one more page (and, 8 MiB
// apart, one more page-table page).
Test(stack, pool_commits_only_the_top_page) {
  stack_desc s[3];
  for (auto& x : s) cr_assert(stack_alloc(&x, 256 << 10, 4096));
  for (auto& x : s) {
    size_t pages = x.size / 4096;
    cr_expect_leq(resident_pages(x.base, x.size - 4096), 0u,
                  "a fresh pooled stack has %zu of its %zu lower pages committed",
                  resident_pages(x.base, x.size - 4096), pages - 1);
  }
  for (auto& x : s) stack_free(&x);
  stack_desc b;
  cr_assert(stack_alloc(&b, 256 << 10, 4096));
  cr_expect_eq(resident_pages(b.base, b.size - 4096), 0u,
               "a reused pooled stack has lower pages committed");
  stack_free(&b);
}

Test(stack, distinct_stacks_do_not_overlap) {
  stack_desc s[100];
  for (auto& x : s) cr_assert(stack_alloc(&x, 256 << 10, 4096));
  for (int i = 0; i < 100; i++)
    for (int j = i + 1; j < 100; j++)
      cr_assert(s[i].base + s[i].size + s[i].guard <= s[j].base - s[j].guard + s[j].guard ||
                    s[j].base + s[j].size <= s[i].base - s[i].guard,
                "stacks %d and %d overlap", i, j);
  for (auto& x : s) stack_free(&x);
}

Test(stack, other_sizes_get_their_own_mapping) {
  stack_desc a;
  cr_assert(stack_alloc(&a, 64 << 10, 8192));
  cr_expect(!a.pooled);
  cr_expect_eq(a.guard, 8192u);
  a.base[0] = 1;
  stack_free(&a);
  cr_expect_null(a.base);
}

Test(stack, guard_page_catches_overflow_of_pooled_stack, .signal = SIGSEGV) {
  stack_desc a;
  cr_assert(stack_alloc(&a, 256 << 10, 4096));
  volatile char* below = a.base - 1;
  *below = 1;  // one byte past the bottom: must fault
}

Test(stack, guard_page_catches_overflow_of_own_mapping, .signal = SIGSEGV) {
  stack_desc a;
  cr_assert(stack_alloc(&a, 64 << 10, 4096));
  volatile char* below = a.base - 4096;
  *below = 1;
}
