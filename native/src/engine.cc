#include "engine.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstring>
#include <thread>

#include "leg.h"
#include "notifier.h"
#include "room.h"
#include "worker.h"

namespace media {

namespace {

void checkMaxTalkers(int maxTalkers) {
  if (maxTalkers < 1 || maxTalkers > kMaxTalkersLimit) {
    throw MediaError("EINVAL", "maxTalkers must be within [1, " + std::to_string(kMaxTalkersLimit) + "]");
  }
}

// A command of `type` addressed to `leg`, all else zero.
Command legCommand(CmdType type, Leg* leg) {
  Command c{};
  c.type = type;
  c.leg = leg;
  return c;
}

}  // namespace

Engine::Engine(const EngineConfig& config, std::function<void()> wake) : config_(config) {
  SockAddr probe;
  if (!SockAddr::parse(config_.bindAddress, 0, probe)) {
    throw MediaError("EINVAL", "bindAddress is not a numeric IPv4/IPv6 address: " + config_.bindAddress);
  }
  if (config_.rtpPortMin < 1 || config_.rtpPortMax > 65535 || config_.rtpPortMin > config_.rtpPortMax) {
    throw MediaError("EINVAL", "invalid RTP port range");
  }
  if (config_.workerThreads < 1 || config_.workerThreads > 64) {
    throw MediaError("EINVAL", "workerThreads must be within [1, 64]");
  }
  if (config_.rtpTimeoutMs < 0) throw MediaError("EINVAL", "rtpTimeoutMs must be >= 0");
  checkMaxTalkers(config_.maxTalkers);
  std::random_device rd;
  rng_.seed((static_cast<uint64_t>(rd()) << 32) ^ rd());
  nextPort_ = config_.rtpPortMin + (config_.rtpPortMin & 1);
  std::vector<int> fds;
  for (int i = 0; i < config_.workerThreads; i++) {
    try {
      workers_.emplace_back(new Worker(i, config_.rtpTimeoutMs));
      workers_.back()->setRtcpIntervalMs(config_.rtcpIntervalMs);
    } catch (const std::exception& e) {
      workers_.clear();
      throw MediaError("ESOCKET", e.what());
    }
    fds.push_back(workers_.back()->eventFd());
  }
  legsPerWorker_.assign(workers_.size(), 0);
  roomsPerWorker_.assign(workers_.size(), 0);
  wake_ = wake;
  notifier_.reset(new Notifier(fds, std::move(wake)));
  for (auto& w : workers_) w->start();
}

Engine::~Engine() { close(); }

void Engine::ensureOpen() const {
  if (closed_) throw MediaError("ECLOSED", "media engine is closed");
}

Engine::LegHandle& Engine::legHandle(uint32_t legId) {
  return const_cast<LegHandle&>(static_cast<const Engine*>(this)->legHandle(legId));
}

const Engine::LegHandle& Engine::legHandle(uint32_t legId) const {
  ensureOpen();
  auto it = legs_.find(legId);
  if (it == legs_.end() || it->second.closing) throw MediaError("ENOLEG", "leg " + std::to_string(legId) + " is closed");
  return it->second;
}

Engine::RoomHandle& Engine::roomHandle(uint32_t roomId) {
  ensureOpen();
  auto it = rooms_.find(roomId);
  if (it == rooms_.end()) throw MediaError("ENOROOM", "room " + std::to_string(roomId) + " is closed");
  return it->second;
}

void Engine::post(int worker, const Command& c) {
  Worker& w = *workers_[static_cast<size_t>(worker)];
  // The worker drains its whole ring every 20 ms; a full ring means it is
  // stuck. Wait a little rather than lose a command that carries ownership.
  for (int i = 0; i < 1000; i++) {
    if (w.post(c)) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  throw MediaError("EBUSY", "media worker command queue is full");
}

void Engine::postLeg(LegHandle& h, const Command& c) {
  if (h.migrating) {
    h.pending.push_back(c);
    return;
  }
  post(h.worker, c);
}

void Engine::postLegOwning(LegHandle& h, const Command& c) {
  try {
    postLeg(h, c);
  } catch (...) {
    delete c.playback;
    throw;
  }
}

int Engine::bindUdp(int port) {
  SockAddr addr;
  SockAddr::parse(config_.bindAddress, 0, addr);
  const int fd = ::socket(addr.family(), SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) throw MediaError("ESOCKET", std::string("socket: ") + std::strerror(errno));
  if (addr.family() == AF_INET) addr.u.v4.sin_port = htons(static_cast<uint16_t>(port));
  else addr.u.v6.sin6_port = htons(static_cast<uint16_t>(port));
  if (::bind(fd, &addr.u.sa, addr.len) != 0) {
    const int err = errno;
    ::close(fd);
    if (err != EADDRINUSE && err != EACCES) {
      throw MediaError("ESOCKET", "cannot bind " + config_.bindAddress + ":" + std::to_string(port) +
                                      ": " + std::strerror(err));
    }
    return -err;
  }
  const int tos = 0xB8;  // DSCP EF, as phones expect for voice
  if (addr.family() == AF_INET) setsockopt(fd, IPPROTO_IP, IP_TOS, &tos, sizeof tos);
  else setsockopt(fd, IPPROTO_IPV6, IPV6_TCLASS, &tos, sizeof tos);
  // Kernel receive times for the RFC 3550 interarrival jitter (the worker
  // reads packets once per tick, so its own clock is 20 ms coarse).
  const int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof one);
  return fd;
}

int Engine::openSocket(int& portOut, bool rtcp, int& rtcpFd) {
  const int first = config_.rtpPortMin + (config_.rtpPortMin & 1);
  if (first > config_.rtpPortMax) throw MediaError("EPORTS", "RTP port range has no even port");
  const int count = (config_.rtpPortMax - first) / 2 + 1;
  if (nextPort_ < first || nextPort_ > config_.rtpPortMax) nextPort_ = first;
  rtcpFd = -1;
  for (int i = 0; i < count; i++) {
    const int port = nextPort_;
    nextPort_ += 2;
    if (nextPort_ > config_.rtpPortMax) nextPort_ = first;
    if (rtcp && port + 1 > config_.rtpPortMax) continue;  // its RTCP port is outside the range
    const int fd = bindUdp(port);
    if (fd < 0) continue;
    if (rtcp) {
      const int r = bindUdp(port + 1);
      if (r < 0) {
        ::close(fd);
        continue;
      }
      rtcpFd = r;
    }
    portOut = port;
    return fd;
  }
  throw MediaError("EPORTS", std::string("no free RTP ") + (rtcp ? "+ RTCP port pair" : "port") + " in " +
                                 std::to_string(config_.rtpPortMin) + "-" + std::to_string(config_.rtpPortMax) +
                                 " on " + config_.bindAddress);
}

LegInfo Engine::createLeg(const LegParams& params) {
  ensureOpen();
  if (params.payloadType < 0 || params.payloadType > 127) throw MediaError("EINVAL", "payloadType must be 0-127");
  if (params.telephoneEventPayloadType > 127 || params.telephoneEventPayloadType == params.payloadType) {
    throw MediaError("EINVAL", "invalid telephoneEventPayloadType");
  }
  int port = 0;
  int rtcpFd = -1;
  const int fd = openSocket(port, !params.rtcpMux, rtcpFd);
  LegConfig lc;
  lc.id = nextLegId_++;
  lc.codec = params.codec;
  lc.payloadType = static_cast<uint8_t>(params.payloadType);
  lc.telephoneEventPayloadType = params.telephoneEventPayloadType < 0 ? -1 : params.telephoneEventPayloadType;
  lc.ssrc = rng_();
  lc.initialSeq = static_cast<uint16_t>(rng_());
  lc.initialTimestamp = rng_();
  lc.rtcpMux = params.rtcpMux;
  Leg* leg = new Leg(lc, fd);
  leg->setRtcpFd(rtcpFd);
  size_t best = 0;
  for (size_t i = 1; i < workers_.size(); i++) {
    if (legsPerWorker_[i] < legsPerWorker_[best]) best = i;
  }
  const Command c = legCommand(CmdType::AttachLeg, leg);
  try {
    post(static_cast<int>(best), c);
  } catch (...) {
    delete leg;
    throw;
  }
  LegHandle h;
  h.leg = leg;
  h.worker = static_cast<int>(best);
  h.opusGiven = params.codec == Codec::Opus;
  legs_.emplace(lc.id, std::move(h));
  legsPerWorker_[best]++;
  return LegInfo{lc.id, config_.bindAddress, port, rtcpFd >= 0 ? port + 1 : 0};
}

void Engine::setRemote(uint32_t legId, const std::string& address, int port) {
  LegHandle& h = legHandle(legId);
  SockAddr addr;
  if (!SockAddr::parse(address, port, addr) || port == 0) {
    throw MediaError("EINVAL", "invalid remote " + address + ":" + std::to_string(port));
  }
  // An IPv4 remote on an IPv6 socket: use the v4-mapped form.
  SockAddr local;
  SockAddr::parse(config_.bindAddress, 0, local);
  if (local.family() == AF_INET6 && addr.family() == AF_INET) {
    SockAddr m = SockAddr::none();
    m.u.v6.sin6_family = AF_INET6;
    m.u.v6.sin6_port = addr.u.v4.sin_port;
    m.u.v6.sin6_addr.s6_addr[10] = 0xFF;
    m.u.v6.sin6_addr.s6_addr[11] = 0xFF;
    std::memcpy(&m.u.v6.sin6_addr.s6_addr[12], &addr.u.v4.sin_addr, 4);
    m.len = sizeof(sockaddr_in6);
    addr = m;
  } else if (local.family() == AF_INET && addr.family() == AF_INET6) {
    throw MediaError("EINVAL", "IPv6 remote on an IPv4 engine");
  }
  Command c = legCommand(CmdType::SetRemote, h.leg);
  c.addr = addr;
  postLeg(h, c);
}

uint32_t Engine::playRoom(uint32_t roomId, std::vector<SoundPtr> sounds, bool queue) {
  RoomHandle& r = roomHandle(roomId);
  for (const SoundPtr& s : sounds) {
    if (!s) throw MediaError("EINVAL", "null sound");
  }
  auto p = std::make_unique<Playback>();
  p->id = nextPlaybackId_++;
  if (nextPlaybackId_ == 0) nextPlaybackId_ = 1;
  p->sounds = std::move(sounds);
  p->interruptible = false;
  const uint32_t id = p->id;
  Command c{};
  c.type = CmdType::PlayRoom;
  c.room = r.room;
  c.playback = p.get();
  c.flag = queue;
  post(r.worker, c);  // throws EBUSY without taking ownership
  p.release();
  return id;
}

void Engine::stopRoomPlayback(uint32_t roomId) {
  RoomHandle& r = roomHandle(roomId);
  Command c{};
  c.type = CmdType::StopRoomPlayback;
  c.room = r.room;
  post(r.worker, c);
}

uint32_t Engine::play(uint32_t legId, std::vector<SoundPtr> sounds, bool interruptible, bool queue) {
  LegHandle& h = legHandle(legId);
  for (const SoundPtr& s : sounds) {
    if (!s) throw MediaError("EINVAL", "null sound");
  }
  Playback* p = new Playback();
  p->id = nextPlaybackId_++;
  if (nextPlaybackId_ == 0) nextPlaybackId_ = 1;
  p->sounds = std::move(sounds);
  p->interruptible = interruptible;
  const uint32_t id = p->id;
  Command c = legCommand(CmdType::Play, h.leg);
  c.playback = p;
  c.flag = queue;
  postLegOwning(h, c);
  return id;
}

uint32_t Engine::sendDigits(uint32_t legId, const std::string& digits, int durationMs, int gapMs) {
  LegHandle& h = legHandle(legId);
  if (h.leg->config().telephoneEventPayloadType < 0) {
    throw MediaError("EINVAL", "the leg has no telephone-event payload type: RFC 4733 digits cannot be sent");
  }
  if (digits.empty() || digits.size() > static_cast<size_t>(kMaxSendDigits)) {
    throw MediaError("EINVAL", "digits must hold 1 to " + std::to_string(kMaxSendDigits) + " keys");
  }
  for (char d : digits) {
    if (Rfc4733Sender::eventFor(d) < 0) throw MediaError("EINVAL", std::string("not a DTMF key: '") + d + "'");
  }
  if (durationMs < kMinDigitMs || durationMs > kMaxDigitMs) {
    throw MediaError("EINVAL", "durationMs must be within [" + std::to_string(kMinDigitMs) + ", " +
                                   std::to_string(kMaxDigitMs) + "]");
  }
  if (gapMs < kMinDigitGapMs || gapMs > kMaxDigitMs) {
    throw MediaError("EINVAL", "gapMs must be within [" + std::to_string(kMinDigitGapMs) + ", " +
                                   std::to_string(kMaxDigitMs) + "]");
  }
  Command c = legCommand(CmdType::SendDigits, h.leg);
  c.digits.id = nextDigitRequestId_++;
  if (nextDigitRequestId_ == 0) nextDigitRequestId_ = 1;
  for (size_t i = 0; i < digits.size(); i++) c.digits.digits[i] = digits[i];
  c.digits.count = static_cast<uint8_t>(digits.size());
  // Whole 20 ms ticks, rounded to the nearest.
  c.digits.toneTicks = static_cast<uint16_t>((durationMs + 10) / 20);
  c.digits.gapTicks = static_cast<uint16_t>((gapMs + 10) / 20);
  postLeg(h, c);
  return c.digits.id;
}

void Engine::setWhisper(uint32_t legId, const std::vector<uint32_t>& targets) {
  LegHandle& h = legHandle(legId);
  if (targets.size() > static_cast<size_t>(kMaxWhisperTargets)) {
    throw MediaError("EINVAL", "at most " + std::to_string(kMaxWhisperTargets) + " whisper targets");
  }
  Command c = legCommand(CmdType::SetWhisper, h.leg);
  c.whisper.count = 0;
  for (uint32_t t : targets) {
    if (t == legId) throw MediaError("EINVAL", "a leg cannot whisper to itself");
    legHandle(t);  // ENOLEG if unknown
    c.whisper.legIds[c.whisper.count++] = t;
  }
  postLeg(h, c);
}

void Engine::stopPlayback(uint32_t legId) {
  LegHandle& h = legHandle(legId);
  postLeg(h, legCommand(CmdType::StopPlayback, h.leg));
}

void Engine::doJoin(uint32_t legId, LegHandle& h, uint32_t roomId, bool speak, bool hear) {
  auto rit = rooms_.find(roomId);
  if (rit == rooms_.end()) return;  // room closed meanwhile: stay in the lobby
  Command c = legCommand(CmdType::Join, h.leg);
  c.room = rit->second.room;
  c.roomId = roomId;
  c.speak = speak;
  c.hear = hear;
  if (!h.migrating && rit->second.worker != h.worker) {
    post(h.worker, legCommand(CmdType::DetachLeg, h.leg));
    legsPerWorker_[static_cast<size_t>(h.worker)]--;
    h.worker = rit->second.worker;  // target
    legsPerWorker_[static_cast<size_t>(h.worker)]++;
    h.migrating = true;
  }
  (void)legId;
  postLeg(h, c);
}

void Engine::join(uint32_t legId, uint32_t roomId, bool speak, bool hear) {
  LegHandle& h = legHandle(legId);
  if (rooms_.find(roomId) == rooms_.end()) throw MediaError("ENOROOM", "room " + std::to_string(roomId) + " is closed");
  doJoin(legId, h, roomId, speak, hear);
}

void Engine::update(uint32_t legId, bool speak, bool hear) {
  LegHandle& h = legHandle(legId);
  Command c = legCommand(CmdType::Update, h.leg);
  c.speak = speak;
  c.hear = hear;
  postLeg(h, c);
}

void Engine::leave(uint32_t legId) {
  LegHandle& h = legHandle(legId);
  postLeg(h, legCommand(CmdType::Leave, h.leg));
}

void Engine::closeLeg(uint32_t legId) {
  LegHandle& h = legHandle(legId);
  const Command c = legCommand(CmdType::CloseLeg, h.leg);
  if (h.migrating) {
    h.pending.push_back(c);
    h.closing = true;  // kept until the migration completes
    return;
  }
  post(h.worker, c);
  legsPerWorker_[static_cast<size_t>(h.worker)]--;
  legs_.erase(legId);
}

void Engine::onDetached(uint32_t legId) {
  auto it = legs_.find(legId);
  if (it == legs_.end()) return;
  LegHandle& h = it->second;
  h.migrating = false;
  post(h.worker, legCommand(CmdType::AttachLeg, h.leg));
  std::vector<Command> pending;
  pending.swap(h.pending);
  for (size_t i = 0; i < pending.size(); i++) {
    const Command& c = pending[i];
    if (c.type == CmdType::CloseLeg) {
      if (h.migrating) {  // a replayed Join started another migration
        h.pending.push_back(c);
        continue;
      }
      post(h.worker, c);
      legsPerWorker_[static_cast<size_t>(h.worker)]--;
      legs_.erase(it);
      return;  // nothing may follow a close
    }
    if (c.type == CmdType::Join) {
      doJoin(legId, h, c.roomId, c.speak, c.hear);
    } else {
      postLeg(h, c);
    }
  }
}

uint32_t Engine::createRoom(int maxTalkers) {
  ensureOpen();
  if (maxTalkers < 0) maxTalkers = config_.maxTalkers;
  checkMaxTalkers(maxTalkers);
  size_t best = 0;
  for (size_t i = 1; i < workers_.size(); i++) {
    if (roomsPerWorker_[i] < roomsPerWorker_[best]) best = i;
  }
  Room* r = new Room();
  r->id = nextRoomId_++;
  r->maxTalkers = static_cast<uint32_t>(maxTalkers);
  Command c{};
  c.type = CmdType::AddRoom;
  c.room = r;
  try {
    post(static_cast<int>(best), c);
  } catch (...) {
    delete r;
    throw;
  }
  rooms_.emplace(r->id, RoomHandle{r, static_cast<int>(best)});
  roomsPerWorker_[best]++;
  return r->id;
}

void Engine::setRoomMaxTalkers(uint32_t roomId, int maxTalkers) {
  const RoomHandle& r = roomHandle(roomId);
  checkMaxTalkers(maxTalkers);
  Command c{};
  c.type = CmdType::SetRoomConfig;
  c.room = r.room;
  c.value = static_cast<uint32_t>(maxTalkers);
  post(r.worker, c);
}

void Engine::setGain(uint32_t legId, double inDb, double outDb) {
  LegHandle& h = legHandle(legId);
  for (double db : {inDb, outDb}) {
    if (!(db >= kMinGainDb && db <= kMaxGainDb)) {
      throw MediaError("EINVAL", "gain must be within [" + std::to_string(static_cast<int>(kMinGainDb)) + ", " +
                                     std::to_string(static_cast<int>(kMaxGainDb)) + "] dB");
    }
  }
  Command c = legCommand(CmdType::SetGain, h.leg);
  c.gainIn = inDb == 0 ? 1.f : static_cast<float>(std::pow(10.0, inDb / 20.0));
  c.gainOut = outDb == 0 ? 1.f : static_cast<float>(std::pow(10.0, outDb / 20.0));
  postLeg(h, c);
}

void Engine::hold(uint32_t legId, std::vector<SoundPtr> music) {
  LegHandle& h = legHandle(legId);
  size_t total = 0;
  for (const SoundPtr& s : music) {
    if (!s) throw MediaError("EINVAL", "null sound");
    total += s->samples.size();
  }
  Playback* p = nullptr;
  if (total > 0) {
    p = new Playback();
    p->sounds = std::move(music);
    p->interruptible = false;
    p->loop = true;
  }
  Command c = legCommand(CmdType::Hold, h.leg);
  c.playback = p;
  postLegOwning(h, c);
}

void Engine::unhold(uint32_t legId) {
  LegHandle& h = legHandle(legId);
  postLeg(h, legCommand(CmdType::Unhold, h.leg));
}

void Engine::setCodec(uint32_t legId, Codec codec, int payloadType) {
  LegHandle& h = legHandle(legId);
  if (payloadType < 0 || payloadType > 127) throw MediaError("EINVAL", "payloadType must be 0-127");
  if (payloadType == h.leg->config().telephoneEventPayloadType) {
    throw MediaError("EINVAL", "payloadType is the leg's telephone-event payload type");
  }
  Command c = legCommand(CmdType::SetCodec, h.leg);
  c.value = static_cast<uint32_t>(codec) | static_cast<uint32_t>(payloadType) << 8;
  std::unique_ptr<OpusCodec> opus;
  if (codec == Codec::Opus && !h.opusGiven) {
    // Made here, adopted by the leg on its worker: no allocation there.
    opus = std::make_unique<OpusCodec>();
    c.opus = opus.get();
  }
  postLeg(h, c);
  if (opus) {
    opus.release();
    h.opusGiven = true;
  }
}

void Engine::setSending(uint32_t legId, bool sending) {
  LegHandle& h = legHandle(legId);
  Command c = legCommand(CmdType::SetSending, h.leg);
  c.flag = sending;
  postLeg(h, c);
}

uint32_t Engine::startRecording(uint32_t roomId, const std::string& mixPath, const std::string& trackDirectory,
                                int sampleRate) {
  RoomHandle& r = roomHandle(roomId);
  if (r.recordingId != 0) throw MediaError("EBUSY", "room " + std::to_string(roomId) + " is already being recorded");
  if (mixPath.empty()) throw MediaError("EINVAL", "mixFile is required");
  if (sampleRate != 8000 && sampleRate != 16000) throw MediaError("EINVAL", "sampleRate must be 8000 or 16000");
  const uint32_t id = nextRecordingId_++;
  std::unique_ptr<Recorder> rec;
  try {
    rec = std::make_unique<Recorder>(id, mixPath, trackDirectory, sampleRate, wake_);
  } catch (const std::bad_alloc&) {
    throw;
  } catch (const std::exception& e) {
    throw MediaError("EIO", e.what());
  }
  Command c{};
  c.type = CmdType::StartRecording;
  c.room = r.room;
  c.recorder = rec.get();
  post(r.worker, c);
  RecordingHandle h;
  h.recorder = std::move(rec);
  h.roomId = roomId;
  recordings_.emplace(id, std::move(h));
  r.recordingId = id;
  return id;
}

void Engine::stopRecording(uint32_t recordingId) {
  ensureOpen();
  auto it = recordings_.find(recordingId);
  if (it == recordings_.end() || it->second.stopped) return;
  it->second.stopped = true;
  RoomHandle& r = rooms_.at(it->second.roomId);  // a recording not stopped has its room open
  r.recordingId = 0;
  Command c{};
  c.type = CmdType::StopRecording;
  c.room = r.room;
  c.recorder = it->second.recorder.get();
  post(r.worker, c);
}

void Engine::closeRoom(uint32_t roomId) {
  const RoomHandle r = roomHandle(roomId);
  // The worker finishes the room's recorder when it closes the room.
  if (r.recordingId != 0) recordings_.at(r.recordingId).stopped = true;
  Command c{};
  c.type = CmdType::CloseRoom;
  c.room = r.room;
  post(r.worker, c);
  roomsPerWorker_[static_cast<size_t>(r.worker)]--;
  rooms_.erase(roomId);
}

namespace {
LegStatsSnapshot snapshot(const LegCounters& c) {
  LegStatsSnapshot s;
  s.packetsReceived = c.packetsReceived.load(std::memory_order_relaxed);
  s.packetsSent = c.packetsSent.load(std::memory_order_relaxed);
  s.packetsMalformed = c.packetsMalformed.load(std::memory_order_relaxed);
  s.packetsFromStrangers = c.packetsFromStrangers.load(std::memory_order_relaxed);
  s.packetsUnknownPayload = c.packetsUnknownPayload.load(std::memory_order_relaxed);
  s.framesConcealed = c.framesConcealed.load(std::memory_order_relaxed);
  s.dtmfEvents = c.dtmfEvents.load(std::memory_order_relaxed);
  s.dtmfSuppressed = c.dtmfSuppressed.load(std::memory_order_relaxed);
  s.dtmfInband = c.dtmfInband.load(std::memory_order_relaxed);
  s.framesDtmfGated = c.framesDtmfGated.load(std::memory_order_relaxed);
  s.jitterDelaySamples = c.jitterDelaySamples.load(std::memory_order_relaxed);
  s.jitterTargetSamples = c.jitterTargetSamples.load(std::memory_order_relaxed);
  s.jitterFramesInserted = c.jitterFramesInserted.load(std::memory_order_relaxed);
  s.jitterFramesDropped = c.jitterFramesDropped.load(std::memory_order_relaxed);
  s.packetsLate = c.packetsLate.load(std::memory_order_relaxed);
  s.bytesReceived = c.bytesReceived.load(std::memory_order_relaxed);
  s.bytesSent = c.bytesSent.load(std::memory_order_relaxed);
  s.rtcpSent = c.rtcpSent.load(std::memory_order_relaxed);
  s.rtcpReceived = c.rtcpReceived.load(std::memory_order_relaxed);
  s.rtcpMalformed = c.rtcpMalformed.load(std::memory_order_relaxed);
  s.packetsLost = static_cast<int64_t>(c.packetsLost.load(std::memory_order_relaxed));
  s.remotePacketsLost = static_cast<int64_t>(c.remotePacketsLost.load(std::memory_order_relaxed));
  s.rttUs = static_cast<int64_t>(c.rttUsPlus1.load(std::memory_order_relaxed)) - 1;
  s.fractionLost = c.fractionLost.load(std::memory_order_relaxed);
  s.jitterRtp = c.jitterRtp.load(std::memory_order_relaxed);
  s.remoteFractionLost = c.remoteFractionLost.load(std::memory_order_relaxed);
  s.remoteJitterRtp = c.remoteJitterRtp.load(std::memory_order_relaxed);
  return s;
}
void addTo(LegStatsSnapshot& t, const LegStatsSnapshot& s) {
  t.packetsReceived += s.packetsReceived;
  t.packetsSent += s.packetsSent;
  t.packetsMalformed += s.packetsMalformed;
  t.packetsFromStrangers += s.packetsFromStrangers;
  t.packetsUnknownPayload += s.packetsUnknownPayload;
  t.framesConcealed += s.framesConcealed;
  t.dtmfEvents += s.dtmfEvents;
  t.dtmfSuppressed += s.dtmfSuppressed;
  t.dtmfInband += s.dtmfInband;
  t.framesDtmfGated += s.framesDtmfGated;
}
}  // namespace

LegStatsSnapshot Engine::legStats(uint32_t legId) const { return snapshot(legHandle(legId).leg->stats); }

EngineStatsSnapshot Engine::stats() const {
  EngineStatsSnapshot s;
  LegStatsSnapshot t = closedTotals_;
  // Legs closed but not yet handed back still count in closedTotals_ once
  // freed; until then they are simply not visible here.
  for (const auto& kv : legs_) {
    if (!kv.second.closing) s.legs++;
    addTo(t, snapshot(kv.second.leg->stats));
  }
  s.rooms = rooms_.size();
  s.tickLateness.assign(Worker::kLatenessBuckets + 1, 0);
  s.ioBackend = "io_uring";
  for (const auto& w : workers_) {
    if (!w->usingIoUring() && s.ioFallbackReason.empty()) {
      s.ioBackend = "syscalls";
      s.ioFallbackReason = w->ioFallbackReason();
    }
    s.ticks += w->ticks.load(std::memory_order_relaxed);
    s.lateTicks += w->lateTicks.load(std::memory_order_relaxed);
    s.eventsDropped += w->eventsDropped.load(std::memory_order_relaxed);
    s.eventsDeferred += w->eventsDeferred.load(std::memory_order_relaxed);
    for (size_t b = 0; b < s.tickLateness.size(); b++) {
      s.tickLateness[b] += w->tickLateness[b].load(std::memory_order_relaxed);
    }
  }
  s.packetsReceived = t.packetsReceived;
  s.packetsSent = t.packetsSent;
  s.packetsMalformed = t.packetsMalformed;
  s.packetsFromStrangers = t.packetsFromStrangers;
  s.packetsUnknownPayload = t.packetsUnknownPayload;
  return s;
}

void Engine::freeLeg(Leg* leg) {
  addTo(closedTotals_, snapshot(leg->stats));
  delete leg;
}

void Engine::freeEventPayload(const Event& e) {
  switch (e.type) {
    case EventType::PlaybackDone:
    case EventType::FreePlayback:
      delete e.playback;
      break;
    case EventType::LegClosed:
      freeLeg(e.leg);
      break;
    case EventType::RoomClosed:
      delete e.room;
      break;
    default:
      break;
  }
}

void Engine::drainEvents(std::vector<UserEvent>& out) {
  if (closed_) return;
  for (auto& wp : workers_) {
    Worker& w = *wp;
    w.beginDrain();
    Event e;
    while (w.popEvent(e)) {
      UserEvent u;
      u.legId = e.legId;
      switch (e.type) {
        case EventType::Dtmf:
          u.type = UserEvent::Type::Dtmf;
          u.digit = e.digit;
          u.dtmfInband = e.dtmfSource == DtmfSource::Inband;
          u.durationMs = e.durationMs;
          out.push_back(u);
          break;
        case EventType::PlaybackDone:
          u.type = UserEvent::Type::PlaybackDone;
          u.roomId = e.roomId;
          u.playbackId = e.playbackId;
          u.interrupted = e.interrupted;
          out.push_back(u);
          break;
        case EventType::DigitsSent:
          u.type = UserEvent::Type::DigitsSent;
          u.requestId = e.requestId;
          u.interrupted = e.interrupted;
          out.push_back(u);
          break;
        case EventType::RtpTimeout:
          u.type = UserEvent::Type::RtpTimeout;
          out.push_back(u);
          break;
        case EventType::Talking:
          u.type = UserEvent::Type::Talking;
          u.talking = e.talking;
          u.energy = e.energy;
          out.push_back(u);
          break;
        case EventType::LegDetached:
          onDetached(e.legId);
          break;
        default:
          break;
      }
      freeEventPayload(e);
    }
  }
  // Recordings whose writer has closed every file (it wakes us when done).
  for (auto it = recordings_.begin(); it != recordings_.end();) {
    if (!it->second.recorder->finished()) {
      ++it;
      continue;
    }
    const RecordingResult& res = it->second.recorder->result();
    UserEvent u;
    u.type = UserEvent::Type::RecordingDone;
    u.recordingId = it->first;
    u.error = res.error;
    u.recordedMs = res.durationMs;
    u.framesDropped = res.framesDropped;
    u.tracks = res.tracks;
    out.push_back(std::move(u));
    it = recordings_.erase(it);  // joins the (finished) writer
  }
}

void Engine::close() {
  if (closed_) return;
  closed_ = true;
  if (notifier_) notifier_->stop();
  for (auto& w : workers_) w->stop();
  // Workers are gone: finishing and freeing each recorder closes its files.
  recordings_.clear();
  // Threads are gone: this thread now owns both ends of every ring.
  for (auto& w : workers_) {
    Command c;
    while (w->popCommand(c)) {
      if (c.type == CmdType::CloseLeg) {
        // Not yet processed: the leg is no longer in legs_ (unless it was
        // closed during a migration, in which case it is still there).
        bool inMap = false;
        for (auto& kv : legs_) inMap = inMap || kv.second.leg == c.leg;
        if (!inMap) freeLeg(c.leg);
      } else if (c.type == CmdType::Play || c.type == CmdType::Hold || c.type == CmdType::PlayRoom) {
        delete c.playback;
      } else if (c.type == CmdType::CloseRoom) {
        delete c.room;
      } else if (c.type == CmdType::SetCodec) {
        delete c.opus;
      }
    }
    Event e;
    while (w->popEvent(e)) freeEventPayload(e);
    while (w->takeDeferred(e)) freeEventPayload(e);
  }
  for (auto& kv : legs_) {
    for (const Command& c : kv.second.pending) {
      if (c.type == CmdType::Play || c.type == CmdType::Hold) delete c.playback;
      if (c.type == CmdType::SetCodec) delete c.opus;
    }
    freeLeg(kv.second.leg);
  }
  legs_.clear();
  for (auto& kv : rooms_) delete kv.second.room;
  rooms_.clear();
  notifier_.reset();
  workers_.clear();
}

}  // namespace media
