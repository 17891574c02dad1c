"""The "floats" engine, for very small networks: the same mathematics as ``arrays.ArrayTrainer`` on
Python floats.  Below a few hundred parameters and a few samples per batch, each NumPy call
costs more than its arithmetic (about a microsecond against nanoseconds), so the 2-2-2 example
trains several times faster on floats than through arrays.  ``fit`` picks it by size; the
results equal the reference engine's to float rounding (tests/test_engines.py runs every engine).

    net_j = Σ_i w_ji·x_i + b_j,   out_j = f(net_j)
    δ_L = η·s·∂E/∂net_L,   δ_l,j = (Σ_m δ_l+1,m·w_mj)·f'(net_j),   w_ji ← w_ji − Σ_samples δ_j·x_i
"""

from __future__ import annotations

import functools
import math
from operator import mul
from typing import Any

import numpy as np

from ..core.losses import reduce
from ..core.network import BaseNetwork

MAX_PARAMETERS = 256
MAX_BATCH = 8
MAX_LOSS_ROWS = 64          # the dataset loss on floats up to this many rows, through NumPy beyond
# online steps in the loop form before the step is written out: writing it out (compiling) costs 0.3–0.5 ms, what
# about a hundred steps save — a one-epoch run of a worked example never pays it; compiled once a shape
WRITE_OUT_AFTER = 64


def suitable(network: BaseNetwork, optimizer, batch_size: int) -> bool:
    """Whether the float engine can run this (plain SGD, float64) and is faster here (tiny network, small
    batches): what ``engine="auto"`` picks it by."""
    return possible(network, optimizer) and batch_size <= MAX_BATCH and (
        sum(p.size for p in network.parameters()) <= MAX_PARAMETERS)


def possible(network: BaseNetwork, optimizer) -> bool:
    """The float engine folds η into δ (plain SGD only) and computes in float64."""
    return optimizer.plain and network.dtype == np.float64


