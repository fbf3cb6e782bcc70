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
      fd_(fd),
      remote_(SockAddr::none()),
      seq_(config.initialSeq),
      timestamp_(config.initialTimestamp),
      rtcp_(config.ssrc),
      rtcpRand_(config.ssrc | 1) {
  std::memset(in, 0, sizeof in);
  std::memset(out, 0, sizeof out);
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
  delete playback_;
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
  const int n = static_cast<int>(pkt.payloadSize);  // G.711: one byte per sample
  g711::decode(config_.codec, pkt.payload, decodeBuf_, static_cast<size_t>(n));
  jitter_.put(pkt.timestamp, decodeBuf_, n);
}

void Leg::onTelephoneEvent(const RtpPacket& pkt, int64_t nowMs, EventSink& sink) {
  DtmfPress press;
  const DtmfFeed r = dtmf_.feed(pkt.ssrc, pkt.seq, pkt.timestamp, pkt.payload, pkt.payloadSize, press);
  if (r == DtmfFeed::Malformed) {
    bump(stats.packetsMalformed);
    return;
  }
  if (r != DtmfFeed::NewPress) return;
  // Rate limit (GCRA): a flood of distinct presses must not become a flood
  // of events (nor stop every prompt).
  if (dtmfTatMs_ < nowMs) dtmfTatMs_ = nowMs;
  if (dtmfTatMs_ - nowMs > (kDtmfBurst - 1) * kDtmfIntervalMs) {
    bump(stats.dtmfSuppressed);
    return;
  }
  dtmfTatMs_ += kDtmfIntervalMs;
  bump(stats.dtmfEvents);
  Event e{};
  e.type = EventType::Dtmf;
  e.legId = config_.id;
  e.digit = press.digit;
  e.durationMs = press.durationMs;
  sink.emit(e);
  if (playback_ != nullptr && playback_->interruptible) stopPlayback(true, sink);
}

void Leg::pullInput(int64_t nowMs, int64_t rtpTimeoutMs, EventSink& sink) {
  const JitterBuffer::Frame f = jitter_.get(in);
  inActive = f != JitterBuffer::Frame::Silence;
  if (f == JitterBuffer::Frame::Concealed) {
    stats.framesConcealed.store(jitter_.concealed, std::memory_order_relaxed);
  }
  publishJitterStats();
  if (inActive && gainIn_ != 1.f) applyGain(in, kFrameSamples, gainIn_);
  detectTalking(sink);
  if (timeoutArmed_ && !timedOut_ && rtpTimeoutMs > 0 && nowMs - lastRxMs_ >= rtpTimeoutMs) {
    timedOut_ = true;
    Event e{};
    e.type = EventType::RtpTimeout;
    e.legId = config_.id;
    sink.emit(e);
  }
}

void Leg::startPlayback(Playback* playback, EventSink& sink) {
  if (playback_ != nullptr) stopPlayback(true, sink);
  playback_ = playback;
}

void Leg::stopPlayback(bool interrupted, EventSink& sink) {
  if (playback_ == nullptr) return;
  Event e{};
  e.type = EventType::PlaybackDone;
  e.legId = config_.id;
  e.playbackId = playback_->id;
  e.interrupted = interrupted;
  e.playback = playback_;  // freed on the JS thread
  playback_ = nullptr;
  sink.emit(e);
}

bool renderSounds(Playback& p, int16_t* out, bool add) {
  int i = 0;
  bool wrapped = false;
  while (i < kFrameSamples) {
    if (p.index >= p.sounds.size()) {
      if (!p.loop || wrapped) break;  // looping over nothing but empty sounds
      p.index = 0;
      p.pos = 0;
      wrapped = true;
      continue;
    }
    const std::vector<int16_t>& s = p.sounds[p.index]->samples;
    if (p.pos >= s.size()) {
      p.index++;
      p.pos = 0;
      continue;
    }
    size_t take = s.size() - p.pos;
    if (take > static_cast<size_t>(kFrameSamples - i)) take = static_cast<size_t>(kFrameSamples - i);
    if (add) addSaturating(out + i, s.data() + p.pos, static_cast<int>(take));
    else std::memcpy(out + i, s.data() + p.pos, take * sizeof(int16_t));
    i += static_cast<int>(take);
    p.pos += take;
    if (take > 0) wrapped = false;
  }
  if (!add && i < kFrameSamples) std::memset(out + i, 0, static_cast<size_t>(kFrameSamples - i) * sizeof(int16_t));
  while (p.index < p.sounds.size() && p.pos >= p.sounds[p.index]->samples.size()) {
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
  if (playback_ == nullptr) return;
  if (renderSounds(*playback_, out, true)) stopPlayback(false, sink);
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
    for (int i = 0; i < kFrameSamples; i++) acc += static_cast<int32_t>(in[i]) * in[i];
    ms = static_cast<double>(acc) / kFrameSamples;
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
  return mixed ? Source::Own : Source::Shared;
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
    if (hold_ != nullptr) renderSounds(*hold_, out, false);
    else std::memset(out, 0, sizeof out);
  }
  if (playback_ != nullptr || gainOut_ != 1.f) {
    if (src == Source::Shared) std::memcpy(out, room->mix, sizeof out);
    else if (src == Source::Silence) std::memset(out, 0, sizeof out);
    src = Source::Own;
    renderPlayback(sink);  // prompts over what the leg hears
    if (gainOut_ != 1.f) applyGain(out, kFrameSamples, gainOut_);
  }
  if (!remote_.valid() || fd_ < 0) return 0;
  if (!sending_) {
    // Time runs on: the receiver sees a timestamp gap, then a marker bit.
    timestamp_ += kFrameSamples;
    firstPacket_ = true;
    return 0;
  }
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

size_t Leg::writePacket(uint8_t* buf, const uint8_t* payload) {
  const size_t h = writeRtpHeader(buf, firstPacket_, config_.payloadType, seq_, timestamp_, config_.ssrc);
  firstPacket_ = false;
  seq_++;
  timestamp_ += kFrameSamples;
  if (payload == nullptr) g711::encode(config_.codec, out, buf + h, kFrameSamples);
  else if (payload != buf + h) std::memcpy(buf + h, payload, kFrameSamples);
  return h + kFrameSamples;
}


}  // namespace media
