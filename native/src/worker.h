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
  int eventFd() const { return eventFd_; }

  int index() const { return index_; }

  std::atomic<uint64_t> ticks{0};
  std::atomic<uint64_t> lateTicks{0};
  std::atomic<uint64_t> eventsDropped{0};
  std::atomic<uint64_t> commandErrors{0};

  // EventSink (worker thread).
  void emit(const Event& e) override;

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

  // recvmmsg / send scratch, preallocated.
  mmsghdr msgs_[kBatch];
  iovec iovs_[kBatch];
  sockaddr_storage addrs_[kBatch];
  alignas(16) uint8_t bufs_[kBatch][1536];
  alignas(16) uint8_t sendBuf_[1500];
};

int64_t monotonicMs();

}  // namespace media
