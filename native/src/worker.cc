#include "worker.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <stdexcept>
#include <string>

#include "leg.h"
#include "mix.h"
#include "room.h"

namespace media {
namespace {
char kTimerTag;  // epoll data.ptr of the timer, distinct from any Leg*
}

int64_t monotonicMs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

// The clock of SO_TIMESTAMPNS arrival stamps.
int64_t realtimeUs() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000 + ts.tv_nsec / 1000;
}

int64_t monotonicNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

namespace {
OwnedEventNode* nodeOf(const Event& e) {
  switch (e.type) {
    case EventType::PlaybackDone:
    case EventType::FreePlayback:
      return &e.playback->node;
    case EventType::LegDetached:
    case EventType::LegClosed:
      return &e.leg->node;
    case EventType::RoomClosed:
      return &e.room->node;
    default:
      return nullptr;
  }
}
}  // namespace

bool ioUringWanted() {
  const char* v = std::getenv("MEDIA_IO_URING");
  return v == nullptr || std::strcmp(v, "0") != 0;
}

Worker::Worker(int index, int64_t rtpTimeoutMs)
    : index_(index), rtpTimeoutMs_(rtpTimeoutMs), io_(ioUringWanted()), slots_(new IoSlot[BatchIo::kMaxOps]) {
  epollFd_ = epoll_create1(EPOLL_CLOEXEC);
  timerFd_ = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  eventFd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  rxEpollFd_ = epoll_create1(EPOLL_CLOEXEC);
  if (epollFd_ < 0 || timerFd_ < 0 || eventFd_ < 0 || rxEpollFd_ < 0) {
    const std::string err = std::strerror(errno);
    if (rxEpollFd_ >= 0) ::close(rxEpollFd_);
    if (epollFd_ >= 0) ::close(epollFd_);
    if (timerFd_ >= 0) ::close(timerFd_);
    if (eventFd_ >= 0) ::close(eventFd_);
    throw std::runtime_error("cannot create mixer worker: " + err);
  }
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.ptr = &kTimerTag;
  epoll_ctl(epollFd_, EPOLL_CTL_ADD, timerFd_, &ev);
  std::memset(batchLegs_, 0, sizeof batchLegs_);
  for (unsigned i = 0; i < BatchIo::kMaxOps; i++) {
    IoSlot& s = slots_[i];
    std::memset(&s.msg, 0, sizeof s.msg);
    s.msg.msg_iov = &s.iov;
    s.msg.msg_iovlen = 1;
    s.iov.iov_base = s.buf;
  }
  publishIoState();
}

void Worker::publishIoState() {
  usingIoUring_.store(io_.backend() == BatchIo::Backend::IoUring, std::memory_order_relaxed);
  ioReason_.store(io_.fallbackReason(), std::memory_order_relaxed);
}

Worker::~Worker() {
  stop();
  ::close(epollFd_);
  ::close(rxEpollFd_);
  ::close(timerFd_);
  ::close(eventFd_);
}

void Worker::start() {
  if (running_) return;
  // Absolute 20 ms grid on CLOCK_MONOTONIC: ticks do not drift.
  timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  itimerspec spec{};
  spec.it_interval.tv_nsec = kFrameMs * 1000000L;
  spec.it_value = now;
  spec.it_value.tv_nsec += kFrameMs * 1000000L;
  if (spec.it_value.tv_nsec >= 1000000000L) {
    spec.it_value.tv_sec++;
    spec.it_value.tv_nsec -= 1000000000L;
  }
  timerfd_settime(timerFd_, TFD_TIMER_ABSTIME, &spec, nullptr);
  nextDueNs_ = static_cast<int64_t>(spec.it_value.tv_sec) * 1000000000 + spec.it_value.tv_nsec;
  running_ = true;
  thread_ = std::thread([this] { run(); });
}

void Worker::stop() {
  if (!running_) return;
  stop_.store(true, std::memory_order_release);
  thread_.join();
  running_ = false;
}

void Worker::emit(const Event& e) {
  if (carriesOwnership(e.type)) {
    // Keep order: once one waits, the later ones queue behind it.
    if (ownedHead_ != nullptr || !events_.push(e)) {
      OwnedEventNode* n = nodeOf(e);
      n->event = e;
      n->next = nullptr;
      if (ownedTail_ != nullptr) ownedTail_->next = n;
      else ownedHead_ = n;
      ownedTail_ = n;
      bump(eventsDeferred);
      return;
    }
  } else if (!events_.pushKeepingReserve(e, kOwnedReserve)) {
    // Ring nearly full (JS thread stalled): the notification is lost.
    bump(eventsDropped);
    return;
  }
  if (!signaled_.exchange(true, std::memory_order_acq_rel)) {
    const uint64_t one = 1;
    ssize_t r = ::write(eventFd_, &one, sizeof one);
    (void)r;
  }
}

