"""The catalogue of the mistakes students make, each a rewrite of the step's formulas as the
explanation prints them, and the copying slips (digits changed, swapped, dropped or doubled; a number
cut instead of rounded).

A Mistake rewrites a sample's definitions (net, out, E, ∂E/∂out, ∂out/∂net, δ by symbol), a
gradient's per-sample δ form (δ_h1·i1), how the samples combine (sum or mean), or the update (its
sign, its η).  The checker recomputes a claim through the rewritten step, so a mistake made once
carries into everything computed after it.  ``catalogue(step)`` lists the mistakes that can be made in
a step; ``local`` ones (swapped indices) belong to one neuron and are tried on that neuron's claims.

Sources for the catalogue: the errata and questions around Mazur's worked example (the ½ of the
squared error forgotten or its 2 kept, the sign of ∂E/∂out, σ′ taken at net, a hidden error summed
along one path, the output weights already updated, a shared bias summed over one neuron), Nielsen's
chapter 2 (δ against ∂E/∂out; net against out in ∂net/∂w), and the usual slips of hand computation
(bias left out, indices swapped, η forgotten, sum against mean over a batch)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable

from ..expr import Add, D, Expr, Frac, Mul, Neg, Num, Pow, Sub, Sym, sym
from .formulas import only_term, replaced, terms, updated, without_factor

E = Sym("E")
HALF = Frac(Num(1), Num(2))


@dataclass(frozen=True)
class Mistake:
    """One mistake: a stable id, the sentence that names it, and what it rewrites."""

    id: str
    sentence: str
    definitions: Callable | None = None     # (step, s, {symbol: formula}) → the rewritten dict
    form: Callable | None = None            # (step, label, δ form) → the rewritten form
    combine: str | None = None              # "sum" or "mean" where the step combines the other way
    sign: float = -1.0                      # +1: p + η·g
    rate: bool = True                       # False: η left out
    neurons: frozenset = field(default_factory=frozenset)     # local: tried on these neurons' claims only
    layer: int | None = None                # where it is made, for ranking


def _each(definitions: dict, keys, change) -> dict:
    """The definitions with change(key, formula) applied to the formulas of ``keys`` (where defined)."""
    out = dict(definitions)
    for key in keys:
        if key in out:
            out[key] = change(key, out[key])
    return out


def _neurons(st, l: int) -> list[str]:
    return [st.d.names.neuron(l, j) for j in range(st.d.layers[l]["units"])]


def _weights_of(layer: dict) -> list[str]:
    return [label for row in layer["weight_labels"] for label in row]


def squared(formula, neuron: str):
    """∂E/∂out of an output with the squared residual (t − out)² where the residual t − out belongs: its
    formula rewritten, or None where it has no residual (bce, cross-entropy)."""
    if formula is None:
        return None
    residual = Sub(sym(f"t_{neuron}"), sym(f"out_{neuron}"))
    changed = replaced(formula, residual, Pow(residual, 2))
    return None if changed == formula else changed


def _flip(formula: Expr) -> Expr:
    return formula.inner if isinstance(formula, Neg) else Neg(formula)


def catalogue(st) -> list[Mistake]:
    """Every mistake that can be made in this step, fewest assumptions first (built once per step)."""
    if "catalogue" in st.cache:
        return st.cache["catalogue"]
    d = st.d
    last = d.L - 1
    outputs = _neurons(st, last)
    every = [n for l in range(d.L) for n in _neurons(st, l)]
    hidden = [n for l in range(last) for n in _neurons(st, l)]
    output_gradients = [f"∂E/∂out_{o}" for o in outputs]
    found: list[Mistake] = []

    def add(*args, **kwargs):
        found.append(Mistake(*args, **kwargs))

    # the error and its derivative at the outputs
    add("half_forgotten", "the ½ of the squared error forgotten: E = (t − out)²",
        lambda st, s, defs: _each(defs, [f"E_{o}" for o in outputs], lambda k, f: without_factor(f, HALF)))
    if not d.fused:
        add("sign", "the sign of ∂E/∂out flipped: out − t written as t − out",
            lambda st, s, defs: _each(defs, output_gradients, lambda k, f: _flip(f)))
        add("squared", "the squared residual used where the residual belongs",
            lambda st, s, defs: _each(defs, output_gradients,
                                      lambda k, f: squared(f, k.removeprefix("∂E/∂out_")) or f))
        add("two_kept", "the 2 of the square's derivative kept although E has ½: ∂E/∂out = −2·(t − out)",
            lambda st, s, defs: (_each(defs, output_gradients, lambda k, f: Mul(Num(2), f))
                                 if HALF in getattr(defs.get(f"E_{outputs[0]}"), "items", ()) else defs))
        add("two_dropped", "the 2 of the square's derivative dropped: ∂E/∂out = −(t − out)",
            lambda st, s, defs: _each(defs, output_gradients, lambda k, f: without_factor(f, Num(2))))
    # through the activations
    add("derivative_at_net", "the activation's derivative evaluated at net where out belongs",
        lambda st, s, defs: _each(defs, [f"∂out_{n}/∂net_{n}" for n in every],
                                  lambda k, f: replaced(f, sym(f"out_{k.split('/')[0][5:]}"),
                                                        sym(f"net_{k.split('/')[0][5:]}"))))
    add("no_derivative", "the activation's derivative factor left out",
        lambda st, s, defs: _each(defs, [f"δ_{n}" for n in every],
                                  lambda k, f: without_factor(f, D(sym(f"out_{k[2:]}"), sym(f"net_{k[2:]}")))))
    # back through the hidden layers
    for l in range(last):
        above = _neurons(st, l + 1)
        for m in above:
            add("one_path", f"a hidden neuron's error taken along one path only (through {m})",
                lambda st, s, defs, l=l, m=m: _each(
                    defs, [f"∂E/∂out_{n}" for n in _neurons(st, l)],
                    lambda k, f: only_term(f, next((t for t in terms(f) if sym(f"δ_{m}") in getattr(t, "items", ())),
                                                   f))), layer=l)
    if last > 0:
        add("errors_not_deltas", "the next layer's ∂E/∂out used where its δ belongs (its activation's derivative skipped)",
            lambda st, s, defs: _each(defs, [f"∂E/∂out_{n}" for n in hidden],
                                      lambda k, f: _deltas_as_errors(f)))
        add("updated_weights", "hidden deltas computed with output weights already updated",
            lambda st, s, defs: _each(defs, [f"∂E/∂out_{n}" for l in range(last) for n in _neurons(st, l)],
                                      lambda k, f: updated(f, [w for l in range(1, d.L) for w in _weights_of(d.layers[l])])))
    # the forward pass
    add("no_bias", "the bias left out of net",
        lambda st, s, defs: _each(defs, [f"net_{n}" for n in every], lambda k, f: _without_bias(st, f)))
    if last > 0:
        add("net_not_out", "the previous layer's net used where its out belongs",
            lambda st, s, defs: _each(defs, [f"net_{n}" for l in range(1, d.L) for n in _neurons(st, l)],
                                      lambda k, f: _nets_for_outs(f, hidden)))
        add("input_net_not_out", "∂net/∂w taken as the previous layer's net where its out belongs",
            form=lambda st, label, f: _nets_for_outs(f, hidden))
    # the gradient over a batch and the update
    if len(st.trace.samples) > 1:
        other = "mean" if st.trace.reduction == "sum" else "sum"
        add("mean_vs_sum", f"the batch's per-sample gradients combined by their {other} where their "
            f"{st.trace.reduction} belongs", combine=other)
    for l, layer in enumerate(d.layers):
        if layer["bias_mode"] == "shared" and layer["units"] > 1:
            for n in _neurons(st, l):
                add("shared_bias_one_neuron", f"a shared bias's gradient not summed over its neurons (δ of {n} only)",
                    form=lambda st, label, f, n=n: only_term(f, sym(f"δ_{n}")))
    add("update_sign", "the update's sign flipped", sign=1.0)
    add("no_rate", "the learning rate not applied", rate=False)
    found += _swaps(st)
    st.cache["catalogue"] = found
    return found


UPDATE_ONLY = ("update_sign", "no_rate")


def _deltas_as_errors(formula: Expr) -> Expr:
    return _rewrite_syms(formula, lambda node: D(E, Sym("out", node.sub)) if node.base == "δ" else None)


def _nets_for_outs(formula: Expr, neurons) -> Expr:
    wanted = {f"out_{n}" for n in neurons}
    return _rewrite_syms(formula, lambda node: Sym("net", node.sub) if node.text() in wanted else None)


def _rewrite_syms(formula: Expr, change) -> Expr:
    from ..expr import rewrite
    return rewrite(formula, lambda node: change(node) if isinstance(node, Sym) else None)


def _without_bias(st, formula: Expr) -> Expr:
    biases = {sym(b) for layer in st.d.layers for b in layer["bias_labels"] if b}
    if isinstance(formula, Add):
        kept = [t for t in formula.items if t not in biases]
        if len(kept) < len(formula.items):
            return kept[0] if len(kept) == 1 else Add(*kept)
    return formula


def _swaps(st) -> list[Mistake]:
    """Swapped indices, each local to one neuron: another weight or another input in its net, its out
    computed from another neuron's net."""
    d, found = st.d, list[Mistake]()
    if sum(layer["units"] * layer["fan_in"] for layer in d.layers) > 400:
        return found
    for l, layer in enumerate(d.layers):
        sources = [d.names.out(l - 1, i) for i in range(layer["fan_in"])]
        for j in range(layer["units"]):
            n = d.names.neuron(l, j)
            local = frozenset({n})

            def net_swap(old, new, n=n):
                return lambda st, s, defs: _each(defs, [f"net_{n}"], lambda k, f: replaced(f, sym(old), sym(new)))
            for k in range(layer["units"]):
                if k != j:
                    other = d.names.neuron(l, k)
                    found.append(Mistake(
                        "swapped_neuron", f"swapped indices: computed with the weights of {other}",
                        lambda st, s, defs, n=n, other=other: _each(
                            defs, [f"out_{n}"], lambda key, f: replaced(f, sym(f"net_{n}"), defs[f"net_{other}"])),
                        neurons=local))
            for i, own in enumerate(layer["weight_labels"][j]):
                for other in _weights_of(layer):
                    if other != own:
                        found.append(Mistake("swapped_weight", f"swapped indices: {other} used where {own} belongs",
                                             net_swap(own, other), neurons=local))
                for other in sources:
                    if other != sources[i]:
                        found.append(Mistake("swapped_input", f"swapped indices: {other} used where {sources[i]} "
                                             f"belongs in the term of {own}", net_swap(sources[i], other), neurons=local))
    return found


