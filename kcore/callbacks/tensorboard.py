"""TensorBoard: training curves, weight histograms and the model graph for `tensorboard --logdir`.

Event files are written through tensorboardX (`pip install "kcore[tensorboard]"`), with Keras 3's
layout and tags: `log_dir/train` holds `epoch_loss`, `epoch_<metric>`, `epoch_learning_rate`, the
`batch_*` scalars when `update_freq` asks for them, the weight histograms (`<weight path>/histogram`)
and the graph; `log_dir/validation` holds the `val_` values under the same `epoch_*` tags and
`evaluation_<name>_vs_iterations`.
"""
import json
import os
import warnings

import numpy as np

from kcore.callbacks import Callback


def _summary_writer_class():
    try:
        from tensorboardX import SummaryWriter
    except ImportError:
        raise ImportError("kcore.callbacks.TensorBoard writes event files with tensorboardX, which is not "
                          'installed: pip install "kcore[tensorboard]" (or pip install tensorboardX)') from None
    return SummaryWriter


class TensorBoard(Callback):
    """Logs what `fit` does for TensorBoard.

    Args:
        log_dir: folder for the event files (`train/` and `validation/` are made inside).
        histogram_freq: every how many epochs weight histograms are written (0: never).
        write_graph: write the model graph (layers and their connections, and the model's config
            as Keras's conceptual graph).
        write_images: also write 2-D views of the weights as images.
        write_steps_per_second: log training steps per second.
        update_freq: "epoch", "batch", or an int N: write `batch_*` scalars every N batches.
        profile_batch: 0 (kcore writes no profiler traces; other values warn and are ignored).
    """

    def __init__(self, log_dir="logs", histogram_freq=0, write_graph=True, write_images=False,
                 write_steps_per_second=False, update_freq="epoch", profile_batch=0, embeddings_freq=0,
                 embeddings_metadata=None):
        super().__init__()
        self._writer_class = _summary_writer_class()
        if update_freq not in ("epoch", "batch") and not (isinstance(update_freq, int) and update_freq > 0):
            raise ValueError(f"TensorBoard: invalid update_freq={update_freq!r}; expected 'epoch', 'batch' or a "
                             "positive integer")
        if not isinstance(histogram_freq, int) or histogram_freq < 0:
            raise ValueError(f"TensorBoard: histogram_freq must be a non-negative int, got {histogram_freq!r}")
        if profile_batch not in (0, None, (0, 0)):
            warnings.warn("TensorBoard: kcore does not write profiler traces; profile_batch is ignored",
                          stacklevel=2)
        if embeddings_freq:
            warnings.warn("TensorBoard: embeddings_freq is not supported by kcore and is ignored", stacklevel=2)
        self.log_dir = os.fspath(log_dir)
        self.histogram_freq = histogram_freq
        self.write_graph = write_graph
        self.write_images = write_images
        self.write_steps_per_second = write_steps_per_second
        self.update_freq = 1 if update_freq == "batch" else update_freq
        self._writers = {}
        self._train_step = 0

    # -- writers ------------------------------------------------------------------------------------
    def _writer(self, which):
        if which not in self._writers:
            self._writers[which] = self._writer_class(logdir=os.path.join(self.log_dir, which))
        return self._writers[which]

    def _close_writers(self):
        for writer in self._writers.values():
            writer.close()
        self._writers = {}

    # -- hooks --------------------------------------------------------------------------------------
    def on_train_begin(self, logs=None):
        self._train_step = 0
        if self.write_graph:
            self._write_graph()

    def on_train_batch_begin(self, batch, logs=None):
        if self.write_steps_per_second:
            import time

            self._batch_start = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        self._train_step += 1
        if self.update_freq == "epoch" or self._train_step % self.update_freq:
            return
        writer = self._writer("train")
        for name, value in _scalars(logs).items():
            writer.add_scalar(f"batch_{name}", value, self._train_step)
        if self.write_steps_per_second:
            import time

            elapsed = time.perf_counter() - self._batch_start
            writer.add_scalar("batch_steps_per_second", 1.0 / max(elapsed, 1e-12), self._train_step)

    def on_test_end(self, logs=None):
        optimizer = getattr(self.model, "optimizer", None)
        if optimizer is None:
            return
        writer = self._writer("validation")
        for name, value in _scalars(logs).items():
            writer.add_scalar(f"evaluation_{name}_vs_iterations", value, int(optimizer.iterations))

    def on_epoch_end(self, epoch, logs=None):
        logs = _scalars(logs)
        train = {k: v for k, v in logs.items() if not k.startswith("val_")}
        rate = _learning_rate(self.model)
        if rate is not None:
            train["learning_rate"] = rate
        for name, value in train.items():
            self._writer("train").add_scalar(f"epoch_{name}", value, epoch)
        for name, value in logs.items():
            if name.startswith("val_"):
                self._writer("validation").add_scalar(f"epoch_{name[4:]}", value, epoch)
        if self.histogram_freq and epoch % self.histogram_freq == 0:
            self._write_weights(epoch)
        for writer in self._writers.values():
            writer.flush()

    def on_train_end(self, logs=None):
        self._close_writers()

    # -- what is written ----------------------------------------------------------------------------
    def _write_weights(self, epoch):
        writer = self._writer("train")
        for layer in self.model.layers:
            for weight in layer.weights:
                name = weight.path.replace(":", "_")
                values = np.asarray(weight.numpy(), dtype=np.float64)
                writer.add_histogram(f"{name}/histogram", values, epoch, bins="auto")
                if self.write_images:
                    image = _weight_image(values)
                    if image is not None:
                        writer.add_image(f"{name}/image", image, epoch, dataformats="HW")

    def _write_graph(self):
        from tensorboardX.proto import event_pb2, summary_pb2, tensor_pb2, types_pb2

        writer = self._writer("train")
        file_writer = writer._get_file_writer()
        file_writer.add_event(event_pb2.Event(graph_def=_graph_def(self.model).SerializeToString()))
        try:
            config = json.dumps({"class_name": type(self.model).__name__, "config": self.model.get_config()},
                                default=str)
        except (NotImplementedError, TypeError, ValueError):
            return  # a subclassed model without get_config: the layer graph above is all there is
        metadata = summary_pb2.SummaryMetadata(
            plugin_data=summary_pb2.SummaryMetadata.PluginData(plugin_name="graph_keras_model", content=b"1"))
        tensor = tensor_pb2.TensorProto(dtype=types_pb2.DT_STRING, string_val=[config.encode()])
        summary = summary_pb2.Summary(value=[summary_pb2.Summary.Value(tag="keras", metadata=metadata,
                                                                       tensor=tensor)])
        file_writer.add_summary(summary, 0)


