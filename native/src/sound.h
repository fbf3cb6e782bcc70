// Sounds: immutable mono int16 sample buffers at 8 and 16 kHz (narrowband
// and wideband legs), created on the JS thread (WAV loading with speexdsp
// resampling, tone synthesis) and only read by mixer threads.
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
  std::vector<int16_t> samples;    // 8 kHz mono
  std::vector<int16_t> samples16;  // the same at 16 kHz (empty: upsampled on demand by makeWideband)
  uint32_t durationMs() const { return static_cast<uint32_t>(samples.size() / 8); }
  const std::vector<int16_t>& at(int rate) const { return rate == 16000 ? samples16 : samples; }
};

// Fills samples16 from samples (speexdsp) when it is empty.
void makeWideband(Sound& s);

using SoundPtr = std::shared_ptr<const Sound>;

// Largest WAV file accepted (bytes) and longest sound (seconds).
constexpr size_t kMaxWavBytes = 64u * 1024u * 1024u;
constexpr size_t kMaxSoundSeconds = 3600;

// Parses a RIFF/WAVE image: PCM 8/16-bit, mu-law or A-law 8-bit, mono or
// stereo (downmixed), any rate 4-192 kHz (resampled to 8 and 16 kHz with
// speexdsp).
// Returns false with a human-readable `error` on anything malformed.
bool parseWav(const uint8_t* data, size_t size, Sound& out, std::string& error);
bool loadWavFile(const std::string& path, Sound& out, std::string& error);

// Sum of sines, each at `levelDbfs`, with 5 ms raised-cosine fade in/out.
bool makeTone(const std::vector<double>& frequencies, uint32_t durationMs, double levelDbfs,
              Sound& out, std::string& error);


}  // namespace media
