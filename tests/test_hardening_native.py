"""Native-boundary hardening: size overflow, zero-size dimensions, parameter sizes, allocation
failures and readable rejections (issue 11, "Crashes").

Reproductions of what used to crash or read out of bounds run in a subprocess, so a regression
fails its test instead of killing pytest.
"""
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from kcore import layers, ops
from kcore.backend.autodiff import GradientTape
from kcore.backend.native import _C
from kcore.backend.tensor import Variable

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIG = 2 ** 62


def run_isolated(code):
    """Runs `code` in a fresh interpreter; returns its stdout (fails the test on a crash or a non-zero exit)."""
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, f"exit {proc.returncode}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr[-3000:]}"
    return proc.stdout


def raised(fn):
    """(exception type name, message) of what fn() raises; ('', '') when it returns."""
    try:
        fn()
    except Exception as e:  # noqa: BLE001 - the type is what is checked
        return type(e).__name__, str(e)
    return "", ""


# -- size arithmetic overflows int64 -----------------------------------------------------------


def test_creating_a_tensor_whose_size_overflows_is_a_value_error_not_a_heap_overflow():
    out = run_isolated("""
        from kcore import ops
        from kcore.backend.native import _C
        for fn in (lambda: ops.ones([2**62 + 1]), lambda: ops.zeros([2**62, 4]),
                   lambda: _C.full([2**62 + 1], "float32", 1.0, "cpu"), lambda: _C.empty([2**32, 2**32], "int32")):
            try:
                fn()
                print("returned")
            except ValueError as e:
                print("ValueError", e)
    """)
    lines = out.strip().splitlines()
    assert len(lines) == 4 and all(line.startswith("ValueError") for line in lines), out
    assert "ones" in lines[0] and "zeros" in lines[1]
    assert lines[2].startswith("ValueError full: ") and "(4611686018427387905,)" in lines[2] and "int64" in lines[2]
    assert "empty" in lines[3]


def test_absurd_allocation_is_a_memory_error_naming_the_op_and_the_size():
    kind, msg = raised(lambda: _C.full([2 ** 40], "float32", 1.0, "cpu"))
    assert kind.endswith("MemoryError"), (kind, msg)
    assert msg.startswith("full: cannot allocate 4398046511104 bytes") and "(1099511627776,)" in msg
    assert "bad_alloc" not in msg
    kind, msg = raised(lambda: ops.ones([2 ** 40]))
    assert kind.endswith("MemoryError") and "4398046511104 bytes" in msg


def test_reshape_then_crop_with_overflowing_sizes_raises_instead_of_returning_heap_bytes(tmp_path):
    path = tmp_path / "crop.keras"
    out = run_isolated(f"""
        import numpy as np, kcore as keras
        from kcore import layers
        def build():
            return keras.Sequential([keras.Input((8,)), layers.Reshape(({BIG} + 2, 4)),
                                     layers.Cropping1D((1, {BIG} - 1))])
        x = np.arange(8, dtype="float32")[None]
        model = build()
        model.save({str(path)!r})
        for make in (lambda: model, lambda: keras.models.load_model({str(path)!r})):
            try:
                print("predicted", make().predict(x, verbose=0).tolist())
            except ValueError as e:
                print("ValueError", e)
    """)
    lines = out.strip().splitlines()
    assert len(lines) == 2 and all(line.startswith("ValueError") for line in lines), out
    assert "reshape" in lines[0] and "int64" in lines[0]


def test_reshape_rejects_a_target_whose_size_wraps_around_to_the_input_size():
    x = _C.from_numpy(np.zeros(8, np.float32))
    kind, msg = raised(lambda: _C.reshape(x, [2 ** 62 + 2, 4]))  # wraps to 8 elements in int64
    assert kind == "ValueError" and msg.startswith("reshape: ") and "overflows int64" in msg
    kind, msg = raised(lambda: ops.reshape(np.zeros(8, np.float32), (2 ** 64, 1)))
    assert kind == "ValueError" and "reshape" in msg


@pytest.mark.parametrize("padding", ["valid", "same", "causal"])
def test_conv1d_with_an_overflowing_dilation_is_a_value_error(padding):
    out = run_isolated(f"""
        import numpy as np, kcore as keras
        from kcore import layers
        try:
            m = keras.Sequential([keras.Input((8, 2)), layers.Conv1D(3, 4, dilation_rate={BIG}, padding={padding!r})])
            print("predicted", m.predict(np.ones((1, 8, 2), "float32"), verbose=0).shape)
        except ValueError as e:
            print("ValueError", e)
    """)
    assert out.startswith("ValueError"), out


