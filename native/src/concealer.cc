#include "concealer.h"

#include <cstdlib>
#include <cstring>

namespace media {

void Concealer::reset(int rate) {
  rate_ = rate;
  minPitch_ = rate / 200;
  maxPitch_ = rate * 3 / 200;
  window_ = rate / 100;
  history_ = window_ + maxPitch_;
  missing_ = 0;
  pitch_ = 0;
  pos_ = 0;
  std::memset(hist_, 0, sizeof hist_);
}

int Concealer::findPitch() const {
  // Average magnitude difference between the last window and the window one
  // candidate period earlier; the best match is the period to repeat.
  const int16_t* recent = hist_ + history_ - window_;
  int best = maxPitch_;
  int64_t bestCost = -1;
  for (int p = minPitch_; p <= maxPitch_; p++) {
    const int16_t* earlier = recent - p;
    int64_t cost = 0;
    for (int i = 0; i < window_; i++) cost += std::abs(recent[i] - earlier[i]);
    if (bestCost < 0 || cost < bestCost) {
      bestCost = cost;
      best = p;
    }
  }
  return best;
}

float Concealer::nextSynthetic() {
  // Full level for 10 ms, then a linear fade to silence over 50 ms.
  const int hold = rate_ / 100;
  const int fade = rate_ / 20;
  float gain = 1.f;
  if (missing_ > hold) gain = missing_ >= hold + fade ? 0.f : 1.f - static_cast<float>(missing_ - hold) / static_cast<float>(fade);
  const float s = gain * cycle_[pos_];
  if (++pos_ == pitch_) pos_ = 0;
  return s;
}

void Concealer::keep(int16_t* pcm, int n) {
  if (missing_ > 0) {
    // Cross-fade from the concealment into the real audio over a quarter
    // period, so the seam does not click.
    const int ola = pitch_ / 4 < n ? pitch_ / 4 : n;
    for (int i = 0; i < ola; i++) {
      const float w = static_cast<float>(i + 1) / static_cast<float>(ola + 1);
      const float v = (1.f - w) * nextSynthetic() + w * pcm[i];
      missing_++;
      pcm[i] = static_cast<int16_t>(v > 32767.f ? 32767.f : v < -32768.f ? -32768.f : v);
    }
    missing_ = 0;
  }
  if (n >= history_) {
    std::memcpy(hist_, pcm + n - history_, static_cast<size_t>(history_) * sizeof(int16_t));
  } else {
    std::memmove(hist_, hist_ + n, static_cast<size_t>(history_ - n) * sizeof(int16_t));
    std::memcpy(hist_ + history_ - n, pcm, static_cast<size_t>(n) * sizeof(int16_t));
  }
}

void Concealer::conceal(int16_t* pcm, int n) {
  if (missing_ == 0) {
    // A new gap: the signal one period back is what would have come next.
    pitch_ = findPitch();
    std::memcpy(cycle_, hist_ + history_ - pitch_, static_cast<size_t>(pitch_) * sizeof(int16_t));
    pos_ = 0;
  }
  for (int i = 0; i < n; i++) {
    pcm[i] = static_cast<int16_t>(nextSynthetic());
    missing_++;
  }
}

}  // namespace media
