// Leg receive path without sockets: validation, strangers, RFC 4733 kept out
// of the mix, playback and DTMF interruption.
#include <cstring>
#include <string>
#include <vector>

#include "g711.h"
#include "harness.h"
#include "leg.h"
#include "rtp.h"

using namespace media;

namespace {
struct Capture : EventSink {
  std::vector<Event> events;
  void emit(const Event& e) override { events.push_back(e); }
  std::string digits() const {
    std::string s;
    for (const Event& e : events) if (e.type == EventType::Dtmf) s += e.digit;
    return s;
  }
};

SockAddr addr(const char* ip, int port) {
  SockAddr a;
  SockAddr::parse(ip, port, a);
  return a;
}

std::vector<uint8_t> audio(uint16_t seq, uint32_t ts, uint32_t ssrc, int16_t level, uint8_t pt = 0) {
  std::vector<uint8_t> p(12 + 160);
  writeRtpHeader(p.data(), false, pt, seq, ts, ssrc);
  std::memset(p.data() + 12, g711::linearToUlaw(level), 160);
  return p;
}

std::vector<uint8_t> dtmf(uint16_t seq, uint32_t ts, uint32_t ssrc, uint8_t ev, bool end, uint16_t dur) {
  std::vector<uint8_t> p(16);
  writeRtpHeader(p.data(), false, 101, seq, ts, ssrc);
  p[12] = ev;
  p[13] = end ? 0x8A : 0x0A;
  p[14] = static_cast<uint8_t>(dur >> 8);
  p[15] = static_cast<uint8_t>(dur);
  return p;
}

LegConfig cfg() {
  LegConfig c;
  c.id = 7;
  c.codec = Codec::PCMU;
  c.payloadType = 0;
  c.telephoneEventPayloadType = 101;
  return c;
}
}  // namespace

TEST(leg_counts_and_filters) {
  Leg leg(cfg(), -1);
  Capture cap;
  const SockAddr remote = addr("10.0.0.1", 4000);
  leg.setRemote(remote, 0);
  auto a = audio(1, 0, 5, 1000);
  leg.onDatagram(a.data(), a.size(), false, addr("10.0.0.2", 4000), 0, cap);  // stranger
  CHECK_EQ(leg.stats.packetsFromStrangers.load(), 1u);
  leg.onDatagram(a.data(), 5, false, remote, 0, cap);  // truncated
  leg.onDatagram(a.data(), a.size(), true, remote, 0, cap);  // MSG_TRUNC
  CHECK_EQ(leg.stats.packetsMalformed.load(), 2u);
  auto unk = audio(2, 160, 5, 1000, 18);
  leg.onDatagram(unk.data(), unk.size(), false, remote, 0, cap);
  CHECK_EQ(leg.stats.packetsUnknownPayload.load(), 1u);
  leg.onDatagram(a.data(), a.size(), false, addr("10.0.0.1", 9999), 0, cap);  // other port OK
  CHECK_EQ(leg.stats.packetsReceived.load(), 2u);
}

TEST(leg_dtmf_never_reaches_audio_and_interrupts) {
  Leg leg(cfg(), -1);
  Capture cap;
  auto sound = std::make_shared<Sound>();
  sound->samples.assign(8000, 1234);
  Playback* pb = new Playback();
  pb->id = 42;
  pb->sounds.push_back(sound);
  leg.startPlayback(pb, cap);
  // only DTMF arrives, from any SSRC
  uint16_t seq = 100;
  for (int i = 0; i < 3; i++) {
    auto d = dtmf(seq++, 5000, 0xABCDEF, 1, i == 2, static_cast<uint16_t>(160 * (i + 1)));
    leg.onDatagram(d.data(), d.size(), false, addr("10.0.0.1", 0), 0, cap);
  }
  CHECK(cap.digits() == "1");
  CHECK(!leg.playing());
  bool done = false;
  for (const Event& e : cap.events) {
    if (e.type == EventType::PlaybackDone) {
      done = true;
      CHECK(e.interrupted);
      CHECK_EQ(e.playbackId, 42u);
      delete e.playback;
    }
  }
  CHECK(done);
  // the jitter buffer saw nothing: input stays silent
  for (int t = 0; t < 5; t++) {
    leg.pullInput(0, 0, cap);
    CHECK(!leg.inActive);
  }
}

