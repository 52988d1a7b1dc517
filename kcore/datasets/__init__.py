"""kcore.datasets: the bundled digits set and Keras's classic datasets (read from the Keras cache)."""
from kcore.datasets import digits
