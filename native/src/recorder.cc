#include "recorder.h"

#include <sys/stat.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <stdexcept>

#include "resampler.h"

namespace media {

namespace {
void put32(uint8_t* p, uint32_t v) {
  p[0] = static_cast<uint8_t>(v);
  p[1] = static_cast<uint8_t>(v >> 8);
  p[2] = static_cast<uint8_t>(v >> 16);
  p[3] = static_cast<uint8_t>(v >> 24);
}
void put16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v);
  p[1] = static_cast<uint8_t>(v >> 8);
}
// 44-byte canonical header of a 16-bit mono PCM WAV holding `samples`.
void wavHeader(uint8_t* h, int rate, uint64_t samples) {
  const uint64_t data64 = samples * 2;
  const uint32_t data = data64 > 0xFFFFFFD0u ? 0xFFFFFFD0u : static_cast<uint32_t>(data64);
  std::memcpy(h, "RIFF", 4);
  put32(h + 4, 36 + data);
  std::memcpy(h + 8, "WAVEfmt ", 8);
  put32(h + 16, 16);
  put16(h + 20, 1);  // PCM
  put16(h + 22, 1);  // mono
  put32(h + 24, static_cast<uint32_t>(rate));
  put32(h + 28, static_cast<uint32_t>(rate * 2));
  put16(h + 32, 2);
  put16(h + 34, 16);
  std::memcpy(h + 36, "data", 4);
  put32(h + 40, data);
}
FILE* openWav(const std::string& path, int rate, std::string& error) {
  FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) {
    error = "cannot create " + path + ": " + std::strerror(errno);
    return nullptr;
  }
  uint8_t h[44];
  wavHeader(h, rate, 0);
  if (std::fwrite(h, 1, sizeof h, f) != sizeof h) {
    error = "cannot write " + path + ": " + std::strerror(errno);
    std::fclose(f);
    return nullptr;
  }
  return f;
}
}  // namespace

Recorder::Recorder(uint32_t id, const std::string& mixPath, const std::string& trackDirectory, int sampleRate,
                   std::function<void()> onFinished)
    : id_(id), rate_(sampleRate), trackDir_(trackDirectory), onFinished_(std::move(onFinished)) {
  if (sampleRate != 8000 && sampleRate != 16000) throw std::runtime_error("sampleRate must be 8000 or 16000");
  if (!trackDir_.empty()) {
    struct stat st;
    if (::stat(trackDir_.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
      throw std::runtime_error("track directory " + trackDir_ + " is not a directory");
    }
  }
  std::string error;
  mix_.path = mixPath;
  mix_.file = openWav(mixPath, rate_, error);
  if (mix_.file == nullptr) throw std::runtime_error(error);
  writer_ = std::thread([this] { run(); });
}

Recorder::~Recorder() {
  if (!finishing_.load()) finish();
  if (writer_.joinable()) writer_.join();
}

void Recorder::push(uint32_t stream, const int16_t* pcm, int samples, int rate) {
  RecordFrame f;
  f.tick = tick_;
  f.stream = stream;
  f.rate = static_cast<uint16_t>(rate);
  f.samples = static_cast<uint16_t>(samples);
  std::memcpy(f.pcm, pcm, static_cast<size_t>(samples) * sizeof(int16_t));
  if (!ring_.push(f)) dropped_.store(dropped_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
}

void Recorder::pushMix(const int16_t* pcm, int samples, int rate) { push(0, pcm, samples, rate); }

void Recorder::pushTrack(uint32_t legId, const int16_t* pcm, int samples, int rate) {
  if (trackDir_.empty()) return;
  push(legId, pcm, samples, rate);
}

void Recorder::finish() {
  lastTick_.store(tick_, std::memory_order_relaxed);
  finishing_.store(true, std::memory_order_release);
}

void Recorder::fail(const std::string& message) {
  if (result_.error.empty()) result_.error = message;
}

void Recorder::writeSamples(Stream& s, const int16_t* pcm, size_t n) {
  if (s.file == nullptr) return;
  if (std::fwrite(pcm, sizeof(int16_t), n, s.file) != n) {
    fail("cannot write " + s.path + ": " + std::strerror(errno));
    std::fclose(s.file);
    s.file = nullptr;
    return;
  }
  s.samples += n;
}

void Recorder::writeSilence(Stream& s, uint64_t frames) {
  static const int16_t kZeros[320] = {};
  const size_t per = static_cast<size_t>(rate_ / 50);
  for (uint64_t i = 0; i < frames; i++) writeSamples(s, kZeros, per);
  s.nextTick += frames;
}

void Recorder::write(Stream& s, const RecordFrame& f) {
  if (f.tick < s.nextTick) return;  // cannot happen: one frame per stream per tick
  writeSilence(s, f.tick - s.nextTick);
  if (f.rate == rate_) {
    writeSamples(s, f.pcm, f.samples);
  } else {
    std::unique_ptr<Resampler>& r = f.rate == 8000 ? s.from8 : s.from16;
    if (!r) r = std::make_unique<Resampler>(f.rate, static_cast<uint32_t>(rate_));
    int16_t out[320];
    r->process(f.pcm, f.samples, out);
    writeSamples(s, out, static_cast<size_t>(rate_ / 50));
  }
  s.nextTick = f.tick + 1;
}

void Recorder::close(Stream& s) {
  if (s.file == nullptr) return;
  uint8_t h[44];
  wavHeader(h, rate_, s.samples);
  if (std::fflush(s.file) != 0 || std::fseek(s.file, 0, SEEK_SET) != 0 || std::fwrite(h, 1, sizeof h, s.file) != sizeof h) {
    fail("cannot finish " + s.path + ": " + std::strerror(errno));
  }
  if (std::fclose(s.file) != 0) fail("cannot close " + s.path + ": " + std::strerror(errno));
  s.file = nullptr;
}

void Recorder::run() {
  RecordFrame f;
  for (;;) {
    const bool last = finishing_.load(std::memory_order_acquire);
    bool any = false;
    while (ring_.pop(f)) {
      any = true;
      if (f.stream == 0) {
        write(mix_, f);
        continue;
      }
      auto it = tracks_.find(f.stream);
      if (it == tracks_.end()) {
        Stream s;
        s.path = trackDir_ + "/leg-" + std::to_string(f.stream) + ".wav";
        std::string error;
        s.file = openWav(s.path, rate_, error);
        if (s.file == nullptr) fail(error);
        it = tracks_.emplace(f.stream, std::move(s)).first;
        result_.tracks.push_back({f.stream, it->second.path});
      }
      write(it->second, f);
    }
    if (last) break;  // everything pushed before finish() has been written
    if (!any) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  const uint64_t ticks = lastTick_.load(std::memory_order_relaxed);
  writeSilence(mix_, ticks > mix_.nextTick ? ticks - mix_.nextTick : 0);
  close(mix_);
  for (auto& kv : tracks_) {
    writeSilence(kv.second, ticks > kv.second.nextTick ? ticks - kv.second.nextTick : 0);
    close(kv.second);
  }
  result_.durationMs = ticks * 20;
  result_.framesDropped = dropped_.load(std::memory_order_relaxed);
  done_.store(true, std::memory_order_release);
  if (onFinished_) onFinished_();
}

}  // namespace media
