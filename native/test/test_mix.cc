#include <cstring>

#include "harness.h"
#include "leg.h"
#include "mix.h"
#include "room.h"

using namespace media;

namespace {
void fill(Leg& l, int16_t v, bool speak, bool hear) {
  for (int i = 0; i < kFrameSamples; i++) l.in[i] = v;
  l.inActive = true;
  l.speak = speak;
  l.hear = hear;
}
LegConfig cfg(uint32_t id) {
  LegConfig c;
  c.id = id;
  return c;
}
}  // namespace

TEST(mix_n_minus_one) {
  Room room;
  Leg a(cfg(1), -1), b(cfg(2), -1), c(cfg(3), -1), d(cfg(4), -1);
  roomAdd(room, a);
  roomAdd(room, b);
  roomAdd(room, c);
  roomAdd(room, d);
  fill(a, 100, true, true);
  fill(b, 20, true, true);
  fill(c, 3, true, false);     // deaf
  fill(d, 5000, false, true);  // listener: not mixed
  mixRoom(room);
  CHECK_EQ(a.out[0], 23);
  CHECK_EQ(b.out[5], 103);
  CHECK_EQ(c.out[7], 0);
  CHECK_EQ(d.out[159], 123);
  CHECK_EQ(room.members, 4u);
  roomRemove(b);
  CHECK_EQ(room.members, 3u);
  CHECK(b.room == nullptr);
  mixRoom(room);
  CHECK_EQ(a.out[0], 3);
  CHECK_EQ(d.out[0], 103);
}

TEST(mix_inactive_not_mixed) {
  Room room;
  Leg a(cfg(1), -1), b(cfg(2), -1);
  roomAdd(room, a);
  roomAdd(room, b);
  fill(a, 100, true, true);
  fill(b, 50, true, true);
  b.inActive = false;  // nothing received
  mixRoom(room);
  CHECK_EQ(a.out[0], 0);
  CHECK_EQ(b.out[0], 100);
}

TEST(mix_saturates_without_wrap) {
  Room room;
  Leg a(cfg(1), -1), b(cfg(2), -1), c(cfg(3), -1), d(cfg(4), -1);
  roomAdd(room, a);
  roomAdd(room, b);
  roomAdd(room, c);
  roomAdd(room, d);
  fill(a, 30000, true, true);
  fill(b, 30000, true, true);
  fill(c, 30000, true, true);
  fill(d, -32768, false, true);
  mixRoom(room);
  CHECK_EQ(a.out[0], 32767);
  CHECK_EQ(d.out[0], 32767);
  fill(a, -30000, true, true);
  fill(b, -30000, true, true);
  fill(c, -30000, true, true);
  mixRoom(room);
  CHECK_EQ(a.out[0], -32768);
  CHECK_EQ(d.out[0], -32768);
  CHECK_EQ(clamp16(70000), 32767);
  CHECK_EQ(clamp16(-70000), -32768);
  int16_t x[2] = {32000, -32000};
  const int16_t y[2] = {1000, -1000};
  addSaturating(x, y, 2);
  CHECK_EQ(x[0], 32767);
  CHECK_EQ(x[1], -32768);
}
