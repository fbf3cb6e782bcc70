#include "audio_codec.h"

#include <spandsp.h>

#include <new>

namespace media {

AudioCodec::AudioCodec(Codec codec) : codec_(codec) {
  if (codec_ != Codec::G722) return;
  enc_ = g722_encode_init(nullptr, 64000, 0);
  dec_ = g722_decode_init(nullptr, 64000, 0);
  if (enc_ == nullptr || dec_ == nullptr) {
    if (enc_ != nullptr) g722_encode_free(enc_);
    if (dec_ != nullptr) g722_decode_free(dec_);
    throw std::bad_alloc();
  }
}

AudioCodec::~AudioCodec() {
  if (enc_ != nullptr) g722_encode_free(enc_);
  if (dec_ != nullptr) g722_decode_free(dec_);
}

int AudioCodec::decode(const uint8_t* in, int bytes, int16_t* out) {
  if (codec_ == Codec::G722) return g722_decode(dec_, out, in, bytes);
  g711::decode(codec_, in, out, static_cast<size_t>(bytes));
  return bytes;
}

int AudioCodec::encode(const int16_t* in, int samples, uint8_t* out) {
  if (codec_ == Codec::G722) return g722_encode(enc_, out, in, samples);
  g711::encode(codec_, in, out, static_cast<size_t>(samples));
  return samples;
}

}  // namespace media
