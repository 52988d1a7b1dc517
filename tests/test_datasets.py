"""Keras datasets read from small files built here in Keras's exact formats (no network), and pad_sequences.

The imdb / reuters / boston_housing loaders were also run side by side with Keras 3.15.1 on random
files of the real formats (30 + 20 reviews, several num_words / skip_top / maxlen / oov_char /
start_char / index_from / seed settings): the returned arrays, labels and dtypes were identical.
"""
import gzip
import io
import json
import os
import pickle
import tarfile
import urllib.error
import urllib.request

import numpy as np
import pytest

from kcore import datasets
from kcore.backend import config
from kcore.datasets import _files
from kcore.utils import pad_sequences


@pytest.fixture
def download_attempts(monkeypatch):
    """No network: every download attempt fails like a blocked one and is recorded here."""
    attempts = []

    def blocked(url, timeout=None):
        attempts.append(url)
        raise urllib.error.URLError("network is unreachable")

    monkeypatch.setattr(urllib.request, "urlopen", blocked)
    return attempts


@pytest.fixture
def cache(tmp_path, monkeypatch, download_attempts):
    """An empty Keras cache folder ($KERAS_HOME/datasets), with the /tmp fallback moved into tmp_path too."""
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))
    monkeypatch.setattr(_files, "_TMP_BASE", str(tmp_path / "tmp_keras"))
    folder = tmp_path / "keras_home" / "datasets"
    folder.mkdir(parents=True)
    return folder


# -- cache, download, errors ---------------------------------------------------------------------------------
def test_missing_file_error_names_file_origin_and_place(cache, download_attempts):
    with pytest.raises(datasets.DatasetNotFoundError) as info:
        datasets.mnist.load_data()
    message = str(info.value)
    assert "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz" in message
    assert f"put it at {cache / 'mnist.npz'}" in message
    assert "network is unreachable" in message
    assert download_attempts == ["https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz"]
    assert os.listdir(cache) == []  # no partial file left behind


def test_download_is_atomic_and_hash_checked(cache, monkeypatch):
    buffer = io.BytesIO()
    np.savez(buffer, x=np.zeros((5, 13)), y=np.arange(5.0))
    payload = buffer.getvalue()
    monkeypatch.setattr(urllib.request, "urlopen", lambda url, timeout=None: io.BytesIO(payload))
    with pytest.raises(datasets.DatasetNotFoundError, match="hash does not match"):
        datasets.boston_housing.load_data()  # the bytes are not the real file
    assert os.listdir(cache) == []
    monkeypatch.setattr(datasets.boston_housing, "_SHA256", __import__("hashlib").sha256(payload).hexdigest())
    (x_train, y_train), (x_test, y_test) = datasets.boston_housing.load_data()
    assert os.listdir(cache) == ["boston_housing.npz"] and x_train.shape == (4, 13) and x_test.shape == (1, 13)


def test_absolute_path_and_tmp_fallback(cache, tmp_path):
    elsewhere = tmp_path / "my_mnist.npz"
    _write_mnist(elsewhere, n_train=3, n_test=2)
    (x_train, _), _ = datasets.mnist.load_data(path=str(elsewhere))
    assert x_train.shape == (3, 28, 28)
    fallback = tmp_path / "tmp_keras" / "datasets"
    fallback.mkdir(parents=True)
    _write_mnist(fallback / "mnist.npz", n_train=4, n_test=2)
    (x_train, _), _ = datasets.mnist.load_data()
    assert x_train.shape == (4, 28, 28)


def test_npz_loader_refuses_arbitrary_pickles(cache):
    class Evil:
        def __reduce__(self):
            return (os.system, ("echo pwned",))

    bad = np.empty(1, dtype=object)
    bad[0] = Evil()
    np.savez(cache / "imdb.npz", x_train=bad, y_train=np.zeros(1), x_test=bad, y_test=np.zeros(1))
    with pytest.raises(pickle.UnpicklingError, match="refusing to load"):
        datasets.imdb.load_data()


# -- MNIST / Fashion-MNIST / Boston --------------------------------------------------------------------------
def _write_mnist(path, n_train, n_test):
    r = np.random.default_rng(0)
    np.savez(path, x_train=r.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
             y_train=r.integers(0, 10, n_train, dtype=np.uint8),
             x_test=r.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
             y_test=r.integers(0, 10, n_test, dtype=np.uint8))


