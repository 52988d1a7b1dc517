"""Metrics: confusion-matrix metrics, AUC, F-scores and loss-like metrics against NumPy / hand references.

Real-Keras values quoted below came from Keras 3.15.1 (TensorFlow backend) on the same inputs
(`_binary_cases` / `_multiclass_case`); kcore agrees with them to 5e-7 absolute (Keras
accumulates in float32, kcore in float64), so the tests use atol=1e-6.
"""
import numpy as np
import pytest

import kcore
from kcore import layers, metrics


def _binary_cases():
    out = []
    for seed in range(3):
        r = np.random.default_rng(seed)
        y = r.integers(0, 2, (50, 3)).astype("float32")
        p = np.clip(0.35 * y + r.uniform(0, 0.65, (50, 3)), 0, 1).astype("float32")
        out.append((y, p, r.uniform(0, 2, 50).astype("float32")))
    return out


def _multiclass_case():
    r = np.random.default_rng(7)
    y = np.eye(4, dtype="float32")[r.integers(0, 4, 40)]
    p = r.dirichlet(np.ones(4), 40).astype("float32") * 0.6 + 0.4 * y
    return y, p, r.uniform(0, 2, 40).astype("float32")


def _in_two_batches(metric, y, p, w=None):
    metric.update_state(y[:25], p[:25], None if w is None else w[:25])
    metric.update_state(y[25:], p[25:], None if w is None else w[25:])
    return metric.result()


# -- NumPy references ---------------------------------------------------------------------------------------
def ref_precision_recall(y, p, threshold=0.5, w=None):
    w = np.ones_like(p) if w is None else np.broadcast_to(w.reshape(-1, *([1] * (p.ndim - 1))), p.shape)
    pos, pred = y > 0.5, p > threshold
    tp, fp, fn = w[pos & pred].sum(), w[~pos & pred].sum(), w[pos & ~pred].sum()
    return tp / (tp + fp), tp / (tp + fn)


def ref_rank_auc(y, p):
    """Exact ROC AUC: P(score of a positive > score of a negative), ties counted one half."""
    pos, neg = p[y > 0.5], p[y <= 0.5]
    greater = (pos[:, None] > neg[None, :]).sum()
    ties = (pos[:, None] == neg[None, :]).sum()
    return (greater + 0.5 * ties) / (len(pos) * len(neg))


def ref_f1_per_class(y, predicted):
    tp = (predicted * y).sum(0)
    fp = (predicted * (1 - y)).sum(0)
    fn = ((1 - predicted) * y).sum(0)
    return 2 * tp / (2 * tp + fp + fn)


# -- Precision / Recall --------------------------------------------------------------------------------------
@pytest.mark.parametrize("case", range(3))
def test_precision_recall_match_numpy_over_the_epoch(case):
    y, p, w = _binary_cases()[case]
    precision, recall = ref_precision_recall(y, p)
    assert _in_two_batches(metrics.Precision(), y, p) == pytest.approx(precision, abs=1e-12)
    assert _in_two_batches(metrics.Recall(), y, p) == pytest.approx(recall, abs=1e-12)
    wp, wr = ref_precision_recall(y, p, w=w)
    assert _in_two_batches(metrics.Precision(), y, p, w) == pytest.approx(wp, abs=1e-6)
    assert _in_two_batches(metrics.Recall(), y, p, w) == pytest.approx(wr, abs=1e-6)


def test_precision_is_not_a_mean_of_batch_precisions():
    m = metrics.Precision()
    m.update_state([1, 0, 0, 0], [0.9, 0.9, 0.9, 0.9])  # batch precision 1/4
    m.update_state([1, 1], [0.9, 0.1])  # batch precision 1
    assert m.result() == pytest.approx(2 / 5)  # pooled counts, not (0.25 + 1) / 2
    m.reset_state()
    assert m.result() == 0.0  # no predicted positives yet: 0, not NaN


def test_precision_recall_thresholds_top_k_class_id_match_keras():
    # Keras 3.15.1 values, in case order: [Precision(), Recall() weighted, Precision([0.3, 0.7]),
    # Precision(top_k=1), Recall(top_k=2, class_id=1), Precision(class_id=2, thresholds=0.6) weighted]
    keras = [[0.7252747, 0.8234625, [0.664, 1.0], 0.76, 0.8846154, 0.8105801],
             [0.8157895, 0.8104113, [0.6694915, 1.0], 0.84, 0.92, 1.0],
             [0.7631579, 0.7333469, [0.6842105, 1.0], 0.78, 0.7272727, 1.0]]
    for (y, p, w), expected in zip(_binary_cases(), keras):
        got = [_in_two_batches(metrics.Precision(), y, p), _in_two_batches(metrics.Recall(), y, p, w),
               _in_two_batches(metrics.Precision(thresholds=[0.3, 0.7]), y, p),
               _in_two_batches(metrics.Precision(top_k=1), y, p),
               _in_two_batches(metrics.Recall(top_k=2, class_id=1), y, p),
               _in_two_batches(metrics.Precision(class_id=2, thresholds=0.6), y, p, w)]
        for g, e in zip(got, expected):
            np.testing.assert_allclose(g, e, atol=1e-6)


