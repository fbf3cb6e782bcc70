// BatchIo over real UDP sockets on 127.0.0.1, with both backends: sends and
// receives of one batch across many sockets, empty sockets (EAGAIN),
// truncation (MSG_TRUNC), bad descriptors, more operations than one batch.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "batch_io.h"
#include "harness.h"

using namespace media;

namespace {

struct Sock {
  int fd = -1;
  sockaddr_in addr{};
  Sock() {
    fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    socklen_t len = sizeof addr;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  }
  ~Sock() { ::close(fd); }
};

struct Msg {
  msghdr msg{};
  iovec iov{};
  sockaddr_storage from{};
  uint8_t buf[256];
  void forRecv() {
    iov.iov_base = buf;
    iov.iov_len = sizeof buf;
    std::memset(&msg, 0, sizeof msg);
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_name = &from;
    msg.msg_namelen = sizeof from;
  }
  void forSend(const sockaddr_in& to, size_t len, uint8_t fill) {
    std::memset(buf, fill, sizeof buf);
    iov.iov_base = buf;
    iov.iov_len = len;
    std::memset(&msg, 0, sizeof msg);
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_name = const_cast<sockaddr_in*>(&to);
    msg.msg_namelen = sizeof to;
  }
};

void sendAcrossSockets(bool uring) {
  BatchIo io(uring);
  io.bindToThisThread();
  constexpr int kSocks = 300;  // more than one batch
  std::vector<Sock> a(kSocks), b(kSocks);
  std::vector<Msg> m(kSocks);
  unsigned done = 0;
  for (int i = 0; i < kSocks; i++) {
    m[i].forSend(b[i].addr, 100 + i % 50, static_cast<uint8_t>(i));
    io.queueSend(a[i].fd, &m[i].msg);
    if (io.full()) {
      const unsigned n = io.flush();
      for (unsigned k = 0; k < n; k++) CHECK_EQ(io.result(k), 100 + static_cast<int>((done + k) % 50));
      done += n;
    }
  }
  const unsigned n = io.flush();
  for (unsigned k = 0; k < n; k++) CHECK_EQ(io.result(k), 100 + static_cast<int>((done + k) % 50));
  done += n;
  CHECK_EQ(done, static_cast<unsigned>(kSocks));
  // Receive: every second socket gets a second datagram; then all are read
  // twice in two batches: the second read of the others is EAGAIN.
  for (int i = 0; i < kSocks; i += 2) {
    m[i].forSend(b[i].addr, 7, 0xEE);
    CHECK_EQ(::sendmsg(a[i].fd, &m[i].msg, 0), 7);
  }
  for (int round = 0; round < 2; round++) {
    for (int start = 0; start < kSocks; start += BatchIo::kMaxOps) {
      const int end = start + static_cast<int>(BatchIo::kMaxOps) < kSocks ? start + static_cast<int>(BatchIo::kMaxOps) : kSocks;
      for (int i = start; i < end; i++) {
        m[i].forRecv();
        io.queueRecv(b[i].fd, &m[i].msg);
      }
      io.flush();
      for (int i = start; i < end; i++) {
        const int r = io.result(static_cast<unsigned>(i - start));
        if (round == 0) {
          CHECK_EQ(r, 100 + i % 50);
          CHECK_EQ(m[i].buf[0], static_cast<uint8_t>(i));
          CHECK_EQ(m[i].msg.msg_namelen, static_cast<socklen_t>(sizeof(sockaddr_in)));
          const sockaddr_in* from = reinterpret_cast<const sockaddr_in*>(&m[i].from);
          CHECK_EQ(from->sin_port, a[i].addr.sin_port);
        } else if (i % 2 == 0) {
          CHECK_EQ(r, 7);
          CHECK_EQ(m[i].buf[0], 0xEE);
        } else {
          CHECK_EQ(r, -EAGAIN);
        }
      }
    }
  }
}

void truncationAndErrors(bool uring) {
  BatchIo io(uring);
  io.bindToThisThread();
  Sock a, b;
  std::vector<uint8_t> big(1000, 0x55);
  CHECK_EQ(::sendto(a.fd, big.data(), big.size(), 0, reinterpret_cast<sockaddr*>(&b.addr), sizeof b.addr), 1000);
  Msg m, bad;
  m.forRecv();  // 256-byte buffer: truncated
  io.queueRecv(b.fd, &m.msg);
  bad.forRecv();
  io.queueRecv(-1, &bad.msg);  // a bad descriptor fails alone
  Msg s;
  s.forSend(b.addr, 20, 1);
  io.queueSend(a.fd, &s.msg);  // and the rest of the batch still runs
  CHECK_EQ(io.flush(), 3u);
  CHECK_EQ(io.result(0), 256);
  CHECK((m.msg.msg_flags & MSG_TRUNC) != 0);
  CHECK_EQ(io.result(1), -EBADF);
  CHECK_EQ(io.result(2), 20);
  m.forRecv();
  io.queueRecv(b.fd, &m.msg);
  io.flush();
  CHECK_EQ(io.result(0), 20);
  CHECK((m.msg.msg_flags & MSG_TRUNC) == 0);
}

}  // namespace

