"""The word-index transforms imdb and reuters apply to their integer sequences."""
import json

import numpy as np


def shuffled(rng, *arrays):
    """`arrays` reordered by one permutation drawn with rng.shuffle (Keras's order of random draws)."""
    order = np.arange(len(arrays[0]))
    rng.shuffle(order)
    return [a[order] for a in arrays]


def offset(sequences, start_char, index_from):
    """Each sequence as a list with word ids shifted by index_from, prefixed by start_char if given."""
    prefix = [] if start_char is None else [start_char]
    return [prefix + [int(w) + index_from for w in seq] for seq in sequences]


def drop_long(sequences, labels, maxlen):
    """Keeps the pairs whose sequence is shorter than maxlen (longer ones are dropped, not truncated); raises
    ValueError when none is left."""
    kept = [(s, label) for s, label in zip(sequences, labels) if len(s) < maxlen]
    if not kept:
        raise ValueError(f"After filtering for sequences shorter than maxlen={maxlen}, no sequence was kept. "
                         f"Increase maxlen.")
    return [s for s, _ in kept], [label for _, label in kept]


def split_at(sequences, labels, n_train):
    """((x_train, y_train), (x_test, y_test)): the first n_train pairs and the rest, sequences as object arrays."""
    labels = np.asarray(labels)
    return ((as_object_array(sequences[:n_train]), labels[:n_train]),
            (as_object_array(sequences[n_train:]), labels[n_train:]))


def limit_vocabulary(sequences, num_words, skip_top, oov_char):
    """Ids outside [skip_top, num_words) become oov_char (or are removed when oov_char is None)."""
    if not num_words:
        num_words = max((max(s) for s in sequences if s), default=0)
    if oov_char is None:
        return [[w for w in s if skip_top <= w < num_words] for s in sequences]
    return [[w if skip_top <= w < num_words else oov_char for w in s] for s in sequences]


def as_object_array(sequences):
    """A 1-D object array whose items are the Python lists (even when all lists have the same length)."""
    out = np.empty(len(sequences), dtype=object)
    for i, s in enumerate(sequences):
        out[i] = s
    return out


def read_word_index(path):
    with open(path, encoding="utf8") as f:
        return json.load(f)
