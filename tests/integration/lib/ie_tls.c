/* A library that tests/integration/tls_dlopen.c dlopens after threads
 * exist: one initial-exec TLS variable (the loader must give it static TLS
 * in every thread, initialised from its image) and one of the default,
 * dynamic model. The big array makes the static block span more than one
 * cache line of the reserve. */
#include <string.h>

__thread int ie_var __attribute__((tls_model("initial-exec"))) = 42;
__thread char ie_pad[200] __attribute__((tls_model("initial-exec"))) = {[0] = 1, [199] = 2};
__thread int gd_var = 7;

int ie_get(void) { return ie_var + (ie_pad[0] == 1 && ie_pad[199] == 2 ? 0 : 1000000); }
void ie_set(int v) { ie_var = v; ie_pad[100] = (char)v; }
int gd_get(void) { return gd_var; }
void gd_set(int v) { gd_var = v; }

/* Write the whole initial-exec block; ie_holds tells whether it still
 * holds what ie_fill(v) wrote (tls_reserve). */
void ie_fill(int v) {
  ie_var = v;
  memset(ie_pad, v & 0x7f, sizeof ie_pad);
}
int ie_holds(int v) {
  for (unsigned i = 0; i < sizeof ie_pad; i++)
    if (ie_pad[i] != (char)(v & 0x7f)) return 0;
  return ie_var == v;
}
