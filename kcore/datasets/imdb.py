"""IMDB movie-review sentiment (Keras's `imdb.npz`): 25,000 training and 25,000 test reviews as word ids.

Word ids are frequency ranks (1 = most frequent word); Keras's loader shifts them by `index_from`
so that 0 is padding, `start_char` marks a review's start and `oov_char` replaces dropped words.
"""
import numpy as np

from kcore.datasets import _sequences as seq
from kcore.datasets._files import KERAS_ORIGIN, get_file, load_npz

_SHA256 = "69664113be75683a8fe16e3ed0ab59fda8886cb3cd7ada244f7d9544e4676b9f"
_INDEX_MD5 = "bfafd718b763782e994055a2d397834f"


def load_data(path="imdb.npz", num_words=None, skip_top=0, maxlen=None, seed=113, start_char=1, oov_char=2,
              index_from=3, **kwargs):
    """((x_train, y_train), (x_test, y_test)); x are 1-D object arrays of lists of ints, y int labels 0/1.

    Train and test are each shuffled with one RandomState(seed) (train first). num_words keeps the
    most frequent words (ids >= num_words become oov_char), skip_top drops the most frequent ones,
    maxlen drops (does not truncate) reviews of maxlen or more ids.
    """
    kwargs.pop("nb_words", None)  # Keras 1 name, ignored by Keras too
    if kwargs:
        raise TypeError(f"Unrecognized keyword arguments: {sorted(kwargs)}")
    path = get_file(path, KERAS_ORIGIN + "imdb.npz", file_hash=_SHA256, what="IMDB (imdb.npz)")
    data = load_npz(path)
    rng = np.random.RandomState(seed)
    x_train, y_train = seq.shuffled(rng, data["x_train"], data["y_train"])
    x_test, y_test = seq.shuffled(rng, data["x_test"], data["y_test"])
    x_train = seq.offset(x_train, start_char, index_from)
    x_test = seq.offset(x_test, start_char, index_from)
    if maxlen:
        x_train, y_train = seq.drop_long(x_train, y_train, maxlen)
        x_test, y_test = seq.drop_long(x_test, y_test, maxlen)
    xs = seq.limit_vocabulary(x_train + x_test, num_words, skip_top, oov_char)
    return seq.split_at(xs, np.concatenate([np.asarray(y_train), np.asarray(y_test)]), len(x_train))


def get_word_index(path="imdb_word_index.json"):
    """{word: id} with the raw ids (add `index_from`, 3 by default, to match load_data's sequences)."""
    path = get_file(path, KERAS_ORIGIN + "imdb_word_index.json", file_hash=_INDEX_MD5,
                    what="the IMDB word index (imdb_word_index.json)")
    return seq.read_word_index(path)
