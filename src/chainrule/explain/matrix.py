"""The step in matrix form, as seed 000's "Linear Algebra" section writes it.

Samples are columns.  Each layer's weights are augmented with its bias as a last
column, and its input with a row of ones, so one product gives every net:

    net = W̃·x̃,   δ_out = ∂E/∂out ⊙ f'(net),   ∇W̃ = δ·x̃ᵀ,   δ_hidden = (Wᵀ·δ_next) ⊙ f'(net),
    W̃⁺ = W̃ − η·∇W̃    (a shared bias's gradient is the sum of the bias column).
"""

from __future__ import annotations

import numpy as np

from ..core.expr import (D, Add, Call, Eq, Expr, Frac, Hadamard, Indexed, MatMul, Matrix, Mul, Num, Sub, Sym, Transposed, column,
                    matrix, sym)
from ..training.trace import StepTrace
from .derive import StepDerivation, step_heading
from .document import Document, Section
from .names import E


def _numbers(values) -> Matrix:
    return matrix([[Num(float(v)) for v in row] for row in np.atleast_2d(values)])


class MatrixForm:
    def __init__(self, step: StepDerivation):
        self.step = step
        self.samples = step.trace.samples
        self.n = len(self.samples)

    def has_bias(self, l: int) -> bool:
        return self.step.layers[l]["bias_mode"] != "none"

    def weights_symbols(self, l: int, augmented: bool = True):
        layer = self.step.layers[l]
        rows = [[sym(layer["weight_labels"][j][i]) for i in range(layer["fan_in"])]
                + ([sym(layer["bias_labels"][j])] if augmented and self.has_bias(l) else [])
                for j in range(layer["units"])]
        return matrix(rows)

    def weights_values(self, l: int, which: str = "before", augmented: bool = True) -> np.ndarray:
        params = (self.step.before if which == "before" else self.step.trace.parameters_after)[l]
        w = np.array(params["weights"], dtype=float)
        if not (augmented and self.has_bias(l)):
            return w
        b = np.broadcast_to(np.array(params["bias"], dtype=float), (w.shape[0],))
        return np.column_stack([w, b])

    def input_symbols(self, l: int):
        fan_in = self.step.layers[l]["fan_in"]
        items = [sym(self.step.names.out(l - 1, i)) for i in range(fan_in)]
        return column(items + ([Num(1)] if self.has_bias(l) else []))

    def input_values(self, l: int) -> np.ndarray:
        """(fan_in [+1], n): the layer's inputs, one column per sample."""
        cols = [[self.step.layer_input(s, l, i) for i in range(self.step.layers[l]["fan_in"])] for s in self.samples]
        x = np.array(cols, dtype=float).T
        return np.vstack([x, np.ones((1, self.n))]) if self.has_bias(l) else x

    def neuron_column(self, l: int, prefix: str):
        return column([sym(f"{prefix}{self.step.names.neuron(l, j)}") for j in range(self.step.layers[l]["units"])])

    def per_neuron(self, l: int, key: str) -> np.ndarray:
        """(units, n) of 'net' or 'out' values, or 'delta'."""
        if key == "delta":
            return np.array([s.deltas[l] for s in self.samples], dtype=float).T
        return np.array([s.layers[l][key] for s in self.samples], dtype=float).T

    def forward(self, l: int) -> Section:
        layer = self.step.layers[l]
        net = self.neuron_column(l, "net_")
        items = [Eq([net, MatMul(self.weights_symbols(l), self.input_symbols(l)),
                     MatMul(_numbers(self.weights_values(l)), _numbers(self.input_values(l))),
                     _numbers(self.per_neuron(l, "net"))]),
                 Eq([self.neuron_column(l, "out_"), Call(layer["activation"], net), _numbers(self.per_neuron(l, "out"))])]
        return Section(f"Layer {l + 1}: net = W̃·x̃, out = {layer['activation']}(net)", items)

    def error(self) -> Section:
        last = self.step.L - 1
        terms = np.array([s.errors for s in self.samples], dtype=float).T
        return Section(f"Error ({self.step.trace.loss_name})",
                       [Eq([self.neuron_column(last, "E_"), _numbers(terms)]),
                        Eq([Sym("E", "total"), Num(self.samples[0].loss) if self.n == 1
                            else _numbers([[s.loss for s in self.samples]])])])

    def output_delta(self) -> Section:
        step, last = self.step, self.step.L - 1
        delta = self.neuron_column(last, "δ_")
        values = _numbers(self.per_neuron(last, "delta"))
        units = step.layers[last]["units"]
        outs = [step.names.neuron(last, j) for j in range(units)]
        if step.fused or not step.activations[last].elementwise:
            note = ("loss and output activation combined" if step.fused
                    else f"{step.layers[last]['activation']}: through its Jacobian")
            return Section("δ of the output layer", [Eq([delta, column([D(E, sym(f"net_{o}")) for o in outs]), values],
                                                        note)])
        grad = np.array([[env[f"∂E/∂out_{o}"] for env in step.envs] for o in outs])
        deriv = np.array([[env[f"∂out_{o}/∂net_{o}"] for env in step.envs] for o in outs])
        return Section("δ of the output layer", [Eq([
            delta, Hadamard(column([D(E, sym(f"out_{o}")) for o in outs]),
                            column([D(sym(f"out_{o}"), sym(f"net_{o}")) for o in outs])),
            Hadamard(_numbers(grad), _numbers(deriv)), values])])

    def hidden_delta(self, l: int) -> Section:
        step = self.step
        units = step.layers[l]["units"]
        hidden = [step.names.neuron(l, j) for j in range(units)]
        deriv = np.array([[env.get(f"∂out_{h}/∂net_{h}", np.nan) for env in step.envs] for h in hidden])
        w_next = self.weights_values(l + 1, augmented=False)
        delta_next = self.per_neuron(l + 1, "delta")
        return Section(f"δ of layer {l + 1}", [Eq([
            self.neuron_column(l, "δ_"),
            Hadamard(MatMul(Transposed(self.weights_symbols(l + 1, augmented=False)), self.neuron_column(l + 1, "δ_")),
                     column([D(sym(f"out_{h}"), sym(f"net_{h}")) for h in hidden])),
            Hadamard(MatMul(Transposed(_numbers(w_next)), _numbers(delta_next)), _numbers(deriv)),
            _numbers(self.per_neuron(l, "delta"))])])

    def gradient(self, l: int) -> Section:
        layer = self.step.layers[l]
        units = layer["units"]
        shared = layer["bias_mode"] == "shared" and units > 1      # one bias in every row: its entries indexed

        def bias_entry(j: int) -> Expr:
            entry = D(E, sym(layer["bias_labels"][j]))
            return Indexed(entry, j + 1) if shared else entry
        symbols = [[D(E, sym(layer["weight_labels"][j][i])) for i in range(layer["fan_in"])]
                   + ([bias_entry(j)] if self.has_bias(l) else []) for j in range(units)]
        delta, x = self.per_neuron(l, "delta"), self.input_values(l)
        product: Expr = MatMul(_numbers(delta), Transposed(_numbers(x)))
        scale = 1.0 if self.step.trace.reduction == "sum" else 1.0 / self.n
        form: Expr = MatMul(self.neuron_column(l, "δ_"), Transposed(self.input_symbols(l)))
        if self.n > 1 and scale != 1.0:
            form, product = Mul(Frac(Num(1), Num(self.n)), form), Mul(Frac(Num(1), Num(self.n)), product)
        items = [Eq([matrix(symbols), form, product, _numbers(scale * delta @ x.T)],
                    "summed over the samples by the product" if self.n > 1 else "")]
        if layer["bias_mode"] == "shared":
            b = layer["bias_labels"][0]
            column_sum = scale * delta.sum(axis=1)
            items.append(Eq([D(E, sym(b)), Add(*(Num(float(v)) for v in column_sum)), Num(float(column_sum.sum()))],
                            "shared bias: the sum of the bias column"))
        return Section(f"Gradient of layer {l + 1}: ∇W̃ = δ·x̃ᵀ", items)

    def update(self, l: int) -> Section:
        lr = self.step.trace.learning_rate
        after = self.weights_values(l, "after")
        grad = np.array(self.step.trace.gradients[l]["weights"], dtype=float)
        if self.has_bias(l):
            b = np.broadcast_to(np.array(self.step.trace.gradients[l]["bias"], dtype=float), (grad.shape[0],))
            grad = np.column_stack([grad, b])
        w = self.weights_symbols(l)
        w_plus = matrix([[Sym(c.base, c.sub, "+") for c in row] for row in w.rows])
        frozen = [label for row in w.rows for label in (c.text() for c in row) if label in self.step.trace.frozen]
        note = f"frozen, kept as they were: {', '.join(frozen)}" if frozen else ""
        return Section(f"Update of layer {l + 1}", [Eq([
            w_plus, Sub(w, Mul(Sym("η"), Sym("∇W̃"))),
            Sub(_numbers(self.weights_values(l)), Mul(Num(lr), _numbers(grad))), _numbers(after)], note)])


def matrix_sections(step: StepDerivation) -> list[Section]:
    form = MatrixForm(step)
    last = step.L - 1
    sections = [form.forward(l) for l in range(step.L)]
    sections += [form.error(), form.output_delta(), form.gradient(last)]
    for l in range(last - 1, -1, -1):
        sections += [form.hidden_delta(l), form.gradient(l)]
    if step.trace.optimizer is None:
        sections += [form.update(l) for l in range(step.L)]
    else:       # momentum and Adam update each parameter from its own state: written out one by one
        sections.append(step.updates())
    return sections


def matrix_document(trace: StepTrace, title: str = "") -> Document:
    """The Document of one step in matrix form."""
    step = StepDerivation(trace)
    return Document(step_heading(trace, title) + " — matrix form", step.intro(), matrix_sections(step), trace)
