"""Sentiment-style text classification on synthetic reviews: python -m kcore.examples.text_classification

Reviews are variable-length sequences of word ids (0 = padding) drawn from a vocabulary in
which ids 1-40 are "positive" words, 41-80 "negative" words and the rest neutral. A review
is positive when it has more positive than negative words. The model reads the padded ids
with Embedding(mask_zero=True) -> Bidirectional(LSTM) -> Dense(sigmoid); padding is masked.
"""
import argparse
import time

import numpy as np

import kcore
from kcore import layers

VOCAB, MAX_LEN = 500, 60


def make_reviews(n, rng):
    """(ids (n, MAX_LEN) right-padded with 0, labels (n, 1))."""
    ids = np.zeros((n, MAX_LEN), np.int64)
    labels = np.zeros((n, 1), np.float32)
    for i in range(n):
        length = rng.integers(12, MAX_LEN + 1)
        words = rng.integers(81, VOCAB, length)
        n_pos, n_neg = rng.integers(0, 6, 2)
        if n_pos == n_neg:
            n_pos += 1
        slots = rng.choice(length, n_pos + n_neg, replace=False)
        words[slots[:n_pos]] = rng.integers(1, 41, n_pos)
        words[slots[n_pos:]] = rng.integers(41, 81, n_neg)
        ids[i, :length] = words
        labels[i, 0] = float(n_pos > n_neg)
    return ids, labels


def main(epochs=6, verbose=1, seed=7, samples=4000):
    kcore.utils.set_random_seed(seed)
    rng = np.random.default_rng(seed)
    x_train, y_train = make_reviews(samples, rng)
    x_test, y_test = make_reviews(samples // 4, rng)

    model = kcore.Sequential([
        layers.Embedding(VOCAB, 32, mask_zero=True, input_length=MAX_LEN),
        layers.Bidirectional(layers.LSTM(32, dropout=0.2)),
        layers.Dense(1, activation="sigmoid"),
    ])
    model.summary()
    model.compile(optimizer=kcore.optimizers.Adam(learning_rate=0.005), loss="binary_crossentropy",
                  metrics=["accuracy"])
    start = time.time()
    model.fit(x_train, y_train, batch_size=64, epochs=epochs, validation_split=0.1, verbose=verbose)
    seconds = time.time() - start
    loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
    print(f"test loss {loss:.4f} - test accuracy {accuracy:.4f} - trained in {seconds:.1f}s "
          f"on {kcore.get_num_threads()} threads")
    return accuracy


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Train a Bidirectional LSTM on synthetic reviews")
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--verbose", type=int, default=1)
    args = parser.parse_args()
    main(epochs=args.epochs, verbose=args.verbose)
