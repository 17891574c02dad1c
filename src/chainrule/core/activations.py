"""Activation functions: each one written once, as a class that carries every form of it.

An activation maps the net input z (shape (n, units)) to out = f(z).  Its backward rule turns
∂E/∂out into ∂E/∂z:

* element-wise activations: ∂E/∂z = ∂E/∂out · f'(z)
* softmax (a whole row at once): ∂E/∂z_j = out_j · (∂E/∂out_j − Σ_k ∂E/∂out_k · out_k)

Each class gives, for everything else in chainrule to read:

* ``value(z)`` and ``derivative(z, out)`` on arrays, stable for any finite input (±1000 gives no
  warnings) — the reference engine;
* ``value_into(net, out)`` and ``derivative_times(net, out, d, spare, mask)``, the in-place forms the
  fast engine uses (by default built from the two above);
* ``scalar(z)`` and ``scalar_derivative(z, out)`` on Python floats — the float engine for tiny
  networks (by default through numpy, slower but the same numbers);
* ``formula(net)`` and ``derivative_formula(net, out)``: the trees explanations print (text,
  LaTeX, MathML) and the checker evaluates;
* ``SETTINGS``: its parameters (leaky_relu's slope, elu's alpha) with their validation;
* ``TORCH``, ``TORCH_SETTINGS``, ``TORCH_FIXED``: the ``torch.nn`` module that computes the same
  function, which of its arguments hold our settings, and the values its other arguments must have
  (pytorch.py reads them both ways; None where PyTorch has no such module);
* ``mistakes()``: the wrong forms students write for its function and its derivative (wrong.py's
  ``Wrong``), named by ``chainrule check`` on any network that uses it;
* ``onnx(g, net)``: the ONNX nodes computing out from the tensor ``net``, written with onnx.py's graph
  builder (``g.op("Exp", x)``, ``g.constant(0.5)``) in stable forms that ONNX Runtime runs in float64 too.

Adding an activation is adding a class here: the spec files, both engines, explanations, the
checker, gradcheck and the web page's build form find it in ``NAMES``.
"""

from __future__ import annotations

import functools
import math
from typing import ClassVar

import numpy as np

from .expr import Add, Call, Expr, Frac, Iverson, Mul, Num, Paren, Neg, Pow, Sub, SumOver, Sym, rewrite, symbols
from .settings import ConfigError, Setting, checked_settings, number_in
from .wrong import Wrong

Array = np.ndarray
ONE, ZERO = Num(1), Num(0)


def sigmoid(z: Array) -> Array:
    """σ(z) = 1 / (1 + e^(−z)), evaluated without overflow for large |z|."""
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def softplus(z: Array) -> Array:
    """softplus(z) = ln(1 + e^z) = max(z, 0) + ln(1 + e^(−|z|))."""
    return np.logaddexp(0.0, z)


@functools.lru_cache(maxsize=16)
def _zeros(shape: tuple, dtype) -> Array:
    """A read-only array of zeros: NumPy's elementwise loops run several times faster against an array
    of the operand's shape than against a broadcast scalar."""
    zeros = np.zeros(shape, dtype)
    zeros.flags.writeable = False
    return zeros


SHORT_ROWS = 32         # rows of up to this many entries have their max taken down the columns of a copy


def row_max(z: Array) -> Array:
    """max z of each row (the last axis), kept as a column.  Rows of a few entries (a batch's class scores) are
    reduced down the columns of a transposed copy: NumPy's reduction along short rows runs 3× (128 rows of 10)
    to 8× (10,000 rows) slower, and a max is the same number in any order."""
    if z.ndim == 2 and 0 < z.shape[1] <= SHORT_ROWS:
        return z.T.copy().max(axis=0)[:, None]
    return np.max(z, axis=-1, keepdims=True)


def softmax(z: Array) -> Array:
    """softmax_j(z) = e^(z_j − max z) / Σ_k e^(z_k − max z), row by row."""
    shifted = np.exp(z - row_max(z))
    return shifted / np.sum(shifted, axis=-1, keepdims=True)


def log_softmax(z: Array) -> Array:
    """ln softmax_j(z) = z_j − max z − ln Σ_k e^(z_k − max z), row by row."""
    shifted = z - row_max(z)
    return shifted - np.log(np.sum(np.exp(shifted), axis=-1, keepdims=True))


def scalar_sigmoid(z: float) -> float:
    """σ(z) on a float, e^x only for x ≤ 0 (no OverflowError)."""
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


