// In-band DTMF detection on a leg's decoded 8 kHz audio (spandsp dtmf_rx),
// plus the hold-back gate that keeps the tones out of the room.
//
// spandsp confirms a digit after two agreeing 102-sample blocks, so a tone
// is reported 26..39 ms after its onset (measured: test_inband_dtmf.cc). A
// detector that only mutes after the fact would let those first 30-40 ms
// reach the mix, which is plainly audible. So every leg's audio is held back
// kDtmfHoldBackFrames frames before the mixer sees it; when a digit (in-band
// or RFC 4733) is detected, every frame still held back is gated, and so is
// every frame that arrives while the digit lasts plus kDtmfHangoverFrames
// after it ends. Gated frames reach the mixer as "no audio".
#pragma once

#include <cstdint>

struct dtmf_rx_state_s;

namespace media {

constexpr int kDtmfFrameSamples = 160;     // the detector runs at 8 kHz
constexpr int kDtmfGateMaxSamples = 320;   // the gate holds frames at the leg's rate
// 2 frames: the worst case is a tone starting on the last sample of a frame
// and confirmed 39 ms later, i.e. at most two frames after its first one.
constexpr int kDtmfHoldBackFrames = 2;
constexpr int kDtmfHangoverFrames = 2;  // 40 ms after the end: ringing, decay

class InbandDtmfDetector {
 public:
  // Allocates the spandsp state (JS thread, at leg creation).
  InbandDtmfDetector();
  ~InbandDtmfDetector();
  InbandDtmfDetector(const InbandDtmfDetector&) = delete;
  InbandDtmfDetector& operator=(const InbandDtmfDetector&) = delete;

  // Feeds one frame; returns the digit whose press started in it, or 0.
  // `frame` null: no audio this tick (a digit in progress then ends).
  char process(const int16_t* frame, int samples);
  // A digit is being received right now.
  bool active() const { return current_ != 0; }

 private:
  static void onTone(void* self, int code, int level, int delay);

  dtmf_rx_state_s* rx_;
  char current_ = 0;
  char started_ = 0;
};

// Fixed delay line of kDtmfHoldBackFrames frames with a gate flag per frame.
class DtmfGate {
 public:
  DtmfGate();
  // Pushes this tick's frame (active = it holds audio) and returns, in the
  // same buffer, the frame from kDtmfHoldBackFrames ticks ago. `gateNow`:
  // a digit is going on; the frames held back and this one are gated, and
  // the next kDtmfHangoverFrames too. Returns whether the frame handed out
  // holds audio (false when gated or when it had none).
  // `samples`: the frame's length (160 or 320), constant for a leg.
  bool exchange(int16_t* frame, int samples, bool active, bool gateNow);
  uint64_t framesGated = 0;

 private:
  int16_t frames_[kDtmfHoldBackFrames][kDtmfGateMaxSamples];
  bool active_[kDtmfHoldBackFrames];
  bool gated_[kDtmfHoldBackFrames];
  int head_ = 0;
  int hangover_ = 0;
};

}  // namespace media
