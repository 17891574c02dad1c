"""The catalogue of classic mistakes, each a rewrite of the formula the explanation prints, and the
copying slips (digits changed, swapped, dropped or doubled; a number cut instead of rounded)."""

from __future__ import annotations

import math
from collections import ChainMap

from ..expr import D, Expr, Pow, Sub, Sym, sym
from .claims import kind_of
from .formulas import evaluate, only_term, replaced, updated, without_factor

MISTAKES = {"squared": "the squared residual used where the residual belongs",
            "no_derivative": "the activation's derivative factor left out",
            "updated_weights": "hidden deltas computed with output weights already updated"}
E = Sym("E")


def squared(formula, neuron: str):
    """∂E/∂out of an output with the squared residual (t − out)² where the residual t − out belongs: its
    formula rewritten, or None where it has no residual (bce, cross-entropy)."""
    if formula is None:
        return None
    residual = Sub(sym(f"t_{neuron}"), sym(f"out_{neuron}"))
    changed = replaced(formula, residual, Pow(residual, 2))
    return None if changed == formula else changed


def _weights_of(layer: dict) -> list[str]:
    return [label for row in layer["weight_labels"] for label in row]


def variants(checker, c, look):
    """(mistake, thunk) pairs: thunk() is what the claim would be with that classic mistake.
    Each is computed only when asked, so the claims it reads are known for each one alone."""
    st, (kind, args) = checker.steps[c.step], kind_of(c.name)
    d = st.d
    if kind in ("net", "out", "dE_dout", "delta"):
        l, j = st.locate(args[0])
        if l < 0:
            return
        s = st.sample_position(c.sample)
        definitions, known = st.definitions(s), st.targets(s)
        n = args[0]

        def value(formula):
            return lambda: evaluate(formula, look, known)
    if kind == "net":
        layer, formula = d.layers[l], definitions[f"net_{n}"]
        sources = [d.names.out(l - 1, i) for i in range(layer["fan_in"])]
        for i, own in enumerate(layer["weight_labels"][j]):
            for other in _weights_of(layer):
                if other != own:
                    yield (f"swapped indices: {other} used where {own} belongs",
                           value(replaced(formula, sym(own), sym(other))))
            for other in sources:
                if other != sources[i]:
                    yield (f"swapped indices: {other} used where {sources[i]} belongs in the term of {own}",
                           value(replaced(formula, sym(sources[i]), sym(other))))
    elif kind == "out":
        formula = definitions.get(f"out_{n}")
        for k in range(d.layers[l]["units"]):
            if k != j and formula is not None:
                net = definitions[f"net_{d.names.neuron(l, k)}"]
                yield (f"swapped indices: computed with the weights of {d.names.neuron(l, k)}",
                       value(replaced(formula, sym(f"net_{n}"), net)))
    elif kind in ("dE_dout", "delta"):
        out, net = sym(f"out_{n}"), sym(f"net_{n}")
        gradient, delta = definitions.get(f"∂E/∂out_{n}"), definitions.get(f"δ_{n}")
        is_delta = kind == "delta"
        if l == d.L - 1 and squared(gradient, n) is not None and (not is_delta or delta is not None):
            wrong = squared(gradient, n)
            yield MISTAKES["squared"], value(replaced(delta, D(E, out), wrong) if is_delta else wrong)
        if l < d.L - 1 and (not is_delta or delta is not None):
            wrong = updated(gradient, _weights_of(d.layers[l + 1]))
            yield MISTAKES["updated_weights"], value(replaced(delta, D(E, out), wrong) if is_delta else wrong)
        if is_delta and delta is not None and D(out, net) in factors(delta):
            yield MISTAKES["no_derivative"], value(without_factor(delta, D(out, net)))
    elif kind == "gradient":
        yield from gradient_variants(checker, st, args[0], look)
    elif kind == "after":
        label = args[0]
        gradients = [(None, lambda: look(f"dE_d{label}"))] + list(gradient_variants(checker, st, label, look))
        for cause, gradient in gradients:
            for sign, rate, what in ((-1, True, None), (1, True, "the update's sign flipped"),
                                     (-1, False, "the learning rate not applied"),
                                     (1, False, "the update's sign flipped and the learning rate not applied")):
                if cause is None and what is None:
                    continue
                mistake = "; ".join(m for m in (cause, what) if m)
                yield mistake, (lambda g=gradient, sign=sign, rate=rate:
                                checker.update(st, label, look(label), g(), sign, rate))


def factors(formula) -> tuple:
    """The factors of a product (the formula itself otherwise)."""
    return getattr(formula, "items", (formula,))


