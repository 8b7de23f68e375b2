/* The kernel's count of this process's threads ("Threads:" in
 * /proc/self/status), or -1. Shared by the test programs (C and C++),
 * which check thread counts from the kernel's side. */
#pragma once
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static inline int kernel_threads(void) {
  FILE* f = fopen("/proc/self/status", "r");
  char line[256];
  int n = -1;
  while (f && fgets(line, sizeof line, f))
    if (!strncmp(line, "Threads:", 8)) n = atoi(line + 8);
  if (f) fclose(f);
  return n;
}
