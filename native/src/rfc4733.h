// RFC 4733 telephone-event decoder: turns a stream of event packets into key
// presses, each reported exactly once, AT THE START of the press (the first
// packet seen of it) for snappy type-ahead.
//
// A press is told from a retransmission by (SSRC, timestamp, event code,
// sequence number, end bit, duration):
//  - a different SSRC, timestamp or event code starts a new press;
//  - packets with a sequence number not newer than the last one seen from the
//    same SSRC are ignored (duplicates, late reordering);
//  - after an end packet, a newer NON-end packet starts a new press (sipp's
//    stock pcaps reuse one timestamp for every digit, so "11" stays two);
//  - a duration that goes backwards (newer seq, same timestamp) starts a new
//    press; end packets repeated with the same duration are retransmissions.
// durationMs is known only when the first packet seen of a press is already an
// end packet (its start was lost); otherwise it is 0.
#pragma once

#include <cstddef>
#include <cstdint>

namespace media {

struct DtmfPress {
  char digit = 0;
  uint32_t durationMs = 0;
};

enum class DtmfFeed { NewPress, Continuation, Ignored, Malformed };

class Rfc4733Decoder {
 public:
  // clockRate: RTP clock of the telephone-event PT (8000 normally).
  explicit Rfc4733Decoder(uint32_t clockRate = 8000) : clockRate_(clockRate) {}
  DtmfFeed feed(uint32_t ssrc, uint16_t seq, uint32_t timestamp, const uint8_t* payload,
                size_t size, DtmfPress& out);
  void reset() { have_ = false; }

  static char digitForEvent(uint8_t event);

 private:
  uint32_t clockRate_;
  bool have_ = false;
  uint32_t ssrc_ = 0;
  uint32_t timestamp_ = 0;
  uint8_t event_ = 0;
  uint16_t lastSeq_ = 0;
  uint16_t lastDuration_ = 0;
  bool ended_ = false;
  uint16_t endDuration_ = 0;
};

}  // namespace media
