#include "leg.h"

#include <arpa/inet.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmath>
#include <cstring>

#include "mix.h"
#include "room.h"
#include "rtp.h"

namespace media {
namespace {

// The jitter buffer's floor: an Opus leg keeps one frame, so that a lost
// frame can be rebuilt from the next packet's in-band FEC before it plays.
int jitterFloor(Codec codec) { return codec == Codec::Opus ? JitterBuffer::kFrame : 0; }

}  // namespace

Leg::Leg(const LegConfig& config, int fd)
    : config_(config),
      codec_(config.codec),
      fd_(fd),
      remote_(SockAddr::none()),
      seq_(config.initialSeq),
      timestamp_(config.initialTimestamp),
      rtcp_(config.ssrc),
      rtcpRand_(config.ssrc | 1) {
  std::memset(in, 0, sizeof in);
  std::memset(out, 0, sizeof out);
  // Both directions whatever the codec: setCodec may change the leg's rate.
  up_ = std::make_unique<Resampler>(8000, 16000);
  down_ = std::make_unique<Resampler>(16000, 8000);
  jitter_.setMinimumDelay(jitterFloor(config.codec));
}

void Leg::setCodec(Codec codec, uint8_t payloadType, OpusCodec* opus) {
  if (codec == config_.codec) {
    config_.payloadType = payloadType;
    return;
  }
  Room* r = room;
  const bool wasWide = rate() == 16000;
  if (!codec_.set(codec, opus)) return;  // Opus without state: keep the old codec
  config_.payloadType = payloadType;
  config_.codec = codec;
  if (r != nullptr && wasWide) r->wideMembers--;
  if (r != nullptr) {
    if (rate() == 16000) r->wideMembers++;
    updateRoomRate(*r);
  }
  // Buffered audio is in the old codec's units.
  jitter_.reset();
  jitter_.setMinimumDelay(jitterFloor(codec));
  haveAudioSsrc_ = false;
  up_->reset();
  down_->reset();
  std::memset(in, 0, sizeof in);
  std::memset(out, 0, sizeof out);
  inActive = false;
  firstPacket_ = true;
}

void Leg::setComfortNoiseLevel(int dBov) {
  // Never louder than kMaxComfortNoiseDb: the noise must not make a talker.
  const double db = -static_cast<double>(dBov < -kMaxComfortNoiseDb ? -kMaxComfortNoiseDb : dBov);
  // Uniform noise in [-a, a] has an RMS of a / sqrt(3).
  cnAmplitude_ = static_cast<int>(32767.0 * std::pow(10.0, db / 20.0) * std::sqrt(3.0));
}

bool Leg::fillComfortNoise(int n) {
  if (cnAmplitude_ <= 0) {
    std::memset(in, 0, sizeof in);
    return false;
  }
  const uint32_t span = static_cast<uint32_t>(2 * cnAmplitude_ + 1);
  for (int i = 0; i < n; i++) {
    cnRand_ ^= cnRand_ << 13;
    cnRand_ ^= cnRand_ >> 17;
    cnRand_ ^= cnRand_ << 5;
    in[i] = static_cast<int16_t>(static_cast<int>(cnRand_ % span) - cnAmplitude_);
  }
  return true;
}

double levelDb(double meanSquare) {
  if (meanSquare < 1.0) return -96.0;
  return 10.0 * std::log10(meanSquare / (32767.0 * 32767.0));
}

namespace {
double dbToMeanSquare(double db) { return 32767.0 * 32767.0 * std::pow(10.0, db / 10.0); }
const double kTalkStartMs = dbToMeanSquare(kTalkStartDb);
const double kTalkStopMs = dbToMeanSquare(kTalkStopDb);
}  // namespace

Leg::~Leg() {
  player_.clear();
  delete hold_;
  if (fd_ >= 0) ::close(fd_);
  if (rtcpFd_ >= 0) ::close(rtcpFd_);
}

void Leg::onDatagram(const uint8_t* data, size_t size, bool truncated, const SockAddr& from,
                     int64_t nowMs, EventSink& sink, int64_t arrivalUs) {
  if (config_.rtcpMux && looksLikeRtcp(data, size)) {
    onRtcpDatagram(data, size, truncated, from);
    return;
  }
  if (remote_.valid() && !from.sameIp(remote_)) {
    bump(stats.packetsFromStrangers);
    return;
  }
  RtpPacket pkt;
  if (truncated || parseRtp(data, size, pkt) != RtpParse::Ok) {
    bump(stats.packetsMalformed);
    return;
  }
  bump(stats.packetsReceived);
  bump(stats.bytesReceived, size);
  timeoutArmed_ = true;
  timedOut_ = false;
  lastRxMs_ = nowMs;

  if (config_.telephoneEventPayloadType >= 0 &&
      pkt.payloadType == config_.telephoneEventPayloadType) {
    onTelephoneEvent(pkt, nowMs, sink);  // never reaches the jitter buffer / mix
    return;
  }
  if (pkt.payloadType != config_.payloadType) {
    if (pkt.payloadType == kComfortNoisePayloadType) {
      // RFC 3389: the phone's VAD says silence. Not garbage; the leg plays
      // comfort noise at the level it names (no concealment of its last
      // words) until audio resumes.
      comfortNoise_ = true;
      setComfortNoiseLevel(pkt.payloadSize > 0 ? pkt.payload[0] & 0x7F : 127);
      return;
    }
    bump(stats.packetsUnknownPayload);
    return;
  }
  comfortNoise_ = false;
  if (pkt.payloadSize == 0) return;
  if (pkt.payloadSize > static_cast<size_t>(JitterBuffer::kMaxPacket)) {
    bump(stats.packetsMalformed);
    return;
  }
  if (!haveAudioSsrc_ || pkt.ssrc != audioSsrc_) {
    // New source (re-INVITE, new device): its timestamps are unrelated.
    if (haveAudioSsrc_) jitter_.reset();
    haveAudioSsrc_ = true;
    audioSsrc_ = pkt.ssrc;
  }
  // RTCP statistics cover the audio stream (RFC 3550 jitter in RTP units).
  const int64_t atUs = arrivalUs >= 0 ? arrivalUs : nowMs * 1000;
  // Arrival on the codec's RTP clock (48 kHz for Opus), as RFC 3550 wants.
  const int64_t arrival = config_.codec == Codec::Opus ? atUs * 6 / 125 : atUs / 125;
  rtcp_.onRtp(pkt.ssrc, pkt.seq, pkt.timestamp, static_cast<uint32_t>(arrival));
  const int n = static_cast<int>(pkt.payloadSize);  // one byte per RTP tick
  if (config_.codec == Codec::Opus) {
    if (n > OpusCodec::kMaxPayload) {
      bump(stats.packetsMalformed);
      return;
    }
    packOpus(pkt.payload, n, decodeBuf_);
    jitter_.put(pkt.timestamp / 6, decodeBuf_, kFrameSamples);
    return;
  }
  if (config_.codec == Codec::G722) {
    for (int i = 0; i < n; i++) decodeBuf_[i] = pkt.payload[i];
  } else {
    g711::decode(config_.codec, pkt.payload, decodeBuf_, static_cast<size_t>(n));
  }
  jitter_.put(pkt.timestamp, decodeBuf_, n);
}

void Leg::onTelephoneEvent(const RtpPacket& pkt, int64_t nowMs, EventSink& sink) {
  DtmfPress press;
  const DtmfFeed r = dtmf_.feed(pkt.ssrc, pkt.seq, pkt.timestamp, pkt.payload, pkt.payloadSize, press);
  if (r == DtmfFeed::Malformed) {
    bump(stats.packetsMalformed);
    return;
  }
  if (r == DtmfFeed::Ignored) return;
  // Any press packet (new, continuation or retransmitted end) keeps the
  // leg's audio out of the room until what the jitter buffer holds now has
  // played out.
  const int64_t until = nowMs + jitter_.depth() / 8 + kRfc4733GateMarginMs;
  if (until > rfc4733GateUntilMs_) rfc4733GateUntilMs_ = until;
  const bool first = !rfc4733Seen_;
  rfc4733Seen_ = true;
  if (r != DtmfFeed::NewPress) return;
  if (first && press.digit == lastInbandDigit_ && nowMs - lastInbandMs_ < kDtmfSamePressMs) return;
  reportDigit(press.digit, DtmfSource::Rfc4733, press.durationMs, nowMs, sink);
}

void Leg::reportDigit(char digit, DtmfSource source, uint32_t durationMs, int64_t nowMs, EventSink& sink) {
  // Rate limit (GCRA): a flood of distinct presses must not become a flood
  // of events (nor stop every prompt).
  if (dtmfTatMs_ < nowMs) dtmfTatMs_ = nowMs;
  if (dtmfTatMs_ - nowMs > (kDtmfBurst - 1) * kDtmfIntervalMs) {
    bump(stats.dtmfSuppressed);
    return;
  }
  dtmfTatMs_ += kDtmfIntervalMs;
  bump(stats.dtmfEvents);
  if (source == DtmfSource::Inband) bump(stats.dtmfInband);
  Event e{};
  e.type = EventType::Dtmf;
  e.legId = config_.id;
  e.digit = digit;
  e.dtmfSource = source;
  e.durationMs = durationMs;
  sink.emit(e);
  // Type-ahead: a key skips the prompt playing and the interruptible ones
  // queued behind it.
  if (player_.current != nullptr && player_.current->interruptible) {
    endPlayback(player_, true, false, config_.id, 0, sink);
    Playback* keep = nullptr;
    Playback* keepTail = nullptr;
    while (Playback* p = player_.popWaiting()) {
      if (p->interruptible) {
        player_.current = p;
        endPlayback(player_, true, false, config_.id, 0, sink);
      } else if (keepTail == nullptr) {
        keep = keepTail = p;
      } else {
        keepTail->nextQueued = p;
        keepTail = p;
      }
    }
    for (Playback* p = keep; p != nullptr;) {
      Playback* next = p->nextQueued;
      player_.append(p);
      p = next;
    }
  }
}

void Leg::screenDtmf(int64_t nowMs, EventSink& sink) {
  const int16_t* narrow = in;
  int16_t down[kFrameSamples];
  if (inActive && rate() != 8000) {
    down_->process(in, frameSamples(), down);
    narrow = down;
  }
  const char digit = inband_.process(inActive ? narrow : nullptr, kFrameSamples);
  const bool rfc4733 = nowMs < rfc4733GateUntilMs_;
  // The same press sent both ways is reported once, as RFC 4733 (see
  // rfc4733Seen_).
  if (digit != 0 && !rfc4733 && !rfc4733Seen_) {
    lastInbandDigit_ = digit;
    lastInbandMs_ = nowMs;
    reportDigit(digit, DtmfSource::Inband, 0, nowMs, sink);
  }
  const uint64_t gatedBefore = dtmfGate_.framesGated;
  inActive = dtmfGate_.exchange(in, frameSamples(), inActive, rfc4733 || inband_.active(), inband_.keyLike());
  if (dtmfGate_.framesGated != gatedBefore) bump(stats.framesDtmfGated);
}

void Leg::pullInput(int64_t nowMs, int64_t rtpTimeoutMs, EventSink& sink) {
  // A lost frame, or one the buffer inserts to grow its delay, is concealed
  // on decoded audio: the buffer's own stand-in (a scaled copy of the last
  // frame) clicks on G.711 and means nothing for code words or packets.
  // After RFC 3389 comfort noise nothing was lost: silence instead.
  JitterBuffer::Frame f;
  int16_t words[kFrameSamples];
  const bool stateful = codecStateful(config_.codec);
  f = jitter_.get(stateful ? words : in);
  const int n = frameSamples();
  const bool missing = f == JitterBuffer::Frame::Concealed || (f == JitterBuffer::Frame::Audio && jitter_.lastInserted());
  bool noise = false;
  if (comfortNoise_ && (missing || f == JitterBuffer::Frame::Silence)) {
    noise = fillComfortNoise(n);
    f = JitterBuffer::Frame::Silence;
  } else if (missing && config_.codec == Codec::Opus && f == JitterBuffer::Frame::Concealed &&
             jitter_.peekNext(words)) {
    // Lost, and the next packet is here: its in-band FEC rebuilds this frame
    // (its decoder PLC when it carries none).
    uint8_t bytes[OpusCodec::kMaxPayload];
    const int len = unpackOpus(words, bytes);
    codec_.opus()->conceal(in, bytes, len);
  } else if (missing) {
    codec_.conceal(in, n);
  } else if (f != JitterBuffer::Frame::Audio) {
    std::memset(in, 0, sizeof in);
  } else if (config_.codec == Codec::Opus) {
    uint8_t bytes[OpusCodec::kMaxPayload];
    const int len = unpackOpus(words, bytes);
    if (!codec_.opus()->decode(bytes, len, in)) bump(stats.packetsMalformed);  // concealed instead
  } else if (config_.codec == Codec::G722) {
    uint8_t bytes[kFrameSamples];
    for (int i = 0; i < kFrameSamples; i++) bytes[i] = static_cast<uint8_t>(words[i]);
    codec_.decode(bytes, kFrameSamples, in);
    codec_.keep(in, n);
  } else {
    codec_.keep(in, n);  // G.711, decoded on arrival
  }
  inActive = f != JitterBuffer::Frame::Silence || noise;
  if (f == JitterBuffer::Frame::Concealed) {
    stats.framesConcealed.store(jitter_.concealed, std::memory_order_relaxed);
  }
  screenDtmf(nowMs, sink);  // on the audio as sent, before the input gain
  publishJitterStats();
  if (inActive && gainIn_ != 1.f) applyGain(in, n, gainIn_);
  detectTalking(sink);
  // To the room's rate (only narrowband legs in wideband rooms differ).
  inRate = rate();
  if (room != nullptr && room->rate != inRate) {
    inRate = room->rate;
    if (inActive) {
      int16_t narrow[kFrameSamples];
      std::memcpy(narrow, in, sizeof narrow);
      up_->process(narrow, kFrameSamples, in);
    } else {
      std::memset(in, 0, sizeof in);
    }
  }
  if (timeoutArmed_ && !timedOut_ && rtpTimeoutMs > 0 && nowMs - lastRxMs_ >= rtpTimeoutMs) {
    timedOut_ = true;
    Event e{};
    e.type = EventType::RtpTimeout;
    e.legId = config_.id;
    sink.emit(e);
  }
}

void endPlayback(PlaybackQueue& q, bool interrupted, bool all, uint32_t legId, uint32_t roomId, EventSink& sink) {
  for (;;) {
    if (q.current != nullptr) {
      Event e{};
      e.type = EventType::PlaybackDone;
      e.legId = legId;
      e.roomId = roomId;
      e.playbackId = q.current->id;
      e.interrupted = interrupted;
      e.playback = q.current;  // freed on the JS thread
      q.current = nullptr;
      sink.emit(e);
    }
    if (!all) return;
    q.current = q.popWaiting();
    if (q.current == nullptr) return;
  }
}

void Leg::startPlayback(Playback* playback, EventSink& sink, bool queue) {
  if (!queue) stopPlayback(true, sink);
  player_.append(playback);
}

void Leg::stopPlayback(bool interrupted, EventSink& sink) {
  endPlayback(player_, interrupted, true, config_.id, 0, sink);
}

bool renderSounds(Playback& p, int16_t* out, bool add, int rate) {
  const int frame = rate / 50;
  int i = 0;
  bool wrapped = false;
  while (i < frame) {
    if (p.index >= p.sounds.size()) {
      if (!p.loop || wrapped) break;  // looping over nothing but empty sounds
      p.index = 0;
      p.pos = 0;
      wrapped = true;
      continue;
    }
    const std::vector<int16_t>& s = p.sounds[p.index]->at(rate);
    if (p.pos >= s.size()) {
      p.index++;
      p.pos = 0;
      continue;
    }
    size_t take = s.size() - p.pos;
    if (take > static_cast<size_t>(frame - i)) take = static_cast<size_t>(frame - i);
    if (add) addSaturating(out + i, s.data() + p.pos, static_cast<int>(take));
    else std::memcpy(out + i, s.data() + p.pos, take * sizeof(int16_t));
    i += static_cast<int>(take);
    p.pos += take;
    if (take > 0) wrapped = false;
  }
  if (!add && i < frame) std::memset(out + i, 0, static_cast<size_t>(frame - i) * sizeof(int16_t));
  while (p.index < p.sounds.size() && p.pos >= p.sounds[p.index]->at(rate).size()) {
    p.index++;
    p.pos = 0;
  }
  if (p.index >= p.sounds.size()) {
    if (!p.loop) return true;
    p.index = 0;
    p.pos = 0;
  }
  return false;
}

void Leg::renderPlayback(EventSink& sink) {
  if (player_.current == nullptr) return;
  if (renderSounds(*player_.current, out, true, rate())) {
    endPlayback(player_, false, false, config_.id, 0, sink);
    player_.current = player_.popWaiting();  // the next one starts next tick
  }
}

void Leg::releaseHoldMusic(EventSink& sink) {
  if (hold_ == nullptr) return;
  Event e{};
  e.type = EventType::FreePlayback;
  e.legId = config_.id;
  e.playback = hold_;
  hold_ = nullptr;
  sink.emit(e);
}

void Leg::hold(Playback* music, EventSink& sink) {
  releaseHoldMusic(sink);
  held_ = true;
  hold_ = music;
  mixed = false;
}

void Leg::unhold(EventSink& sink) {
  if (!held_) return;
  held_ = false;
  releaseHoldMusic(sink);
}

void Leg::detectTalking(EventSink& sink) {
  double ms = 0;
  if (inActive) {
    int64_t acc = 0;
    const int n = frameSamples();
    for (int i = 0; i < n; i++) acc += static_cast<int32_t>(in[i]) * in[i];
    ms = static_cast<double>(acc) / n;
  }
  // Peak hold with a ~100 ms decay: ranks talkers without following every
  // syllable.
  const float decayed = score_ * 0.8f;
  score_ = static_cast<float>(ms) > decayed ? static_cast<float>(ms) : decayed;
  bool changed = false;
  if (!talking_) {
    if (ms >= kTalkStartMs) {
      talking_ = true;
      hangover_ = kTalkHangoverFrames;
      changed = true;
    }
  } else if (ms >= kTalkStopMs) {
    hangover_ = kTalkHangoverFrames;
  } else if (--hangover_ <= 0) {
    talking_ = false;
    changed = true;
  }
  if (changed) {
    Event e{};
    e.type = EventType::Talking;
    e.legId = config_.id;
    e.talking = talking_;
    e.energy = static_cast<float>(levelDb(ms));
    sink.emit(e);
  }
}

Leg::Source Leg::source() const {
  if (held_) return Source::Own;
  if (room == nullptr || !hear) return Source::Silence;
  return mixed || whispered ? Source::Own : Source::Shared;
}

void Leg::roomAudioToOut(Source src) {
  const int n = frameSamples();
  if (src == Source::Shared) {
    std::memcpy(out, room->mixAt(rate()), static_cast<size_t>(n) * sizeof(int16_t));
  } else if (src == Source::Silence) {
    std::memset(out, 0, sizeof out);
  } else if (!held_ && room != nullptr && room->rate != rate()) {
    // Own N-1, written by mixRoom at the (wideband) room's rate.
    int16_t wide[kMaxFrameSamples];
    std::memcpy(wide, out, sizeof wide);
    down_->process(wide, kMaxFrameSamples, out);
  }
}

void Leg::produceAndSend(EventSink& sink, uint8_t* scratch) {
  const size_t n = producePacket(sink, scratch);
  if (n == 0) return;
  const ssize_t r = ::sendto(fd_, scratch, n, MSG_DONTWAIT, &remote_.u.sa, remote_.len);
  if (r == static_cast<ssize_t>(n)) countSent(n);
}

size_t Leg::producePacket(EventSink& sink, uint8_t* scratch) {
  Source src = source();
  if (held_) {
    if (hold_ != nullptr) renderSounds(*hold_, out, false, rate());
    else std::memset(out, 0, sizeof out);
  } else if (src == Source::Own) {
    roomAudioToOut(src);
  }
  // G.722 and Opus keep encoder state: every such leg encodes its own stream.
  if (player_.current != nullptr || gainOut_ != 1.f || codecStateful(config_.codec)) {
    if (src != Source::Own) roomAudioToOut(src);
    src = Source::Own;
    renderPlayback(sink);  // prompts over what the leg hears
    if (gainOut_ != 1.f) applyGain(out, frameSamples(), gainOut_);
  }
  uint8_t event[4];
  uint32_t eventTs = 0;
  bool eventMarker = false, digitsDone = false;
  const bool sendEvent = digitSender_.tick(timestamp_, event, eventTs, eventMarker, digitsDone);
  if (digitsDone) digitsSent(false, sink);
  if (!remote_.valid() || fd_ < 0) return 0;
  if (!sending_) {
    // Time runs on: the receiver sees a timestamp gap, then a marker bit.
    timestamp_ += rtpTicksPerFrame(config_.codec);
    firstPacket_ = true;
    return 0;
  }
  if (sendEvent) return writeEventPacket(scratch, event, eventTs, eventMarker);
  const uint8_t* payload = nullptr;
  if (src == Source::Shared) {
    payload = room->sharedPayload(config_.codec);
  } else if (src == Source::Silence) {
    std::memset(scratch + kRtpHeaderSize, g711::silence(config_.codec), kFrameSamples);
    payload = scratch + kRtpHeaderSize;
  }
  return writePacket(scratch, payload);
}

void Leg::onRtcpDatagram(const uint8_t* data, size_t size, bool truncated, const SockAddr& from) {
  if (remote_.valid() && !from.sameIp(remote_)) {
    bump(stats.packetsFromStrangers);
    return;
  }
  if (truncated || !rtcp_.onRtcp(data, size, ntpNow())) {
    bump(stats.rtcpMalformed);
    return;
  }
  bump(stats.rtcpReceived);
  publishRtcpPeerStats();
}

void Leg::publishRtcpPeerStats() {
  const RtcpPeerReport& p = rtcp_.peer();
  if (!p.have) return;
  stats.remoteFractionLost.store(p.fractionLost, std::memory_order_relaxed);
  stats.remotePacketsLost.store(static_cast<uint64_t>(static_cast<int64_t>(p.cumulativeLost)), std::memory_order_relaxed);
  stats.remoteJitterRtp.store(static_cast<uint64_t>(p.jitter) * kFrameSamples / rtpTicksPerFrame(config_.codec), std::memory_order_relaxed);
  if (p.rttUs >= 0) stats.rttUsPlus1.store(static_cast<uint64_t>(p.rttUs) + 1, std::memory_order_relaxed);
}

size_t Leg::produceRtcp(int64_t nowMs, int64_t intervalMs, uint8_t* buf, int& fd, SockAddr& to) {
  if (intervalMs <= 0 || !remote_.valid()) return 0;
  const int sock = config_.rtcpMux ? fd_ : rtcpFd_;
  if (sock < 0) return 0;
  rtcpRand_ ^= rtcpRand_ << 13;
  rtcpRand_ ^= rtcpRand_ >> 17;
  rtcpRand_ ^= rtcpRand_ << 5;
  // RFC 3550 6.2: randomized over [0.5, 1.5] x the interval; the first
  // report after half of that.
  const int64_t next = intervalMs / 2 + static_cast<int64_t>(rtcpRand_ % static_cast<uint32_t>(intervalMs + 1));
  if (nextRtcpMs_ < 0) {
    nextRtcpMs_ = nowMs + next / 2;
    return 0;
  }
  if (nowMs < nextRtcpMs_) return 0;
  nextRtcpMs_ = nowMs + next;
  to = remote_;
  if (!config_.rtcpMux) {
    const int port = remote_.port() + 1;
    if (port > 65535) return 0;
    if (to.family() == AF_INET) to.u.v4.sin_port = htons(static_cast<uint16_t>(port));
    else to.u.v6.sin6_port = htons(static_cast<uint16_t>(port));
  }
  fd = sock;
  const size_t n = rtcp_.buildReport(buf, ntpNow(), timestamp_);
  stats.fractionLost.store(rtcp_.lastFractionLost(), std::memory_order_relaxed);
  return n;
}

void Leg::sendDigits(const DigitRequest& r, EventSink& sink) {
  uint32_t replaced = 0;
  const uint32_t keep = digitSender_.requestId();
  digitSender_.start(r, replaced);
  if (replaced != 0) {
    Event e{};
    e.type = EventType::DigitsSent;
    e.legId = config_.id;
    e.requestId = keep;
    e.interrupted = true;
    sink.emit(e);
  }
}

void Leg::digitsSent(bool interrupted, EventSink& sink) {
  Event e{};
  e.type = EventType::DigitsSent;
  e.legId = config_.id;
  e.requestId = digitSender_.requestId();
  e.interrupted = interrupted;
  sink.emit(e);
}

size_t Leg::writeEventPacket(uint8_t* buf, const uint8_t* event, uint32_t eventTimestamp, bool marker) {
  const size_t h = writeRtpHeader(buf, marker, static_cast<uint8_t>(config_.telephoneEventPayloadType), seq_,
                                  eventTimestamp, config_.ssrc);
  firstPacket_ = false;
  seq_++;
  timestamp_ += rtpTicksPerFrame(config_.codec);  // the audio clock runs on under the event
  std::memcpy(buf + h, event, 4);
  return h + 4;
}

size_t Leg::writePacket(uint8_t* buf, const uint8_t* payload) {
  size_t bytes = kFrameSamples;  // G.711 and G.722: one byte per 8 kHz tick
  if (payload == nullptr) {
    const int n = codec_.encode(out, frameSamples(), buf + kRtpHeaderSize);
    if (n <= 0) {  // an encoder error: a gap the receiver conceals
      timestamp_ += rtpTicksPerFrame(config_.codec);
      return 0;
    }
    bytes = static_cast<size_t>(n);
  } else if (payload != buf + kRtpHeaderSize) {
    std::memcpy(buf + kRtpHeaderSize, payload, kFrameSamples);
  }
  const size_t h = writeRtpHeader(buf, firstPacket_, config_.payloadType, seq_, timestamp_, config_.ssrc);
  firstPacket_ = false;
  seq_++;
  timestamp_ += rtpTicksPerFrame(config_.codec);
  return h + bytes;
}

void packOpus(const uint8_t* payload, int bytes, int16_t* words) {
  words[0] = static_cast<int16_t>(bytes);
  for (int i = 0; i < bytes; i += 2) {
    const int hi = payload[i];
    const int lo = i + 1 < bytes ? payload[i + 1] : 0;
    words[1 + i / 2] = static_cast<int16_t>(static_cast<uint16_t>(hi << 8 | lo));
  }
}

int unpackOpus(const int16_t* words, uint8_t* payload) {
  int bytes = words[0];
  if (bytes < 0 || bytes > OpusCodec::kMaxPayload) bytes = 0;
  for (int i = 0; i < bytes; i += 2) {
    const uint16_t w = static_cast<uint16_t>(words[1 + i / 2]);
    payload[i] = static_cast<uint8_t>(w >> 8);
    if (i + 1 < bytes) payload[i + 1] = static_cast<uint8_t>(w & 0xFF);
  }
  return bytes;
}


}  // namespace media