bool Worker::flushOwned() {
  bool pushed = false;
  while (ownedHead_ != nullptr && events_.push(ownedHead_->event)) {
    ownedHead_ = ownedHead_->next;
    pushed = true;
  }
  if (ownedHead_ == nullptr) ownedTail_ = nullptr;
  // Same protocol as emit(): a set flag means a drain is still to come.
  if (pushed && !signaled_.exchange(true, std::memory_order_acq_rel)) {
    const uint64_t one = 1;
    ssize_t r = ::write(eventFd_, &one, sizeof one);
    (void)r;
  }
  return ownedHead_ == nullptr;
}

bool Worker::takeDeferred(Event& e) {
  if (ownedHead_ == nullptr) return false;
  e = ownedHead_->event;
  ownedHead_ = ownedHead_->next;
  if (ownedHead_ == nullptr) ownedTail_ = nullptr;
  return true;
}

void Worker::recordLateness(int64_t lateNs) {
  int64_t b = lateNs < 0 ? 0 : lateNs / (kLatenessBucketUs * 1000);
  if (b > kLatenessBuckets) b = kLatenessBuckets;
  bump(tickLateness[b]);
}

void Worker::run() {
  io_.bindToThisThread();
  publishIoState();
  epoll_event events[4];
  while (!stop_.load(std::memory_order_acquire)) {
    const int n = epoll_wait(epollFd_, events, 4, 100);
    if (n < 0) {
      if (errno == EINTR) continue;
      break;
    }
    const int64_t now = monotonicMs();
    uint64_t expirations = 0;
    for (int i = 0; i < n; i++) {
      if (events[i].data.ptr == &kTimerTag) {
        uint64_t exp = 0;
        if (::read(timerFd_, &exp, sizeof exp) == sizeof exp) expirations += exp;
      }
    }
    if (expirations > 0) {
      if (expirations > 1) bump(lateTicks, expirations - 1);
      const uint64_t run = expirations > kMaxCatchUpTicks ? kMaxCatchUpTicks : expirations;
      for (uint64_t t = 0; t < run; t++) {
        recordLateness(monotonicNs() - (nextDueNs_ + static_cast<int64_t>(t) * kFrameMs * 1000000));
        drainCommands();
        flushOwned();
        tick(now);
      }
      // Skipped ticks (beyond the catch-up limit) are as late as it gets.
      if (expirations > run) bump(tickLateness[kLatenessBuckets], expirations - run);
      nextDueNs_ += static_cast<int64_t>(expirations) * kFrameMs * 1000000;
    }
  }
  drainCommands();
  flushOwned();
}

// Reading a tick's packets. A leg that sends media is read blind: one read
// of its RTP socket per tick, batched with all the others, and the socket is
// kept out of any epoll set. Every such leg has about one packet a tick, so
// a blind read rarely comes back empty, and a socket nobody waits on costs
// the kernel no wake-up check on each packet sent or received (with an
// epoll entry, every send took the socket's wait-queue lock to skip a
// wake-up, and every tick paid epoll_wait to list what was readable anyway).
//
// A socket with more than one packet queued (a burst after network jitter,
// a sender's clock running fast, a flood) is found by its oldest packet's
// kernel arrival time (SO_TIMESTAMPNS): if the packet just read had already
// arrived before the previous tick's reads began, the socket was not
// drained then (and a stamp that may be the read's own, see receiveBatch,
// counts as not drained too); it is read again in a backlog round, up to
// kMaxPacketsPerWakeup rounds a tick. A backlog thus drains within two
// ticks, and a flooding leg gets at most one read per round like everyone
// else. A blind read that finds nothing kIdleTicksBeforeEpoll ticks running
// (on hold, silence suppression, a dead phone) puts the socket back in the
// epoll set, and the first packet it reports makes the leg blind again.
//
// The epoll set (level-triggered, only polled here with timeout 0, never
// slept on) holds every RTCP socket and the RTP sockets of legs not
// sending. One call lists the readable ones, so idle sockets cost nothing;
// each round reads one packet from each socket listed, and epoll moves
// reported sockets to the back of its list, so the rounds are fair and
// bounded (kMaxPacketsPerWakeup beyond what it takes to go round once).
void Worker::receiveAll(int64_t nowMs) {
  const int64_t passUs = realtimeUs();
  readRtp(legs_, ReadPass::Polled, nowMs);

  const int maxRounds = kMaxPacketsPerWakeup + rxSockets_ / static_cast<int>(BatchIo::kMaxOps) + 1;
  for (int round = 0; round < maxRounds; round++) {
    const int ready = epoll_wait(rxEpollFd_, rxEvents_, static_cast<int>(BatchIo::kMaxOps), 0);
    if (ready <= 0) break;
    for (int i = 0; i < ready; i++) {
      const uint64_t tag = rxEvents_[i].data.u64;
      batchRtcp_[i] = (tag & 1) != 0;
      batchLegs_[i] = reinterpret_cast<Leg*>(static_cast<uintptr_t>(tag & ~static_cast<uint64_t>(1)));
    }
    receiveBatch(static_cast<unsigned>(ready), nowMs, ReadPass::Epoll);
  }

  for (int round = 0; backlog_ != nullptr && round < kMaxPacketsPerWakeup; round++) {
    Leg* list = backlog_;
    backlog_ = nullptr;
    readRtp(list, ReadPass::Backlog, nowMs);
  }
  // Backlogs left after the last round wait for the next tick's.
  while (backlog_ != nullptr) {
    Leg* l = backlog_;
    backlog_ = l->rxBacklogNext;
    l->rxBacklogNext = nullptr;
    l->rxBacklog = false;
  }
  prevPassUs_ = passUs;
  publishIoState();
}

