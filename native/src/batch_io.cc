#include "batch_io.h"

#include <linux/io_uring.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace media {
namespace {

int sysSetup(unsigned entries, io_uring_params* p) {
  return static_cast<int>(syscall(__NR_io_uring_setup, entries, p));
}
int sysEnter(int fd, unsigned submit, unsigned wait, unsigned flags) {
  return static_cast<int>(syscall(__NR_io_uring_enter, fd, submit, wait, flags, nullptr, 0));
}
int sysRegister(int fd, unsigned op, void* arg = nullptr, unsigned nrArgs = 0) {
  return static_cast<int>(syscall(__NR_io_uring_register, fd, op, arg, nrArgs));
}

template <typename T>
T* at(void* base, uint32_t offset) {
  return reinterpret_cast<T*>(static_cast<uint8_t*>(base) + offset);
}

}  // namespace

BatchIo::BatchIo(bool preferUring) {
  std::memset(results_, 0, sizeof results_);
  if (!preferUring) {
    reason_ = "io_uring disabled by configuration";
    return;
  }
  if (setupRing()) backend_ = Backend::IoUring;
}

BatchIo::~BatchIo() {
  teardownRing();
  delete[] fixed_;
}

bool BatchIo::setupRing() {
  io_uring_params p{};
  // SINGLE_ISSUER + DEFER_TASKRUN (6.1+): no locking, completion work runs
  // only when this thread asks. R_DISABLED: the ring is created on the JS
  // thread but must belong to the worker thread, which enables it.
  // SUBMIT_ALL: a bad operation does not stop the rest of the batch.
  p.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_R_DISABLED |
            IORING_SETUP_SUBMIT_ALL;
  int fd = sysSetup(kMaxOps, &p);
  if (fd < 0 && errno == EINVAL) {
    // Older kernel: plain ring, enabled at once.
    p = io_uring_params{};
    p.flags = IORING_SETUP_SUBMIT_ALL;
    fd = sysSetup(kMaxOps, &p);
  }
  if (fd < 0 && errno == EINVAL) {
    p = io_uring_params{};
    fd = sysSetup(kMaxOps, &p);
  }
  if (fd < 0) {
    reason_ = errno == ENOSYS ? "io_uring not supported by this kernel"
              : errno == EPERM ? "io_uring not permitted (sysctl kernel.io_uring_disabled or seccomp)"
                               : "io_uring_setup failed";
    return false;
  }
  ringFd_ = fd;
  needsEnable_ = (p.flags & IORING_SETUP_R_DISABLED) != 0;
  sendTo_ = (p.flags & IORING_SETUP_DEFER_TASKRUN) != 0;
  sqMapLen_ = p.sq_off.array + p.sq_entries * sizeof(unsigned);
  cqMapLen_ = p.cq_off.cqes + p.cq_entries * sizeof(io_uring_cqe);
  const bool single = (p.features & IORING_FEAT_SINGLE_MMAP) != 0;
  if (single && cqMapLen_ > sqMapLen_) sqMapLen_ = cqMapLen_;
  sqMap_ = mmap(nullptr, sqMapLen_, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, IORING_OFF_SQ_RING);
  if (sqMap_ == MAP_FAILED) {
    sqMap_ = nullptr;
    teardownRing();
    reason_ = "io_uring ring mmap failed";
    return false;
  }
  if (single) {
    cqMap_ = sqMap_;
    cqMapLen_ = 0;  // not mapped separately
  } else {
    cqMap_ = mmap(nullptr, cqMapLen_, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, IORING_OFF_CQ_RING);
    if (cqMap_ == MAP_FAILED) {
      cqMap_ = nullptr;
      teardownRing();
      reason_ = "io_uring ring mmap failed";
      return false;
    }
  }
  sqesLen_ = p.sq_entries * sizeof(io_uring_sqe);
  void* sqes = mmap(nullptr, sqesLen_, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, IORING_OFF_SQES);
  if (sqes == MAP_FAILED) {
    teardownRing();
    reason_ = "io_uring sqe mmap failed";
    return false;
  }
  sqes_ = static_cast<io_uring_sqe*>(sqes);
  sqHead_ = at<unsigned>(sqMap_, p.sq_off.head);
  sqTail_ = at<unsigned>(sqMap_, p.sq_off.tail);
  sqMask_ = *at<unsigned>(sqMap_, p.sq_off.ring_mask);
  cqHead_ = at<unsigned>(cqMap_, p.cq_off.head);
  cqTail_ = at<unsigned>(cqMap_, p.cq_off.tail);
  cqMask_ = *at<unsigned>(cqMap_, p.cq_off.ring_mask);
  cqes_ = at<io_uring_cqe>(cqMap_, p.cq_off.cqes);
  // Identity index array: SQE slot i is entry i.
  unsigned* array = at<unsigned>(sqMap_, p.sq_off.array);
  for (unsigned i = 0; i < p.sq_entries; i++) array[i] = i;
  return true;
}

