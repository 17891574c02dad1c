"""chainrule: backpropagation you can see, check and explain — and train fast.

    import chainrule as cr
    net = cr.mlp([2, 2, 1], activation="tanh", output_activation="identity", seed=0)
    history = net.fit(x, t, epochs=500, learning_rate=0.1)
    net.predict(x); net.score(x, t); net.explain(x, t).render("markdown")
"""

from .activations import Activation, get_activation
from .build import mlp
from .data import one_hot
from .examples import Example, example
from .explain import Explanation
from .io import load_model, save_model
from .layers import Dense
from .losses import Loss, get_loss
from .network import Network
from .pytorch import from_torch
from .settings import ConfigError
from .spec import Spec, SpecError, load, loads
from .trace import StepTrace, trace_steps
from .train import History, TrainingConfig, TrainingDiverged, fit

__version__ = "0.1.0"

__all__ = ["Activation", "ConfigError", "Dense", "Example", "Explanation", "History", "Loss", "Network", "Spec",
           "SpecError", "StepTrace", "TrainingConfig", "TrainingDiverged", "example", "fit", "from_torch", "get_activation",
           "get_loss", "load", "load_model", "loads", "mlp", "one_hot", "save_model", "trace_steps", "__version__"]