class FloatTrainer:
    """Plain SGD steps on Python floats; ``sync()`` writes the parameters back into the network."""

    def __init__(self, network: BaseNetwork, optimizer, reduction: str, masks=None, targets_sum_to_one: bool = True):
        self.network, self.optimizer, self.reduction = network, optimizer, reduction
        self.layers = network.layers
        self.weights = [layer.weights.tolist() for layer in self.layers]
        # each layer's bias: a list (per neuron), a float (shared) or None
        self.biases: list[Any] = [None if layer.bias is None else layer.bias.tolist() for layer in self.layers]
        self.modes = [layer.bias_mode for layer in self.layers]
        self.activations = [layer.activation for layer in self.layers]
        self.df = [a.scalar_derivative for a in self.activations]
        # f of an element-wise layer, called per neuron; None: the layer computes its outputs together (softmax)
        self.f = [a.scalar if a.elementwise else None for a in self.activations]
        self.loss = network.loss
        self._loss = self.loss.scalar_value
        self.fused = self.loss.fused
        self.targets_sum_to_one = targets_sum_to_one
        self.masks: list[tuple[list, Any]] | None = None
        if masks is not None and not all(np.all(m == 1) for m in masks):
            k, self.masks = 0, []
            for layer in self.layers:
                w_mask = masks[k].tolist()
                k += 1
                b_mask = None
                if layer.bias is not None:
                    b_mask = masks[k].tolist()
                    k += 1
                self.masks.append((w_mask, b_mask))
        self._outputs: list = []
        self._rows: tuple | None = None           # the data dataset_loss last read, and its rows as lists
        # (rows, each row's forward values) of dataset_loss's pass since the last step: a step on the same rows
        # (full-batch training) starts from them instead of running the same forward pass again
        self._ahead: tuple[list, list] | None = None
        # the online step written out once WRITE_OUT_AFTER steps have run in the loop form (None: not, or not yet)
        self._written_out: Any = None
        self._online_steps = 0 if None not in self.f and sum(p.size for p in network.parameters()) <= \
            MAX_PARAMETERS else None
        # one row's forward pass: the loop form, or written out with the online step
        self.forward = self._forward

    def sync(self) -> None:
        self.write_parameters((self.weights, self.biases))

    def finite(self) -> bool:
        """A cheap check after a step that computed no loss: the last layer's weights are finite."""
        return math.isfinite(sum(map(sum, self.weights[-1])))

    def copy_parameters(self, kept: tuple | None = None) -> tuple[list, list]:
        """The parameters as this trainer holds them, copied (what a Ctrl-C puts back, kept after every epoch): a
        step replaces each layer's list of rows and bias list, never changes one in place, so copying the two outer
        lists keeps them all — a few references, not the floats (``kept``, the copy before, is not reused)."""
        return self.weights[:], self.biases[:]

    def write_parameters(self, parameters: tuple[list, list]) -> None:
        """Parameters in this trainer's form (its own, or a copy) written into the network's arrays."""
        for layer, w, b in zip(self.layers, *parameters):
            layer.weights[...] = w
            if layer.bias is not None:
                layer.bias[...] = b

    def dataset_loss(self, x: np.ndarray, t: np.ndarray, reduction: str) -> float:
        """E over the data with the parameters as they stand: on a few rows, by this engine's own forward pass
        on floats (no write-back to the network, no NumPy call per row); else the network's, after ``sync``."""
        if len(x) > MAX_LOSS_ROWS:
            self.sync()
            return self.network.dataset_loss(x, t, reduction)
        if self._rows is None or self._rows[0] is not x or self._rows[1] is not t:
            self._rows = (x, t, x.tolist(), t.tolist())
        rows, targets = self._rows[2:]
        try:
            values = [self.forward(xr) for xr in rows]
            per_sample = [self._loss(v[-1][0], v[-1][1], tr) for v, tr in zip(values, targets)]
        except (OverflowError, ValueError, ZeroDivisionError):    # a diverging run: NumPy's inf or nan, reported
            self.sync()
            return self.network.dataset_loss(x, t, reduction)
        self._ahead = (rows, values)
        if len(per_sample) == 1:        # its sum and its mean (NumPy's, bit for bit)
            return per_sample[0]
        with np.errstate(over="ignore", invalid="ignore"):
            return reduce(np.array(per_sample), reduction)

    def _write_out(self) -> None:
        """The online step and the forward pass from now on written out (the same numbers, bit for bit)."""
        self._online_steps = None
        self._written_out = written_out_online_step(self)
        if self._written_out is not None:
            self.forward = self._written_out.forward

    def _forward(self, x: list) -> list:
        values = []
        for l, (w, b, mode) in enumerate(zip(self.weights, self.biases, self.modes)):
            if mode == "per_neuron":
                nets = [sum(map(mul, wj, x)) + bj for wj, bj in zip(w, b)]
            elif mode == "shared":
                nets = [sum(map(mul, wj, x)) + b for wj in w]
            else:
                nets = [sum(map(mul, wj, x)) for wj in w]
            f = self.f[l]
            outs = [f(z) for z in nets] if f is not None else self.activations[l].scalar_layer(nets)
            values.append((nets, outs))
            x = outs
        return values

    def _output_delta(self, nets: list, outs: list, t: list) -> list:
        if self.fused:
            return self.loss.scalar_fused_delta(nets, outs, t, 1.0 if self.targets_sum_to_one else sum(t))
        k, g = len(outs), self.loss.scalar_gradient
        grads = [g(o, tj, k) for o, tj in zip(outs, t)]
        if self.f[-1] is None:          # the layer's outputs are coupled: its own backward rule
            return self.activations[-1].scalar_backward(nets, outs, grads)
        df = self.df[-1]
        return [gj * df(z, o) for gj, z, o in zip(grads, nets, outs)]

    @staticmethod
    def prepare(x: np.ndarray, t: np.ndarray):
        """A batch as this trainer reads it: rows of floats."""
        return x.tolist(), t.tolist()

    @property
    def last_output(self) -> np.ndarray:
        return np.array(self._outputs)

    def step(self, batch, want_losses: bool = False):
        """One step on a prepared batch; returns its per-sample losses (a list) when asked."""
        rows, targets = batch
        n = len(rows)
        scale = self.optimizer.learning_rate * (1.0 if self.reduction == "sum" else 1.0 / n)
        ahead, self._ahead = self._ahead, None
        # the forward values of these rows, when dataset_loss has just made them on the parameters as they stand
        given = ahead[1] if ahead is not None and ahead[0] == rows else None
        if n == 1:
            if self._online_steps is not None:
                self._online_steps += 1
                if self._online_steps > WRITE_OUT_AFTER:
                    self._write_out()
            if self._written_out is not None:
                return self._written_out(self.weights, self.biases, rows[0], targets[0], scale, want_losses, self,
                                         None if given is None else given[0])
            return self._online_step(rows[0], targets[0], scale, want_losses, None if given is None else given[0])
        L = len(self.layers)
        grad_w = [[[0.0] * len(wj) for wj in w] for w in self.weights]
        grad_b: list[Any] = [0.0 if mode == "shared" else (None if mode == "none" else [0.0] * len(w))
                  for mode, w in zip(self.modes, self.weights)]
        losses, outputs = [], []
        for k, (xr, tr) in enumerate(zip(rows, targets)):
            values = self.forward(xr) if given is None else given[k]
            nets, outs = values[-1]
            outputs.append(outs)
            if want_losses:
                losses.append(self._loss(nets, outs, tr))
            d = [scale * v for v in self._output_delta(nets, outs, tr)]
            for l in range(L - 1, -1, -1):
                below = xr if l == 0 else values[l - 1][1]
                gw = grad_w[l]
                for j, dj in enumerate(d):
                    row = gw[j]
                    for i, a in enumerate(below):
                        row[i] += dj * a
                if self.modes[l] == "shared":
                    grad_b[l] += sum(d)
                elif self.modes[l] == "per_neuron":
                    gb = grad_b[l]
                    for j, dj in enumerate(d):
                        gb[j] += dj
                if l:
                    w = self.weights[l]
                    net_b, out_b = values[l - 1]
                    df = self.df[l - 1]
                    d = [sum(map(mul, d, column)) * df(z, o) for column, z, o in zip(zip(*w), net_b, out_b)]
        self._update(grad_w, grad_b)
        self._outputs = outputs
        return losses if want_losses else None

    def _online_step(self, xr: list, tr: list, scale: float, want_losses: bool, given: list | None = None):
        """One sample: each layer is updated as soon as the δ below it is known (W_l read before it changes);
        ``given``: the row's forward values, already made."""
        values = self.forward(xr) if given is None else given
        nets, outs = values[-1]
        self._outputs = [outs]
        losses = [self._loss(nets, outs, tr)] if want_losses else None
        d = [scale * v for v in self._output_delta(nets, outs, tr)]
        for l in range(len(self.layers) - 1, -1, -1):
            below = xr if l == 0 else values[l - 1][1]
            w = self.weights[l]
            d_below: list | None = None
            if l:
                net_b, out_b = values[l - 1]
                df = self.df[l - 1]
                d_below = [sum(map(mul, d, column)) * df(z, o) for column, z, o in zip(zip(*w), net_b, out_b)]
            masks = self.masks[l] if self.masks else None
            if masks is None:
                self.weights[l] = [[wi - dj * a for wi, a in zip(wj, below)] for wj, dj in zip(w, d)]
            else:
                self.weights[l] = [[wi - dj * a * m for wi, a, m in zip(wj, below, mj)]
                                   for wj, dj, mj in zip(w, d, masks[0])]
            mode = self.modes[l]
            if mode == "shared":
                self.biases[l] -= sum(d) * (masks[1] if masks else 1.0)
            elif mode == "per_neuron":
                biases: list = self.biases[l]
                self.biases[l] = [bj - dj for bj, dj in zip(biases, d)] if masks is None else \
                    [bj - dj * mj for bj, dj, mj in zip(biases, d, masks[1])]
            if d_below is not None:
                d = d_below
        return losses

    def _update(self, grad_w, grad_b) -> None:
        """Each parameter less its gradient (times its mask): every layer's rows and bias list replaced, not
        changed."""
        for l, (w, b) in enumerate(zip(self.weights, self.biases)):
            masks: Any = self.masks[l] if self.masks else None
            self.weights[l] = [[wi - gi for wi, gi in zip(wj, gj)] for wj, gj in zip(w, grad_w[l])] if not masks else \
                [[wi - gi * mi for wi, gi, mi in zip(wj, gj, mj)] for wj, gj, mj in zip(w, grad_w[l], masks[0])]
            if b is None:
                continue
            if self.modes[l] == "shared":
                m = masks[1] if masks else 1.0
                self.biases[l] = b - grad_b[l] * m
            else:
                self.biases[l] = [bj - gj for bj, gj in zip(b, grad_b[l])] if not masks else \
                    [bj - gj * mj for bj, gj, mj in zip(b, grad_b[l], masks[1])]


