#include "rtcp.h"

#include <ctime>

namespace media {
namespace {

constexpr uint32_t kMaxDropout = 3000;
constexpr uint32_t kMaxMisorder = 100;
constexpr uint32_t kSeqMod = 1u << 16;
// Seconds from 1900 (NTP era 0) to 1970 (Unix epoch).
constexpr uint64_t kNtpUnixOffset = 2208988800ull;

uint32_t get32(const uint8_t* p) {
  return (static_cast<uint32_t>(p[0]) << 24) | (static_cast<uint32_t>(p[1]) << 16) |
         (static_cast<uint32_t>(p[2]) << 8) | p[3];
}
void put32(uint8_t* p, uint32_t v) {
  p[0] = static_cast<uint8_t>(v >> 24);
  p[1] = static_cast<uint8_t>(v >> 16);
  p[2] = static_cast<uint8_t>(v >> 8);
  p[3] = static_cast<uint8_t>(v);
}
void header(uint8_t* p, uint8_t count, uint8_t type, size_t bytes) {
  p[0] = static_cast<uint8_t>(0x80 | (count & 0x1F));
  p[1] = type;
  const uint16_t words = static_cast<uint16_t>(bytes / 4 - 1);
  p[2] = static_cast<uint8_t>(words >> 8);
  p[3] = static_cast<uint8_t>(words);
}
uint32_t middle32(uint64_t ntp) { return static_cast<uint32_t>(ntp >> 16); }

}  // namespace

uint64_t ntpNow() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  const uint64_t sec = static_cast<uint64_t>(ts.tv_sec) + kNtpUnixOffset;
  const uint64_t frac = (static_cast<uint64_t>(ts.tv_nsec) << 32) / 1000000000ull;
  return (sec << 32) | frac;
}

RtcpSession::RtcpSession(uint32_t ourSsrc) : ssrc_(ourSsrc) {}

void RtcpSession::resetSource(uint32_t ssrc, uint16_t seq) {
  haveSource_ = true;
  sourceSsrc_ = ssrc;
  maxSeq_ = seq;
  cycles_ = 0;
  baseSeq_ = seq;
  badSeq_ = 0x10001;
  received_ = 0;
  expectedPrior_ = receivedPrior_ = 0;
  haveTransit_ = false;
  jitterQ4_ = 0;
}

void RtcpSession::onRtp(uint32_t ssrc, uint16_t seq, uint32_t timestamp, uint32_t arrival) {
  if (!haveSource_ || ssrc != sourceSsrc_) resetSource(ssrc, seq);
  else {
    // RFC 3550 A.1 (without the probation of new sources).
    const uint32_t udelta = static_cast<uint16_t>(seq - maxSeq_);
    if (udelta < kMaxDropout) {
      if (seq < maxSeq_) cycles_ += kSeqMod;
      maxSeq_ = seq;
    } else if (udelta <= kSeqMod - kMaxMisorder) {
      // A big jump: believe it only when the next packet follows it.
      if (seq == badSeq_) {
        resetSource(ssrc, seq);
      } else {
        badSeq_ = (static_cast<uint32_t>(seq) + 1) & (kSeqMod - 1);
        return;
      }
    }  // else duplicate or reordered: counted, max unchanged
  }
  received_++;
  // RFC 3550 A.8 interarrival jitter, in timestamp units, kept * 16.
  const uint32_t transit = arrival - timestamp;
  if (haveTransit_) {
    const int32_t d0 = static_cast<int32_t>(transit - transit_);
    const uint32_t d = static_cast<uint32_t>(d0 < 0 ? -d0 : d0);
    jitterQ4_ += d - ((jitterQ4_ + 8) >> 4);
  }
  transit_ = transit;
  haveTransit_ = true;
}

uint64_t RtcpSession::expected() const {
  if (!haveSource_) return 0;
  const uint64_t extMax = static_cast<uint64_t>(cycles_) + maxSeq_;
  return extMax - baseSeq_ + 1;
}

int64_t RtcpSession::cumulativeLost() const {
  return static_cast<int64_t>(expected()) - static_cast<int64_t>(received_);
}

