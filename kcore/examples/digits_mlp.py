"""Train an MLP (64-32-10) on the bundled handwritten digits: python -m kcore.examples.digits_mlp"""
import argparse
import time

import kcore
from kcore import layers


def main(epochs=40, verbose=1, seed=42):
    kcore.utils.set_random_seed(seed)
    (x_train, y_train), (x_test, y_test) = kcore.datasets.digits.load_data()
    x_train = x_train.reshape(len(x_train), 64).astype("float32") / 16.0
    x_test = x_test.reshape(len(x_test), 64).astype("float32") / 16.0
    y_train = kcore.utils.to_categorical(y_train, 10)
    y_test = kcore.utils.to_categorical(y_test, 10)

    model = kcore.Sequential([
        layers.Dense(64, activation="relu", input_shape=(64,)),
        layers.Dense(32, activation="relu"),
        layers.Dense(10, activation="softmax"),
    ])
    model.summary()
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    start = time.time()
    model.fit(x_train, y_train, batch_size=32, epochs=epochs, validation_split=0.1, verbose=verbose)
    seconds = time.time() - start
    loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
    print(f"test loss {loss:.4f} - test accuracy {accuracy:.4f} - trained in {seconds:.1f}s "
          f"on {kcore.get_num_threads()} threads")
    return accuracy


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--verbose", type=int, default=1)
    args = parser.parse_args()
    main(args.epochs, args.verbose)
