// G.722 codec wrapper, speexdsp resampling, and mixing at 16 kHz.
#include <cmath>
#include <cstdio>
#include <vector>

#include "audio_codec.h"
#include "harness.h"
#include "resampler.h"
#include "tone.h"

using namespace media;

namespace {
std::vector<int16_t> sine(double f, int rate, int n, double amp) {
  std::vector<int16_t> v(static_cast<size_t>(n));
  for (int i = 0; i < n; i++) v[static_cast<size_t>(i)] = static_cast<int16_t>(std::lround(amp * std::sin(2 * M_PI * f * i / rate)));
  return v;
}
double db(double a, double b) { return 20 * std::log10(a / b); }
}  // namespace

TEST(g722_roundtrip_keeps_level_and_wideband) {
  for (double f : {1000.0, 5000.0}) {
    AudioCodec enc(Codec::G722), dec(Codec::G722);
    CHECK_EQ(enc.frameSamples(), 320);
    const std::vector<int16_t> in = sine(f, 16000, 16000, 6000);
    std::vector<int16_t> out;
    for (size_t off = 0; off < in.size(); off += 320) {
      uint8_t pay[160];
      CHECK_EQ(enc.encode(in.data() + off, 320, pay), 160);
      int16_t pcm[320];
      CHECK_EQ(dec.decode(pay, 160, pcm), 320);
      out.insert(out.end(), pcm, pcm + 320);
    }
    const double level = db(th::toneAmplitude(out, 4000, 8000, f, 16000), 6000);
    std::printf("  G.722 roundtrip %.0f Hz: %+.2f dB\n", f, level);
    CHECK(std::fabs(level) < 1.0);
  }
}

TEST(resampler_streams_keep_frequency_and_level) {
  Resampler up(8000, 16000), down(16000, 8000);
  const std::vector<int16_t> in = sine(1000, 8000, 8000, 8000);
  std::vector<int16_t> wide, back;
  for (size_t off = 0; off < in.size(); off += 160) {
    int16_t w[320], b[160];
    up.process(in.data() + off, 160, w);
    down.process(w, 320, b);
    wide.insert(wide.end(), w, w + 320);
    back.insert(back.end(), b, b + 160);
  }
  CHECK(std::fabs(db(th::toneAmplitude(wide, 3200, 9600, 1000, 16000), 8000)) < 0.5);
  CHECK(std::fabs(db(th::toneAmplitude(back, 1600, 4800, 1000, 8000), 8000)) < 0.5);
  // Whole-buffer conversion: length and level.
  std::vector<int16_t> w2;
  Resampler::convert(sine(440, 44100, 44100, 10000), 44100, w2, 8000);
  CHECK_EQ(w2.size(), 8000u);
  CHECK(std::fabs(db(th::toneAmplitude(w2, 800, 6400, 440, 8000), 10000)) < 0.5);
}

// ---- a room at 16 kHz ----
#include <cstring>

#include "leg.h"
#include "leg_config.h"
#include "mix.h"
#include "room.h"
#include "rtp.h"

namespace {
struct NullSink : EventSink {
  void emit(const Event& e) override {
    delete e.playback;
  }
};
}  // namespace

TEST(wideband_room_carries_5khz_between_g722_legs_only) {
  NullSink sink;
  Room room;
  Leg talker(th::legConfig(1, Codec::G722, 9), -1), wide(th::legConfig(2, Codec::G722, 9), -1), narrow(th::legConfig(3, Codec::PCMU, 0), -1);
  talker.speak = talker.hear = wide.hear = narrow.hear = true;
  roomAdd(room, talker);
  roomAdd(room, wide);
  roomAdd(room, narrow);
  CHECK_EQ(room.rate, 16000);
  AudioCodec phoneEnc(Codec::G722), wideDec(Codec::G722);
  std::vector<int16_t> heardWide, heardNarrow;
  const SockAddr from = SockAddr::none();
  for (int f = 0; f < 100; f++) {
    // the G.722 phone says 1 kHz + 5 kHz, each at 6000
    int16_t pcm[320];
    for (int i = 0; i < 320; i++) {
      const double t = (f * 320 + i) / 16000.0;
      pcm[i] = static_cast<int16_t>(std::lround(6000 * std::sin(2 * M_PI * 1000 * t) + 6000 * std::sin(2 * M_PI * 5000 * t)));
    }
    uint8_t pkt[12 + 160];
    writeRtpHeader(pkt, false, 9, static_cast<uint16_t>(f), static_cast<uint32_t>(f * 160), 77);
    phoneEnc.encode(pcm, 320, pkt + 12);
    talker.onDatagram(pkt, sizeof pkt, false, from, 0, sink);
    for (Leg* l : {&talker, &wide, &narrow}) l->pullInput(f * 20, 0, sink);
    mixRoom(room);
    uint8_t buf[12 + 160];
    for (Leg* l : {&wide, &narrow}) {
      l->produceAndSend(sink, buf);  // no socket: renders only
      const size_t n = l->writePacket(buf, l->source() == Leg::Source::Shared && l->config().codec != Codec::G722
                                                  ? room.sharedPayload(l->config().codec)
                                                  : nullptr);
      CHECK_EQ(n, 172u);
      if (l == &wide) {
        int16_t out[320];
        wideDec.decode(buf + 12, 160, out);
        heardWide.insert(heardWide.end(), out, out + 320);
      } else {
        int16_t out[160];
        g711::decode(Codec::PCMU, buf + 12, out, 160);
        heardNarrow.insert(heardNarrow.end(), out, out + 160);
      }
    }
  }
  const double w1 = db(th::toneAmplitude(heardWide, 16000, 12800, 1000, 16000), 6000);
  const double w5 = db(th::toneAmplitude(heardWide, 16000, 12800, 5000, 16000), 6000);
  const double n1 = db(th::toneAmplitude(heardNarrow, 8000, 6400, 1000, 8000), 6000);
  std::printf("  16 kHz room: G.722 listener 1 kHz %+.2f dB, 5 kHz %+.2f dB; PCMU listener 1 kHz %+.2f dB\n", w1, w5, n1);
  CHECK(std::fabs(w1) < 1.0);
  CHECK(std::fabs(w5) < 1.0);
  CHECK(std::fabs(n1) < 1.0);
  // 5 kHz does not fit in 8 kHz: filtered out, not folded back to 3 kHz.
  CHECK(db(th::toneAmplitude(heardNarrow, 8000, 6400, 3000, 8000), 6000) < -30);
  roomRemove(talker);
  roomRemove(wide);
  CHECK_EQ(room.rate, 8000);
  roomRemove(narrow);
}
