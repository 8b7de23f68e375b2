/* A library that tests/integration/tls_dlopen.c dlopens after threads
 * exist: one initial-exec TLS variable (the loader must give it static TLS
 * in every thread, initialised from its image) and one of the default,
 * dynamic model. The big array makes the static block span more than one
 * cache line of the reserve. */
__thread int ie_var __attribute__((tls_model("initial-exec"))) = 42;
__thread char ie_pad[200] __attribute__((tls_model("initial-exec"))) = {[0] = 1, [199] = 2};
__thread int gd_var = 7;

int ie_get(void) { return ie_var + (ie_pad[0] == 1 && ie_pad[199] == 2 ? 0 : 1000000); }
void ie_set(int v) { ie_var = v; ie_pad[100] = (char)v; }
int gd_get(void) { return gd_var; }
void gd_set(int v) { gd_var = v; }
