// RTCP session: loss and jitter of the received stream (RFC 3550 A.1/A.3/
// A.8), our SR/RR + SDES as another endpoint parses them, RTT from the
// peer's LSR/DLSR, and rejection of malformed compounds.
#include <cstring>
#include <vector>

#include "harness.h"
#include "rtcp.h"

using namespace media;

namespace {
uint32_t get32(const uint8_t* p) {
  return (static_cast<uint32_t>(p[0]) << 24) | (static_cast<uint32_t>(p[1]) << 16) | (static_cast<uint32_t>(p[2]) << 8) | p[3];
}
void put32(uint8_t* p, uint32_t v) {
  p[0] = static_cast<uint8_t>(v >> 24);
  p[1] = static_cast<uint8_t>(v >> 16);
  p[2] = static_cast<uint8_t>(v >> 8);
  p[3] = static_cast<uint8_t>(v);
}
constexpr uint64_t kSecond = 1ull << 32;  // in NTP units
}  // namespace

TEST(rtcp_loss_and_fraction) {
  RtcpSession s(0x11111111);
  // 100 packets from seq 65500 (wrapping), 5 lost, one duplicate.
  uint16_t seq = 65500;
  for (int i = 0; i < 100; i++, seq++) {
    if (i % 20 == 7) continue;
    s.onRtp(0xAAAA, seq, 160u * static_cast<uint32_t>(i), 160u * static_cast<uint32_t>(i));
  }
  s.onRtp(0xAAAA, static_cast<uint16_t>(seq - 3), 0, 0);  // duplicate of a recent one
  CHECK_EQ(s.expected(), 100u);
  CHECK_EQ(s.cumulativeLost(), 4);  // 5 lost, 1 duplicate counted (RFC 3550)
  uint8_t buf[kRtcpMaxReport];
  const size_t n = s.buildReport(buf, 5 * kSecond, 1234);
  CHECK_EQ(buf[1], kRtcpRr);  // nothing sent: a receiver report
  CHECK_EQ(buf[0] & 0x1F, 1);
  const uint8_t* block = buf + 8;
  CHECK_EQ(get32(block), 0xAAAAu);
  CHECK_EQ(block[4], static_cast<uint8_t>((4 << 8) / 100));  // fraction lost: 4/100 * 256
  CHECK_EQ(get32(block + 4) & 0xFFFFFF, 4u);
  CHECK_EQ(get32(block + 8), 65536u + static_cast<uint16_t>(65500 + 99));  // one wrap
  CHECK_EQ(get32(block + 12), 0u);  // perfectly regular arrivals: no jitter
  CHECK((n % 4) == 0 && n <= kRtcpMaxReport);
  // The next interval has no loss: fraction 0, cumulative unchanged.
  for (int i = 100; i < 150; i++, seq++) s.onRtp(0xAAAA, seq, 160u * static_cast<uint32_t>(i), 160u * static_cast<uint32_t>(i));
  s.buildReport(buf, 10 * kSecond, 0);
  CHECK_EQ(buf[8 + 4], 0);
  CHECK_EQ(get32(buf + 8 + 4) & 0xFFFFFF, 4u);
}

TEST(rtcp_interarrival_jitter) {
  RtcpSession s(1);
  // Arrivals alternate 0 / +80 samples (10 ms) late: |D| = 80 each packet,
  // so J converges to 80.
  for (int i = 0; i < 400; i++) {
    const uint32_t ts = 160u * static_cast<uint32_t>(i);
    s.onRtp(2, static_cast<uint16_t>(i), ts, ts + (i % 2 ? 80u : 0u));
  }
  CHECK(s.jitter() >= 76 && s.jitter() <= 80);
}

