"""Per-sample losses over a sample's k outputs: each one written once, as a class with every form of it.

Each loss gives, for rows of outputs ``out`` and targets ``t`` (shape (n, k)):

* ``terms(net, out, t)``  → shape (n, k): each output's share of the loss (E_o1, E_o2, …);
* ``value(net, out, t)``  → shape (n,): the loss of every sample, Σ_k of its terms;
* ``gradient(out, t)``    → shape (n, k): ∂E/∂out of every sample;
* where the loss names its ``output_activation``, ``fused_delta(net, out, t)``: ∂E/∂net directly,
  the stable form that never divides by out·(1 − out) (and ``fused_delta_into``, in place);
* the same on Python floats for the float engine (``scalar_value``, ``scalar_gradient``,
  ``scalar_fused_delta``);
* ``term_formula``, ``gradient_formula`` and ``fused_delta_formula``: the trees explanations print
  and the checker evaluates, for one output neuron's symbols out and t;
* ``mistakes(k, target_sum)``: the wrong error terms, gradients and fused deltas students write
  (wrong.py's ``Wrong``), named by ``chainrule check`` on any network that uses the loss.

The dataset loss is the reduction (sum or mean) of the per-sample values.  Adding a loss is adding
a class here.
"""

from __future__ import annotations

import math
from typing import ClassVar

import numpy as np

from .activations import log_softmax, scalar_sigmoid, scalar_softplus, sigmoid, softplus
from .expr import rewrite
from .expr import Add, Call, Expr, Frac, Mul, Neg, Num, Paren, Pow, Sub, Sym
from .settings import ConfigError
from .wrong import Wrong

Array = np.ndarray
ONE, TWO = Num(1), Num(2)
OUT, T = Sym("out"), Sym("t")       # the symbols a sentence writes

_LOSSES: dict[str, type["Loss"]] = {}


