"""Save and load trained models as JSON (never pickle).

The file holds the network exactly as a spec's ``[network]`` table with explicit
weights and biases, so it is read back by the same validator as spec files.
Python writes floats with repr(), so every float64 round-trips exactly.
Files are written to a temporary name and moved into place: never half-written.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from .network import Network
from .spec import SpecError, from_dict

FORMAT = "chainrule-model"
VERSION = 1


def network_table(network: Network) -> dict:
    layers = []
    for layer in network.layers:
        entry = {"units": layer.units, "activation": layer.activation.name,
                 "weights": layer.weights.tolist(), "bias_mode": layer.bias_mode}
        if layer.activation.name == "leaky_relu":
            entry["slope"] = layer.activation.params["slope"]
        if layer.bias is not None:
            entry["bias"] = layer.bias_value()
        layers.append(entry)
    return {"inputs": network.inputs, "loss": network.loss.name, "weight_labels": network.weight_labels,
            "layers": layers}


def write_atomically(path: str | Path, text: str) -> None:
    path = Path(path)
    directory = path.parent if str(path.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def save_model(network: Network, path: str | Path, name: str = "model") -> None:
    document = {"format": FORMAT, "version": VERSION, "name": name, "network": network_table(network)}
    write_atomically(path, json.dumps(document, indent=1) + "\n")


def load_model(path: str | Path) -> Network:
    path = Path(path)
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise SpecError(f"{path}: cannot read the model: {exc.strerror or exc}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise SpecError(f"{path}: expected a chainrule model (JSON), got invalid JSON: {exc}") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        got = document.get("format") if isinstance(document, dict) else type(document).__name__
        raise SpecError(f"{path}: format: expected {FORMAT!r}, got {got!r}")
    if document.get("version") != VERSION:
        raise SpecError(f"{path}: version: expected {VERSION}, got {document.get('version')!r}")
    body = {k: v for k, v in document.items() if k not in ("format", "version")}
    return from_dict(body, str(path)).build_network()
