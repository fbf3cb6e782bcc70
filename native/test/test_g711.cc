#include <cstdlib>

#include "g711.h"
#include "harness.h"

using namespace media;

TEST(g711_ulaw_known_values) {
  CHECK_EQ(g711::linearToUlaw(0), 0xFF);
  CHECK_EQ(g711::ulawToLinear(0xFF), 0);
  CHECK_EQ(g711::ulawToLinear(0x7F), 0);
  CHECK_EQ(g711::ulawToLinear(0x80), 32124);
  CHECK_EQ(g711::ulawToLinear(0x00), -32124);
  CHECK_EQ(g711::linearToUlaw(32767), 0x80);
  CHECK_EQ(g711::linearToUlaw(-32768), 0x00);
  CHECK_EQ(g711::ulawToLinear(0xFE), 8);
  CHECK_EQ(g711::ulawToLinear(0xEF), 132);
  CHECK_EQ(g711::ulawToLinear(0xF0), 120);
}

TEST(g711_alaw_known_values) {
  CHECK_EQ(g711::linearToAlaw(0), 0xD5);
  CHECK_EQ(g711::alawToLinear(0xD5), 8);
  CHECK_EQ(g711::alawToLinear(0x55), -8);
  CHECK_EQ(g711::alawToLinear(0xAA), 32256);
  CHECK_EQ(g711::alawToLinear(0x2A), -32256);
  CHECK_EQ(g711::linearToAlaw(32767), 0xAA);
  CHECK_EQ(g711::linearToAlaw(-32768), 0x2A);
}

TEST(g711_code_round_trip_is_identity) {
  // decode(code) re-encodes to the same code, for every code (except the
  // mu-law negative zero 0x7F which encodes as +0 = 0xFF).
  for (int c = 0; c < 256; c++) {
    const uint8_t u = static_cast<uint8_t>(c);
    if (u != 0x7F) CHECK_EQ(g711::linearToUlaw(g711::ulawToLinear(u)), u);
    CHECK_EQ(g711::linearToAlaw(g711::alawToLinear(u)), u);
  }
}

TEST(g711_linear_round_trip_error_bounded) {
  for (int s = -32768; s <= 32767; s += 7) {
    const int16_t x = static_cast<int16_t>(s);
    const int eu = std::abs(g711::ulawToLinear(g711::linearToUlaw(x)) - s);
    const int ea = std::abs(g711::alawToLinear(g711::linearToAlaw(x)) - s);
    // Quantisation step is at most 1/16 of the magnitude (+ small floor).
    const int bound = std::abs(s) / 16 + 16;
    CHECK(eu <= bound + 512);
    CHECK(ea <= bound + 512);
    if (eu > bound + 512 || ea > bound + 512) return;
  }
}

TEST(g711_monotonic_and_symmetric) {
  int prevU = -40000, prevA = -40000;
  for (int s = -32768; s <= 32767; s += 3) {
    const int u = g711::ulawToLinear(g711::linearToUlaw(static_cast<int16_t>(s)));
    const int a = g711::alawToLinear(g711::linearToAlaw(static_cast<int16_t>(s)));
    CHECK(u >= prevU);
    CHECK(a >= prevA);
    prevU = u;
    prevA = a;
  }
  for (int c = 0; c < 128; c++) {
    CHECK_EQ(g711::ulawToLinear(static_cast<uint8_t>(c)), -g711::ulawToLinear(static_cast<uint8_t>(c | 0x80)));
    CHECK_EQ(g711::alawToLinear(static_cast<uint8_t>(c)), -g711::alawToLinear(static_cast<uint8_t>(c | 0x80)));
  }
}

TEST(g711_buffer_encode_decode) {
  int16_t in[160], out[160];
  uint8_t enc[160];
  for (int i = 0; i < 160; i++) in[i] = static_cast<int16_t>((i - 80) * 300);
  g711::encode(Codec::PCMA, in, enc, 160);
  g711::decode(Codec::PCMA, enc, out, 160);
  for (int i = 0; i < 160; i++) CHECK_EQ(out[i], g711::alawToLinear(g711::linearToAlaw(in[i])));
  g711::encode(Codec::PCMU, in, enc, 160);
  g711::decode(Codec::PCMU, enc, out, 160);
  for (int i = 0; i < 160; i++) CHECK_EQ(out[i], g711::ulawToLinear(g711::linearToUlaw(in[i])));
}
