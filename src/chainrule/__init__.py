"""chainrule: backpropagation you can see, check and explain — and train fast.

    import chainrule as cr
    net = cr.mlp([2, 2, 1], activation="tanh", output_activation="identity", seed=0)
    history = net.fit(x, t, epochs=500, learning_rate=0.1)
    net.predict(x); net.score(x, t); net.explain(x, t).render("markdown")
"""

from .core.activations import Activation, get_activation
from .core.build import mlp
from .core.data import one_hot
from .explain import Explanation
from .formats.io import load_model, save_model
from .core.layers import Dense
from .core.losses import Loss, get_loss
from .interop.pytorch import from_torch
from .core.settings import ConfigError
from .formats.spec import Spec, SpecError, load, loads
from .training.trace import StepTrace, trace_steps
from .training.train import History, TrainingConfig, TrainingDiverged, fit

from ._example import Example, example
from ._network import Network
from ._version import __version__
from .formats import examples          # chainrule.examples.names(): the built-in examples
from .training import gradcheck        # chainrule.gradcheck.check, .cost: finite differences against backprop

__all__ = ["Activation", "ConfigError", "Dense", "Example", "Explanation", "History", "Loss", "Network", "Spec",
           "SpecError", "StepTrace", "TrainingConfig", "TrainingDiverged", "example", "fit", "from_torch", "get_activation",
           "get_loss", "load", "load_model", "loads", "mlp", "one_hot", "save_model", "trace_steps", "__version__"]
