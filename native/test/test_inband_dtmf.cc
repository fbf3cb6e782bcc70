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

TEST(inband_dtmf_latency_is_covered_by_the_hold_back) {
  // Tones starting at every offset within a frame: the frame the digit is
  // reported in is at most kDtmfHoldBackFrames after the tone's first frame.
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
  CHECK(worstFrames <= kDtmfHoldBackFrames);
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
  // frames 1..6 with value = index; gate when frame 4 arrives
  std::vector<int> outValues;
  std::vector<bool> outActive;
  for (int i = 1; i <= 10; i++) {
    for (int16_t& x : f) x = static_cast<int16_t>(i);
    const bool a = g.exchange(f, kDtmfFrameSamples, true, i == 4);
    outValues.push_back(f[0]);
    outActive.push_back(a);
  }
  // Delay of 2 frames: out[i] = frame i-2 (0 = initial silence, inactive).
  CHECK_EQ(outValues[2], 1);
  CHECK_EQ(outValues[9], 8);
  CHECK(!outActive[0] && !outActive[1]);
  CHECK(outActive[2]);                 // frame 1
  CHECK(!outActive[3] && !outActive[4]);  // frames 2,3 held back when the digit came
  CHECK(!outActive[5]);                // frame 4 itself
  CHECK(!outActive[6] && !outActive[7]);  // hangover frames 5, 6
  CHECK(outActive[8] && outActive[9]);   // frames 7, 8
  CHECK_EQ(g.framesGated, 5u);
}
