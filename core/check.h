// Fatal checks. GREEN_CHECK is always on (broken invariants die with a
// message that starts with the function's name); GREEN_ASSERT only in debug
// builds (-DGREEN_DEBUG=1), for checks on hot paths.
#pragma once

namespace green {
[[noreturn]] void fatal(const char* func, const char* msg, long v1 = 0, long v2 = 0);
void diag(const char* fmt, ...) __attribute__((format(printf, 1, 2)));  // to stderr, no malloc
}  // namespace green

#define GREEN_CHECK(cond, msg) \
  do { \
    if (__builtin_expect(!(cond), 0)) ::green::fatal(__func__, msg); \
  } while (0)
#define GREEN_CHECK2(cond, msg, a, b) \
  do { \
    if (__builtin_expect(!(cond), 0)) ::green::fatal(__func__, msg, (long)(a), (long)(b)); \
  } while (0)

#if GREEN_DEBUG
#define GREEN_ASSERT(cond) GREEN_CHECK(cond, "assertion failed: " #cond)
#else
#define GREEN_ASSERT(cond) ((void)0)
#endif
