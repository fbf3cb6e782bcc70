#include "jitter_buffer.h"

#include <cstring>

namespace media {
namespace {
constexpr uint32_t kMask = JitterBuffer::kCap - 1;
inline int32_t tsDiff(uint32_t a, uint32_t b) { return static_cast<int32_t>(a - b); }
}  // namespace

JitterBuffer::JitterBuffer(int prefetch, int maxDepth)
    : prefetch_(prefetch), maxDepth_(maxDepth) {
  if (maxDepth_ > kCap - 2 * kMaxPacket) maxDepth_ = kCap - 2 * kMaxPacket;
  if (prefetch_ > maxDepth_ - kFrame) prefetch_ = maxDepth_ - kFrame;
  if (prefetch_ < 0) prefetch_ = 0;
  minDelay_ = prefetch_ > kFrame ? prefetch_ - kFrame : 0;
  target_ = minDelay_;
  std::memset(samples_, 0, sizeof samples_);
  std::memset(filled_, 0, sizeof filled_);
  std::memset(last_, 0, sizeof last_);
}

void JitterBuffer::reset() {
  std::memset(filled_, 0, sizeof filled_);
  state_ = State::Empty;
  concealRun_ = 0;
  resetBase();
}

void JitterBuffer::resetBase() {
  haveBase_ = havePrev_ = false;
  winCount_ = 0;
  waited_ = 0;
}

void JitterBuffer::observeArrival(uint32_t timestamp) {
  const uint32_t transit = clock_ - timestamp;
  if (!haveBase_) {
    haveBase_ = true;
    minCur_ = transit;
    winCount_ = 0;
  } else if (tsDiff(transit, minCur_) < 0) {
    minCur_ = transit;
  }
  uint32_t base = minCur_;
  if (havePrev_ && tsDiff(minPrev_, base) < 0) base = minPrev_;
  int32_t jitter = tsDiff(transit, base);
  if (jitter > kMaxDelay) jitter = kMaxDelay;
  if (jitter * 256 > peakQ8_) {
    peakQ8_ = jitter * 256;
    updateTarget();  // a spike raises the target at once
  }
  if (++winCount_ >= kBaseWindow) {
    minPrev_ = minCur_;
    havePrev_ = true;
    minCur_ = transit;
    winCount_ = 0;
  }
}

int32_t JitterBuffer::playoutError() const {
  if (!haveBase_) return 0;
  uint32_t base = minCur_;
  if (havePrev_ && tsDiff(minPrev_, base) < 0) base = minPrev_;
  const uint32_t desired = clock_ - base - static_cast<uint32_t>(target_);
  return tsDiff(playTs_, desired);
}

bool JitterBuffer::frameQuiet(uint32_t from) const {
  int64_t sum = 0;
  for (int i = 0; i < kFrame; i++) {
    const uint32_t idx = (from + static_cast<uint32_t>(i)) & kMask;
    if (filled_[idx]) sum += samples_[idx] < 0 ? -samples_[idx] : samples_[idx];
  }
  return sum < static_cast<int64_t>(kQuietAbs) * kFrame;
}

bool JitterBuffer::lastQuiet() const {
  int64_t sum = 0;
  for (int i = 0; i < kFrame; i++) sum += last_[i] < 0 ? -last_[i] : last_[i];
  return sum < static_cast<int64_t>(kQuietAbs) * kFrame;
}

int JitterBuffer::depth() const {
  if (state_ == State::Empty) return 0;
  const int32_t d = tsDiff(newestTs_, playTs_);
  return d > 0 ? d : 0;
}

void JitterBuffer::rebase(uint32_t timestamp) {
  std::memset(filled_, 0, sizeof filled_);
  resetBase();
  state_ = State::Prefetch;
  playTs_ = timestamp;
  newestTs_ = timestamp;
  concealRun_ = 0;
}

void JitterBuffer::clearRange(uint32_t from, uint32_t to) {
  int32_t n = tsDiff(to, from);
  if (n <= 0) return;
  if (n >= kCap) {
    std::memset(filled_, 0, sizeof filled_);
    return;
  }
  for (int32_t i = 0; i < n; i++) filled_[(from + static_cast<uint32_t>(i)) & kMask] = 0;
}

bool JitterBuffer::write(uint32_t timestamp, const int16_t* samples, int count) {
  bool any = false;
  for (int i = 0; i < count; i++) {
    const uint32_t idx = (timestamp + static_cast<uint32_t>(i)) & kMask;
    if (filled_[idx]) continue;
    filled_[idx] = 1;
    samples_[idx] = samples[i];
    any = true;
  }
  const uint32_t end = timestamp + static_cast<uint32_t>(count);
  if (tsDiff(end, newestTs_) > 0) newestTs_ = end;
  return any;
}

JitterBuffer::Put JitterBuffer::put(uint32_t timestamp, const int16_t* samples, int count) {
  if (samples == nullptr || count <= 0 || count > kMaxPacket) return Put::Invalid;
  Put result = Put::Ok;
  if (state_ == State::Empty) {
    rebase(timestamp);
    observeArrival(timestamp);
    write(timestamp, samples, count);
    return Put::Ok;
  }
  int32_t d = tsDiff(timestamp, playTs_);
  if (d > kJump || d < -kJump) {
    rebase(timestamp);
    observeArrival(timestamp);
    write(timestamp, samples, count);
    return Put::Rebased;
  }
  observeArrival(timestamp);
  if (d < 0) {
    if (state_ == State::Prefetch && tsDiff(newestTs_, timestamp) <= maxDepth_) {
      // Reordered at stream start: nothing played yet, so move playout back.
      playTs_ = timestamp;
      d = 0;
    } else {
      late++;
      if (d + count <= 0) return Put::Late;
      // Keep the part that has not been played yet.
      samples += -d;
      count += d;
      timestamp = playTs_;
      d = 0;
      result = Put::Late;
    }
  }
  const uint32_t end = timestamp + static_cast<uint32_t>(count);
  if (tsDiff(end, playTs_) > maxDepth_) {
    // Too deep: skip playout forward so that target + 1 frame stay queued.
    const uint32_t newPlay = end - static_cast<uint32_t>(target_ + kFrame);
    clearRange(playTs_, newPlay);
    playTs_ = newPlay;
    if (tsDiff(newestTs_, playTs_) < 0) newestTs_ = playTs_;
    overflows++;
    result = Put::Overflow;
    if (tsDiff(timestamp, playTs_) < 0) {
      const int32_t cut = tsDiff(playTs_, timestamp);
      samples += cut;
      count -= cut;
      timestamp = playTs_;
    }
  }
  if (!write(timestamp, samples, count) && result == Put::Ok) {
    duplicates++;
    return Put::Duplicate;
  }
  return result;
}

JitterBuffer::Frame JitterBuffer::get(int16_t* out) {
  const Frame f = play(out);
  clock_ += kFrame;
  // Peak jitter decays ~0.4 % per frame: the target shrinks over seconds.
  peakQ8_ -= peakQ8_ >> 8;
  updateTarget();
  return f;
}

void JitterBuffer::updateTarget() {
  int t = peakQ8_ >> 8;
  if (t < minDelay_) t = minDelay_;
  if (t > kMaxDelay) t = kMaxDelay;
  if (t > maxDepth_ - 2 * kFrame) t = maxDepth_ - 2 * kFrame;
  target_ = t;
}

JitterBuffer::Frame JitterBuffer::play(int16_t* out) {
  lastDepth_ = 0;
  if (state_ == State::Empty) {
    std::memset(out, 0, kFrame * sizeof(int16_t));
    return Frame::Silence;
  }
  if (state_ == State::Prefetch) {
    // Start when the clock says the first frame is due (it is here), or at
    // the latest once target + 1 frame is buffered.
    const bool due = haveBase_ && playoutError() <= 0 && depth() >= kFrame;
    if (!due && tsDiff(newestTs_, playTs_) < target_ + kFrame) {
      std::memset(out, 0, kFrame * sizeof(int16_t));
      return Frame::Silence;
    }
    state_ = State::Playing;
    waited_ = 0;
  }
  lastDepth_ = depth();
  const int32_t error = playoutError();
  if (error >= kFrame) {
    // Playing too early for the target: hold playout one frame (the delay
    // grows by 20 ms). Urgent at two frames, else in a quiet moment.
    if (error >= 2 * kFrame || lastQuiet() || ++waited_ > kMaxQuietWait) {
      waited_ = 0;
      inserted++;
      if (lastQuiet()) {
        std::memcpy(out, last_, sizeof last_);
      } else {
        for (int i = 0; i < kFrame; i++) out[i] = static_cast<int16_t>(last_[i] >> 1);
      }
      return Frame::Audio;
    }
  } else if (error <= -kFrame) {
    // Playing later than needed: skip one frame. Nothing is at risk, so it
    // waits longer for a quiet frame, unless the excess is large.
    if (error <= -5 * kFrame || frameQuiet(playTs_) || ++waited_ > kMaxQuietWaitDrop) {
      waited_ = 0;
      dropped++;
      clearRange(playTs_, playTs_ + kFrame);
      playTs_ += kFrame;
    }
  } else {
    waited_ = 0;
  }
  int have = 0;
  for (int i = 0; i < kFrame; i++) {
    const uint32_t idx = (playTs_ + static_cast<uint32_t>(i)) & kMask;
    if (filled_[idx]) {
      out[i] = samples_[idx];
      filled_[idx] = 0;
      have++;
    } else {
      out[i] = 0;
    }
  }
  playTs_ += kFrame;
  if (have > 0) {
    concealRun_ = 0;
    std::memcpy(last_, out, sizeof last_);
    return Frame::Audio;
  }
  // Nothing for this frame: conceal.
  concealRun_++;
  const bool nothingAhead = tsDiff(newestTs_, playTs_) <= 0;
  if (concealRun_ <= 2) {
    const int shift = concealRun_;  // -6 dB, then -12 dB
    for (int i = 0; i < kFrame; i++) out[i] = static_cast<int16_t>(last_[i] >> shift);
  }  // else: out already silent
  concealed++;
  if (nothingAhead && concealRun_ >= kUnderrunFrames) {
    // The sender paused or stopped: rebase on its next packet.
    state_ = State::Empty;
    concealRun_ = 0;
  }
  return Frame::Concealed;
}

}  // namespace media
