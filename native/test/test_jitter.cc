#include <cstring>
#include <vector>

#include "harness.h"
#include "jitter_buffer.h"

using namespace media;
using JB = JitterBuffer;

namespace {
// Samples carry their own timestamp (mod 30000) so order can be checked.
std::vector<int16_t> samplesFor(uint32_t ts, int n) {
  std::vector<int16_t> v(static_cast<size_t>(n));
  for (int i = 0; i < n; i++) v[static_cast<size_t>(i)] = static_cast<int16_t>((ts + static_cast<uint32_t>(i)) % 30000 + 1);
  return v;
}
void put(JB& jb, uint32_t ts, int n = 160) {
  auto s = samplesFor(ts, n);
  jb.put(ts, s.data(), n);
}
bool frameIs(const int16_t* f, uint32_t ts) {
  for (int i = 0; i < 160; i++) {
    if (f[i] != static_cast<int16_t>((ts + static_cast<uint32_t>(i)) % 30000 + 1)) return false;
  }
  return true;
}
}  // namespace

TEST(jitter_prefetch_then_in_order) {
  JB jb;
  int16_t out[160];
  put(jb, 1000);
  CHECK(jb.get(out) == JB::Frame::Silence);  // 20 ms < 40 ms prefetch
  put(jb, 1160);
  CHECK(jb.get(out) == JB::Frame::Audio);
  CHECK(frameIs(out, 1000));
  put(jb, 1320);
  CHECK(jb.get(out) == JB::Frame::Audio);
  CHECK(frameIs(out, 1160));
  CHECK(jb.get(out) == JB::Frame::Audio);
  CHECK(frameIs(out, 1320));
}

TEST(jitter_reorder) {
  JB jb;
  int16_t out[160];
  put(jb, 160);  // second packet first
  put(jb, 0);    // then the first (before playout started)
  put(jb, 480);
  put(jb, 320);
  for (uint32_t ts = 0; ts <= 480; ts += 160) {
    CHECK(jb.get(out) == JB::Frame::Audio);
    CHECK(frameIs(out, ts));
  }
  CHECK_EQ(jb.concealed, 0u);
}

TEST(jitter_duplicates_dropped) {
  JB jb;
  int16_t out[160];
  put(jb, 0);
  CHECK(jb.put(0, samplesFor(0, 160).data(), 160) == JB::Put::Duplicate);
  put(jb, 160);
  put(jb, 160);
  CHECK_EQ(jb.duplicates, 2u);
  CHECK(jb.get(out) == JB::Frame::Audio);
  CHECK(frameIs(out, 0));
  CHECK(jb.get(out) == JB::Frame::Audio);
  CHECK(frameIs(out, 160));
}

TEST(jitter_loss_concealed) {
  JB jb;
  int16_t out[160];
  put(jb, 0);
  put(jb, 160);
  // 320 lost
  put(jb, 480);
  put(jb, 640);
  CHECK(jb.get(out) == JB::Frame::Audio);
  CHECK(jb.get(out) == JB::Frame::Audio);
  CHECK(jb.get(out) == JB::Frame::Concealed);
  // -6 dB copy of the previous frame
  const auto prev = samplesFor(160, 160);
  CHECK_EQ(out[10], static_cast<int16_t>(prev[10] >> 1));
  CHECK(jb.get(out) == JB::Frame::Audio);
  CHECK(frameIs(out, 480));
  CHECK_EQ(jb.concealed, 1u);
  // a late packet for an already-played time is dropped
  CHECK(jb.put(320, samplesFor(320, 160).data(), 160) == JB::Put::Late);
}

TEST(jitter_ptime_30_and_10) {
  JB jb;
  int16_t out[160];
  uint32_t putTs = 0, getTs = 0;
  // 30 ms packets (240 samples), steady state: put 2 (60 ms) per 3 gets.
  put(jb, putTs, 240);
  putTs += 240;
  put(jb, putTs, 240);
  putTs += 240;
  for (int round = 0; round < 20; round++) {
    for (int g = 0; g < 3; g++) {
      CHECK(jb.get(out) == JB::Frame::Audio);
      CHECK(frameIs(out, getTs));
      getTs += 160;
    }
    put(jb, putTs, 240);
    putTs += 240;
    put(jb, putTs, 240);
    putTs += 240;
  }
  CHECK_EQ(jb.concealed, 0u);
  // 10 ms packets
  JB jb2;
  for (uint32_t ts = 0; ts < 480; ts += 80) put(jb2, ts, 80);
  for (uint32_t ts = 0; ts < 480; ts += 160) {
    CHECK(jb2.get(out) == JB::Frame::Audio);
    CHECK(frameIs(out, ts));
  }
}

TEST(jitter_depth_bounded) {
  JB jb;
  int16_t out[160];
  // A burst of 1 s arrives at once: depth must stay <= 200 ms.
  for (uint32_t ts = 0; ts < 8000; ts += 160) put(jb, ts);
  const int depth = jb.depth();
  CHECK(depth <= 1600 && depth >= 320);
  CHECK(jb.overflows > 0);
  CHECK(jb.get(out) == JB::Frame::Audio);
  // Playout resumed near the newest data, not at the start.
  CHECK(frameIs(out, 8000u - static_cast<uint32_t>(depth)));
}

TEST(jitter_pause_rebases_and_ts_jump) {
  JB jb;
  int16_t out[160];
  put(jb, 0);
  put(jb, 160);
  CHECK(jb.get(out) == JB::Frame::Audio);
  CHECK(jb.get(out) == JB::Frame::Audio);
  for (int i = 0; i < 10; i++) jb.get(out);  // sender paused
  const uint64_t concealedAfterPause = jb.concealed;
  CHECK(concealedAfterPause <= static_cast<uint64_t>(JB::kUnderrunFrames));
  // resumes 2 s later in RTP time: rebased, prefetches again
  put(jb, 16000);
  put(jb, 16160);
  CHECK(jb.get(out) == JB::Frame::Audio);
  CHECK(frameIs(out, 16000));
  // a jump while playing also rebases
  put(jb, 16320);
  put(jb, 900000);
  put(jb, 900160);
  CHECK(jb.get(out) == JB::Frame::Audio);
  CHECK(frameIs(out, 900000));
  CHECK_EQ(jb.concealed, concealedAfterPause);
}

TEST(jitter_timestamp_wraparound) {
  JB jb;
  int16_t out[160];
  const uint32_t start = 0xFFFFFFFFu - 200;
  put(jb, start);
  put(jb, start + 160);
  put(jb, start + 320);
  CHECK(jb.get(out) == JB::Frame::Audio);
  CHECK(jb.get(out) == JB::Frame::Audio);
  CHECK(jb.get(out) == JB::Frame::Audio);
  CHECK_EQ(jb.concealed, 0u);
}

TEST(jitter_invalid_input) {
  JB jb;
  int16_t s[8] = {0};
  CHECK(jb.put(0, nullptr, 8) == JB::Put::Invalid);
  CHECK(jb.put(0, s, 0) == JB::Put::Invalid);
  CHECK(jb.put(0, s, 100000) == JB::Put::Invalid);
}
