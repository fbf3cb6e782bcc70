// A leg whose codec is re-negotiated mid-call (Leg::setCodec): the room's
// rate follows, and the new codec's audio comes through.
#include <cmath>
#include <vector>

#include "audio_codec.h"
#include "harness.h"
#include "leg.h"
#include "leg_config.h"
#include "mix.h"
#include "room.h"
#include "rtp.h"
#include "tone.h"

using namespace media;

namespace {
struct DropSink : EventSink {
  void emit(const Event& e) override { delete e.playback; }
};
}  // namespace

TEST(set_codec_moves_room_rate_and_decodes_new_codec) {
  DropSink sink;
  Room room;
  Leg phone(th::legConfig(1, Codec::PCMU, 0), -1), listener(th::legConfig(2, Codec::PCMU, 0), -1);
  phone.speak = phone.hear = listener.hear = true;
  roomAdd(room, phone);
  roomAdd(room, listener);
  CHECK_EQ(room.rate, 8000);
  phone.setCodec(Codec::G722, 9);
  CHECK_EQ(room.rate, 16000);
  CHECK_EQ(room.wideMembers, 1u);
  CHECK_EQ(phone.rate(), 16000);
  CHECK_EQ(phone.config().payloadType, 9);
  // The same codec again (another re-INVITE) changes nothing.
  phone.setCodec(Codec::G722, 9);
  CHECK_EQ(room.wideMembers, 1u);

  AudioCodec enc(Codec::G722);
  std::vector<int16_t> heard;
  const SockAddr from = SockAddr::none();
  for (int f = 0; f < 60; f++) {
    int16_t pcm[320];
    for (int i = 0; i < 320; i++) pcm[i] = static_cast<int16_t>(std::lround(6000 * std::sin(2 * M_PI * 1000 * (f * 320 + i) / 16000.0)));
    uint8_t pkt[12 + 160];
    writeRtpHeader(pkt, false, 9, static_cast<uint16_t>(f), static_cast<uint32_t>(f * 160), 5);
    enc.encode(pcm, 320, pkt + 12);
    phone.onDatagram(pkt, sizeof pkt, false, from, 0, sink);
    phone.pullInput(f * 20, 0, sink);
    listener.pullInput(f * 20, 0, sink);
    mixRoom(room);
    const int16_t* mix = room.mixAt(8000);
    heard.insert(heard.end(), mix, mix + 160);
  }
  const double level = 20 * std::log10(th::toneAmplitude(heard, 4800, 3200, 1000, 8000) / 6000);
  CHECK(std::fabs(level) < 1.0);
  // Old packets in the previous payload type are not audio any more.
  uint8_t old[12 + 160] = {};
  writeRtpHeader(old, false, 0, 100, 100 * 160, 5);
  phone.onDatagram(old, sizeof old, false, from, 0, sink);
  CHECK_EQ(phone.stats.packetsUnknownPayload.load(), 1u);

  phone.setCodec(Codec::PCMA, 8);
  CHECK_EQ(room.rate, 8000);
  CHECK_EQ(room.wideMembers, 0u);
  roomRemove(phone);
  roomRemove(listener);
}
