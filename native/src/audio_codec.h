// Per-leg encoder/decoder state. G.711 is stateless (tables in g711.h);
// G.722 (spandsp, 64 kbit/s, 16 kHz audio) keeps ADPCM state per direction.
// The G.722 state is allocated at leg creation on the JS thread whatever the
// codec, so a re-negotiation can switch codecs on the worker without
// allocating (set()). Opus state (opus_codec.h, tens of kB) exists only for
// legs that run Opus: made at creation, or on the JS thread and handed over
// with set() when a re-negotiation first picks Opus.
#pragma once

#include <cstdint>
#include <memory>

#include "concealer.h"
#include "g711.h"
#include "opus_codec.h"

struct g722_encode_state_s;
struct g722_decode_state_s;

namespace media {

class AudioCodec {
 public:
  explicit AudioCodec(Codec codec);
  ~AudioCodec();
  AudioCodec(const AudioCodec&) = delete;
  AudioCodec& operator=(const AudioCodec&) = delete;

  Codec codec() const { return codec_; }
  int rate() const { return codecRate(codec_); }
  // Samples per 20 ms frame at the codec's rate (160 or 320); the payload is
  // always 160 bytes.
  int frameSamples() const { return rate() / 50; }

  // Switches to `codec` with fresh state (no allocation). `opus`: Opus state
  // to adopt (ownership passes) when the codec has none yet. Switching to
  // Opus without any state leaves the codec unchanged and returns false.
  bool set(Codec codec, OpusCodec* opus = nullptr);
  bool hasOpus() const { return opus_ != nullptr; }
  OpusCodec* opus() { return opus_.get(); }

  // G.711/G.722: `bytes` payload bytes -> bytes * rate/8000 samples.
  // Opus: one packet -> 320 samples (concealed when not valid).
  int decode(const uint8_t* in, int bytes, int16_t* out);
  // Packet-loss concealment on decoded audio. keep(): a frame decoded from
  // a real packet (G.711/G.722: remembered by the Concealer, which also
  // smooths the step back from a concealed stretch, so `pcm` may change).
  // conceal(): the frame to play instead of a lost or inserted one (pitch
  // repeat fading out for G.711/G.722; the decoder's PLC for Opus).
  void keep(int16_t* pcm, int samples);
  void conceal(int16_t* pcm, int samples);

  // G.711/G.722: `samples` samples -> samples * 8000/rate bytes.
  // Opus: one 20 ms frame -> its packet's size (<= OpusCodec::kMaxPayload).
  int encode(const int16_t* in, int samples, uint8_t* out);

 private:
  Codec codec_;
  g722_encode_state_s* enc_ = nullptr;
  g722_decode_state_s* dec_ = nullptr;
  Concealer plc_;
  std::unique_ptr<OpusCodec> opus_;
};

}  // namespace media
