// RFC 4733 telephone-event sender for one leg: turns a digit string into the
// event packets a phone would send, one per 20 ms tick on the leg's own
// SSRC and sequence numbers (the event packet replaces that tick's audio
// packet): the event's timestamp is the tick it started on, the duration
// grows by one tick per packet (marker on the first), the final packet (E
// bit) is sent 3 times on the following ticks (RFC 4733 2.5.1.4), then the
// gap before the next digit carries ordinary audio.
#pragma once

#include <cstddef>
#include <cstdint>

namespace media {

constexpr int kMaxSendDigits = 32;

struct DigitRequest {
  uint32_t id = 0;
  char digits[kMaxSendDigits] = {};
  uint8_t count = 0;
  uint16_t toneTicks = 5;  // 20 ms ticks per key
  uint16_t gapTicks = 5;
};

class Rfc4733Sender {
 public:
  // Event code of a key (0-9 * # A-D), or -1.
  static int eventFor(char digit);

  // Starts `r`, replacing any request in progress (whose id is returned in
  // `replaced`, else 0).
  void start(const DigitRequest& r, uint32_t& replaced);
  bool active() const { return active_; }
  uint32_t requestId() const { return req_.id; }

  // One tick. When it returns true, this tick's packet is a telephone event:
  // `payload` (4 bytes), `timestamp` (the event's) and `marker` are set.
  // `audioTimestamp` is the leg's RTP timestamp for this tick. `finished`
  // becomes true on the tick the request completes (after its last gap).
  bool tick(uint32_t audioTimestamp, uint8_t* payload, uint32_t& timestamp, bool& marker, bool& finished);

 private:
  DigitRequest req_;
  bool active_ = false;
  int index_ = 0;      // digit being sent
  int tickInKey_ = 0;  // ticks since the key started: tone, then 3 end packets, then gap
  uint32_t eventTimestamp_ = 0;
};

}  // namespace media
