// Batched socket I/O for a mixer worker: a tick's receives and sends reach
// the kernel in one system call per batch of up to kMaxOps operations
// (io_uring), instead of one system call per packet. sendmmsg/recvmmsg cannot
// do this because every leg has its own socket.
//
// Every operation is non-blocking (MSG_DONTWAIT), so it completes while the
// batch is submitted: when flush() returns, every result is known and every
// buffer of the batch is free again. Nothing allocates after construction.
//
// Falls back to one sendmsg/recvmsg per operation (same results, same
// semantics) where io_uring is missing or forbidden (old kernel, seccomp,
// the io_uring_disabled sysctl, or MEDIA_IO_URING=0); fallbackReason() says
// why.
#pragma once

#include <sys/socket.h>

#include <cstdint>

struct io_uring_sqe;
struct io_uring_cqe;

namespace media {

class BatchIo {
 public:
  static constexpr unsigned kMaxOps = 256;
  enum class Backend : uint8_t { IoUring, Syscalls };

  // preferUring false: plain system calls. Never throws: any io_uring setup
  // failure selects the fallback.
  explicit BatchIo(bool preferUring);
  ~BatchIo();
  BatchIo(const BatchIo&) = delete;
  BatchIo& operator=(const BatchIo&) = delete;

  // The ring is bound to the thread that submits (IORING_SETUP_SINGLE_ISSUER
  // lets the kernel skip locking); call once on that thread before the first
  // flush(). Falls back to system calls if the kernel refuses.
  void bindToThisThread();

  Backend backend() const { return backend_; }
  const char* backendName() const { return backend_ == Backend::IoUring ? "io_uring" : "syscalls"; }
  const char* fallbackReason() const { return reason_; }  // "" on io_uring

  unsigned pending() const { return count_; }
  bool full() const { return count_ == kMaxOps; }
  // Queue one operation (the queue must not be full); returns its index in
  // the batch. `msg` and everything it points to must stay valid and
  // unchanged until flush() returns; recvmsg writes msg_namelen and
  // msg_flags back into it.
  unsigned queueSend(int fd, msghdr* msg) { return queue(Op::Send, fd, msg); }
  unsigned queueRecv(int fd, msghdr* msg) { return queue(Op::Recv, fd, msg); }
  // Runs the queued operations; afterwards result(i) is the byte count or
  // -errno of operation i, until the next queue call. Returns how many ran.
  unsigned flush();
  int result(unsigned i) const { return results_[i]; }

  // Registers a socket in the ring's fixed file table (io_uring only; a
  // no-op otherwise or when the table is full): its operations then skip
  // the per-operation file lookup. Call from the ring's thread, and
  // forgetFile() before the descriptor is closed (the table holds a
  // reference that would keep the socket open).
  void registerFile(int fd);
  void forgetFile(int fd);
  // Sockets registered now.
  unsigned fixedFiles() const { return fixedCount_; }

  // Batches submitted through io_uring / operations run by the fallback.
  uint64_t uringSubmits = 0;
  uint64_t syscallOps = 0;

 private:
  enum class Op : uint8_t { Send, Recv };
  struct Queued {
    Op op;
    int fd;
    msghdr* msg;
  };

  unsigned queue(Op op, int fd, msghdr* msg) {
    queued_[count_] = Queued{op, fd, msg};
    return count_++;
  }
  bool setupRing();
  void teardownRing();
  void fallBack(const char* reason);
  // Runs queued_[from, count_) with one system call each.
  void runSyscalls(unsigned from);
  // Submits through the ring; if the ring fails, switches to the fallback
  // and runs what the kernel did not take with system calls.
  void runUring();
  unsigned reap();

  Backend backend_ = Backend::Syscalls;
  const char* reason_ = "";
  Queued queued_[kMaxOps];
  int results_[kMaxOps];
  unsigned count_ = 0;

  // io_uring (raw system calls: no liburing dependency).
  int ringFd_ = -1;
  void* sqMap_ = nullptr;
  size_t sqMapLen_ = 0;
  void* cqMap_ = nullptr;
  size_t cqMapLen_ = 0;
  io_uring_sqe* sqes_ = nullptr;
  size_t sqesLen_ = 0;
  unsigned* sqHead_ = nullptr;
  unsigned* sqTail_ = nullptr;
  unsigned sqMask_ = 0;
  unsigned* cqHead_ = nullptr;
  unsigned* cqTail_ = nullptr;
  unsigned cqMask_ = 0;
  io_uring_cqe* cqes_ = nullptr;
  bool needsEnable_ = false;
  // Kernel 6.1+ (the DEFER_TASKRUN ring): a one-buffer send goes out as
  // IORING_OP_SEND with its destination (sendto), so the kernel does not copy
  // in and parse a msghdr per packet.
  bool sendTo_ = false;
  // Fixed file table indexed by descriptor number (sparse, fixedSize_ =
  // min(kFixedFiles, RLIMIT_NOFILE) slots; 0 without a table or a ring);
  // fixed_[fd] says slot fd holds fd.
  static constexpr int kFixedFiles = 65536;
  int fixedSize_ = 0;
  unsigned fixedCount_ = 0;
  uint8_t* fixed_ = nullptr;
};

}  // namespace media
