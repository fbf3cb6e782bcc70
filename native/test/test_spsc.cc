#include <thread>

#include "harness.h"
#include "spsc_ring.h"

using namespace media;

TEST(spsc_fifo_and_full) {
  SpscRing<int, 4> r;
  CHECK(r.empty());
  for (int i = 0; i < 4; i++) CHECK(r.push(i));
  CHECK(!r.push(99));
  int v = -1;
  for (int i = 0; i < 4; i++) {
    CHECK(r.pop(v));
    CHECK_EQ(v, i);
  }
  CHECK(!r.pop(v));
}

TEST(spsc_two_threads) {
  static SpscRing<uint64_t, 1024> r;
  const uint64_t n = 1000000;
  std::thread producer([&] {
    for (uint64_t i = 0; i < n; i++) {
      while (!r.push(i)) std::this_thread::yield();
    }
  });
  uint64_t expect = 0;
  bool ordered = true;
  while (expect < n) {
    uint64_t v;
    if (r.pop(v)) {
      if (v != expect) ordered = false;
      expect++;
    } else {
      std::this_thread::yield();
    }
  }
  producer.join();
  CHECK(ordered);
}
