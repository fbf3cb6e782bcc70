#include "mix.h"

#include <cmath>
#include <cstring>

#include "room.h"

namespace media {

void accumulate(int32_t* sum, const int16_t* frame, int n) {
  for (int i = 0; i < n; i++) sum[i] += frame[i];
}

void mixMinusOwn(int16_t* out, const int32_t* sum, const int16_t* own, int n) {
  if (own == nullptr) {
    for (int i = 0; i < n; i++) out[i] = clamp16(sum[i]);
  } else {
    for (int i = 0; i < n; i++) out[i] = clamp16(sum[i] - own[i]);
  }
}

void addSaturating(int16_t* dst, const int16_t* src, int n) {
  for (int i = 0; i < n; i++) dst[i] = clamp16(static_cast<int32_t>(dst[i]) + src[i]);
}

void applyGain(int16_t* x, int n, float gain) {
  for (int i = 0; i < n; i++) {
    const float v = static_cast<float>(x[i]) * gain;
    x[i] = clamp16(static_cast<int32_t>(v >= 0.f ? v + 0.5f : v - 0.5f));
  }
}

namespace {
constexpr int kBlocks = 20;  // 1 ms blocks: 8 samples at 8 kHz, 16 at 16 kHz
// Per-block release toward 1: 1 - exp(-1 ms / 60 ms).
constexpr float kRelease = 0.016528f;
}  // namespace

void limitFrame(const int32_t* sum, const int16_t* own, int16_t* out, float& gain, int n) {
  const int kBlock = n / kBlocks;
  int32_t x[kMaxFrameSamples];
  if (own == nullptr) {
    std::memcpy(x, sum, static_cast<size_t>(n) * sizeof(int32_t));
  } else {
    for (int i = 0; i < n; i++) x[i] = sum[i] - own[i];
  }
  float need[kBlocks];
  bool over = false;
  for (int b = 0; b < kBlocks; b++) {
    int32_t peak = 0;
    for (int i = b * kBlock; i < (b + 1) * kBlock; i++) {
      const int32_t a = x[i] < 0 ? -x[i] : x[i];
      if (a > peak) peak = a;
    }
    if (peak > kLimiterThreshold) {
      need[b] = static_cast<float>(kLimiterThreshold) / static_cast<float>(peak);
      over = true;
    } else {
      need[b] = 1.f;
    }
  }
  if (!over && gain >= 0.9999f) {  // common case: nothing to do
    gain = 1.f;
    for (int i = 0; i < n; i++) out[i] = static_cast<int16_t>(x[i]);
    return;
  }
  float g[kBlocks + 1];
  g[0] = gain < need[0] ? gain : need[0];
  for (int b = 0; b < kBlocks; b++) {
    float next = g[b] + (1.f - g[b]) * kRelease;
    if (next > need[b]) next = need[b];
    if (b + 1 < kBlocks && next > need[b + 1]) next = need[b + 1];
    g[b + 1] = next;
  }
  for (int b = 0; b < kBlocks; b++) {
    const float step = (g[b + 1] - g[b]) / static_cast<float>(kBlock);
    for (int k = 0; k < kBlock; k++) {
      const int i = b * kBlock + k;
      const float v = static_cast<float>(x[i]) * (g[b] + step * static_cast<float>(k));
      // Both ends of the interpolation are <= need[b]: |v| <= threshold.
      out[i] = clamp16(static_cast<int32_t>(v >= 0.f ? v + 0.5f : v - 0.5f));
    }
  }
  gain = g[kBlocks];
}

namespace {
// Inserts `l` with `score` into the descending list chosen/scores of `n`
// entries (capacity `cap`); drops the quietest when full.
void rankInsert(Leg* l, float s, Leg** chosen, float* scores, int& n, int cap) {
  if (n == cap && s <= scores[n - 1]) return;
  int pos = n < cap ? n++ : cap - 1;
  while (pos > 0 && scores[pos - 1] < s) {
    scores[pos] = scores[pos - 1];
    chosen[pos] = chosen[pos - 1];
    pos--;
  }
  scores[pos] = s;
  chosen[pos] = l;
}
const float kQuietFloorMs = static_cast<float>(32767.0 * 32767.0 * std::pow(10.0, kQuietTalkerFloorDb / 10.0));
}  // namespace

int selectTalkers(Room& room, Leg** chosen) {
  int n = 0;
  float score[kMaxTalkersLimit];
  const int cap = static_cast<int>(room.maxTalkers < 1 ? 1
                                   : room.maxTalkers > kMaxTalkersLimit ? kMaxTalkersLimit
                                                                        : room.maxTalkers);
  bool quietCandidates = false;
  for (Leg* l = room.head; l != nullptr; l = l->roomNext) {
    const bool was = l->mixed;
    l->wasMixed = was;
    l->mixed = false;
    l->whispered = false;
    if (!l->speak || !l->inActive || l->held() || l->whispers()) continue;
    if (!l->talking()) {
      quietCandidates = quietCandidates || l->score() >= kQuietFloorMs;
      continue;
    }
    rankInsert(l, was ? l->score() * 2.f : l->score(), chosen, score, n, cap);  // +3 dB to stay
  }
  // Free slots go to the loudest legs that speak too softly to count as
  // talking but are above the noise floor: a quiet phone is still heard
  // when nobody else talks.
  if (n < cap && quietCandidates) {
    Leg* quiet[kMaxTalkersLimit];
    float quietScore[kMaxTalkersLimit];
    int q = 0;
    const int free = cap - n;
    for (Leg* l = room.head; l != nullptr; l = l->roomNext) {
      if (!l->speak || !l->inActive || l->held() || l->whispers() || l->talking()) continue;
      if (l->score() < kQuietFloorMs) continue;
      rankInsert(l, l->wasMixed ? l->score() * 2.f : l->score(), quiet, quietScore, q, free);
    }
    for (int i = 0; i < q; i++) chosen[n++] = quiet[i];
  }
  for (int i = 0; i < n; i++) chosen[i]->mixed = true;
  return n;
}

void mixRoom(Room& room, EventSink* sink) {
  Leg* chosen[kMaxTalkersLimit];
  const int n = selectTalkers(room, chosen);
  // A leg entering the mix was hearing the shared mix: its own limiter
  // continues from that state, so its level does not jump.
  for (int i = 0; i < n; i++) {
    if (!chosen[i]->wasMixed) chosen[i]->limiterGain = room.limiterGain;
  }
  const int samples = room.frameSamples();
  std::memset(room.sum, 0, sizeof room.sum);
  for (int i = 0; i < n; i++) accumulate(room.sum, chosen[i]->in, samples);
  room.talkersMixed = static_cast<uint32_t>(n);
  room.encodedValid[0] = room.encodedValid[1] = false;
  room.mix8Valid = false;
  if (n == 0) {
    std::memset(room.mix, 0, sizeof room.mix);
    room.limiterGain = 1.f;
  } else {
    limitFrame(room.sum, nullptr, room.mix, room.limiterGain, samples);
  }
  for (int i = 0; i < n; i++) {
    Leg* l = chosen[i];
    if (!l->hear) continue;
    limitFrame(room.sum, l->in, l->out, l->limiterGain, samples);
  }
  if (sink != nullptr && room.player.current != nullptr) {
    int16_t announcement[kMaxFrameSamples];
    if (renderSounds(*room.player.current, announcement, false, room.rate)) {
      endPlayback(room.player, false, false, 0, room.id, *sink);
      room.player.current = room.player.popWaiting();  // the next one starts next tick
    }
    addSaturating(room.mix, announcement, samples);
    for (int i = 0; i < n; i++) {
      if (chosen[i]->hear) addSaturating(chosen[i]->out, announcement, samples);
    }
  }
  mixWhispers(room, samples);
  if (room.recorder != nullptr) record(room, samples);
}

void mixWhispers(Room& room, int samples) {
  Leg* whisperers[kMaxWhisperersPerRoom];
  int w = 0;
  for (Leg* l = room.head; l != nullptr && w < kMaxWhisperersPerRoom; l = l->roomNext) {
    if (l->whispers() && l->speak && l->inActive && !l->held()) whisperers[w++] = l;
  }
  if (w == 0) return;
  for (Leg* t = room.head; t != nullptr; t = t->roomNext) {
    if (!t->hear || t->held()) continue;
    for (int i = 0; i < w; i++) {
      if (whisperers[i] == t || !whisperers[i]->whisperTarget(t->id())) continue;
      // A listener of the shared mix gets its own copy with the whisper in.
      if (!t->mixed && !t->whispered) std::memcpy(t->out, room.mix, static_cast<size_t>(samples) * sizeof(int16_t));
      t->whispered = true;
      addSaturating(t->out, whisperers[i]->in, samples);
    }
  }
}

void record(Room& room, int samples) {
  Recorder& r = *room.recorder;
  r.pushMix(room.mix, samples, room.rate);
  // A track is what the leg says into the room: nothing while muted, held,
  // whispering or silent (the writer fills silence).
  for (Leg* l = room.head; l != nullptr; l = l->roomNext) {
    if (l->speak && l->inActive && !l->held() && !l->whispers()) r.pushTrack(l->id(), l->in, samples, room.rate);
  }
  r.endTick();
}

}  // namespace media
