// In-band DTMF: detection (spandsp), its latency, repeated digits, no false
// digits on speech-like tones, and the hold-back gate.
#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "harness.h"
#include "inband_dtmf.h"

using namespace media;

namespace {
const char* kKeys = "123A456B789C*0#D";
const double kLow[] = {697, 770, 852, 941};
const double kHigh[] = {1209, 1336, 1477, 1633};

// Appends `ms` of the key's two tones (each at `amp`) to `out`.
void addKey(std::vector<int16_t>& out, char key, int samples, double amp) {
  const int k = static_cast<int>(std::strchr(kKeys, key) - kKeys);
  const double fl = kLow[k / 4], fh = kHigh[k % 4];
  for (int i = 0; i < samples; i++) {
    const double t = i / 8000.0;
    out.push_back(static_cast<int16_t>(std::lround(amp * (std::sin(2 * M_PI * fl * t) + std::sin(2 * M_PI * fh * t)))));
  }
}
void addSilence(std::vector<int16_t>& out, int samples) { out.insert(out.end(), static_cast<size_t>(samples), 0); }

std::string detect(InbandDtmfDetector& d, const std::vector<int16_t>& s, std::vector<size_t>* at = nullptr) {
  std::string digits;
  for (size_t f = 0; f + kDtmfFrameSamples <= s.size(); f += kDtmfFrameSamples) {
    const char c = d.process(s.data() + f, kDtmfFrameSamples);
    if (c != 0) {
      digits += c;
      if (at != nullptr) at->push_back(f + kDtmfFrameSamples);  // sample count when reported
    }
  }
  return digits;
}
}  // namespace

TEST(inband_dtmf_detects_all_keys_and_repeats) {
  InbandDtmfDetector d;
  std::vector<int16_t> s;
  addSilence(s, 800);
  const std::string keys = "1234567890*#ABCD112233##00";
  for (char k : keys) {
    addKey(s, k, 480, 5000);  // 60 ms
    addSilence(s, 400);       // 50 ms gap
  }
  addSilence(s, 1600);
  CHECK(detect(d, s) == keys);
  CHECK(!d.active());
}

TEST(inband_dtmf_latency_needs_the_look_ahead) {
  // spandsp alone reports a key up to two frames after the tone's first
  // frame: too late to gate that frame with one frame of hold-back, which
  // is why the classifier flags the frames first (next tests).
  int worstFrames = 0;
  size_t worstSamples = 0;
  for (int offset = 0; offset < kDtmfFrameSamples; offset += 7) {
    InbandDtmfDetector d;
    std::vector<int16_t> s;
    addSilence(s, 1600 + offset);
    const size_t onset = s.size();
    addKey(s, '5', 800, 4000);
    addSilence(s, 1600);
    std::vector<size_t> at;
    CHECK(detect(d, s, &at) == "5");
    if (at.empty()) continue;
    const int frames = static_cast<int>((at[0] - 1) / kDtmfFrameSamples - onset / kDtmfFrameSamples);
    if (frames > worstFrames) worstFrames = frames;
    if (at[0] - onset > worstSamples) worstSamples = at[0] - onset;
  }
  std::printf("  in-band DTMF: reported within %zu samples of onset, %d frame(s) after the first tone frame\n",
              worstSamples, worstFrames);
  CHECK(worstFrames <= 2);
}

namespace {
// Appends a key with separate row/column amplitudes.
void addPair(std::vector<int16_t>& out, double fl, double fh, int samples, double ampLow, double ampHigh) {
  for (int i = 0; i < samples; i++) {
    const double t = i / 8000.0;
    out.push_back(static_cast<int16_t>(
        std::lround(ampLow * std::sin(2 * M_PI * fl * t + 0.3) + ampHigh * std::sin(2 * M_PI * fh * t + 1.1))));
  }
}
std::vector<int16_t> sine(double hz, double amp, int samples) {
  std::vector<int16_t> s;
  for (int i = 0; i < samples; i++) s.push_back(static_cast<int16_t>(std::lround(amp * std::sin(2 * M_PI * hz * i / 8000.0))));
  return s;
}
}  // namespace

