"""Hardening (issue 11): read-only arrays, integer and complex inputs, NumPy axis rules, one_hot,
and errors that name the op or layer. Expected values are NumPy's (or Keras's, noted)."""
import numpy as np
import pytest

import kcore
from kcore import layers, ops

# -- read-only arrays -------------------------------------------------------------------------

@pytest.fixture
def mmap_array(tmp_path):
    path = tmp_path / "x.npy"
    np.save(path, np.arange(24, dtype=np.float32).reshape(6, 4) / 10)
    return np.load(path, mmap_mode="r")


def test_read_only_arrays_are_wrapped_without_a_copy(mmap_array):
    assert not mmap_array.flags.writeable
    t = kcore.convert_to_tensor(mmap_array)
    assert t.value.readonly
    assert t.value.data_ptr() == mmap_array.ctypes.data  # no copy
    view = np.asarray(t.value)
    assert not view.flags.writeable  # exported read-only: nobody writes into the mapped file
    with pytest.raises(ValueError, match="read-only"):
        t.value.copy_from(kcore.convert_to_tensor(np.zeros((6, 4), np.float32)).value)


def test_dlpack_never_exports_read_only_memory_as_writable(mmap_array):
    t = kcore.convert_to_tensor(mmap_array)
    out = np.from_dlpack(t)
    np.testing.assert_array_equal(out, mmap_array)
    assert out.ctypes.data != mmap_array.ctypes.data  # a copy: the consumer may write to it
    w = kcore.convert_to_tensor(np.ones(3, np.float32))
    assert np.from_dlpack(w).ctypes.data == w.value.data_ptr()  # writable memory is still shared


def test_ops_accept_read_only_and_broadcast_views(mmap_array):
    ref = np.asarray(mmap_array).copy()
    np.testing.assert_allclose(ops.add(mmap_array, 1.0).numpy(), ref + 1, rtol=1e-6)
    np.testing.assert_allclose(ops.sum(mmap_array, axis=0).numpy(), ref.sum(0), rtol=1e-6)
    np.testing.assert_allclose(ops.softmax(mmap_array).numpy().sum(-1), np.ones(6), rtol=1e-6)
    np.testing.assert_allclose(ops.reshape(mmap_array, (-1,)).numpy(), ref.reshape(-1))
    b = np.broadcast_to(np.arange(4, dtype=np.float32), (3, 4))
    np.testing.assert_allclose(ops.multiply(b, 2.0).numpy(), np.tile(np.arange(4) * 2, (3, 1)))
    np.testing.assert_array_equal(np.asarray(mmap_array), ref)  # inputs untouched


def test_fit_and_predict_accept_read_only_data(mmap_array):
    y = np.arange(6) % 2
    y.flags.writeable = False
    model = kcore.Sequential([layers.Dense(2, activation="softmax", input_shape=(4,))])
    model.compile("adam", "sparse_categorical_crossentropy")
    model.fit(mmap_array, y, epochs=2, batch_size=3, verbose=0)
    out = model.predict(mmap_array, verbose=0)
    assert out.shape == (6, 2) and np.all(np.isfinite(out))
    model.evaluate(np.broadcast_to(np.ones(4, np.float32), (6, 4)), y, verbose=0)


# -- integers, complex ------------------------------------------------------------------------

def test_unsigned_and_large_integers_keep_their_values():
    big = np.array([4_000_000_000, 7], dtype=np.uint32)
    t = kcore.convert_to_tensor(big)
    assert t.dtype == "int64" and t.numpy().tolist() == [4_000_000_000, 7]
    np.testing.assert_allclose(ops.add(big, 0.0).numpy(), [4e9, 7.0], rtol=1e-7)
    model = kcore.Sequential([layers.Activation("linear", input_shape=(2,))])
    np.testing.assert_allclose(model.predict(big[None], verbose=0), [[4e9, 7.0]], rtol=1e-7)
    assert kcore.convert_to_tensor(np.uint8(200)).numpy() == 200
    assert kcore.convert_to_tensor(2 ** 62).numpy() == 2 ** 62


@pytest.mark.parametrize("value", [2 ** 63, 2 ** 64, [1, 2 ** 70], np.array([2 ** 63], np.uint64)])
def test_integers_beyond_int64_raise(value):
    with pytest.raises(ValueError, match="int64"):
        kcore.convert_to_tensor(value)
    with pytest.raises(ValueError, match="int64"):
        kcore.convert_to_tensor(value, dtype="int64")


def test_large_integers_in_float_ops_keep_their_magnitude():
    np.testing.assert_allclose(ops.add(2 ** 63, 1.0).numpy(), 2.0 ** 63, rtol=1e-7)
    np.testing.assert_allclose(ops.multiply(np.array([2 ** 63 + 5], np.uint64), 2.0).numpy(), [2.0 ** 64], rtol=1e-7)


def test_narrowing_integer_conversion_raises_instead_of_wrapping():
    with pytest.raises(ValueError, match="do not fit in int32"):
        kcore.convert_to_tensor(np.array([2 ** 40]), dtype="int32")
    assert kcore.convert_to_tensor(np.array([2 ** 31 - 1]), dtype="int32").numpy()[0] == 2 ** 31 - 1


