// Zero-copy transfers: splice, tee, vmsplice, sendfile, copy_file_range.
// Their pipes and sockets block like read and write do, but the calls have
// no MSG_DONTWAIT (SPLICE_F_NONBLOCK covers only the pipe side), so a G
// waits on the netpoller until the source is readable and the destination
// writable, then makes the real call in a syscall section: it does not
// block unless another thread took the data or the room first, and then a
// handoff covers it. Regular files (copy_file_range only has those) go
// straight to a section. Descriptors the application made non-blocking
// are not waited for.
#include <fcntl.h>
#include <sys/sendfile.h>
#include <sys/uio.h>

#include "io.h"

using namespace green::shim;
using namespace green::shim::io;

namespace {

// Does a call on fd wait for readiness here? Blocking pollable ones do.
bool waits(int fd) {
  fdinfo* f = nullptr;
  if (fd < 0) return false;
  how h = route(fd, &f);
  return h == how::sock || h == how::other;
}

// Park until p's descriptor is ready for mode. false: give up, errno set.
bool ready(pin& p, int mode) {
  for (;;) {
    int fd = p.fd();
    uint32_t seq = green::netpoll_seq(fd, mode);
    if (ready_now(fd, mode == green::POLL_READ ? POLLIN : POLLOUT)) return true;
    int w = await(p, fd, mode, 0, seq);
    if (w < 0) return false;
    if (w == 1) return true;
  }
}

// in ready to read and out ready to write, then call(in, out) in a
// section. SPLICE_F_NONBLOCK: the application wants EAGAIN, not a wait.
template <typename Call>
ssize_t transfer(int in, int out, unsigned flags, Call call) {
  pin pi(in), po(out);
  bool win = !(flags & SPLICE_F_NONBLOCK) && waits(in);
  bool wout = !(flags & SPLICE_F_NONBLOCK) && waits(out);
  for (;;) {
    if ((win && !ready(pi, green::POLL_READ)) || (wout && !ready(po, green::POLL_WRITE))) return -1;
    int i = pi.fd(), o = po.fd();
    ssize_t r;
    {
      section s;
      r = call(i, o);
    }
    if (r < 0 && (moved(pi, i) || moved(po, o))) continue;
    return r;
  }
}

}  // namespace

GREEN_EXPORT ssize_t splice(int in, loff_t* off_in, int out, loff_t* off_out, size_t len,
                            unsigned int flags) {
  REAL(splice);
  if (!green::on_green()) return real_splice(in, off_in, out, off_out, len, flags);
  return transfer(in, out, flags, [&](int i, int o) { return real_splice(i, off_in, o, off_out, len, flags); });
}

GREEN_EXPORT ssize_t tee(int in, int out, size_t len, unsigned int flags) {
  REAL(tee);
  if (!green::on_green()) return real_tee(in, out, len, flags);
  return transfer(in, out, flags, [&](int i, int o) { return real_tee(i, o, len, flags); });
}

// vmsplice moves user memory into a pipe's write end, or out of its read end.
GREEN_EXPORT ssize_t vmsplice(int fd, const struct iovec* iov, size_t n, unsigned int flags) {
  REAL(vmsplice);
  if (!green::on_green()) return real_vmsplice(fd, iov, n, flags);
  int acc = fcntl(fd, F_GETFL);
  if (acc < 0) return real_vmsplice(fd, iov, n, flags);
  bool to_pipe = (acc & O_ACCMODE) != O_RDONLY;
  return transfer(to_pipe ? -1 : fd, to_pipe ? fd : -1, flags, [&](int i, int o) {
    return real_vmsplice(to_pipe ? o : i, iov, n, flags);
  });
}

GREEN_EXPORT ssize_t sendfile(int out, int in, off_t* off, size_t count) {
  REAL(sendfile);
  if (!green::on_green()) return real_sendfile(out, in, off, count);
  return transfer(in, out, 0, [&](int i, int o) { return real_sendfile(o, i, off, count); });
}

GREEN_EXPORT ssize_t sendfile64(int out, int in, off64_t* off, size_t count) {
  REAL(sendfile64);
  if (!green::on_green()) return real_sendfile64(out, in, off, count);
  return transfer(in, out, 0, [&](int i, int o) { return real_sendfile64(o, i, off, count); });
}

GREEN_EXPORT ssize_t copy_file_range(int in, off64_t* off_in, int out, off64_t* off_out, size_t len,
                                     unsigned int flags) {
  REAL(copy_file_range);
  if (!green::on_green()) return real_copy_file_range(in, off_in, out, off_out, len, flags);
  section s;
  return real_copy_file_range(in, off_in, out, off_out, len, flags);
}
