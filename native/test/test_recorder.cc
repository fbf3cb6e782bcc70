// Recorder: ring -> writer thread -> WAV files, aligned tracks, padding.
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "harness.h"
#include "recorder.h"

using namespace media;

namespace {
long fileSize(const std::string& p) {
  FILE* f = std::fopen(p.c_str(), "rb");
  if (f == nullptr) return -1;
  std::fseek(f, 0, SEEK_END);
  const long n = std::ftell(f);
  std::fclose(f);
  return n;
}
}  // namespace

TEST(recorder_writes_aligned_files_off_thread) {
  char dir[] = "/tmp/rec-native-XXXXXX";
  CHECK(mkdtemp(dir) != nullptr);
  const std::string mix = std::string(dir) + "/mix.wav";
  std::atomic<int> woken{0};
  {
    Recorder r(1, mix, dir, 16000, [&] { woken++; });
    int16_t frame8[160], frame16[320];
    for (int i = 0; i < 160; i++) frame8[i] = static_cast<int16_t>(i);
    for (int i = 0; i < 320; i++) frame16[i] = static_cast<int16_t>(-i);
    for (int t = 0; t < 100; t++) {
      r.pushMix(t < 50 ? frame8 : frame16, t < 50 ? 160 : 320, t < 50 ? 8000 : 16000);
      if (t >= 30 && t < 40) r.pushTrack(7, frame8, 160, 8000);  // starts late, stops early
      r.endTick();
    }
    r.finish();
    for (int i = 0; i < 500 && !r.finished(); i++) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    CHECK(r.finished());
    CHECK(r.result().error.empty());
    CHECK_EQ(r.result().durationMs, 2000u);
    CHECK_EQ(r.result().framesDropped, 0u);
    CHECK_EQ(r.result().tracks.size(), 1u);
  }
  CHECK_EQ(woken.load(), 1);
  CHECK_EQ(fileSize(mix), 44 + 100 * 320 * 2);
  CHECK_EQ(fileSize(std::string(dir) + "/leg-7.wav"), 44 + 100 * 320 * 2);
  std::remove(mix.c_str());
  std::remove((std::string(dir) + "/leg-7.wav").c_str());
  rmdir(dir);
}

TEST(recorder_bad_paths_throw) {
  bool threw = false;
  try {
    Recorder r(1, "/nonexistent-dir/x.wav", "", 8000, nullptr);
  } catch (const std::runtime_error& e) {
    threw = std::string(e.what()).find("cannot create") != std::string::npos;
  }
  CHECK(threw);
  threw = false;
  try {
    Recorder r(1, "/tmp/rec-ok.wav", "/nonexistent-dir", 8000, nullptr);
  } catch (const std::runtime_error& e) {
    threw = std::string(e.what()).find("not a directory") != std::string::npos;
  }
  CHECK(threw);
  std::remove("/tmp/rec-ok.wav");
}