TEST(leg_playback_runs_to_end_and_packets) {
  Leg leg(cfg(), -1);
  Capture cap;
  auto s1 = std::make_shared<Sound>();
  s1->samples.assign(100, 1000);
  auto s2 = std::make_shared<Sound>();
  s2->samples.assign(250, -1000);
  Playback* pb = new Playback();
  pb->id = 1;
  pb->sounds = {s1, s2};
  leg.startPlayback(pb, cap);
  std::memset(leg.out, 0, sizeof leg.out);
  leg.renderPlayback(cap);
  CHECK_EQ(leg.out[99], 1000);
  CHECK_EQ(leg.out[100], -1000);
  CHECK(leg.playing());
  std::memset(leg.out, 0, sizeof leg.out);
  leg.renderPlayback(cap);
  CHECK_EQ(leg.out[159], -1000);
  CHECK(leg.playing());
  std::memset(leg.out, 0, sizeof leg.out);
  leg.renderPlayback(cap);
  CHECK_EQ(leg.out[29], -1000);
  CHECK_EQ(leg.out[30], 0);
  CHECK(!leg.playing());
  CHECK_EQ(cap.events.size(), 1u);
  CHECK(!cap.events[0].interrupted);
  delete cap.events[0].playback;
  uint8_t buf[200];
  CHECK_EQ(leg.writePacket(buf), 172u);
  RtpPacket r1, r2;
  CHECK(parseRtp(buf, 172, r1) == RtpParse::Ok);
  CHECK(r1.marker);
  leg.writePacket(buf);
  CHECK(parseRtp(buf, 172, r2) == RtpParse::Ok);
  CHECK(!r2.marker);
  CHECK_EQ(static_cast<uint16_t>(r2.seq - r1.seq), 1);
  CHECK_EQ(r2.timestamp - r1.timestamp, 160u);
  CHECK_EQ(r1.ssrc, r2.ssrc);
}

TEST(leg_ssrc_change_resyncs_and_timeout) {
  Leg leg(cfg(), -1);
  Capture cap;
  const SockAddr remote = addr("10.0.0.1", 4000);
  for (uint16_t i = 0; i < 3; i++) {
    auto a = audio(i, 1000u + 160u * i, 1, 2000);
    leg.onDatagram(a.data(), a.size(), false, remote, 0, cap);
  }
  // The mixer gets a leg's audio kDtmfHoldBackFrames ticks late (DTMF gate).
  for (int i = 0; i <= kDtmfHoldBackFrames; i++) leg.pullInput(0, 1000, cap);
  CHECK(leg.inActive);
  // New SSRC with unrelated timestamps: buffer restarts, no huge concealment.
  for (uint16_t i = 0; i < 3; i++) {
    auto a = audio(static_cast<uint16_t>(500 + i), 77777u + 160u * i, 2, -2000);
    leg.onDatagram(a.data(), a.size(), false, remote, 0, cap);
  }
  for (int i = 0; i <= kDtmfHoldBackFrames; i++) leg.pullInput(20, 1000, cap);
  CHECK(leg.inActive);
  CHECK(leg.in[0] < 0);
  CHECK_EQ(leg.stats.framesConcealed.load(), 0u);
  leg.pullInput(999, 1000, cap);
  for (const Event& e : cap.events) CHECK(e.type != EventType::RtpTimeout);
  leg.pullInput(1000, 1000, cap);
  leg.pullInput(1020, 1000, cap);
  int timeouts = 0;
  for (const Event& e : cap.events) timeouts += e.type == EventType::RtpTimeout;
  CHECK_EQ(timeouts, 1);
}

// A call whose media never arrives must be reported like one whose media
// stopped, counted from when its remote was set; a leg with no remote yet
// (no SDP answer) is not waiting for anything.
TEST(leg_timeout_without_any_rtp_counts_from_remote) {
  Capture cap;
  Leg waiting(cfg(), -1);
  for (int64_t t = 0; t <= 5000; t += 20) waiting.pullInput(t, 1000, cap);
  CHECK(cap.events.empty());

  Leg silent(cfg(), -1);
  silent.setRemote(addr("10.0.0.1", 4000), 3000);
  for (int64_t t = 3000; t < 4000; t += 20) silent.pullInput(t, 1000, cap);
  CHECK(cap.events.empty());
  for (int64_t t = 4000; t <= 6000; t += 20) silent.pullInput(t, 1000, cap);
  int timeouts = 0;
  for (const Event& e : cap.events) timeouts += e.type == EventType::RtpTimeout;
  CHECK_EQ(timeouts, 1);
}

