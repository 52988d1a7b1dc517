"""Seeded training runs, the same under `mpiexec -n N` (DataParallel) and in one plain process.

    python train_cases.py OUT.npz [TMPDIR]            # one process, no distribution
    mpiexec -n 3 python train_cases.py OUT.npz TMPDIR  # DataParallel over 3 ranks

Rank 0 writes every case's final weights, loss history and predictions to OUT.npz; tests/test_distribution.py
compares the two files. Distributed-only checks (one checkpoint writer, mismatched data, dropout masks)
write their per-rank observations under the "dist_" keys."""
import os
import sys

import numpy as np

import kcore
from kcore import layers
from kcore import distribution as dist

OUT = sys.argv[1]
TMP = sys.argv[2] if len(sys.argv) > 2 else None
# KCORE_TEST_DEVICE=cuda: the MLP cases only, on one GPU per rank (NCCL); needs >= 2 GPUs for 2 ranks
GPU = os.environ.get("KCORE_TEST_DEVICE") == "cuda"
dist.initialize()
if GPU:
    kcore.set_device("cuda")
DISTRIBUTED = dist.num_processes() > 1
if DISTRIBUTED:
    dist.set_distribution(dist.DataParallel())
results = {}


def data(n, shape, classes=None, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n,) + shape).astype("float32")
    if classes:
        y = np.eye(classes, dtype="float32")[rng.integers(0, classes, n)]
    else:
        y = (x.reshape(n, -1).sum(axis=1, keepdims=True) * 0.3).astype("float32")
    return x, y


def record(name, model, history):
    for i, w in enumerate(model.get_weights()):
        results[f"{name}_w{i}"] = w
    for key, values in history.history.items():
        results[f"{name}_h_{key}"] = np.asarray(values, dtype=np.float64)


def mlp(optimizer, **dense_kwargs):
    kcore.utils.set_random_seed(1)
    model = kcore.Sequential([layers.Input((5,)), layers.Dense(8, activation="tanh", **dense_kwargs),
                              layers.Dense(1)])
    model.compile(optimizer=optimizer, loss="mse", metrics=["mae"])
    return model


# 1. MLP + SGD, shuffled, 40 samples in global batches of 16 (a partial last batch of 8)
x, y = data(40, (5,))
model = mlp(kcore.optimizers.SGD(0.05, momentum=0.9))
record("sgd", model, model.fit(x, y, batch_size=16, epochs=3, shuffle=True, verbose=0))

# 2. MLP + Adam with sample weights, validation data, an L2 penalty and clipnorm (clipping after the reduction)
sw = np.linspace(0.5, 1.5, 40).astype("float32")
xv, yv = data(12, (5,), seed=3)
model = mlp(kcore.optimizers.Adam(0.01, clipnorm=0.5), kernel_regularizer=kcore.regularizers.L2(0.01))
record("adam", model, model.fit(x, y, sample_weight=sw, batch_size=16, epochs=3, validation_data=(xv, yv),
                                verbose=0))
results["adam_eval"] = np.asarray(model.evaluate(xv, yv, batch_size=5, verbose=0), dtype=np.float64)
results["adam_pred"] = model.predict(xv, batch_size=5, verbose=0)

# 3. a last batch of one sample: ranks 1.. get an empty shard
x1, y1 = data(33, (5,), seed=4)
model = mlp(kcore.optimizers.Adam(0.01))
record("partial", model, model.fit(x1, y1, batch_size=8, epochs=2, shuffle=False, verbose=0))

# 3c. two outputs: a loss each (weighted), per-output loss logs and metrics
kcore.utils.set_random_seed(7)
inp = layers.Input((5,))
hidden = layers.Dense(6, activation="tanh")(inp)
model = kcore.Model(inp, [layers.Dense(1, name="reg")(hidden), layers.Dense(3, activation="softmax", name="cls")(hidden)])
model.compile(optimizer=kcore.optimizers.Adam(0.01), loss={"reg": "mse", "cls": "categorical_crossentropy"},
              loss_weights={"reg": 0.5, "cls": 1.0}, metrics={"cls": ["accuracy"]})
