"""One training step as the derivation a teacher writes on the board (seeds 000–004):
a Document of sections of equations, each equation symbols = numbers = result.

StepDerivation writes the sections — parameters, each sample's forward pass, error and
backward pass, the gradients by the chain rule, the update and the loss — from the step's numbers
(values.StepValues); ``derivation`` here puts them in a Document, all of them or one parameter's.
The matrix form (matrix.py) builds on StepDerivation; explain.step.explain_step chooses between the two.

Where the rest lives: document.py (Section, Document, walk), names.py (Names, labels,
parameter_count), limits.py (MAX_*, too_large), values.py (the numbers by symbol, Focus),
chains.py (the chain rule per parameter, chains_as_data), updates.py (the optimiser's equations).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ..core.expr import D, Add, Call, Eq, Expr, Mul, Num, Paren, Sub, SumOver, Sym, Word, num, substitute, sym
from ..training.trace import StepTrace
from .chains import (Chain, Factor, SampleChain, all_chains, chain_items, chains_as_data, gradients_section,
                     parameter_chain)
from .document import Document, Section, walk
from .limits import MAX_EXPLAINED, MAX_EXPLAINED_TERMS, MAX_PATHS, MAX_SAMPLES, too_large
from .names import E, Names, parameter_count, unknown_parameter, vector
from .updates import optimizer_state, update_equations, update_section
from .values import Focus, StepValues


class StepDerivation(StepValues):
    """The quantities of one traced step, by symbol (StepValues), and the sections built from them.

    With a ``focus`` (one parameter of a large network) the sections show only what that
    parameter's gradient goes through: its neuron's forward pass, the δs of its layer, the next layer
    and the output layer, a few samples of a large batch, its chain, and its update; long sums leave
    out their terms with a zero factor."""

    def defined(self, lhs: Expr, formula: Expr, env: Mapping, value: float, note: str = "") -> Eq:
        """lhs = formula = the formula with numbers = value."""
        if isinstance(formula, Num):            # a constant (∂out/∂net of the identity): lhs = 1
            return Eq([lhs, Num(value)], note)
        numbers = substitute(formula, env)
        parts = [lhs, formula] + ([numbers] if numbers != formula and numbers.text() != num(value) else [])
        return Eq(parts + [Num(value)], note)

    # ---- the forward pass, the error and the deltas of one sample ----------------------------

    def forward(self, s: int) -> Section:
        sample, env, section = self.trace.samples[s], self.env(s), Section("Forward pass")
        if self.focus is not None:
            section.items.append(f"Only the neuron of {self.focus_label()} is shown; the other neurons' values "
                                 "enter below as numbers.")
        for l in range(self.L):
            shown = self.rows(l) if self.focus is None or l == self.focus.layer else ()
            pairs = [(self._net(sample, env, l, j), self._out(sample, env, l, j)) for j in shown]
            if not self.activations[l].elementwise:      # a whole layer at once: every net first
                section.items += [net for net, _ in pairs] + [out for _, out in pairs]
            else:
                section.items += [eq for pair in pairs for eq in pair]
        return section

    def _net(self, sample, env: Mapping, l: int, j: int) -> Eq:
        """net of neuron (l, j): its weighted inputs (those not exactly 0, with a focus) and its bias."""
        layer, n = self.layers[l], self.names.neuron(l, j)
        inputs = self.nonzero(range(layer["fan_in"]), lambda i: self.layer_input(sample, l, i))
        terms: list[Expr] = [Mul(sym(layer["weight_labels"][j][i]), sym(self.names.out(l - 1, i))) for i in inputs]
        if layer["bias_labels"][j] is not None:
            terms.append(sym(layer["bias_labels"][j]))
        return self.defined(sym(f"net_{n}"), Add(*terms), env, sample.layers[l]["net"][j],
                            self.left_out(layer["fan_in"] - len(inputs), "input"))

    def _out(self, sample, env: Mapping, l: int, j: int) -> Eq:
        """out of neuron (l, j): its activation of its net, or of the whole layer's nets (softmax)."""
        layer, activation, n = self.layers[l], self.activations[l], self.names.neuron(l, j)
        if activation.elementwise:
            return self.defined(sym(f"out_{n}"), activation.applied(sym(f"net_{n}")), env,
                                sample.layers[l]["out"][j])
        first, last = self.names.neuron(l, 0), self.names.neuron(l, layer["units"] - 1)
        value = Call(activation.name, Word(f"net_{first}…net_{last}"))
        return Eq([sym(f"out_{n}"), value, Num(sample.layers[l]["out"][j])],
                  activation.formula(sym(f"net_{n}")).text())

    def error(self, s: int) -> Section:
        sample, env = self.trace.samples[s], self.env(s)
        section = Section(f"Error ({self.trace.loss_name})")
        k, last = self.layers[-1]["units"], self.L - 1
        outputs = [self.names.neuron(last, j) for j in range(k)]
        for j, o in enumerate(outputs):
            section.items.append(self.defined(sym(f"E_{o}"), self.loss.term_formula(sym(f"out_{o}"), sym(f"t_{o}"), k), env,
                                              sample.errors[j]))
        if k > 1:
            section.items.append(Eq([sym("E_total"), Add(*(sym(f"E_{o}") for o in outputs)),
                                     Add(*(Num(e) for e in sample.errors)), Num(sample.loss)]))
        else:       # one output: no sum to write out
            section.items.append(Eq([sym("E_total"), sym(f"E_{outputs[0]}"), Num(sample.loss)]))
        return section

    def backward(self, s: int) -> Section:
        """Each neuron's δ = ∂E/∂net from its local derivatives, output layer first."""
        sample, env = self.trace.samples[s], self.env(s)
        section = Section("Backward pass: δ = ∂E/∂net")
        last = self.L - 1
        for l in range(last, -1 if self.focus is None else self.focus.layer - 1, -1):
            if not self.delta_rows(l):
                if l == last - 1:
                    section.items.append(self._skipped_deltas(l))
                continue
            for j in self.delta_rows(l):
                section.items += self._delta(sample, env, l, j)
        return section

    def _skipped_deltas(self, l: int) -> str:
        """With a focus, the sentence for the layers between the output layer's next and the focus's."""
        assert self.focus is not None, "layers are skipped with a focus only"
        skipped = [str(m + 1) for m in range(l, self.focus.layer + 1, -1)][::-1]
        return (f"The δs of layer{'s' if len(skipped) > 1 else ''} {', '.join(skipped)} "
                "are worked the same way; they enter below by value.")

    def _delta(self, sample, env: Mapping, l: int, j: int) -> list[Eq]:
        """Neuron (l, j)'s δ: its ∂E/∂out, then through its activation (one line where the loss and
        the output activation are combined)."""
        n = self.names.neuron(l, j)
        if l == self.L - 1 and self.fused:
            formula = self.loss.fused_delta_formula(sym(f"out_{n}"), sym(f"t_{n}"), self.layers[-1]["units"],
                                                    float(np.sum(sample.target)))
            return [self.defined(sym(f"δ_{n}"), formula, env, sample.deltas[l][j],
                                 f"loss and {self.layers[l]['activation']} combined")]
        return [*self._shares(sample, env, l, j), self._error_by_out(sample, env, l, j),
                *self._through_activation(env, l, j, sample.deltas[l][j])]

    def _shares(self, sample, env: Mapping, l: int, j: int) -> list[Eq]:
        """In the layer below the outputs, each output's share of ∂E/∂out as Mazur writes it:
        ∂E_o1/∂out_h1 = δ_o1·w5 (where there are 2 to MAX_SHARES paths and no focus)."""
        if l != self.L - 2 or self.focus is not None:
            return []
        above, n = self.layers[l + 1], self.names.neuron(l, j)
        through = self.nonzero(range(above["units"]), lambda m: sample.deltas[l + 1][m])
        if not 1 < len(through) <= MAX_SHARES:
            return []
        shares = []
        for m in through:
            o = self.names.neuron(l + 1, m)
            share = Mul(sym(f"δ_{o}"), sym(above["weight_labels"][m][j]))
            shares.append(self.defined(D(Sym("E", o), sym(f"out_{n}")), share, env,
                                       sample.deltas[l + 1][m] * self.weight(l + 1, m, j), f"the path through {o}"))
        return shares

    def _error_by_out(self, sample, env: Mapping, l: int, j: int) -> Eq:
        """∂E/∂out of neuron (l, j): the loss's gradient in the output layer, else the sum over the
        paths through the next layer."""
        n = self.names.neuron(l, j)
        out = sym(f"out_{n}")
        if l == self.L - 1:
            formula = self.loss.gradient_formula(out, sym(f"t_{n}"), self.layers[-1]["units"])
            return self.defined(D(E, out), formula, env, env[f"∂E/∂out_{n}"])
        above = self.layers[l + 1]
        through = self.nonzero(range(above["units"]), lambda m: sample.deltas[l + 1][m])
        paths = Add(*(Mul(sym(f"δ_{self.names.neuron(l + 1, m)}"), sym(above["weight_labels"][m][j]))
                      for m in through))
        notes = (["summed over the paths through the next layer"] if len(through) > 1 else []) + (
            [self.left_out(above["units"] - len(through), "δ")] if len(through) < above["units"] else [])
        return self.defined(D(E, out), paths, env, env[f"∂E/∂out_{n}"], "; ".join(notes))

    def _through_activation(self, env: Mapping, l: int, j: int, value: float) -> list[Eq]:
        """δ of neuron (l, j) from its ∂E/∂out: times ∂out/∂net for an elementwise activation, else
        through the layer's Jacobian (softmax)."""
        layer, n = self.layers[l], self.names.neuron(l, j)
        out, net, delta = sym(f"out_{n}"), sym(f"net_{n}"), sym(f"δ_{n}")
        if self.activations[l].elementwise:
            derivative = self.activations[l].derivative_formula(net, out)
            assert derivative is not None, "an element-wise activation writes its derivative"
            return [self.defined(D(out, net), derivative, env, env[f"∂out_{n}/∂net_{n}"]),
                    Eq([delta, Mul(D(E, out), D(out, net)),
                        Mul(Num(env[f"∂E/∂out_{n}"]), Num(env[f"∂out_{n}/∂net_{n}"])), Num(value)])]
        others = [self.names.neuron(l, m) for m in range(layer["units"])]
        inner = Add(*(Mul(Num(env[f"∂E/∂out_{o}"]), Num(env[f"out_{o}"])) for o in others))
        return [Eq([delta, Mul(out, Paren(Sub(D(E, out), SumOver("k", Mul(D(E, Sym("out", "k")), Sym("out", "k")))))),
                    Mul(Num(env[f"out_{n}"]), Paren(Sub(Num(env[f"∂E/∂out_{n}"]), inner))), Num(value)],
                   f"{layer['activation']}: its Jacobian couples the layer's outputs")]

    # ---- the gradients and the update (chains.py, updates.py) ----------------------------------------

    def chain(self, l: int, kind: str, j: int, i: int = 0) -> Chain:
        return parameter_chain(self, l, kind, j, i)

    def chains(self) -> list[Chain]:
        return all_chains(self)

    def chain_items(self, chain: Chain) -> list:
        return chain_items(self, chain)

    def gradients(self, only: str | None = None) -> Section:
        return gradients_section(self, only)

    def updates(self, only: str | None = None) -> Section:
        """Each parameter's update by the optimiser's own equations: symbols = numbers = value."""
        return update_section(self, only)

    # ---- the whole step -------------------------------------------------------------------------------

    def parameters(self) -> Section:
        section = Section("Parameters before the step")
        if self.focus is not None:
            label, f = self.focus_label(), self.focus
            value = self.weight(f.layer, f.j, f.i) if f.kind == "weight" else self.bias(f.layer, f.j)
            section.items += [Eq([sym(label), Num(value)]),
                              f"(the other {parameter_count(self.trace) - 1:,} parameters enter below by value)"]
            return section
        for l, layer in enumerate(self.layers):
            eqs = [Eq([sym(layer["weight_labels"][j][i]), Num(self.weight(l, j, i))])
                   for j in range(layer["units"]) for i in range(layer["fan_in"])]
            if layer["bias_mode"] == "shared":
                eqs.append(Eq([sym(layer["bias_labels"][0]), Num(self.bias(l, 0))]))
            elif layer["bias_mode"] == "per_neuron":
                eqs += [Eq([sym(layer["bias_labels"][j]), Num(self.bias(l, j))]) for j in range(layer["units"])]
            section.items.append(Section(f"layer {l + 1} ({layer['activation']})", eqs))
        return section

    def intro(self) -> list[str]:
        t = self.trace
        shape = "-".join(str(v) for v in [t.network["inputs"], *(layer["units"] for layer in self.layers)])
        many = len(t.samples) > 1
        return [f"Network {shape}, loss {t.loss_name}, learning rate η = {num(t.learning_rate)}, "
                f"{len(t.samples)} sample{'s' if many else ''} in this step"
                + (f", gradients combined by {t.reduction}" if many else "")
                + ("; computed in float32, so only about 7 significant digits are exact and a product "
                   "written out may differ from its result in the last two" if t.network.get("dtype") == "float32"
                   else "")]

    def samples(self) -> list[Section]:
        out = []
        shown = self.shown_samples()
        for s in shown:
            sample = self.trace.samples[s]
            heading = f"Sample {sample.index + 1}: input {vector(sample.input)}, target {vector(sample.target)}"
            out.append(Section(heading, [self.forward(s), self.error(s), self.backward(s)]))
            if len(shown) < len(self.trace.samples) and s == shown[MAX_SAMPLES // 2 - 1]:
                others = len(self.trace.samples) - len(shown)
                out.append(Section("The other samples", [f"The other {others} samples of the batch are worked the "
                                                         "same way; their terms are in the gradient's sum below."]))
        return out

    def loss_line(self) -> Section:
        t = self.trace
        return Section(f"Loss over the data ({t.reduction} of the sample losses)",
                       [Eq([Word("before the step"), Num(t.loss_before)]),
                        Eq([Word("after it"), Num(t.loss_after)])])


def step_heading(trace: StepTrace, title: str = "") -> str:
    """'title — step 3 (epoch 1)', or without the title when there is none."""
    return f"{title} — step {trace.step} (epoch {trace.epoch})".strip(" —")


MAX_SHARES = 10         # outputs beyond which the shares of a hidden ∂E/∂out are not written one by one


def derivation(trace: StepTrace, title: str = "", parameter: str | None = None) -> Document:
    """The derivation Document of one step: all of it, or one parameter's (only the neurons its
    gradient goes through, in a network too large to derive whole).  explain.step.explain_step
    also offers the matrix form."""
    step = StepDerivation(trace)
    heading = step_heading(trace, title)
    if parameter is None:
        return Document(heading, step.intro(),
                        [step.parameters(), *step.samples(), step.gradients(), step.updates(), step.loss_line()], trace)
    where = step.locate(parameter)
    if where is None:
        raise unknown_parameter(trace, parameter)
    step = StepDerivation(trace, where)
    return Document(f"{heading} — {parameter}", step.intro(),
                    [step.parameters(), *step.samples(), step.gradients(parameter), step.updates(parameter)], trace)


__all__ = ["Document", "Section", "Eq", "derivation", "chains_as_data", "Names", "StepDerivation", "walk",
           "MAX_EXPLAINED", "parameter_count", "too_large", "optimizer_state", "update_equations", "step_heading",
           # re-exported from the modules they moved to, for code that imports them from here
           "E", "Focus", "StepValues", "Chain", "Factor", "SampleChain",
           "MAX_EXPLAINED_TERMS", "MAX_PATHS", "MAX_SAMPLES"]
