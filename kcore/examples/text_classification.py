"""Sentiment-style text classification on synthetic reviews: python -m kcore.examples.text_classification
[--epochs 6] [--dtype-policy mixed_bfloat16]

Reviews are variable-length sequences of word ids (0 = padding) drawn from a vocabulary in
which ids 1-40 are "positive" words, 41-80 "negative" words and the rest neutral. A review
is positive when it has more positive than negative words. The model reads the padded ids
with Embedding(mask_zero=True) -> Bidirectional(LSTM) -> Dense(sigmoid); padding is masked.
"""
import numpy as np

import kcore
from kcore import layers
from kcore.examples._training import fit_and_report, parse_args, use_policy

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


def main(epochs=6, verbose=1, seed=7, samples=4000, dtype_policy=None):
    kcore.utils.set_random_seed(seed)
    use_policy(dtype_policy)
    rng = np.random.default_rng(seed)
    x_train, y_train = make_reviews(samples, rng)
    x_test, y_test = make_reviews(samples // 4, rng)

    model = kcore.Sequential([
        layers.Embedding(VOCAB, 32, mask_zero=True, input_length=MAX_LEN),
        layers.Bidirectional(layers.LSTM(32, dropout=0.2)),
        layers.Dense(1, activation="sigmoid"),
    ])
    return fit_and_report(model, (x_train, y_train), (x_test, y_test), kcore.optimizers.Adam(learning_rate=0.005),
                          "binary_crossentropy", epochs, verbose, batch_size=64)


if __name__ == "__main__":
    args = parse_args(__doc__, epochs=6)
    main(epochs=args.epochs, verbose=args.verbose, dtype_policy=args.dtype_policy)
