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
  JB jb(320);  // the 40 ms prefetch these mechanics were written for
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
  // One packet per 20 ms; 0 and 320 each arrive a tick late, after their
  // successor. put() calls between get()s are the packets read at that tick.
  JB jb(320);  // the 40 ms prefetch these mechanics were written for
  int16_t out[160];
  CHECK(jb.get(out) == JB::Frame::Silence);  // tick 0: 0 is late
  put(jb, 160);  // tick 1: the second packet first
  put(jb, 0);    // then the first (before playout started)
  CHECK(jb.get(out) == JB::Frame::Audio);
  CHECK(frameIs(out, 0));
  CHECK(jb.get(out) == JB::Frame::Audio);  // tick 2: 320 is late
  CHECK(frameIs(out, 160));
  put(jb, 480);  // tick 3
  put(jb, 320);
  CHECK(jb.get(out) == JB::Frame::Audio);
  CHECK(frameIs(out, 320));
  CHECK(jb.get(out) == JB::Frame::Audio);
  CHECK(frameIs(out, 480));
  CHECK_EQ(jb.concealed, 0u);
  CHECK_EQ(jb.dropped + jb.inserted, 0u);
}

TEST(jitter_duplicates_dropped) {
  JB jb(320);  // the 40 ms prefetch these mechanics were written for
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
  JB jb(320);  // the 40 ms prefetch these mechanics were written for
  int16_t out[160];
  put(jb, 0);
  CHECK(jb.get(out) == JB::Frame::Silence);  // prefetch
  put(jb, 160);
  CHECK(jb.get(out) == JB::Frame::Audio);
  CHECK(frameIs(out, 0));
  // 320 lost
  CHECK(jb.get(out) == JB::Frame::Audio);
  CHECK(frameIs(out, 160));
  put(jb, 480);
  CHECK(jb.get(out) == JB::Frame::Concealed);
  // -6 dB copy of the previous frame
  const auto prev = samplesFor(160, 160);
  CHECK_EQ(out[10], static_cast<int16_t>(prev[10] >> 1));
  put(jb, 640);
  CHECK(jb.get(out) == JB::Frame::Audio);
  CHECK(frameIs(out, 480));
  CHECK_EQ(jb.concealed, 1u);
  // a late packet for an already-played time is dropped
  CHECK(jb.put(320, samplesFor(320, 160).data(), 160) == JB::Put::Late);
}

TEST(jitter_ptime_30_and_10) {
  int16_t out[160];
  for (int ptime : {30, 10}) {
    JB jb(320);
    const int per = ptime * 8;
    uint32_t next = 0;       // next packet's timestamp
    int64_t sentAtMs = 0;    // its send time
    int firstAudio = -1;
    uint32_t getTs = 0;
    for (int tick = 0; tick < 100; tick++) {
      for (; sentAtMs <= tick * 20; sentAtMs += ptime, next += static_cast<uint32_t>(per)) put(jb, next, per);
      const JB::Frame f = jb.get(out);
      if (firstAudio < 0 && f == JB::Frame::Audio) firstAudio = tick;
      if (firstAudio < 0) {
        CHECK(f == JB::Frame::Silence);
        continue;
      }
      CHECK(f == JB::Frame::Audio);
      CHECK(frameIs(out, getTs));
      getTs += 160;
    }
    CHECK(firstAudio >= 0 && firstAudio <= 3);
    CHECK_EQ(jb.concealed, 0u);
    CHECK_EQ(jb.dropped + jb.inserted, 0u);
  }
}

TEST(jitter_depth_bounded) {
  JB jb(320);  // the 40 ms prefetch these mechanics were written for
  int16_t out[160];
  // A burst of 1 s arrives at once: depth must stay <= 200 ms.
  for (uint32_t ts = 0; ts < 8000; ts += 160) put(jb, ts);
  const int depth = jb.depth();
  CHECK(depth <= 1600 && depth >= 320);
  CHECK(jb.overflows > 0);
  CHECK(jb.get(out) == JB::Frame::Audio);
  // Playout resumed near the newest data, not at the start (a frame or two
  // more may be dropped: the burst looks like far more delay than needed).
  const uint32_t played = static_cast<uint32_t>(out[0] - 1);
  CHECK(played >= 8000u - static_cast<uint32_t>(depth) && played + 160 <= 8000u);
  CHECK(frameIs(out, played));
}

TEST(jitter_pause_rebases_and_ts_jump) {
  JB jb(320);  // the 40 ms prefetch these mechanics were written for
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
  JB jb(320);  // the 40 ms prefetch these mechanics were written for
  int16_t out[160];
  const uint32_t start = 0xFFFFFFFFu - 200;
  put(jb, start);
  CHECK(jb.get(out) == JB::Frame::Silence);
  for (uint32_t i = 1; i <= 3; i++) {
    put(jb, start + 160 * i);
    CHECK(jb.get(out) == JB::Frame::Audio);
    CHECK(frameIs(out, start + 160 * (i - 1)));
  }
  CHECK_EQ(jb.concealed, 0u);
  CHECK_EQ(jb.dropped + jb.inserted, 0u);
}

TEST(jitter_invalid_input) {
  JB jb(320);  // the 40 ms prefetch these mechanics were written for
  int16_t s[8] = {0};
  CHECK(jb.put(0, nullptr, 8) == JB::Put::Invalid);
  CHECK(jb.put(0, s, 0) == JB::Put::Invalid);
  CHECK(jb.put(0, s, 100000) == JB::Put::Invalid);
}
