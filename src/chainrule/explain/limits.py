"""How much of a step a derivation writes out before it shortens: paths listed, samples worked in
full, and the size of network and batch beyond which a whole derivation is refused (``too_large``)
and one parameter's derivation shows only the neurons its gradient goes through."""

from __future__ import annotations

MAX_PATHS = 8       # more paths than this: the chain is shown through the next layer's δ only
MAX_SAMPLES = 8     # batch gradients list at most this many samples' terms
MAX_EXPLAINED = 2_000   # parameters; beyond this a whole derivation is pages long, and one
                        # parameter's derivation shows only the neurons its gradient goes through
MAX_EXPLAINED_TERMS = 20_000    # the same for parameters × samples in the step: a batch of 800 on a
                                # network of 337 parameters wrote 200 MB


def too_large(parameters: int, samples: int) -> str | None:
    """Why a whole derivation of a step is too long to write (None when it is not)."""
    if parameters > MAX_EXPLAINED:
        return f"expected at most {MAX_EXPLAINED:,} parameters, got {parameters:,}"
    if parameters * samples > MAX_EXPLAINED_TERMS:
        return (f"expected at most {MAX_EXPLAINED_TERMS:,} parameters × samples in the step, got "
                f"{parameters:,} × {samples:,} = {parameters * samples:,}")
    return None


__all__ = ["MAX_EXPLAINED", "MAX_EXPLAINED_TERMS", "MAX_PATHS", "MAX_SAMPLES", "too_large"]
