#include "sound.h"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <algorithm>

#include "g711.h"
#include "resampler.h"

namespace media {
namespace {

uint32_t rd32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) | (static_cast<uint32_t>(p[1]) << 8) |
         (static_cast<uint32_t>(p[2]) << 16) | (static_cast<uint32_t>(p[3]) << 24);
}
uint16_t rd16(const uint8_t* p) { return static_cast<uint16_t>(p[0] | (p[1] << 8)); }

constexpr uint16_t kFmtPcm = 1;
constexpr uint16_t kFmtAlaw = 6;
constexpr uint16_t kFmtUlaw = 7;
constexpr uint16_t kFmtExtensible = 0xFFFE;

}  // namespace

void makeWideband(Sound& s) {
  if (s.samples16.empty() && !s.samples.empty()) Resampler::convert(s.samples, kSampleRate, s.samples16, 16000);
}

bool parseWav(const uint8_t* data, size_t size, Sound& out, std::string& error) {
  if (data == nullptr || size < 12) {
    error = "not a WAV file: too short for a RIFF header";
    return false;
  }
  if (std::memcmp(data, "RIFF", 4) != 0 || std::memcmp(data + 8, "WAVE", 4) != 0) {
    error = "not a WAV file: missing RIFF/WAVE signature";
    return false;
  }
  if (size > kMaxWavBytes) {
    error = "WAV file too large";
    return false;
  }
  bool haveFmt = false;
  uint16_t format = 0, channels = 0, bits = 0, blockAlign = 0;
  uint32_t rate = 0;
  const uint8_t* pcm = nullptr;
  size_t pcmSize = 0;
  size_t off = 12;
  while (off + 8 <= size) {
    const uint8_t* ck = data + off;
    const uint32_t ckSize = rd32(ck + 4);
    const size_t bodyOff = off + 8;
    if (ckSize > size - bodyOff) {
      error = "malformed WAV: chunk '" + std::string(reinterpret_cast<const char*>(ck), 4) +
              "' runs past the end of the file (truncated?)";
      return false;
    }
    const uint8_t* body = data + bodyOff;
    if (std::memcmp(ck, "fmt ", 4) == 0) {
      if (ckSize < 16) {
        error = "malformed WAV: fmt chunk too short";
        return false;
      }
      format = rd16(body);
      channels = rd16(body + 2);
      rate = rd32(body + 4);
      blockAlign = rd16(body + 12);
      bits = rd16(body + 14);
      if (format == kFmtExtensible) {
        if (ckSize < 40) {
          error = "malformed WAV: WAVE_FORMAT_EXTENSIBLE fmt chunk too short";
          return false;
        }
        format = rd16(body + 24);  // first two bytes of the sub-format GUID
      }
      haveFmt = true;
    } else if (std::memcmp(ck, "data", 4) == 0) {
      pcm = body;
      pcmSize = ckSize;
    }
    off = bodyOff + ckSize + (ckSize & 1);
    if (pcm != nullptr && haveFmt) break;
  }
  if (!haveFmt) {
    error = "malformed WAV: no fmt chunk";
    return false;
  }
  if (pcm == nullptr) {
    error = "malformed WAV: no data chunk";
    return false;
  }
  if (channels < 1 || channels > 2) {
    error = "unsupported WAV: " + std::to_string(channels) + " channels (mono or stereo only)";
    return false;
  }
  if (rate < 4000 || rate > 192000) {
    error = "unsupported WAV: sample rate " + std::to_string(rate);
    return false;
  }
  size_t bytesPerSample = 0;
  if (format == kFmtPcm && bits == 16) {
    bytesPerSample = 2;
  } else if (format == kFmtPcm && bits == 8) {
    bytesPerSample = 1;
  } else if ((format == kFmtAlaw || format == kFmtUlaw) && bits == 8) {
    bytesPerSample = 1;
  } else {
    error = "unsupported WAV encoding: format " + std::to_string(format) + ", " +
            std::to_string(bits) + " bits (PCM 8/16-bit, mu-law or A-law)";
    return false;
  }
  const size_t frameBytes = bytesPerSample * channels;
  if (blockAlign != 0 && blockAlign != frameBytes) {
    error = "malformed WAV: block align " + std::to_string(blockAlign) + " does not match format";
    return false;
  }
  const size_t frames = pcmSize / frameBytes;
  if (frames / rate > kMaxSoundSeconds) {
    error = "WAV too long";
    return false;
  }
  std::vector<int16_t> mono(frames);
  for (size_t i = 0; i < frames; i++) {
    int sum = 0;
    for (size_t c = 0; c < channels; c++) {
      const uint8_t* p = pcm + i * frameBytes + c * bytesPerSample;
      int v;
      if (bytesPerSample == 2) {
        v = static_cast<int16_t>(rd16(p));
      } else if (format == kFmtUlaw) {
        v = g711::ulawToLinear(*p);
      } else if (format == kFmtAlaw) {
        v = g711::alawToLinear(*p);
      } else {
        v = (static_cast<int>(*p) - 128) << 8;  // unsigned 8-bit PCM
      }
      sum += v;
    }
    mono[i] = static_cast<int16_t>(sum / static_cast<int>(channels));
  }
  Resampler::convert(mono, rate, out.samples, kSampleRate);
  Resampler::convert(mono, rate, out.samples16, 16000);
  // Both versions last exactly as long as the 8 kHz one says.
  out.samples16.resize(out.samples.size() * 2, 0);
  return true;
}

