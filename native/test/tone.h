// Measuring a test tone in decoded or mixed audio, shared by the codec tests.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace th {

// Amplitude of `f` in x[from, from+n) (Goertzel): one frequency, without an FFT.
inline double toneAmplitude(const std::vector<int16_t>& x, size_t from, size_t n, double f, int rate) {
  const double k = 2 * M_PI * f / rate, c = 2 * std::cos(k);
  double s1 = 0, s2 = 0;
  for (size_t i = from; i < from + n; i++) {
    const double s0 = x[i] + c * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  return 2 * std::sqrt(std::max(0.0, s1 * s1 + s2 * s2 - c * s1 * s2)) / static_cast<double>(n);
}

}  // namespace th