def scalar_softplus(z: float) -> float:
    """ln(1 + e^z) on a float, e^x only for x ≤ 0."""
    return max(z, 0.0) + math.log1p(math.exp(-abs(z)))


def _sigma(x: Expr) -> Call:
    return Call("σ", x, scalar_sigmoid)


_ACTIVATIONS: dict[str, type["Activation"]] = {}


class Activation:
    """An element-wise activation; subclasses give ``value``, ``derivative`` and the formulas."""

    name: ClassVar[str] = ""
    SETTINGS: ClassVar[dict[str, Setting]] = {}
    elementwise: ClassVar[bool] = True
    distribution: ClassVar[bool] = False     # its outputs are a probability distribution over classes
    kinks: tuple = ()               # net values where f' jumps (finite differences across them are wrong)
    TORCH: ClassVar[str | None] = None                 # the torch.nn module of the same function
    TORCH_SETTINGS: ClassVar[dict[str, str]] = {}       # our setting → that module's argument
    TORCH_FIXED: ClassVar[dict[str, tuple]] = {}        # its other arguments: the values that give our
                                                        # function (the first one is what we write)

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "name" in cls.__dict__:        # a subclass that names itself (not one that tweaks another)
            _ACTIVATIONS[cls.name] = cls

    def __init__(self, **params):
        self.params = checked_settings(self.name, self.SETTINGS, params)
        for key, value in self.params.items():
            setattr(self, key, value)

    # ---- identity: equal when of the same kind with the same parameters (picklable, hashable) ----
    def __eq__(self, other) -> bool:
        return type(other) is type(self) and other.params == self.params

    def __hash__(self) -> int:
        return hash((self.name, tuple(sorted(self.params.items()))))

    def __repr__(self) -> str:
        settings = "".join(f", {k}={v!r}" for k, v in self.params.items())
        return f"get_activation({self.name!r}{settings})"

    def __reduce__(self):
        return (_rebuild, (self.name, self.params))

    @property
    def title(self) -> str:
        """How a reader sees it named: 'leaky_relu (slope = 0.2)'."""
        settings = ", ".join(f"{k} = {v:g}" for k, v in self.params.items())
        return f"{self.name} ({settings})" if settings else self.name

    # ---- arrays (the reference engine) ----
    def value(self, z: Array) -> Array:
        raise NotImplementedError

    def derivative(self, z: Array, out: Array) -> Array:
        """f'(z), from z and out = f(z) (whichever is cheaper)."""
        raise NotImplementedError

    def backward(self, z: Array, out: Array, grad_out: Array) -> Array:
        """∂E/∂z from ∂E/∂out (rows are samples)."""
        return grad_out * self.derivative(z, out)

    # ---- in place (the fast engine) ----
    def value_into(self, net: Array, out: Array) -> Array:
        """out = f(net) written into ``out`` where it can be; returns the array that holds out."""
        out[...] = self.value(net)
        return out

    def derivative_times(self, net: Array, out: Array, d: Array, spare: Array, mask: Array) -> Array:
        """d ⊙ f'(net) in place on d; ``spare`` (float) and ``mask`` (bool) are scratch of d's shape."""
        d[...] = self.backward(net, out, d)
        return d

    # ---- Python floats (the float engine) ----
    def scalar(self, z: float) -> float:
        return float(self.value(np.array([z]))[0])

    def scalar_derivative(self, z: float, out: float) -> float:
        return float(self.derivative(np.array([z]), np.array([out]))[0])

    def scalar_layer(self, nets: list) -> list:
        """out for a whole layer of floats."""
        f = self.scalar
        return [f(z) for z in nets]

    def scalar_backward(self, nets: list, outs: list, grads: list) -> list:
        """∂E/∂net for a whole layer of floats, from ∂E/∂out."""
        df = self.scalar_derivative
        return [g * df(z, o) for g, z, o in zip(grads, nets, outs)]

    # ---- symbols (explanations and the checker) ----
    def formula(self, net: Expr) -> Expr:
        """out = f(net) by its definition."""
        raise NotImplementedError

    def derivative_formula(self, net: Expr, out: Expr) -> Expr | None:
        """∂out/∂net as explanations write it (None where it is a Jacobian, not a number)."""
        raise NotImplementedError

    def applied(self, net: Expr) -> Expr:
        """f(net) written with the activation's name, as the seeds write out_h1 = sigmoid(net_h1)."""
        return Call(self.name, net, self.scalar)

    # ---- the wrong forms students write (chainrule check names them) ----
    def mistakes(self) -> list[Wrong]:
        """The wrong forms written for this function and its derivative: the derivative taken at net where
        out belongs, another activation's function or derivative, and the class's own (``own_mistakes``)."""
        found = []
        right = self.derivative_formula(NET, OUT)
        if right is not None and OUT.text() in symbols(right):
            found.append(self.wrong_derivative("derivative_at_net", self._derivative_at_net, " (taken at net)"))
        found += self.own_mistakes()
        for other in (cls() for name, cls in sorted(_ACTIVATIONS.items()) if name != self.name and not cls.SETTINGS):
            if not other.elementwise or other.formula(NET) == NET:
                continue        # not the identity's: net for out and f′ left out are mistakes of their own
            found.append(Wrong("other_activation", f"out = {self.name}(net), not {other.name}(net)", "value",
                               lambda net, out, error, other=other: other.formula(net)))
            if self.derivative_formula(NET, OUT) is not None:
                found.append(self.wrong_derivative("other_derivative", lambda net, out, error, other=other:
                                                   other.derivative_formula(net, out), f" ({other.name}′ used)"))
        return found

    def own_mistakes(self) -> list[Wrong]:
        """The wrong forms particular to this activation (each class lists its own)."""
        return []

    def _derivative_at_net(self, net: Expr, out: Expr, error: Expr) -> Expr:
        """f′ written in out, taken at net."""
        formula = self.derivative_formula(net, out)
        assert formula is not None, "only an activation with a derivative formula"
        return rewrite(formula, lambda node: net if node == out else None)

    def wrong_derivative(self, id: str, form, why: str = "") -> Wrong:
        """A wrong ∂out/∂net, its sentence "f′ is right, not wrong" written with net and out."""
        right = self.derivative_formula(NET, OUT)
        return Wrong(id, f"{self.name}′ is {right.text() if right is not None else 'its Jacobian'}, "
                         f"not {form(NET, OUT, ERROR).text()}{why}", "derivative", form)

    def wrong_value(self, id: str, form, why: str = "") -> Wrong:
        """A wrong out = f(net), its sentence "f(net) is right, not wrong"."""
        return Wrong(id, f"{self.name}(net) is {self.formula(NET).text()}, not {form(NET, OUT, ERROR).text()}{why}",
                     "value", form)

    # ---- ONNX (onnx.py) ----
    def onnx(self, g, net: str) -> str:
        """The name of the tensor out = f(net), after adding the nodes that compute it to the graph ``g``."""
        raise NotImplementedError(f"{self.name} has no ONNX form")


