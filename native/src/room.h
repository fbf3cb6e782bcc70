// A conference room as seen by its worker: an intrusive list of member legs
// (joining never allocates) and the room's mix accumulator. The room mixes
// at the rate of its widest member: 16 kHz while a G.722 leg is in it, else
// 8 kHz (narrowband legs are resampled to and from it, see Leg).
#pragma once

#include <cstdint>

#include "leg.h"
#include "recorder.h"

namespace media {

constexpr int kMaxTalkersLimit = 32;

struct Room {
  Room() : down(16000, 8000) {}
  ~Room() { player.clear(); }  // teardown only: a closed room hands its playbacks back first
  Room(const Room&) = delete;
  Room& operator=(const Room&) = delete;
  uint32_t id = 0;
  int rate = 8000;
  uint32_t wideMembers = 0;  // members whose codec runs at 16 kHz
  int frameSamples() const { return rate / 50; }
  Leg* head = nullptr;
  uint32_t members = 0;
  uint32_t maxTalkers = 4;  // loudest talkers mixed (1..kMaxTalkersLimit)
  Room* prev = nullptr;  // worker's list of rooms
  Room* next = nullptr;
  OwnedEventNode node{};  // worker's overflow FIFO of ownership events
  int32_t sum[kMaxFrameSamples];
  // The shared mix every hearing non-talker gets (all selected talkers,
  // limited, at the room's rate), its 8 kHz version in a wideband room, and
  // its G.711 encodings: each made at most once per tick.
  int16_t mix[kMaxFrameSamples];
  float limiterGain = 1.f;
  int16_t mix8[kFrameSamples];
  bool mix8Valid = false;
  Resampler down;
  uint8_t encoded[2][kFrameSamples];
  bool encodedValid[2] = {false, false};
  uint32_t talkersMixed = 0;  // this tick
  Recorder* recorder = nullptr;  // fed by mixRoom while recording (owned by the JS thread)
  PlaybackQueue player;  // announcements: heard by every hearing member, and recorded

  // The shared mix at `legRate` (8000 or 16000 <= rate).
  const int16_t* mixAt(int legRate) {
    if (legRate == rate) return mix;
    if (!mix8Valid) {
      down.process(mix, kMaxFrameSamples, mix8);
      mix8Valid = true;
    }
    return mix8;
  }

  // G.711 only (G.722 legs encode their own stream).
  const uint8_t* sharedPayload(Codec codec) {
    const int c = static_cast<int>(codec);
    if (!encodedValid[c]) {
      g711::encode(codec, mixAt(8000), encoded[c], kFrameSamples);
      encodedValid[c] = true;
    }
    return encoded[c];
  }
};

inline void updateRoomRate(Room& room) {
  const int rate = room.wideMembers > 0 ? 16000 : 8000;
  if (rate == room.rate) return;
  room.rate = rate;
  room.down.reset();
  room.limiterGain = 1.f;
}

inline void roomAdd(Room& room, Leg& leg) {
  leg.room = &room;
  leg.roomPrev = nullptr;
  leg.roomNext = room.head;
  if (room.head != nullptr) room.head->roomPrev = &leg;
  room.head = &leg;
  room.members++;
  if (leg.rate() == 16000) room.wideMembers++;
  updateRoomRate(room);
}

inline void roomRemove(Leg& leg) {
  Room* room = leg.room;
  if (room == nullptr) return;
  if (leg.roomPrev != nullptr) leg.roomPrev->roomNext = leg.roomNext;
  else room->head = leg.roomNext;
  if (leg.roomNext != nullptr) leg.roomNext->roomPrev = leg.roomPrev;
  leg.roomPrev = leg.roomNext = nullptr;
  leg.room = nullptr;
  leg.mixed = false;
  room->members--;
  if (leg.rate() == 16000) room->wideMembers--;
  updateRoomRate(*room);
}

}  // namespace media
