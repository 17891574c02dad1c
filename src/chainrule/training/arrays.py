"""The "arrays" engine: the same mathematics as ``Network.backprop`` + an optimiser, with
every buffer allocated once, activations and their derivatives applied in place, and — for
plain SGD — the learning rate folded into the output deltas, so each weight update is a single
W ← W − δᵀx:

    net_l = x_l·W_lᵀ + b_l,   out_l = f_l(net_l)
    δ_L   = η·s·∂E/∂net_L            (s = 1 for sum, 1/n for mean; η only when folded)
    δ_l   = (δ_{l+1}·W_{l+1}) ⊙ f_l'(net_l)       — with W_{l+1} before its update
    W_l  ← W_l − δ_lᵀ·x_l,   b_l ← b_l − Σ_samples δ_l

With SciPy installed (the ``fast`` extra), every matrix product goes through SciPy's BLAS
``gemm`` instead of NumPy's, and plain SGD updates the weights inside the product itself:
W ← W − δᵀx as one gemm call with β = 1, saving a pass over every weight matrix per step.
All products go through the one library: two OpenBLAS thread pools taking turns on the same
cores fight and were measured several times slower. With SciPy the bias costs no pass of its own:
net is first filled with the bias row, then x·Wᵀ is added onto it by the gemm (β = 1), and plain
SGD's bias update b ← b − Σ_samples δ is one gemv with β = 1 (δᵀ·1, onto b).

The reference engine (``engines.take_step``, which traced steps run) and this one give the same parameters up to float
rounding (tests/test_engines.py).
"""

from __future__ import annotations

import math

import numpy as np

from ..core.metrics import CHUNK
from ..core.network import BaseNetwork


def _scipy_blas(dtype, blas: str = "auto"):
    """SciPy's (gemm, gemv) for this dtype, if SciPy is installed and both write into their output in
    place; (None, None) with ``blas = "numpy"`` (the engine "arrays-numpy": NumPy's matmul for every product)."""
    if blas == "numpy" or dtype not in (np.float32, np.float64):
        return None, None
    try:
        from scipy.linalg import blas as scipy_blas
    except ImportError:
        return None, None
    gemm, gemv = (scipy_blas.sgemm, scipy_blas.sgemv) if dtype == np.float32 else (scipy_blas.dgemm, scipy_blas.dgemv)
    a, b = np.ones((2, 3), dtype), np.ones((3, 2), dtype)
    c, y = np.empty((2, 2), dtype), np.ones(3, dtype)
    out = gemm(1.0, b.T, a.T, c=c.T, overwrite_c=1)          # c = a·b, row-major, in place
    sums = gemv(-1.0, b, np.ones(2, dtype), beta=1.0, y=y, overwrite_y=1)     # y ← y − b·1, in place
    if np.shares_memory(out, c) and np.all(c == 3) and np.shares_memory(sums, y) and np.all(y == -1):
        return gemm, gemv
    return None, None


class InPlaceTrainer:
    """A trainer that updates the network's own arrays: nothing to write back, and the dataset loss and the
    parameters' finiteness are read from the network (the float engine holds its own floats instead)."""

    network: BaseNetwork

    def sync(self) -> None:
        """The network's arrays are updated in place: nothing to write back."""

    def dataset_loss(self, x: np.ndarray, t: np.ndarray, reduction: str) -> float:
        return self.network.dataset_loss(x, t, reduction)

    def finite(self) -> bool:
        """A cheap check after a step that computed no loss: the last layer's weights are finite."""
        return math.isfinite(self.network.layers[-1].weights.sum())

    def copy_parameters(self, kept: list | None = None) -> list:
        """The parameters copied (what a Ctrl-C puts back, kept after every epoch): into ``kept``, the arrays
        of the copy before, when given — no allocation per epoch."""
        live = self.network.parameters()
        if kept is None:
            return [p.copy() for p in live]
        for into, p in zip(kept, live):
            np.copyto(into, p)
        return kept

    def write_parameters(self, kept: list) -> None:
        """A copy of the parameters written back into the network's arrays."""
        for p, value in zip(self.network.parameters(), kept):
            p[...] = value


class _Values:
    """A layer's net and out for up to ``rows`` samples: what a forward pass writes."""

    def __init__(self, units: int, rows: int, dtype):
        self.net = np.empty((rows, units), dtype)
        self.out = np.empty((rows, units), dtype)


