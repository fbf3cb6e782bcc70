#include "leg.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

#include "mix.h"
#include "rtp.h"

namespace media {

Leg::Leg(const LegConfig& config, int fd)
    : config_(config),
      fd_(fd),
      remote_(SockAddr::none()),
      seq_(config.initialSeq),
      timestamp_(config.initialTimestamp) {
  std::memset(in, 0, sizeof in);
  std::memset(out, 0, sizeof out);
}

Leg::~Leg() {
  delete playback_;
  if (fd_ >= 0) ::close(fd_);
}

void Leg::onDatagram(const uint8_t* data, size_t size, bool truncated, const SockAddr& from,
                     int64_t nowMs, EventSink& sink) {
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
  timeoutArmed_ = true;
  timedOut_ = false;
  lastRxMs_ = nowMs;

  if (config_.telephoneEventPayloadType >= 0 &&
      pkt.payloadType == config_.telephoneEventPayloadType) {
    onTelephoneEvent(pkt, sink);  // never reaches the jitter buffer / mix
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
  const int n = static_cast<int>(pkt.payloadSize);  // G.711: one byte per sample
  g711::decode(config_.codec, pkt.payload, decodeBuf_, static_cast<size_t>(n));
  jitter_.put(pkt.timestamp, decodeBuf_, n);
}

void Leg::onTelephoneEvent(const RtpPacket& pkt, EventSink& sink) {
  DtmfPress press;
  const DtmfFeed r = dtmf_.feed(pkt.ssrc, pkt.seq, pkt.timestamp, pkt.payload, pkt.payloadSize, press);
  if (r == DtmfFeed::Malformed) {
    bump(stats.packetsMalformed);
    return;
  }
  if (r != DtmfFeed::NewPress) return;
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

void Leg::renderPlayback(EventSink& sink) {
  if (playback_ == nullptr) return;
  Playback& p = *playback_;
  int i = 0;
  while (i < kFrameSamples && p.index < p.sounds.size()) {
    const std::vector<int16_t>& s = p.sounds[p.index]->samples;
    if (p.pos >= s.size()) {
      p.index++;
      p.pos = 0;
      continue;
    }
    size_t take = s.size() - p.pos;
    if (take > static_cast<size_t>(kFrameSamples - i)) take = static_cast<size_t>(kFrameSamples - i);
    addSaturating(out + i, s.data() + p.pos, static_cast<int>(take));
    i += static_cast<int>(take);
    p.pos += take;
  }
  while (p.index < p.sounds.size() && p.pos >= p.sounds[p.index]->samples.size()) {
    p.index++;
    p.pos = 0;
  }
  if (p.index >= p.sounds.size()) stopPlayback(false, sink);
}

size_t Leg::writePacket(uint8_t* buf) {
  const size_t h = writeRtpHeader(buf, firstPacket_, config_.payloadType, seq_, timestamp_, config_.ssrc);
  firstPacket_ = false;
  seq_++;
  timestamp_ += kFrameSamples;
  g711::encode(config_.codec, out, buf + h, kFrameSamples);
  return h + kFrameSamples;
}

void Leg::sendFrame(uint8_t* scratch) {
  if (!remote_.valid() || fd_ < 0) return;
  const size_t n = writePacket(scratch);
  const ssize_t r = ::sendto(fd_, scratch, n, MSG_DONTWAIT, &remote_.u.sa, remote_.len);
  if (r == static_cast<ssize_t>(n)) bump(stats.packetsSent);
}

}  // namespace media