def test_conv_transpose_with_huge_strides_is_a_value_error():
    out = run_isolated("""
        import numpy as np, kcore as keras
        from kcore import layers
        try:
            m = keras.Sequential([keras.Input((4, 4, 2)), layers.Conv2DTranspose(3, 3, strides=2**40)])
            print("predicted", m.predict(np.ones((1, 4, 4, 2), "float32"), verbose=0).shape)
        except ValueError as e:
            print("ValueError", e)
    """)
    assert out.startswith("ValueError") and "int64" in out, out


def test_native_conv_geometry_checks_every_size_it_computes():
    x = _C.from_numpy(np.ones((1, 8, 2), np.float32))
    w = _C.from_numpy(np.ones((4, 2, 3), np.float32))
    # dilated kernel span (k - 1) * d + 1 overflows
    kind, msg = raised(lambda: _C.conv(x, w, None, [1], [BIG], [0], [0]))
    assert kind == "ValueError" and msg.startswith("conv_forward: spatial axis 0") and "overflows int64" in msg
    # padded size overflows
    kind, msg = raised(lambda: _C.conv(x, w, None, [1], [1], [2 ** 63 - 1], [5]))
    assert kind == "ValueError" and "overflows int64" in msg
    kind, msg = raised(lambda: _C.conv_output_shape([1, 8, 2], [4, 2, 3], [1], [BIG], [0], [0]))
    assert kind == "ValueError" and msg.startswith("conv_output_shape: ")
    # the output's element count overflows
    x2 = _C.from_numpy(np.ones((1, 1, 1, 1), np.float32))
    w2 = _C.from_numpy(np.ones((1, 1, 1, 1), np.float32))
    kind, msg = raised(lambda: _C.conv_transpose(x2, w2, None, [2 ** 40, 2 ** 40], [2 ** 40, 2 ** 40], [1, 1],
                                                 [0, 0], [0, 0]))
    assert kind == "ValueError" and "overflows int64" in msg


def test_pooling_with_overflowing_padding_is_a_value_error():
    x = _C.from_numpy(np.ones((1, 8, 2), np.float32))
    kind, msg = raised(lambda: _C.pool(x, _C.PoolMode.max, [2 ** 63 - 1], [1], [2 ** 63 - 2], [2 ** 63 - 2]))
    assert kind == "ValueError" and "overflows int64" in msg


def test_slice_backward_window_overflow_is_a_value_error():
    g = _C.from_numpy(np.ones((3,), np.float32))
    kind, msg = raised(lambda: _C.slice_backward(g, [8], [0], [2 ** 62]))
    assert kind == "ValueError" and msg.startswith("slice_backward")
    kind, msg = raised(lambda: _C.slice_backward(g, [8], [9], [1]))
    assert kind == "ValueError"


def test_slice_and_concatenate_of_huge_empty_tensors_stay_in_int64():
    # strides * step and the row byte counts used to overflow (UBSan) for these
    x = _C.zeros([0, 2 ** 30, 2 ** 30], "float32")
    assert _C.slice(x, [0, 0, 0], [0, 2 ** 30, 2 ** 30], [1, 2 ** 62, 2 ** 62]).shape == (0, 1, 1)
    assert _C.concatenate([x, x], 1).shape == (0, 2 ** 31, 2 ** 30)
    y = _C.from_numpy(np.arange(12, dtype=np.float32).reshape(3, 4))
    np.testing.assert_array_equal(np.asarray(_C.slice(y, [1, 1], [3, 2], [2 ** 62, 2 ** 62])), [[5.0]])


def test_layer_arguments_that_cannot_be_int64_sizes_name_the_layer():
    kind, msg = raised(lambda: layers.Conv2D(3, 3, strides=2 ** 63))
    assert kind == "ValueError" and msg.startswith("Conv2D: strides")
    kind, msg = raised(lambda: layers.ZeroPadding1D((2 ** 63, 1)))
    assert kind == "ValueError" and msg.startswith("ZeroPadding1D")
    kind, msg = raised(lambda: layers.ZeroPadding1D((BIG, BIG))(np.zeros((1, 8, 4), np.float32)))
    assert kind == "ValueError" and "zero_pad" in msg and "int64" in msg
    kind, msg = raised(lambda: layers.UpSampling1D(BIG)(np.zeros((1, 8, 4), np.float32)))
    assert kind == "ValueError" and "int64" in msg
    kind, msg = raised(lambda: layers.Dense(BIG)(np.zeros((2, 3), np.float32)))
    assert kind == "ValueError" and "'kernel'" in msg and "dense" in msg


# -- zero-size dimensions --------------------------------------------------------------------


ZERO_MATMULS = [((2, 0), (0, 3)), ((2, 3, 0), (0, 4)), ((0, 2, 3), (0, 3, 4)), ((2, 3, 0), (2, 0, 4)),
                ((2, 0, 3), (3, 4)), ((2, 3, 4), (4, 0))]


