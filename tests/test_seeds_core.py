"""The seed documents' Sequential/Dense examples, run with `keras` replaced by `kcore`."""
import io
import re
from contextlib import redirect_stdout
from pathlib import Path

import pytest

SEEDS = Path(__file__).resolve().parents[1].parent / "shared" / "seeds"
SEED_003 = SEEDS / "003_3bb6bfdeba335b8d.txt"


def _seed_blocks(path):
    """(code, expected output lines) for each ```python block that prints a model summary."""
    text = path.read_text(encoding="utf-8")
    blocks = []
    for m in re.finditer(r"```python\n([\s\S]*?)```\s*\n\s*输出：\s*\n((?:\t.*\n|\s*\n)+)", text):
        if "summary" not in m.group(1):
            continue
        code = m.group(1).replace("keras", "kcore")
        out = [line[1:] for line in m.group(2).split("\n") if line.startswith("\t")]
        out = [line for line in out if line != "Using TensorFlow backend."]
        blocks.append((code, out))
    return blocks


def _run(code):
    import kcore

    kcore.backend.clear_session()  # each seed example is its own program: names start at dense_1
    buf = io.StringIO()
    with redirect_stdout(buf):
        exec(compile(code, "seed", "exec"), {})
    return buf.getvalue().rstrip("\n").split("\n")


@pytest.mark.skipif(not SEED_003.exists(), reason="seed documents not available")
def test_seed_003_sequential_summaries_match_line_for_line():
    blocks = _seed_blocks(SEED_003)
    assert len(blocks) == 2
    for code, expected in blocks:
        assert _run(code) == expected


def test_summary_text_without_seeds():
    import kcore
    from kcore.layers import Activation, Dense

    model = kcore.Sequential([Dense(units=32, input_shape=(784,)), Activation("relu"), Dense(10),
                              Activation("softmax")])
    lines = []
    model.summary(print_fn=lines.append)
    assert lines[1] == "Layer (type)                 Output Shape              Param #   "
    assert lines[3] == "dense_1 (Dense)              (None, 32)                25120     "
    assert lines[-4:-1] == ["Total params: 25,450", "Trainable params: 25,450", "Non-trainable params: 0"]
    assert all(len(line) == 65 for line in lines if set(line) <= {"_", "="})


def test_seed_002_dense_input_dim_example():
    from kcore.layers import Dense
    from kcore.models import Sequential

    model = Sequential()
    model.add(Dense(units=32, input_dim=784))
    model.add(Dense(units=10, activation="softmax"))
    assert model.count_params() == 784 * 32 + 32 + 330
    assert model.output_shape == (None, 10)