void Worker::readRtp(Leg* list, ReadPass pass, int64_t nowMs) {
  unsigned n = 0;
  for (Leg* l = list; l != nullptr;) {
    Leg* const following = pass == ReadPass::Backlog ? l->rxBacklogNext : l->next;
    if (pass == ReadPass::Backlog) {
      l->rxBacklogNext = nullptr;
      l->rxBacklog = false;
    }
    if (pass == ReadPass::Backlog || l->rxPolled) {
      batchRtcp_[n] = false;
      batchLegs_[n++] = l;
      if (n == BatchIo::kMaxOps) {
        receiveBatch(n, nowMs, pass);
        n = 0;
      }
    }
    l = following;
  }
  if (n > 0) receiveBatch(n, nowMs, pass);
}

void Worker::addToBacklog(Leg* leg) {
  if (leg->rxBacklog) return;
  leg->rxBacklog = true;
  leg->rxBacklogNext = backlog_;
  backlog_ = leg;
}

void Worker::receiveBatch(unsigned n, int64_t nowMs, ReadPass pass) {
  for (unsigned i = 0; i < n; i++) {
    IoSlot& s = slots_[i];
    s.iov.iov_len = sizeof s.buf;
    s.msg.msg_name = &s.addr;
    s.msg.msg_namelen = sizeof s.addr;
    s.msg.msg_control = s.control;
    s.msg.msg_controllen = sizeof s.control;
    s.msg.msg_flags = 0;
    io_.queueRecv(batchRtcp_[i] ? batchLegs_[i]->rtcpFd() : batchLegs_[i]->fd(), &s.msg);
  }
  // Arrival stamps at or after this were taken during the batch: by the
  // kernel at arrival, or at our read for a packet that came in while no
  // socket of the process had asked for stamps yet (the kernel turns arrival
  // stamping on a little after the first such socket, and off again after
  // the last). The two cannot be told apart, so such a read counts as
  // possibly backlogged.
  const int64_t batchUs = realtimeUs();
  io_.flush();
  for (unsigned i = 0; i < n; i++) {
    const int r = io_.result(i);
    Leg* leg = batchLegs_[i];
    if (r < 0) {
      // EAGAIN (nothing queued, or raced) or a socket error: next round/tick.
      if (pass == ReadPass::Polled && ++leg->rxIdleTicks >= kIdleTicksBeforeEpoll) unpollRtp(leg);
      continue;
    }
    IoSlot& s = slots_[i];
    SockAddr from = SockAddr::none();
    socklen_t alen = s.msg.msg_namelen;
    if (alen > sizeof from.u) alen = sizeof from.u;
    std::memcpy(&from.u, &s.addr, alen);
    from.len = alen;
    const bool truncated = (s.msg.msg_flags & MSG_TRUNC) != 0;
    if (batchRtcp_[i]) {
      batchLegs_[i]->onRtcpDatagram(s.buf, static_cast<size_t>(r), truncated, from);
      continue;
    }
    int64_t arrivalUs = -1;
    for (cmsghdr* c = CMSG_FIRSTHDR(&s.msg); c != nullptr; c = CMSG_NXTHDR(&s.msg, c)) {
      if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
        timespec ts;
        std::memcpy(&ts, CMSG_DATA(c), sizeof ts);
        arrivalUs = static_cast<int64_t>(ts.tv_sec) * 1000000 + ts.tv_nsec / 1000;
      }
    }
    if (leg->rxPolled) {
      leg->rxIdleTicks = 0;
      // No stamp, or one that may be our read's: it cannot tell, so it reads again.
      if (arrivalUs < 0 || arrivalUs < prevPassUs_ || arrivalUs >= batchUs) addToBacklog(leg);
    } else {
      // Reported by epoll: the leg sends media now. It may have more queued.
      pollRtp(leg);
      addToBacklog(leg);
    }
    leg->onDatagram(s.buf, static_cast<size_t>(r), truncated, from, nowMs, *this, arrivalUs);
  }
}

