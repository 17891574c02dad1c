"""The JSON contract of ``chainrule explain --format json``:

{"steps": [{"step", "epoch", "samples": [{"index", "input", "target", "layers": [{"net", "out"}],
"errors", "loss", "deltas"}], "gradients": [{"weights", "bias"}], "learning_rate", "reduction",
"loss", "frozen", "parameters_before", "parameters_after", "loss_before", "loss_after"}]}
"""

from __future__ import annotations

import json


def render_json(traces, title: str = "") -> str:
    return json.dumps({"steps": [t.as_dict() for t in traces]}, indent=1)
