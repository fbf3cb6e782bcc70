// Packet-loss concealment on decoded audio: a tone with 5 % of its packets
// lost comes out of a leg without clicks on every codec.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "audio_codec.h"
#include "harness.h"
#include "leg.h"
#include "rtp.h"

using namespace media;

namespace {
struct PlcSink : EventSink {
  void emit(const Event& e) override { delete e.playback; }
};

struct PlcRun {
  int maxJump = 0;
  double level = 0;  // tone level over the whole run, dB re the amplitude sent
  uint64_t concealed = 0;
};

constexpr double kToneHz = 330;  // frame edges fall at varied phases of it
constexpr double kAmp = 8000;

// Feeds `frames` 20 ms packets of a 330 Hz tone to a leg, dropping
// `lost` ones, and returns what the leg decoded and concealed.
PlcRun runWithLoss(Codec codec, uint8_t pt, bool (*lost)(int)) {
  PlcSink sink;
  LegConfig c;
  c.id = 1;
  c.codec = codec;
  c.payloadType = pt;
  Leg leg(c, -1);
  AudioCodec phone(codec);
  const int rate = codecRate(codec);
  const int n = rate / 50;
  std::vector<int16_t> heard;
  const SockAddr from = SockAddr::none();
  const int frames = 200;
  for (int f = 0; f < frames; f++) {
    int16_t pcm[kMaxFrameSamples];
    for (int i = 0; i < n; i++) pcm[i] = static_cast<int16_t>(std::lround(kAmp * std::sin(2 * M_PI * kToneHz * (f * n + i) / rate)));
    uint8_t pkt[12 + 400];
    writeRtpHeader(pkt, false, pt, static_cast<uint16_t>(f), static_cast<uint32_t>(f) * rtpTicksPerFrame(codec), 3);
    const int bytes = phone.encode(pcm, n, pkt + 12);
    if (!lost(f)) leg.onDatagram(pkt, static_cast<size_t>(12 + bytes), false, from, f * 20, sink);
    leg.pullInput(f * 20, 0, sink);
    heard.insert(heard.end(), leg.in, leg.in + n);
  }
  PlcRun r;
  // From the first audio on (prefetch and DTMF hold-back delay it).
  size_t start = 0;
  while (start < heard.size() && std::abs(heard[start]) < 100) start++;
  start += static_cast<size_t>(n) * 4;  // past the codec's start-up
  const size_t end = heard.size() - static_cast<size_t>(n) * 4;  // before any tail-off
  for (size_t i = start + 1; i < end; i++) {
    const int jump = std::abs(heard[i] - heard[i - 1]);
    if (jump > r.maxJump) r.maxJump = jump;
  }
  double s1 = 0, s2 = 0;
  const double k = 2 * std::cos(2 * M_PI * kToneHz / rate);
  for (size_t i = start; i < end; i++) {
    const double s0 = heard[i] + k * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  const double amp = 2 * std::sqrt(std::max(0.0, s1 * s1 + s2 * s2 - k * s1 * s2)) / static_cast<double>(end - start);
  r.level = 20 * std::log10(amp / kAmp);
  r.concealed = leg.stats.framesConcealed.load();
  return r;
}

bool fivePercent(int f) { return f % 20 == 13; }
bool none(int) { return false; }
}  // namespace

TEST(tone_with_5_percent_loss_has_no_clicks_on_any_codec) {
  const struct {
    Codec codec;
    uint8_t pt;
    const char* name;
  } cases[] = {{Codec::PCMU, 0, "PCMU"}, {Codec::PCMA, 8, "PCMA"}, {Codec::G722, 9, "G722"}, {Codec::Opus, 111, "opus"}};
  for (const auto& c : cases) {
    const PlcRun clean = runWithLoss(c.codec, c.pt, none);
    const PlcRun lossy = runWithLoss(c.codec, c.pt, fivePercent);
    // The steepest step of the tone itself, plus the codec's own noise as
    // the clean run shows it: a click (a jump towards zero or a seam
    // between repeated frames) exceeds this by far.
    const double slope = kAmp * 2 * M_PI * kToneHz / codecRate(c.codec);
    const double allowed = std::max(slope * 1.5, clean.maxJump * 1.5);
    std::printf("  %s: 5%% loss, %llu concealed: max step %d (clean %d, tone slope %.0f), level %+.2f dB (clean %+.2f)\n",
                c.name, static_cast<unsigned long long>(lossy.concealed), lossy.maxJump, clean.maxJump, slope, lossy.level,
                clean.level);
    CHECK(lossy.concealed >= 8);
    CHECK(lossy.maxJump <= allowed);
    // Concealment keeps the tone going: little level is lost overall.
    CHECK(lossy.level > clean.level - 1.5);
  }
}
