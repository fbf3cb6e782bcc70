// In-band DTMF detection on a leg's decoded 8 kHz audio (spandsp dtmf_rx),
// plus the look-ahead gate that keeps the tones out of the room.
//
// spandsp confirms a digit after two agreeing 102-sample blocks, so a tone
// is reported 26..39 ms after its onset (measured: test_inband_dtmf.cc). A
// detector that only mutes after the fact would let those first 30-40 ms
// reach the mix, which is plainly audible; holding every leg back 40 ms to
// wait for spandsp adds 40 ms to every conversation. Instead a cheap
// per-frame classifier (Goertzel on the eight DTMF frequencies over the
// 20 ms frame, looksLikeDtmfKey) flags frames whose energy is mostly one low
// plus one high DTMF tone, and the leg's audio is held back one frame
// (kDtmfHoldBackFrames): a frame is gated when it or the frame after it
// looks like a key. A tone starting late in a frame (too little of it there
// to be flagged) fills the next frame, which is flagged, so its first
// partial frame is still caught. spandsp stays the authority for reporting
// digits, and while it (or an RFC 4733 press) says a key is going on, every
// frame is gated, plus kDtmfHangoverFrames after it ends. Gated frames reach
// the mixer as "no audio".
#pragma once

#include <cstdint>

struct dtmf_rx_state_s;

namespace media {

constexpr int kDtmfFrameSamples = 160;     // the detector runs at 8 kHz
constexpr int kDtmfGateMaxSamples = 320;   // the gate holds frames at the leg's rate
// One frame of look-ahead for the classifier (see above).
constexpr int kDtmfHoldBackFrames = 1;
constexpr int kDtmfHangoverFrames = 2;  // 40 ms after the end: ringing, decay
// After a frame the classifier flagged, one more is gated: a key's tail too
// short for the classifier (and a key too short for spandsp) stays out.
constexpr int kDtmfKeyLikeHangoverFrames = 1;

// Below this peak no DTMF tone can be in a frame (spandsp's per-tone
// threshold, about -26 dBm0, is far higher): such frames skip the
// detector while no digit is going on, and the classifier always.
constexpr int kDtmfQuietPeak = 256;

// The dual-tone classifier: true when one DTMF row tone and one column tone
// (each at least ~-41 dBFS, twist within 10 dB) carry at least half of the
// frame's energy. Deliberately more permissive than spandsp (no
// second-peak test, lower level, wider twist): a miss would leak a key into
// the room, a false hit only gates 20-40 ms of that leg. `samples` at
// 8 kHz, at most kDtmfGateMaxSamples. No allocation.
bool looksLikeDtmfKey(const int16_t* frame, int samples);

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
  // The last frame fed looks like a key (looksLikeDtmfKey), whether or not
  // spandsp has confirmed one yet.
  bool keyLike() const { return keyLike_; }

 private:
  static void onTone(void* self, int code, int level, int delay);

  dtmf_rx_state_s* rx_;
  char current_ = 0;
  char started_ = 0;
  bool keyLike_ = false;
};

// Fixed delay line of kDtmfHoldBackFrames frames with a gate flag per frame.
class DtmfGate {
 public:
  DtmfGate();
  // Pushes this tick's frame (active = it holds audio) and returns, in the
  // same buffer, the frame from kDtmfHoldBackFrames ticks ago. `gateNow`:
  // a digit is going on; the frames held back and this one are gated, and
  // the next kDtmfHangoverFrames too. `keyLike`: this frame looks like a
  // key; the frames held back and this one are gated, and the next
  // kDtmfKeyLikeHangoverFrames. Returns whether the frame handed out holds
  // audio (false when gated or when it had none).
  // `samples`: the frame's length (160 or 320), constant for a leg.
  bool exchange(int16_t* frame, int samples, bool active, bool gateNow, bool keyLike = false);
  uint64_t framesGated = 0;

 private:
  int16_t frames_[kDtmfHoldBackFrames][kDtmfGateMaxSamples];
  bool active_[kDtmfHoldBackFrames];
  bool gated_[kDtmfHoldBackFrames];
  int head_ = 0;
  int hangover_ = 0;
};

}  // namespace media
