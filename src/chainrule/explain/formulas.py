"""The local formulas of backpropagation, per activation and per loss, as trees.

Each builder writes a formula for one neuron in its own symbols (out_o1, net_o1, t_o1);
``substitute`` puts the numbers in.  The formulas are checked against the engine's own
functions in tests/test_explain.py, so what the reader sees is what the engine computes.
"""

from __future__ import annotations

from dataclasses import fields, is_dataclass, replace

from .math import (D, Add, Call, Expr, Frac, Iverson, Matrix, Mul, Neg, Num, Pow, Sub, Sym, _Chain,
                   sym)

ONE, TWO = Num(1), Num(2)


def substitute(expr: Expr, env: dict) -> Expr:
    """The same formula with every known symbol replaced by its number."""
    if isinstance(expr, (Sym, D)):
        key = expr.text()
        return Num(env[key]) if key in env else expr
    if isinstance(expr, _Chain):
        return type(expr)(*(substitute(item, env) for item in expr.items))
    if isinstance(expr, Matrix):
        return Matrix(tuple(tuple(substitute(cell, env) for cell in row) for row in expr.rows))
    if is_dataclass(expr):
        changes = {f.name: substitute(getattr(expr, f.name), env) for f in fields(expr)
                   if isinstance(getattr(expr, f.name), Expr)}
        return replace(expr, **changes)
    return expr


def activation_value(name: str, neuron: str) -> Expr:
    """out_n = f(net_n), written with the activation's name."""
    return Call(name, sym(f"net_{neuron}"))


def activation_derivative(name: str, params: dict, neuron: str) -> Expr | None:
    """∂out_n/∂net_n for an element-wise activation (None for softmax, whose derivative is a Jacobian)."""
    out, net = sym(f"out_{neuron}"), sym(f"net_{neuron}")
    table = {
        "identity": lambda: ONE,
        "sigmoid": lambda: Mul(out, Sub(ONE, out)),
        "tanh": lambda: Sub(ONE, Pow(out, 2)),
        "relu": lambda: Iverson(net, ">", Num(0)),
        "leaky_relu": lambda: Add(Iverson(net, ">", Num(0)),
                                  Mul(Num(params.get("slope", 0.01)), Iverson(net, "≤", Num(0)))),
        "softplus": lambda: Call("σ", net),
    }
    return table[name]() if name in table else None


def error_term(loss: str, neuron: str, k: int) -> Expr:
    """E_o: output o's share of the sample's loss."""
    out, t = sym(f"out_{neuron}"), sym(f"t_{neuron}")
    table = {
        "half_sse": lambda: Mul(Frac(ONE, TWO), Pow(Sub(t, out), 2)),
        "sse": lambda: Pow(Sub(t, out), 2),
        "mse": lambda: Frac(Pow(Sub(t, out), 2), Num(k)),
        "bce": lambda: Neg(Frac(Add(Mul(t, Call("ln", out)), Mul(Sub(ONE, t), Call("ln", Sub(ONE, out)))), Num(k))),
        "cross_entropy": lambda: Neg(Mul(t, Call("ln", out))),
    }
    return table[loss]()


def loss_gradient(loss: str, neuron: str, k: int) -> Expr:
    """∂E/∂out_o."""
    out, t = sym(f"out_{neuron}"), sym(f"t_{neuron}")
    table = {
        "half_sse": lambda: Neg(Sub(t, out)),
        "sse": lambda: Neg(Mul(TWO, Sub(t, out))),
        "mse": lambda: Neg(Frac(Mul(TWO, Sub(t, out)), Num(k))),
        "bce": lambda: Frac(Sub(out, t), Mul(out, Sub(ONE, out), Num(k))),
        "cross_entropy": lambda: Neg(Frac(t, out)),
    }
    return table[loss]()


def fused_delta(loss: str, neuron: str, k: int, target_sum: float = 1.0) -> Expr:
    """∂E/∂net_o where the loss and its output activation are differentiated together:
    (out − t)/k for bce with sigmoid, out·Σ_k t_k − t for cross-entropy with softmax."""
    out, t = sym(f"out_{neuron}"), sym(f"t_{neuron}")
    if loss == "bce":
        return Frac(Sub(out, t), Num(k))
    return Sub(out, t) if target_sum == 1 else Sub(Mul(out, Num(target_sum)), t)
