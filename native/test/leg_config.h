// The LegConfig most leg tests need: an id, a codec and its payload type, the rest left at defaults.
#pragma once

#include <cstdint>

#include "leg.h"

namespace th {

inline media::LegConfig legConfig(uint32_t id, media::Codec codec, uint8_t payloadType) {
  media::LegConfig k;
  k.id = id;
  k.codec = codec;
  k.payloadType = payloadType;
  return k;
}

}  // namespace th
