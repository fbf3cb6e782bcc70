// A mixer thread. It owns a set of legs and rooms and, without locks or
// allocation:
//  - waits on epoll for its legs' UDP sockets and a 20 ms absolute timerfd
//    (CLOCK_MONOTONIC);
//  - drains readable sockets with recvmmsg (at most kMaxPacketsPerWakeup per
//    leg per wakeup, so a flooding leg cannot starve the others) into each
//    leg's jitter buffer;
//  - on each tick: applies queued commands, pulls one frame per leg, mixes
//    each room N-1, renders playbacks, encodes and sends one packet per leg.
// Commands arrive on an SPSC ring (the JS thread is the only producer).
// Events leave on an SPSC ring; an eventfd is written only when the consumer
// has drained since the last signal (atomic flag), and a notifier thread turns
// that into a thread-safe-function call.
#pragma once

#include <sys/socket.h>

#include <atomic>
#include <cstdint>
#include <thread>

#include "messages.h"
#include "spsc_ring.h"

namespace media {

class Leg;
struct Room;

class Worker final : public EventSink {
 public:
  static constexpr size_t kCommandRing = 4096;
  static constexpr size_t kEventRing = 8192;
  static constexpr int kBatch = 32;
  static constexpr int kMaxPacketsPerWakeup = 64;
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

 private:
  void run();
  void drainCommands();
  void apply(const Command& c);
  void tick(int64_t nowMs);
  void readLeg(Leg* leg, int64_t nowMs);
  void attach(Leg* leg);
  void detach(Leg* leg);

  int index_;
  int64_t rtpTimeoutMs_;
  int epollFd_ = -1;
  int timerFd_ = -1;
  int eventFd_ = -1;
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

  // recvmmsg / send scratch, preallocated.
  mmsghdr msgs_[kBatch];
  iovec iovs_[kBatch];
  sockaddr_storage addrs_[kBatch];
  alignas(16) uint8_t bufs_[kBatch][1536];
  alignas(16) uint8_t sendBuf_[1500];
};

int64_t monotonicMs();
int64_t monotonicNs();

}  // namespace media
