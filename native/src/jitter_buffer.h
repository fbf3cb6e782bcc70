// Per-leg jitter buffer for 8 kHz audio, keyed by RTP timestamp at sample
// granularity so packets of any ptime (10/20/30 ms...) fill the same ring and
// playout always pulls one 20 ms frame. Preallocated; no allocation after
// construction.
//
//  - Starts playing once `prefetch` samples (default 40 ms) are buffered.
//  - Reordered packets land in their slot; duplicates are dropped; packets
//    whose time already played are dropped as late (a straddling packet keeps
//    its not-yet-played tail).
//  - Depth is bounded: when the newest sample gets more than `maxDepth`
//    (default 200 ms) ahead of playout, playout jumps forward to `prefetch`
//    behind the newest sample, so delay never grows.
//  - A missing frame is concealed: the last good frame repeated at -6 dB, then
//    -12 dB, then silence. After kUnderrunFrames missing frames with nothing
//    buffered ahead the stream is considered paused: the buffer rebases on the
//    next packet (and prefetches again) instead of concealing forever.
//  - Timestamp jumps of more than a second either way rebase the buffer
//    (a sender restart without an SSRC change).
#pragma once

#include <cstdint>

namespace media {

class JitterBuffer {
 public:
  static constexpr int kFrame = 160;   // 20 ms at 8 kHz
  static constexpr int kCap = 4096;    // ring size in samples (512 ms)
  static constexpr int kMaxPacket = 1024;
  static constexpr int kJump = 8000;   // 1 s: beyond this, rebase
  static constexpr int kUnderrunFrames = 3;

  enum class Put { Ok, Late, Duplicate, Overflow, Rebased, Invalid };
  enum class Frame { Audio, Concealed, Silence };

  explicit JitterBuffer(int prefetch = 320, int maxDepth = 1600);

  void reset();
  Put put(uint32_t timestamp, const int16_t* samples, int count);
  // Produces exactly kFrame samples into `out`.
  Frame get(int16_t* out);

  bool playing() const { return state_ == State::Playing; }
  // Samples buffered ahead of the playout point.
  int depth() const;

  uint64_t concealed = 0;
  uint64_t late = 0;
  uint64_t duplicates = 0;
  uint64_t overflows = 0;

 private:
  enum class State { Empty, Prefetch, Playing };
  void rebase(uint32_t timestamp);
  void clearRange(uint32_t from, uint32_t to);
  bool write(uint32_t timestamp, const int16_t* samples, int count);

  int prefetch_;
  int maxDepth_;
  State state_ = State::Empty;
  uint32_t playTs_ = 0;   // next timestamp to play
  uint32_t newestTs_ = 0; // one past the newest buffered sample
  int concealRun_ = 0;
  int16_t samples_[kCap];
  uint8_t filled_[kCap];
  int16_t last_[kFrame];
};

}  // namespace media
