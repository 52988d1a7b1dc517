"""kcore.utils.Sequence: an indexable source of batches for fit."""


class Sequence:
    """Subclass and implement __len__ (number of batches) and __getitem__(i) -> (x, y)."""

    def __len__(self):
        raise NotImplementedError

    def __getitem__(self, index):
        raise NotImplementedError

    def on_epoch_end(self):
        pass

    def __iter__(self):
        for i in range(len(self)):
            yield self[i]


PyDataset = Sequence
