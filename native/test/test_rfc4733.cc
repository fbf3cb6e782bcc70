#include <string>
#include <vector>

#include "harness.h"
#include "rfc4733.h"

using namespace media;

namespace {
struct Feeder {
  Rfc4733Decoder dec;
  std::string digits;
  std::vector<uint32_t> durations;
  uint16_t seq = 1000;
  void pkt(uint32_t ssrc, uint32_t ts, uint8_t event, bool end, uint16_t duration, int seqOverride = -1) {
    const uint8_t p[4] = {event, static_cast<uint8_t>((end ? 0x80 : 0) | 10),
                          static_cast<uint8_t>(duration >> 8), static_cast<uint8_t>(duration)};
    const uint16_t s = seqOverride >= 0 ? static_cast<uint16_t>(seqOverride) : seq++;
    DtmfPress press;
    if (dec.feed(ssrc, s, ts, p, 4, press) == DtmfFeed::NewPress) {
      digits += press.digit;
      durations.push_back(press.durationMs);
    }
  }
  // A full press as phones send it: growing durations, 3 end packets.
  void press(uint32_t ssrc, uint32_t ts, uint8_t event) {
    pkt(ssrc, ts, event, false, 160);
    pkt(ssrc, ts, event, false, 320);
    pkt(ssrc, ts, event, false, 480);
    pkt(ssrc, ts, event, true, 800);
    pkt(ssrc, ts, event, true, 800);
    pkt(ssrc, ts, event, true, 800);
  }
};
}  // namespace

TEST(rfc4733_reports_at_start_once) {
  Feeder f;
  f.pkt(1, 1000, 5, false, 160);
  CHECK(f.digits == "5");
  f.pkt(1, 1000, 5, false, 320);
  f.pkt(1, 1000, 5, true, 640);
  CHECK(f.digits == "5");
  CHECK_EQ(f.durations[0], 0u);
}

TEST(rfc4733_triple_end_is_one_digit) {
  Feeder f;
  f.press(1, 1000, 1);
  CHECK(f.digits == "1");
}

TEST(rfc4733_only_end_packets_gives_duration) {
  Feeder f;
  f.pkt(1, 5000, 9, true, 800);
  f.pkt(1, 5000, 9, true, 800);
  f.pkt(1, 5000, 9, true, 800);
  CHECK(f.digits == "9");
  CHECK_EQ(f.durations[0], 100u);
}

TEST(rfc4733_repeated_digit_same_timestamp_kept) {
  // sipp's pcaps: every digit carries the same RTP timestamp.
  Feeder f;
  f.press(7, 4242, 1);
  f.press(7, 4242, 1);
  f.press(7, 4242, 2);
  f.press(7, 4242, 2);
  f.press(7, 4242, 1);
  CHECK(f.digits == "11221");
}

TEST(rfc4733_new_timestamps) {
  Feeder f;
  f.press(1, 1000, 1);
  f.press(1, 2000, 1);
  f.press(1, 3000, 11);
  f.press(1, 4000, 10);
  CHECK(f.digits == "11#*");
}

TEST(rfc4733_duplicates_and_reordering_ignored) {
  Feeder f;
  f.pkt(1, 1000, 3, false, 160, 10);
  f.pkt(1, 1000, 3, false, 160, 10);  // exact duplicate
  f.pkt(1, 1000, 3, false, 320, 11);
  f.pkt(1, 1000, 3, true, 480, 13);
  f.pkt(1, 1000, 3, false, 400, 12);  // late, reordered
  f.pkt(1, 1000, 3, true, 480, 14);
  f.pkt(1, 1000, 3, true, 480, 15);
  CHECK(f.digits == "3");
  // A late retransmission of an older press after a new one starts.
  f.pkt(1, 2000, 4, false, 160, 16);
  f.pkt(1, 1000, 3, true, 480, 9);
  CHECK(f.digits == "34");
}

TEST(rfc4733_duration_backwards_is_new_press) {
  Feeder f;
  f.pkt(1, 1000, 5, false, 160);
  f.pkt(1, 1000, 5, false, 320);
  // end packets lost; the next press of the same key restarts the duration
  f.pkt(1, 1000, 5, false, 160);
  CHECK(f.digits == "55");
}

TEST(rfc4733_foreign_ssrc_and_events) {
  Feeder f;
  f.press(0x11111111, 1000, 1);
  f.press(0x22222222, 1000, 1);  // another SSRC, same timestamp: another press
  CHECK(f.digits == "11");
  f.pkt(3, 1, 16, false, 160);  // flash: not a digit
  f.pkt(3, 1, 200, false, 160);
  CHECK(f.digits == "11");
  DtmfPress p;
  const uint8_t shortPayload[2] = {1, 0};
  CHECK(f.dec.feed(1, 1, 1, shortPayload, 2, p) == DtmfFeed::Malformed);
  CHECK(Rfc4733Decoder::digitForEvent(15) == 'D');
}

// ---- sender ----
#include "rfc4733_sender.h"

TEST(rfc4733_sender_packets_and_timing) {
  Rfc4733Sender s;
  DigitRequest r;
  r.id = 9;
  r.digits[0] = '1';
  r.digits[1] = '#';
  r.count = 2;
  r.toneTicks = 3;
  r.gapTicks = 2;
  uint32_t replaced = 1;
  s.start(r, replaced);
  CHECK_EQ(replaced, 0u);
  std::vector<std::vector<int>> pk;  // event, end, duration, ts, marker
  bool done = false;
  int ticks = 0;
  for (uint32_t ts = 1000; !done && ticks < 100; ts += 160, ticks++) {
    uint8_t p[4];
    uint32_t evTs = 0;
    bool marker = false;
    if (s.tick(ts, p, evTs, marker, done)) {
      pk.push_back({p[0], (p[1] & 0x80) ? 1 : 0, (p[2] << 8) | p[3], static_cast<int>(evTs), marker ? 1 : 0});
    } else {
      pk.push_back({-1});
    }
  }
  CHECK(done && !s.active());
  // key 1: 3 tone + 3 end packets, 2 gap ticks; key #: 3 + 3, no gap after.
  CHECK_EQ(pk.size(), 6u + 2u + 6u);
  const std::vector<std::vector<int>> want = {
      {1, 0, 160, 1000, 1}, {1, 0, 320, 1000, 0}, {1, 0, 480, 1000, 0},
      {1, 1, 480, 1000, 0}, {1, 1, 480, 1000, 0}, {1, 1, 480, 1000, 0}, {-1}, {-1},
      {11, 0, 160, 2280, 1}, {11, 0, 320, 2280, 0}, {11, 0, 480, 2280, 0},
      {11, 1, 480, 2280, 0}, {11, 1, 480, 2280, 0}, {11, 1, 480, 2280, 0}};
  for (size_t i = 0; i < want.size() && i < pk.size(); i++) CHECK(pk[i] == want[i]);
}

TEST(rfc4733_sender_replaces_request) {
  Rfc4733Sender s;
  DigitRequest a;
  a.id = 1;
  a.digits[0] = '5';
  a.count = 1;
  uint32_t replaced = 0;
  s.start(a, replaced);
  uint8_t p[4];
  uint32_t ts;
  bool m, done;
  s.tick(0, p, ts, m, done);
  DigitRequest b = a;
  b.id = 2;
  s.start(b, replaced);
  CHECK_EQ(replaced, 1u);
  CHECK_EQ(s.requestId(), 2u);
  CHECK_EQ(Rfc4733Sender::eventFor('*'), 10);
  CHECK_EQ(Rfc4733Sender::eventFor('x'), -1);
}
