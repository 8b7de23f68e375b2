// Fatal errors and diagnostics: formatted into a stack buffer and written
// with a raw write(2), so they work on any stack, without a P, with locks held.
#include "check.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "os.h"

namespace green {

void diag(const char* fmt, ...) {
  char buf[512];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  if (n < 0) return;
  os::write_all(2, buf, (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1);
}

void fatal(const char* func, const char* msg, long v1, long v2) {
  diag("libgreen: fatal: %s: %s (%ld, %ld)\n", func, msg, v1, v2);
  abort();
}

}  // namespace green
