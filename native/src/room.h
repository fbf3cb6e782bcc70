// A conference room as seen by its worker: an intrusive list of member legs
// (joining never allocates) and the room's mix accumulator.
#pragma once

#include <cstdint>

#include "leg.h"

namespace media {

constexpr int kMaxTalkersLimit = 32;

struct Room {
  uint32_t id = 0;
  Leg* head = nullptr;
  uint32_t members = 0;
  uint32_t maxTalkers = 4;  // loudest talkers mixed (1..kMaxTalkersLimit)
  Room* prev = nullptr;  // worker's list of rooms
  Room* next = nullptr;
  OwnedEventNode node{};  // worker's overflow FIFO of ownership events
  int32_t sum[kFrameSamples];
  // The shared mix every hearing non-talker gets (all selected talkers,
  // limited), and its encodings, made at most once per codec per tick.
  int16_t mix[kFrameSamples];
  float limiterGain = 1.f;
  uint8_t encoded[2][kFrameSamples];
  bool encodedValid[2] = {false, false};
  uint32_t talkersMixed = 0;  // this tick

  const uint8_t* sharedPayload(Codec codec) {
    const int c = static_cast<int>(codec);
    if (!encodedValid[c]) {
      g711::encode(codec, mix, encoded[c], kFrameSamples);
      encodedValid[c] = true;
    }
    return encoded[c];
  }
};

inline void roomAdd(Room& room, Leg& leg) {
  leg.room = &room;
  leg.roomPrev = nullptr;
  leg.roomNext = room.head;
  if (room.head != nullptr) room.head->roomPrev = &leg;
  room.head = &leg;
  room.members++;
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
}

}  // namespace media
