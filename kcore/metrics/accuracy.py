"""Accuracy metrics: one 0/1 value per prediction, averaged with Keras's sample-weight rules."""
import numpy as np

from kcore.metrics.base import MeanMetricWrapper, _numpy, function_metric, match_ranks


def accuracy(y_true, y_pred):
    """1 where y_true equals y_pred exactly."""
    y_true, y_pred = match_ranks(_numpy(y_true), _numpy(y_pred))
    return (y_true == y_pred).astype(np.float64)


def binary_accuracy(y_true, y_pred, threshold=0.5):
    """1 where (y_pred > threshold) equals y_true, element by element (no reduction over the last axis)."""
    y_true, y_pred = match_ranks(_numpy(y_true), _numpy(y_pred))
    return (y_true == (y_pred > threshold)).astype(np.float64)


def categorical_accuracy(y_true, y_pred):
    """1 where argmax(y_true) == argmax(y_pred) over the last axis."""
    # argmax needs no float64 copy of the inputs
    return (np.argmax(_numpy(y_true, None), axis=-1) == np.argmax(_numpy(y_pred, None), axis=-1)).astype(np.float64)


def _sparse_labels(y_true, y_pred):
    labels = _numpy(y_true)
    if labels.ndim == y_pred.ndim and labels.shape[-1] == 1:
        labels = labels[..., 0]
    return labels


def sparse_categorical_accuracy(y_true, y_pred):
    """1 where the integer label equals argmax(y_pred); labels of shape (N,) or (N, 1)."""
    y_pred = _numpy(y_pred, None)
    return (_sparse_labels(y_true, y_pred) == np.argmax(y_pred, axis=-1)).astype(np.float64)


def top_k_categorical_accuracy(y_true, y_pred, k=5):
    """1 where argmax(y_true) is among the k largest entries of y_pred."""
    return sparse_top_k_categorical_accuracy(np.argmax(_numpy(y_true), axis=-1), y_pred, k)


def sparse_top_k_categorical_accuracy(y_true, y_pred, k=5, from_sorted_ids=False):
    """1 where the integer label is among the k largest entries of y_pred (or, with from_sorted_ids, among
    the first k ids of each row of y_pred)."""
    y_pred = _numpy(y_pred)
    labels = _sparse_labels(y_true, y_pred).astype(np.int64)
    if from_sorted_ids:
        return np.any(y_pred[..., :k].astype(np.int64) == labels[..., None], axis=-1).astype(np.float64)
    # in the top k when fewer than k entries of the row are strictly larger than the label's score
    score = np.take_along_axis(y_pred, np.clip(labels, 0, y_pred.shape[-1] - 1)[..., None], axis=-1)
    larger = np.sum(y_pred > score, axis=-1)
    valid = (labels >= 0) & (labels < y_pred.shape[-1])
    return ((larger < k) & valid).astype(np.float64)


Accuracy = function_metric("Accuracy", accuracy, doc="How often predictions equal labels exactly.")
BinaryAccuracy = function_metric("BinaryAccuracy", binary_accuracy, threshold=0.5,
                                 doc="How often (y_pred > threshold) matches binary labels.")
CategoricalAccuracy = function_metric("CategoricalAccuracy", categorical_accuracy,
                                      doc="How often the argmax of y_pred matches the argmax of one-hot labels.")
SparseCategoricalAccuracy = function_metric("SparseCategoricalAccuracy", sparse_categorical_accuracy,
                                            doc="How often the argmax of y_pred matches integer labels.")


class TopKCategoricalAccuracy(MeanMetricWrapper):
    """How often the one-hot label is among the k highest predictions."""

    def __init__(self, k=5, name="top_k_categorical_accuracy", dtype=None):
        super().__init__(top_k_categorical_accuracy, name=name, dtype=dtype, k=k)


class SparseTopKCategoricalAccuracy(MeanMetricWrapper):
    """How often the integer label is among the k highest predictions."""

    def __init__(self, k=5, name="sparse_top_k_categorical_accuracy", dtype=None, from_sorted_ids=False):
        super().__init__(sparse_top_k_categorical_accuracy, name=name, dtype=dtype, k=k)
        if from_sorted_ids:
            self._fn_kwargs["from_sorted_ids"] = True  # Keras lists it in the config only when set


class AutoAccuracy(MeanMetricWrapper):
    """'accuracy' / 'acc' in compile: binary, sparse or categorical, decided by the shapes (Keras 3)."""

    def __init__(self, name="accuracy", dtype=None):
        self._chosen = None
        super().__init__(self._dispatch, name=name, dtype=dtype)

    def _dispatch(self, y_true, y_pred):
        if self._chosen is None:
            self._chosen = resolve_accuracy(np.shape(y_true), np.shape(y_pred))
        return self._chosen(y_true, y_pred)

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}


def resolve_accuracy(true_shape, pred_shape):
    """The accuracy function Keras picks for 'accuracy' in compile, from the shapes of y_true and y_pred."""
    if len(pred_shape) >= 1 and pred_shape[-1] == 1:
        return binary_accuracy
    if len(true_shape) < len(pred_shape) or (true_shape and true_shape[-1] == 1 and pred_shape[-1] > 1):
        return sparse_categorical_accuracy
    return categorical_accuracy
