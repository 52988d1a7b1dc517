"""What every example does after building its model: summary, fit with the progress bar, test score."""
import argparse
import time

import kcore


def fit_and_report(model, train, test, optimizer, loss, epochs, verbose, batch_size=32):
    model.summary()
    model.compile(optimizer=optimizer, loss=loss, metrics=["accuracy"])
    start = time.time()
    model.fit(*train, batch_size=batch_size, epochs=epochs, validation_split=0.1, verbose=verbose)
    seconds = time.time() - start
    test_loss, accuracy = model.evaluate(*test, verbose=0)
    print(f"test loss {test_loss:.4f} - test accuracy {accuracy:.4f} - trained in {seconds:.1f}s "
          f"on {kcore.get_num_threads()} threads")
    return accuracy


def use_policy(dtype_policy):
    """Sets the global dtype policy when one is given (kcore.mixed_precision.set_global_policy)."""
    if dtype_policy is not None:
        kcore.mixed_precision.set_global_policy(dtype_policy)


def parse_args(description, epochs):
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--epochs", type=int, default=epochs)
    parser.add_argument("--verbose", type=int, default=1, help="0 silent, 1 progress bar, 2 one line per epoch")
    parser.add_argument("--dtype-policy", default=None,
                        help="the global dtype policy, e.g. mixed_bfloat16 (bfloat16 compute, float32 weights)")
    return parser.parse_args()