def _scalars(logs):
    out = {}
    for name, value in (logs or {}).items():
        try:
            out[name] = float(value)
        except (TypeError, ValueError):
            continue
    return out


def _learning_rate(model):
    optimizer = getattr(model, "optimizer", None)
    if optimizer is None:
        return None
    try:
        return float(np.asarray(optimizer.learning_rate))
    except (TypeError, ValueError):
        return None


def _weight_image(values):
    """A 2-D view of a weight scaled to [0, 1], as Keras's write_images shows kernels and biases."""
    img = np.squeeze(values)
    if img.ndim == 1:
        img = img[None, :]
    elif img.ndim > 2:
        img = img.reshape(-1, img.shape[-1])
    if img.ndim != 2 or img.size == 0:
        return None
    if img.shape[0] > img.shape[1]:
        img = img.T
    span = img.max() - img.min()
    return ((img - img.min()) / span if span > 0 else np.zeros_like(img)).astype(np.float32)


def _graph_def(model):
    """A GraphDef with one node per layer, named by layer, its op the layer's class."""
    from tensorboardX.proto import attr_value_pb2, graph_pb2, node_def_pb2

    from kcore.utils.model_graph import layer_edges

    nodes = []
    for layer, sources in layer_edges(model):
        shape = getattr(layer, "output_shape", None) if layer.built else None
        attr = {"output_shape": attr_value_pb2.AttrValue(s=str(shape).encode())} if shape is not None else {}
        nodes.append(node_def_pb2.NodeDef(name=layer.name, op=type(layer).__name__,
                                          input=[s.name for s in sources], attr=attr))
    return graph_pb2.GraphDef(node=nodes)
