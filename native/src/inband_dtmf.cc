#include "inband_dtmf.h"

#include <spandsp.h>

#include <cstring>
#include <new>

namespace media {

namespace {
// Below this peak no DTMF tone can be there (spandsp's threshold is far
// higher): the detector is skipped while no digit is going on, which saves
// most of its cost on silent or quiet legs.
constexpr int kQuietPeak = 256;

bool quiet(const int16_t* frame, int samples) {
  int peak = 0;
  for (int i = 0; i < samples; i++) {
    const int a = frame[i] < 0 ? -frame[i] : frame[i];
    if (a > peak) peak = a;
  }
  return peak < kQuietPeak;
}
}  // namespace

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
  if (frame == nullptr || quiet(frame, samples)) {
    if (current_ == 0) return 0;  // nothing going on: skip the work
    if (frame == nullptr) frame = kSilence;
  }
  started_ = 0;
  dtmf_rx(rx_, frame, samples);
  return started_;
}

DtmfGate::DtmfGate() {
  std::memset(frames_, 0, sizeof frames_);
  for (int i = 0; i < kDtmfHoldBackFrames; i++) active_[i] = gated_[i] = false;
}

bool DtmfGate::exchange(int16_t* frame, int samples, bool active, bool gateNow) {
  if (gateNow) {
    for (int i = 0; i < kDtmfHoldBackFrames; i++) gated_[i] = true;
    hangover_ = kDtmfHangoverFrames;
  }
  bool gateThis = gateNow;
  if (!gateNow && hangover_ > 0) {
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