class _Buffers(_Values):
    """A layer's buffers for a training step: its values, δ, a spare, a mask and ∂E/∂W."""

    def __init__(self, units: int, fan_in: int, rows: int, dtype):
        super().__init__(units, rows, dtype)
        self.delta = np.empty((rows, units), dtype)
        self.spare = np.empty((rows, units), dtype)
        self.mask = np.empty((rows, units), bool)
        self.grad_w = np.empty((units, fan_in), dtype)


class ArrayTrainer(InPlaceTrainer):
    """Steps of training on batches of at most ``batch_size`` rows, in place on ``network``."""

    def __init__(self, network: BaseNetwork, optimizer, reduction: str, masks=None, batch_size: int = 1,
                 targets_sum_to_one: bool = True, blas: str = "auto", one_hot: bool = False):
        self.network, self.optimizer, self.reduction = network, optimizer, reduction
        self.layers = network.layers
        dtype = network.dtype
        self.buffers = [_Buffers(layer.units, layer.fan_in, batch_size, dtype) for layer in self.layers]
        self.masks = None if masks is None or all(np.all(m == 1) for m in masks) else masks
        self.fold = optimizer.plain     # η folded into δ; frozen entries then get a zero gradient
        self.loss = network.loss
        self.targets_sum_to_one = targets_sum_to_one
        self.one_hot = one_hot           # then a loss may read its value off the outputs at the target classes
        self.batch_size = batch_size
        self.rows = np.arange(max(batch_size, CHUNK))
        self.evaluation: list[_Values] | None = None        # made by the first dataset_loss
        self.gemm, self.gemv = _scipy_blas(np.dtype(dtype).type, blas)
        self.ones = np.ones(batch_size, dtype)          # δᵀ·1 = Σ_samples δ, by gemv
        # plain SGD's update inside the products, writing into the network's own arrays (SciPy would
        # silently write into a copy of an array not C-ordered or not of the network's dtype)
        self.update_in_place = self.gemm is not None and self.fold and self.masks is None and all(
            p.flags.c_contiguous and p.dtype == dtype for p in network.parameters())
        # where each layer's parameters sit in Network.parameters()
        self.index, k = [], 0
        for layer in self.layers:
            self.index.append((k, k + 1 if layer.bias is not None else None))
            k += 1 + (layer.bias is not None)

    def dataset_loss(self, x: np.ndarray, t: np.ndarray, reduction: str) -> float:
        """E over the data with the parameters as they stand, by this engine's forward pass a block of rows at
        a time in buffers allocated once — not the network's, which makes arrays the size of the data (on
        MNIST it took as long as a training epoch)."""
        rows = max(CHUNK, self.batch_size)
        if self.evaluation is None or self.evaluation[0].net.shape[0] < min(rows, len(x)):
            self.evaluation = [_Values(layer.units, min(rows, len(x)), self.network.dtype) for layer in self.layers]
        size = self.evaluation[0].net.shape[0]
        total = 0.0
        for start in range(0, len(x), size):
            xb, tb, classes = self.prepare(x[start:start + size], t[start:start + size])
            net, out = self.forward(xb, self.evaluation)[-1]
            total += float(np.sum(self._losses(net, out, tb, classes)))
        return total if reduction == "sum" else total / len(x)

    def forward(self, x: np.ndarray, buffers: list | None = None) -> list[tuple[np.ndarray, np.ndarray]]:
        n = x.shape[0]
        values = []
        for layer, buf in zip(self.layers, buffers or self.buffers):
            net = buf.net[:n]
            if layer.bias is None:
                self._product(x, layer.weights, net, transpose_b=True)
            elif self.gemm is not None:         # net = bias, then net += x·Wᵀ inside the product
                np.copyto(net, layer.bias)
                self._product(x, layer.weights, net, transpose_b=True, accumulate=True)
            else:
                self._product(x, layer.weights, net, transpose_b=True)
                net += layer.bias
            x = layer.activation.value_into(net, buf.out[:n])
            values.append((net, x))
        return values

    # ---- backward -----------------------------------------------------------------------------------
    def _output_delta(self, net, out, t, n: int) -> np.ndarray:
        buf = self.buffers[-1]
        d = buf.delta[:n]
        if self.loss.fused:
            return self.loss.fused_delta_into(net, out, t, d, self.targets_sum_to_one)
        d[...] = self.loss.gradient(out, t)
        return self.layers[-1].activation.derivative_times(net, out, d, buf.spare[:n], buf.mask[:n])

    def prepare(self, x: np.ndarray, t: np.ndarray):
        """A batch as ``step`` takes it: (x, t, one-hot t's classes — None for other targets), made once for
        batches that are the same every epoch."""
        return x, t, t.argmax(axis=1) if self.one_hot else None

    def step(self, batch, want_losses: bool = False):
        """One step on the batch (x, t); returns the batch's per-sample losses when asked (before the update)."""
        x, t, classes = batch
        n = x.shape[0]
        values = self.forward(x)
        net_last, out_last = values[-1]
        self.last_output = out_last         # this batch's outputs before the update (for accuracy)
        losses = self._losses(net_last, out_last, t, classes) if want_losses else None
        scale = 1.0 if self.reduction == "sum" else 1.0 / n
        optimizer = self.optimizer
        if self.fold:
            scale *= optimizer.learning_rate
        else:
            optimizer.begin_step()
        d = self._output_delta(net_last, out_last, t, n)
        if scale != 1.0:
            d *= scale
        for l in range(len(self.layers) - 1, -1, -1):
            layer, buf = self.layers[l], self.buffers[l]
            below = x if l == 0 else values[l - 1][1]
            d_below: np.ndarray | None = None
            if l > 0:       # δ of the layer below, through this layer's weights before their update
                lower = self.buffers[l - 1]
                d_below = self._product(d, layer.weights, lower.delta[:n])
                net_b, out_b = values[l - 1]
                self.layers[l - 1].activation.derivative_times(net_b, out_b, d_below, lower.spare[:n], lower.mask[:n])
            if self.update_in_place:
                # W ← W − δᵀ·x in one product (row-major: Wᵀ ← Wᵀ − xᵀ·δ)
                self.gemm(-1.0, below.T, d.T, beta=1.0, c=layer.weights.T, trans_b=1, overwrite_c=1)
                self._apply_bias(layer, l, d)
            else:
                grad_w = self._product(d, below, buf.grad_w, transpose_a=True)
                self._apply(layer, l, grad_w, d)
            if d_below is not None:
                d = d_below
        return losses

    def _losses(self, net: np.ndarray, out: np.ndarray, t: np.ndarray, classes: np.ndarray | None) -> np.ndarray:
        """The batch's per-sample losses, before the update (``classes``: one-hot t's)."""
        losses = None if classes is None else self.loss.value_at_classes(out, self.rows[:len(t)], classes)
        return self.loss.value(net, out, t) if losses is None else losses

    def _product(self, a: np.ndarray, b: np.ndarray, out: np.ndarray, transpose_a=False, transpose_b=False,
                 accumulate=False):
        """out = op(a)·op(b) (out += op(a)·op(b) with ``accumulate``, SciPy's gemm only) in row-major
        arrays, through one BLAS (SciPy's when present)."""
        if self.gemm is None:
            return np.matmul(a.T if transpose_a else a, b.T if transpose_b else b, out=out)
        # row-major C = A·B is column-major Cᵀ = Bᵀ·Aᵀ; .T of a C-ordered array is F-ordered, no copy
        self.gemm(1.0, b.T, a.T, beta=float(accumulate), c=out.T, trans_a=int(transpose_b), trans_b=int(transpose_a),
                  overwrite_c=1)
        return out

    def _apply_bias(self, layer, l: int, d: np.ndarray) -> None:
        if layer.bias is None:
            return
        if layer.bias_mode == "shared":
            layer.bias -= d.sum()
        else:                       # b ← b − δᵀ·1
            self.gemv(-1.0, d.T, self.ones[:d.shape[0]], beta=1.0, y=layer.bias, overwrite_y=1)

    def _apply(self, layer, l: int, grad_w: np.ndarray, d: np.ndarray) -> None:
        iw, ib = self.index[l]
        masks = self.masks
        if layer.bias is not None:
            if layer.bias_mode == "shared":
                grad_b = np.array(d.sum(), dtype=d.dtype)
            else:
                grad_b = d[0] if d.shape[0] == 1 else d.sum(axis=0)     # one sample: its δ row
        if self.fold:
            if masks is not None:
                grad_w *= masks[iw]
            np.subtract(layer.weights, grad_w, out=layer.weights)
            if layer.bias is not None:
                layer.bias -= grad_b if masks is None else grad_b * masks[ib]
            return
        self.optimizer.update(iw, layer.weights, grad_w, None if masks is None else masks[iw])
        if layer.bias is not None:
            self.optimizer.update(ib, layer.bias, grad_b, None if masks is None else masks[ib])
