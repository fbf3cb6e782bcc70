// Packet-loss concealment on decoded audio for the codecs without their own
// (G.711 at 8 kHz, G.722 at 16 kHz): the last pitch period is repeated,
// held for 10 ms then faded out over 50 ms, and the first real frame after
// a gap is cross-faded in. The same idea as spandsp's plc_*, which cannot
// be used here: it memcpy()s overlapping ranges (undefined behaviour,
// flagged by ASan). Fixed-size state; nothing allocates.
#pragma once

#include <cstdint>

namespace media {

class Concealer {
 public:
  explicit Concealer(int rate = 8000) { reset(rate); }

  // Forgets the history (a new stream, or the codec changed rate).
  void reset(int rate);
  // A frame decoded from a real packet: remembered; after a gap its start
  // is cross-faded with the concealment, so `pcm` may change.
  void keep(int16_t* pcm, int n);
  // A frame to play instead of a missing one.
  void conceal(int16_t* pcm, int n);

 private:
  static constexpr int kMaxHistory = 400;  // 25 ms at 16 kHz
  int findPitch() const;
  float nextSynthetic();

  int rate_ = 8000;
  int minPitch_ = 40;   // 5 ms (200 Hz)
  int maxPitch_ = 120;  // 15 ms (67 Hz)
  int window_ = 80;     // 10 ms compared for the pitch search
  int history_ = 200;   // window_ + maxPitch_ samples kept
  int missing_ = 0;     // samples concealed in the current gap
  int pitch_ = 0;
  int pos_ = 0;         // position in the repeated period
  int16_t hist_[kMaxHistory] = {};
  int16_t cycle_[kMaxHistory] = {};
};

}  // namespace media