NET, OUT, ERROR = Sym("net"), Sym("out"), Sym("∂E/∂out")     # the symbols a sentence writes


def _rebuild(name: str, params: dict) -> Activation:
    return get_activation(name, **params)


class Identity(Activation):
    name = "identity"
    TORCH = "Identity"

    def value(self, z):
        return np.array(z, dtype=float, copy=True)

    def derivative(self, z, out):
        return np.ones_like(z)

    def value_into(self, net, out):
        return net

    def derivative_times(self, net, out, d, spare, mask):
        return d

    def scalar(self, z):
        return z

    def scalar_derivative(self, z, out):
        return 1.0

    def formula(self, net):
        return net

    def applied(self, net):
        """out = net: nothing to write around it."""
        return net

    def derivative_formula(self, net, out):
        return ONE

    def own_mistakes(self):
        return [self.wrong_derivative("identity_derivative_out", lambda net, out, error: out, " (out is not its slope)")]

    def onnx(self, g, net):
        return net


class Sigmoid(Activation):
    name = "sigmoid"
    TORCH = "Sigmoid"

    def value(self, z):
        return sigmoid(z)

    def derivative(self, z, out):
        return out * (1.0 - out)

    def value_into(self, net, out):
        # 1/(1 + e^(−net)); e^(−net) → inf gives 0 (overflow is silenced by fit)
        np.negative(net, out=out)
        np.exp(out, out=out)
        out += 1
        return np.reciprocal(out, out=out)

    def derivative_times(self, net, out, d, spare, mask):
        np.subtract(1, out, out=spare)
        spare *= out
        return np.multiply(d, spare, out=d)

    scalar = staticmethod(scalar_sigmoid)

    def scalar_derivative(self, z, out):
        return out * (1.0 - out)

    def formula(self, net):
        return Frac(ONE, Add(ONE, Call("exp", Mul(Num(-1), net))))

    def derivative_formula(self, net, out):
        return Mul(out, Sub(ONE, out))

    def own_mistakes(self):
        return [self.wrong_derivative("sigmoid_derivative_out", lambda net, out, error: out),
                self.wrong_derivative("sigmoid_derivative_one_minus_out", lambda net, out, error: Sub(ONE, out)),
                self.wrong_value("sigmoid_exponent_sign", lambda net, out, error: Frac(ONE, Add(ONE, Call("exp", net))),
                                 " (the exponent's sign dropped)")]

    def onnx(self, g, net):
        return g.op("Sigmoid", net)


