#include "jitter_buffer.h"

#include <algorithm>
#include <cstring>

namespace media {
namespace {
constexpr uint32_t kMask = JitterBuffer::kCap - 1;
inline int32_t tsDiff(uint32_t a, uint32_t b) { return static_cast<int32_t>(a - b); }
// Bits idx..idx+n-1 of one 64-bit word (b = idx & 63, b + n <= 64).
inline uint64_t wordMask(uint32_t b, uint32_t n) { return (n >= 64 ? ~0ull : ((1ull << n) - 1)) << b; }
}  // namespace

// The filled flags are a bitset (512 bytes a leg instead of 4 KiB of
// bytes): the mixer touches every leg's buffer each tick, and what it
// touches has to come from memory, so less is faster.
JitterBuffer::Fill JitterBuffer::rangeFill(uint32_t idx, int n) const {
  bool any = false, all = true;
  const uint32_t end = idx + static_cast<uint32_t>(n);
  while (idx < end) {
    const uint32_t b = idx & 63, take = std::min<uint32_t>(64 - b, end - idx);
    const uint64_t m = wordMask(b, take), w = filled_[idx >> 6] & m;
    any = any || w != 0;
    all = all && w == m;
    idx += take;
  }
  return all ? Fill::All : any ? Fill::Some : Fill::None;
}

void JitterBuffer::markRange(uint32_t idx, int n, bool on) {
  const uint32_t end = idx + static_cast<uint32_t>(n);
  while (idx < end) {
    const uint32_t b = idx & 63, take = std::min<uint32_t>(64 - b, end - idx);
    if (on) filled_[idx >> 6] |= wordMask(b, take);
    else filled_[idx >> 6] &= ~wordMask(b, take);
    idx += take;
  }
}

JitterBuffer::JitterBuffer(int prefetch, int maxDepth)
    : prefetch_(prefetch), maxDepth_(maxDepth) {
  if (maxDepth_ > kCap - 2 * kMaxPacket) maxDepth_ = kCap - 2 * kMaxPacket;
  if (prefetch_ > maxDepth_ - kFrame) prefetch_ = maxDepth_ - kFrame;
  if (prefetch_ < 0) prefetch_ = 0;
  minDelay_ = prefetchMinDelay_ = prefetch_ > kFrame ? prefetch_ - kFrame : 0;
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

void JitterBuffer::setMinimumDelay(int samples) {
  int floor = samples > prefetchMinDelay_ ? samples : prefetchMinDelay_;
  if (floor > maxDepth_ - 2 * kFrame) floor = maxDepth_ - 2 * kFrame;
  minDelay_ = floor;
  if (target_ < minDelay_) target_ = minDelay_;
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
    if (filled(idx)) sum += samples_[idx] < 0 ? -samples_[idx] : samples_[idx];
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
  while (n > 0) {
    const uint32_t idx = from & kMask;
    int seg = n < kCap - static_cast<int32_t>(idx) ? n : kCap - static_cast<int32_t>(idx);
    markRange(idx, seg, false);
    from += static_cast<uint32_t>(seg);
    n -= seg;
  }
}

bool JitterBuffer::write(uint32_t timestamp, const int16_t* samples, int count) {
  bool any = false;
  // The ring wraps at most once within a packet: two contiguous segments.
  // The usual segment is all new (nothing filled yet): copied in one go;
  // only a duplicate or overlap takes the per-sample path.
  int done = 0;
  while (done < count) {
    const uint32_t idx = (timestamp + static_cast<uint32_t>(done)) & kMask;
    int seg = count - done;
    if (seg > kCap - static_cast<int>(idx)) seg = kCap - static_cast<int>(idx);
    const size_t n = static_cast<size_t>(seg);
    if (rangeFill(idx, seg) == Fill::None) {
      std::memcpy(samples_ + idx, samples + done, n * sizeof(int16_t));
      markRange(idx, seg, true);
      any = true;
    } else {
      for (int i = 0; i < seg; i++) {
        if (filled(idx + static_cast<uint32_t>(i))) continue;
        setFilled(idx + static_cast<uint32_t>(i), true);
        samples_[idx + static_cast<uint32_t>(i)] = samples[done + i];
        any = true;
      }
    }
    done += seg;
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
  // Packets are stamped at the tick, so a sender whose packets sometimes
  // slip past a tick shows a jitter of one frame, decaying from there. A
  // target strictly between 0 and one frame would change nothing (playout
  // moves by whole frames), so a peak above a quarter frame counts as one
  // frame: the buffer then really takes the extra frame (an insertion) and
  // keeps it (the peak decays below a quarter frame in ~7 s, the frame is
  // shed when the target reaches 0, ~30 s after the last slip) instead of
  // concealing at every slip.
  if (t > kFrame / 4 && t < kFrame) t = kFrame;
  if (t < minDelay_) t = minDelay_;
  if (t > kMaxDelay) t = kMaxDelay;
  if (t > maxDepth_ - 2 * kFrame) t = maxDepth_ - 2 * kFrame;
  target_ = t;
}

bool JitterBuffer::peekNext(int16_t* out) const {
  if (state_ != State::Playing) return false;
  for (int i = 0; i < kFrame; i++) {
    const uint32_t idx = (playTs_ + static_cast<uint32_t>(i)) & kMask;
    if (!filled(idx)) return false;
    out[i] = samples_[idx];
  }
  return true;
}

int JitterBuffer::take(uint32_t from, int16_t* out) {
  // Two contiguous segments at most; a whole segment present (the usual
  // case) or absent is copied or zeroed in one go.
  int have = 0;
  int done = 0;
  while (done < kFrame) {
    const uint32_t idx = (from + static_cast<uint32_t>(done)) & kMask;
    int seg = kFrame - done;
    if (seg > kCap - static_cast<int>(idx)) seg = kCap - static_cast<int>(idx);
    const size_t n = static_cast<size_t>(seg);
    const Fill present = rangeFill(idx, seg);
    if (present == Fill::All) {
      std::memcpy(out + done, samples_ + idx, n * sizeof(int16_t));
      markRange(idx, seg, false);
      have += seg;
    } else if (present == Fill::None) {
      std::memset(out + done, 0, n * sizeof(int16_t));
    } else {
      for (int i = 0; i < seg; i++) {
        const uint32_t k = idx + static_cast<uint32_t>(i);
        if (filled(k)) {
          out[done + i] = samples_[k];
          setFilled(k, false);
          have++;
        } else {
          out[done + i] = 0;
        }
      }
    }
    done += seg;
  }
  return have;
}

JitterBuffer::Frame JitterBuffer::play(int16_t* out) {
  lastDepth_ = 0;
  lastInserted_ = false;
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
      lastInserted_ = true;
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
  const int have = take(playTs_, out);
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