size_t RtcpSession::buildReport(uint8_t* buf, uint64_t nowNtp, uint32_t rtpTimestamp) {
  const bool sender = sentSinceReport_;
  sentSinceReport_ = false;
  const uint8_t blocks = haveSource_ ? 1 : 0;
  size_t n = 0;
  const size_t first = (sender ? 28 : 8) + 24u * blocks;
  header(buf, blocks, sender ? kRtcpSr : kRtcpRr, first);
  put32(buf + 4, ssrc_);
  n = 8;
  if (sender) {
    put32(buf + 8, static_cast<uint32_t>(nowNtp >> 32));
    put32(buf + 12, static_cast<uint32_t>(nowNtp));
    put32(buf + 16, rtpTimestamp);
    put32(buf + 20, sentPackets_);
    put32(buf + 24, sentOctets_);
    n = 28;
  }
  if (blocks > 0) {
    const uint64_t expected = this->expected();
    const uint64_t expectedInterval = expected - expectedPrior_;
    const uint64_t receivedInterval = received_ - receivedPrior_;
    expectedPrior_ = expected;
    receivedPrior_ = received_;
    const int64_t lostInterval = static_cast<int64_t>(expectedInterval) - static_cast<int64_t>(receivedInterval);
    lastFraction_ = (expectedInterval == 0 || lostInterval <= 0)
                        ? 0
                        : static_cast<uint8_t>((static_cast<uint64_t>(lostInterval) << 8) / expectedInterval);
    int64_t lost = cumulativeLost();
    if (lost > 0x7FFFFF) lost = 0x7FFFFF;
    if (lost < -0x800000) lost = -0x800000;
    uint8_t* b = buf + n;
    put32(b, sourceSsrc_);
    put32(b + 4, (static_cast<uint32_t>(lastFraction_) << 24) | (static_cast<uint32_t>(lost) & 0xFFFFFF));
    put32(b + 8, cycles_ + maxSeq_);
    put32(b + 12, jitter());
    uint32_t dlsr = 0;
    if (lastSrArrivalNtp_ != 0) dlsr = middle32(nowNtp - lastSrArrivalNtp_);
    put32(b + 16, lastSrMiddle_);
    put32(b + 20, lastSrArrivalNtp_ != 0 ? dlsr : 0);
    n += 24;
  }
  // SDES with one CNAME chunk: "ssrc-xxxxxxxx" (13 bytes), then the
  // terminating null item, padded to a word.
  uint8_t* s = buf + n;
  static const char kHex[] = "0123456789abcdef";
  char cname[13] = {'s', 's', 'r', 'c', '-'};
  for (int i = 0; i < 8; i++) cname[5 + i] = kHex[(ssrc_ >> (28 - 4 * i)) & 0xF];
  put32(s + 4, ssrc_);
  s[8] = 1;  // CNAME
  s[9] = sizeof cname;
  for (size_t i = 0; i < sizeof cname; i++) s[10 + i] = static_cast<uint8_t>(cname[i]);
  size_t chunk = 4 + 2 + sizeof cname;  // ssrc + item
  const size_t padded = (chunk + 1 + 3) & ~static_cast<size_t>(3);  // at least one null
  for (size_t i = 4 + chunk; i < 4 + padded; i++) s[i] = 0;
  header(s, 1, kRtcpSdes, 4 + padded);
  n += 4 + padded;
  return n;
}

bool RtcpSession::onRtcp(const uint8_t* buf, size_t len, uint64_t nowNtp) {
  // RFC 3550 A.2: version 2 throughout, the first packet an SR or RR without
  // padding, lengths adding up exactly to the datagram, padding only last.
  if (buf == nullptr || len < 8 || (len & 3) != 0) return false;
  if ((buf[0] & 0xC0) != 0x80 || (buf[0] & 0x20) != 0 || (buf[1] != kRtcpSr && buf[1] != kRtcpRr)) return false;
  size_t off = 0;
  while (off < len) {
    if (len - off < 4 || (buf[off] & 0xC0) != 0x80) return false;
    const size_t bytes = (static_cast<size_t>((buf[off + 2] << 8) | buf[off + 3]) + 1) * 4;
    if (bytes > len - off) return false;
    if ((buf[off] & 0x20) != 0 && off + bytes != len) return false;
    off += bytes;
  }
  // Valid: read the SR / RR packets.
  for (off = 0; off < len;) {
    const uint8_t* p = buf + off;
    const size_t bytes = (static_cast<size_t>((p[2] << 8) | p[3]) + 1) * 4;
    const uint8_t type = p[1];
    const size_t count = p[0] & 0x1F;
    if ((type == kRtcpSr || type == kRtcpRr) && bytes >= 8) {
      size_t b = 8;
      if (type == kRtcpSr) {
        if (bytes < 28) return false;
        lastSrMiddle_ = (get32(p + 8) << 16) | (get32(p + 12) >> 16);
        lastSrArrivalNtp_ = nowNtp;
        b = 28;
      }
      if (b + 24 * count > bytes) return false;
      for (size_t i = 0; i < count; i++, b += 24) {
        const uint8_t* r = p + b;
        if (get32(r) != ssrc_) continue;
        peer_.have = true;
        peer_.fractionLost = r[4];
        uint32_t lost = get32(r + 4) & 0xFFFFFF;
        if (lost & 0x800000) lost |= 0xFF000000u;
        peer_.cumulativeLost = static_cast<int32_t>(lost);
        peer_.jitter = get32(r + 12);
        const uint32_t lsr = get32(r + 16), dlsr = get32(r + 20);
        if (lsr != 0) {
          // RTT = arrival - LSR - DLSR, in 1/65536 s (RFC 3550 6.4.1).
          const int32_t rtt = static_cast<int32_t>(middle32(nowNtp) - lsr - dlsr);
          if (rtt >= 0) peer_.rttUs = (static_cast<int64_t>(rtt) * 1000000) >> 16;
        }
      }
    }
    off += bytes;
  }
  reportsReceived++;
  return true;
}

}  // namespace media