class Tanh(Activation):
    name = "tanh"
    TORCH = "Tanh"

    def value(self, z):
        return np.tanh(z)

    def derivative(self, z, out):
        return 1.0 - out * out

    def value_into(self, net, out):
        return np.tanh(net, out=out)

    def derivative_times(self, net, out, d, spare, mask):
        np.multiply(out, out, out=spare)
        np.subtract(1, spare, out=spare)
        return np.multiply(d, spare, out=d)

    def scalar(self, z: float) -> float:
        return math.tanh(z)

    def scalar_derivative(self, z, out):
        return 1.0 - out * out

    def formula(self, net):
        return Call("tanh", net, math.tanh)

    def derivative_formula(self, net, out):
        return Sub(ONE, Pow(out, 2))

    def own_mistakes(self):
        return [self.wrong_derivative("tanh_derivative_not_squared", lambda net, out, error: Sub(ONE, out)),
                self.wrong_derivative("tanh_derivative_sign", lambda net, out, error: Add(ONE, Pow(out, 2)))]

    def onnx(self, g, net):
        return g.op("Tanh", net)


class ReLU(Activation):
    name = "relu"
    TORCH = "ReLU"
    kinks = (0.0,)

    def value(self, z):
        return np.maximum(z, 0.0)

    def derivative(self, z, out):
        return (z > 0).astype(z.dtype)

    def value_into(self, net, out):
        return np.maximum(net, _zeros(net.shape, net.dtype), out=out)    # 3× faster than against the scalar 0

    def derivative_times(self, net, out, d, spare, mask):
        return np.multiply(d, np.greater(net, 0, out=mask), out=d)

    def scalar(self, z):
        return z if z > 0 else 0.0

    def scalar_derivative(self, z, out):
        return 1.0 if z > 0 else 0.0

    def formula(self, net):
        return Mul(Iverson(net, ">", ZERO), net)

    def derivative_formula(self, net, out):
        return Iverson(net, ">", ZERO)

    def own_mistakes(self):
        return [self.wrong_derivative("relu_derivative_wrong_side", lambda net, out, error: Iverson(net, "≤", ZERO),
                                      " (1 where net ≤ 0: a negative net passes no gradient)"),
                self.wrong_derivative("relu_derivative_value", lambda net, out, error: out, " (the function itself)"),
                self.wrong_value("relu_not_clipped", lambda net, out, error: net, " (a negative net gives 0)")]

    def onnx(self, g, net):
        return g.op("Relu", net)


class LeakyReLU(Activation):
    name = "leaky_relu"
    TORCH, TORCH_SETTINGS = "LeakyReLU", {"slope": "negative_slope"}
    SETTINGS = {"slope": Setting("slope", 0.01, number_in(-math.inf), "a finite number")}
    slope: float
    kinks = (0.0,)

    def value(self, z):
        return np.where(z > 0, z, self.slope * z)

    def derivative(self, z, out):
        return np.where(z > 0, 1.0, self.slope).astype(z.dtype)

    def scalar(self, z):
        return z if z > 0 else self.slope * z

    def scalar_derivative(self, z, out):
        return 1.0 if z > 0 else self.slope

    def formula(self, net):
        return Add(Mul(Iverson(net, ">", ZERO), net), Mul(Num(self.slope), Iverson(net, "≤", ZERO), net))

    def derivative_formula(self, net, out):
        return Add(Iverson(net, ">", ZERO), Mul(Num(self.slope), Iverson(net, "≤", ZERO)))

    def own_mistakes(self):
        return [self.wrong_derivative("leaky_relu_no_slope", lambda net, out, error: Iverson(net, ">", ZERO),
                                      " (relu′: the slope left out)"),
                self.wrong_derivative("leaky_relu_derivative_wrong_side", lambda net, out, error: Add(
                    Iverson(net, "≤", ZERO), Mul(Num(self.slope), Iverson(net, ">", ZERO)))),
                self.wrong_value("leaky_relu_value_no_slope", lambda net, out, error: Mul(Iverson(net, ">", ZERO), net),
                                 " (relu: the slope left out)")]

    def onnx(self, g, net):         # max(z, 0) + slope·min(z, 0)
        return g.op("Add", g.op("Relu", net), g.op("Mul", g.constant(self.slope), g.op("Min", net, g.constant(0.0))))