def test_mnist_shapes_and_dtypes(cache):
    _write_mnist(cache / "mnist.npz", n_train=6, n_test=4)
    (x_train, y_train), (x_test, y_test) = datasets.mnist.load_data()
    assert x_train.shape == (6, 28, 28) and x_test.shape == (4, 28, 28)
    assert x_train.dtype == y_train.dtype == x_test.dtype == y_test.dtype == np.uint8
    with np.load(cache / "mnist.npz") as raw:
        np.testing.assert_array_equal(x_test, raw["x_test"])


def _idx_bytes(array):
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    return header + array.astype(np.uint8).tobytes()


def test_fashion_mnist_reads_gzipped_idx_files(cache):
    folder = cache / "fashion-mnist"
    folder.mkdir()
    r = np.random.default_rng(1)
    arrays = {"train-labels-idx1-ubyte.gz": r.integers(0, 10, 5), "train-images-idx3-ubyte.gz":
              r.integers(0, 256, (5, 28, 28)), "t10k-labels-idx1-ubyte.gz": r.integers(0, 10, 3),
              "t10k-images-idx3-ubyte.gz": r.integers(0, 256, (3, 28, 28))}
    for name, array in arrays.items():
        with gzip.open(folder / name, "wb") as f:
            f.write(_idx_bytes(array))
    (x_train, y_train), (x_test, y_test) = datasets.fashion_mnist.load_data()
    assert x_train.shape == (5, 28, 28) and y_train.shape == (5,) and x_test.shape == (3, 28, 28)
    assert x_train.dtype == y_test.dtype == np.uint8
    np.testing.assert_array_equal(x_train, arrays["train-images-idx3-ubyte.gz"])
    np.testing.assert_array_equal(y_test, arrays["t10k-labels-idx1-ubyte.gz"])


def test_fashion_mnist_missing_file_says_where(cache):
    with pytest.raises(datasets.DatasetNotFoundError, match="fashion-mnist/train-labels-idx1-ubyte.gz"):
        datasets.fashion_mnist.load_data()


def test_boston_housing_split_and_shuffle(cache):
    x = np.arange(20 * 13, dtype=np.float64).reshape(20, 13)
    y = np.arange(20, dtype=np.float64)
    np.savez(cache / "boston_housing.npz", x=x, y=y)
    (x_train, y_train), (x_test, y_test) = datasets.boston_housing.load_data(test_split=0.25, seed=5)
    order = np.arange(20)
    np.random.RandomState(5).shuffle(order)
    assert x_train.shape == (15, 13) and x_test.shape == (5, 13) and y_train.dtype == np.float64
    np.testing.assert_array_equal(y_train, order[:15])
    np.testing.assert_array_equal(x_test, x[order[15:]])


# -- CIFAR ---------------------------------------------------------------------------------------------------
def _cifar_batch(path, n, label_key, seed):
    r = np.random.default_rng(seed)
    data = r.integers(0, 256, (n, 3072), dtype=np.uint8)
    labels = r.integers(0, 10, n).tolist()
    with open(path, "wb") as f:
        pickle.dump({b"batch_label": b"x", label_key.encode(): labels, b"data": data}, f)
    return data, labels


def _cifar10_folder(folder, n=2):
    folder.mkdir(parents=True)
    batches = [_cifar_batch(folder / f"data_batch_{i}", n, "labels", i) for i in range(1, 6)]
    test = _cifar_batch(folder / "test_batch", n, "labels", 9)
    return batches, test


@pytest.mark.parametrize("layout", ["cifar-10-batches-py", "cifar-10-batches-py-target/cifar-10-batches-py"])
def test_cifar10_keras2_and_keras3_layouts(cache, layout):
    batches, (test_data, test_labels) = _cifar10_folder(cache / layout)
    (x_train, y_train), (x_test, y_test) = datasets.cifar10.load_data()
    assert x_train.shape == (10, 32, 32, 3) and y_train.shape == (10, 1) and x_test.shape == (2, 32, 32, 3)
    assert x_train.dtype == y_train.dtype == y_test.dtype == np.uint8
    # pixel (row 1, col 2) of channel c sits at c * 1024 + 1 * 32 + 2 of the flat record
    assert x_test[1, 1, 2].tolist() == [test_data[1][c * 1024 + 34] for c in range(3)]
    assert y_train[:, 0].tolist() == sum((labels for _, labels in batches), [])
    assert y_test[:, 0].tolist() == test_labels


def test_cifar10_channels_first(cache, monkeypatch):
    _cifar10_folder(cache / "cifar-10-batches-py")
    monkeypatch.setattr(config, "_IMAGE_DATA_FORMAT", "channels_first")
    (x_train, _), _ = datasets.cifar10.load_data()
    assert x_train.shape == (10, 3, 32, 32)