def test_top_k_and_class_id_by_hand():
    y = np.array([[0, 1, 0], [1, 0, 0], [0, 0, 1]], np.float32)
    p = np.array([[0.1, 0.6, 0.3], [0.2, 0.5, 0.3], [0.45, 0.05, 0.5]], np.float32)
    # top_k=1 keeps [1, 1, 2]; default threshold becomes -inf so each row has one positive: 2 hits out of 3
    assert metrics.Precision(top_k=1)(y, p) == pytest.approx(2 / 3)
    # class 0 only: predicted positive (> 0.4) in row 2, whose label is 0
    assert metrics.Precision(class_id=0, thresholds=0.4)(y, p) == 0.0
    assert metrics.Recall(class_id=0, thresholds=0.4)(y, p) == 0.0
    assert metrics.Recall(class_id=1)(y, p) == 1.0
    m = metrics.Recall(thresholds=[0.0, 0.4, 0.55])
    np.testing.assert_allclose(m(y, p), [1.0, 2 / 3, 1 / 3])


def test_confusion_counts():
    y, p = np.array([1, 1, 0, 0, 1]), np.array([0.9, 0.2, 0.7, 0.1, 0.6])
    assert metrics.TruePositives()(y, p) == 2
    assert metrics.FalsePositives()(y, p) == 1
    assert metrics.TrueNegatives()(y, p) == 1
    assert metrics.FalseNegatives()(y, p) == 1
    assert metrics.TruePositives(thresholds=0.65)(y, p, sample_weight=[2, 1, 1, 1, 5]) == 2
    with pytest.raises(ValueError, match=r"Threshold values must be in \[0, 1\]"):
        metrics.Precision(thresholds=1.5)


# -- AUC -----------------------------------------------------------------------------------------------------
def test_roc_auc_equals_rank_statistic_when_scores_sit_between_thresholds(rng):
    y = rng.integers(0, 2, 300)
    p = (rng.integers(0, 8, 300) + 2 * y + 0.5) / 10  # values strictly between the k/10 thresholds, with ties
    assert metrics.AUC(num_thresholds=11)(y, p) == pytest.approx(ref_rank_auc(y, p), abs=1e-12)


def test_roc_auc_perfect_and_inverted():
    y = np.array([0, 0, 1, 1])
    assert metrics.AUC()(y, np.array([0.1, 0.2, 0.8, 0.9])) == pytest.approx(1.0)
    assert metrics.AUC()(y, np.array([0.9, 0.8, 0.2, 0.1])) == pytest.approx(0.0)
    assert metrics.AUC(from_logits=True)(y, np.array([-3.0, -1.0, 2.0, 4.0])) == pytest.approx(1.0)


@pytest.mark.parametrize("case", range(3))
def test_auc_variants_match_keras(case):
    # Keras 3.15.1, same order as `got` below
    keras = [[0.8617156, 0.8666521, 0.9017706, 0.8991981, 0.8988107, 0.8241323, 0.9033987, 0.8587174],
             [0.9049741, 0.922599, 0.9189744, 0.9283052, 0.9085728, 0.8571938, 0.9205947, 0.9258373],
             [0.880698, 0.8846332, 0.9015988, 0.9184154, 0.9034961, 0.8461539, 0.9031722, 0.8816097]][case]
    y, p, w = _binary_cases()[case]
    got = [_in_two_batches(metrics.AUC(), y, p), _in_two_batches(metrics.AUC(), y, p, w),
           _in_two_batches(metrics.AUC(curve="PR"), y, p), _in_two_batches(metrics.AUC(curve="PR"), y, p, w),
           _in_two_batches(metrics.AUC(num_thresholds=7, curve="PR"), y, p),
           _in_two_batches(metrics.AUC(num_thresholds=11, summation_method="minoring"), y, p),
           _in_two_batches(metrics.AUC(curve="PR", summation_method="majoring"), y, p),
           _in_two_batches(metrics.AUC(multi_label=True), y, p, w)]
    np.testing.assert_allclose(got, keras, atol=1e-6)