void Worker::pollRtp(Leg* leg) {
  if (!epollRemove(leg->fd())) return;
  leg->rxPolled = true;
  leg->rxIdleTicks = 0;
}

void Worker::unpollRtp(Leg* leg) {
  if (epollAdd(leg, leg->fd(), false)) leg->rxPolled = false;
}

void Worker::watch(Leg* leg, int fd, bool rtcp) {
  if (fd < 0) return;
  if (!epollAdd(leg, fd, rtcp)) bump(commandErrors);
  io_.registerFile(fd);
}

void Worker::unwatch(int fd) {
  if (fd < 0) return;
  // Before the JS thread may close it: the ring's table holds a reference.
  io_.forgetFile(fd);
  epollRemove(fd);
}

// The event tag is the leg's address, its low bit set for the RTCP socket
// (receiveAll decodes it).
bool Worker::epollAdd(Leg* leg, int fd, bool rtcp) {
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = static_cast<uint64_t>(reinterpret_cast<uintptr_t>(leg)) | (rtcp ? 1u : 0u);
  if (epoll_ctl(rxEpollFd_, EPOLL_CTL_ADD, fd, &ev) != 0) return false;
  rxSockets_++;
  return true;
}

bool Worker::epollRemove(int fd) {
  if (epoll_ctl(rxEpollFd_, EPOLL_CTL_DEL, fd, nullptr) != 0) return false;
  rxSockets_--;
  return true;
}

void Worker::sendAll(int64_t nowMs) {
  unsigned n = 0;
  for (Leg* l = legs_; l != nullptr; l = l->next) {
    IoSlot& s = slots_[n];
    const size_t len = l->producePacket(*this, s.buf);
    if (len > 0) {
      s.iov.iov_len = len;
      // sendmsg only reads the address.
      s.msg.msg_name = const_cast<sockaddr*>(&l->remote().u.sa);
      s.msg.msg_namelen = l->remote().len;
      s.msg.msg_control = nullptr;
      s.msg.msg_controllen = 0;
      s.msg.msg_flags = 0;
      io_.queueSend(l->fd(), &s.msg);
      batchRtcp_[n] = false;
      batchLegs_[n++] = l;
      if (n == BatchIo::kMaxOps) {
        flushSends(n);
        n = 0;
      }
    }
    IoSlot& r = slots_[n];
    int fd = -1;
    const size_t rlen = l->produceRtcp(nowMs, rtcpIntervalMs_, r.buf, fd, rtcpTo_[n]);
    if (rlen > 0) {
      r.iov.iov_len = rlen;
      r.msg.msg_name = &rtcpTo_[n].u.sa;
      r.msg.msg_namelen = rtcpTo_[n].len;
      r.msg.msg_control = nullptr;
      r.msg.msg_controllen = 0;
      r.msg.msg_flags = 0;
      io_.queueSend(fd, &r.msg);
      batchRtcp_[n] = true;
      batchLegs_[n++] = l;
      if (n == BatchIo::kMaxOps) {
        flushSends(n);
        n = 0;
      }
    }
  }
  flushSends(n);
}

void Worker::flushSends(unsigned n) {
  if (n == 0) return;
  io_.flush();
  for (unsigned i = 0; i < n; i++) {
    if (io_.result(i) != static_cast<int>(slots_[i].iov.iov_len)) continue;
    if (batchRtcp_[i]) bump(batchLegs_[i]->stats.rtcpSent);
    else batchLegs_[i]->countSent(slots_[i].iov.iov_len);
  }
  publishIoState();
}

void Worker::drainCommands() {
  Command c;
  // Bounded so a burst of commands cannot delay a tick indefinitely.
  for (size_t i = 0; i < kCommandRing && commands_.pop(c); i++) apply(c);
}