TEST(batch_io_uring_is_available_here) {
  // The VM this is developed on runs kernel 6.x with io_uring enabled; a
  // fallback here would mean the setup code is wrong.
  BatchIo io(true);
  io.bindToThisThread();
  CHECK(io.backend() == BatchIo::Backend::IoUring);
  CHECK_EQ(std::strlen(io.fallbackReason()), 0u);
  BatchIo off(false);
  CHECK(off.backend() == BatchIo::Backend::Syscalls);
  CHECK(std::strlen(off.fallbackReason()) > 0);
}

TEST(batch_io_uring_sends_and_receives_across_sockets) { sendAcrossSockets(true); }
TEST(batch_io_syscalls_sends_and_receives_across_sockets) { sendAcrossSockets(false); }
TEST(batch_io_uring_truncation_and_errors) { truncationAndErrors(true); }
TEST(batch_io_syscalls_truncation_and_errors) { truncationAndErrors(false); }

TEST(batch_io_uring_counts_one_submit_per_batch) {
  BatchIo io(true);
  io.bindToThisThread();
  Sock a, b;
  Msg m[10];
  for (auto& x : m) {
    x.forSend(b.addr, 12, 3);
    io.queueSend(a.fd, &x.msg);
  }
  io.flush();
  CHECK_EQ(io.uringSubmits, 1u);
  CHECK_EQ(io.syscallOps, 0u);
}

TEST(batch_io_uring_fixed_files_send_receive_and_release) {
  BatchIo io(true);
  io.bindToThisThread();
  Sock a, b;
  io.registerFile(a.fd);
  io.registerFile(b.fd);
  io.registerFile(b.fd);  // twice is once
  CHECK_EQ(io.fixedFiles(), 2u);
  Msg s, r;
  s.forSend(b.addr, 40, 9);
  io.queueSend(a.fd, &s.msg);
  CHECK_EQ(io.flush(), 1u);
  CHECK_EQ(io.result(0), 40);
  r.forRecv();
  io.queueRecv(b.fd, &r.msg);
  io.flush();
  CHECK_EQ(io.result(0), 40);
  CHECK_EQ(r.buf[0], 9);
  CHECK_EQ(reinterpret_cast<const sockaddr_in*>(&r.from)->sin_port, a.addr.sin_port);
  // Forgotten and closed, the socket is gone: its port can be bound again
  // (the table would otherwise keep it open).
  const sockaddr_in port = b.addr;
  io.forgetFile(b.fd);
  CHECK_EQ(io.fixedFiles(), 1u);
  ::close(b.fd);
  b.fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
  CHECK_EQ(::bind(b.fd, reinterpret_cast<const sockaddr*>(&port), sizeof port), 0);
  // A descriptor beyond the table or never registered still works the
  // ordinary way.
  s.forSend(port, 12, 4);
  io.queueSend(a.fd, &s.msg);
  io.flush();
  r.forRecv();
  io.queueRecv(b.fd, &r.msg);
  io.flush();
  CHECK_EQ(io.result(0), 12);
  io.forgetFile(a.fd);
  CHECK_EQ(io.fixedFiles(), 0u);
}

TEST(batch_io_syscalls_fixed_files_are_a_no_op) {
  BatchIo io(false);
  Sock a;
  io.registerFile(a.fd);
  CHECK_EQ(io.fixedFiles(), 0u);
  io.forgetFile(a.fd);
}
