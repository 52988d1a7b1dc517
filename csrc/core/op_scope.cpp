// The running op of each thread (core/checked.h): OpScope, current_op(), failed_op(), and the
// size-overflow error that names the op.
#include <exception>
#include <string>

#include "core/checked.h"

namespace kcore {

namespace {
thread_local const char* t_current_op = nullptr;
thread_local const char* t_failed_op = nullptr;
}  // namespace

const char* current_op() { return t_current_op ? t_current_op : "kcore"; }

OpScope::OpScope(const char* op) : op_(op), outermost_(t_current_op == nullptr) {
  if (!outermost_) return;
  t_failed_op = nullptr;
  uncaught_ = std::uncaught_exceptions();
  t_current_op = op;
}

OpScope::~OpScope() {
  if (!outermost_) return;
  if (std::uncaught_exceptions() > uncaught_) t_failed_op = op_;
  t_current_op = nullptr;
}

const char* failed_op() { return t_failed_op ? t_failed_op : "kcore"; }

void throw_size_overflow(const std::string& what) {
  throw ValueError(std::string(current_op()) + ": " + what + " is too large (the size overflows int64)");
}

}  // namespace kcore
