// The room mix on synthetic frames: talker gating, top-N selection, N-1 for
// legs in the mix, one shared mix for everyone else, the limiter.
#include <cmath>
#include <cstring>
#include <vector>

#include "harness.h"
#include "leg.h"
#include "mix.h"
#include "room.h"

using namespace media;

namespace {
struct Sink : EventSink {
  std::vector<Event> events;
  void emit(const Event& e) override { events.push_back(e); }
};
Sink sink;

// Sets the leg's input frame to a constant and runs talker detection on it.
void fill(Leg& l, int16_t v, bool speak, bool hear) {
  for (int i = 0; i < kFrameSamples; i++) l.in[i] = v;
  l.inActive = true;
  l.speak = speak;
  l.hear = hear;
  l.detectTalking(sink);
}
LegConfig cfg(uint32_t id) {
  LegConfig c;
  c.id = id;
  return c;
}
const int16_t kZeros[kFrameSamples] = {};
// What the leg hears from the room this tick.
const int16_t* heard(const Room& room, const Leg& l) {
  switch (l.source()) {
    case Leg::Source::Own: return l.out;
    case Leg::Source::Shared: return room.mix;
    default: return kZeros;
  }
}
}  // namespace

TEST(mix_n_minus_one) {
  Room room;
  Leg a(cfg(1), -1), b(cfg(2), -1), c(cfg(3), -1), d(cfg(4), -1);
  roomAdd(room, a);
  roomAdd(room, b);
  roomAdd(room, c);
  roomAdd(room, d);
  fill(a, 1000, true, true);
  fill(b, 600, true, true);
  fill(c, 30, true, false);     // deaf; too quiet to be a talker
  fill(d, 5000, false, true);  // listener: not mixed
  mixRoom(room);
  CHECK(a.mixed && b.mixed && !c.mixed && !d.mixed);
  CHECK(a.source() == Leg::Source::Own);
  CHECK(d.source() == Leg::Source::Shared);
  CHECK(c.source() == Leg::Source::Silence);
  CHECK_EQ(heard(room, a)[0], 600);
  CHECK_EQ(heard(room, b)[5], 1000);
  CHECK_EQ(heard(room, c)[7], 0);
  CHECK_EQ(heard(room, d)[159], 1600);
  CHECK_EQ(room.members, 4u);
  roomRemove(b);
  CHECK_EQ(room.members, 3u);
  CHECK(b.room == nullptr);
  CHECK(!b.mixed);
  mixRoom(room);
  CHECK_EQ(heard(room, a)[0], 0);
  CHECK_EQ(heard(room, d)[0], 1000);
}

TEST(mix_inactive_not_mixed) {
  Room room;
  Leg a(cfg(1), -1), b(cfg(2), -1);
  roomAdd(room, a);
  roomAdd(room, b);
  fill(a, 1000, true, true);
  fill(b, 500, true, true);
  b.inActive = false;  // nothing received
  mixRoom(room);
  CHECK_EQ(heard(room, a)[0], 0);
  CHECK_EQ(heard(room, b)[0], 1000);
}

TEST(mix_top_n_loudest_only) {
  Room room;
  room.maxTalkers = 3;
  std::vector<Leg*> legs;
  for (uint32_t i = 0; i < 8; i++) {
    legs.push_back(new Leg(cfg(i + 1), -1));
    roomAdd(room, *legs.back());
  }
  // Levels 1000..8000: the three loudest are legs 5, 6, 7.
  for (int t = 0; t < 3; t++) {
    for (int i = 0; i < 8; i++) fill(*legs[i], static_cast<int16_t>(1000 * (i + 1)), true, true);
    mixRoom(room);
  }
  for (int i = 0; i < 8; i++) CHECK_EQ(legs[i]->mixed, i >= 5);
  CHECK_EQ(room.talkersMixed, 3u);
  CHECK_EQ(heard(room, *legs[0])[0], 21000);        // shared mix
  CHECK_EQ(heard(room, *legs[7])[0], 6000 + 7000);  // N-1
  CHECK_EQ(heard(room, *legs[5])[0], 7000 + 8000);
  // A muted loud leg never enters; the next loudest takes its place.
  legs[7]->speak = false;
  fill(*legs[7], 8000, false, true);
  mixRoom(room);
  CHECK(!legs[7]->mixed);
  CHECK(legs[4]->mixed);
  CHECK_EQ(heard(room, *legs[7])[0], 5000 + 6000 + 7000);
  // A held leg never enters either (and hears no room audio).
  Sink s;
  legs[6]->hold(nullptr, s);
  mixRoom(room);
  CHECK(!legs[6]->mixed);
  CHECK(legs[3]->mixed);
  CHECK(legs[6]->source() == Leg::Source::Own);
  for (Leg* l : legs) {
    roomRemove(*l);
    delete l;
  }
}

TEST(mix_near_equal_talkers_do_not_flap) {
  Room room;
  room.maxTalkers = 1;
  Leg a(cfg(1), -1), b(cfg(2), -1);
  roomAdd(room, a);
  roomAdd(room, b);
  fill(a, 3000, true, true);
  fill(b, 2000, true, true);
  mixRoom(room);
  CHECK(a.mixed && !b.mixed);
  // b slightly louder now (< 3 dB): a keeps the floor.
  for (int t = 0; t < 10; t++) {
    fill(a, 3000, true, true);
    fill(b, 3500, true, true);
    mixRoom(room);
    CHECK(a.mixed && !b.mixed);
  }
  // b much louder: it takes over.
  for (int t = 0; t < 10; t++) {
    fill(a, 3000, true, true);
    fill(b, 9000, true, true);
    mixRoom(room);
  }
  CHECK(!a.mixed && b.mixed);
}