class Loss:
    """A per-sample loss; subclasses give its terms, gradient and formulas."""

    name: ClassVar[str] = ""
    output_activation: ClassVar[str | None] = None     # the output activation its fused δ assumes
    probabilities: ClassVar[bool] = False               # targets are probabilities in [0, 1] (bce, cross_entropy)

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "name" in cls.__dict__:
            _LOSSES[cls.name] = cls

    def __eq__(self, other) -> bool:
        return type(other) is type(self)

    def __hash__(self) -> int:
        return hash(self.name)

    def __repr__(self) -> str:
        return f"get_loss({self.name!r})"

    def check_targets(self, t: Array, key: str = "t") -> None:
        """Refuse targets outside the loss's domain — a probability loss given 2 or −1 would report a
        negative loss and train towards nothing: ConfigError naming the first such target."""
        if not self.probabilities or (t.size and 0 <= t.min() and t.max() <= 1):     # two passes, no temporaries
            return
        outside = np.argwhere((t < 0) | (t > 1))
        if len(outside):
            r, c = (int(i) for i in outside[0])
            raise ConfigError(key, f"targets in [0, 1] for loss {self.name} (probabilities; row {r + 1}, "
                              f"column {c + 1})", float(t[r, c]))

    # ---- arrays ----
    def terms(self, net: Array, out: Array, t: Array) -> Array:
        raise NotImplementedError

    def value(self, net: Array, out: Array, t: Array) -> Array:
        return np.sum(self.terms(net, out, t), axis=-1)

    def gradient(self, out: Array, t: Array) -> Array:
        raise NotImplementedError

    def value_at_classes(self, out: Array, rows: Array, classes: Array) -> Array | None:
        """The per-sample values for one-hot targets of ``classes``, read off the outputs where that is cheaper
        than ``value``; None when not (the default)."""
        return None

    @property
    def fused(self) -> bool:
        """Whether ∂E/∂net is differentiated through the output activation in one stable step."""
        return self.output_activation is not None

    def fused_delta(self, net: Array, out: Array, t: Array) -> Array:
        raise NotImplementedError

    def fused_delta_into(self, net: Array, out: Array, t: Array, d: Array, targets_sum_to_one: bool) -> Array:
        d[...] = self.fused_delta(net, out, t)
        return d

    # ---- Python floats: one sample's outputs ----
    def scalar_value(self, nets: list, outs: list, t: list) -> float:
        return float(self.value(np.array([nets]), np.array([outs]), np.array([t]))[0])

    def scalar_gradient(self, out: float, t: float, k: int) -> float:
        raise NotImplementedError

    def scalar_fused_delta(self, nets: list, outs: list, t: list, target_sum: float) -> list:
        return self.fused_delta(np.array([nets]), np.array([outs]), np.array([t]))[0].tolist()

    # ---- symbols, for one output neuron: out, t (and net) its symbols, k the number of outputs ----
    def term_formula(self, out: Expr, t: Expr, k: int) -> Expr:
        raise NotImplementedError

    def gradient_formula(self, out: Expr, t: Expr, k: int) -> Expr:
        raise NotImplementedError

    def fused_delta_formula(self, out: Expr, t: Expr, k: int, target_sum: float) -> Expr:
        raise NotImplementedError

    # ---- the wrong forms students write (chainrule check names them) ----
    def mistakes(self, k: int, target_sum: float = 1.0, fused: bool | None = None) -> list[Wrong]:
        """The wrong forms of this loss with k outputs (targets summing to target_sum; ``fused``: δ worked
        in one step with its output activation, as it is by default): the sign of its gradient, and the
        class's own (``own_mistakes``)."""
        if self.fused if fused is None else fused:
            flipped = Wrong("sign", f"δ of {self.name} with {self.output_activation} is "
                            f"{self.fused_delta_formula(OUT, T, k, target_sum).text()}, not its negative (t − out)",
                            "delta", lambda out, t, k: negated(self.fused_delta_formula(out, t, k, target_sum)))
        else:
            flipped = Wrong("sign", "the sign of ∂E/∂out flipped: out − t written as t − out", "gradient",
                            lambda out, t, k: negated(self.gradient_formula(out, t, k)))
        fused = flipped.part == "delta"
        return [flipped, *(w for w in self.own_mistakes(k, target_sum) if w.part != ("gradient" if fused else "delta"))]

    def own_mistakes(self, k: int, target_sum: float) -> list[Wrong]:
        """The wrong forms particular to this loss (each class lists its own)."""
        return []

    def wrong(self, id: str, part: str, form, why: str = "", k: int = 2, target_sum: float = 1.0) -> Wrong:
        """A wrong E_o ("term"), ∂E/∂out ("gradient") or fused δ ("delta"), its sentence "right, not wrong"."""
        right = {"term": lambda: self.term_formula(OUT, T, k), "gradient": lambda: self.gradient_formula(OUT, T, k),
                 "delta": lambda: self.fused_delta_formula(OUT, T, k, target_sum)}[part]()
        what = {"term": "E", "gradient": "∂E/∂out", "delta": "δ"}[part]
        return Wrong(id, f"{what} of {self.name} is {right.text()}, not {form(OUT, T, k).text()}{why}", part, form)


def negated(formula: Expr) -> Expr:
    """−formula, a negation undone: −(t − out) → t − out."""
    return formula.inner if isinstance(formula, Neg) else Neg(formula)


class SquaredError(Loss):
    """What the squared-error losses share: the residual t − out, which students square once more."""

    def own_mistakes(self, k, target_sum):
        def squared(out, t, k):
            residual = Sub(t, out)
            return rewrite(self.gradient_formula(out, t, k), lambda node: Pow(residual, 2) if node == residual else None)
        return [Wrong("squared", "the squared residual used where the residual belongs", "gradient", squared)]


class HalfSSE(SquaredError):
    """½·Σ_k (t_k − out_k)²: seed 000's E_total."""

    name = "half_sse"

    def terms(self, net, out, t):
        return 0.5 * (t - out) ** 2

    def gradient(self, out, t):
        return out - t

    def scalar_value(self, nets, outs, t):
        return sum(0.5 * (tj - oj) ** 2 for tj, oj in zip(t, outs))

    def scalar_gradient(self, out, t, k):
        return out - t

    def term_formula(self, out, t, k):
        return Mul(Frac(ONE, TWO), Pow(Sub(t, out), 2))

    def gradient_formula(self, out, t, k):
        return Neg(Sub(t, out))


    def own_mistakes(self, k, target_sum):
        return [*super().own_mistakes(k, target_sum),
                Wrong("half_forgotten", "the ½ of the squared error forgotten: E = (t − out)²", "term",
                      lambda out, t, k: Pow(Sub(t, out), 2)),
                Wrong("two_kept", "the 2 of the square's derivative kept although E has ½: ∂E/∂out = −2·(t − out)",
                      "gradient", lambda out, t, k: Mul(TWO, self.gradient_formula(out, t, k)))]