@pytest.mark.parametrize("shapes", ZERO_MATMULS)
def test_matmul_with_zero_size_contraction_or_batch_matches_numpy_forward_and_backward(shapes):
    code = f"""
        import numpy as np
        from kcore import ops
        from kcore.backend.autodiff import GradientTape
        from kcore.backend.tensor import Variable
        a = Variable(np.ones({shapes[0]}), dtype="float64")
        b = Variable(np.ones({shapes[1]}), dtype="float64")
        with GradientTape() as tape:
            y = ops.matmul(a, b)
            total = ops.sum(y)
        ga, gb = tape.gradient(total, [a, b])
        print(y.shape, float(np.abs(y.numpy()).sum()), ga.shape, gb.shape, float(ga.numpy().sum()),
              float(gb.numpy().sum()))
    """
    out = run_isolated(code)
    expected = np.ones(shapes[0]) @ np.ones(shapes[1])
    ga = np.ones(expected.shape) @ np.swapaxes(np.ones(shapes[1]), -1, -2)
    gb = np.swapaxes(np.ones(shapes[0]), -1, -2) @ np.ones(expected.shape)
    assert out.startswith(str(expected.shape)), out
    assert f"{float(expected.sum())} " in out
    assert f" {float(ga.sum())} {float(gb.sum())}" in out


def test_dense_on_zero_features_returns_the_bias_not_uninitialised_memory():
    layer = layers.Dense(4)
    layer.build((None, 0))
    layer.bias.assign(np.array([1.0, 2.0, 3.0, 4.0], np.float32))
    y = layer(np.zeros((2, 0), np.float32))
    np.testing.assert_array_equal(y.numpy(), np.tile([1.0, 2.0, 3.0, 4.0], (2, 1)))
    no_bias = layers.Dense(3, use_bias=False)
    np.testing.assert_array_equal(no_bias(np.zeros((5, 0), np.float32)).numpy(), np.zeros((5, 3)))


def test_linear_backward_with_zero_features():
    x = Variable(np.zeros((3, 0)), dtype="float64")
    w = Variable(np.zeros((0, 2)), dtype="float64")
    b = Variable(np.ones(2), dtype="float64")
    with GradientTape() as tape:
        total = ops.sum(ops.linear(x, w, b))
    gx, gw, gb = tape.gradient(total, [x, w, b])
    assert gx.shape == (3, 0) and gw.shape == (0, 2)
    np.testing.assert_array_equal(gb.numpy(), [3.0, 3.0])


def test_linear_backward_checks_the_gradient_shape():
    x = _C.from_numpy(np.ones((3, 2)))
    w = _C.from_numpy(np.ones((2, 4)))
    kind, msg = raised(lambda: _C.linear_backward(x, w, _C.from_numpy(np.ones((1, 1))), True, True))
    assert kind == "ValueError" and "linear backward" in msg and "(3, 4)" in msg


def test_losses_with_an_empty_class_axis_write_every_output():
    p = np.zeros((4, 0), np.float32)
    cce = _C.softmax_cross_entropy(_C.from_numpy(p), _C.from_numpy(p))
    np.testing.assert_array_equal(np.asarray(cce), np.zeros(4))
    mse = np.asarray(_C.mean_error(_C.ErrorKind.squared, _C.from_numpy(p), _C.from_numpy(p)))
    assert mse.shape == (4,) and np.isnan(mse).all()  # the mean of nothing


def test_sum_rows_with_zero_columns_and_zero_rows():
    assert np.asarray(_C.sum_rows(_C.from_numpy(np.ones((3, 0), np.float32)))).shape == (0,)
    np.testing.assert_array_equal(np.asarray(_C.sum_rows(_C.from_numpy(np.ones((0, 3), np.float32)))), np.zeros(3))


# -- parameter sizes -------------------------------------------------------------------------


def test_batch_normalization_checks_mean_and_variance_sizes():
    x = np.ones((2, 8), np.float32)
    kind, msg = raised(lambda: ops.batch_normalization(x, np.zeros(1, np.float32), np.ones(8, np.float32)))
    assert kind == "ValueError" and "mean of shape (1,)" in msg and "(8)" in msg
    kind, msg = raised(lambda: ops.batch_normalization(x, np.zeros(8, np.float32), np.ones(3, np.float32)))
    assert kind == "ValueError" and "variance of shape (3,)" in msg
    kind, msg = raised(lambda: ops.batch_normalization(x, np.zeros(8, np.float32), np.ones(8, np.float32),
                                                       offset=np.zeros(2, np.float32)))
    assert kind == "ValueError" and "beta" in msg
    y = ops.batch_normalization(x, np.zeros(8, np.float32), np.ones(8, np.float32), epsilon=0.0)
    np.testing.assert_allclose(y.numpy(), x)


