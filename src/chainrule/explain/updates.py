"""The update of a step: each parameter's new value by the optimiser's own equations (plain SGD,
momentum, Adam, RMSprop, …), each written symbols = numbers = value, with the optimiser's state
read from the trace."""

from __future__ import annotations

from ..core.expr import Eq, Num, Sym, num, substitute, sym
from ..core.optim import Optimizer
from ..training.trace import StepTrace
from .document import Section
from .values import StepValues


def _at(values, index: tuple):
    """values[j][i], values[j] or the value itself for index (j, i), (j,) or () of nested lists."""
    for k in index:
        values = values[k]
    return values


def optimizer_state(trace: StepTrace, which: str, l: int, kind: str, index: tuple) -> dict:
    """One parameter's optimiser state ({"v": …}, {"m": …, "v": …}, …) "before" or "after" the step;
    empty for plain SGD and before a parameter's first step."""
    if trace.optimizer is None:
        return {}
    held = trace.optimizer[which][l][kind]
    return {name: _at(values, index) for name, values in held.items()}


def _entries(layer: dict) -> list[tuple[str, str, tuple]]:
    """(label, "weights" or "bias", index) of every parameter of a layer, weights row by row, then biases."""
    entries: list[tuple[str, str, tuple]] = [(layer["weight_labels"][j][i], "weights", (j, i)) for j in range(layer["units"])
               for i in range(layer["fan_in"])]
    if layer["bias_mode"] == "shared":
        entries.append((layer["bias_labels"][0], "bias", ()))
    elif layer["bias_mode"] == "per_neuron":
        entries += [(layer["bias_labels"][j], "bias", (j,)) for j in range(layer["units"])]
    return entries


def update_equations(optimizer: Optimizer, label: str, p: float, grad: float, before: dict, after: dict,
                     new: float) -> list[Eq]:
    """One parameter's update, each of the optimiser's equations as symbols = numbers = value: the
    values are the engine's (its state after the step and p⁺), the numbers those it started from."""
    env = optimizer.environment(label, p, grad, before)
    recorded = {optimizer.state_symbol(name, label, True).text(): value for name, value in after.items()}
    recorded[sym(label, "+").text()] = new
    items = []
    for lhs, rhs, note in optimizer.equations(label, first=not before):
        value = recorded.get(lhs.text(), None)
        if value is None:
            value = rhs.value(env)
        numbers = substitute(rhs, env)
        shown = [] if optimizer.plain else [rhs]       # plain SGD: p⁺ = p − η·g with its numbers only
        parts = [lhs, *shown] + ([numbers] if numbers.text() != num(value) else [])
        items.append(Eq(parts + [Num(value)], note))
        env[lhs.text()] = value
    return items


def update_section(step: StepValues, only: str | None = None) -> Section:
    """Each parameter's update (or only one's) by the optimiser's own equations: symbols = numbers = value."""
    trace = step.trace
    optimizer = Optimizer.from_description(trace.optimizer, trace.learning_rate)
    section = Section(optimizer.heading(), [Eq([Sym("η"), Num(optimizer.learning_rate)])] +
                      [Eq([symbol, Num(value)]) for symbol, value in optimizer.settings_shown()])
    frozen = set(trace.frozen)
    after = trace.parameters_after
    where = step.locate(only) if only is not None else None

    for l, layer in enumerate(step.layers):
        if where is not None and l != where.layer:
            continue
        for label, kind, index in _entries(layer):
            if only is not None and label != only:
                continue
            old, new = _at(step.before[l][kind], index), _at(after[l][kind], index)
            if label in frozen:
                if only is not None:
                    section.items.append(Eq([sym(label, "+"), sym(label), Num(old)], "frozen"))
                continue
            grad = _at(trace.gradients[l][kind], index)
            before = optimizer_state(trace, "before", l, kind, index)
            later = optimizer_state(trace, "after", l, kind, index)
            section.items += update_equations(optimizer, label, old, grad, before, later, new)
    kept = [label for layer in step.layers for label, _, _ in _entries(layer) if label in frozen]
    if kept and only is None:
        section.items.append(f"Frozen, unchanged: {', '.join(kept)} (p⁺ = p).")
    return section


__all__ = ["optimizer_state", "update_equations", "update_section"]
