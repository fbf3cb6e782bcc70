// A mixer thread. It owns a set of legs and rooms and, without locks or
// allocation:
//  - sleeps on a 20 ms absolute timerfd (CLOCK_MONOTONIC): it wakes once per
//    tick, not once per packet;
//  - on each tick: applies queued commands, reads the RTP sockets of legs
//    that send media blind (one read each, plus bounded backlog rounds) and
//    the other sockets the epoll set reports readable (one packet per socket
//    per round, rounds bounded, so a flooding leg cannot starve the others;
//    see receiveAll) into the legs' jitter buffers, pulls one
//    frame per leg, mixes each room N-1, renders playbacks, encodes and
//    sends one packet per leg (and RTCP reports when due). Reads and sends
//    go through BatchIo: one io_uring submission per 256 operations instead
//    of one system call per packet.
// Commands arrive on an SPSC ring (the JS thread is the only producer).
// Events leave on an SPSC ring; an eventfd is written only when the consumer
// has drained since the last signal (atomic flag), and a notifier thread turns
// that into a thread-safe-function call.
#pragma once

#include <sys/epoll.h>
#include <sys/socket.h>

#include <atomic>
#include <cstdint>
#include <thread>

#include <memory>

#include "batch_io.h"
#include "messages.h"
#include "sockaddr.h"
#include "spsc_ring.h"

namespace media {

class Leg;
struct Room;

class Worker final : public EventSink {
 public:
  static constexpr size_t kCommandRing = 4096;
  static constexpr size_t kEventRing = 8192;
  static constexpr int kMaxPacketsPerWakeup = 64;
  // A leg whose blind read found nothing this many ticks running goes back
  // to the epoll set (on hold, silence suppression, a dead phone).
  static constexpr uint8_t kIdleTicksBeforeEpoll = 50;
  static constexpr uint64_t kMaxCatchUpTicks = 5;
  // Event-ring slots only ownership-carrying events may use.
  static constexpr size_t kOwnedReserve = 1024;
  // Tick lateness histogram: 100 us buckets, the last one is overflow.
  static constexpr int kLatenessBucketUs = 100;
  static constexpr int kLatenessBuckets = 200;

  Worker(int index, int64_t rtpTimeoutMs);  // throws std::runtime_error
  ~Worker() override;
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  void start();
  void stop();  // joins; afterwards the JS thread may pop both rings

  // JS thread (producer of commands).
  bool post(const Command& c) { return commands_.push(c); }
  // After stop(): leftover commands, for the engine's teardown.
  bool popCommand(Command& c) { return commands_.pop(c); }

  // JS thread (consumer of events). Call beginDrain() before popping.
  void beginDrain() { signaled_.exchange(false, std::memory_order_acq_rel); }
  bool popEvent(Event& e) { return events_.pop(e); }
  // After stop() (or on the worker thread): ownership events still waiting
  // in the overflow FIFO, oldest first.
  bool takeDeferred(Event& e);
  int eventFd() const { return eventFd_; }

  int index() const { return index_; }

  std::atomic<uint64_t> ticks{0};
  std::atomic<uint64_t> lateTicks{0};
  std::atomic<uint64_t> eventsDropped{0};   // notifications only (dtmf, talking, timeout)
  std::atomic<uint64_t> eventsDeferred{0};  // ownership events that waited in the overflow FIFO
  std::atomic<uint64_t> commandErrors{0};
  // Tick start minus its scheduled time, per tick; index kLatenessBuckets
  // counts ticks at least kLatenessBuckets * kLatenessBucketUs late.
  std::atomic<uint64_t> tickLateness[kLatenessBuckets + 1] = {};

  // EventSink (worker thread). Notifications are dropped (and counted) when
  // the ring is nearly full; ownership events never are (see messages.h).
  void emit(const Event& e) override;
  // Moves deferred ownership events into the ring while it has room (worker
  // thread; called at each tick). Returns true when none is left waiting.
  bool flushOwned();
  // Records one tick's lateness (worker thread).
  void recordLateness(int64_t lateNs);

