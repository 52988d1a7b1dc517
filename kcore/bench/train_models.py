"""The two example models of the training-epoch benchmark (kcore/bench/train.py), each built the way
its kcore example builds it and as the equivalent PyTorch model (same layers, optimizer, loss and batch;
PyTorch's own weight initialisation):

- "cnn": the seed-004 CNN of kcore/examples/digits_cnn.py on the bundled digits upscaled to 28x28
  (three Conv2D 3x3 + MaxPooling2D blocks, Dense 128, Dropout 0.5, softmax; Adam; sparse categorical
  crossentropy; batch 64; accuracy metric);
- "lstm": the text classifier of kcore/examples/text_classification.py on its synthetic reviews
  (Embedding(500, 32, mask_zero=True) -> Bidirectional(LSTM(32, dropout=0.2)) -> Dense(1, sigmoid);
  Adam(0.005); binary crossentropy; batch 64; accuracy metric). PyTorch gets the same masking by
  packing the padded sequences (pack_padded_sequence), and the input dropout as nn.Dropout.

Every builder returns a function that trains one epoch (no validation split); its `model` attribute is
the model it trains.
"""
import numpy as np

BATCH = 64


def cnn_data():
    """(x (n, 28, 28, 1) float32, y (n,) int) of the digits training split, as digits_cnn.py prepares it."""
    import kcore
    from kcore.examples.digits_cnn import to_28x28

    (x, y), _ = kcore.datasets.digits.load_data()
    return to_28x28(x), y.astype(np.int64)


def kcore_cnn_epoch(x, y):
    """One epoch of digits_cnn.create_model() with the example's compile settings."""
    from kcore.examples.digits_cnn import create_model

    model = create_model()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return _kcore_epoch(model, x, y)


def _kcore_epoch(model, x, y):
    def epoch():
        model.fit(x, y, batch_size=BATCH, epochs=1, verbose=0)

    epoch.model = model
    return epoch


def _torch_epoch(torch, model, loss_fn, opt, inputs, target, predict_correct):
    """An epoch over shuffled batches: forward, loss, backward, optimizer step, and the accuracy count
    (what Keras's fit does with metrics=["accuracy"])."""
    n = len(target)

    def epoch():
        model.train()
        perm = torch.randperm(n)
        correct = 0
        for i in range(0, n, BATCH):
            idx = perm[i:i + BATCH]
            batch = [a[idx] for a in inputs]
            opt.zero_grad()
            out = model(*batch)
            loss = loss_fn(out, target[idx])
            loss.backward()
            opt.step()
            correct += int(predict_correct(out.detach(), target[idx]))
        return correct

    epoch.model = model
    return epoch


def torch_cnn_epoch(torch, x, y):
    """The same CNN in PyTorch (NCHW input, converted once), Adam(eps=1e-7 as Keras), cross-entropy on logits."""
    nn = torch.nn
    model = nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(64, 128, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(128 * 3 * 3, 128), nn.ReLU(), nn.Dropout(0.5), nn.Linear(128, 10))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)
    tx = torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2)))
    ty = torch.from_numpy(y)
    return _torch_epoch(torch, model, nn.CrossEntropyLoss(), opt, [tx], ty,
                        lambda out, t: (out.argmax(1) == t).sum())


def text_data(samples=4000, seed=7):
    """(ids (n, 60) int64 right-padded with 0, labels (n, 1) float32) as text_classification.py makes them."""
    from kcore.examples.text_classification import make_reviews

    return make_reviews(samples, np.random.default_rng(seed))


def kcore_text_epoch(ids, labels):
    """One epoch of the text classifier with the example's compile settings."""
    import kcore
    from kcore import layers
    from kcore.examples.text_classification import MAX_LEN, VOCAB

    model = kcore.Sequential([
        layers.Embedding(VOCAB, 32, mask_zero=True, input_length=MAX_LEN),
        layers.Bidirectional(layers.LSTM(32, dropout=0.2)),
        layers.Dense(1, activation="sigmoid"),
    ])
    model.compile(optimizer=kcore.optimizers.Adam(learning_rate=0.005), loss="binary_crossentropy",
                  metrics=["accuracy"])
    return _kcore_epoch(model, ids, labels)


def torch_text_epoch(torch, ids, labels):
    """The same classifier in PyTorch: padded positions left out by packing, final states of both directions."""
    from kcore.examples.text_classification import VOCAB

    nn = torch.nn
    pack = torch.nn.utils.rnn.pack_padded_sequence

    class TextNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(VOCAB, 32, padding_idx=0)
            self.drop = nn.Dropout(0.2)
            self.lstm = nn.LSTM(32, 32, batch_first=True, bidirectional=True)
            self.out = nn.Linear(64, 1)

        def forward(self, x, lengths):
            packed = pack(self.drop(self.embed(x)), lengths, batch_first=True, enforce_sorted=False)
            _, (h, _) = self.lstm(packed)
            return self.out(torch.cat([h[0], h[1]], 1))

    model = TextNet()
    opt = torch.optim.Adam(model.parameters(), lr=0.005, eps=1e-7)
    tx = torch.from_numpy(ids)
    lengths = torch.from_numpy((ids != 0).sum(1))  # right-padded: the valid steps come first
    ty = torch.from_numpy(labels)
    return _torch_epoch(torch, model, nn.BCEWithLogitsLoss(), opt, [tx, lengths], ty,
                        lambda out, t: ((out > 0).float() == t).sum())
