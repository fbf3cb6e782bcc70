#include "mix.h"

#include <cstring>

#include "room.h"

namespace media {

void accumulate(int32_t* sum, const int16_t* frame, int n) {
  for (int i = 0; i < n; i++) sum[i] += frame[i];
}

void mixMinusOwn(int16_t* out, const int32_t* sum, const int16_t* own, int n) {
  if (own == nullptr) {
    for (int i = 0; i < n; i++) out[i] = clamp16(sum[i]);
  } else {
    for (int i = 0; i < n; i++) out[i] = clamp16(sum[i] - own[i]);
  }
}

void addSaturating(int16_t* dst, const int16_t* src, int n) {
  for (int i = 0; i < n; i++) dst[i] = clamp16(static_cast<int32_t>(dst[i]) + src[i]);
}

void mixRoom(Room& room) {
  std::memset(room.sum, 0, sizeof room.sum);
  for (Leg* l = room.head; l != nullptr; l = l->roomNext) {
    if (l->speak && l->inActive) accumulate(room.sum, l->in, kFrameSamples);
  }
  for (Leg* l = room.head; l != nullptr; l = l->roomNext) {
    if (!l->hear) {
      std::memset(l->out, 0, sizeof l->out);
      continue;
    }
    const bool contributes = l->speak && l->inActive;
    mixMinusOwn(l->out, room.sum, contributes ? l->in : nullptr, kFrameSamples);
  }
}

}  // namespace media
