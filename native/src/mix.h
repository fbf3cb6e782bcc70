// Mixing primitives and the per-room N-1 mix.
//
// Step 1 mixes every speaking leg. The later steps slot in here:
//  - selection: gate by VAD and keep the loudest N talkers (mixRoom's first
//    loop decides who contributes);
//  - limiter on `sum` instead of the hard clamp in mixMinusOwn;
//  - shared encoding: every hearing non-contributor gets the same frame, so
//    it can be encoded once per codec.
#pragma once

#include <cstdint>

namespace media {

struct Room;

inline int16_t clamp16(int32_t v) {
  return static_cast<int16_t>(v > 32767 ? 32767 : (v < -32768 ? -32768 : v));
}

// sum[i] += frame[i]
void accumulate(int32_t* sum, const int16_t* frame, int n);
// out[i] = clamp(sum[i] - own[i]); own may be null (not contributing).
void mixMinusOwn(int16_t* out, const int32_t* sum, const int16_t* own, int n);
// dst[i] = clamp(dst[i] + src[i])
void addSaturating(int16_t* dst, const int16_t* src, int n);

// Mixes one 20 ms frame for every member of `room`: reads each leg's `in`,
// `inActive`, `speak`, `hear`; writes each leg's `out`.
void mixRoom(Room& room);

}  // namespace media
