// Lock-free single-producer / single-consumer ring of fixed-size POD items.
// One thread pushes, one thread pops; no locks, no allocation after
// construction. Capacity is a power of two.
#pragma once

#include <atomic>
#include <cstddef>
#include <type_traits>

namespace media {

template <typename T, size_t N>
class SpscRing {
  static_assert((N & (N - 1)) == 0 && N >= 2, "capacity must be a power of two");
  static_assert(std::is_trivially_copyable<T>::value, "ring items must be POD");

 public:
  SpscRing() = default;
  SpscRing(const SpscRing&) = delete;
  SpscRing& operator=(const SpscRing&) = delete;

  // Producer side. Returns false when full (the item is not queued).
  bool push(const T& item) {
    const size_t head = head_.load(std::memory_order_relaxed);
    if (head - tailCache_ >= N) {
      tailCache_ = tail_.load(std::memory_order_acquire);
      if (head - tailCache_ >= N) return false;
    }
    items_[head & (N - 1)] = item;
    head_.store(head + 1, std::memory_order_release);
    return true;
  }

  // Producer side: pushes only while more than `reserve` slots stay free
  // afterwards, keeping room for items pushed with plain push().
  bool pushKeepingReserve(const T& item, size_t reserve) {
    const size_t head = head_.load(std::memory_order_relaxed);
    if (head - tailCache_ + reserve >= N) {
      tailCache_ = tail_.load(std::memory_order_acquire);
      if (head - tailCache_ + reserve >= N) return false;
    }
    items_[head & (N - 1)] = item;
    head_.store(head + 1, std::memory_order_release);
    return true;
  }

  // Consumer side. Returns false when empty.
  bool pop(T& out) {
    const size_t tail = tail_.load(std::memory_order_relaxed);
    if (tail == headCache_) {
      headCache_ = head_.load(std::memory_order_acquire);
      if (tail == headCache_) return false;
    }
    out = items_[tail & (N - 1)];
    tail_.store(tail + 1, std::memory_order_release);
    return true;
  }

  // Approximate; exact only from the consumer's point of view.
  bool empty() const {
    return head_.load(std::memory_order_acquire) == tail_.load(std::memory_order_acquire);
  }

  static constexpr size_t capacity() { return N; }

 private:
  alignas(64) std::atomic<size_t> head_{0};  // written by producer
  size_t tailCache_ = 0;                      // producer's view of tail
  alignas(64) std::atomic<size_t> tail_{0};  // written by consumer
  size_t headCache_ = 0;                      // consumer's view of head
  alignas(64) T items_[N];
};

}  // namespace media