class SSE(SquaredError):
    """Σ_k (t_k − out_k)²: seed 004's sum of squared residuals."""

    name = "sse"

    def terms(self, net, out, t):
        return (t - out) ** 2

    def gradient(self, out, t):
        return 2.0 * (out - t)

    def scalar_value(self, nets, outs, t):
        return sum((tj - oj) ** 2 for tj, oj in zip(t, outs))

    def scalar_gradient(self, out, t, k):
        return 2.0 * (out - t)

    def term_formula(self, out, t, k):
        return Pow(Sub(t, out), 2)

    def gradient_formula(self, out, t, k):
        return Neg(Mul(TWO, Sub(t, out)))


    def own_mistakes(self, k, target_sum):
        return [*super().own_mistakes(k, target_sum),
                Wrong("two_dropped", "the 2 of the square's derivative dropped: ∂E/∂out = −(t − out)", "gradient",
                      lambda out, t, k: Neg(Sub(t, out))),
                self.wrong("half_added", "term", lambda out, t, k: Mul(Frac(ONE, TWO), Pow(Sub(t, out), 2)),
                           " (this loss has no ½)")]

class MSE(SquaredError):
    """(1/k)·Σ_k (t_k − out_k)²."""

    name = "mse"

    def terms(self, net, out, t):
        return (t - out) ** 2 / out.shape[-1]

    def gradient(self, out, t):
        return 2.0 * (out - t) / out.shape[-1]

    def scalar_value(self, nets, outs, t):
        k = len(outs)
        return sum((tj - oj) ** 2 / k for tj, oj in zip(t, outs))

    def scalar_gradient(self, out, t, k):
        return 2.0 * (out - t) / k

    def term_formula(self, out, t, k):
        return Frac(Pow(Sub(t, out), 2), Num(k))

    def gradient_formula(self, out, t, k):
        return Neg(Frac(Mul(TWO, Sub(t, out)), Num(k)))


    def own_mistakes(self, k, target_sum):
        return [*super().own_mistakes(k, target_sum),
                Wrong("two_dropped", "the 2 of the square's derivative dropped: ∂E/∂out = −(t − out)/k", "gradient",
                      lambda out, t, k: Neg(Frac(Sub(t, out), Num(k)))),
                self.wrong("mean_not_taken", "gradient", lambda out, t, k: Neg(Mul(TWO, Sub(t, out))),
                           " (the mean's 1/k over the outputs left out)", k),
                self.wrong("mean_not_taken", "term", lambda out, t, k: Pow(Sub(t, out), 2),
                           " (the mean's 1/k over the outputs left out)", k)]

class BCE(Loss):
    """−(1/k)·Σ_k [t_k·ln out_k + (1 − t_k)·ln(1 − out_k)] with a sigmoid output."""

    name = "bce"
    output_activation = "sigmoid"
    probabilities = True

    def terms(self, net, out, t):
        # ln σ(z) = −softplus(−z) and ln(1 − σ(z)) = −softplus(z): no log of 0, no overflow.
        return (t * softplus(-net) + (1.0 - t) * softplus(net)) / out.shape[-1]

    def gradient(self, out, t):
        return (out - t) / (out * (1.0 - out) * out.shape[-1])

    def fused_delta(self, net, out, t):
        return (sigmoid(net) - t) / out.shape[-1]

    def scalar_value(self, nets, outs, t):
        k = len(outs)
        return sum((tj * scalar_softplus(-z) + (1 - tj) * scalar_softplus(z)) / k for tj, z in zip(t, nets))

    def scalar_gradient(self, out, t, k):
        return (out - t) / (out * (1.0 - out) * k)

    def scalar_fused_delta(self, nets, outs, t, target_sum):
        k = len(outs)
        return [(scalar_sigmoid(z) - tj) / k for z, tj in zip(nets, t)]

    def term_formula(self, out, t, k):
        return Neg(Frac(Add(Mul(t, Call("ln", out)), Mul(Sub(ONE, t), Call("ln", Sub(ONE, out)))), Num(k)))

    def gradient_formula(self, out, t, k):
        return Frac(Sub(out, t), Mul(out, Sub(ONE, out), Num(k)))

    def fused_delta_formula(self, out, t, k, target_sum):
        return Frac(Sub(out, t), Num(k))


    def own_mistakes(self, k, target_sum):
        return [self.wrong("activation_factor_added", "delta",
                           lambda out, t, k: Mul(Paren(self.fused_delta_formula(out, t, k, target_sum)), out, Paren(Sub(ONE, out))),
                           " (with a sigmoid output the σ′ cancels: no out·(1 − out) factor)", k),
                self.wrong("mean_not_taken", "delta", lambda out, t, k: Sub(out, t),
                           " (the mean's 1/k over the outputs left out)", k)]

