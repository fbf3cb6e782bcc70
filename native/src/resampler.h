// speexdsp resampler for one mono int16 stream (state allocated on the JS
// thread at creation; process() never allocates).
#pragma once

#include <cstdint>
#include <vector>

struct SpeexResamplerState_;

namespace media {

class Resampler {
 public:
  // quality 0..10 (speexdsp); 5 = its VoIP default.
  Resampler(uint32_t inRate, uint32_t outRate, int quality = 5);
  ~Resampler();
  Resampler(const Resampler&) = delete;
  Resampler& operator=(const Resampler&) = delete;

  // Converts `n` input samples into exactly n * outRate / inRate output
  // samples (zero-filled in the unlikely case speexdsp returns fewer).
  void process(const int16_t* in, int n, int16_t* out);
  // Forgets the history (the stream restarted or changed rooms).
  void reset();

  // Whole buffers (sound loading, on the JS thread).
  static void convert(const std::vector<int16_t>& in, uint32_t inRate, std::vector<int16_t>& out,
                      uint32_t outRate);

 private:
  SpeexResamplerState_* st_;
  uint32_t inRate_;
  uint32_t outRate_;
};

}  // namespace media