def test_complex_inputs_are_refused_not_cast():
    z = np.array([1 + 2j, 3 - 1j], np.complex64)
    for call in (lambda: ops.exp(z), lambda: ops.add(z, 1.0), lambda: kcore.convert_to_tensor(z, dtype="float32"),
                 lambda: layers.Dense(2)(z[None])):
        with pytest.raises(TypeError, match="complex"):
            call()
    model = kcore.Sequential([layers.Dense(1, input_shape=(2,))])
    model.compile("sgd", "mse")
    with pytest.raises(TypeError, match="complex"):
        model.fit(z[None], np.zeros((1, 1)), verbose=0)


def test_a_float64_array_keeps_float64_whatever_the_order_of_operands():
    # NumPy/Keras: float64 with an integer array or a Python number stays float64 (was float32 with the
    # integer operand second, which flushed 1e-40 to zero and gave 1e-40 / 0 = nan instead of inf)
    small = np.array([1e-40, 2.0])
    for got in (ops.divide(small, np.array(0, np.uint8)), ops.add(small, 1), ops.multiply(2, small)):
        assert got.dtype == "float64"
    np.testing.assert_array_equal(ops.divide(small, np.array(0, np.uint8)).numpy(), [np.inf, np.inf])
    assert ops.add(np.ones(2, np.float32), np.ones(2)).dtype == "float64"
    assert ops.add(np.ones(2, np.float32), 1.0).dtype == "float32"


def test_ragged_lists_raise_value_error_naming_the_op():
    with pytest.raises(ValueError, match="sigmoid: .*list"):
        ops.sigmoid([[1, 2], [3]])


# -- axes: NumPy's rules ------------------------------------------------------------------------

X = np.arange(24, dtype=np.float32).reshape(2, 3, 4)


def test_valid_negative_and_tuple_axes_match_numpy():
    np.testing.assert_array_equal(ops.transpose(X, (-1, 0, 1)).numpy(), np.transpose(X, (2, 0, 1)))
    assert ops.expand_dims(X, -1).shape == (2, 3, 4, 1)
    assert ops.expand_dims(X, (0, -1)).shape == np.expand_dims(X, (0, -1)).shape
    assert ops.squeeze(X[:, :1], -2).shape == (2, 4)
    np.testing.assert_array_equal(ops.concatenate([X, X], axis=-3).numpy(), np.concatenate([X, X], -3))
    assert ops.stack([X, X], axis=-1).shape == (2, 3, 4, 2)
    np.testing.assert_array_equal(ops.argmax(X, axis=np.int64(-2)).numpy(), X.argmax(-2))


def test_concatenate_layer_checks_its_axis():
    a = np.ones((2, 3), np.float32)
    np.testing.assert_array_equal(layers.Concatenate(axis=-2)([a, a]).numpy(), np.concatenate([a, a], 0))
    with pytest.raises(ValueError, match="Concatenate.*out of range"):
        layers.Concatenate(axis=2)([a, a])
    with pytest.raises(TypeError, match="Concatenate.*axis must be an integer"):
        layers.Concatenate(axis=1.5)


# -- one_hot ----------------------------------------------------------------------------------

def test_one_hot_out_of_range_indices_give_zero_rows():
    # Keras: one_hot(-1, 3) and one_hot(3, 3) are all zeros
    np.testing.assert_array_equal(ops.one_hot(np.array([-1, 0, 2, 3]), 3).numpy(),
                                  [[0, 0, 0], [1, 0, 0], [0, 0, 1], [0, 0, 0]])
    assert ops.one_hot(np.array([[1, 2]]), 0).shape == (1, 2, 0)
    with pytest.raises(ValueError, match="one_hot: num_classes"):
        ops.one_hot([1], -1)
    with pytest.raises(ValueError, match="one_hot: .*finite"):
        ops.one_hot(np.array([np.nan]), 3)


# -- errors name the op / layer / argument ------------------------------------------------------

def test_layer_errors_name_the_layer_class_and_argument():
    with pytest.raises(ValueError, match=r"Dense.*units"):
        layers.Dense(-1)
    with pytest.raises(TypeError, match=r"Reshape: target_shape"):
        layers.Reshape(None)
    with pytest.raises(ValueError, match=r"^Conv2D: filters must be a positive integer"):  # not 'BaseConv: ...'
        layers.Conv2D(-1, 3)
    with pytest.raises(TypeError, match=r"Dropout: .*`rate`.*Received: rate=None"):
        layers.Dropout(None)
    with pytest.raises(TypeError, match=r"Masking: mask_value must be a number"):
        layers.Masking("a")

    class MyDense(layers.Dense):
        def __init__(self, units, **kwargs):
            super().__init__(units, **kwargs)

    with pytest.raises(ValueError, match=r"^MyDense: Received an invalid value for `units`"):
        MyDense(0)
    for layer in (layers.Dense(3), layers.Reshape((-1,)), layers.Conv2D(2, 1)):
        with pytest.raises(ValueError, match=layer.name):
            layer(np.float32(1.0))
    with pytest.raises(TypeError, match="dropout"):
        layers.Dropout(0.5)(np.array(["a"]))


@pytest.mark.parametrize("cls", [layers.SimpleRNN, layers.LSTM, layers.GRU])
def test_recurrent_layers_refuse_zero_time_steps_clearly(cls):
    x = np.zeros((2, 0, 3), np.float32)
    assert cls(2, return_sequences=True)(x).shape == (2, 0, 2)
    with pytest.raises(ValueError, match="0 time steps"):  # Keras raises too (no last step to return)
        cls(2)(x)