def rewritten(st, s: int, mistakes) -> dict:
    """Sample s's definitions with each mistake's rewrite applied (built once per sample and mistakes)."""
    key = ("definitions", s, tuple(m.sentence for m in mistakes))
    if key not in st.cache:
        definitions = st.definitions(s)
        for m in mistakes:
            if m.definitions is not None:
                definitions = m.definitions(st, s, definitions)
        st.cache[key] = definitions
    return st.cache[key]


def mistaken_forms(st, label: str, mistakes) -> list[Expr]:
    forms = st.sample_forms(label)
    for m in mistakes:
        if m.form is not None:
            forms = [m.form(st, label, f) for f in forms]
    return forms


def cut(literal: str, reference: float) -> str | None:
    """'cut instead of rounded: …' where the written number is the reference's digits cut, not rounded."""
    slip = digit_slip(literal, reference)
    return slip if slip and slip.startswith("cut") else None


# ---- copying slips ----------------------------------------------------------------------------------------

def digit_slip(literal: str, reference: float) -> str | None:
    """How the written number differs from the reference by a copying slip, if it does: one or two digits
    changed, two neighbours swapped, or a digit dropped or doubled (two such slips for 4+ digits)."""
    mantissa = literal.lower().split("e")[0].lstrip("+-")
    decimals = len(mantissa.split(".")[1]) if "." in mantissa else 0
    exponent_text = literal.lower().split("e")[1] if "e" in literal.lower() else "0"
    exponent = int(exponent_text) if len(exponent_text.lstrip("+-")) <= 3 else 10 ** 9
    if decimals > 30 or abs(exponent) > 300:
        return None          # no one copies 30 decimals by hand; 10^±300 and beyond over- or underflows
    written = mantissa.replace(".", "").lstrip("0")
    expected = f"{abs(reference) / 10.0 ** exponent:.{decimals}f}".replace(".", "").lstrip("0")
    if (reference < 0) != literal.strip().startswith("-") or not written or not expected:
        return None
    truncated = math.trunc(abs(reference) / 10.0 ** exponent * 10 ** decimals) / 10 ** decimals
    if written == f"{truncated:.{decimals}f}".replace(".", "").lstrip("0") and written != expected:
        return f"cut instead of rounded: {_format(reference, decimals + 3, exponent)} written as {literal}"
    distance = _damerau(written, expected)
    allowed = 2 if len(written) >= 4 else 1
    if 0 < distance <= allowed:
        return f"digit slip: written {literal} where {_format(reference, decimals, exponent)} belongs"
    return None


def _format(value: float, decimals: int, exponent: int) -> str:
    text = f"{value / 10.0 ** exponent:.{decimals}f}"
    return text + (f"e{exponent}" if exponent else "")


def _damerau(a: str, b: str) -> int:
    """Edit distance counting a swap of neighbours as one edit."""
    d = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
    for i in range(len(a) + 1):
        d[i][0] = i
    for j in range(len(b) + 1):
        d[0][j] = j
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            cost = a[i - 1] != b[j - 1]
            d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
    return d[-1][-1]
