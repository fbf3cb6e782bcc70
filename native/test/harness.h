// Tiny assert-based test harness: TEST(name) { CHECK(...); CHECK_EQ(a, b); }
#pragma once

#include <cstdio>
#include <functional>
#include <string>
#include <vector>

namespace th {

struct Case {
  const char* name;
  std::function<void()> fn;
};

inline std::vector<Case>& registry() {
  static std::vector<Case> r;
  return r;
}

inline int& failures() {
  static int f = 0;
  return f;
}

struct Registrar {
  Registrar(const char* name, std::function<void()> fn) { registry().push_back({name, std::move(fn)}); }
};

}  // namespace th

#define TH_CAT2(a, b) a##b
#define TH_CAT(a, b) TH_CAT2(a, b)
#define TEST(name)                                                  \
  static void name();                                               \
  static th::Registrar TH_CAT(reg_, name)(#name, name);             \
  static void name()

#define CHECK(cond)                                                               \
  do {                                                                            \
    if (!(cond)) {                                                                \
      std::fprintf(stderr, "  %s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond); \
      th::failures()++;                                                           \
    }                                                                             \
  } while (0)

#define CHECK_EQ(a, b)                                                                  \
  do {                                                                                  \
    const auto th_a = (a);                                                              \
    const auto th_b = (b);                                                              \
    if (!(th_a == th_b)) {                                                              \
      std::fprintf(stderr, "  %s:%d: CHECK_EQ(%s, %s) failed: %lld vs %lld\n", __FILE__, \
                   __LINE__, #a, #b, static_cast<long long>(th_a), static_cast<long long>(th_b)); \
      th::failures()++;                                                                 \
    }                                                                                   \
  } while (0)
