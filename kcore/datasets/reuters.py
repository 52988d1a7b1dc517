"""Reuters newswire topics (Keras's `reuters.npz`): 11,228 newswires as word ids, 46 topics."""
import numpy as np

from kcore.datasets import _sequences as seq
from kcore.datasets._files import KERAS_ORIGIN, get_file, load_npz

_SHA256 = "d6586e694ee56d7a4e65172e12b3e987c03096cb01eab99753921ef915959916"
_INDEX_MD5 = "4d44cc38712099c9e383dc6e5f11a921"


def load_data(path="reuters.npz", num_words=None, skip_top=0, maxlen=None, test_split=0.2, seed=113,
              start_char=1, oov_char=2, index_from=3):
    """((x_train, y_train), (x_test, y_test)) with the same word-id options as imdb.load_data.

    All newswires are shuffled with RandomState(seed), then the last `test_split` fraction (after
    dropping sequences of maxlen or more ids) is the test set.
    """
    if not 0 <= test_split < 1:
        raise ValueError(f"test_split must be in [0, 1), got {test_split}")
    path = get_file(path, KERAS_ORIGIN + "reuters.npz", file_hash=_SHA256, what="Reuters (reuters.npz)")
    data = load_npz(path)
    xs, labels = seq.shuffled(np.random.RandomState(seed), data["x"], data["y"])
    xs = seq.offset(xs, start_char, index_from)
    if maxlen:
        xs, labels = seq.drop_long(xs, labels, maxlen)
    xs = seq.limit_vocabulary(xs, num_words, skip_top, oov_char)
    return seq.split_at(xs, labels, int(len(xs) * (1 - test_split)))


def get_word_index(path="reuters_word_index.json"):
    """{word: id} with the raw ids (add `index_from`, 3 by default, to match load_data's sequences)."""
    path = get_file(path, KERAS_ORIGIN + "reuters_word_index.json", file_hash=_INDEX_MD5,
                    what="the Reuters word index (reuters_word_index.json)")
    return seq.read_word_index(path)
