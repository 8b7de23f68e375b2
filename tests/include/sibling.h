/* sibling_path(buf, len, argc, argv, name): the file NAME next to this
 * program (/proc/self/exe), or argv[1] when given. 0 on success. */
#pragma once
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int sibling_path(char* buf, size_t len, int argc, char** argv, const char* name) {
  if (argc > 1) return snprintf(buf, len, "%s", argv[1]) >= (int)len;
  ssize_t n = readlink("/proc/self/exe", buf, len - 1);
  if (n <= 0) return -1;
  buf[n] = 0;
  char* slash = strrchr(buf, '/');
  if (!slash || (size_t)(slash + 1 - buf) + strlen(name) >= len) return -1;
  strcpy(slash + 1, name);
  return 0;
}
