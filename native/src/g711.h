// ITU-T G.711 mu-law (PCMU) and A-law (PCMA): table lookups both ways.
#pragma once

#include <cstddef>
#include <cstdint>

namespace media {

// G722 and Opus are not G.711, but the enum lives here with the codecs'
// common facts; the per-leg codec state is in audio_codec.h.
enum class Codec : uint8_t { PCMU = 0, PCMA = 1, G722 = 2, Opus = 3 };

// Audio sample rate of a codec as the leg runs it (G.722: 16 kHz audio on an
// 8 kHz RTP clock, RFC 3551 4.5.2; Opus: run at 16 kHz, wideband like G.722).
inline int codecRate(Codec c) { return c == Codec::G722 || c == Codec::Opus ? 16000 : 8000; }
// RTP clock ticks per 20 ms frame (Opus: 48 kHz clock, RFC 7587).
inline uint32_t rtpTicksPerFrame(Codec c) { return c == Codec::Opus ? 960 : 160; }
// Codecs with state in each direction: every leg encodes its own stream.
inline bool codecStateful(Codec c) { return c == Codec::G722 || c == Codec::Opus; }

namespace g711 {

uint8_t linearToUlaw(int16_t sample);
int16_t ulawToLinear(uint8_t code);
uint8_t linearToAlaw(int16_t sample);
int16_t alawToLinear(uint8_t code);

// The code of a zero sample (0xFF for PCMU, 0xD5 for PCMA).
inline uint8_t silence(Codec codec) { return codec == Codec::PCMU ? 0xFF : 0xD5; }

void encode(Codec codec, const int16_t* in, uint8_t* out, size_t n);
void decode(Codec codec, const uint8_t* in, int16_t* out, size_t n);

}  // namespace g711
}  // namespace media
