"""Layer.__call__ bookkeeping that the fast paths must keep right: losses of the last call only, the
registry of layers holding losses, and the dtype conversion of tensor inputs."""
import gc

import numpy as np

import kcore
from kcore import layers
from kcore.layers.layer import LOSS_HOLDERS


def _model_with_activity_penalty():
    return kcore.Sequential([layers.Dense(3, activity_regularizer="l2", input_shape=(4,)), layers.Dense(2)])


def test_outermost_call_replaces_the_previous_calls_losses():
    model = _model_with_activity_penalty()
    x = np.ones((2, 4), np.float32)
    model(x)
    first = [float(v.numpy()) for v in model.losses]
    model(x)
    assert len(model.losses) == len(first) == 1
    assert np.allclose([float(v.numpy()) for v in model.losses], first)
    assert id(model.layers[0]) in LOSS_HOLDERS


def test_add_loss_registers_and_clearing_unregisters():
    layer = layers.Dense(2)
    layer(np.ones((1, 3), np.float32))
    layer.add_loss(kcore.ops.sum(layer.kernel))
    assert id(layer) in LOSS_HOLDERS and len(layer.losses) == 1
    layer(np.ones((1, 3), np.float32))  # the next outermost call drops it
    assert layer._losses == [] and id(layer) not in LOSS_HOLDERS


def test_a_collected_layer_leaves_the_registry():
    layer = layers.Dense(2)
    layer.add_loss(kcore.ops.sum(kcore.convert_to_tensor(np.ones(2, np.float32))))
    key = id(layer)
    assert key in LOSS_HOLDERS
    del layer
    gc.collect()
    assert key not in LOSS_HOLDERS


def test_float_tensor_inputs_take_the_layer_dtype_and_int_inputs_stay():
    dense = layers.Dense(2)
    y = dense(kcore.convert_to_tensor(np.ones((1, 3), np.float64)))
    assert y.dtype == "float32"
    emb = layers.Embedding(5, 2)
    out = emb(kcore.convert_to_tensor(np.array([[1, 2]], np.int32)))
    assert out.shape == (1, 2, 2) and out.dtype == "float32"


def test_fit_with_activity_regularizer_keeps_one_penalty_per_step():
    model = _model_with_activity_penalty()
    model.compile("sgd", "mse")
    model.fit(np.ones((8, 4), np.float32), np.zeros((8, 2), np.float32), batch_size=4, epochs=2, verbose=0)
    assert len(model.layers[0]._losses) == 1


def test_activity_regularizer_by_name_round_trips_through_config():
    dense = layers.Dense(3, activity_regularizer="l2")
    config = dense.get_config()
    assert config["activity_regularizer"]["class_name"] == "L2"
    again = layers.Dense.from_config(config)
    y = again(np.ones((2, 4), np.float32))
    assert len(again.losses) == 1 and np.isfinite(float(again.losses[0].numpy()))
    assert float(again.losses[0].numpy()) == float(
        kcore.ops.divide(kcore.regularizers.L2(0.01)(y), 2.0).numpy())
