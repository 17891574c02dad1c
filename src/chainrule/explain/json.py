"""The JSON contract of ``chainrule explain --format json``:

{"steps": [{"step", "epoch", "samples": [{"index", "input", "target", "layers": [{"net", "out"}],
"errors", "loss", "deltas"}], "gradients": [{"weights", "bias"}], "learning_rate", "reduction",
"loss", "frozen", "parameters_before", "parameters_after", "loss_before", "loss_after",
"chains": [{"parameter", "gradient", "combined_by", "samples": [{"index", "term", "delta_form",
"paths": [{"factors": [{"symbol", "value"}], "product"}] or null}]}]}]}

plus, for momentum, weight decay or Adam, "optimizer": {"name", settings…, "before", "after"}.
A number that is not finite (a step whose sums overflow) is null: JSON has no inf or NaN, and the text
formats show the step with its inf.
"""

from __future__ import annotations

import json
import math

from .chains import chains_as_data


def render_json(traces, parameter: str | None = None, description: str = "") -> str:
    """Each step's plain data with every gradient's chain (or, with ``parameter``, that one's), after the
    example's ``description`` when there is one."""
    steps = []
    for trace in traces:
        step = trace.as_dict()
        step["chains"] = chains_as_data(trace, parameter)
        steps.append(step)
    document = {**({"description": description} if description else {}), "steps": finite_or_null(steps)}
    return json.dumps(document, indent=1, allow_nan=False)


def finite_or_null(value):
    """The plain data with each non-finite float as None (walked without recursion limits' surprises: a
    trace nests a few levels)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: finite_or_null(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite_or_null(v) for v in value]
    return value