TEST(mix_talking_hysteresis_and_events) {
  Leg l(cfg(9), -1);
  Sink s;
  auto frame = [&](int16_t amp) {
    for (int i = 0; i < kFrameSamples; i++) l.in[i] = (i & 1) ? amp : static_cast<int16_t>(-amp);
    l.inActive = true;
    l.detectTalking(s);
  };
  frame(100);  // -50 dB: below the start threshold
  CHECK(!l.talking());
  frame(1000);  // -30 dB: starts
  CHECK(l.talking());
  CHECK_EQ(s.events.size(), 1u);
  CHECK(s.events[0].type == EventType::Talking && s.events[0].talking);
  CHECK(std::fabs(s.events[0].energy - (-30.3f)) < 0.5f);
  // Between the thresholds (-42 dB): a pause inside speech, stays talking.
  for (int t = 0; t < 100; t++) frame(260);
  CHECK(l.talking());
  // Below the stop threshold: ends after the hangover, not before.
  for (int t = 0; t < kTalkHangoverFrames - 1; t++) frame(50);
  CHECK(l.talking());
  frame(50);
  CHECK(!l.talking());
  CHECK_EQ(s.events.size(), 2u);
  CHECK(!s.events[1].talking);
  // Back between the thresholds: not enough to start again.
  for (int t = 0; t < 10; t++) frame(260);
  CHECK(!l.talking());
  CHECK_EQ(s.events.size(), 2u);
}

TEST(mix_limiter_never_clips_or_flips) {
  // Ten full-scale talkers, the same sine in phase: the sum peaks at 327670.
  int32_t sum[kFrameSamples];
  int16_t out[kFrameSamples];
  float gain = 1.f;
  int maxAbs = 0;
  for (int f = 0; f < 50; f++) {
    for (int i = 0; i < kFrameSamples; i++) {
      const double x = 32767.0 * std::sin(2 * M_PI * 440 * (f * kFrameSamples + i) / 8000.0);
      sum[i] = 10 * static_cast<int32_t>(std::lround(x));
    }
    limitFrame(sum, nullptr, out, gain);
    for (int i = 0; i < kFrameSamples; i++) {
      const int a = out[i] < 0 ? -out[i] : out[i];
      if (a > maxAbs) maxAbs = a;
      CHECK(a <= kLimiterThreshold);
      if (sum[i] > 0) CHECK(out[i] >= 0);
      if (sum[i] < 0) CHECK(out[i] <= 0);
    }
  }
  // Limited, not crushed: the peaks stay near the threshold.
  CHECK(maxAbs > kLimiterThreshold * 9 / 10);
  CHECK(gain < 0.2f);
  // DC far over full scale, both signs.
  for (int sign : {1, -1}) {
    for (int f = 0; f < 5; f++) {
      for (int i = 0; i < kFrameSamples; i++) sum[i] = sign * 10 * 32767;
      limitFrame(sum, nullptr, out, gain);
      for (int i = 0; i < kFrameSamples; i++) {
        CHECK(out[i] * sign > 0);
        CHECK(out[i] * sign <= kLimiterThreshold);
      }
    }
    CHECK(out[159] * sign > kLimiterThreshold - 50);
  }
  // The load goes away: the gain releases smoothly back to unity, with no
  // step larger than a small fraction per frame.
  float prev = gain;
  for (int f = 0; f < 100; f++) {
    for (int i = 0; i < kFrameSamples; i++) sum[i] = 1000;
    limitFrame(sum, nullptr, out, gain);
    CHECK(gain >= prev);
    CHECK(gain - prev < 0.4f);
    prev = gain;
  }
  CHECK(gain > 0.999f);
  CHECK_EQ(out[0], 1000);
  // Under the threshold nothing changes (bit-exact).
  for (int i = 0; i < kFrameSamples; i++) sum[i] = (i * 397) % 20000 - 10000;
  limitFrame(sum, nullptr, out, gain);
  for (int i = 0; i < kFrameSamples; i++) CHECK_EQ(out[i], sum[i]);
}

TEST(mix_ten_full_scale_talkers_limited) {
  Room room;
  room.maxTalkers = 10;
  std::vector<Leg*> legs;
  for (uint32_t i = 0; i < 11; i++) {
    legs.push_back(new Leg(cfg(i + 1), -1));
    roomAdd(room, *legs.back());
  }
  for (int t = 0; t < 5; t++) {
    for (int i = 0; i < 10; i++) fill(*legs[i], 32767, true, true);
    fill(*legs[10], 0, false, true);
    mixRoom(room);
    for (Leg* l : legs) {
      const int16_t* h = heard(room, *l);
      for (int k = 0; k < kFrameSamples; k++) {
        CHECK(h[k] > 0);
        CHECK(h[k] <= kLimiterThreshold);
      }
    }
  }
  CHECK_EQ(room.talkersMixed, 10u);
  for (Leg* l : legs) {
    roomRemove(*l);
    delete l;
  }
}

TEST(mix_saturating_primitives) {
  CHECK_EQ(clamp16(70000), 32767);
  CHECK_EQ(clamp16(-70000), -32768);
  int16_t x[2] = {32000, -32000};
  const int16_t y[2] = {1000, -1000};
  addSaturating(x, y, 2);
  CHECK_EQ(x[0], 32767);
  CHECK_EQ(x[1], -32768);
  int16_t g[3] = {1000, -1000, 20000};
  applyGain(g, 3, 2.f);
  CHECK_EQ(g[0], 2000);
  CHECK_EQ(g[1], -2000);
  CHECK_EQ(g[2], 32767);
}
