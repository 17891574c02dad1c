"""One traced step's quantities as the explanation defines them: each named quantity's formula is the
very tree the derivation prints (net_h1 = w1·i1 + w2·i2 + b1, ∂E/∂out_h1 = δ_o1·w5 + δ_o2·w7,
δ_h1 = ∂E/∂out_h1·∂out_h1/∂net_h1, a gradient's δ_h1·i1 per sample), taken from StepDerivation's own
sections, and its symbols are read by claim name (δ_o1 → delta_o1, w5⁺ → w5_after, …)."""

from __future__ import annotations

import math
import re
from functools import lru_cache
from typing import Any

from ..explain.derive import StepDerivation
from ..core.expr import Add, D, Eq, Expr, Mul, Sym, num, rewrite, sym, symbols
from ..core.neurons import NEURON_NAME
from .claims import kind_of

# claim name ↔ symbol text: the claim names a quantity by ASCII, the derivation writes its symbol
_TO_CLAIM = [(re.compile(r"(?:δ|∂E/∂net)_(.+)"), r"delta_\1"), (re.compile(r"∂E/∂out_(.+)"), r"dE_dout_\1"), (re.compile(r"∂E_(o\d+)/∂out_(.+)"), r"dE_\1_dout_\2"),
             (re.compile(r"∂out_(.+)/∂net_\1"), r"dout_\1_dnet_\1"), (re.compile(r"([wb]\d+)⁺"), r"\1_after"), (re.compile(r"∂E/∂([wb]\d+)"), r"dE_d\1"),
             (re.compile(rf"(?!(?:[wb]\d+|E)$)({NEURON_NAME.pattern})"), r"net_\1")]      # an input: i1, x
_TO_SYMBOL = {"delta": "δ_{0}", "dE_dout": "∂E/∂out_{0}", "dout_dnet": "∂out_{0}/∂net_{0}",
              "net": "net_{0}", "out": "out_{0}", "error": "E_{0}", "error_total": "E_total"}


@lru_cache(maxsize=4096)
def claim_name(symbol: str) -> str:
    """The claim name of a symbol the derivation writes: δ_o1 → delta_o1, ∂E/∂out_h1 → dE_dout_h1,
    ∂out_h1/∂net_h1 → dout_h1_dnet_h1, w5⁺ → w5_after, ∂E/∂w5 → dE_dw5, i1 → net_i1 (the input); net_h1,
    w5 as they are."""
    for pattern, name in _TO_CLAIM:
        if pattern.fullmatch(symbol):
            return pattern.sub(name, symbol)
    return symbol


def symbol_text(name: str) -> str | None:
    """The symbol the derivation writes for a per-sample claim name (None for the others)."""
    kind, args = kind_of(name)
    return _TO_SYMBOL[kind].format(*args) if kind in _TO_SYMBOL else None


def evaluable(formula: Expr) -> bool:
    """Whether every node has a value (not a Σ_k over an unnamed index, not a word such as 'net_o1…')."""
    ok = True

    def visit(node):
        nonlocal ok
        ok = ok and type(node).value is not Expr.value
    rewrite(formula, visit)
    return ok


def evaluate(formula: Expr, look, known: dict | None = None) -> float:
    """A formula's value with every symbol it reads (not in ``known``) looked up by its claim name;
    nan where it has none (ln 0, a division by 0)."""
    env = dict(known or {})
    for text in _symbols(formula) - env.keys():
        env[text] = look(claim_name(text))
    try:
        return formula.value(env)
    except (ValueError, ZeroDivisionError, OverflowError):
        return math.nan


@lru_cache(maxsize=8192)
def _symbols(formula: Expr) -> frozenset:
    return frozenset(symbols(formula))


# ---- rewrites: each classic mistake is one of these applied to a formula -------------------------------

def replaced(formula: Expr, old: Expr, new: Expr) -> Expr:
    """The formula with every node equal to ``old`` replaced by ``new`` (a symbol by another, or by
    its own definition)."""
    return rewrite(formula, lambda node: new if node == old else None)


def without_factor(formula: Expr, factor: Expr) -> Expr:
    """The formula with ``factor`` left out of every product it is a factor of."""
    def drop(node):
        if isinstance(node, Mul) and factor in node.items and len(node.items) > 1:
            rest = [item for item in node.items if item != factor]
            return rest[0] if len(rest) == 1 else Mul(*rest)
        return None
    return rewrite(formula, drop)