TEST(dtmf_classifier_flags_every_key_and_half_frames) {
  for (int k = 0; k < 16; k++) {
    for (double amp : {400.0, 1500.0, 5000.0, 14000.0}) {
      std::vector<int16_t> s;
      addPair(s, kLow[k / 4], kHigh[k % 4], kDtmfFrameSamples, amp, amp);
      CHECK(looksLikeDtmfKey(s.data(), kDtmfFrameSamples));
    }
    // twist: high group 8 dB below / 4 dB above the low group (spandsp's limits)
    std::vector<int16_t> a, b;
    addPair(a, kLow[k / 4], kHigh[k % 4], kDtmfFrameSamples, 5000, 5000 * 0.398);
    addPair(b, kLow[k / 4], kHigh[k % 4], kDtmfFrameSamples, 5000 * 0.631, 5000);
    CHECK(looksLikeDtmfKey(a.data(), kDtmfFrameSamples));
    CHECK(looksLikeDtmfKey(b.data(), kDtmfFrameSamples));
    // a tone filling the last three quarters of the frame
    std::vector<int16_t> h;
    addSilence(h, 40);
    addPair(h, kLow[k / 4], kHigh[k % 4], 120, 3000, 3000);
    CHECK(looksLikeDtmfKey(h.data(), kDtmfFrameSamples));
  }
}

TEST(dtmf_classifier_ignores_single_tones_quiet_pairs_and_noise) {
  // Single tones, including DTMF frequencies and the bench's talker tones.
  for (double hz : {350.0, 500.0, 697.0, 750.0, 941.0, 1000.0, 1209.0, 1250.0, 1633.0, 2000.0}) {
    const std::vector<int16_t> s = sine(hz, 8000, kDtmfFrameSamples);
    CHECK(!looksLikeDtmfKey(s.data(), kDtmfFrameSamples));
  }
  // A pair far below any key level.
  std::vector<int16_t> q;
  addPair(q, 770, 1336, kDtmfFrameSamples, 150, 150);
  CHECK(!looksLikeDtmfKey(q.data(), kDtmfFrameSamples));
  // A pair drowned in louder noise: most of the energy is not the pair.
  std::mt19937 rng(3);
  std::normal_distribution<double> noise(0, 4000);
  std::vector<int16_t> n;
  addPair(n, 852, 1477, kDtmfFrameSamples, 2000, 2000);
  for (int16_t& x : n) x = static_cast<int16_t>(std::lround(x + noise(rng)));
  CHECK(!looksLikeDtmfKey(n.data(), kDtmfFrameSamples));
  // Only a few samples of a key at the end of the frame.
  std::vector<int16_t> e;
  addSilence(e, 140);
  addPair(e, 697, 1209, 20, 5000, 5000);
  CHECK(!looksLikeDtmfKey(e.data(), kDtmfFrameSamples));
  // Silence.
  std::vector<int16_t> z(kDtmfFrameSamples, 0);
  CHECK(!looksLikeDtmfKey(z.data(), kDtmfFrameSamples));
  // Speech-like noise over 3 s: (almost) never flagged.
  InbandDtmfDetector d;
  int flagged = 0, frames = 0;
  std::normal_distribution<double> voiceNoise(0, 2000);
  std::vector<int16_t> v;
  for (int i = 0; i < 8000 * 3; i++) {
    const double t = i / 8000.0;
    double x = voiceNoise(rng);
    for (int h = 1; h <= 12; h++) x += 3000.0 / h * std::sin(2 * M_PI * 118 * h * t + h);
    v.push_back(static_cast<int16_t>(std::lround(x)));
  }
  for (size_t f = 0; f + kDtmfFrameSamples <= v.size(); f += kDtmfFrameSamples, frames++) {
    d.process(v.data() + f, kDtmfFrameSamples);
    if (d.keyLike()) flagged++;
  }
  CHECK_EQ(flagged, 0);
  CHECK(frames == 150);
}