def test_cifar10_extracts_a_cached_archive(cache, tmp_path):
    _cifar10_folder(tmp_path / "src" / "cifar-10-batches-py")
    with tarfile.open(cache / "cifar-10-batches-py.tar.gz", "w:gz") as tar:
        tar.add(tmp_path / "src" / "cifar-10-batches-py", arcname="cifar-10-batches-py")
    (x_train, _), _ = datasets.cifar10.load_data()
    assert x_train.shape == (10, 32, 32, 3)
    assert (cache / "cifar-10-batches-py-target" / "cifar-10-batches-py" / "test_batch").exists()


def test_cifar10_missing_error_mentions_archive_and_folder(cache):
    with pytest.raises(datasets.DatasetNotFoundError) as info:
        datasets.cifar10.load_data()
    message = str(info.value)
    assert "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz" in message
    assert str(cache / "cifar-10-batches-py.tar.gz") in message and "cifar-10-batches-py/" in message


def test_cifar100_fine_and_coarse_labels(cache):
    folder = cache / "cifar-100-python"
    folder.mkdir()
    r = np.random.default_rng(3)
    for name, n in (("train", 4), ("test", 2)):
        record = {b"data": r.integers(0, 256, (n, 3072), dtype=np.uint8), b"fine_labels": list(range(n)),
                  b"coarse_labels": [7] * n}
        with open(folder / name, "wb") as f:
            pickle.dump(record, f)
    (x_train, y_fine), (x_test, _) = datasets.cifar100.load_data()
    (_, y_coarse), _ = datasets.cifar100.load_data(label_mode="coarse")
    assert x_train.shape == (4, 32, 32, 3) and x_test.shape == (2, 32, 32, 3) and x_train.dtype == np.uint8
    assert y_fine.shape == (4, 1) and y_fine[:, 0].tolist() == [0, 1, 2, 3] and y_coarse[:, 0].tolist() == [7] * 4
    with pytest.raises(ValueError, match="label_mode"):
        datasets.cifar100.load_data(label_mode="medium")


# -- IMDB / Reuters ------------------------------------------------------------------------------------------
def _ragged(lists):
    out = np.empty(len(lists), dtype=object)
    for i, item in enumerate(lists):
        out[i] = item
    return out


IMDB_TRAIN = [[1, 5, 2], [4, 4, 4, 4, 9], [3], [7, 1]]
IMDB_TEST = [[2, 2], [8, 6, 5, 1], [1]]


def _write_imdb(cache):
    np.savez(cache / "imdb.npz", x_train=_ragged(IMDB_TRAIN), y_train=np.array([0, 1, 0, 1]),
             x_test=_ragged(IMDB_TEST), y_test=np.array([1, 0, 1]))


def _keras_order(seed):
    """The permutations Keras draws: train first, then test, from one RandomState(seed)."""
    rng = np.random.RandomState(seed)
    train, test = np.arange(len(IMDB_TRAIN)), np.arange(len(IMDB_TEST))
    rng.shuffle(train)
    rng.shuffle(test)
    return train, test


def test_imdb_default_transform(cache):
    _write_imdb(cache)
    (x_train, y_train), (x_test, y_test) = datasets.imdb.load_data()
    train, test = _keras_order(113)
    assert x_train.dtype == object and x_train.shape == (4,) and x_test.shape == (3,)
    assert all(type(s) is list for s in x_train)
    # [start_char] + ids shifted by index_from=3; without num_words the largest id (9 + 3) counts as
    # out of vocabulary (Keras compares w < max id), so it becomes oov_char 2
    expected = [[1] + [w + 3 if w + 3 < 12 else 2 for w in IMDB_TRAIN[i]] for i in train]
    assert list(x_train) == expected
    assert y_train.tolist() == [[0, 1, 0, 1][i] for i in train]
    assert list(x_test) == [[1] + [w + 3 for w in IMDB_TEST[i]] for i in test]
    assert y_test.tolist() == [[1, 0, 1][i] for i in test]


def test_imdb_num_words_skip_top_oov_and_index_from(cache):
    _write_imdb(cache)
    (x_train, _), _ = datasets.imdb.load_data(num_words=8, skip_top=2, index_from=2, seed=0)
    train, _ = _keras_order(0)

    def mapped(w):
        return w if 2 <= w < 8 else 2

    assert list(x_train) == [[mapped(1)] + [mapped(w + 2) for w in IMDB_TRAIN[i]] for i in train]
    (x_train, _), _ = datasets.imdb.load_data(num_words=8, oov_char=None, start_char=None, index_from=0, seed=0)
    assert list(x_train) == [[w for w in IMDB_TRAIN[i] if w < 8] for i in train]


