// Per-leg jitter buffer for 8 kHz audio, keyed by RTP timestamp at sample
// granularity so packets of any ptime (10/20/30 ms...) fill the same ring and
// playout always pulls one 20 ms frame. Preallocated; no allocation after
// construction.
//
//  - Adaptive delay. The buffer keeps its own clock, advanced one frame per
//    get() (the mixer tick), and stamps each packet with it on arrival
//    (packets are read at the start of each tick). A packet's transit is
//    arrival - timestamp; the base is the smallest transit of the last
//    0.5-1 s (two rotating windows, so it follows sender clock drift both
//    ways), and a packet's jitter is its transit above the base. The target
//    delay (beyond the base) follows the peak jitter: up at once on a spike,
//    down by ~0.4 % per frame (half-life ~3.5 s), within [prefetch - 20 ms,
//    kMaxDelay]. Each tick the playout point is compared with where the
//    target puts it: a frame ahead or more, one frame is inserted (playout
//    holds still); a frame behind or more, one frame is dropped. Both wait
//    for a quiet frame (insertions up to 0.5 s, drops up to 3 s) unless the
//    error is large (2 / 5 frames), so adjustments land in pauses. Clock drift of the sender thus costs a
//    dropped or inserted frame every few seconds instead of a delay that
//    grows or an underrun.
//  - Starts playing once target + 20 ms (initially `prefetch`, default 40 ms)
//    is buffered.
//  - Reordered packets land in their slot; duplicates are dropped; packets
//    whose time already played are dropped as late (a straddling packet keeps
//    its not-yet-played tail).
//  - Depth is bounded: when the newest sample gets more than `maxDepth`
//    (default 200 ms) ahead of playout, playout jumps forward to target +
//    20 ms behind the newest sample, so delay never grows.
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
  static constexpr int kMaxDelay = 1280;      // target delay cap (160 ms)
  static constexpr int kBaseWindow = 25;      // packets per transit-minimum window (0.5 s)
  static constexpr int kMaxQuietWait = 25;    // frames an insertion waits for a quiet frame
  static constexpr int kMaxQuietWaitDrop = 150;  // ... a drop (3 s: it is not urgent)
  static constexpr int kQuietAbs = 300;       // mean |sample| below this: quiet (~-40 dBFS)
  // 20 ms: a steady stream plays each frame at the tick it is read (minimum
  // target 0); any arrival jitter raises the target (see updateTarget).
  static constexpr int kDefaultPrefetch = kFrame;

  enum class Put { Ok, Late, Duplicate, Overflow, Rebased, Invalid };
  enum class Frame { Audio, Concealed, Silence };

  explicit JitterBuffer(int prefetch = kDefaultPrefetch, int maxDepth = 1600);

  void reset();
  // A floor under the adaptive target (never below the prefetch's own):
  // Opus legs keep one frame so in-band FEC finds the next packet when one
  // is lost. Raising it takes effect at once (one inserted frame).
  void setMinimumDelay(int samples);
  Put put(uint32_t timestamp, const int16_t* samples, int count);
  // Produces exactly kFrame samples into `out`.
  Frame get(int16_t* out);

  bool playing() const { return state_ == State::Playing; }
  // Samples buffered ahead of the playout point.
  int depth() const;
  // Target delay beyond the base transit, in samples.
  int targetDelay() const { return target_; }
  // The last frame get() returned as Audio was an insertion (playout held
  // still: a copy of the previous frame), which the caller may conceal
  // better on decoded audio.
  bool lastInserted() const { return lastInserted_; }
  // The next frame to play, when it is all buffered (without consuming it):
  // lets a codec conceal a lost frame from the next packet (Opus FEC).
  bool peekNext(int16_t* out) const;
  // Depth when the last frame was played (samples buffered, that frame
  // included): the delay the buffer adds.
  int playoutDepth() const { return lastDepth_; }

  uint64_t concealed = 0;
  uint64_t late = 0;
  uint64_t duplicates = 0;
  uint64_t overflows = 0;
  uint64_t inserted = 0;  // frames played without advancing (delay grew)
  uint64_t dropped = 0;   // frames skipped (delay shrank)

 private:
  enum class State { Empty, Prefetch, Playing };
  void rebase(uint32_t timestamp);
  void clearRange(uint32_t from, uint32_t to);
  bool write(uint32_t timestamp, const int16_t* samples, int count);
  // Moves the frame at `from` out of the ring into `out` (missing samples
  // 0); returns how many samples were there.
  int take(uint32_t from, int16_t* out);
  // The filled bitset; ranges do not wrap (idx + n <= kCap).
  bool filled(uint32_t idx) const { return (filled_[idx >> 6] >> (idx & 63)) & 1u; }
  void setFilled(uint32_t idx, bool on) {
    if (on) filled_[idx >> 6] |= 1ull << (idx & 63);
    else filled_[idx >> 6] &= ~(1ull << (idx & 63));
  }
  enum class Fill { None, Some, All };
  Fill rangeFill(uint32_t idx, int n) const;
  void markRange(uint32_t idx, int n, bool on);
  Frame play(int16_t* out);  // get() without the clock and target update
  void observeArrival(uint32_t timestamp);
  void updateTarget();
  void resetBase();
  // Where playout should be now minus where it is (samples); 0 without a base.
  int32_t playoutError() const;
  bool frameQuiet(uint32_t from) const;  // the buffered frame at `from`
  bool lastQuiet() const;

  int prefetch_;
  int maxDepth_;
  State state_ = State::Empty;
  uint32_t playTs_ = 0;   // next timestamp to play
  uint32_t newestTs_ = 0; // one past the newest buffered sample
  int concealRun_ = 0;
  // adaptive delay
  uint32_t clock_ = 0;     // arrival clock in samples, +kFrame per get()
  bool haveBase_ = false;
  bool havePrev_ = false;
  uint32_t minCur_ = 0;    // smallest transit of the current window
  uint32_t minPrev_ = 0;   // ... of the previous window
  int winCount_ = 0;
  int32_t peakQ8_ = 0;     // peak jitter, samples * 256
  int minDelay_;
  int prefetchMinDelay_;
  int target_;
  int waited_ = 0;         // frames an adjustment has waited for quiet
  int lastDepth_ = 0;
  bool lastInserted_ = false;
  int16_t samples_[kCap];
  uint64_t filled_[kCap / 64];  // bit per sample: present in the ring
  int16_t last_[kFrame];
};

}  // namespace media
