// RTP (RFC 3550) fixed header: parse with full validation, write.
#pragma once

#include <cstddef>
#include <cstdint>

namespace media {

constexpr size_t kRtpHeaderSize = 12;

struct RtpPacket {
  bool marker = false;
  uint8_t payloadType = 0;
  uint16_t seq = 0;
  uint32_t timestamp = 0;
  uint32_t ssrc = 0;
  const uint8_t* payload = nullptr;
  size_t payloadSize = 0;
};

enum class RtpParse {
  Ok,
  TooShort,          // shorter than the fixed header
  BadVersion,        // version != 2
  CsrcOverrun,       // CSRC list runs past the end
  ExtensionOverrun,  // header extension runs past the end
  BadPadding,        // padding count 0 or larger than what is left
};

// Validates and parses; on anything but Ok, `out` is unspecified. Never reads
// outside [buf, buf + len).
RtpParse parseRtp(const uint8_t* buf, size_t len, RtpPacket& out);

// Writes the 12-byte fixed header (no CSRC, no extension); returns 12.
size_t writeRtpHeader(uint8_t* buf, bool marker, uint8_t payloadType, uint16_t seq,
                      uint32_t timestamp, uint32_t ssrc);

// Serial-number comparison of 16-bit sequence numbers: a - b as signed.
inline int16_t seqDiff(uint16_t a, uint16_t b) { return static_cast<int16_t>(static_cast<uint16_t>(a - b)); }

}  // namespace media
