// A fixed-size array of zero bytes, for large hash tables (all-zero bytes must be the type's
// empty entry), that can be zeroed a few pages at a time.
//
// A table that grows needs its successor zeroed, and zeroing a large one at once is a pause:
// each 4 KiB page first written is a page fault, about 11 µs each on the benchmark machine (a
// virtual machine), 130 ms for 48 MiB, paid by whoever inserts the entry that makes the table
// grow (bench/README.md, "Issue 7"). Made with Zero::kLater, the array is allocated but not
// written, and ZeroPages zeroes it a few pages at a time, ahead of need (clearance::ColdKeys,
// common/linear_table.h); it is not to be read before every page is zeroed. Made with
// Zero::kNow it comes zeroed from calloc, as a table loaded whole wants.
//
// It allocates through the process's allocator (tcmalloc), so a table reuses memory that earlier
// tables or buffers freed, already mapped. Anonymous mappings of their own, tried instead, made
// every table new memory: a start from the engines' snapshot at 4 M documents took 21,700 more
// page faults and 88 MB more memory, the tables missing the buffers the journal's recovery had
// freed.
//
// Thread safety: none.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
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
  static constexpr size_t kPage = 4096;
  enum class Zero { kNow, kLater };

  ZeroedArray() = default;
  // Throws std::bad_alloc when there is no memory.
  explicit ZeroedArray(size_t n, Zero when = Zero::kNow) : n_(n) {
    if (n == 0) return;
    if (n > SIZE_MAX / sizeof(T)) throw std::bad_alloc();
    p_ = static_cast<T*>(when == Zero::kNow ? std::calloc(n, sizeof(T))
                                            : std::malloc(n * sizeof(T)));
    if (p_ == nullptr) throw std::bad_alloc();
  }
  ZeroedArray(ZeroedArray&& o) noexcept
      : p_(std::exchange(o.p_, nullptr)), n_(std::exchange(o.n_, 0)) {}
  ZeroedArray& operator=(ZeroedArray&& o) noexcept {
    if (this != &o) {
      std::free(p_);
      p_ = std::exchange(o.p_, nullptr);
      n_ = std::exchange(o.n_, 0);
    }
    return *this;
  }
  ZeroedArray(const ZeroedArray&) = delete;
  ZeroedArray& operator=(const ZeroedArray&) = delete;
  ~ZeroedArray() { std::free(p_); }

  size_t size() const { return n_; }
  bool empty() const { return n_ == 0; }
  T& operator[](size_t i) { return p_[i]; }
  const T& operator[](size_t i) const { return p_[i]; }
  std::span<T> span() { return {p_, n_}; }
  std::span<const T> span() const { return {p_, n_}; }

  // Zeroes up to `pages` pages of 4 KiB from page `first` on (of an array made with
  // Zero::kLater) and returns the page after the last one zeroed; `pages` = SIZE_MAX zeroes the
  // rest. Every page below the returned one is zero once it returns past the end (pages()).
  size_t ZeroPages(size_t first, size_t pages) {
    const size_t total = this->pages();
    const size_t end = first >= total || pages >= total - first ? total : first + pages;
    if (first < end) {
      const size_t from = first * kPage;
      const size_t to = std::min(n_ * sizeof(T), end * kPage);
      std::memset(reinterpret_cast<char*>(p_) + from, 0, to - from);
    }
    return std::max(first, end);
  }
  size_t pages() const { return (n_ * sizeof(T) + kPage - 1) / kPage; }

 private:
  T* p_ = nullptr;
  size_t n_ = 0;
};

}  // namespace kuajing
