"""The JSON contract of ``chainrule explain --format json``:

{"steps": [{"step", "epoch", "samples": [{"index", "input", "target", "layers": [{"net", "out"}],
"errors", "loss", "deltas"}], "gradients": [{"weights", "bias"}], "learning_rate", "reduction",
"loss", "frozen", "parameters_before", "parameters_after", "loss_before", "loss_after",
"chains": [{"parameter", "gradient", "combined_by", "samples": [{"index", "term", "delta_form",
"paths": [{"factors": [{"symbol", "value"}], "product"}] or null}]}]}]}

plus, for momentum, weight decay or Adam, "optimizer": {"name", settings…, "before", "after"}.
"""

from __future__ import annotations

import json

from .chains import chains_as_data


def render_json(traces, parameter: str | None = None, description: str = "") -> str:
    """Each step's plain data with every gradient's chain (or, with ``parameter``, that one's), after the
    example's ``description`` when there is one."""
    steps = []
    for trace in traces:
        step = trace.as_dict()
        step["chains"] = chains_as_data(trace, parameter)
        steps.append(step)
    return json.dumps({**({"description": description} if description else {}), "steps": steps}, indent=1)