class Softplus(Activation):
    name = "softplus"
    # PyTorch returns z itself above `threshold`; at 36 that differs from ln(1 + e^z) by e^−36 < ε·36
    TORCH, TORCH_FIXED = "Softplus", {"beta": (1.0,), "threshold": (36.0, 20.0)}

    def value(self, z):
        return softplus(z)

    def derivative(self, z, out):
        return sigmoid(z)

    scalar = staticmethod(scalar_softplus)

    def scalar_derivative(self, z, out):
        return scalar_sigmoid(z)

    def formula(self, net):
        return Call("ln", Add(ONE, Call("exp", net)))

    def derivative_formula(self, net, out):
        return _sigma(net)

    def own_mistakes(self):
        return [self.wrong_derivative("softplus_derivative_at_out", lambda net, out, error: _sigma(out)),
                self.wrong_derivative("softplus_derivative_sign", lambda net, out, error: _sigma(Neg(net)))]

    def onnx(self, g, net):
        """max(z, 0) + ln(1 + y), y = e^−|z|: no overflow, float64 kernels only. ONNX has no log1p, so
        ln(1 + y) is written as ln(u)·y/(u − 1) with u = 1 + y (y itself where u rounds to 1), which keeps
        its relative precision when y is tiny (Goldberg, 1991)."""
        y = g.op("Exp", g.op("Neg", g.op("Abs", net)))
        u = g.op("Add", g.constant(1.0), y)
        log1p = g.op("Where", g.op("Equal", u, g.constant(1.0)), y,
                     g.op("Div", g.op("Mul", g.op("Log", u), y), g.op("Sub", u, g.constant(1.0))))
        return g.op("Add", g.op("Relu", net), log1p)


class ELU(Activation):
    """elu(z) = z for z > 0, α·(e^z − 1) otherwise (PyTorch's ELU)."""

    name = "elu"
    TORCH, TORCH_SETTINGS = "ELU", {"alpha": "alpha"}
    SETTINGS = {"alpha": Setting("alpha", 1.0, number_in(0, low_open=True), "a finite number > 0", ("α",))}
    alpha: float

    @property
    def kinks(self) -> tuple:  # type: ignore[override]  # a property here: where f' jumps depends on α
        return () if self.alpha == 1 else (0.0,)        # f' jumps from α to 1 at 0 unless α = 1

    def value(self, z):
        return np.where(z > 0, z, self.alpha * np.expm1(np.minimum(z, 0)))

    def derivative(self, z, out):
        return np.where(z > 0, 1.0, self.alpha * np.exp(np.minimum(z, 0))).astype(z.dtype)

    def scalar(self, z):
        return z if z > 0 else self.alpha * math.expm1(z)

    def scalar_derivative(self, z, out):
        return 1.0 if z > 0 else self.alpha * math.exp(z)

    def formula(self, net):
        return Add(Mul(Iverson(net, ">", ZERO), net),
                   Mul(Num(self.alpha), Paren(Sub(Call("exp", net), ONE)), Iverson(net, "≤", ZERO)))

    def derivative_formula(self, net, out):
        return Add(Iverson(net, ">", ZERO), Mul(Num(self.alpha), Call("exp", net), Iverson(net, "≤", ZERO)))

    def own_mistakes(self):
        return [self.wrong_derivative("elu_derivative_function", lambda net, out, error: Add(
            Iverson(net, ">", ZERO), Mul(Num(self.alpha), Paren(Sub(Call("exp", net), ONE)), Iverson(net, "≤", ZERO))),
            " (the function itself below 0)")]

    def onnx(self, g, net):         # max(z, 0) + α·(e^min(z, 0) − 1)
        negative = g.op("Sub", g.op("Exp", g.op("Min", net, g.constant(0.0))), g.constant(1.0))
        return g.op("Add", g.op("Relu", net), g.op("Mul", g.constant(self.alpha), negative))


