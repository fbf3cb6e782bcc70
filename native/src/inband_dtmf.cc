#include "inband_dtmf.h"

#include <spandsp.h>

#include <cmath>
#include <cstring>
#include <new>

namespace media {

namespace {
bool quiet(const int16_t* frame, int samples) {
  int peak = 0;
  for (int i = 0; i < samples; i++) {
    const int a = frame[i] < 0 ? -frame[i] : frame[i];
    if (a > peak) peak = a;
  }
  return peak < kDtmfQuietPeak;
}

constexpr int kTones = 8;  // 4 row (low) then 4 column (high) frequencies
constexpr double kToneHz[kTones] = {697, 770, 852, 941, 1209, 1336, 1477, 1633};
// Each tone's amplitude must reach this (-41 dBFS; spandsp wants ~-26 dBm0,
// an amplitude near 1100) ...
constexpr float kMinToneAmplitude = 300.f;
// ... the two may differ by 10 dB at most (spandsp: 8 dB / 4 dB) ...
constexpr float kMaxTwistPower = 10.f;
// ... and together they carry at least half of the frame's energy (a tone
// filling half the frame does; spandsp requires nearly all of it).
constexpr float kMinPairShare = 0.5f;

struct GoertzelCoefficients {
  float c[kTones];
  GoertzelCoefficients() {
    for (int k = 0; k < kTones; k++) c[k] = static_cast<float>(2.0 * std::cos(2.0 * M_PI * kToneHz[k] / 8000.0));
  }
};
const GoertzelCoefficients kCoef;
}  // namespace

bool looksLikeDtmfKey(const int16_t* frame, int samples) {
  if (samples <= 0) return false;
  float s1[kTones] = {}, s2[kTones] = {};
  float energy = 0.f;
  for (int i = 0; i < samples; i++) {
    const float x = frame[i];
    energy += x * x;
    for (int k = 0; k < kTones; k++) {
      const float s0 = kCoef.c[k] * s1[k] - s2[k] + x;
      s2[k] = s1[k];
      s1[k] = s0;
    }
  }
  // Energy of each tone's component in the frame: 2 |X(f)|^2 / N (a sine of
  // amplitude A over N samples has energy A^2 N / 2 and |X|^2 = (A N / 2)^2).
  float low = 0.f, high = 0.f;
  for (int k = 0; k < kTones; k++) {
    const float p = 2.f * (s1[k] * s1[k] + s2[k] * s2[k] - kCoef.c[k] * s1[k] * s2[k]) / static_cast<float>(samples);
    if (k < 4) {
      if (p > low) low = p;
    } else if (p > high) {
      high = p;
    }
  }
  const float minEnergy = kMinToneAmplitude * kMinToneAmplitude * static_cast<float>(samples) / 2.f;
  if (low < minEnergy || high < minEnergy) return false;
  if (low > kMaxTwistPower * high || high > kMaxTwistPower * low) return false;
  return low + high >= kMinPairShare * energy;
}

InbandDtmfDetector::InbandDtmfDetector() : rx_(dtmf_rx_init(nullptr, nullptr, nullptr)) {
  if (rx_ == nullptr) throw std::bad_alloc();
  dtmf_rx_set_realtime_callback(rx_, &InbandDtmfDetector::onTone, this);
}

InbandDtmfDetector::~InbandDtmfDetector() { dtmf_rx_free(rx_); }

void InbandDtmfDetector::onTone(void* self, int code, int, int) {
  auto* d = static_cast<InbandDtmfDetector*>(self);
  if (code != 0 && d->current_ == 0) d->started_ = static_cast<char>(code);
  d->current_ = static_cast<char>(code);
}

char InbandDtmfDetector::process(const int16_t* frame, int samples) {
  static const int16_t kSilence[kDtmfFrameSamples] = {};
  keyLike_ = false;
  if (frame == nullptr || quiet(frame, samples)) {
    if (current_ == 0) return 0;  // nothing going on: skip the work
    if (frame == nullptr) frame = kSilence;
  } else {
    keyLike_ = looksLikeDtmfKey(frame, samples);
  }
  started_ = 0;
  dtmf_rx(rx_, frame, samples);
  return started_;
}

DtmfGate::DtmfGate() {
  std::memset(frames_, 0, sizeof frames_);
  for (int i = 0; i < kDtmfHoldBackFrames; i++) active_[i] = gated_[i] = false;
}

bool DtmfGate::exchange(int16_t* frame, int samples, bool active, bool gateNow, bool keyLike) {
  bool gateThis = gateNow || keyLike;
  if (gateThis) {
    for (int i = 0; i < kDtmfHoldBackFrames; i++) gated_[i] = true;
    if (gateNow) hangover_ = kDtmfHangoverFrames;
    else if (hangover_ < kDtmfKeyLikeHangoverFrames) hangover_ = kDtmfKeyLikeHangoverFrames;
  } else if (hangover_ > 0) {
    hangover_--;
    gateThis = true;
  }
  // Slot head_ holds the oldest frame: swap it with the new one.
  const size_t bytes = static_cast<size_t>(samples) * sizeof(int16_t);
  int16_t tmp[kDtmfGateMaxSamples];
  std::memcpy(tmp, frames_[head_], bytes);
  std::memcpy(frames_[head_], frame, bytes);
  std::memcpy(frame, tmp, bytes);
  const bool outActive = active_[head_] && !gated_[head_];
  if (active_[head_] && gated_[head_]) framesGated++;
  if (gated_[head_]) std::memset(frame, 0, bytes);
  active_[head_] = active;
  gated_[head_] = gateThis;
  head_ = (head_ + 1) % kDtmfHoldBackFrames;
  return outActive;
}

}  // namespace media
