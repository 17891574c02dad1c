"""Network: the user-facing network — the mathematical network of the core (``core/network.py``: forward,
backward, labels, predict and score) with what the layers above it do to a network: ``fit`` (training),
``explain`` (traced steps, explained), ``save`` (model files), ``plot``, ``to_torch`` and PyTorch's
``state_dict``, and its picture in a notebook.  As Keras puts ``Model`` above ``Layer``, this class stands
above every layer it composes; every builder makes it (``core.network.builds``).  A training History's
pictures (its HTML summary and ``History.plot``) are named here the same way (``History.drawn``), so that
training imports neither the notebook's display nor matplotlib."""

from __future__ import annotations

import copy

from .core.network import BaseNetwork, builds
from .core.settings import ConfigError, Described, is_integer
from .explain import Explanation
from .explain.display import history_html, network_html
from .formats.io import save_model
from .interop import pytorch
from .training.trace import trace_steps
from .training.train import History, fit, training_config

MAX_TRACED_STEPS = 10_000      # steps one explain traces (as check's claims reach at most step 10,000)


@builds
class Network(BaseNetwork):
    """A feed-forward network: ``Network([Dense(W¹, b¹), Dense(W², b²)], loss="half_sse")``;
    ``layers[0]`` reads the inputs (its fan-in is the number of inputs), ``layers[-1]`` is the output.
    ``chainrule.mlp([2, 2, 2], …)`` builds one from layer sizes."""

    def _repr_html_(self) -> str:
        return network_html(self)

    def fit(self, x, t, config=None, *, engine: str = "auto", callback=None, fresh: bool = False, checkpoint=None,
            checkpoint_every: int = 0, threads: int | None = None, **settings):
        """Train in place on (x, t) and return the History: ``net.fit(x, t, epochs=100, learning_rate=0.5,
        batch="online")``.  Settings are TrainingConfig's (``config`` gives them all at once; keywords
        given with it replace its values).  A network that has been trained (or loaded with its run) goes on
        where its run stopped: ``epochs`` more, with the run's settings unless others are given, its
        optimiser state, shuffling and epoch count (so 2 calls of 5 epochs end where 1 of 10 does);
        ``fresh=True`` starts a new run from the current weights instead.  ``checkpoint(network)`` is called
        every ``checkpoint_every`` epochs, at the end and on Ctrl-C (after the last whole epoch), with
        ``network.run`` as it then stands: ``checkpoint=lambda net: net.save("ck.npz")``.  ``threads``: the BLAS
        threads of this call (default: chosen by the size of the work)."""
        if not isinstance(fresh, bool):
            raise ConfigError("fresh", "True or False", fresh)
        run = None if fresh else self.run
        if run is not None and config is None:
            if "epochs" not in settings and not run.remaining():
                raise ConfigError("epochs", f"how many more epochs to train (the run has ended after its "
                                            f"{run.epoch}: {run.history.stopped_because})", Described("none given"))
            settings = {"epochs": run.remaining(), **settings}
            config = run.training
        return fit(self, x, t, training_config(config, settings), callback=callback, engine=engine, resume=run,
                   checkpoint=checkpoint, checkpoint_every=checkpoint_every, threads=threads)

    def explain(self, x, t, config=None, *, steps: int = 1, apply: bool = False, **settings):
        """Trace ``steps`` training steps on (x, t) and return them as an Explanation (``.render(fmt)``;
        a notebook shows its derivation).  The network is left as it was unless ``apply=True``."""
        if not (is_integer(steps) and 1 <= steps <= MAX_TRACED_STEPS):
            raise ConfigError("steps", f"an integer from 1 to {MAX_TRACED_STEPS:,} (each step is traced number by "
                              "number)", steps)
        if not isinstance(apply, bool):
            raise ConfigError("apply", "True or False", apply)
        network = self if apply else copy.deepcopy(self)
        return Explanation(trace_steps(network, x, t, training_config(config, settings), int(steps)))

    def plot(self, x=None, ax=None):
        """The network with matplotlib (the plot extra): ``chainrule.plot.network(self, x, ax)``."""
        from . import plot
        return plot.network(self, x, ax)

    def save(self, path, name: str = "model") -> None:
        """A model file with the network's run, by suffix: .json, .npz or .safetensors (see ``io.save_model``)."""
        save_model(self, path, name)

    def to_torch(self, logits: bool = False):
        """A ``torch.nn.Sequential`` with the same outputs and gradients (the torch extra; see pytorch.py);
        ``logits=True`` leaves out a final softmax or sigmoid (for CrossEntropyLoss, BCEWithLogitsLoss)."""
        return pytorch.to_torch(self, logits)

    def state_dict(self) -> dict:
        """The parameters as numpy arrays under PyTorch's names (``0.weight``, ``0.bias``, …)."""
        return pytorch.state_dict(self)

    def load_state_dict(self, state) -> None:
        """Set the parameters from PyTorch's names (tensors or arrays), all checked before any is changed."""
        pytorch.load_state_dict(self, state)


def built(network: BaseNetwork) -> Network:
    """``network`` as the Network every builder makes (``core.network.builds``), for the type checker."""
    assert isinstance(network, Network), type(network)
    return network


def _loss_plot(history: History, ax=None, **options):
    from . import plot          # matplotlib: the plot extra, imported when a plot is asked for
    return plot.loss(history, ax, **options)


History.drawn.update(html=history_html, plot=_loss_plot)
