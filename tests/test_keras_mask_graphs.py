"""Keras 3 functional models whose configs hold the operation nodes Keras records for masks (NotEqual / Any, passed
on as `mask=`; a Bidirectional(merge_mode=None) whose two outputs both carry the mask): kcore loads them (its layers
propagate the same masks), predicts what Keras predicted, returns dict outputs as dicts, and logs string-named
metrics under the string given ("AUC"), as Keras 3 does (tests/data/keras3_mask_graphs, made by
tests/data/gen/make_keras_mask_graph_files.py)."""
import json
import os
import zipfile

import numpy as np
import pytest

import kcore

DATA = os.path.join(os.path.dirname(__file__), "data", "keras3_mask_graphs")


@pytest.mark.parametrize("name", ["embedding_gru", "masking_lstm", "shared_two_outputs", "bidirectional_none"])
def test_keras_mask_operation_graphs_load_and_predict_like_keras(name):
    ref = np.load(os.path.join(DATA, f"{name}.npz"))
    with zipfile.ZipFile(os.path.join(DATA, f"{name}.keras")) as z:
        kinds = {e["class_name"] for e in json.loads(z.read("config.json"))["config"]["layers"]}
    assert "NotEqual" in kinds  # the file really holds Keras's mask operations
    model = kcore.models.load_model(os.path.join(DATA, f"{name}.keras"))
    xs = [ref[k] for k in sorted(ref.files) if k.startswith("x")]
    pred = model.predict(xs if len(xs) > 1 else xs[0], verbose=0)
    expected = {k[5:]: ref[k] for k in ref.files if k.startswith("pred_")}
    if set(expected) == {"y"}:
        np.testing.assert_allclose(pred, expected["y"], rtol=1e-5, atol=1e-6)
    else:
        assert isinstance(pred, dict) and set(pred) == set(expected)  # dict outputs come back as a dict
        for key, value in expected.items():
            np.testing.assert_allclose(pred[key], value, rtol=1e-5, atol=1e-6)


def test_loaded_two_output_model_trains_with_keras_log_names():
    ref = np.load(os.path.join(DATA, "shared_two_outputs.npz"))
    fit = np.load(os.path.join(DATA, "shared_two_outputs_fit.npz"))
    model = kcore.models.load_model(os.path.join(DATA, "shared_two_outputs.keras"))
    history = model.fit([ref["x0"], ref["x1"]], {"cls": fit["cls"], "reg": fit["reg"]}, epochs=1, batch_size=4,
                        verbose=0)
    assert sorted(history.history) == sorted(fit["keys"].tolist())


def test_a_keras_operation_used_as_data_is_a_clear_error(tmp_path):
    from kcore.saving.serialization import functional_from_config

    with zipfile.ZipFile(os.path.join(DATA, "embedding_gru.keras")) as z:
        config = json.loads(z.read("config.json"))["config"]
    op = next(e["name"] for e in config["layers"] if e["class_name"] == "NotEqual")
    config["output_layers"] = [[op, 0, 0]]
    with pytest.raises(ValueError, match=r"uses Keras operations \['NotEqual'\].*only where they compute masks"):
        functional_from_config(config)