namespace {
std::vector<uint8_t> press(uint16_t seq, uint32_t ts, uint8_t ev) {
  return dtmf(seq, ts, 77, ev, false, 160);
}
}  // namespace

TEST(leg_dtmf_flood_is_rate_limited) {
  Leg leg(cfg(), -1);
  Capture cap;
  const SockAddr remote = addr("10.0.0.1", 4000);
  // 500 distinct presses in the same millisecond: only the burst gets through.
  uint16_t seq = 1;
  for (int i = 0; i < 500; i++) {
    auto d = press(seq++, 1000u + 800u * static_cast<uint32_t>(i), static_cast<uint8_t>(i % 10));
    leg.onDatagram(d.data(), d.size(), false, remote, 1000, cap);
  }
  CHECK_EQ(cap.digits().size(), static_cast<size_t>(kDtmfBurst));
  CHECK_EQ(leg.stats.dtmfSuppressed.load(), 500u - kDtmfBurst);
  // Sustained flood for 10 s at one press per ms: about 20 per second pass.
  cap.events.clear();
  for (int64_t t = 1001; t < 11001; t++) {
    auto d = press(seq++, 900000u + 800u * static_cast<uint32_t>(t), static_cast<uint8_t>(t % 10));
    leg.onDatagram(d.data(), d.size(), false, remote, t, cap);
  }
  CHECK(cap.digits().size() >= 195 && cap.digits().size() <= 205);
  // A human typing (one press every 150 ms) is never throttled.
  cap.events.clear();
  for (int i = 0; i < 40; i++) {
    auto d = press(seq++, 5000000u + 800u * static_cast<uint32_t>(i), static_cast<uint8_t>(i % 10));
    leg.onDatagram(d.data(), d.size(), false, remote, 20000 + 150 * i, cap);
  }
  CHECK_EQ(cap.digits().size(), 40u);
}

TEST(leg_hold_music_loops_and_replaces_room) {
  Leg leg(cfg(), -1);
  Capture cap;
  auto music = std::make_shared<Sound>();
  for (int i = 0; i < 100; i++) music->samples.push_back(static_cast<int16_t>(i + 1));
  Playback* p = new Playback();
  p->sounds.push_back(music);
  p->loop = true;
  leg.hold(p, cap);
  CHECK(leg.held());
  CHECK(leg.source() == Leg::Source::Own);
  uint8_t buf[200];
  leg.setRemote(addr("10.0.0.1", 4000), 0);  // fd -1: nothing is sent
  for (int t = 0; t < 4; t++) {
    leg.produceAndSend(cap, buf);
    // 160 samples per frame over a 100-sample loop
    for (int i = 0; i < kFrameSamples; i++) CHECK_EQ(leg.out[i], ((t * kFrameSamples + i) % 100) + 1);
  }
  CHECK(cap.events.empty());
  // Replacing the music hands the old playback back; unhold the new one.
  Playback* q = new Playback();
  q->loop = true;  // no sounds at all: silence, and no endless loop
  leg.hold(q, cap);
  leg.produceAndSend(cap, buf);
  CHECK_EQ(leg.out[0], 0);
  leg.unhold(cap);
  CHECK(!leg.held());
  CHECK_EQ(cap.events.size(), 2u);
  CHECK(cap.events[0].playback == p && cap.events[1].playback == q);
  for (const Event& e : cap.events) {
    CHECK(e.type == EventType::FreePlayback);
    delete e.playback;
  }
  CHECK(leg.source() == Leg::Source::Silence);  // lobby
}

TEST(leg_g711_silence_codes) {
  CHECK_EQ(g711::silence(Codec::PCMU), g711::linearToUlaw(0));
  CHECK_EQ(g711::silence(Codec::PCMA), g711::linearToAlaw(0));
}
