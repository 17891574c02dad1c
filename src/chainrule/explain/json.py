"""The JSON contract of ``chainrule explain --format json``:

{"steps": [{"step", "epoch", "samples": [{"index", "input", "target", "layers": [{"net", "out"}],
"errors", "loss", "deltas"}], "gradients": [{"weights", "bias"}], "learning_rate", "reduction",
"loss", "frozen", "parameters_before", "parameters_after", "loss_before", "loss_after",
"chains": [{"parameter", "gradient", "combined_by", "samples": [{"index", "term", "delta_form",
"paths": [{"factors": [{"symbol", "value"}], "product"}] or null}]}]}]}
"""

from __future__ import annotations

import json

from .derive import chains_as_data


def render_json(traces) -> str:
    steps = []
    for trace in traces:
        step = trace.as_dict()
        step["chains"] = chains_as_data(trace)
        steps.append(step)
    return json.dumps({"steps": steps}, indent=1)
