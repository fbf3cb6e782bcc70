// Sounds: immutable 8 kHz mono int16 sample buffers, created on the JS thread
// (WAV loading, tone synthesis) and only read by mixer threads.
//
// Lifetime: sounds are held by std::shared_ptr. Only the JS thread copies or
// drops those pointers: a Playback (built on the JS thread) owns references
// to its sounds, the mixer only reads samples through it, and the Playback
// travels back to the JS thread through the event ring to be freed there.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace media {

constexpr int kSampleRate = 8000;

struct Sound {
  std::vector<int16_t> samples;  // 8 kHz mono
  uint32_t durationMs() const { return static_cast<uint32_t>(samples.size() / 8); }
};

using SoundPtr = std::shared_ptr<const Sound>;

// Largest WAV file accepted (bytes) and longest sound (seconds).
constexpr size_t kMaxWavBytes = 64u * 1024u * 1024u;
constexpr size_t kMaxSoundSeconds = 3600;

// Parses a RIFF/WAVE image: PCM 8/16-bit, mu-law or A-law 8-bit, mono or
// stereo (downmixed), any rate 4-192 kHz (resampled to 8 kHz, linear).
// Returns false with a human-readable `error` on anything malformed.
bool parseWav(const uint8_t* data, size_t size, Sound& out, std::string& error);
bool loadWavFile(const std::string& path, Sound& out, std::string& error);

// Sum of sines, each at `levelDbfs`, with 5 ms raised-cosine fade in/out.
bool makeTone(const std::vector<double>& frequencies, uint32_t durationMs, double levelDbfs,
              Sound& out, std::string& error);

// Linear-interpolation resampler (adequate for prompts; replaced by
// speexdsp when wideband arrives).
void resampleLinear(const std::vector<int16_t>& in, uint32_t inRate, std::vector<int16_t>& out,
                    uint32_t outRate);

}  // namespace media
