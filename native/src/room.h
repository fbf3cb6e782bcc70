// A conference room as seen by its worker: an intrusive list of member legs
// (joining never allocates) and the room's mix accumulator.
#pragma once

#include <cstdint>

#include "leg.h"

namespace media {

struct Room {
  uint32_t id = 0;
  Leg* head = nullptr;
  uint32_t members = 0;
  Room* prev = nullptr;  // worker's list of rooms
  Room* next = nullptr;
  int32_t sum[kFrameSamples];
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
  room->members--;
}

}  // namespace media
