"""Data for training: IDX files (MNIST, Fashion-MNIST), CSV tables, and small 2-D problems.

Nothing here downloads: MNIST comes from a local cache that ``make data`` fills.
"""

from .idx import read_idx
from .mnist import MNIST_FILES, idx_sizes, load_idx_directory, load_mnist, mnist_directory
from .tabular import Standardizer, load_csv, one_hot, train_test_split

__all__ = ["read_idx", "idx_sizes", "load_idx_directory", "load_mnist", "mnist_directory", "MNIST_FILES", "Standardizer", "load_csv", "one_hot",
           "train_test_split"]