def test_auc_multi_label_is_mean_of_per_label_auc():
    y, p, _ = _binary_cases()[0]
    per_label = [metrics.AUC()(y[:, j], p[:, j]) for j in range(3)]
    assert metrics.AUC(multi_label=True)(y, p) == pytest.approx(np.mean(per_label))
    weighted = metrics.AUC(multi_label=True, label_weights=[1, 0, 3])(y, p)
    assert weighted == pytest.approx((per_label[0] + 3 * per_label[2]) / 4)


def test_auc_argument_errors():
    with pytest.raises(ValueError, match="Invalid curve"):
        metrics.AUC(curve="XY")
    with pytest.raises(ValueError, match="from_logits=True"):
        metrics.AUC()([0, 1], [-1.0, 2.0])
    assert metrics.AUC().result() == 0.0


# -- F-scores ------------------------------------------------------------------------------------------------
def test_f1_per_class_and_averages_match_numpy():
    y, p, _ = _multiclass_case()
    predicted = (p == p.max(-1, keepdims=True)).astype(np.float64)
    per_class = ref_f1_per_class(y, predicted)
    np.testing.assert_allclose(_in_two_batches(metrics.F1Score(), y, p), per_class, atol=1e-6)
    assert _in_two_batches(metrics.F1Score("macro"), y, p) == pytest.approx(per_class.mean(), abs=1e-6)
    support = y.sum(0)
    assert _in_two_batches(metrics.F1Score("weighted"), y, p) == pytest.approx(
        (per_class * support).sum() / support.sum(), abs=1e-6)
    tp = (predicted * y).sum()
    assert _in_two_batches(metrics.F1Score("micro"), y, p) == pytest.approx(tp / len(y), abs=1e-6)


def test_f_scores_match_keras():
    # Keras 3.15.1: F1Score(avg), F1Score(avg, threshold=0.5) weighted, FBetaScore(avg, beta=2)
    keras = {None: [[0.9090909, 1.0, 1.0, 0.9629629], [0.6432641, 0.6307381, 0.8390529, 0.485866],
                    [0.9615385, 1.0, 1.0, 0.942029]],
             "micro": [0.975, 0.6544104, 0.975], "macro": [0.9680135, 0.6497302, 0.9758919],
             "weighted": [0.9756733, 0.6386689, 0.9749025]}
    y, p, w = _multiclass_case()
    for average, expected in keras.items():
        got = [_in_two_batches(metrics.F1Score(average=average), y, p),
               _in_two_batches(metrics.F1Score(average=average, threshold=0.5), y, p, w),
               _in_two_batches(metrics.FBetaScore(average=average, beta=2.0), y, p)]
        for g, e in zip(got, expected):
            np.testing.assert_allclose(g, e, atol=1e-6)


def test_f1_threshold_none_ignores_all_zero_rows_and_checks_shapes():
    f1 = metrics.F1Score(average="micro")
    f1.update_state(np.array([[1.0, 0.0]]), np.array([[0.0, 0.0]]))  # no prediction at all: a false negative
    assert f1.result() == pytest.approx(0.0, abs=1e-6)
    with pytest.raises(ValueError, match="2-D"):
        metrics.F1Score().update_state(np.zeros(3), np.zeros(3))
    with pytest.raises(ValueError, match="Invalid average"):
        metrics.F1Score(average="samples")


# -- accuracy family and loss-like metrics -------------------------------------------------------------------
def test_loss_like_metrics_match_keras():
    y, p, w = _multiclass_case()
    # Keras 3.15.1 values for the same inputs
    checks = [(metrics.TopKCategoricalAccuracy(k=2), (y, p), 1.0),
              (metrics.CosineSimilarity(), (y, p), 0.8293912), (metrics.LogCoshError(), (y, p), 0.0418898),
              (metrics.KLDivergence(), (y, p, w), 0.6748714), (metrics.Hinge(), (y, p), 0.9837578),
              (metrics.CategoricalHinge(), (y, p), 0.752504), (metrics.Poisson(), (y, p), 0.4124238),
              (metrics.MeanAbsolutePercentageError(), (y + 1, p), 81.6560516),
              (metrics.MeanSquaredLogarithmicError(), (y, p), 0.0414413),
              (metrics.BinaryCrossentropy(), (y, p), 0.2975291),
              (metrics.CategoricalCrossentropy(), (y, p), 0.6496955),
              (metrics.RootMeanSquaredError(), (y, p, w), 0.3021564), (metrics.SquaredHinge(), (y, p), 1.0703697)]
    for metric, args, expected in checks:
        assert _in_two_batches(metric, *args) == pytest.approx(expected, rel=1e-6, abs=1e-6), metric.name


