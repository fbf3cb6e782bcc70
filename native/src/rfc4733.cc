#include "rfc4733.h"

#include "rtp.h"

namespace media {

char Rfc4733Decoder::digitForEvent(uint8_t event) {
  static const char kDigits[] = "0123456789*#ABCD";
  return event < 16 ? kDigits[event] : 0;
}

DtmfFeed Rfc4733Decoder::feed(uint32_t ssrc, uint16_t seq, uint32_t timestamp,
                              const uint8_t* payload, size_t size, DtmfPress& out) {
  if (payload == nullptr || size < 4) return DtmfFeed::Malformed;
  const uint8_t event = payload[0];
  const bool end = (payload[1] & 0x80) != 0;
  const uint16_t duration = static_cast<uint16_t>((payload[2] << 8) | payload[3]);
  const char digit = digitForEvent(event);
  if (digit == 0) return DtmfFeed::Ignored;  // flash, tones: not key presses

  bool newPress = false;
  if (!have_ || ssrc != ssrc_) {
    newPress = true;
  } else {
    if (seqDiff(seq, lastSeq_) <= 0) return DtmfFeed::Continuation;  // dup / late
    if (timestamp != timestamp_ || event != event_) {
      newPress = true;
    } else if (ended_) {
      // Same timestamp after an end: a fresh non-end packet, or an end whose
      // duration went backwards, is a new press; the rest are retransmissions.
      newPress = !end || duration < endDuration_;
    } else {
      newPress = duration < lastDuration_;
    }
  }

  if (newPress) {
    have_ = true;
    ssrc_ = ssrc;
    timestamp_ = timestamp;
    event_ = event;
    lastSeq_ = seq;
    lastDuration_ = duration;
    ended_ = end;
    endDuration_ = end ? duration : 0;
    out.digit = digit;
    out.durationMs = end && clockRate_ ? static_cast<uint32_t>(duration * 1000ull / clockRate_) : 0;
    return DtmfFeed::NewPress;
  }
  lastSeq_ = seq;
  lastDuration_ = duration;
  if (end && !ended_) {
    ended_ = true;
    endDuration_ = duration;
  }
  return DtmfFeed::Continuation;
}

}  // namespace media
