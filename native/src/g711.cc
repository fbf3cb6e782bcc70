#include "g711.h"

namespace media {
namespace g711 {
namespace {

// Reference algorithms (Sun Microsystems' public-domain g711.c), used only to
// build the lookup tables once at start-up.
int searchSegment(int val, const int* table, int size) {
  for (int i = 0; i < size; i++) {
    if (val <= table[i]) return i;
  }
  return size;
}

const int kSegAend[8] = {0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF};
const int kSegUend[8] = {0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF};

uint8_t refLinearToAlaw(int pcm) {
  pcm = pcm >> 3;  // 13-bit
  int mask;
  if (pcm >= 0) {
    mask = 0xD5;
  } else {
    mask = 0x55;
    pcm = -pcm - 1;
  }
  const int seg = searchSegment(pcm, kSegAend, 8);
  if (seg >= 8) return static_cast<uint8_t>(0x7F ^ mask);
  int aval = seg << 4;
  if (seg < 2) {
    aval |= (pcm >> 1) & 0x0F;
  } else {
    aval |= (pcm >> seg) & 0x0F;
  }
  return static_cast<uint8_t>(aval ^ mask);
}

int refAlawToLinear(uint8_t a) {
  a ^= 0x55;
  int t = (a & 0x0F) << 4;
  const int seg = (a & 0x70) >> 4;
  switch (seg) {
    case 0: t += 8; break;
    case 1: t += 0x108; break;
    default: t += 0x108; t <<= seg - 1;
  }
  return (a & 0x80) ? t : -t;
}

constexpr int kBias = 0x84 >> 2;  // 33, on 14-bit samples
constexpr int kClip = 8159;

uint8_t refLinearToUlaw(int pcm) {
  pcm = pcm >> 2;  // 14-bit
  int mask;
  if (pcm < 0) {
    pcm = -pcm;
    mask = 0x7F;
  } else {
    mask = 0xFF;
  }
  if (pcm > kClip) pcm = kClip;
  pcm += kBias;
  const int seg = searchSegment(pcm, kSegUend, 8);
  if (seg >= 8) return static_cast<uint8_t>(0x7F ^ mask);
  const int uval = (seg << 4) | ((pcm >> (seg + 1)) & 0x0F);
  return static_cast<uint8_t>(uval ^ mask);
}

int refUlawToLinear(uint8_t u) {
  u = static_cast<uint8_t>(~u);
  int t = ((u & 0x0F) << 3) + 0x84;
  t <<= (static_cast<unsigned>(u) & 0x70) >> 4;
  return (u & 0x80) ? (0x84 - t) : (t - 0x84);
}

struct Tables {
  uint8_t ulawEnc[1 << 14];  // indexed by 14-bit sample
  uint8_t alawEnc[1 << 13];  // indexed by 13-bit sample
  int16_t ulawDec[256];
  int16_t alawDec[256];

  Tables() {
    for (int i = 0; i < (1 << 14); i++) {
      const int s14 = (i & 0x2000) ? i - (1 << 14) : i;  // sign-extend
      ulawEnc[i] = refLinearToUlaw(s14 * 4);
    }
    for (int i = 0; i < (1 << 13); i++) {
      const int s13 = (i & 0x1000) ? i - (1 << 13) : i;
      alawEnc[i] = refLinearToAlaw(s13 * 8);
    }
    for (int i = 0; i < 256; i++) {
      ulawDec[i] = static_cast<int16_t>(refUlawToLinear(static_cast<uint8_t>(i)));
      alawDec[i] = static_cast<int16_t>(refAlawToLinear(static_cast<uint8_t>(i)));
    }
  }
};

const Tables& tables() {
  static const Tables t;
  return t;
}

// Forces table construction during static initialisation, not on the media
// path.
[[maybe_unused]] const Tables& kWarm = tables();

}  // namespace

uint8_t linearToUlaw(int16_t s) {
  return tables().ulawEnc[(static_cast<uint16_t>(s) >> 2) & 0x3FFF];
}
int16_t ulawToLinear(uint8_t c) { return tables().ulawDec[c]; }
uint8_t linearToAlaw(int16_t s) {
  return tables().alawEnc[(static_cast<uint16_t>(s) >> 3) & 0x1FFF];
}
int16_t alawToLinear(uint8_t c) { return tables().alawDec[c]; }

void encode(Codec codec, const int16_t* in, uint8_t* out, size_t n) {
  const Tables& t = tables();
  if (codec == Codec::PCMU) {
    for (size_t i = 0; i < n; i++) out[i] = t.ulawEnc[(static_cast<uint16_t>(in[i]) >> 2) & 0x3FFF];
  } else {
    for (size_t i = 0; i < n; i++) out[i] = t.alawEnc[(static_cast<uint16_t>(in[i]) >> 3) & 0x1FFF];
  }
}

void decode(Codec codec, const uint8_t* in, int16_t* out, size_t n) {
  const int16_t* dec = codec == Codec::PCMU ? tables().ulawDec : tables().alawDec;
  for (size_t i = 0; i < n; i++) out[i] = dec[in[i]];
}

}  // namespace g711
}  // namespace media
