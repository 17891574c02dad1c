"""Save and load trained models as JSON or .npz (never pickle).

A JSON file holds the network exactly as a spec's ``[network]`` table with explicit
weights and biases, so it is read back by the same validator as spec files.
Python writes floats with repr(), so every float64 round-trips exactly.  An .npz file
(for large models) holds the same table without the numbers as a JSON string, and
each layer's weights and bias as arrays in their own dtype; it is read with
``allow_pickle=False``.  Files are written to a temporary name and moved into place:
never half-written.
"""

from __future__ import annotations

import io
import json
import os
import tempfile
from pathlib import Path

import numpy as np

from .network import Network
from .spec import SpecError, activation_params, from_dict

FORMAT = "chainrule-model"
VERSION = 1


def network_table(network: Network) -> dict:
    layers = []
    for layer in network.layers:
        entry = {"units": layer.units, "activation": layer.activation.name,
                 "weights": layer.weights.tolist(), "bias_mode": layer.bias_mode}
        entry.update(layer.activation.params)
        if layer.bias is not None:
            entry["bias"] = layer.bias_value()
        layers.append(entry)
    table = {"inputs": network.inputs, "loss": network.loss.name, "weight_labels": network.weight_labels,
             "layers": layers}
    if network.dtype != np.float64:
        table["dtype"] = np.dtype(network.dtype).name
    return table


def write_atomically(path: str | Path, content: str | bytes) -> None:
    path = Path(path)
    directory = path.parent if str(path.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=directory)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(content.encode("utf-8") if isinstance(content, str) else content)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def save_model(network: Network, path: str | Path, name: str = "model") -> None:
    """JSON, or .npz when the file name ends in .npz."""
    document = {"format": FORMAT, "version": VERSION, "name": name, "network": network_table(network)}
    if str(path).endswith(".npz"):
        arrays = {}
        for l, (layer, table) in enumerate(zip(network.layers, document["network"]["layers"])):
            table.pop("weights")
            table.pop("bias", None)
            arrays[f"weights_{l}"] = layer.weights
            if layer.bias is not None:
                arrays[f"bias_{l}"] = layer.bias
        buffer = io.BytesIO()
        np.savez(buffer, model=np.array(json.dumps(document)), **arrays)
        write_atomically(path, buffer.getvalue())
        return
    write_atomically(path, json.dumps(document, indent=1) + "\n")


def _load_npz(path: Path) -> Network:
    try:
        with np.load(path, allow_pickle=False) as archive:
            document = json.loads(str(archive["model"]))
            layers = document.get("network", {}).get("layers", [])
            for l, table in enumerate(layers):
                table["weights"] = archive[f"weights_{l}"]
                if f"bias_{l}" in archive:
                    table["bias"] = archive[f"bias_{l}"]
    except (OSError, ValueError, KeyError, json.JSONDecodeError) as exc:
        raise SpecError(f"{path}: expected a chainrule model (.npz), got an unreadable file: {exc}") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise SpecError(f"{path}: format: expected {FORMAT!r}, got {document.get('format')!r}")
    from .layers import Dense
    try:
        net = document["network"]
        dense = [Dense(t["weights"], t.get("bias"), activation=t["activation"], bias_mode=t["bias_mode"],
                       dtype=np.asarray(t["weights"]).dtype, **activation_params(t)) for t in net["layers"]]
        return Network(net["inputs"], dense, net["loss"], net.get("weight_labels", "row"))
    except (KeyError, TypeError, ValueError) as exc:
        raise SpecError(f"{path}: network: expected a valid network, got {exc}") from None


def load_model(path: str | Path) -> Network:
    path = Path(path)
    if path.suffix == ".npz":
        return _load_npz(path)
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