bool loadWavFile(const std::string& path, Sound& out, std::string& error) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) {
    error = "cannot open " + path + ": " + std::strerror(errno);
    return false;
  }
  std::vector<uint8_t> buf;
  uint8_t chunk[65536];
  bool tooBig = false;
  for (;;) {
    const size_t n = std::fread(chunk, 1, sizeof chunk, f);
    if (n == 0) break;
    if (buf.size() + n > kMaxWavBytes) {
      tooBig = true;
      break;
    }
    buf.insert(buf.end(), chunk, chunk + n);
  }
  const bool readError = std::ferror(f) != 0;
  std::fclose(f);
  if (readError) {
    error = "cannot read " + path;
    return false;
  }
  if (tooBig) {
    error = path + ": WAV file larger than " + std::to_string(kMaxWavBytes) + " bytes";
    return false;
  }
  if (!parseWav(buf.data(), buf.size(), out, error)) {
    error = path + ": " + error;
    return false;
  }
  return true;
}

bool makeTone(const std::vector<double>& frequencies, uint32_t durationMs, double levelDbfs,
              Sound& out, std::string& error) {
  if (frequencies.empty() || frequencies.size() > 4) {
    error = "tone needs 1 to 4 frequencies";
    return false;
  }
  for (double f : frequencies) {
    if (!(f > 0 && f < kSampleRate / 2)) {
      error = "tone frequency out of range (0, 4000) Hz";
      return false;
    }
  }
  if (durationMs == 0 || durationMs > kMaxSoundSeconds * 1000) {
    error = "tone duration out of range";
    return false;
  }
  if (!(levelDbfs <= 0 && levelDbfs >= -90)) {
    error = "tone level must be within [-90, 0] dBFS";
    return false;
  }
  const double amp = 32767.0 * std::pow(10.0, levelDbfs / 20.0);
  for (const int rate : {kSampleRate, 16000}) {
    std::vector<int16_t>& dst = rate == kSampleRate ? out.samples : out.samples16;
    const size_t n = static_cast<size_t>(durationMs) * static_cast<size_t>(rate / 1000);
    const size_t fade = std::min<size_t>(n / 2, static_cast<size_t>(rate / 200));  // 5 ms
    dst.resize(n);
    for (size_t i = 0; i < n; i++) {
      double v = 0;
      for (double f : frequencies) v += amp * std::sin(2.0 * M_PI * f * static_cast<double>(i) / rate);
      double g = 1.0;
      if (fade > 0 && i < fade) g = 0.5 - 0.5 * std::cos(M_PI * static_cast<double>(i) / fade);
      if (fade > 0 && n - 1 - i < fade) g = 0.5 - 0.5 * std::cos(M_PI * static_cast<double>(n - 1 - i) / fade);
      v *= g;
      if (v > 32767) v = 32767;
      if (v < -32768) v = -32768;
      dst[i] = static_cast<int16_t>(std::lround(v));
    }
  }
  return true;
}

}  // namespace media