TEST(dtmf_look_ahead_gate_keeps_every_key_sample_out) {
  // Detector + classifier + gate as a leg runs them, for keys of 40-100 ms
  // at levels from near spandsp's threshold to loud, with twist, starting
  // at every offset within a frame: no frame holding any key sample leaves
  // the gate with audio, every key is reported, and the frames well away
  // from a key pass.
  struct Case { double low, high; int ms; };
  const Case cases[] = {{1200, 1200, 40}, {4000, 4000, 60}, {12000, 12000, 100}, {5000, 2500, 50}, {3500, 5000, 80}};
  int checked = 0;
  for (const Case& c : cases) {
    for (int offset = 0; offset < kDtmfFrameSamples; offset += 9) {
      for (char key : {'1', '9', '#', 'D'}) {
        const int k = static_cast<int>(std::strchr(kKeys, key) - kKeys);
        std::vector<int16_t> s;
        // a quiet "voice" so the frames around the key carry audio
        const std::vector<int16_t> voice = sine(300, 600, 2400);
        s.insert(s.end(), voice.begin(), voice.begin() + 1600 + offset);
        const size_t onset = s.size();
        addPair(s, kLow[k / 4], kHigh[k % 4], c.ms * 8, c.low, c.high);
        const size_t end = s.size();
        s.insert(s.end(), voice.begin(), voice.end());
        InbandDtmfDetector d;
        DtmfGate g;
        std::string digits;
        int16_t f[kDtmfFrameSamples];
        for (size_t i = 0; i + kDtmfFrameSamples <= s.size(); i += kDtmfFrameSamples) {
          std::memcpy(f, s.data() + i, sizeof f);
          const char digit = d.process(f, kDtmfFrameSamples);
          if (digit != 0) digits += digit;
          const bool out = g.exchange(f, kDtmfFrameSamples, true, d.active(), d.keyLike());
          // The frame handed out is the one that came in kDtmfHoldBackFrames ago.
          if (i < static_cast<size_t>(kDtmfHoldBackFrames * kDtmfFrameSamples)) continue;
          const size_t from = i - kDtmfHoldBackFrames * kDtmfFrameSamples, to = from + kDtmfFrameSamples;
          const bool hasKey = from < end && to > onset;
          if (hasKey && out) {
            std::printf("  leak: key %c %.0f/%.0f %d ms offset %d frame at %zu\n", key, c.low, c.high, c.ms, offset, from);
          }
          CHECK(!(hasKey && out));
          if (from + 3 * kDtmfFrameSamples < onset) CHECK(out);  // well before the key
          if (from > end + 6 * kDtmfFrameSamples) CHECK(out);    // well after it
          checked++;
        }
        if (digits != std::string(1, key)) std::printf("  missed: key %c %.0f/%.0f %d ms offset %d got '%s'\n", key, c.low, c.high, c.ms, offset, digits.c_str());
        CHECK(digits == std::string(1, key));
      }
    }
  }
  CHECK(checked > 1000);
}

TEST(inband_dtmf_ignores_single_tones_and_noise) {
  InbandDtmfDetector d;
  std::vector<int16_t> s;
  std::mt19937 rng(7);
  std::normal_distribution<double> noise(0, 3000);
  for (int i = 0; i < 8000 * 3; i++) {
    const double t = i / 8000.0;
    // a 770 Hz tone alone (half a DTMF pair), a 450 Hz "voice", and noise
    s.push_back(static_cast<int16_t>(std::lround(5000 * std::sin(2 * M_PI * 770 * t) +
                                                 4000 * std::sin(2 * M_PI * 450 * t) + noise(rng))));
  }
  CHECK(detect(d, s).empty());
}

TEST(dtmf_gate_delays_and_gates) {
  DtmfGate g;
  int16_t f[kDtmfFrameSamples];
  // frames 1..10 with value = index; a digit going on when frame 4 arrives
  std::vector<int> outValues;
  std::vector<bool> outActive;
  for (int i = 1; i <= 10; i++) {
    for (int16_t& x : f) x = static_cast<int16_t>(i);
    const bool a = g.exchange(f, kDtmfFrameSamples, true, i == 4);
    outValues.push_back(f[0]);
    outActive.push_back(a);
  }
  // Delay of 1 frame: out[i] = frame i (0 = initial silence, inactive).
  CHECK_EQ(kDtmfHoldBackFrames, 1);
  CHECK_EQ(outValues[1], 1);
  CHECK_EQ(outValues[9], 9);
  CHECK(!outActive[0]);
  CHECK(outActive[1] && outActive[2]);  // frames 1, 2
  CHECK(!outActive[3]);                 // frame 3, held back when the digit came
  CHECK(!outActive[4]);                 // frame 4 itself
  CHECK(!outActive[5] && !outActive[6]);  // hangover frames 5, 6
  CHECK(outActive[7] && outActive[8] && outActive[9]);  // frames 7, 8, 9
  CHECK_EQ(g.framesGated, 4u);
}

TEST(dtmf_gate_gates_around_key_like_frames) {
  DtmfGate g;
  int16_t f[kDtmfFrameSamples];
  std::vector<bool> outActive;
  // frame 5 and 6 look like a key (spandsp silent): frames 4 (held back),
  // 5, 6 and one more (7) are gated.
  for (int i = 1; i <= 10; i++) {
    for (int16_t& x : f) x = static_cast<int16_t>(i);
    outActive.push_back(g.exchange(f, kDtmfFrameSamples, true, false, i == 5 || i == 6));
  }
  CHECK(outActive[1] && outActive[2] && outActive[3]);  // frames 1-3
  CHECK(!outActive[4] && !outActive[5] && !outActive[6] && !outActive[7]);  // frames 4-7
  CHECK(outActive[8] && outActive[9]);  // frames 8, 9
  CHECK_EQ(g.framesGated, 4u);
}
