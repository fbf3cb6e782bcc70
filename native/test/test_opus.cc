// Opus at 16 kHz: round trip level and frequency, decoder concealment, and
// a leg receiving and sending Opus over the 48 kHz RTP clock.
#include <cmath>
#include <cstdio>
#include <vector>

#include "audio_codec.h"
#include "harness.h"
#include "leg.h"
#include "mix.h"
#include "opus_codec.h"
#include "room.h"
#include "rtp.h"
#include "tone.h"

using namespace media;

namespace {
void sineFrame(int16_t* pcm, int frame, double f, double amp) {
  for (int i = 0; i < 320; i++) pcm[i] = static_cast<int16_t>(std::lround(amp * std::sin(2 * M_PI * f * (frame * 320 + i) / 16000.0)));
}
struct FreeSink : EventSink {
  void emit(const Event& e) override { delete e.playback; }
};
}  // namespace

TEST(opus_roundtrip_keeps_level_and_frequency) {
  for (double f : {440.0, 1000.0, 3000.0}) {
    OpusCodec enc, dec;
    std::vector<int16_t> out;
    for (int frame = 0; frame < 100; frame++) {
      int16_t pcm[320];
      sineFrame(pcm, frame, f, 8000);
      uint8_t pkt[OpusCodec::kMaxPayload];
      const int n = enc.encode(pcm, pkt, sizeof pkt);
      CHECK(n > 0 && n <= OpusCodec::kMaxPayload);
      int16_t back[320];
      CHECK(dec.decode(pkt, n, back));
      out.insert(out.end(), back, back + 320);
    }
    const double level = 20 * std::log10(th::toneAmplitude(out, 16000, 12800, f, 16000) / 8000);
    // Nothing at an unrelated frequency: the tone is where it was sent.
    const double other = 20 * std::log10(std::max(1e-9, th::toneAmplitude(out, 16000, 12800, f * 1.37, 16000)) / 8000);
    std::printf("  Opus roundtrip %.0f Hz: %+.2f dB (at %.0f Hz: %.1f dB)\n", f, level, f * 1.37, other);
    CHECK(std::fabs(level) < 1.0);
    CHECK(other < -30);
  }
}

TEST(opus_concealment_continues_the_tone_and_rejects_other_frame_sizes) {
  OpusCodec enc, dec;
  std::vector<int16_t> out;
  for (int frame = 0; frame < 60; frame++) {
    int16_t pcm[320];
    sineFrame(pcm, frame, 700, 8000);
    uint8_t pkt[OpusCodec::kMaxPayload];
    const int n = enc.encode(pcm, pkt, sizeof pkt);
    int16_t back[320];
    if (frame == 50) dec.conceal(back);  // lost
    else dec.decode(pkt, n, back);
    out.insert(out.end(), back, back + 320);
  }
  // The concealed frame still carries the tone, faded as Opus's PLC does
  // (about -11 dB here), not a hole.
  const double concealed = 20 * std::log10(th::toneAmplitude(out, 50 * 320, 320, 700, 16000) / 8000);
  std::printf("  Opus PLC frame: %+.2f dB\n", concealed);
  CHECK(concealed > -20);
  // Garbage and a 10 ms packet are not a 20 ms frame: concealed, reported false.
  int16_t back[320];
  const uint8_t junk[3] = {0xFF, 0xFF, 0xFF};
  CHECK(!dec.decode(junk, 3, back));
}

TEST(opus_packets_survive_the_jitter_buffer_word_packing) {
  uint8_t payload[OpusCodec::kMaxPayload];
  for (int i = 0; i < OpusCodec::kMaxPayload; i++) payload[i] = static_cast<uint8_t>(i * 7 + 3);
  for (int len : {1, 2, 77, OpusCodec::kMaxPayload}) {
    int16_t words[kFrameSamples];
    packOpus(payload, len, words);
    uint8_t back[OpusCodec::kMaxPayload];
    CHECK_EQ(unpackOpus(words, back), len);
    bool same = true;
    for (int i = 0; i < len; i++) same = same && back[i] == payload[i];
    CHECK(same);
  }
}

