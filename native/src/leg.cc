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
  if (rate() == 8000) {
    up_ = std::make_unique<Resampler>(8000, 16000);
    down_ = std::make_unique<Resampler>(16000, 8000);
  } else {
    down_ = std::make_unique<Resampler>(16000, 8000);
  }
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
    bump(stats.packetsUnknownPayload);
    return;
  }
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
  rtcp_.onRtp(pkt.ssrc, pkt.seq, pkt.timestamp, static_cast<uint32_t>(atUs / 125));
  const int n = static_cast<int>(pkt.payloadSize);  // one byte per RTP tick
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
  inActive = dtmfGate_.exchange(in, frameSamples(), inActive, rfc4733 || inband_.active());
  if (dtmfGate_.framesGated != gatedBefore) bump(stats.framesDtmfGated);
}

void Leg::pullInput(int64_t nowMs, int64_t rtpTimeoutMs, EventSink& sink) {
  JitterBuffer::Frame f;
  if (config_.codec == Codec::G722) {
    int16_t words[kFrameSamples];
    f = jitter_.get(words);
    if (f == JitterBuffer::Frame::Audio) {
      uint8_t bytes[kFrameSamples];
      for (int i = 0; i < kFrameSamples; i++) bytes[i] = static_cast<uint8_t>(words[i]);
      codec_.decode(bytes, kFrameSamples, in);
    } else {
      // The buffer's concealment (scaled samples) means nothing for code
      // words: a lost G.722 frame is silence.
      std::memset(in, 0, sizeof in);
    }
  } else {
    f = jitter_.get(in);
  }
  inActive = f != JitterBuffer::Frame::Silence;
  if (f == JitterBuffer::Frame::Concealed) {
    stats.framesConcealed.store(jitter_.concealed, std::memory_order_relaxed);
  }
  screenDtmf(nowMs, sink);  // on the audio as sent, before the input gain
  publishJitterStats();
  const int n = frameSamples();
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
  // G.722 keeps encoder state: every leg encodes its own stream.
  if (player_.current != nullptr || gainOut_ != 1.f || config_.codec == Codec::G722) {
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
    timestamp_ += kFrameSamples;
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
  stats.remoteJitterRtp.store(p.jitter, std::memory_order_relaxed);
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
  timestamp_ += kFrameSamples;  // the audio clock runs on under the event
  std::memcpy(buf + h, event, 4);
  return h + 4;
}

size_t Leg::writePacket(uint8_t* buf, const uint8_t* payload) {
  const size_t h = writeRtpHeader(buf, firstPacket_, config_.payloadType, seq_, timestamp_, config_.ssrc);
  firstPacket_ = false;
  seq_++;
  timestamp_ += kFrameSamples;
  if (payload == nullptr) codec_.encode(out, frameSamples(), buf + h);
  else if (payload != buf + h) std::memcpy(buf + h, payload, kFrameSamples);
  return h + kFrameSamples;
}


}  // namespace media