def test_batch_and_layer_norm_backward_check_their_statistics():
    x = _C.from_numpy(np.ones((2, 4)))
    g = _C.from_numpy(np.ones(4))
    short = _C.from_numpy(np.ones(1))
    kind, msg = raised(lambda: _C.batch_norm_backward(x, g, short, g, x, -1, 1e-3, False))
    assert kind == "ValueError" and "mean" in msg
    kind, msg = raised(lambda: _C.layer_norm_backward(x, g, short, short, x, 4))
    assert kind == "ValueError" and "mean" in msg
    kind, msg = raised(lambda: _C.layer_norm_backward(x, g, short, short, x, 0))  # used to divide by zero
    assert kind == "ValueError" and "normalised size 0" in msg


def test_take_backward_checks_the_gradient_against_the_indices():
    idx = _C.from_numpy(np.array([0, 1, 2], np.int64))
    kind, msg = raised(lambda: _C.take_rows_backward(_C.from_numpy(np.ones((2, 4), np.float32)), idx, 5))
    assert kind == "ValueError" and "take backward" in msg


# -- fast_exp on NaN (undefined behaviour under UBSan before) ---------------------------------


def test_float32_exp_family_propagates_nan():
    x = np.array([np.nan, 0.0, -np.nan, 100.0, -100.0], np.float32)
    e = ops.exp(x).numpy()
    assert np.isnan(e[[0, 2]]).all() and e[1] == 1.0 and np.isinf(e[3]) and e[4] == 0.0
    for fn in (ops.sigmoid, ops.tanh, ops.elu, ops.gelu):
        assert np.isnan(fn(x).numpy()[[0, 2]]).all(), fn


# -- rejections are readable -----------------------------------------------------------------


def _t(*shape):
    return _C.from_numpy(np.ones(shape, np.float32))


BAD_CALLS = {
    "reshape float dim": (lambda: _C.reshape(_t(2), [2.5]), "TypeError", "reshape: argument 2"),
    "reshape int overflow": (lambda: _C.reshape(_t(2), [2 ** 64]), "ValueError", "int64"),
    "zeros shape is a string": (lambda: _C.zeros("abc", "float32"), "TypeError", "zeros: argument 1 ('shape')"),
    "full device not a string": (lambda: _C.full([2], "float32", 1.0, 3), "TypeError", "'device') must be a string"),
    "clip bound not a number": (lambda: _C.clip(_t(2), "a", 1.0), "TypeError", "clip: argument 2"),
    "conv strides overflow": (lambda: _C.conv(_t(1, 4, 1), _t(1, 1, 1), None, [2 ** 63], [1], [0], [0]),
                              "ValueError", "conv: argument 4 ('strides')"),
    "matmul with a NumPy array": (lambda: _C.matmul(np.ones((2, 2)), _t(2, 2)), "TypeError",
                                  "matmul: argument 1 ('arg0') must be a native kcore tensor"),
    "too many arguments": (lambda: _C.transpose(_t(2), [0], 1), "TypeError", "transpose: takes 2 arguments"),
    "missing argument": (lambda: _C.transpose(_t(2)), "TypeError", "transpose: missing argument 2"),
    "keyword argument": (lambda: _C.conv_output_shape([1, 4, 1], [1, 1, 1], [1], [1], [0], pad_after=[0.5]),
                         "TypeError", "'pad_after'"),
}


@pytest.mark.parametrize("case", sorted(BAD_CALLS))
def test_native_rejections_name_the_op_and_argument_without_a_signature_dump(case):
    fn, kind, fragment = BAD_CALLS[case]
    got_kind, msg = raised(fn)
    assert got_kind.endswith(kind), (got_kind, msg)
    assert fragment in msg, msg
    assert "incompatible function arguments" not in msg and "Invoked with" not in msg


def test_the_readable_rejection_never_takes_a_call_that_conversion_serves():
    assert _C.full([np.int64(2), 3], "float32", 1, "cpu").shape == (2, 3)  # NumPy ints, an int for a float
    assert _C.reshape(_t(6), (np.int32(2), 3)).shape == (2, 3)
    assert np.asarray(_C.clip(_t(3), 0, 2)).tolist() == [1.0, 1.0, 1.0]
    assert _C.conv_output_shape(x_shape=[1, 4, 1], kernel_shape=[2, 1, 1], strides=[1], dilation=[1],
                                pad_before=[0], pad_after=[0]) == [1, 3, 1]


def test_allocation_failures_are_memory_errors_naming_the_op():
    kind, msg = raised(lambda: _C.zeros([2 ** 41], "float64"))
    assert kind.endswith("MemoryError") and msg.startswith("zeros: cannot allocate") and "GiB" in msg
    assert "bad_alloc" not in msg
