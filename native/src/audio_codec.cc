#include "audio_codec.h"

#include <spandsp.h>

#include <new>

namespace media {


AudioCodec::AudioCodec(Codec codec) : codec_(codec) {
  enc_ = g722_encode_init(nullptr, 64000, 0);
  dec_ = g722_decode_init(nullptr, 64000, 0);
  if (enc_ == nullptr || dec_ == nullptr) {
    if (enc_ != nullptr) g722_encode_free(enc_);
    if (dec_ != nullptr) g722_decode_free(dec_);
    throw std::bad_alloc();
  }
  plc_.reset(rate());
  if (codec_ == Codec::Opus) {
    try {
      opus_ = std::make_unique<OpusCodec>();
    } catch (...) {
      g722_encode_free(enc_);
      g722_decode_free(dec_);
      throw;
    }
  }
}

AudioCodec::~AudioCodec() {
  g722_encode_free(enc_);
  g722_decode_free(dec_);
}

void AudioCodec::keep(int16_t* pcm, int samples) {
  if (codec_ != Codec::Opus) plc_.keep(pcm, samples);
}

void AudioCodec::conceal(int16_t* pcm, int samples) {
  if (codec_ == Codec::Opus) opus_->conceal(pcm);
  else plc_.conceal(pcm, samples);
}

bool AudioCodec::set(Codec codec, OpusCodec* opus) {
  if (opus != nullptr && !opus_) opus_.reset(opus);
  if (codec == Codec::Opus && !opus_) return false;
  codec_ = codec;
  if (opus_) opus_->reset();
  // spandsp re-initialises state it is given instead of allocating.
  g722_encode_init(enc_, 64000, 0);
  g722_decode_init(dec_, 64000, 0);
  plc_.reset(rate());
  return true;
}

int AudioCodec::decode(const uint8_t* in, int bytes, int16_t* out) {
  if (codec_ == Codec::Opus) {
    opus_->decode(in, bytes, out);
    return OpusCodec::kFrameSamples;
  }
  if (codec_ == Codec::G722) return g722_decode(dec_, out, in, bytes);
  g711::decode(codec_, in, out, static_cast<size_t>(bytes));
  return bytes;
}

int AudioCodec::encode(const int16_t* in, int samples, uint8_t* out) {
  if (codec_ == Codec::Opus) return opus_->encode(in, out, OpusCodec::kMaxPayload);
  if (codec_ == Codec::G722) return g722_encode(enc_, out, in, samples);
  g711::encode(codec_, in, out, static_cast<size_t>(samples));
  return samples;
}

}  // namespace media
