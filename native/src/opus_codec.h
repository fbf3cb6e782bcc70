// Opus (libopus) for one leg, run directly at 16 kHz mono: the rate of a
// wideband room, so neither direction needs a resampler (RFC 7587 lets a
// mono 16 kHz stream travel as opus/48000/2; the RTP clock stays 48 kHz).
// Encoder and decoder are created on the JS thread; encode, decode and
// concealment never allocate.
#pragma once

#include <cstdint>

struct OpusEncoder;
struct OpusDecoder;

namespace media {

class OpusCodec {
 public:
  static constexpr int kRate = 16000;
  static constexpr int kFrameSamples = 320;  // 20 ms at 16 kHz
  static constexpr int kRtpTicksPerFrame = 960;  // 20 ms on the 48 kHz RTP clock
  // Largest payload we write (about 128 kbit/s at 20 ms; we ask for 32).
  static constexpr int kMaxPayload = 318;

  OpusCodec();  // throws std::bad_alloc / std::runtime_error
  ~OpusCodec();
  OpusCodec(const OpusCodec&) = delete;
  OpusCodec& operator=(const OpusCodec&) = delete;

  // Fresh state (a new stream).
  void reset();
  // One 20 ms frame (320 samples) -> payload bytes written, or <= 0 on error.
  int encode(const int16_t* pcm, uint8_t* out, int maxBytes);
  // One packet -> 320 samples; false when it is not one 20 ms frame of
  // valid Opus (then `pcm` holds concealment instead).
  bool decode(const uint8_t* payload, int bytes, int16_t* pcm);
  // A lost frame: the decoder's own concealment (PLC), or the in-band FEC
  // copy carried by the next packet when it is at hand.
  void conceal(int16_t* pcm, const uint8_t* nextPayload = nullptr, int nextBytes = 0);

  uint64_t fecRecovered = 0;  // lost frames rebuilt from the next packet's FEC

 private:
  OpusEncoder* enc_ = nullptr;
  OpusDecoder* dec_ = nullptr;
};

}  // namespace media