TEST(rtcp_sender_report_and_rtt_round_trip) {
  RtcpSession a(0xA), b(0xB);
  for (int i = 0; i < 10; i++) {
    a.onSent(160);
    b.onRtp(0xA, static_cast<uint16_t>(i), 160u * static_cast<uint32_t>(i), 160u * static_cast<uint32_t>(i));
    a.onRtp(0xB, static_cast<uint16_t>(i), 160u * static_cast<uint32_t>(i), 160u * static_cast<uint32_t>(i));
  }
  uint8_t sr[kRtcpMaxReport];
  const uint64_t t0 = 1000 * kSecond;
  const size_t n = a.buildReport(sr, t0, 777);
  CHECK_EQ(sr[1], kRtcpSr);
  CHECK_EQ(get32(sr + 16), 777u);  // RTP timestamp
  CHECK_EQ(get32(sr + 20), 10u);   // packets
  CHECK_EQ(get32(sr + 24), 1600u); // octets
  // b gets it 30 ms later, answers 200 ms after that; a gets the answer 30 ms later.
  const uint64_t ms = kSecond / 1000;
  CHECK(b.onRtcp(sr, n, t0 + 30 * ms));
  uint8_t rr[kRtcpMaxReport];
  const size_t m = b.buildReport(rr, t0 + 230 * ms, 0);
  CHECK(a.onRtcp(rr, m, t0 + 260 * ms));
  CHECK(a.peer().have);
  CHECK(a.peer().rttUs >= 59000 && a.peer().rttUs <= 61000);  // 60 ms
  CHECK_EQ(a.peer().cumulativeLost, 0);
  CHECK_EQ(a.reportsReceived, 1u);
}

TEST(rtcp_malformed_rejected) {
  RtcpSession s(1);
  uint8_t good[kRtcpMaxReport];
  RtcpSession other(2);
  const size_t n = other.buildReport(good, kSecond, 0);
  CHECK(s.onRtcp(good, n, kSecond));
  std::vector<uint8_t> b(good, good + n);
  CHECK(!s.onRtcp(b.data(), n - 4, kSecond));  // length mismatch
  CHECK(!s.onRtcp(b.data(), 3, kSecond));      // short
  CHECK(!s.onRtcp(nullptr, 0, kSecond));
  b[0] = static_cast<uint8_t>((b[0] & 0x3F) | 0x40);  // version 1
  CHECK(!s.onRtcp(b.data(), n, kSecond));
  b.assign(good, good + n);
  b[1] = 202;  // SDES first: not a valid compound
  CHECK(!s.onRtcp(b.data(), n, kSecond));
  b.assign(good, good + n);
  b[3] = 200;  // length runs past the end
  CHECK(!s.onRtcp(b.data(), n, kSecond));
  // An SR too short for its sender info.
  uint8_t sr[8] = {0x80, 200, 0, 1, 0, 0, 0, 9};
  CHECK(!s.onRtcp(sr, sizeof sr, kSecond));
  CHECK_EQ(s.reportsReceived, 1u);
  // mux demultiplexing (RFC 5761)
  CHECK(looksLikeRtcp(good, n));
  const uint8_t rtp[12] = {0x80, 0x00};
  const uint8_t rtpMarker[12] = {0x80, 0x80 | 101};
  CHECK(!looksLikeRtcp(rtp, 12));
  CHECK(!looksLikeRtcp(rtpMarker, 12));
}

TEST(rtcp_new_source_and_jump_restart) {
  RtcpSession s(1);
  for (int i = 0; i < 10; i++) s.onRtp(5, static_cast<uint16_t>(100 + i), 0, 0);
  CHECK_EQ(s.expected(), 10u);
  // A jump of 20000: ignored once, believed when the next follows.
  s.onRtp(5, 20000, 0, 0);
  CHECK_EQ(s.expected(), 10u);
  s.onRtp(5, 20001, 0, 0);
  CHECK_EQ(s.expected(), 1u);
  CHECK_EQ(s.cumulativeLost(), 0);
  // New SSRC: statistics start over.
  s.onRtp(6, 7, 0, 0);
  CHECK_EQ(s.expected(), 1u);
  uint8_t buf[kRtcpMaxReport];
  s.buildReport(buf, kSecond, 0);
  CHECK_EQ(get32(buf + 8), 6u);
  (void)put32;
}
