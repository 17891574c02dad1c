"""chainrule: backpropagation you can see, check and explain — and train fast."""

from .activations import Activation, get_activation
from .layers import Dense
from .losses import Loss, get_loss
from .network import Network
from .spec import Spec, SpecError, load, loads
from .trace import StepTrace, trace_steps
from .train import History, TrainingConfig, TrainingDiverged, fit

__version__ = "0.1.0"

__all__ = ["Activation", "Dense", "History", "Loss", "Network", "Spec", "SpecError", "StepTrace",
           "TrainingConfig", "TrainingDiverged", "fit", "get_activation", "get_loss", "load", "loads",
           "trace_steps", "__version__"]
