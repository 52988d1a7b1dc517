"""Loads the native extension. Every numeric op goes through this module."""
from kcore import _C  # noqa: F401  (the CPU engine)

BinaryOp = _C.BinaryOp
UnaryOp = _C.UnaryOp
ReduceOp = _C.ReduceOp
ErrorKind = _C.ErrorKind