def written_out_online_step(trainer: FloatTrainer):
    """``FloatTrainer._online_step`` written out for this network's shape as straight-line Python — one line per
    net, out, δ and update, the loops unrolled (``.source`` holds the text) — so that a step of the 2-2-2 example
    costs its arithmetic, not the loops and lists around it; ``.forward`` is a row's forward pass written out the
    same way (what the step starts from, and the dataset loss reads).  The same operations in the same order as the
    loop form: the same numbers, bit for bit (a frozen parameter, mask 0, is left as it is, not decreased by 0).
    For element-wise activations (else the loop form runs)."""
    sizes = [trainer.layers[0].fan_in] + [len(w) for w in trainer.weights]
    below = [f"x{i}" for i in range(sizes[0])]
    outs: list[list[str]] = [below] + [[f"o{l}_{j}" for j in range(n)] for l, n in enumerate(sizes[1:])]
    nets: list[list[str]] = [[]] + [[f"n{l}_{j}" for j in range(n)] for l, n in enumerate(sizes[1:])]
    rows = [f"    {', '.join(below)}, = x"]       # each weight row, as it is before the update
    for l, mode in enumerate(trainer.modes):
        rows.append(f"    w{l} = W[{l}]")
        if mode == "per_neuron":
            rows.append(f"    b{l} = B[{l}]")
        rows += [f"    r{l}_{j} = w{l}[{j}]" for j in range(sizes[l + 1])]
    passes = []         # the row's forward pass
    for l, mode in enumerate(trainer.modes):
        for j in range(sizes[l + 1]):
            total = " + ".join(f"r{l}_{j}[{i}] * {a}" for i, a in enumerate(outs[l]))
            bias = {"per_neuron": f" + b{l}[{j}]", "shared": f" + B[{l}]", "none": ""}[mode]
            passes += [f"    n{l}_{j} = {total}{bias}", f"    o{l}_{j} = f{l}(n{l}_{j})"]
    layers = [f"([{', '.join(nets[l])}], [{', '.join(outs[l])}])" for l in range(1, len(sizes))]
    # forward(x): the row's forward values, W and B the trainer's own lists
    lines = ["def forward(x):", *rows, *passes, f"    return [{', '.join(layers)}]", ""]
    # step(…, given): from the row's forward values when given, else making them
    lines += ["def step(W, B, x, t, scale, want_losses, trainer, given):", *rows, "    if given is None:"]
    lines += ["    " + line for line in passes]
    lines.append("    else:")
    add = lines.append
    for l in range(len(trainer.modes)):
        add(f"        ({', '.join(nets[l + 1])},), ({', '.join(outs[l + 1])},) = given[{l}]")
    last = len(trainer.modes)
    add(f"    nets, outs = [{', '.join(nets[last])}], [{', '.join(outs[last])}]")
    add("    trainer._outputs = [outs]")
    add("    losses = [trainer._loss(nets, outs, t)] if want_losses else None")
    deltas = [f"d{j}" for j in range(sizes[last])]
    add(f"    {', '.join(deltas)}, = [scale * v for v in trainer._output_delta(nets, outs, t)]")
    for l in range(last - 1, -1, -1):
        if l:       # δ of the layer below, from the weights before their update
            below_deltas = []
            for i in range(sizes[l]):
                total = " + ".join(f"{d} * r{l}_{j}[{i}]" for j, d in enumerate(deltas))
                add(f"    e{i} = ({total}) * df{l - 1}(n{l - 1}_{i}, o{l - 1}_{i})")
                below_deltas.append(f"e{i}")
        w_mask, b_mask = trainer.masks[l] if trainer.masks else (None, None)
        updated = [f"[{', '.join(f'r{l}_{j}[{i}] - {d} * {a}' if w_mask is None or w_mask[j][i] else f'r{l}_{j}[{i}]' for i, a in enumerate(outs[l]))}]"
                   for j, d in enumerate(deltas)]
        add(f"    W[{l}] = [{', '.join(updated)}]")
        if trainer.modes[l] == "shared" and (b_mask is None or b_mask):
            add(f"    B[{l}] -= {' + '.join(deltas)}")
        elif trainer.modes[l] == "per_neuron":
            biases = [f"b{l}[{j}] - {d}" if b_mask is None or b_mask[j] else f"b{l}[{j}]" for j, d in enumerate(deltas)]
            add(f"    B[{l}] = [{', '.join(biases)}]")
        if l:
            deltas = [f"d{i}" for i in range(sizes[l])]
            add(f"    {', '.join(deltas)}, = {', '.join(below_deltas)},")
    add("    return losses")
    source = "\n".join(lines) + "\n"
    namespace: dict[str, Any] = {**{f"f{l}": f for l, f in enumerate(trainer.f)}, **{f"df{l}": df for l, df in enumerate(trainer.df)},
                                 "W": trainer.weights, "B": trainer.biases}
    exec(_compiled(source, f"<chainrule online step {trainer.network.shape_text()}>"), namespace)
    step = namespace["step"]
    step.source, step.forward = source, namespace["forward"]
    return step


@functools.lru_cache(maxsize=64)
def _compiled(source: str, name: str):
    """The written-out step's code, compiled once for each text (each shape, bias mode and frozen set)."""
    return compile(source, name, "exec")
