#include "resampler.h"

#include <speex/speex_resampler.h>

#include <cstring>
#include <new>

namespace media {

Resampler::Resampler(uint32_t inRate, uint32_t outRate, int quality) : inRate_(inRate), outRate_(outRate) {
  int err = 0;
  st_ = speex_resampler_init(1, inRate, outRate, quality, &err);
  if (st_ == nullptr) throw std::bad_alloc();
  // No skip_zeros here: a stream keeps the filter's few ms of delay so every
  // call consumes all its input and yields exactly n * out / in samples.
}

Resampler::~Resampler() { speex_resampler_destroy(st_); }

void Resampler::reset() {
  speex_resampler_reset_mem(st_);
}

void Resampler::process(const int16_t* in, int n, int16_t* out) {
  const spx_uint32_t want = static_cast<spx_uint32_t>(static_cast<uint64_t>(n) * outRate_ / inRate_);
  spx_uint32_t inLen = static_cast<spx_uint32_t>(n);
  spx_uint32_t outLen = want;
  speex_resampler_process_int(st_, 0, in, &inLen, out, &outLen);
  if (outLen < want) std::memset(out + outLen, 0, (want - outLen) * sizeof(int16_t));
}

void Resampler::convert(const std::vector<int16_t>& in, uint32_t inRate, std::vector<int16_t>& out,
                        uint32_t outRate) {
  out.clear();
  if (in.empty() || inRate == 0 || outRate == 0) return;
  if (inRate == outRate) {
    out = in;
    return;
  }
  int err = 0;
  SpeexResamplerState_* st = speex_resampler_init(1, inRate, outRate, 8, &err);
  if (st == nullptr) throw std::bad_alloc();
  // Skip the filter's delay so the sound starts on time, then flush it with
  // zeros so the tail is not cut.
  speex_resampler_skip_zeros(st);
  const size_t n = static_cast<size_t>(static_cast<uint64_t>(in.size()) * outRate / inRate);
  out.assign(n, 0);
  const int latency = speex_resampler_get_input_latency(st);
  std::vector<int16_t> padded(in);
  padded.insert(padded.end(), static_cast<size_t>(latency) + 1, 0);
  spx_uint32_t inLen = static_cast<spx_uint32_t>(padded.size());
  spx_uint32_t outLen = static_cast<spx_uint32_t>(n);
  speex_resampler_process_int(st, 0, padded.data(), &inLen, out.data(), &outLen);
  speex_resampler_destroy(st);
}

}  // namespace media