def test_loss_like_metric_is_sample_weighted_mean_of_the_loss(rng):
    y, p = rng.uniform(0.1, 1, (10, 3)), rng.uniform(0.1, 1, (10, 3))
    w = rng.uniform(0, 1, 10)
    per_sample = kcore.losses.poisson(y, p).numpy()
    assert metrics.Poisson()(y, p, sample_weight=w) == pytest.approx((per_sample * w).sum() / w.sum())


def test_top_k_categorical_accuracy_by_hand():
    y = np.eye(3)[[0, 1, 2]]
    p = np.array([[0.5, 0.3, 0.2], [0.5, 0.3, 0.2], [0.5, 0.3, 0.2]])
    assert metrics.TopKCategoricalAccuracy(k=1)(y, p) == pytest.approx(1 / 3)
    assert metrics.TopKCategoricalAccuracy(k=2)(y, p) == pytest.approx(2 / 3)
    assert metrics.get("top_k_categorical_accuracy")(y, p) == 1.0  # k=5 covers every class


def test_sum_and_mean():
    s = metrics.Sum()
    s.update_state([1.0, 2.0])
    s.update_state([3.0], sample_weight=[2.0])
    assert s.result() == 9.0
    m = metrics.Mean()
    m.update_state([1.0, 3.0], sample_weight=[1.0, 3.0])
    assert m.result() == pytest.approx(2.5)


# -- names and compile ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("name, cls", [
    ("precision", metrics.Precision), ("recall", metrics.Recall), ("auc", metrics.AUC),
    ("f1_score", metrics.F1Score), ("mse", metrics.MeanSquaredError), ("mae", metrics.MeanAbsoluteError),
    ("mape", metrics.MeanAbsolutePercentageError), ("msle", metrics.MeanSquaredLogarithmicError),
    ("root_mean_squared_error", metrics.RootMeanSquaredError), ("true_positives", metrics.TruePositives),
    ("top_k_categorical_accuracy", metrics.TopKCategoricalAccuracy), ("kl_divergence", metrics.KLDivergence),
    ("logcosh", metrics.LogCoshError), ("binary_crossentropy", metrics.BinaryCrossentropy),
])
def test_string_names_resolve_and_keep_the_given_name(name, cls):
    metric = metrics.for_compile(name)  # compile() keeps the spelling as the name
    assert type(metric) is cls and metric.name == name


def test_default_names():
    assert metrics.Precision().name == "precision" and metrics.AUC().name == "auc"
    assert metrics.F1Score().name == "f1_score" and metrics.FBetaScore().name == "fbeta_score"
    assert metrics.LogCoshError().name == "logcosh"
    assert metrics.for_compile("Precision").name == "Precision"  # Keras 3 logs the string as given
    restored = metrics.AUC.from_config(metrics.AUC(num_thresholds=50, curve="PR", name="pr").get_config())
    assert (restored.name, restored.curve, restored.num_thresholds) == ("pr", "PR", 50)
    with pytest.raises(ValueError, match="Could not interpret metric identifier: rmse"):
        metrics.get("rmse")  # not a Keras name


def test_fit_logs_epoch_level_precision_recall_auc(rng):
    x = rng.normal(size=(64, 4)).astype(np.float32)
    y = (x[:, :1] + 0.5 * rng.normal(size=(64, 1)) > 0).astype(np.float32)
    model = kcore.Sequential([layers.Dense(1, activation="sigmoid", input_shape=(4,))])
    # F1Score(average=None) is vector-valued (one score per class), which the trainer's logs cannot hold yet
    f1 = metrics.F1Score(average="macro", name="f1_score")
    model.compile("adam", "binary_crossentropy", metrics=["precision", "recall", "auc", f1])
    history = model.fit(x, y, epochs=2, batch_size=16, verbose=0, validation_data=(x, y))
    assert list(history.history) == ["loss", "precision", "recall", "auc", "f1_score",
                                     "val_loss", "val_precision", "val_recall", "val_auc", "val_f1_score"]
    # evaluation with small batches accumulates counts over all samples
    logs = model.evaluate(x, y, batch_size=8, verbose=0, return_dict=True)
    p = model.predict(x, verbose=0)
    precision, recall = ref_precision_recall(y, p)
    assert logs["precision"] == pytest.approx(precision, abs=1e-6)
    assert logs["recall"] == pytest.approx(recall, abs=1e-6)
    assert logs["auc"] == pytest.approx(metrics.AUC()(y, p), abs=1e-9)
    predicted = (p > 1e-9).astype(np.float64)  # one column: the row maximum is the value itself
    assert logs["f1_score"] == pytest.approx(ref_f1_per_class(y, predicted)[0], abs=1e-6)