TEST(opus_leg_in_a_room_decodes_conceals_and_sends_48khz_timestamps) {
  FreeSink sink;
  Room room;
  LegConfig pc;
  pc.id = 1;
  pc.codec = Codec::Opus;
  pc.payloadType = 111;
  LegConfig lc;
  lc.id = 2;
  lc.codec = Codec::PCMU;
  lc.payloadType = 0;
  Leg phone(pc, -1), listener(lc, -1);
  phone.speak = phone.hear = listener.speak = listener.hear = true;
  roomAdd(room, phone);
  roomAdd(room, listener);
  CHECK_EQ(room.rate, 16000);  // Opus counts as wideband
  OpusCodec far;
  std::vector<int16_t> heard;
  const SockAddr from = SockAddr::none();
  uint32_t lastTs = 0, firstTs = 0;
  int sent = 0;
  for (int f = 0; f < 100; f++) {
    int16_t pcm[320];
    sineFrame(pcm, f, 1000, 8000);
    uint8_t pkt[12 + OpusCodec::kMaxPayload];
    writeRtpHeader(pkt, false, 111, static_cast<uint16_t>(f), static_cast<uint32_t>(f * 960), 9);
    const int n = far.encode(pcm, pkt + 12, OpusCodec::kMaxPayload);
    if (f % 20 != 7) phone.onDatagram(pkt, static_cast<size_t>(12 + n), false, from, f * 20, sink);  // 5 % loss
    phone.pullInput(f * 20, 0, sink);
    listener.pullInput(f * 20, 0, sink);
    mixRoom(room);
    const int16_t* mix = room.mixAt(8000);
    heard.insert(heard.end(), mix, mix + 160);
    uint8_t buf[1536];
    const size_t len = phone.writePacket(buf, nullptr);
    CHECK(len > 12 && len <= 12u + OpusCodec::kMaxPayload);
    const uint32_t ts = static_cast<uint32_t>(buf[4] << 24 | buf[5] << 16 | buf[6] << 8 | buf[7]);
    if (sent == 0) firstTs = ts;
    else CHECK_EQ(ts - lastTs, 960u);
    lastTs = ts;
    sent++;
  }
  CHECK_EQ(lastTs - firstTs, 99u * 960u);
  // Packets arrived exactly on time: RFC 3550 jitter ~0 (arrival measured on
  // the 48 kHz clock, not the 8 kHz one).
  CHECK(phone.stats.jitterRtp.load() < 16);
  const double level = 20 * std::log10(th::toneAmplitude(heard, 4000, 12000, 1000, 8000) / 8000);
  std::printf("  Opus leg -> PCMU room mix with 5%% loss: 1 kHz %+.2f dB, %llu concealed, %llu from FEC\n", level,
              static_cast<unsigned long long>(phone.stats.framesConcealed.load()),
              static_cast<unsigned long long>(phone.opusFecRecovered()));
  // Five frames in a hundred rebuilt from FEC (a lower-rate copy) cost a
  // little level, within the codec's ±1 dB.
  CHECK(std::fabs(level) < 1.0);
  CHECK(phone.stats.framesConcealed.load() > 0);
  // The next packet was buffered each time: FEC rebuilt the lost frames.
  CHECK_EQ(phone.opusFecRecovered(), phone.stats.framesConcealed.load());
  roomRemove(phone);
  CHECK_EQ(room.rate, 8000);
  roomRemove(listener);
}

TEST(set_codec_to_opus_adopts_state_made_elsewhere) {
  LegConfig c;
  c.id = 3;
  c.codec = Codec::PCMU;
  c.payloadType = 0;
  Leg leg(c, -1);
  leg.setCodec(Codec::Opus, 111);  // no state handed over: stays PCMU
  CHECK(leg.config().codec == Codec::PCMU);
  CHECK_EQ(leg.config().payloadType, 0);
  leg.setCodec(Codec::Opus, 111, new OpusCodec());
  CHECK(leg.config().codec == Codec::Opus);
  CHECK_EQ(leg.rate(), 16000);
  leg.setCodec(Codec::G722, 9);
  leg.setCodec(Codec::Opus, 96);  // keeps the state it adopted
  CHECK(leg.config().codec == Codec::Opus);
  CHECK_EQ(leg.config().payloadType, 96);
}

TEST(opus_leg_counts_and_drops_garbage_and_oversized_packets) {
  FreeSink sink;
  LegConfig c;
  c.id = 4;
  c.codec = Codec::Opus;
  c.payloadType = 111;
  Leg leg(c, -1);
  const SockAddr from = SockAddr::none();
  uint32_t rng = 12345;
  for (int f = 0; f < 50; f++) {
    uint8_t pkt[12 + 1000];
    writeRtpHeader(pkt, false, 111, static_cast<uint16_t>(f), static_cast<uint32_t>(f * 960), 8);
    const int len = f == 25 ? 900 : 1 + f * 5;  // one packet beyond what a 20 ms frame may hold
    for (int i = 0; i < len; i++) {
      rng = rng * 1664525u + 1013904223u;
      pkt[12 + i] = static_cast<uint8_t>(rng >> 24);
    }
    leg.onDatagram(pkt, static_cast<size_t>(12 + len), false, from, f * 20, sink);
    leg.pullInput(f * 20, 0, sink);
  }
  std::printf("  Opus garbage: %llu of 50 malformed\n", static_cast<unsigned long long>(leg.stats.packetsMalformed.load()));
  // The oversized one at arrival; random bytes that are not a 20 ms frame at decoding.
  CHECK(leg.stats.packetsMalformed.load() >= 10);
  CHECK_EQ(leg.stats.packetsReceived.load(), 50u);
}