def gradient_variants(checker, st, label: str, look):
    which, l, j, i = st.param(label)
    d = st.d
    if which == "bias" and d.layers[l]["bias_mode"] == "shared" and d.layers[l]["units"] > 1:
        for jj in range(d.layers[l]["units"]):
            n = d.names.neuron(l, jj)
            forms = [only_term(form, sym(f"δ_{n}")) for form in st.sample_forms(label)]
            yield (f"a shared bias's gradient not summed over its neurons (δ of {n} only)",
                   lambda forms=forms: checker.gradient(st, label, look, forms=forms))
    for mistake in ("squared", "no_derivative", "updated_weights"):
        yield (MISTAKES[mistake], lambda mistake=mistake: _gradient_mistaken(checker, st, label, mistake, look))


def _gradient_mistaken(checker, st, label: str, mistake: str, look) -> float:
    deltas = mistaken_deltas(st, mistake, look)
    return math.nan if deltas is None else checker.gradient(st, label, look, known=deltas)


def mistaken_deltas(st, mistake: str, look) -> list[dict] | None:
    """Every sample's δs (by symbol text) with one classic mistake made throughout the backward pass:
    each δ's printed formula with ∂E/∂out and ∂out/∂net replaced by their own printed formulas, rewritten
    by the mistake, and evaluated output layer first from the (looked-up) outputs and the correct rest."""
    d, trace = st.d, st.trace
    last = d.L - 1
    outputs = [d.names.neuron(last, j) for j in range(d.layers[-1]["units"])]
    if mistake == "squared" and (d.fused or squared(st.definitions(0).get(f"∂E/∂out_{outputs[0]}"), outputs[0]) is None):
        return None
    if mistake == "updated_weights" and d.L < 2:
        return None
    found = []
    for s, sample in enumerate(trace.samples):
        env = d.env(s)
        known = {f"out_{o}": look(f"out_{o}", sample.index + 1) for o in outputs}
        known.update(st.targets(s))
        if mistake == "updated_weights":
            for l in range(1, d.L):
                known.update({f"{label}⁺": v for row_labels, row in zip(d.layers[l]["weight_labels"],
                                                                         trace.parameters_after[l]["weights"])
                              for label, v in zip(row_labels, row)})
        numbers = ChainMap(known, env)
        for l, trees in _backward_trees(st, s, mistake):
            if l == last and d.fused:
                known.update({text: env[text] for text in trees})
            elif d.activations[l].elementwise:
                known.update({text: _value(tree, numbers) for text, tree in trees.items()})
            else:       # a Jacobian (softmax): its δ has a Σ_k, no formula to evaluate; trees are ∂E/∂out
                neurons = [d.names.neuron(l, j) for j in range(d.layers[l]["units"])]
                grads = [_value(tree, numbers) for tree in trees.values()]
                nets, outs = [numbers[f"net_{n}"] for n in neurons], [numbers[f"out_{n}"] for n in neurons]
                values = grads if mistake == "no_derivative" else d.activations[l].scalar_backward(nets, outs, grads)
                known.update({f"δ_{n}": v for n, v in zip(neurons, values)})
        found.append(known)
    return found


def _backward_trees(st, s: int, mistake: str) -> list:
    """[(layer, {δ text: tree})] output layer first: each δ's printed formula with ∂E/∂out and ∂out/∂net
    replaced by their own printed formulas and rewritten by the mistake (built once per sample)."""
    key = ("backward", s, mistake)
    if key not in st.cache:
        d, definitions = st.d, st.definitions(s)
        last, layers = d.L - 1, []
        for l in range(last, -1, -1):
            trees: dict[str, Expr | None] = {}
            for n in (d.names.neuron(l, j) for j in range(d.layers[l]["units"])):
                if l == last and d.fused:
                    trees[f"δ_{n}"] = None
                    continue
                gradient = definitions[f"∂E/∂out_{n}"]
                if l == last and mistake == "squared":
                    gradient = squared(gradient, n)
                if l < last and mistake == "updated_weights":
                    gradient = updated(gradient, _weights_of(d.layers[l + 1]))
                if not d.activations[l].elementwise:
                    trees[f"δ_{n}"] = gradient
                    continue
                out, net = sym(f"out_{n}"), sym(f"net_{n}")
                tree = replaced(definitions[f"δ_{n}"], D(E, out), gradient)
                trees[f"δ_{n}"] = (without_factor(tree, D(out, net)) if mistake == "no_derivative"
                                   else replaced(tree, D(out, net), definitions[f"∂out_{n}/∂net_{n}"]))
            layers.append((l, trees))
        st.cache[key] = layers
    return st.cache[key]


def _value(formula, env) -> float:
    try:
        return formula.value(env)
    except (ValueError, ZeroDivisionError, OverflowError):
        return math.nan


# ---- copying slips ----------------------------------------------------------------------------------------

def digit_slip(literal: str, reference: float) -> str | None:
    """How the written number differs from the reference by a copying slip, if it does: one or two digits
    changed, two neighbours swapped, or a digit dropped or doubled (two such slips for 4+ digits)."""
    mantissa = literal.lower().split("e")[0].lstrip("+-")
    decimals = len(mantissa.split(".")[1]) if "." in mantissa else 0
    exponent = int(literal.lower().split("e")[1]) if "e" in literal.lower() else 0
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