def only_term(formula: Expr, term: Expr) -> Expr:
    """One term of a sum: Σ with only ``term`` kept (δ_h1 + δ_h2 → δ_h2)."""
    return term if isinstance(formula, Add) and term in formula.items else formula


def terms(formula: Expr) -> tuple:
    return formula.items if isinstance(formula, Add) else (formula,)


def updated(formula: Expr, labels) -> Expr:
    """The formula with each parameter p of ``labels`` read after the step, as p⁺."""
    wanted = {sym(label) for label in labels}
    return rewrite(formula, lambda node: Sym(node.base, node.sub, "+") if node in wanted else None)


def share_of(formula: Expr | None, output: str) -> Expr | None:
    """The term of a hidden neuron's ∂E/∂out that goes through ``output`` (δ_o1·w5 of δ_o1·w5 + δ_o2·w7)."""
    through = sym(f"δ_{output}")
    found = [t for t in terms(formula) if isinstance(t, Mul) and through in t.items] if formula else []
    return found[0] if found else None


class Step:
    """One traced step: where each named neuron and parameter is, every quantity's engine value, and
    each quantity's formula as the derivation of a sample defines it."""

    def __init__(self, trace, network):
        self.trace = trace
        self.d = StepDerivation(trace)
        self.network = network
        self._definitions: dict[int, dict] = {}
        self._lines: dict[int, dict] = {}
        self._chains: dict[str, object] = {}
        self.cache: dict = {}       # formulas rewritten by a mistake, built once

    # where each named neuron lives
    def locate(self, neuron: str) -> tuple[int, int]:
        if ("locate", neuron) in self.cache:
            return self.cache["locate", neuron]
        self.cache["locate", neuron] = self._locate(neuron)
        return self.cache["locate", neuron]

    def _locate(self, neuron: str) -> tuple[int, int]:
        names = self.d.names
        sizes = [self.trace.network["inputs"], *(layer["units"] for layer in self.d.layers)]
        for l, size in enumerate(sizes, start=-1):
            for j in range(size):
                if names.neuron(l, j) == neuron:
                    return l, j
        raise KeyError(neuron)

    def param(self, label: str):
        """("weight", l, j, i) or ("bias", l, j, 0) of a parameter's label."""
        if "params" not in self.cache:
            where: dict[str, tuple] = {}
            for l, layer in enumerate(self.d.layers):
                for j, row in enumerate(layer["weight_labels"]):
                    for i, lab in enumerate(row):
                        where.setdefault(lab, ("weight", l, j, i))
                for j, lab in enumerate(layer["bias_labels"]):
                    if lab:
                        where.setdefault(lab, ("bias", l, j, 0))
            self.cache["params"] = where
        return self.cache["params"][label]

    def labels(self) -> list[str]:
        """Every parameter's label, layer by layer: its weights, then its biases."""
        return [label for layer in self.d.layers
                for label in [*(lab for row in layer["weight_labels"] for lab in row),
                              *dict.fromkeys(b for b in layer["bias_labels"] if b is not None)]]

    def sample_position(self, sample: int) -> int:
        for s, traced in enumerate(self.trace.samples):
            if traced.index == sample - 1:
                return s
        raise KeyError(sample)

    def correct(self, name: str, s: int | None) -> float:
        """The engine's value of a claim name (s: position of the sample in the step)."""
        kind, args = kind_of(name)
        d, trace = self.d, self.trace
        env: Any = d.env(s) if s is not None else None
        if kind in ("net", "out"):
            l, j = self.locate(args[0])
            return trace.samples[s].input[j] if l < 0 else env[f"{kind}_{args[0]}"]
        if kind == "error":
            return trace.samples[s].errors[self.locate(args[0])[1]]
        if kind == "error_total":
            return trace.samples[s].loss
        if kind in ("delta", "dE_dout", "dout_dnet"):
            return env[symbol_text(name)]
        if kind == "dEo_dout":
            (lo, jo), (_, jh) = self.locate(args[0]), self.locate(args[1])
            return env[f"δ_{args[0]}"] * d.weight(lo, jo, jh)
        if kind in ("gradient", "before", "after"):
            which, l, j, i = self.param(args[0])
            table = {"gradient": trace.gradients, "before": trace.parameters_before,
                     "after": trace.parameters_after}[kind][l]
            if which == "weight":
                return table["weights"][j][i]
            b = table["bias"]
            return b if d.layers[l]["bias_mode"] == "shared" else b[j]
        if kind == "loss_before":
            return trace.loss_before
        if kind == "loss_after":
            return trace.loss_after
        raise KeyError(name)

    # ---- the formulas, as the derivation prints them ---------------------------------------------------

    def definitions(self, s: int) -> dict[str, Expr]:
        """Symbol text → the formula that defines it in sample s's forward pass, error and backward
        pass, exactly as the explanation prints it (only those that can be evaluated)."""
        if s not in self._definitions:
            found: dict[str, Expr] = {}
            lines: dict[str, Eq] = {}
            for section in (self.d.forward(s), self.d.error(s), self.d.backward(s)):
                for item in section.items:
                    if isinstance(item, Eq):
                        lines.setdefault(item.parts[0].text(), item)
                    if isinstance(item, Eq) and len(item.parts) > 2 and evaluable(item.parts[1]):
                        found.setdefault(item.parts[0].text(), item.parts[1])
            self._definitions[s], self._lines[s] = found, lines
        return self._definitions[s]

    def line(self, name: str, s: int | None) -> str | None:
        """The derivation's line of a claim name, as the explanation prints it: symbols = numbers = result
        (None for an input)."""
        kind, args = kind_of(name)
        d = self.d
        if kind == "gradient":
            eqs = [item for item in d.chain_items(self.chain(args[0])) if isinstance(item, Eq)]
            return eqs[-1].text() if eqs else None
        if kind == "after":
            eqs = [item for item in d.updates(args[0]).items if isinstance(item, Eq)]
            return eqs[-1].text() if eqs else None
        if kind == "before":
            return f"{args[0]} = {num(self.correct(name, None))}"
        if kind in ("loss_before", "loss_after"):
            return f"the loss {'before' if kind == 'loss_before' else 'after'} the step = {num(self.correct(name, None))}"
        assert s is not None, "a per-sample quantity has a sample"
        if kind == "dEo_dout":
            formula = self.share(args[0], args[1], s)
            if formula is None:
                return None
            return d.defined(D(Sym("E", args[0]), sym(f"out_{args[1]}")), formula, d.env(s),
                             self.correct(name, s)).text()
        self.definitions(s)
        eq = self._lines[s].get(symbol_text(name) or "")
        return eq.text() if eq is not None else None

    def formula(self, name: str, s: int) -> Expr | None:
        """The formula defining a per-sample claim name in sample s (None where there is none: an input,
        a fused output's ∂E/∂out, a softmax's out)."""
        text = symbol_text(name)
        return None if text is None else self.definitions(s).get(text)

    def share(self, output: str, hidden: str, s: int) -> Expr | None:
        """∂E_o1/∂out_h1, one output's share: the term of the sum ∂E/∂out_h1 that goes through o1."""
        return share_of(self.definitions(s).get(f"∂E/∂out_{hidden}"), output)

    def targets(self, s: int) -> dict:
        """t_o1, … of sample s by symbol text (known, never claimed)."""
        key = ("targets", s)
        if key not in self.cache:
            last = self.d.L - 1
            self.cache[key] = {f"t_{self.d.names.neuron(last, j)}": t for j, t in enumerate(self.trace.samples[s].target)}
        return self.cache[key]

    def chain(self, label: str):
        """The derivation's chain of a parameter's gradient (each sample's δ form, how they combine)."""
        if label not in self._chains:
            where = self.d.locate(label)
            if where is None:
                raise KeyError(label)
            self._chains[label] = self.d.chain(where.layer, where.kind, where.j, where.i)
        return self._chains[label]

    def sample_forms(self, label: str) -> list[Expr]:
        """Each sample's share of ∂E/∂label as the chain writes it: δ_h1·i1 (a weight), δ_h1 (a bias),
        δ_h1 + δ_h2 (a shared bias)."""
        return [sc.delta_form for sc in self.chain(label).samples]

    def combine(self, terms_by_sample: list[float], reduction: str | None = None) -> float:
        """The gradient from each sample's term: Σ_s, or (1/n)·Σ_s, as the chain combines them (or as
        ``reduction`` says)."""
        reduction = reduction or self.trace.reduction
        return math.fsum(terms_by_sample) / (1 if reduction == "sum" else len(terms_by_sample))