void BatchIo::teardownRing() {
  if (sqes_ != nullptr) munmap(sqes_, sqesLen_);
  if (cqMap_ != nullptr && cqMap_ != sqMap_) munmap(cqMap_, cqMapLen_);
  if (sqMap_ != nullptr) munmap(sqMap_, sqMapLen_);
  if (ringFd_ >= 0) ::close(ringFd_);
  sqes_ = nullptr;
  cqMap_ = sqMap_ = nullptr;
  ringFd_ = -1;
}

void BatchIo::fallBack(const char* reason) {
  teardownRing();
  fixedSize_ = 0;  // the table went with the ring
  fixedCount_ = 0;
  backend_ = Backend::Syscalls;
  reason_ = reason;
}

void BatchIo::bindToThisThread() {
  if (backend_ != Backend::IoUring || !needsEnable_) return;
  if (sysRegister(ringFd_, IORING_REGISTER_ENABLE_RINGS) < 0) {
    fallBack("io_uring ring could not be enabled");
    return;
  }
  needsEnable_ = false;
  // A sparse fixed file table (5.19+), no larger than the descriptor limit
  // (the kernel's cap); without it every operation looks its file up by
  // descriptor, which works the same.
  rlimit files{};
  const int size = getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < static_cast<rlim_t>(kFixedFiles)
                       ? static_cast<int>(files.rlim_cur)
                       : kFixedFiles;
  io_uring_rsrc_register table{};
  table.nr = static_cast<uint32_t>(size);
  table.flags = IORING_RSRC_REGISTER_SPARSE;
  if (sysRegister(ringFd_, IORING_REGISTER_FILES2, &table, sizeof table) == 0) {
    fixed_ = new uint8_t[size]();
    fixedSize_ = size;
  }
}

void BatchIo::registerFile(int fd) {
  if (fd < 0 || fd >= fixedSize_ || fixed_[fd] != 0) return;
  io_uring_files_update update{};
  update.offset = static_cast<uint32_t>(fd);
  update.fds = reinterpret_cast<uint64_t>(&fd);
  if (sysRegister(ringFd_, IORING_REGISTER_FILES_UPDATE, &update, 1) == 1) {
    fixed_[fd] = 1;
    fixedCount_++;
  }
}

void BatchIo::forgetFile(int fd) {
  if (fd < 0 || fd >= fixedSize_ || fixed_[fd] == 0) return;
  fixed_[fd] = 0;
  fixedCount_--;
  int none = -1;
  io_uring_files_update update{};
  update.offset = static_cast<uint32_t>(fd);
  update.fds = reinterpret_cast<uint64_t>(&none);
  sysRegister(ringFd_, IORING_REGISTER_FILES_UPDATE, &update, 1);
}

unsigned BatchIo::flush() {
  const unsigned n = count_;
  if (n == 0) return 0;
  // A ring that breaks mid-batch runs what it did not take the slow way.
  if (backend_ == Backend::IoUring && !needsEnable_) runUring();
  else runSyscalls(0);
  count_ = 0;
  return n;
}

