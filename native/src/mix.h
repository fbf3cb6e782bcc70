// Mixing primitives and the per-room mix.
//
// Per tick and room (mixRoom):
//  1. selection: among members that speak, are not held, have audio and are
//     talking (leg.cc: energy with hysteresis), keep the loudest
//     `room.maxTalkers` (ranked by a peak-hold energy; a leg already in the
//     mix gets a 3 dB bonus so near-equal talkers do not flap). Selected legs
//     get `mixed = true`.
//  2. `sum` = the selected legs' input (after their input gain), 32-bit.
//  3. `room.mix` = limit(sum): the one shared mix that every hearing leg
//     outside the mix gets (encoded once per codec, see Room::sharedPayload).
//  4. each selected, hearing leg gets limit(sum - own) in its `out` (N-1),
//     with its own limiter state.
// So the mixing work of a room is bounded by maxTalkers + 1 limited frames,
// whatever the number of listeners.
#pragma once

#include <cstdint>

namespace media {

struct Room;
class Leg;
class EventSink;

inline int16_t clamp16(int32_t v) {
  return static_cast<int16_t>(v > 32767 ? 32767 : (v < -32768 ? -32768 : v));
}

// sum[i] += frame[i]
void accumulate(int32_t* sum, const int16_t* frame, int n);
// out[i] = clamp(sum[i] - own[i]); own may be null (not contributing).
void mixMinusOwn(int16_t* out, const int32_t* sum, const int16_t* own, int n);
// dst[i] = clamp(dst[i] + src[i])
void addSaturating(int16_t* dst, const int16_t* src, int n);
// x[i] = clamp(round(x[i] * gain))
void applyGain(int16_t* x, int n, float gain);

// Limiter: peak threshold -1 dBFS. A 20 ms frame of `n` samples (160 or 320) is cut into
// 1 ms blocks; each block's peak gives the gain it needs; the gain at each
// block boundary is the minimum of what the blocks on both sides need and of
// the released previous gain, and is interpolated linearly inside a block.
// So the gain drops over the 1 ms before a peak (attack), recovers with a
// 60 ms time constant (release), and no output sample exceeds the threshold:
// no clipping, no wrap-around, and (the gain being positive) no sign flips.
// `gain` carries the state between frames (1 = no reduction).
constexpr int32_t kLimiterThreshold = 29204;  // -1 dBFS
void limitFrame(const int32_t* sum, const int16_t* own, int16_t* out, float& gain, int n = 160);

// Legs that speak but are not detected talking fill the talker slots left
// free, loudest first, if their peak-hold level is at least this (dBFS,
// frame RMS re full scale): below it is line noise.
constexpr double kQuietTalkerFloorDb = -60.0;

// Picks at most room.maxTalkers candidates into `chosen` (capacity
// kMaxTalkersLimit): talking legs, loudest first, then quiet legs above
// kQuietTalkerFloorDb in the slots left; sets every member's `mixed`.
// Returns the count.
int selectTalkers(Room& room, Leg** chosen);

// Mixes one 20 ms frame for `room` (see above); with a sink, the room's
// announcement (its playback queue) is added to the shared mix and every
// N-1; then whispers; then the recorder gets the frame.
void mixRoom(Room& room, EventSink* sink = nullptr);
// Whisper: a leg with targets is never mixed; each target that hears gets
// its audio added to what it hears (own N-1, or a copy of the shared mix),
// saturating. At most kMaxWhisperersPerRoom whisperers are served per tick.
constexpr int kMaxWhisperersPerRoom = 8;
void mixWhispers(Room& room, int samples);
// Hands this tick's mix (and the speaking legs' tracks) to the recorder's ring.
void record(Room& room, int samples);

}  // namespace media
