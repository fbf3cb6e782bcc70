#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "harness.h"
#include "sound.h"

using namespace media;

namespace {
void le32(std::vector<uint8_t>& v, uint32_t x) {
  for (int i = 0; i < 4; i++) v.push_back(static_cast<uint8_t>(x >> (8 * i)));
}
void le16(std::vector<uint8_t>& v, uint16_t x) {
  v.push_back(static_cast<uint8_t>(x));
  v.push_back(static_cast<uint8_t>(x >> 8));
}
std::vector<uint8_t> wav(uint16_t format, uint16_t channels, uint32_t rate, uint16_t bits,
                         const std::vector<uint8_t>& data) {
  std::vector<uint8_t> v;
  v.insert(v.end(), {'R', 'I', 'F', 'F'});
  le32(v, static_cast<uint32_t>(4 + 8 + 16 + 8 + data.size()));
  v.insert(v.end(), {'W', 'A', 'V', 'E', 'f', 'm', 't', ' '});
  le32(v, 16);
  le16(v, format);
  le16(v, channels);
  le32(v, rate);
  le32(v, rate * channels * bits / 8);
  le16(v, static_cast<uint16_t>(channels * bits / 8));
  le16(v, bits);
  v.insert(v.end(), {'d', 'a', 't', 'a'});
  le32(v, static_cast<uint32_t>(data.size()));
  v.insert(v.end(), data.begin(), data.end());
  return v;
}
std::vector<uint8_t> pcm16(const std::vector<int16_t>& s) {
  std::vector<uint8_t> v;
  for (int16_t x : s) le16(v, static_cast<uint16_t>(x));
  return v;
}
}  // namespace

TEST(wav_pcm16_8k) {
  auto w = wav(1, 1, 8000, 16, pcm16({1, -2, 300, -32768}));
  Sound s;
  std::string err;
  CHECK(parseWav(w.data(), w.size(), s, err));
  CHECK_EQ(s.samples.size(), 4u);
  CHECK_EQ(s.samples[2], 300);
  CHECK_EQ(s.samples[3], -32768);
}

TEST(wav_resample_16k_and_stereo) {
  // 1 kHz at 16 kHz: speexdsp keeps its level at 8 kHz, and keeps the
  // 16 kHz version as it was.
  std::vector<int16_t> in(1600);
  for (size_t i = 0; i < in.size(); i++) in[i] = static_cast<int16_t>(std::lround(10000 * std::sin(2 * M_PI * 1000 * i / 16000.0)));
  auto w = wav(1, 1, 16000, 16, pcm16(in));
  Sound s;
  std::string err;
  CHECK(parseWav(w.data(), w.size(), s, err));
  CHECK_EQ(s.samples.size(), 800u);
  CHECK_EQ(s.samples16.size(), 1600u);
  int peak = 0;
  for (size_t i = 100; i < 700; i++) peak = std::max(peak, std::abs(static_cast<int>(s.samples[i])));
  CHECK(peak > 9500 && peak < 10500);
  CHECK_EQ(s.samples16[400], in[400]);
  auto st = wav(1, 2, 8000, 16, pcm16({100, 300, -100, -300}));
  CHECK(parseWav(st.data(), st.size(), s, err));
  CHECK_EQ(s.samples.size(), 2u);
  CHECK_EQ(s.samples[0], 200);
  CHECK_EQ(s.samples[1], -200);
}

TEST(wav_ulaw_alaw) {
  auto u = wav(7, 1, 8000, 8, {0xFF, 0x80, 0x00});
  Sound s;
  std::string err;
  CHECK(parseWav(u.data(), u.size(), s, err));
  CHECK_EQ(s.samples[1], 32124);
  auto a = wav(6, 1, 8000, 8, {0xD5});
  CHECK(parseWav(a.data(), a.size(), s, err));
  CHECK_EQ(s.samples[0], 8);
}

TEST(wav_rejects_malformed) {
  Sound s;
  std::string err;
  const std::string text = "hello, this is not a wav file at all";
  CHECK(!parseWav(reinterpret_cast<const uint8_t*>(text.data()), text.size(), s, err));
  CHECK(err.find("not a WAV") != std::string::npos);
  CHECK(!parseWav(nullptr, 0, s, err));
  auto good = wav(1, 1, 8000, 16, pcm16(std::vector<int16_t>(100, 5)));
  // truncated data chunk
  auto trunc = good;
  trunc.resize(trunc.size() - 50);
  CHECK(!parseWav(trunc.data(), trunc.size(), s, err));
  // huge chunk size
  auto huge = good;
  huge[40] = huge[41] = huge[42] = huge[43] = 0xFF;
  CHECK(!parseWav(huge.data(), huge.size(), s, err));
  // unsupported formats
  auto f32 = wav(3, 1, 8000, 32, std::vector<uint8_t>(16, 0));
  CHECK(!parseWav(f32.data(), f32.size(), s, err));
  auto ch6 = wav(1, 6, 8000, 16, std::vector<uint8_t>(24, 0));
  CHECK(!parseWav(ch6.data(), ch6.size(), s, err));
  auto rate0 = wav(1, 1, 0, 16, std::vector<uint8_t>(4, 0));
  CHECK(!parseWav(rate0.data(), rate0.size(), s, err));
  // every truncation of a good file fails cleanly or parses within bounds
  for (size_t n = 0; n < good.size(); n++) parseWav(good.data(), n, s, err);
  CHECK(!loadWavFile("/nonexistent/file.wav", s, err));
}

TEST(tone_synthesis) {
  Sound s;
  std::string err;
  CHECK(makeTone({1000}, 100, -6, s, err));
  CHECK_EQ(s.samples.size(), 800u);
  int peak = 0;
  for (int16_t x : s.samples) peak = std::max(peak, std::abs(static_cast<int>(x)));
  CHECK(peak > 16000 && peak < 16500);  // -6 dBFS ~ 16422
  CHECK(makeTone({350, 440}, 20, -12, s, err));
  CHECK(!makeTone({}, 100, -12, s, err));
  CHECK(!makeTone({5000}, 100, -12, s, err));
  CHECK(!makeTone({440}, 100, 3, s, err));
  CHECK(!makeTone({440}, 0, -12, s, err));
}
