// Per-leg encoder/decoder state. G.711 is stateless (tables in g711.h);
// G.722 (spandsp, 64 kbit/s, 16 kHz audio) keeps ADPCM state per direction,
// allocated here at leg creation on the JS thread.
#pragma once

#include <cstdint>

#include "g711.h"

struct g722_encode_state_s;
struct g722_decode_state_s;

namespace media {

class AudioCodec {
 public:
  explicit AudioCodec(Codec codec);
  ~AudioCodec();
  AudioCodec(const AudioCodec&) = delete;
  AudioCodec& operator=(const AudioCodec&) = delete;

  Codec codec() const { return codec_; }
  int rate() const { return codecRate(codec_); }
  // Samples per 20 ms frame at the codec's rate (160 or 320); the payload is
  // always 160 bytes.
  int frameSamples() const { return rate() / 50; }

  // `bytes` payload bytes -> bytes * rate/8000 samples.
  int decode(const uint8_t* in, int bytes, int16_t* out);
  // `samples` samples -> samples * 8000/rate bytes.
  int encode(const int16_t* in, int samples, uint8_t* out);

 private:
  Codec codec_;
  g722_encode_state_s* enc_ = nullptr;
  g722_decode_state_s* dec_ = nullptr;
};

}  // namespace media
