// Raw system calls for the runtime. core never calls an interposable libc
// name for these (read/write/futex/...): those may be ours, or block a G.
// Every wrapper returns -errno on failure, as the kernel does.
#pragma once
#include <stddef.h>
#include <signal.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <time.h>

namespace green::os {

inline long syscall6(long n, long a = 0, long b = 0, long c = 0, long d = 0, long e = 0,
                     long f = 0) {
  long ret;
  register long r10 asm("r10") = d;
  register long r8 asm("r8") = e;
  register long r9 asm("r9") = f;
  asm volatile("syscall"
               : "=a"(ret)
               : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
               : "rcx", "r11", "memory");
  return ret;
}

int gettid();
int futex_wait(const void* addr, uint32_t expected, const struct timespec* rel);
int futex_wait_abs(const void* addr, uint32_t expected, int64_t deadline_ns, clockid_t clock);
int futex_wake(const void* addr, int count);
void* mmap_anon(size_t len, bool noreserve);  // nullptr on failure
int munmap(void* addr, size_t len);
int madvise(void* addr, size_t len, int advice);
int mprotect(void* addr, size_t len, int prot);
void write_all(int fd, const char* buf, size_t len);
// Read a small file (a /proc entry) into buf, NUL-terminated: its length,
// or -errno.
int read_file(const char* path, char* buf, int len);
// Where libgreen keeps descriptors of its own (shim's hidden copies of
// closed files, kept /proc files): at or above 1024, or half the open-files
// limit when that is small. Below select()'s FD_SETSIZE, where programs put
// their own fixed numbers and expect the lowest free one, nothing changes.
int high_fd_base();
// fd moved to the lowest free number >= high_fd_base() (the low one closed):
// the new number, or fd itself if it is already there or the move failed.
int move_high(int fd);
// A /proc file read again and again (sysmon's samples) through one
// descriptor kept open at a high number (at or above 1024, or half a small
// open-files limit): the application's lowest free number is taken only
// for the moment of the first open, not at every read. If the application
// closed or reused that number (closefrom, dup2 over it), the file is
// opened anew. Not thread-safe: one reader.
struct kept_file {
  const char* path;
  int fd = -1;
  unsigned long dev = 0, ino = 0;
};
// Its contents into buf, NUL-terminated: the length, or -errno.
int read_kept(kept_file& f, char* buf, int len);
int64_t now_ns(clockid_t clock);  // vDSO clock_gettime (not interposed)
void set_thread_pointer(void* tp);
// Install fn for sig (SA_SIGINFO | flags; sig itself blocked while it runs)
// with the raw system call: sigaction itself may be interposed. The
// restorer is the byte sequence unwinders recognise as a signal frame.
int set_signal_handler(int sig, void (*fn)(int, siginfo_t*, void*), unsigned long flags);
// sig's current disposition: SIG_DFL, SIG_IGN or the handler's address.
void* signal_handler(int sig);
void* thread_pointer();

}  // namespace green::os
