from pathlib import Path

import numpy as np
import pytest

import chainrule as cr
from chainrule.core.layers import Dense
from chainrule import Network


def printed(value: float, text: str) -> None:
    """Assert ``value`` equals the number ``text`` to the digits printed (half a unit of the last digit)."""
    decimals = len(text.split(".")[1]) if "." in text else 0
    assert abs(value - float(text)) <= 0.5 * 10 ** -decimals + 1e-15, f"{value!r} is not {text} to {decimals} decimals"


def first_step(name: str):
    spec = cr.load(name)
    x, t = spec.require_data()
    return cr.trace_steps(spec.build_network(), x, t, spec.training, 1)[0]


@pytest.fixture
def mazur_step():
    return first_step("mazur")


# a 1-1 identity network on inputs of 100 with η = 10: w grows about 10⁶-fold an epoch and the loss
# becomes inf within 30 epochs (divergence tests, in-process and through the CLI's checkpoints)
DIVERGES = """
[network]
inputs = 1
loss = "sse"
[[network.layers]]
units = 1
activation = "identity"
weights = [[1.0]]
[training]
learning_rate = 10.0
batch = "full"
epochs = 1000
[data]
inputs = [[100.0], [200.0]]
targets = [[1.0], [2.0]]
"""


CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium driven by Playwright (installed by `make test`)."""
    import shutil
    from playwright.sync_api import sync_playwright
    executable = shutil.which("chromium")
    assert executable, "chromium is missing: `make test` installs it (apt-get install chromium)"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


@pytest.fixture
def torch():
    """PyTorch, for the tests that compare against it; only they are skipped where it is not installed."""
    return pytest.importorskip("torch")


# ---- networks and data sets shared by the training, optimiser, data and command-line tests ----------------------

def random_network(rng, sizes, hidden, output, loss, dtype=np.float64, bias_mode="per_neuron"):
    layers = []
    for k, (a, b) in enumerate(zip(sizes, sizes[1:])):
        mode = bias_mode if k < len(sizes) - 2 else "per_neuron"
        bias = {"per_neuron": rng.normal(0, 0.3, b), "shared": rng.normal(0, 0.3), "none": None}[mode]
        layers.append(Dense(rng.normal(0, 0.7, (b, a)), bias, dtype=dtype, bias_mode=mode,
                            activation=hidden if k < len(sizes) - 2 else output))
    return Network(layers, loss)


def torch_twin(network):
    """A float64 torch.nn.Sequential with ``network``'s weights (only for tests that have the torch fixture)."""
    import torch
    layers = []
    for k, layer in enumerate(network.layers):
        linear = torch.nn.Linear(layer.fan_in, layer.units).double()
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(layer.weights))
            linear.bias.copy_(torch.from_numpy(layer.bias))
        layers.append(linear)
        if k < len(network.layers) - 1 or layer.activation.name != "softmax":
            layers.append(torch_activation(torch, layer.activation))
    return torch.nn.Sequential(*layers)


def torch_activation(torch, activation):
    """PyTorch's module for one of chainrule's activations, with its parameters."""
    modules = {"identity": lambda: torch.nn.Identity(), "tanh": lambda: torch.nn.Tanh(),
               "relu": lambda: torch.nn.ReLU(), "sigmoid": lambda: torch.nn.Sigmoid(), "silu": lambda: torch.nn.SiLU(),
               "elu": lambda: torch.nn.ELU(alpha=activation.alpha),
               "leaky_relu": lambda: torch.nn.LeakyReLU(activation.slope), "softplus": lambda: torch.nn.Softplus()}
    return modules[activation.name]()


def write_idx(path, array: np.ndarray) -> None:
    """The IDX layout written out by hand: 0, 0, type 0x08 (bytes), dimensions, big-endian sizes, values."""
    data = bytes([0, 0, 8, array.ndim]) + b"".join(int(n).to_bytes(4, "big") for n in array.shape)
    data += array.astype(np.uint8).tobytes()
    if str(path).endswith(".gz"):
        import gzip
        data = gzip.compress(data)
    Path(path).write_bytes(data)


def quadrant_images(rng, n: int):
    """6×6 images whose class (0–3) is the quadrant lit bright; the others hold dim noise."""
    labels = rng.integers(0, 4, n)
    images = rng.integers(0, 60, (n, 6, 6))
    for k, c in enumerate(labels):
        r, q = divmod(int(c), 2)
        images[k, 3 * r:3 * r + 3, 3 * q:3 * q + 3] = 255
    return images, labels


def fashion_like_directory(directory: Path, rng) -> tuple:
    """A data set distributed like Fashion-MNIST: the four files under MNIST's names, gzipped."""
    directory.mkdir()
    (train, y), (test, y_test) = quadrant_images(rng, 400), quadrant_images(rng, 100)
    for name, array in (("train-images-idx3-ubyte", train), ("train-labels-idx1-ubyte", y),
                        ("t10k-images-idx3-ubyte", test), ("t10k-labels-idx1-ubyte", y_test)):
        write_idx(directory / f"{name}.gz", array)
    return train, y, test, y_test
