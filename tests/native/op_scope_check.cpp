// Checks OpScope (core/checked.h, core/op_scope.cpp): the outermost scope names the running op,
// scopes opened inside it (entry points called by other entry points) leave that name alone, and
// an exception escaping the outermost scope records it as the failed op. Built with
// csrc/core/op_scope.cpp and run by tests/test_core_native.py.
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <string>

#include "core/checked.h"

using kcore::current_op;
using kcore::failed_op;
using kcore::OpScope;

static int failures = 0;
static int checks = 0;
#define EXPECT(cond, what)                                        \
  do {                                                            \
    ++checks;                                                     \
    if (!(cond)) ++failures, std::printf("FAIL: %s\n", what);     \
  } while (0)

static bool is(const char* a, const char* b) { return std::strcmp(a, b) == 0; }

// An entry point that calls another one, which fails (or not).
static const char* outer_name = "outer";
static void inner(bool fail) {
  OpScope scope("inner");
  EXPECT(is(current_op(), outer_name), "a nested scope keeps the outer op running");
  if (fail) kcore::throw_size_overflow("a tensor of shape (2, 3)");
}
static void outer(bool fail) {
  OpScope scope("outer");
  EXPECT(is(current_op(), "outer"), "the outermost scope names the op");
  inner(fail);
  EXPECT(is(current_op(), "outer"), "leaving a nested scope keeps the outer op");
}

int main() {
  EXPECT(is(current_op(), "kcore") && is(failed_op(), "kcore"), "no op outside a scope");
  outer(false);
  EXPECT(is(current_op(), "kcore") && is(failed_op(), "kcore"), "a call that returns leaves no op behind");

  std::string message;
  try {
    outer(true);
  } catch (const kcore::ValueError& e) {
    message = e.what();
  }
  EXPECT(message == "outer: a tensor of shape (2, 3) is too large (the size overflows int64)",
         "an error raised in a nested entry point names the op that was called");
  EXPECT(is(failed_op(), "outer") && is(current_op(), "kcore"), "the escaping exception records the outer op");

  {
    OpScope scope("next");  // a new top-level call forgets the last failure
    EXPECT(is(failed_op(), "kcore"), "a new call clears the failed op");
    outer_name = "next";
    try {
      inner(true);  // caught inside the call: nothing escapes the outermost scope
    } catch (const kcore::ValueError&) {
    }
  }
  EXPECT(is(failed_op(), "kcore"), "an exception caught inside the call records nothing");
  if (failures) return 1;
  std::printf("ok %d\n", checks);
  return 0;
}
