// What libgreen knows about each descriptor, and the hold a blocking call
// keeps on the file behind one (fd.cpp).
//
// A thread blocked in read() on Linux holds a reference to the *file*, not
// to the number: another thread's close() or dup2() over the number does
// not wake it, it keeps waiting on the old file until data, EOF or
// shutdown, and a new file that reuses the number is none of its business.
// A G parked on the netpoller has no such reference, so each blocking call
// takes a pin on its descriptor; closing a pinned descriptor first moves
// the file to a hidden descriptor (F_DUPFD_CLOEXEC at or above 1024) that
// the pins then use, and the hidden copy is closed when the last pin ends.
#pragma once
#include <stdint.h>

#include <atomic>

namespace green::shim {

enum : uint8_t { FD_UNKNOWN, FD_SOCKET, FD_POLLABLE, FD_FILE };

struct fileref;
struct pin;

struct fdinfo {
  std::atomic<uint8_t> kind;            // FD_*, learned on first use
  std::atomic<uint8_t> nonblock;        // the application's O_NONBLOCK
  std::atomic<uint8_t> inet_stream;     // AF_INET/AF_INET6 SOCK_STREAM made by socket()
  std::atomic<uint8_t> tcp;             // plain TCP: a read that comes back short emptied the queue
  std::atomic<uint32_t> owned;          // share epoch at socket(); 0: maybe shared
  std::atomic<uint8_t> flipped;         // O_NONBLOCK set by connect.cpp right now
  std::atomic<int64_t> rcvtimeo_ns, sndtimeo_ns;
  std::atomic<uint32_t> lk;             // protects pins and hidden's changes
  pin* pins;                            // calls blocked on this descriptor
  std::atomic<fileref*> hidden;         // this descriptor is libgreen's copy of a closed file
};

fdinfo* fd_info(int fd);      // nullptr for fds beyond the table
fdinfo* fd_classify(int fd);  // fd_info with kind and nonblock known, or nullptr
void fd_forget(int fd);       // fd was closed or replaced
// fd is a socket just made by socket() or accept() (owned: see below; tcp:
// a plain TCP stream, with no upper-layer protocol such as kernel TLS)
void fd_new_socket(int fd, bool nonblock, bool inet_stream, bool tcp, uint32_t owned);

// A blocking call's hold on the file behind fd (see above). fd() is the
// descriptor to use now; after a parked wait fails with EBADF, a changed
// fd() means "retry on the new descriptor".
struct pin {
  explicit pin(int d) : orig(d) { hold(); }
  pin(const pin&) = delete;
  pin& operator=(const pin&) = delete;
  ~pin() { release(); }
  int fd() const;
  void hold();
  void release();

  int orig;
  std::atomic<fileref*> ref{nullptr};
  pin* prev = nullptr;
  pin* next = nullptr;
  bool linked = false;
};

// fd's number is about to stop naming its file (close, or the target of
// dup2/dup3): files that pinned calls still use move to a hidden copy, the
// netpoller forgets fd, then op(fd, ctx) runs, all under fd's lock.
// Returns op's result. A hidden descriptor: close gets EBADF (the
// application never had it), a dup2/dup3 target first moves it again.
enum class fd_end : uint8_t { close, replace };
int fd_retire(int fd, fd_end how, int (*op)(int fd, void* ctx), void* ctx);
bool fd_hidden(int fd);
bool fd_busy(int fd);     // an application fd libgreen knows or a call is pinned on
int fd_known_limit();     // every fd libgreen knows anything about is below this
void fd_set_nonblock(int fd, bool on);  // the application changed O_NONBLOCK
bool fd_flipped(int fd);  // connect.cpp has O_NONBLOCK set on fd for one call

// Sockets this process made itself and has not shared (see connect.cpp):
// every fork, spawn, dup or SCM_RIGHTS transfer ends "owned".
uint32_t share_epoch();
void shared_all();       // a new process may hold every descriptor now
void shared(int fd);     // fd's open file description is shared now

}  // namespace green::shim
