// RTCP (RFC 3550) for one leg, without sockets: statistics of the RTP stream
// the leg receives (A.1 sequence tracking, A.3 loss, A.8 interarrival
// jitter), building our compound report (SR when we sent RTP since the last
// report, else RR; with one report block about the remote's stream and an
// SDES CNAME), and validated parsing of the peer's reports (A.2 checks),
// taking the round-trip time from the block about our stream (LSR/DLSR).
// Worker thread only; no allocation.
#pragma once

#include <cstddef>
#include <cstdint>

namespace media {

constexpr uint8_t kRtcpSr = 200;
constexpr uint8_t kRtcpRr = 201;
constexpr uint8_t kRtcpSdes = 202;
constexpr size_t kRtcpMaxReport = 28 + 24 + 40;  // SR + one block + SDES CNAME

// RFC 5761 section 4: on a muxed port, RTCP packet types 192-223 sit where an
// RTP marker + payload type would be; no audio payload type is there.
inline bool looksLikeRtcp(const uint8_t* buf, size_t len) { return len >= 2 && buf[1] >= 192 && buf[1] <= 223; }

// 64-bit NTP timestamp (RFC 5905) of CLOCK_REALTIME.
uint64_t ntpNow();

struct RtcpPeerReport {
  bool have = false;       // the peer reported on our stream
  uint8_t fractionLost = 0;  // /256, over its last interval
  int32_t cumulativeLost = 0;
  uint32_t jitter = 0;     // RTP timestamp units
  int64_t rttUs = -1;      // -1 until an RR/SR answers one of our SRs
};

class RtcpSession {
 public:
  explicit RtcpSession(uint32_t ourSsrc);

  // ---- the stream we receive ----
  // `arrival` in RTP timestamp units (8 kHz) on any steady clock.
  void onRtp(uint32_t ssrc, uint16_t seq, uint32_t timestamp, uint32_t arrival);
  uint64_t expected() const;
  int64_t cumulativeLost() const;  // may be negative with duplicates (RFC 3550)
  uint32_t jitter() const { return jitterQ4_ >> 4; }  // RTP units
  uint8_t lastFractionLost() const { return lastFraction_; }  // as sent in our last report

  // ---- what the peer says ----
  // Returns false (nothing changed) when the packet fails RFC 3550 A.2
  // validation. `nowNtp`: ntpNow() at arrival.
  bool onRtcp(const uint8_t* buf, size_t len, uint64_t nowNtp);
  const RtcpPeerReport& peer() const { return peer_; }

  // ---- our reports ----
  void onSent(size_t payloadBytes) {
    sentPackets_++;
    sentOctets_ += payloadBytes;
    sentSinceReport_ = true;
  }
  // Writes SR/RR + SDES into `buf` (>= kRtcpMaxReport); returns its size.
  // `rtpTimestamp`: our RTP clock now (for the SR's sender info).
  size_t buildReport(uint8_t* buf, uint64_t nowNtp, uint32_t rtpTimestamp);

  uint64_t reportsReceived = 0;

 private:
  void resetSource(uint32_t ssrc, uint16_t seq);

  uint32_t ssrc_;
  // receive statistics (RFC 3550 A.1, A.3, A.8)
  bool haveSource_ = false;
  uint32_t sourceSsrc_ = 0;
  uint16_t maxSeq_ = 0;
  uint32_t cycles_ = 0;
  uint32_t baseSeq_ = 0;
  uint32_t badSeq_ = 0x10001;  // none
  uint64_t received_ = 0;
  uint64_t expectedPrior_ = 0;
  uint64_t receivedPrior_ = 0;
  bool haveTransit_ = false;
  uint32_t transit_ = 0;
  uint32_t jitterQ4_ = 0;
  uint8_t lastFraction_ = 0;
  // the peer's last SR (for LSR/DLSR in our blocks)
  uint32_t lastSrMiddle_ = 0;
  uint64_t lastSrArrivalNtp_ = 0;
  // our sending
  uint32_t sentPackets_ = 0;
  uint32_t sentOctets_ = 0;
  bool sentSinceReport_ = false;
  RtcpPeerReport peer_;
};

}  // namespace media
