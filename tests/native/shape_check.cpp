// Checks kcore::Shape (csrc/core/shape.h), the small vector with inline storage, against
// std::vector<int64_t>: random sequences of every operation the class offers, applied to both,
// must leave the same values, across the inline / heap boundary and back. Built (with the address
// and undefined-behaviour sanitizers where the compiler has them) and run by tests/test_core_native.py.
#include <cstdio>
#include <random>
#include <stdexcept>
#include <vector>

#include "core/shape.h"

using kcore::Shape;
using Vec = std::vector<int64_t>;

static int failures = 0;
static long checks = 0;

static bool same(const Shape& s, const Vec& v) {
  if (s.size() != v.size() || s.empty() != v.empty()) return false;
  for (size_t i = 0; i < v.size(); ++i)
    if (s[i] != v[i]) return false;
  return s.size() == 0 || (s.front() == v.front() && s.back() == v.back());
}

#define EXPECT(cond, ...)                  \
  do {                                     \
    ++checks;                              \
    if (!(cond) && failures++ < 10) {      \
      std::printf("FAIL: " __VA_ARGS__);   \
      std::printf(" (line %d)\n", __LINE__); \
    }                                      \
  } while (0)

// Applies operation `op` with random arguments to both containers.
static void step(std::mt19937& rng, int op, Shape& s, Vec& v) {
  auto pick = [&](size_t lo, size_t hi) { return std::uniform_int_distribution<size_t>(lo, hi)(rng); };
  const int64_t x = (int64_t)pick(0, 1000) - 500;
  switch (op) {
    case 0: s.push_back(x), v.push_back(x); break;
    case 1: if (!v.empty()) s.pop_back(), v.pop_back(); break;
    case 2: { const size_t n = pick(0, 14); s.resize(n), v.resize(n); break; }
    case 3: { const size_t n = pick(0, 14); s.resize(n, x), v.resize(n, x); break; }
    case 4: { const size_t at = pick(0, v.size()); s.insert(s.begin() + at, x), v.insert(v.begin() + at, x); break; }
    case 5: {
      const size_t at = pick(0, v.size()), n = pick(0, 5);
      s.insert(s.begin() + at, n, x), v.insert(v.begin() + at, n, x);
      break;
    }
    case 6: {  // a range of the container itself, inserted into itself
      if (v.empty()) break;
      const size_t a = pick(0, v.size() - 1), b = pick(a, v.size()), at = pick(0, v.size());
      const Vec part(v.begin() + a, v.begin() + b);
      s.insert(s.begin() + at, s.begin() + a, s.begin() + b), v.insert(v.begin() + at, part.begin(), part.end());
      break;
    }
    case 7: {
      if (v.empty()) break;
      const size_t at = pick(0, v.size() - 1);
      auto si = s.erase(s.begin() + at);
      auto vi = v.erase(v.begin() + at);
      EXPECT(si - s.begin() == vi - v.begin(), "erase returned a wrong position");
      break;
    }
    case 8: {
      const size_t a = pick(0, v.size()), b = pick(a, v.size());
      s.erase(s.begin() + a, s.begin() + b), v.erase(v.begin() + a, v.begin() + b);
      break;
    }
    case 9: { const size_t n = pick(0, 12); s.assign(n, x), v.assign(n, x); break; }
    case 10: {  // a sub-range of itself assigned to itself
      const size_t a = pick(0, v.size()), b = pick(a, v.size());
      const Vec part(v.begin() + a, v.begin() + b);
      s.assign(s.begin() + a, s.begin() + b), v = part;
      break;
    }
    case 11: { Shape copy(s); s = copy; break; }                      // copy construct + copy assign
    case 12: { Shape moved(std::move(s)); s = std::move(moved); break; }  // move construct + move assign
    case 13: { const Shape& self = s; s = self; break; }               // self-assignment
    case 14: { s = Shape(v); break; }                                   // from a std::vector
    case 15: { Shape other{1, 2, 3}; s.swap(other), std::swap(s, other); break; }
    case 16: s.clear(), v.clear(); break;
    case 17: { const size_t n = pick(0, 20); s.reserve(n); EXPECT(s.capacity() >= n, "reserve"); break; }
    default: if (!v.empty()) { const size_t i = pick(0, v.size() - 1); s[i] = x, v[i] = x; } break;
  }
}

int main() {
  // Construction.
  EXPECT(same(Shape(), {}), "default");
  EXPECT(same(Shape(3), {0, 0, 0}), "(n)");
  EXPECT(same(Shape(9, 7), Vec(9, 7)), "(n, value) past the inline size");
  EXPECT(same(Shape{4, 5}, {4, 5}), "initializer list");
  const Vec big = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};
  EXPECT(same(Shape(big.begin(), big.end()), big), "iterator range");
  EXPECT(same(Shape(big), big), "from a std::vector");
  EXPECT(Shape({1, 2}) == Shape({1, 2}) && Shape({1, 2}) != Shape({1, 2, 3}) && Shape({1}) != Shape({2}), "==");
  EXPECT(Shape({1, 2}) < Shape({1, 3}) && !(Shape({1, 3}) < Shape({1, 2})), "<");
  bool threw = false;
  try {
    (void)Shape({1, 2}).at(2);
  } catch (const std::out_of_range&) {
    threw = true;
  }
  EXPECT(threw && Shape({1, 2}).at(1) == 2, "at");
  Shape r{1, 2, 3};
  EXPECT(*r.rbegin() == 3 && r.rend() - r.rbegin() == 3, "reverse iterators");
  Shape moved_from(big.begin(), big.end());
  Shape heap_owner(std::move(moved_from));
  EXPECT(moved_from.empty() && same(heap_owner, big), "a moved-from heap shape is empty, the new one owns the values");
  moved_from.push_back(5);
  EXPECT(same(moved_from, {5}), "a moved-from shape is usable");

  // Random operation sequences, checked after every step.
  std::mt19937 rng(2024);
  for (int trial = 0; trial < 2000; ++trial) {
    Shape s;
    Vec v;
    for (int k = 0; k < 60; ++k) {
      const int op = std::uniform_int_distribution<int>(0, 18)(rng);
      step(rng, op, s, v);
      EXPECT(same(s, v), "trial %d step %d op %d: size %zu vs %zu", trial, k, op, s.size(), v.size());
      if (failures) return 1;
    }
  }
  if (failures) return 1;
  std::printf("ok %ld\n", checks);
  return 0;
}
