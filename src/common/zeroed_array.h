// A fixed-size array whose bytes start as zero, for large hash tables (all-zero bytes must be the
// type's empty entry).
//
// std::vector<T>(n) writes every byte when it is made, and each 4 KiB page it writes first is a
// page fault: about 11 µs each on the benchmark machine (a virtual machine), 130 ms for a table of
// 48 MiB, paid by whoever inserts the entry that makes the table grow (bench/README.md, "Issue
// 7"). From kMapBytes on, this array is anonymous memory of its own instead: the kernel hands out
// its pages zeroed as they are first touched, so the faults are spread over the inserts that
// reach them. Not advised to use transparent huge pages: with them one message's inserts touched
// each 2 MiB page of a new table first, each such fault zeroing 2 MiB and perhaps compacting
// memory to find it, and that message took 95 ms.
//
// Thread safety: none.
#pragma once

#include <sys/mman.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <new>
#include <span>
#include <type_traits>
#include <utility>

namespace kuajing {

template <typename T>
class ZeroedArray {
  static_assert(std::is_trivially_copyable_v<T> && std::is_trivially_destructible_v<T>,
                "its entries are made from zero bytes and never destroyed");

 public:
  static constexpr size_t kMapBytes = size_t{1} << 20;
  static constexpr size_t kPage = 4096;

  ZeroedArray() = default;
  // Throws std::bad_alloc when there is no memory.
  explicit ZeroedArray(size_t n) : n_(n) {
    if (n == 0) return;
    if (n > SIZE_MAX / sizeof(T)) throw std::bad_alloc();
    bytes_ = n * sizeof(T);
    if (bytes_ >= kMapBytes) {
      void* p = ::mmap(nullptr, bytes_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (p != MAP_FAILED) {
        p_ = static_cast<T*>(p);
        mapped_ = true;
        return;
      }
    }
    p_ = static_cast<T*>(std::calloc(n, sizeof(T)));
    if (p_ == nullptr) throw std::bad_alloc();
  }
  ZeroedArray(ZeroedArray&& o) noexcept { Take(o); }
  ZeroedArray& operator=(ZeroedArray&& o) noexcept {
    if (this != &o) {
      Free();
      Take(o);
    }
    return *this;
  }
  ZeroedArray(const ZeroedArray&) = delete;
  ZeroedArray& operator=(const ZeroedArray&) = delete;
  ~ZeroedArray() { Free(); }

  size_t size() const { return n_; }
  bool empty() const { return n_ == 0; }
  T& operator[](size_t i) { return p_[i]; }
  const T& operator[](size_t i) const { return p_[i]; }
  std::span<T> span() { return {p_, n_}; }
  std::span<const T> span() const { return {p_, n_}; }

  // Faults in up to `pages` pages of 4 KiB from page `first` on and returns the page after the
  // last one touched: a table that will be needed soon can take its faults a few at a time,
  // instead of from the inserts that first reach it. Each page is written once, by adding zero
  // to its first byte: one write fault (a plain read would map the shared zero page first), and
  // what the page holds is unchanged.
  size_t Touch(size_t first, size_t pages) {
    const size_t end = std::min((bytes_ + kPage - 1) / kPage, first + pages);
    auto* bytes = reinterpret_cast<char*>(p_);
    for (size_t page = first; page < end; ++page)
      __atomic_fetch_add(bytes + page * kPage, 0, __ATOMIC_RELAXED);
    return std::max(first, end);
  }
  bool touched(size_t pages) const { return pages * kPage >= bytes_; }

 private:
  void Free() {
    if (p_ == nullptr) return;
    if (mapped_) {
      ::munmap(p_, bytes_);
    } else {
      std::free(p_);
    }
    p_ = nullptr;
    n_ = bytes_ = 0;
    mapped_ = false;
  }
  void Take(ZeroedArray& o) {
    p_ = std::exchange(o.p_, nullptr);
    n_ = std::exchange(o.n_, 0);
    bytes_ = std::exchange(o.bytes_, 0);
    mapped_ = std::exchange(o.mapped_, false);
  }

  T* p_ = nullptr;
  size_t n_ = 0;
  size_t bytes_ = 0;
  bool mapped_ = false;
};

}  // namespace kuajing
