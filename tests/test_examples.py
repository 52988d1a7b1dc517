"""The runnable examples train to the accuracies the README promises."""
import kcore


def test_digits_mlp_demo_reaches_95_percent(capsys):
    from kcore.examples import digits_mlp

    assert digits_mlp.main(verbose=0) >= 0.95
    out = capsys.readouterr().out
    assert "Total params: 6,570" in out and "test accuracy" in out


def test_text_classification_example_learns(capsys):
    from kcore.examples import text_classification

    assert text_classification.main(epochs=3, verbose=0, samples=1500) >= 0.8


def test_seed_004_model_in_the_cnn_example():
    from kcore.examples import digits_cnn

    kcore.backend.clear_session()
    model = digits_cnn.create_model()
    assert model.count_params() == 241546
    assert digits_cnn.to_28x28(kcore.datasets.digits.load_data()[1][0][:2]).shape == (2, 28, 28, 1)