classes = np.eye(3, dtype="float32")[np.arange(33) % 3]
record("two_outputs", model, model.fit(x1, {"reg": y1, "cls": classes}, batch_size=8, epochs=2, verbose=0))

# 3b. a generator of global batches (each rank's yields the same ones; each trains on its part)
def batches():
    while True:
        for i in range(0, 20, 8):
            yield x1[i:i + 8], y1[i:i + 8]


model = mlp(kcore.optimizers.SGD(0.05))
record("generator", model, model.fit(batches(), steps_per_epoch=3, epochs=2, verbose=0))

if GPU:
    if dist.process_id() == 0:
        np.savez(OUT, **results)
    sys.exit(0)

# 4. Conv1D + LSTM classifier
xs, ys = data(18, (7, 3), classes=3, seed=5)
kcore.utils.set_random_seed(2)
model = kcore.Sequential([layers.Input((7, 3)), layers.Conv1D(4, 3, activation="relu"), layers.LSTM(5),
                          layers.Dense(3, activation="softmax")])
model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
record("conv_lstm", model, model.fit(xs, ys, batch_size=8, epochs=2, verbose=0))

# 5. a masked sequence loss (Embedding(mask_zero) -> per-step outputs): the global count of kept steps divides
rng = np.random.default_rng(6)
tokens = rng.integers(1, 6, size=(10, 6))
for i, length in enumerate(rng.integers(1, 7, size=10)):
    tokens[i, length:] = 0
labels = rng.integers(0, 2, size=(10, 6))
kcore.utils.set_random_seed(3)
model = kcore.Sequential([layers.Input((6,)), layers.Embedding(6, 4, mask_zero=True),
                          layers.SimpleRNN(3, return_sequences=True), layers.Dense(2, activation="softmax")])
model.compile(optimizer=kcore.optimizers.SGD(0.1), loss="sparse_categorical_crossentropy")
record("masked", model, model.fit(tokens, labels, batch_size=4, epochs=2, verbose=0))

# 5b. BatchNormalization(synchronized=True): global-batch statistics (one process: the plain layer)
kcore.utils.set_random_seed(6)
model = kcore.Sequential([layers.Input((5,)), layers.Dense(6), layers.BatchNormalization(synchronized=True,
                                                                                         momentum=0.5),
                          layers.Activation("relu"), layers.Dense(1)])
model.compile(optimizer=kcore.optimizers.SGD(0.05), loss="mse")
record("syncbn", model, model.fit(x[:20], y[:20], batch_size=8, epochs=2, shuffle=False, verbose=0))

# 6. EarlyStopping on the (global) validation loss, ModelCheckpoint written once, by rank 0
kcore.utils.set_random_seed(4)
model = mlp(kcore.optimizers.SGD(0.3))
calls = []
ckpt = kcore.callbacks.ModelCheckpoint(os.path.join(TMP or ".", "ckpt.weights.h5"), save_weights_only=True)
ckpt_on_epoch_end = ckpt.on_epoch_end
ckpt.on_epoch_end = lambda epoch, logs=None: (calls.append(epoch), ckpt_on_epoch_end(epoch, logs))
stop = kcore.callbacks.EarlyStopping(monitor="val_loss", patience=1)
history = model.fit(x, y, batch_size=16, epochs=30, validation_data=(xv, yv), callbacks=[stop, ckpt] if TMP else
                    [stop], verbose=0)
record("early", model, history)
early_epochs = len(history.history["loss"])
results["early_epochs"] = np.array(early_epochs)

# 7. the Horovod-style layer: each rank fits its own shard (per-rank batch), gradients averaged
xh, yh = data(36, (5,), seed=8)
model = mlp(kcore.optimizers.Adam(0.02))
if DISTRIBUTED:
    from kcore.distribution import horovod as hvd

    dist.set_distribution(None)
    hvd.init()
    local = 12 // hvd.size()
    rows = np.concatenate([np.arange(k * 12 + hvd.rank() * local, k * 12 + (hvd.rank() + 1) * local)
                           for k in range(3)])
    model.compile(optimizer=hvd.DistributedOptimizer(kcore.optimizers.Adam(0.02)), loss="mse", metrics=["mae"])
    kcore.utils.set_random_seed(9 + hvd.rank())  # different initial weights: the broadcast makes them equal
    model.set_weights([w + np.float32(hvd.rank()) for w in model.get_weights()])
    history = model.fit(xh[rows], yh[rows], batch_size=local, epochs=2, shuffle=False, verbose=0,
                        callbacks=[hvd.BroadcastGlobalVariablesCallback(0), hvd.MetricAverageCallback()])
    dist.set_distribution(dist.DataParallel())
