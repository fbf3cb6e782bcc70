// Fixed-size POD messages between the JS thread and mixer workers.
// Commands: JS thread -> worker (SPSC ring per worker, JS is the producer).
// Events:   worker -> JS thread (SPSC ring per worker, worker is the producer).
// Pointers in commands hand ownership to the worker; pointers in events hand
// it back to the JS thread, which frees them. Workers never allocate or free.
#pragma once

#include <cstdint>

#include "sockaddr.h"

namespace media {

class Leg;
struct Room;
struct Playback;

enum class CmdType : uint8_t {
  AttachLeg,     // leg: start serving it (register socket)
  DetachLeg,     // leg: stop serving, hand back (LegDetached) for migration
  CloseLeg,      // leg: stop serving, hand back (LegClosed) to be freed
  SetRemote,     // leg, addr
  Play,          // leg, playback (replaces the current one)
  StopPlayback,  // leg
  Join,          // leg, room, speak, hear (leaves any current room)
  Update,        // leg, speak, hear
  Leave,         // leg
  AddRoom,       // room
  CloseRoom,     // room: members return to the lobby; RoomClosed hands it back
};

struct Command {
  CmdType type;
  bool speak;
  bool hear;
  uint32_t roomId;  // Join: resolved again when replayed after a migration
  Leg* leg;
  Room* room;
  Playback* playback;
  SockAddr addr;
};

enum class EventType : uint8_t {
  Dtmf,          // legId, digit, durationMs
  PlaybackDone,  // legId, playbackId, interrupted, playback (to free)
  RtpTimeout,    // legId
  LegDetached,   // leg (now owned by the JS thread until re-attached)
  LegClosed,     // leg (to free)
  RoomClosed,    // room (to free)
};

struct Event {
  EventType type;
  char digit;
  bool interrupted;
  uint32_t legId;
  uint32_t playbackId;
  uint32_t durationMs;
  Leg* leg;
  Room* room;
  Playback* playback;
};

// Where worker-side code reports events (the worker's ring, or a test).
class EventSink {
 public:
  virtual ~EventSink() = default;
  virtual void emit(const Event& e) = 0;
};

}  // namespace media
