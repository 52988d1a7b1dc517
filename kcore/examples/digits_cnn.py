"""Train the seed-004 CNN (three Conv2D + MaxPooling2D blocks, Dense 128, Dropout, softmax; 241,546
parameters) on the bundled digits, upscaled from 8x8 to the model's 28x28 input:

    python -m kcore.examples.digits_cnn [--epochs 8] [--dtype-policy mixed_bfloat16]
"""
import numpy as np

import kcore
from kcore.examples._training import fit_and_report, parse_args, use_policy
from kcore.layers import Conv2D, Dense, Dropout, Flatten, MaxPooling2D
from kcore.models import Sequential


def create_model():
    """The seed's model, unchanged."""
    model = Sequential()
    model.add(Conv2D(filters=32, kernel_size=(3, 3), padding="same", activation="relu", input_shape=(28, 28, 1)))
    model.add(MaxPooling2D(pool_size=(2, 2)))
    model.add(Conv2D(filters=64, kernel_size=(3, 3), padding="same", activation="relu"))
    model.add(MaxPooling2D(pool_size=(2, 2)))
    model.add(Conv2D(filters=128, kernel_size=(3, 3), padding="same", activation="relu"))
    model.add(MaxPooling2D(pool_size=(2, 2)))
    model.add(Flatten())
    model.add(Dense(units=128, activation="relu"))
    model.add(Dropout(rate=0.5))
    model.add(Dense(units=10, activation="softmax"))
    return model


def to_28x28(images):
    """8x8 digits (values 0..16) -> 28x28x1 in [0, 1]: each pixel repeated 3x3, then a 2-pixel border."""
    big = np.repeat(np.repeat(images.astype(np.float32) / 16.0, 3, axis=1), 3, axis=2)
    return np.pad(big, ((0, 0), (2, 2), (2, 2)))[..., None]


def main(epochs=8, verbose=1, seed=7, dtype_policy=None):
    kcore.utils.set_random_seed(seed)
    use_policy(dtype_policy)
    (x_train, y_train), (x_test, y_test) = kcore.datasets.digits.load_data()
    x_train, x_test = to_28x28(x_train), to_28x28(x_test)
    model = create_model()
    return fit_and_report(model, (x_train, y_train), (x_test, y_test), "adam", "sparse_categorical_crossentropy",
                          epochs, verbose, batch_size=64)


if __name__ == "__main__":
    args = parse_args(__doc__, epochs=8)
    main(args.epochs, args.verbose, dtype_policy=args.dtype_policy)
