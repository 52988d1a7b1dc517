"""Train an MLP (64-32-10) on the bundled handwritten digits: python -m kcore.examples.digits_mlp"""
import kcore
from kcore import layers
from kcore.examples._training import fit_and_report, parse_args


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
    return fit_and_report(model, (x_train, y_train), (x_test, y_test), "adam", "categorical_crossentropy", epochs,
                          verbose)


if __name__ == "__main__":
    args = parse_args(__doc__, epochs=40)
    main(args.epochs, args.verbose)