class SiLU(Activation):
    """silu(z) = z·σ(z) (also called swish; PyTorch's SiLU)."""

    name = "silu"
    TORCH = "SiLU"

    def value(self, z):
        return z * sigmoid(z)

    def derivative(self, z, out):
        s = sigmoid(z)
        return s * (1.0 + z * (1.0 - s))

    def scalar(self, z):
        return z * scalar_sigmoid(z)

    def scalar_derivative(self, z, out):
        s = scalar_sigmoid(z)
        return s * (1.0 + z * (1.0 - s))

    def formula(self, net):
        return Mul(net, _sigma(net))

    def derivative_formula(self, net, out):
        return Mul(_sigma(net), Paren(Add(ONE, Mul(net, Paren(Sub(ONE, _sigma(net)))))))

    def own_mistakes(self):
        return [self.wrong_derivative("silu_derivative_sigmoid", lambda net, out, error: _sigma(net),
                                      " (the product rule's second term left out)"),
                self.wrong_derivative("silu_derivative_sigmoid_prime", lambda net, out, error: Mul(
                    _sigma(net), Paren(Sub(ONE, _sigma(net)))), " (σ′ where silu′ belongs)")]

    def onnx(self, g, net):
        return g.op("Mul", net, g.op("Sigmoid", net))


class Softmax(Activation):
    """softmax_j(net) = e^(net_j) / Σ_k e^(net_k): a whole layer at once; output layers only."""

    name = "softmax"
    TORCH, TORCH_FIXED = "Softmax", {"dim": (-1, 1)}
    elementwise = False
    distribution = True

    def value(self, z):
        return softmax(z)

    def derivative(self, z, out):
        """The diagonal of the Jacobian, out_j·(1 − out_j) (backward uses the whole Jacobian)."""
        return out * (1.0 - out)

    def backward(self, z, out, grad_out):
        inner = np.sum(grad_out * out, axis=-1, keepdims=True)
        return out * (grad_out - inner)

    def value_into(self, net, out):
        np.subtract(net, row_max(net), out=out)
        np.exp(out, out=out)
        out /= out.sum(axis=1, keepdims=True)
        return out

    def scalar_layer(self, nets):
        top = max(nets)
        e = [math.exp(z - top) for z in nets]
        total = sum(e)
        return [v / total for v in e]

    def scalar_backward(self, nets, outs, grads):
        inner = sum(g * o for g, o in zip(grads, outs))
        return [o * (g - inner) for o, g in zip(outs, grads)]

    def formula(self, net):
        return Frac(Call("exp", net), SumOver("k", Call("exp", Sym("net", "k"))))

    def derivative_formula(self, net, out):
        return None

    def own_mistakes(self):
        diagonal = Wrong("softmax_diagonal_only", "softmax's δ_j is out_j·(∂E/∂out_j − Σ_k ∂E/∂out_k·out_k), not "
                         "∂E/∂out_j·out_j·(1 − out_j) (the Jacobian's cross terms dropped)", "delta",
                         lambda net, out, error: Mul(error, out, Paren(Sub(ONE, out))))
        return [diagonal, self.wrong_value("softmax_as_sigmoid", lambda net, out, error: _sigma(net),
                                           " (each output squashed alone, not normalised over the layer)"),
                self.wrong_value("softmax_not_normalised", lambda net, out, error: Call("exp", net),
                                 " (the division by Σ_k e^net_k left out)")]

    def onnx(self, g, net):
        return g.op("Softmax", net, axis=-1)


NAMES = tuple(sorted(_ACTIVATIONS))


def get_activation(name: str, **params) -> Activation:
    """The activation called ``name`` with its parameters (e.g. slope for leaky_relu)."""
    if name not in _ACTIVATIONS:
        raise ConfigError("activation", f"one of {', '.join(NAMES)}", name)
    return _ACTIVATIONS[name](**params)


def settings_of(name: str) -> dict[str, Setting]:
    """The parameters the activation called ``name`` takes (spec keys of its layer)."""
    return _ACTIVATIONS[name].SETTINGS


ALL_SETTINGS = sorted({key for cls in _ACTIVATIONS.values() for key in cls.SETTINGS})


def activation_params(layer: dict) -> dict:
    """The activation's own settings written in a layer table (slope, alpha, …)."""
    return {key: layer[key] for key in ALL_SETTINGS if key in layer}
