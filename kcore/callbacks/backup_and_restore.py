"""BackupAndRestore: resume an interrupted `fit` where it stopped.

At the end of every epoch (or every `save_freq` batches) the model's weights, the optimizer's
state, the epoch reached and the state of kcore's random stream are written to `backup_dir`.
When `fit` starts and a backup exists, all of it is restored and training continues at the next
epoch, so a resumed run ends with the same weights as one that was never interrupted.
"""
import json
import os
import shutil

from kcore.callbacks import Callback, SaveSchedule


class BackupAndRestore(Callback):
    """Backs up training state to `backup_dir` and restores it when `fit` is run again.

    Args:
        backup_dir: folder for the backup (created when needed).
        save_freq: "epoch" (back up at each epoch end) or an int N (also every N batches).
        double_checkpoint: keep the previous backup as well (`*.bkp`), used when the latest
            one cannot be read.
        delete_checkpoint: delete the backup when `fit` completes.
    """

    def __init__(self, backup_dir, save_freq="epoch", double_checkpoint=False, delete_checkpoint=True):
        super().__init__()
        if not backup_dir:
            raise ValueError("BackupAndRestore: empty `backup_dir` argument")
        self._schedule = SaveSchedule(save_freq, "BackupAndRestore")
        self.backup_dir = os.fspath(backup_dir)
        self.save_freq = save_freq
        self.double_checkpoint = double_checkpoint
        self.delete_checkpoint = delete_checkpoint
        self._weights_path = os.path.join(self.backup_dir, "latest.weights.h5")
        self._metadata_path = os.path.join(self.backup_dir, "training_metadata.json")
        self._epoch = 0

    # -- restoring ----------------------------------------------------------------------------------
    def on_train_begin(self, logs=None):
        try:
            self._restore(self._weights_path, self._metadata_path)
        except (OSError, ValueError):
            previous = self._weights_path + ".bkp"
            if not os.path.exists(previous):
                raise
            self._restore(previous, self._metadata_path + ".bkp")

    def _restore(self, weights_path, metadata_path):
        if not os.path.exists(weights_path):
            return
        if not self.model.built:
            raise ValueError("BackupAndRestore: the model must be built before fit() to restore a backup "
                             f"from {self.backup_dir!r}; call it on a batch of data or give it an Input")
        self.model.load_weights(weights_path)
        if os.path.exists(metadata_path):
            with open(metadata_path) as f:
                metadata = json.load(f)
            self.model._initial_epoch = int(metadata["epoch"])
            if metadata.get("rng_state"):
                from kcore.utils.rng import generator

                generator().bit_generator.state = metadata["rng_state"]

    # -- backing up -----------------------------------------------------------------------------------
    def on_epoch_end(self, epoch, logs=None):
        self._epoch = epoch + 1
        if self._schedule.epoch_done():
            self._save()

    def on_train_batch_end(self, batch, logs=None):
        if self._schedule.batch_done():
            self._save(batch)

    def _save(self, batch=0):
        from kcore.utils.rng import generator

        os.makedirs(self.backup_dir, exist_ok=True)
        if self.double_checkpoint:
            for path in (self._weights_path, self._metadata_path):
                if os.path.exists(path):
                    shutil.copyfile(path, path + ".bkp")
        self.model.save_weights(self._weights_path, overwrite=True)
        metadata = {"epoch": self._epoch, "batch": batch, "rng_state": generator().bit_generator.state}
        tmp = self._metadata_path + ".tmp"
        with open(tmp, "w") as f:
            json.dump(metadata, f)
        os.replace(tmp, self._metadata_path)

    def on_train_end(self, logs=None):
        if self.delete_checkpoint and os.path.exists(self.backup_dir):
            shutil.rmtree(self.backup_dir)
