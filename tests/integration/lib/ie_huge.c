/* A library with more initial-exec TLS than glibc reserves for libraries
 * dlopen'ed after start-up (1,672 B by default, less with the
 * glibc.rtld.nns / optional_static_tls tunables): glibc must refuse to
 * dlopen it ("cannot allocate memory in static TLS block"), under libgreen
 * as natively (tests/integration/tls_reserve.c). */
__thread char ie_huge[4096] __attribute__((tls_model("initial-exec"))) = {[0] = 1};

int huge_get(void) { return ie_huge[0]; }