def test_imdb_maxlen_drops_long_reviews(cache):
    _write_imdb(cache)
    (x_train, y_train), (x_test, y_test) = datasets.imdb.load_data(maxlen=3)
    # with the start char, only reviews of 0 or 1 words are shorter than 3 ids
    assert sorted(map(len, x_train)) == [2] and sorted(map(len, x_test)) == [2]
    assert len(y_train) == 1 and len(y_test) == 1
    with pytest.raises(ValueError, match="no sequence was kept"):
        datasets.imdb.load_data(maxlen=1)


def test_imdb_and_reuters_word_index(cache):
    (cache / "imdb_word_index.json").write_text(json.dumps({"the": 1, "and": 2}))
    (cache / "reuters_word_index.json").write_text(json.dumps({"said": 1}))
    assert datasets.imdb.get_word_index() == {"the": 1, "and": 2}
    assert datasets.reuters.get_word_index() == {"said": 1}


def test_reuters_split_and_transforms(cache):
    xs = [[i + 1] * (i % 4 + 1) for i in range(10)]
    np.savez(cache / "reuters.npz", x=_ragged(xs), y=np.arange(10))
    (x_train, y_train), (x_test, y_test) = datasets.reuters.load_data(test_split=0.3, num_words=9)
    order = np.arange(10)
    np.random.RandomState(113).shuffle(order)
    assert len(x_train) == 7 and len(x_test) == 3 and x_train.dtype == object
    assert y_train.tolist() == order[:7].tolist() and y_test.tolist() == order[7:].tolist()
    assert list(x_train[0]) == [1] + [w + 3 if w + 3 < 9 else 2 for w in xs[order[0]]]
    (x_train, y_train), (x_test, y_test) = datasets.reuters.load_data(maxlen=3, test_split=0.5)
    kept = [int(i) for i in order if len(xs[i]) + 1 < 3]  # dropped before splitting
    n_train = int(len(kept) * 0.5)
    assert y_train.tolist() == kept[:n_train] and y_test.tolist() == kept[n_train:]
    assert all(len(s) == 2 for s in list(x_train) + list(x_test))


# -- pad_sequences -------------------------------------------------------------------------------------------
SEQS = [[1, 2, 3], [4], [], [5, 6, 7, 8, 9]]


def test_pad_sequences_defaults_pre_padding_and_truncation():
    # values checked against keras.utils.pad_sequences (Keras 3.15.1)
    out = pad_sequences(SEQS)
    assert out.dtype == np.int32
    assert out.tolist() == [[0, 0, 1, 2, 3], [0, 0, 0, 0, 4], [0, 0, 0, 0, 0], [5, 6, 7, 8, 9]]
    assert pad_sequences(SEQS, maxlen=4, value=-1).tolist() == [[-1, 1, 2, 3], [-1, -1, -1, 4], [-1] * 4,
                                                                [6, 7, 8, 9]]


def test_pad_sequences_post_and_shapes():
    assert pad_sequences(SEQS, maxlen=2, padding="post", truncating="post").tolist() == [[1, 2], [4, 0], [0, 0],
                                                                                         [5, 6]]
    out = pad_sequences([[[1, 2], [3, 4]], [[5, 6]]], dtype="float32", padding="post")
    assert out.shape == (2, 2, 2) and out.dtype == np.float32 and out[1].tolist() == [[5, 6], [0, 0]]
    assert pad_sequences(SEQS, maxlen=0).shape == (4, 0)
    assert pad_sequences([]).shape == (0, 0)


def test_pad_sequences_strings_and_errors():
    assert pad_sequences([["a", "b"], ["c"]], dtype=object, value="<pad>").tolist() == [["a", "b"], ["<pad>", "c"]]
    with pytest.raises(ValueError, match="dtype=object"):
        pad_sequences([["a"]], value="<pad>")
    with pytest.raises(ValueError, match='Padding type "middle"'):
        pad_sequences(SEQS, padding="middle")
    with pytest.raises(ValueError, match='Truncating type "mid"'):
        pad_sequences(SEQS, truncating="mid")
    with pytest.raises(ValueError, match="different from expected shape"):
        pad_sequences([[[1, 2]], [[1, 2, 3]]])
    with pytest.raises(ValueError, match="must be iterable"):
        pad_sequences(5)
