"""Masks as Keras 3 handles them: losses average over unmasked steps, merge layers combine masks, BatchNormalization
leaves masked steps out of its statistics. Expected values written by real Keras 3.15
(tests/data/gen/gen_training_parity.py -> tests/data/keras3_training_parity.json)."""
import json
import os

import numpy as np
import pytest
import training_parity_models as tpm

import kcore
from kcore import layers

REF = json.load(open(os.path.join(os.path.dirname(__file__), "data", "keras3_training_parity.json")))["masks"]


def _arrays(values):
    return [np.asarray(v, dtype=np.float32) for v in values]


@pytest.mark.parametrize("kind", ["mse", "sparse_categorical_crossentropy"])
def test_masked_sequence_loss_matches_keras(kind):
    ref = REF[kind]
    ids = np.asarray(REF["ids"], dtype=np.int32)
    y = np.asarray(ref["y"], dtype=np.float32 if kind == "mse" else np.int64)
    model = tpm.masked_sequence(kcore, kind)
    model.set_weights(_arrays(ref["initial"]))
    metric = {"mse": "mae", "sparse_categorical_crossentropy": "accuracy"}[kind]
    model.compile(optimizer=kcore.optimizers.SGD(0.5), loss=kind, metrics=[metric])
    logs = model.evaluate(ids, y, batch_size=4, verbose=0, return_dict=True)
    np.testing.assert_allclose(logs["loss"], ref["evaluate"], rtol=1e-5)
    np.testing.assert_allclose(logs[metric], ref["metric"], rtol=1e-5)  # metrics skip masked steps too
    sw = np.asarray(REF["sample_weight"], dtype=np.float32)
    np.testing.assert_allclose(model.evaluate(ids, y, sample_weight=sw, batch_size=6, verbose=0)[0],
                               ref["evaluate_sample_weight"], rtol=1e-5)
    model.fit(ids, y, batch_size=3, epochs=1, shuffle=False, verbose=0)  # gradients also ignore masked steps
    for got, want in zip(model.get_weights(), ref["final"]):
        np.testing.assert_allclose(got, np.asarray(want), rtol=1e-4, atol=1e-6)


def test_loss_object_reads_the_mask_of_y_pred():
    # Keras's Loss.__call__ takes the mask of y_pred: MSE per step is [1, 4, 9], the last step is masked
    pred = kcore.convert_to_tensor(np.array([[[1.0], [2.0], [3.0]]], dtype=np.float32))
    pred._keras_mask = kcore.convert_to_tensor(np.array([[1, 1, 0]], dtype=np.int32))
    y = np.zeros((1, 3, 1), np.float32)
    np.testing.assert_allclose(float(kcore.losses.MeanSquaredError()(y, pred).numpy()), 2.5, rtol=1e-6)
    np.testing.assert_allclose(float(kcore.losses.MeanSquaredError(reduction="sum")(y, pred).numpy()), 5.0)
    weighted = kcore.losses.MeanSquaredError()(y, pred, sample_weight=np.array([[2.0, 1.0, 5.0]], np.float32))
    np.testing.assert_allclose(float(weighted.numpy()), 3.0, rtol=1e-6)  # (2*1 + 1*4) / 2 unmasked


@pytest.mark.parametrize("name", sorted(REF["merge"]["masks"]))
def test_merge_layer_masks_match_keras(name):
    ref = REF["merge"]
    cls_name, tag = name.split("_", 1)
    layer = getattr(layers, cls_name)(axis=1) if tag == "axis1_both" else getattr(layers, cls_name)()
    a, b = np.asarray(ref["a"], np.float32), np.asarray(ref["b"], np.float32)
    ma, mb = np.asarray(ref["ma"]), np.asarray(ref["mb"])
    masks = [ma, None] if tag == "first_only" else [ma, mb]
    got = layer.compute_mask([a, b], masks)
    want = ref["masks"][name]
    if want is None:
        assert got is None
    else:
        np.testing.assert_array_equal(np.asarray(got.numpy()).astype(bool), np.asarray(want))
    # the same mask reaches the output of an eager call on masked tensors
    ta, tb = kcore.convert_to_tensor(a), kcore.convert_to_tensor(b)
    ta._keras_mask = kcore.convert_to_tensor(ma.astype(np.int32))
    if masks[1] is not None:
        tb._keras_mask = kcore.convert_to_tensor(mb.astype(np.int32))
    out_mask = layer([ta, tb])._keras_mask
    if want is None:
        assert out_mask is None
    else:
        np.testing.assert_array_equal(np.asarray(out_mask.numpy()).astype(bool), np.asarray(want))


def test_merge_compute_mask_rejects_mismatched_lists():
    with pytest.raises(ValueError, match="one per input"):
        layers.Add().compute_mask([np.zeros((1, 2)), np.zeros((1, 2))], [np.ones((1, 2), bool)])
    assert layers.Dot(axes=1).compute_mask([np.zeros((1, 2))] * 2, [np.ones((1,), bool)] * 2) is None


def test_batch_normalization_leaves_masked_steps_out_of_its_statistics():
    ref = REF["batchnorm"]
    x = np.asarray(ref["x"], np.float32)
    bn = layers.BatchNormalization(momentum=0.5)
    y = bn(x, training=True, mask=np.asarray(ref["mask"]))
    np.testing.assert_allclose(y.numpy(), np.asarray(ref["y"]), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(bn.moving_mean.numpy(), ref["moving_mean"], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(bn.moving_variance.numpy(), ref["moving_variance"], rtol=1e-5, atol=1e-6)


def test_batch_normalization_masked_gradient_and_mask_from_embedding():
    from kcore.testing import gradcheck

    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3, 2))
    mask = np.array([[1, 1, 0], [1, 0, 0]], dtype=bool)
    bn = layers.BatchNormalization(dtype="float64")
    bn.build((None, 3, 2))
    gradcheck(lambda t: bn(t, training=True, mask=mask), [x])
    with pytest.raises(ValueError, match="one dimension less"):
        bn(x, training=True, mask=np.ones((2, 3, 2), bool))
    # inside a model the Embedding's mask reaches BatchNormalization: padded steps don't move the statistics
    ids = np.array([[1, 2, 0, 0], [3, 0, 0, 0]])
    emb = layers.Embedding(5, 2, mask_zero=True)
    bn2 = layers.BatchNormalization(momentum=0.0)
    bn2(emb(ids), training=True)
    vectors = emb.embeddings.numpy()[[1, 2, 3]]
    np.testing.assert_allclose(bn2.moving_mean.numpy(), vectors.mean(0), rtol=1e-5)


def test_mask_given_to_a_layer_without_a_mask_argument_is_passed_on():
    dense = layers.Dense(2)
    out = dense(np.ones((1, 3, 4), np.float32), mask=np.array([[1, 0, 1]], dtype=np.int32))
    np.testing.assert_array_equal(np.asarray(out._keras_mask), [[1, 0, 1]])
