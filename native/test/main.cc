#include <cstdio>

#include "harness.h"

int main() {
  int passed = 0, failed = 0;
  for (const th::Case& c : th::registry()) {
    const int before = th::failures();
    try {
      c.fn();
    } catch (const std::exception& e) {
      std::fprintf(stderr, "  %s: unexpected exception: %s\n", c.name, e.what());
      th::failures()++;
    }
    if (th::failures() == before) {
      passed++;
    } else {
      failed++;
      std::fprintf(stderr, "FAIL %s\n", c.name);
    }
  }
  std::printf("native: %d passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}