void BatchIo::runSyscalls(unsigned from) {
  for (unsigned i = from; i < count_; i++) {
    const Queued& q = queued_[i];
    const ssize_t r = q.op == Op::Send ? ::sendmsg(q.fd, q.msg, MSG_DONTWAIT | MSG_NOSIGNAL)
                                       : ::recvmsg(q.fd, q.msg, MSG_DONTWAIT);
    results_[i] = r >= 0 ? static_cast<int>(r) : -errno;
    syscallOps++;
  }
}

unsigned BatchIo::reap() {
  unsigned head = *cqHead_;
  const unsigned tail = __atomic_load_n(cqTail_, __ATOMIC_ACQUIRE);
  unsigned got = 0;
  while (head != tail) {
    const io_uring_cqe& c = cqes_[head & cqMask_];
    if (c.user_data < kMaxOps) results_[c.user_data] = c.res;
    head++;
    got++;
  }
  __atomic_store_n(cqHead_, head, __ATOMIC_RELEASE);
  return got;
}

void BatchIo::runUring() {
  const unsigned n = count_;
  unsigned tail = *sqTail_;
  for (unsigned i = 0; i < n; i++) {
    io_uring_sqe* s = &sqes_[tail & sqMask_];
    std::memset(s, 0, sizeof *s);
    const Queued& q = queued_[i];
    const msghdr* m = q.msg;
    if (q.op == Op::Send && sendTo_ && m->msg_iovlen == 1 && m->msg_controllen == 0 && m->msg_namelen > 0) {
      s->opcode = IORING_OP_SEND;
      s->addr = reinterpret_cast<uint64_t>(m->msg_iov[0].iov_base);
      s->len = static_cast<uint32_t>(m->msg_iov[0].iov_len);
      s->addr2 = reinterpret_cast<uint64_t>(m->msg_name);
      s->addr_len = static_cast<uint16_t>(m->msg_namelen);
    } else {
      s->opcode = q.op == Op::Send ? IORING_OP_SENDMSG : IORING_OP_RECVMSG;
      s->addr = reinterpret_cast<uint64_t>(m);
      s->len = 1;
    }
    s->fd = q.fd;
    if (q.fd >= 0 && q.fd < fixedSize_ && fixed_[q.fd] != 0) s->flags = IOSQE_FIXED_FILE;
    // MSG_DONTWAIT: an empty socket or a full send buffer completes at once
    // with -EAGAIN instead of parking the operation in the kernel.
    s->msg_flags = MSG_DONTWAIT | (q.op == Op::Send ? MSG_NOSIGNAL : 0);
    s->user_data = i;
    results_[i] = -EINPROGRESS;
    tail++;
  }
  __atomic_store_n(sqTail_, tail, __ATOMIC_RELEASE);
  uringSubmits++;
  unsigned done = 0;
  unsigned toSubmit = n;
  int spins = 0;
  while (done < n) {
    const int r = sysEnter(ringFd_, toSubmit, n - done, IORING_ENTER_GETEVENTS);
    if (r >= 0) {
      toSubmit -= static_cast<unsigned>(r) < toSubmit ? static_cast<unsigned>(r) : toSubmit;
    } else if (errno != EINTR && errno != EAGAIN && errno != EBUSY) {
      break;
    }
    done += reap();
    if (++spins > 1000) break;  // never: every operation is non-blocking
  }
  if (done == n) return;
  // Take back what the kernel did not consume, then run it (and anything
  // submitted but never completed is reported as failed) without the ring.
  const unsigned consumed = __atomic_load_n(sqHead_, __ATOMIC_ACQUIRE);
  __atomic_store_n(sqTail_, consumed, __ATOMIC_RELEASE);
  const unsigned notSubmitted = tail - consumed;
  const unsigned firstNotSubmitted = n - notSubmitted;
  for (unsigned i = 0; i < firstNotSubmitted; i++) {
    if (results_[i] == -EINPROGRESS) results_[i] = -EIO;
  }
  fallBack("io_uring submission failed; using system calls");
  runSyscalls(firstNotSubmitted);
}

}  // namespace media
