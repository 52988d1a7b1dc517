"""Error of the bfloat16 3x3 conv, and why its Winograd-domain GEMMs stay in float32.

    python tools/bf16_winograd_error.py            (about 10 s; float64 references in NumPy)

1. kcore's bfloat16 Conv2D (Winograd F(4x4, 3x3) on bfloat16 tensors, float32 transforms and GEMMs):
   max |error| / max |float64 result| of y, dx and dkernel, the float64 results computed from the same
   bfloat16-rounded x, kernel and dy (unit-normal x and dy, He-scaled kernel).
2. A simulation of the alternative, running the per-point GEMMs in bfloat16 (vdpbf16ps): the transformed
   input V and kernel U (forward) or V and the transformed output gradient (kernel gradient) rounded to
   bfloat16 before float32-accumulated products, for F(2x2, 3x3) and F(4x4, 3x3).
"""
import sys

import numpy as np

sys.path.insert(0, ".")
from kcore.backend.native import _C  # noqa: E402
from kcore.backend.tensor import Tensor  # noqa: E402

SHAPES = [((32, 28, 28, 32), 64), ((8, 56, 56, 64), 64), ((8, 14, 14, 256), 256)]


def to_bf16(a):
    h = _C.from_numpy(np.ascontiguousarray(a, np.float32)).astype("bfloat16")
    return h, Tensor(h.astype("float32")).numpy().astype(np.float64)


def f64(t):
    return Tensor(t.astype("float32")).numpy().astype(np.float64)


def reference(x, w, dy):
    """float64 y, dx, dkernel of the 'same' 3x3 stride-1 cross-correlation, as im2col products."""
    n, h, wd, c = x.shape
    xp = np.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)))
    cols = np.lib.stride_tricks.sliding_window_view(xp, (3, 3), axis=(1, 2)).transpose(0, 1, 2, 4, 5, 3)
    cols = cols.reshape(n * h * wd, 9 * c)
    y = (cols @ w.reshape(9 * c, -1)).reshape(n, h, wd, -1)
    dk = (cols.T @ dy.reshape(n * h * wd, -1)).reshape(w.shape)
    dxp = np.zeros_like(xp)
    for a in range(3):
        for b in range(3):
            dxp[:, a:a + h, b:b + wd] += dy @ w[a, b].T
    return y, dxp[:, 1:-1, 1:-1], dk


def rel(got, want):
    return np.abs(got - want).max() / np.abs(want).max()


def kcore_errors():
    rng = np.random.default_rng(0)
    ones = [1, 1]
    print("kcore bfloat16 Conv2D 'same' (F(4x4) on bfloat16 tensors) vs float64, max|err| / max|ref|")
    for xs, f in SHAPES:
        x, x64 = to_bf16(rng.standard_normal(xs))
        w, w64 = to_bf16(rng.standard_normal((3, 3, xs[-1], f)) * np.sqrt(2.0 / (9 * xs[-1])))
        dy, dy64 = to_bf16(rng.standard_normal(xs[:-1] + (f,)))
        want = reference(x64, w64, dy64)
        y = _C.conv(x, w, None, ones, ones, ones, ones)
        gx, gw, _ = _C.conv_backward(x, w, dy, ones, ones, ones, ones, True, True, False)
        errs = [rel(f64(t), r) for t, r in zip((y, gx, gw), want)]
        print(f"  b{xs[0]} {xs[1]}x{xs[2]} {xs[3]}->{f}: y {errs[0]:.1e}  dx {errs[1]:.1e}  dkernel {errs[2]:.1e}")


def round_bf16(a):
    u = np.asarray(a, np.float32).view(np.uint32).astype(np.uint64)
    return (((u + 0x7FFF + ((u >> 16) & 1)) >> 16) << 16).astype(np.uint32).view(np.float32).astype(np.float64)


TRANSFORMS = {  # m: (B^T, G, A^T), interpolation points 0, +-1 (, +-2) and infinity
    2: (np.array([[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]], float),
        np.array([[1, 0, 0], [.5, .5, .5], [.5, -.5, .5], [0, 0, 1]]),
        np.array([[1, 1, 1, 0], [0, 1, -1, -1]], float)),
    4: (np.array([[4, 0, -5, 0, 1, 0], [0, -4, -4, 1, 1, 0], [0, 4, -4, -1, 1, 0], [0, -2, -1, 2, 1, 0],
                  [0, 2, -1, -2, 1, 0], [0, 4, 0, -5, 0, 1]], float),
        np.array([[1 / 4, 0, 0], [-1 / 6, -1 / 6, -1 / 6], [-1 / 6, 1 / 6, -1 / 6], [1 / 24, 1 / 12, 1 / 6],
                  [1 / 24, -1 / 12, 1 / 6], [0, 0, 1]]),
        np.array([[1, 1, 1, 1, 1, 0], [0, 1, -1, 2, -2, 0], [0, 1, 1, 4, 4, 0], [0, 1, -1, 8, -8, 1]], float)),
}


def simulated_bf16_gemm_errors(m, c, f, tiles, rng):
    bt, g, at = TRANSFORMS[m]
    d = round_bf16(rng.standard_normal((tiles, m + 2, m + 2, c)))
    k = round_bf16(rng.standard_normal((3, 3, c, f)) * np.sqrt(2.0 / (9 * c)))
    dy = round_bf16(rng.standard_normal((tiles, m, m, f)))
    win = np.lib.stride_tricks.sliding_window_view(d, (3, 3), axis=(1, 2))  # tiles, m, m, c, 3, 3
    y = np.einsum("tijcab,abcf->tijf", win, k)
    dk = np.einsum("tijcab,tijf->abcf", win, dy)
    v = round_bf16(np.einsum("xi,tijc,yj->txyc", bt, d, bt))
    u = round_bf16(np.einsum("xa,abcf,yb->xycf", g, k, g))
    e = round_bf16(np.einsum("ix,tijf,jy->txyf", at, dy, at))
    y_w = np.einsum("ix,txyf,jy->tijf", at, np.einsum("txyc,xycf->txyf", v, u), at)
    dk_w = np.einsum("xa,xycf,yb->abcf", g, np.einsum("txyc,txyf->xycf", v, e), g)
    return rel(y_w, y), rel(dk_w, dk)


def simulation():
    rng = np.random.default_rng(1)
    print("simulated: per-point GEMMs on bfloat16-rounded transforms, max|err| / max|ref|")
    for c, f in [(32, 64), (64, 64), (256, 256)]:
        for m in (2, 4):
            ey, ek = simulated_bf16_gemm_errors(m, c, f, 200, rng)
            print(f"  F({m}x{m}, 3x3) {c}->{f}: y (and dx) {ey:.1e}  dkernel {ek:.1e}")


if __name__ == "__main__":
    kcore_errors()
    simulation()