void Worker::attach(Leg* leg) {
  leg->prev = nullptr;
  leg->next = legs_;
  if (legs_ != nullptr) legs_->prev = leg;
  legs_ = leg;
  // In the epoll set until it sends (it may come from another worker).
  leg->rxPolled = leg->rxBacklog = false;
  leg->rxBacklogNext = nullptr;
  leg->rxIdleTicks = 0;
  watch(leg, leg->fd(), false);
  watch(leg, leg->rtcpFd(), true);
}

void Worker::detach(Leg* leg) {
  roomRemove(*leg);
  if (leg->prev != nullptr) leg->prev->next = leg->next;
  else legs_ = leg->next;
  if (leg->next != nullptr) leg->next->prev = leg->prev;
  leg->prev = leg->next = nullptr;
  unwatch(leg->fd());
  unwatch(leg->rtcpFd());
}

void Worker::apply(const Command& c) {
  Event e{};
  switch (c.type) {
    case CmdType::AttachLeg:
      attach(c.leg);
      break;
    case CmdType::DetachLeg:
    case CmdType::CloseLeg:
      detach(c.leg);
      e.type = c.type == CmdType::DetachLeg ? EventType::LegDetached : EventType::LegClosed;
      e.legId = c.leg->id();
      e.leg = c.leg;
      emit(e);
      break;
    case CmdType::SetRemote:
      c.leg->setRemote(c.addr, monotonicMs());
      break;
    case CmdType::Play:
      c.leg->startPlayback(c.playback, *this, c.flag);
      break;
    case CmdType::PlayRoom:
      if (!c.flag) endPlayback(c.room->player, true, true, 0, c.room->id, *this);
      c.room->player.append(c.playback);
      break;
    case CmdType::StopRoomPlayback:
      endPlayback(c.room->player, true, true, 0, c.room->id, *this);
      break;
    case CmdType::StopPlayback:
      c.leg->stopPlayback(true, *this);
      break;
    case CmdType::Join:
      roomRemove(*c.leg);
      roomAdd(*c.room, *c.leg);
      c.leg->speak = c.speak;
      c.leg->hear = c.hear;
      break;
    case CmdType::Update:
      c.leg->speak = c.speak;
      c.leg->hear = c.hear;
      break;
    case CmdType::Leave:
      roomRemove(*c.leg);
      break;
    case CmdType::AddRoom:
      c.room->prev = nullptr;
      c.room->next = rooms_;
      if (rooms_ != nullptr) rooms_->prev = c.room;
      rooms_ = c.room;
      break;
    case CmdType::SetGain:
      c.leg->setGain(c.gainIn, c.gainOut);
      break;
    case CmdType::Hold:
      c.leg->hold(c.playback, *this);
      break;
    case CmdType::Unhold:
      c.leg->unhold(*this);
      break;
    case CmdType::SetSending:
      c.leg->setSending(c.flag);
      break;
    case CmdType::SetCodec:
      c.leg->setCodec(static_cast<Codec>(c.value & 0xFF), static_cast<uint8_t>(c.value >> 8), c.opus);
      break;
    case CmdType::StartRecording:
      c.room->recorder = c.recorder;
      break;
    case CmdType::StopRecording:
      if (c.room->recorder == c.recorder) c.room->recorder = nullptr;
      c.recorder->finish();
      break;
    case CmdType::SetWhisper:
      c.leg->whisper = c.whisper;
      break;
    case CmdType::SendDigits:
      c.leg->sendDigits(c.digits, *this);
      break;
    case CmdType::SetRoomConfig:
      c.room->maxTalkers = c.value;
      break;
    case CmdType::CloseRoom: {
      Room* r = c.room;
      if (r->recorder != nullptr) r->recorder->finish();
      endPlayback(r->player, true, true, 0, r->id, *this);
      r->recorder = nullptr;
      while (r->head != nullptr) roomRemove(*r->head);  // back to the lobby
      if (r->prev != nullptr) r->prev->next = r->next;
      else rooms_ = r->next;
      if (r->next != nullptr) r->next->prev = r->prev;
      r->prev = r->next = nullptr;
      e.type = EventType::RoomClosed;
      e.room = r;
      emit(e);
      break;
    }
  }
}

void Worker::tick(int64_t nowMs) {
  bump(ticks);
  receiveAll(nowMs);
  for (Leg* l = legs_; l != nullptr; l = l->next) l->pullInput(nowMs, rtpTimeoutMs_, *this);
  for (Room* r = rooms_; r != nullptr; r = r->next) mixRoom(*r, this);
  sendAll(nowMs);
}

}  // namespace media