class CrossEntropy(Loss):
    """−Σ_k t_k·ln softmax_k(net) with a softmax output."""

    name = "cross_entropy"
    output_activation = "softmax"
    probabilities = True

    def terms(self, net, out, t):
        return -t * log_softmax(net)

    def gradient(self, out, t):
        return -t / out

    def fused_delta(self, net, out, t):
        # ∂/∂z_j of −Σ_k t_k ln softmax_k(z) = softmax_j(z)·Σ_k t_k − t_j
        return out * np.sum(t, axis=-1, keepdims=True) - t

    def value_at_classes(self, out: Array, rows: Array, classes: Array) -> Array | None:
        """The per-sample values for one-hot targets of ``classes``: of −Σ_k t_k·ln out_k only −ln out_c is
        left, read off the softmax outputs the forward pass made (no second log-softmax pass); None where an
        output of a target class underflowed to 0 (then ``value``, from net, gives the large finite loss)."""
        picked = out[rows, classes]
        return -np.log(picked) if picked.min() > 0 else None

    def fused_delta_into(self, net, out, t, d, targets_sum_to_one):
        if targets_sum_to_one:
            return np.subtract(out, t, out=d)
        return super().fused_delta_into(net, out, t, d, targets_sum_to_one)

    def scalar_value(self, nets, outs, t):
        top = max(nets)
        log_total = math.log(sum(math.exp(z - top) for z in nets))
        return sum(-tj * (z - top - log_total) for tj, z in zip(t, nets))

    def scalar_gradient(self, out, t, k):
        return -t / out

    def scalar_fused_delta(self, nets, outs, t, target_sum):
        return [o * target_sum - tj for o, tj in zip(outs, t)]

    def term_formula(self, out, t, k):
        return Neg(Mul(t, Call("ln", out)))

    def gradient_formula(self, out, t, k):
        return Neg(Frac(t, out))

    def fused_delta_formula(self, out, t, k, target_sum):
        return Sub(out, t) if target_sum == 1 else Sub(Mul(out, Num(target_sum)), t)


    def own_mistakes(self, k, target_sum):
        if target_sum != 1:
            return []
        return [self.wrong("activation_factor_added", "delta", lambda out, t, k: Mul(Paren(Sub(out, t)), out, Paren(Sub(ONE, out))),
                           " (with a softmax output the Jacobian cancels: no out·(1 − out) factor)", k),
                self.wrong("gradient_as_delta", "delta", lambda out, t, k: Neg(Frac(t, out)),
                           " (∂E/∂out used as δ: the softmax's Jacobian forgotten)", k),
                self.wrong("log_sign", "term", lambda out, t, k: Mul(t, Call("ln", out)), " (the minus sign dropped)", k)]

NAMES = tuple(_LOSSES)


def get_loss(name: str) -> Loss:
    if name not in _LOSSES:
        raise ConfigError("loss", f"one of {', '.join(NAMES)}", name)
    return _LOSSES[name]()


def reduce(per_sample: Array, reduction: str) -> float:
    """The dataset loss: Σ or mean of the per-sample losses (any other reduction refused, not read as mean)."""
    if reduction not in ("sum", "mean"):
        raise ConfigError("reduction", "'sum' or 'mean'", reduction)
    return float(np.sum(per_sample) if reduction == "sum" else np.mean(per_sample))
