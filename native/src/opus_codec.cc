#include "opus_codec.h"

#include <opus/opus.h>

#include <cstring>
#include <new>
#include <stdexcept>

namespace media {

OpusCodec::OpusCodec() {
  int err = OPUS_OK;
  enc_ = opus_encoder_create(kRate, 1, OPUS_APPLICATION_VOIP, &err);
  if (enc_ == nullptr || err != OPUS_OK) throw std::bad_alloc();
  dec_ = opus_decoder_create(kRate, 1, &err);
  if (dec_ == nullptr || err != OPUS_OK) {
    opus_encoder_destroy(enc_);
    throw std::bad_alloc();
  }
  // Speech at a wideband rate, with in-band FEC for the receiver's
  // concealment; complexity kept moderate since every leg encodes its own.
  opus_encoder_ctl(enc_, OPUS_SET_BITRATE(32000));
  opus_encoder_ctl(enc_, OPUS_SET_INBAND_FEC(1));
  opus_encoder_ctl(enc_, OPUS_SET_PACKET_LOSS_PERC(5));
  opus_encoder_ctl(enc_, OPUS_SET_COMPLEXITY(5));
  opus_encoder_ctl(enc_, OPUS_SET_SIGNAL(OPUS_SIGNAL_VOICE));
  opus_encoder_ctl(enc_, OPUS_SET_MAX_BANDWIDTH(OPUS_BANDWIDTH_WIDEBAND));
}

OpusCodec::~OpusCodec() {
  opus_encoder_destroy(enc_);
  opus_decoder_destroy(dec_);
}

void OpusCodec::reset() {
  opus_encoder_ctl(enc_, OPUS_RESET_STATE);
  opus_decoder_ctl(dec_, OPUS_RESET_STATE);
}

int OpusCodec::encode(const int16_t* pcm, uint8_t* out, int maxBytes) {
  if (maxBytes > kMaxPayload) maxBytes = kMaxPayload;
  return opus_encode(enc_, pcm, kFrameSamples, out, maxBytes);
}

bool OpusCodec::decode(const uint8_t* payload, int bytes, int16_t* pcm) {
  // A packet of another duration (10, 40, 60 ms...) does not fit the 20 ms
  // frame the mixer pulls: counted as lost rather than half played.
  if (bytes > 0 && opus_packet_get_nb_samples(payload, bytes, kRate) == kFrameSamples &&
      opus_decode(dec_, payload, bytes, pcm, kFrameSamples, 0) == kFrameSamples) {
    return true;
  }
  conceal(pcm);
  return false;
}

void OpusCodec::conceal(int16_t* pcm, const uint8_t* nextPayload, int nextBytes) {
  if (nextPayload != nullptr && nextBytes > 0 &&
      opus_packet_get_nb_samples(nextPayload, nextBytes, kRate) == kFrameSamples &&
      opus_decode(dec_, nextPayload, nextBytes, pcm, kFrameSamples, 1) == kFrameSamples) {
    fecRecovered++;
    return;
  }
  if (opus_decode(dec_, nullptr, 0, pcm, kFrameSamples, 0) != kFrameSamples) {
    std::memset(pcm, 0, kFrameSamples * sizeof(int16_t));
  }
}

}  // namespace media