else:
    history = model.fit(xh, yh, batch_size=12, epochs=2, shuffle=False, verbose=0)
record("hvd", model, history)

if DISTRIBUTED:
    comm = dist._comm()
    results["dist_weights_equal"] = np.array(comm.allgather_obj(
        float(sum(np.abs(w).sum() for w in model.get_weights()))))
    results["dist_ckpt_calls"] = np.array(comm.allgather_obj(len(calls)))
    results["dist_epochs"] = np.array(comm.allgather_obj(early_epochs))
    model = mlp(kcore.optimizers.SGD(0.05))  # (the Horovod model's optimizer refuses a DataParallel)
    # 7. mismatched dataset sizes raise on every rank (no hang)
    raised = False
    try:
        model.fit(x[:30 + dist.process_id()], y[:30 + dist.process_id()], batch_size=8, epochs=1, verbose=0)
    except ValueError as err:
        raised = "same on every process" in str(err)
    results["dist_mismatch_raised"] = np.array(comm.allgather_obj(raised))
    # 7b. generators of different lengths: the epoch ends on every rank with the shortest (no hang)
    steps = []
    counter = kcore.callbacks.LambdaCallback(on_train_batch_end=lambda batch, logs: steps.append(batch))
    short = 3 - (dist.process_id() == 1)
    model.fit(((x1[i * 8:(i + 1) * 8], y1[i * 8:(i + 1) * 8]) for i in range(short)), epochs=1, verbose=0,
              callbacks=[counter])
    results["dist_generator_steps"] = np.array(comm.allgather_obj(len(steps)))
    # 7c. evaluate / predict use rank 0's weights on every rank; train_on_batch refuses to diverge
    model = mlp(kcore.optimizers.SGD(0.1))
    dist.set_distribution(None)  # rank 0's own results are the expected ones
    results["dist_local_eval"] = np.array(float(model.evaluate(x, y, batch_size=7, verbose=0)[0]))
    results["dist_local_pred"] = model.predict(x, batch_size=7, verbose=0)
    dist.set_distribution(dist.DataParallel())
    model.set_weights([w + np.float32(dist.process_id()) for w in model.get_weights()])
    results["dist_eval"] = np.array(comm.allgather_obj(float(model.evaluate(x, y, batch_size=7, verbose=0)[0])))
    model.set_weights([w + np.float32(dist.process_id()) for w in model.get_weights()])
    results["dist_pred"] = np.array(comm.allgather_obj(model.predict(x, batch_size=7, verbose=0)))
    try:
        model.train_on_batch(x[:4], y[:4])
        results["dist_train_on_batch_raised"] = np.array(False)
    except NotImplementedError:
        results["dist_train_on_batch_raised"] = np.array(True)
    # 8. BatchNormalization's default: each rank's moving statistics come from its own shard
    bn = layers.BatchNormalization(momentum=0.0)
    model = kcore.Sequential([layers.Input((5,)), bn])
    model.compile(optimizer=kcore.optimizers.SGD(0.0), loss="mse")
    model.fit(x[:10], x[:10], batch_size=10, epochs=1, shuffle=False, verbose=0)
    results["dist_bn_local_means"] = np.array(comm.allgather_obj(bn.moving_mean.numpy()))
    # 9. dropout masks differ between ranks, even with a fixed seed
    mask = kcore.ops.dropout(kcore.ops.ones((64,)), 0.5, seed=7).numpy()
    results["dist_dropout_masks"] = np.array(comm.allgather_obj(mask))

if dist.process_id() == 0:
    np.savez(OUT, **results)
