// Linked into the unit tests of `make tsan` only.
//
// Criterion (its boxfort library) maps its "inheritable arena" at a random
// 16 MiB slot of [0x2000'0000'0000, 0x6000'0000'0000), trying 10 slots that
// mincore() shows free. ThreadSanitizer (GCC 12's, the old runtime) has
// already reserved nearly all of that range (its meta memory and the gaps
// around it); only its "mid application" range [0x5500'0000'0000,
// 0x5680'0000'0000) is usable, so 10 tries fail ~80% of the time and the
// test binary dies with "Could not initialize inheritable arena".
//
// boxfort draws the slot with rand_r(), through libcriterion's PLT. This
// rand_r gives callers inside libcriterion a random slot in the usable
// range (still checked with mincore, so an occupied slot is tried again);
// every other caller gets glibc's rand_r unchanged.
#include <dlfcn.h>
#include <stdint.h>
#include <string.h>

namespace {
constexpr unsigned SLOT_SHIFT = 24;  // boxfort: mmap_off = 1 << 24
constexpr uintptr_t ARENA_BASE = uintptr_t(0x2000) << 32;
constexpr uintptr_t USABLE_LO = uintptr_t(0x5500) << 32, USABLE_HI = uintptr_t(0x5680) << 32;

bool called_from_criterion(void* ret) {
  Dl_info info;
  return dladdr(ret, &info) && info.dli_fname && strstr(info.dli_fname, "libcriterion");
}
}  // namespace

extern "C" __attribute__((visibility("default"))) int rand_r(unsigned* seed) {
  using rand_r_fn = int (*)(unsigned*);
  static rand_r_fn real = reinterpret_cast<rand_r_fn>(dlsym(RTLD_NEXT, "rand_r"));
  int r = real(seed);
  if (!called_from_criterion(__builtin_return_address(0))) return r;
  constexpr unsigned lo = (USABLE_LO - ARENA_BASE) >> SLOT_SHIFT;
  constexpr unsigned n = (USABLE_HI - USABLE_LO) >> SLOT_SHIFT;
  return (int)(lo + (unsigned)r % n);
}