  // Socket I/O backend in use (it may fall back while running) and why it is
  // not io_uring ("" when it is). Readable from any thread.
  bool usingIoUring() const { return usingIoUring_.load(std::memory_order_relaxed); }
  // Before start(): RTCP report interval (0: no reports).
  void setRtcpIntervalMs(int64_t ms) { rtcpIntervalMs_ = ms; }
  const char* ioFallbackReason() const { return ioReason_.load(std::memory_order_relaxed); }

 private:
  void run();
  void drainCommands();
  void apply(const Command& c);
  void tick(int64_t nowMs);
  void receiveAll(int64_t nowMs);
  // Which read of the tick a batch is: the blind read of the polled legs,
  // a round of the epoll set, or a round over the polled legs' backlogs.
  enum class ReadPass : uint8_t { Polled, Epoll, Backlog };
  // Reads the RTP socket of each leg in the list (linked by `next`, or by
  // rxBacklogNext for the backlog list) that the pass selects: Polled, the
  // legs read blind; Backlog, every leg of the list, which it takes off.
  void readRtp(Leg* list, ReadPass pass, int64_t nowMs);
  // Reads batchLegs_[0, n) into the legs; legs with more to read go on the
  // backlog list.
  void receiveBatch(unsigned n, int64_t nowMs, ReadPass pass);
  void addToBacklog(Leg* leg);
  void pollRtp(Leg* leg);    // out of the epoll set, read blind
  void unpollRtp(Leg* leg);  // back into the epoll set
  void watch(Leg* leg, int fd, bool rtcp);
  void unwatch(int fd);
  // In and out of the receive epoll set, keeping rxSockets_; false when
  // epoll_ctl refused (unwatch of a blind-read socket: it is not in the set).
  bool epollAdd(Leg* leg, int fd, bool rtcp);
  bool epollRemove(int fd);
  void sendAll(int64_t nowMs);
  void flushSends(unsigned n);
  void publishIoState();
  void attach(Leg* leg);
  void detach(Leg* leg);

  int index_;
  int64_t rtpTimeoutMs_;
  int epollFd_ = -1;
  int timerFd_ = -1;
  int eventFd_ = -1;
  int rxEpollFd_ = -1;  // the legs' sockets, polled (timeout 0) at each tick
  int rxSockets_ = 0;     // in the epoll set
  int64_t prevPassUs_ = 0;  // CLOCK_REALTIME (as SO_TIMESTAMPNS) at the previous tick's first read
  // Legs to read again in the next backlog round (through rxBacklogNext):
  // a round costs what it reads, not a walk over every leg, so a flood on
  // one port cannot make the worker walk thousands of legs 64 times a tick.
  Leg* backlog_ = nullptr;
  epoll_event rxEvents_[BatchIo::kMaxOps];
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> signaled_{false};
  bool running_ = false;

  SpscRing<Command, kCommandRing> commands_;
  SpscRing<Event, kEventRing> events_;

  Leg* legs_ = nullptr;
  Room* rooms_ = nullptr;
  OwnedEventNode* ownedHead_ = nullptr;  // overflow FIFO (nodes inside the objects)
  OwnedEventNode* ownedTail_ = nullptr;
  int64_t nextDueNs_ = 0;  // scheduled time of the next timer expiration

  // One batch of socket operations: a datagram buffer and its header each.
  struct IoSlot {
    msghdr msg;
    iovec iov;
    sockaddr_storage addr;
    alignas(cmsghdr) uint8_t control[64];  // SO_TIMESTAMPNS
    alignas(16) uint8_t buf[1536];
  };
  BatchIo io_;
  std::unique_ptr<IoSlot[]> slots_;  // BatchIo::kMaxOps, preallocated
  Leg* batchLegs_[BatchIo::kMaxOps];  // the leg of each slot in the batch
  bool batchRtcp_[BatchIo::kMaxOps];  // ... and whether it is its RTCP socket
  SockAddr rtcpTo_[BatchIo::kMaxOps];  // RTCP destinations of the send batch
  int64_t rtcpIntervalMs_ = 5000;
  std::atomic<bool> usingIoUring_{false};
  std::atomic<const char*> ioReason_{""};
};

// MEDIA_IO_URING=0 in the environment turns io_uring off (comparisons,
// kernels where it misbehaves).
bool ioUringWanted();

int64_t monotonicMs();
int64_t monotonicNs();
int64_t realtimeUs();

}  // namespace media
