// Meeting recorder: the room's mix, and optionally one track per leg, to
// 16-bit mono WAV files. The mixer thread only copies frames into a lock-free
// SPSC ring (no allocation, no lock, no file I/O); a writer thread of the
// recorder's own drains it, resamples to the recording's rate (speexdsp),
// and writes. Created and freed on the JS thread.
//
// Timeline: every frame carries the mixer tick it was made in. The mix file
// gets one frame per tick (silence for ticks whose frame was dropped because
// the ring was full); a track starts with silence from the recording's first
// tick to the leg's first frame and has silence wherever the leg said
// nothing, so all files line up sample for sample and have the same length.
#pragma once

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "spsc_ring.h"

namespace media {

class Resampler;

struct RecordFrame {
  uint64_t tick;
  uint32_t stream;  // 0: the mix; else the leg id of a track
  uint16_t rate;    // 8000 or 16000
  uint16_t samples;
  int16_t pcm[320];
};

struct RecordingTrack {
  uint32_t legId;
  std::string path;
};

struct RecordingResult {
  std::string error;       // empty: success
  uint64_t durationMs = 0;
  uint64_t framesDropped = 0;  // ring full: the writer fell behind
  std::vector<RecordingTrack> tracks;
};

class Recorder {
 public:
  static constexpr size_t kRingFrames = 4096;  // ~80 ms of 50 tracks, or 80 s of the mix alone

  // Opens the mix file (and checks the track directory) now, so a bad path
  // is a synchronous error (std::runtime_error with a clear message);
  // `onFinished` is called from the writer thread once every file is closed.
  Recorder(uint32_t id, const std::string& mixPath, const std::string& trackDirectory, int sampleRate,
           std::function<void()> onFinished);
  ~Recorder();  // joins the writer (finish() must have been called)
  Recorder(const Recorder&) = delete;
  Recorder& operator=(const Recorder&) = delete;

  uint32_t id() const { return id_; }

  // ---- mixer thread (the ring's producer) ----
  void pushMix(const int16_t* pcm, int samples, int rate);
  // No-op unless tracks were asked for.
  void pushTrack(uint32_t legId, const int16_t* pcm, int samples, int rate);
  void endTick() { tick_++; }
  // Last producer call: the writer drains what is queued, closes the files.
  void finish();

  // ---- JS thread ----
  bool finished() const { return done_.load(std::memory_order_acquire); }
  // Valid once finished().
  const RecordingResult& result() const { return result_; }

 private:
  struct Stream {
    FILE* file = nullptr;
    std::string path;
    uint64_t nextTick = 0;
    uint64_t samples = 0;
    std::unique_ptr<Resampler> from8;
    std::unique_ptr<Resampler> from16;
  };
  void push(uint32_t stream, const int16_t* pcm, int samples, int rate);
  void run();
  void write(Stream& s, const RecordFrame& f);
  void writeSilence(Stream& s, uint64_t frames);
  void writeSamples(Stream& s, const int16_t* pcm, size_t n);
  void close(Stream& s);
  void fail(const std::string& message);

  uint32_t id_;
  int rate_;
  std::string trackDir_;
  std::function<void()> onFinished_;
  SpscRing<RecordFrame, kRingFrames> ring_;
  // mixer-thread state
  uint64_t tick_ = 0;
  std::atomic<uint64_t> dropped_{0};
  std::atomic<bool> finishing_{false};
  std::atomic<uint64_t> lastTick_{0};  // ticks recorded, published with finishing_
  // writer-thread state
  Stream mix_;
  std::unordered_map<uint32_t, Stream> tracks_;
  RecordingResult result_;
  std::atomic<bool> done_{false};
  std::thread writer_;
};

}  // namespace media
