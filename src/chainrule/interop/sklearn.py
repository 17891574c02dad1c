"""scikit-learn estimators over chainrule networks (the sklearn extra): ``MLPClassifier``, ``MLPRegressor``.

A drop-in for ``sklearn.neural_network``'s estimators of the same names: the same parameters with the
same names, meanings and defaults (``hidden_layer_sizes``, ``activation`` …, ``solver`` 'sgd' or
'adam', ``learning_rate`` 'constant', 'invscaling' or 'adaptive', ``learning_rate_init``, ``max_iter``,
``batch_size`` …, ``early_stopping``, ``n_iter_no_change``), ``fit(X, y, sample_weight=…)``,
``partial_fit`` and the same fitted attributes (``coefs_``, ``intercepts_``, ``n_layers_``,
``n_outputs_``, ``out_activation_``, ``t_``, ``loss_``, ``best_loss_``, ``loss_curve_``, ``n_iter_``,
``validation_scores_``, ``best_validation_score_``, ``classes_``) — and the same numbers: for the same
``random_state`` the fitted ``coefs_`` and ``intercepts_`` equal scikit-learn's to about 1e-12 in
float64 (tests/test_sklearn.py fits both side by side), because every rule is scikit-learn's:

* initialisation: weights then biases of each layer drawn uniform in ±√(6/(fan_in + fan_out)) (±√(2/…)
  with 'logistic') from ``check_random_state(random_state)``, which then also shuffles and splits;
* batches: the order reshuffled each epoch (``sklearn.utils.shuffle`` of the previous order), batches of
  ``batch_size`` ('auto': min(200, n)) in that order, the last one shorter;
* loss and gradient of a batch: the (weighted) mean loss plus α·½Σ‖W‖² / Σweights — weights, not
  biases, are penalised; a classifier of two classes (or several labels) has one logistic output per
  label and binary log loss, of more classes softmax and log loss; a regressor half the squared error;
* updates: chainrule's SGD and Adam in scikit-learn's form (``optim.py``, ``form="sklearn"``): SGD's
  velocity holds steps (v ← μv − ηg), Adam adds ε to √v uncorrected;
* schedule and stopping: 'invscaling' η/(t_ + 1)^power_t after each epoch (t_: samples seen), 'adaptive'
  η/5 when the loss (or validation score) has not improved by ``tol`` for ``n_iter_no_change`` epochs;
  early stopping on a held-out ``validation_fraction`` (stratified for a classifier of one output) scored
  by accuracy or R², the best parameters kept.

The forward and backward passes are chainrule's own (``Network.forward``, ``Network.deltas``,
``Network.gradients``); the fitted ``network_`` is an ordinary ``chainrule.Network`` whose weights are
``coefs_`` transposed (``coefs_[i]`` is fan_in × units as in scikit-learn, a view of the network's
units × fan_in weights). ``clf.explain(X, y)`` traces the next step of it, number by number, without
changing it; ``chainrule.sklearn.explain(pipeline, X, y)`` does so for the last step of a Pipeline,
transforming X through the steps before it. What is not done: solver 'lbfgs' and the regressor's
'poisson' loss (refused, naming scikit-learn's estimators), sparse X, and ``momentum=1`` (scikit-learn
takes [0, 1], chainrule's SGD [0, 1)). ``max_iter`` is bounded by ``train.MAX_EPOCHS`` (10,000,000).
chainrule's earlier settings of these estimators (``epochs``, ``batch``, ``learning_rate`` as a number,
``optimizer``, ``weight_decay``, ``init``, ``dtype``) gave way to scikit-learn's (``max_iter``,
``batch_size``, ``learning_rate_init``, ``solver``, ``alpha``; the initialisation is scikit-learn's and
the dtype is X's, float32 or float64).

They follow scikit-learn's conventions (parameters stored as given and checked in ``fit``) and pass
``check_estimator``. One check is skipped, ``check_array_api_input``: it runs only with SCIPY_ARRAY_API
set and array-api-strict installed, and chainrule computes in numpy.
"""

from __future__ import annotations

import copy
import math
import numbers
import warnings
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, is_classifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import accuracy_score, r2_score
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils import check_random_state
from sklearn.utils import shuffle as shuffled
from sklearn.utils.multiclass import type_of_target, unique_labels
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, column_or_1d, validate_data

from ..core.layers import Dense, check_size
from ..core.network import new_network
from ..core.optim import Adam, SGD
from ..core.settings import ConfigError, Described
from ..training.train import MAX_EPOCHS

__all__ = ["MLPClassifier", "MLPRegressor", "explain"]

# scikit-learn's activation names → chainrule's
ACTIVATIONS = {"identity": "identity", "logistic": "sigmoid", "tanh": "tanh", "relu": "relu"}
SOLVERS = {"sgd": SGD, "adam": Adam}
SCHEDULES = ("constant", "invscaling", "adaptive")


def _one_line(check, *args, **options):
    """``check(*args, **options)`` (scikit-learn's validation), its error in one line of at most 380
    characters: scikit-learn's lines joined, the data it echoes (``array=…``) left out, the rest clipped."""
    try:
        return check(*args, **options)
    except (ValueError, TypeError) as error:
        lines = [line.strip() for line in str(error).strip().splitlines() if not line.strip().startswith("array=")]
        text = " ".join(line for line in lines if line) or type(error).__name__
        raise type(error)(text if len(text) <= 380 else text[:379] + "…") from None


def _first_line(error: BaseException) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0]


def _validated(estimator, *args, **options):
    """scikit-learn's validate_data, its errors in one line."""
    return _one_line(validate_data, estimator, *args, **options)


def _integer(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))


def _real(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_)) and math.isfinite(value)


def _between(low, high=math.inf, low_open=False, high_open=False):
    return lambda v: _real(v) and (v > low if low_open else v >= low) and (v < high if high_open else v <= high)


# every parameter's check: (accepts, expected); the constructor stores values as given, fit checks them
_CHECKS: dict[str, tuple[Any, str]] = {
    "activation": (lambda v: v in ACTIVATIONS, "one of 'identity', 'logistic', 'tanh', 'relu'"),
    "alpha": (_between(0), "a finite number ≥ 0"),
    "batch_size": (lambda v: v == "auto" if isinstance(v, str) else _integer(v) and v >= 1, "'auto' or an integer ≥ 1"),
    "learning_rate": (lambda v: v in SCHEDULES, "one of 'constant', 'invscaling', 'adaptive'"),
    "learning_rate_init": (_between(0, low_open=True), "a finite number > 0"),
    "power_t": (_between(0), "a finite number ≥ 0"),
    "max_iter": (lambda v: _integer(v) and 1 <= v <= MAX_EPOCHS, f"an integer from 1 to {MAX_EPOCHS:,}"),
    "shuffle": (lambda v: isinstance(v, (bool, np.bool_)), "True or False"),
    "tol": (_between(0), "a finite number ≥ 0"),
    "verbose": (lambda v: isinstance(v, (bool, np.bool_)) or _integer(v), "True, False or an integer"),
    "warm_start": (lambda v: isinstance(v, (bool, np.bool_)), "True or False"),
    "momentum": (_between(0, 1, high_open=True), "a number in [0, 1)"),
    "nesterovs_momentum": (lambda v: isinstance(v, (bool, np.bool_)), "True or False"),
    "early_stopping": (lambda v: isinstance(v, (bool, np.bool_)), "True or False"),
    "validation_fraction": (_between(0, 1, high_open=True), "a number in [0, 1)"),
    "beta_1": (_between(0, 1, high_open=True), "a number in [0, 1)"),
    "beta_2": (_between(0, 1, high_open=True), "a number in [0, 1)"),
    "epsilon": (_between(0, low_open=True), "a finite number > 0"),
    "n_iter_no_change": (lambda v: (_integer(v) and v >= 1) or v == math.inf, "an integer ≥ 1 or numpy.inf"),
    "max_fun": (lambda v: _integer(v) and v >= 1, "an integer ≥ 1"),
}


class _MLP(BaseEstimator):
    """What both estimators share: parameters, the network, scikit-learn's training loop, prediction."""

    def __init__(self, hidden_layer_sizes=(100,), activation="relu", *, solver="adam", alpha=0.0001,
                 batch_size="auto", learning_rate="constant", learning_rate_init=0.001, power_t=0.5, max_iter=200,
                 shuffle=True, random_state=None, tol=1e-4, verbose=False, warm_start=False, momentum=0.9,
                 nesterovs_momentum=True, early_stopping=False, validation_fraction=0.1, beta_1=0.9, beta_2=0.999,
                 epsilon=1e-8, n_iter_no_change=10, max_fun=15000):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.max_fun = max_fun

    # ---- what the subclasses say ----
    def _output(self, Y: np.ndarray) -> tuple[str, str, str, str]:
        """For targets Y (n, outputs): scikit-learn's out_activation_, chainrule's output activation and loss,
        and how scikit-learn's loss combines the outputs of a sample ("sum", "mean"; "one": one class)."""
        raise NotImplementedError

    def _validate_input(self, X, y, incremental: bool, reset: bool):
        raise NotImplementedError

    def _score(self, X, y, sample_weight) -> float:
        raise NotImplementedError

    # ---- the parameters ----
    def _check_parameters(self) -> list[int]:
        """Every parameter checked (ConfigError naming it); the hidden layer sizes as a list."""
        for name, (accepts, expected) in _CHECKS.items():
            if not accepts(getattr(self, name)):
                raise ConfigError(name, expected, getattr(self, name))
        if self.solver == "lbfgs":
            raise ConfigError("solver", "'sgd' or 'adam' (chainrule has no L-BFGS; for it use "
                              "sklearn.neural_network's estimators)", "lbfgs")
        if self.solver not in SOLVERS:
            raise ConfigError("solver", "'sgd' or 'adam'", self.solver)
        given: Any = self.hidden_layer_sizes
        hidden = [given] if not hasattr(given, "__iter__") or isinstance(given, str) else list(given)
        if not all(_integer(n) and n >= 1 for n in hidden):
            raise ConfigError("hidden_layer_sizes", "sizes ≥ 1 such as (100,) or (64, 32)", given)
        return [int(n) for n in hidden]

    # ---- the fitted attributes that are views of the network ----
    @property
    def coefs_(self) -> list[np.ndarray]:
        """The weights of each layer, fan_in × units (views of ``network_``'s units × fan_in weights)."""
        if "network_" not in self.__dict__:
            raise AttributeError("coefs_")
        return [layer.weights.T for layer in self.network_.layers]

    @coefs_.setter
    def coefs_(self, coefs) -> None:
        self._set_parameters(coefs, "coefs_", lambda layer: layer.weights.T)

    @property
    def intercepts_(self) -> list[np.ndarray | None]:
        """The biases of each layer (the network's own arrays)."""
        if "network_" not in self.__dict__:
            raise AttributeError("intercepts_")
        return [layer.bias for layer in self.network_.layers]

    @intercepts_.setter
    def intercepts_(self, intercepts) -> None:
        self._set_parameters(intercepts, "intercepts_", lambda layer: layer.bias)

    def _set_parameters(self, arrays, name: str, target) -> None:
        check_is_fitted(self, "network_")
        layers = self.network_.layers
        if not isinstance(arrays, (list, tuple)) or len(arrays) != len(layers):
            raise ConfigError(name, f"a list of {len(layers)} arrays", Described(type(arrays).__name__))
        values = [np.asarray(a, dtype=self.network_.dtype) for a in arrays]
        for i, (layer, value) in enumerate(zip(layers, values)):
            if value.shape != target(layer).shape or not np.isfinite(value).all():
                raise ConfigError(f"{name}[{i}]", f"finite numbers of shape {target(layer).shape}",
                                  Described(f"shape {value.shape}"))
        for layer, value in zip(layers, values):
            target(layer)[...] = value

    # ---- fitting ----
    def fit(self, X, y, sample_weight=None):
        """Fit the network to (X, y), as scikit-learn's MLP does (``warm_start``: go on from the last fit)."""
        return self._fit(X, y, sample_weight, incremental=False)

    def _fit(self, X, y, sample_weight, incremental: bool):
        hidden = self._check_parameters()
        first = "network_" not in self.__dict__ or (not self.warm_start and not incremental)
        X, Y = self._validate_input(X, y, incremental, reset=first)
        if sample_weight is not None:
            sample_weight = _one_line(_check_sample_weight, sample_weight, X)
        Y = Y.reshape(len(Y), -1).astype(X.dtype)
        self.n_outputs_ = Y.shape[1]
        sizes = [X.shape[1], *hidden, self.n_outputs_]
        random_state = check_random_state(self.random_state)
        if first:
            self._initialize(Y, sizes, X.dtype, random_state)
        elif self.network_.inputs != X.shape[1] or self.network_.outputs != self.n_outputs_:
            raise ConfigError("y", f"{self.network_.outputs} outputs as in the earlier fit",
                              Described(f"{self.n_outputs_}"))
        self._fit_stochastic(X, Y, sample_weight, random_state, incremental)
        if not all(np.isfinite(p).all() for p in self.network_.parameters()):
            raise ValueError("the fitted weights are not finite numbers (the loss diverged): scale X to about "
                             "[-1, 1] or lower learning_rate_init")
        return self

    def _initialize(self, Y: np.ndarray, sizes: list[int], dtype, random_state) -> None:
        """scikit-learn's starting point: each layer's weights, then its biases, uniform in ±√(factor/(fan_in +
        fan_out)) (factor 2 with 'logistic', else 6), drawn from ``random_state``; the counters at zero."""
        check_size(sizes, "hidden_layer_sizes", np.dtype(dtype).itemsize)
        self.n_iter_ = 0
        self.t_ = 0
        self.n_layers_ = len(sizes)
        self.out_activation_, output, loss, self._over_outputs = self._output(Y)
        factor = 2.0 if self.activation == "logistic" else 6.0
        layers = []
        for number, (fan_in, units) in enumerate(zip(sizes, sizes[1:]), start=1):
            bound = np.sqrt(factor / (fan_in + units))
            weights = random_state.uniform(-bound, bound, (fan_in, units))
            bias = random_state.uniform(-bound, bound, units)
            activation = output if number == len(sizes) - 1 else ACTIVATIONS[self.activation]
            layers.append(Dense(weights.T, bias, activation=activation, dtype=dtype))
        self.network_ = new_network(layers, loss)
        self._best = [p.copy() for p in self.network_.parameters()]
        self.loss_curve_: list[float] = []
        self._no_improvement_count = 0
        if self.early_stopping:
            self.validation_scores_: list[float] | None = []
            self.best_validation_score_: float | None = -np.inf
            self.best_loss_: float | None = None
        else:
            self.best_loss_ = np.inf
            self.validation_scores_ = None
            self.best_validation_score_ = None

    def _new_optimizer(self):
        """chainrule's SGD or Adam in scikit-learn's form, with this estimator's settings."""
        if SOLVERS[self.solver] is SGD:
            return SGD(float(self.learning_rate_init), momentum=float(self.momentum),
                       nesterov=bool(self.nesterovs_momentum and self.momentum > 0), form="sklearn")
        return Adam(float(self.learning_rate_init), beta1=float(self.beta_1), beta2=float(self.beta_2),
                    eps=float(self.epsilon), form="sklearn")

    def _fit_stochastic(self, X, Y, sample_weight, random_state, incremental: bool) -> None:
        if not incremental or not hasattr(self, "_optimizer"):
            self._optimizer = self._new_optimizer()
        if self.early_stopping and incremental:
            raise ConfigError("early_stopping", "False with partial_fit (it holds out no validation data)", True)
        early_stopping = self.early_stopping
        X_val = y_val = weights_val = None
        weights = sample_weight
        if early_stopping:
            stratify = Y if is_classifier(self) and self.n_outputs_ == 1 else None
            arrays = (X, Y) if sample_weight is None else (X, Y, sample_weight)
            try:
                parts = train_test_split(*arrays, random_state=random_state, test_size=self.validation_fraction,
                                         stratify=stratify)
            except ValueError as error:
                raise ConfigError("validation_fraction", f"a fraction that holds out at least 2 of {len(X)} samples "
                                  f"(one of each class) for early stopping ({_first_line(error)})",
                                  self.validation_fraction) from None
            X, X_val, Y, Y_val = parts[:4]
            if sample_weight is not None:
                weights, weights_val = parts[4:]
            if len(X_val) < 2:
                raise ConfigError("validation_fraction", f"a fraction that holds out at least 2 of {len(parts[0]) + len(X_val)} "
                                  "samples for early stopping", self.validation_fraction)
            y_val = self._labels(Y_val) if is_classifier(self) else Y_val
        n = len(X)
        if self.batch_size == "auto":
            batch = min(200, n)
        else:
            if self.batch_size > n:
                warnings.warn(f"batch_size {self.batch_size} is larger than the {n} samples: batches of {n}",
                              stacklevel=4)
            batch = int(np.clip(self.batch_size, 1, n))
        order = np.arange(n)
        optimizer = self._optimizer
        scheduled = isinstance(optimizer, SGD)         # scikit-learn's Adam keeps its rate
        self.n_iter_ = 0
        with np.errstate(over="ignore", invalid="ignore"):
            for _ in range(self.max_iter):
                if self.shuffle:
                    order = shuffled(order, random_state=random_state)
                accumulated = 0.0
                for start in range(0, n, batch):
                    rows = order[start:start + batch] if self.shuffle else slice(start, start + batch)
                    loss = self._step(X[rows], Y[rows], None if weights is None else weights[rows])
                    accumulated += loss * (min(start + batch, n) - start)
                self.n_iter_ += 1
                self.loss_ = accumulated / n
                self.t_ += n
                self.loss_curve_.append(self.loss_)
                if self.verbose:
                    print("Iteration %d, loss = %.8f" % (self.n_iter_, self.loss_))
                self._update_no_improvement_count(early_stopping, X_val, y_val, weights_val)
                if scheduled and self.learning_rate == "invscaling":
                    optimizer.learning_rate = float(self.learning_rate_init) / (self.t_ + 1) ** self.power_t
                if self._no_improvement_count > self.n_iter_no_change:
                    what = "Validation score did not improve" if early_stopping else "Training loss did not improve"
                    message = f"{what} more than tol={self.tol:f} for {self.n_iter_no_change} consecutive epochs."
                    if scheduled and self.learning_rate == "adaptive" and optimizer.learning_rate > 1e-6:
                        optimizer.learning_rate /= 5.0
                        self._no_improvement_count = 0
                        if self.verbose:
                            print(message + " Setting learning rate to %f" % optimizer.learning_rate)
                    else:
                        if self.verbose:
                            print(message + " Stopping.")
                        break
                if incremental:
                    break
                if self.n_iter_ == self.max_iter:
                    warnings.warn(f"Stochastic Optimizer: Maximum iterations ({self.max_iter}) reached and the "
                                  "optimization hasn't converged yet.", ConvergenceWarning, stacklevel=4)
        if early_stopping:
            for p, best in zip(self.network_.parameters(), self._best):
                p[...] = best

    def _step(self, X, Y, weights) -> float:
        """One step on a batch: the loss before it, as scikit-learn reports it (mean loss + α·½Σ‖W‖²/Σw)."""
        network, alpha = self.network_, float(self.alpha)
        total = len(X) if weights is None else weights.sum()
        values = network.forward(X)
        last = values[-1]
        per_sample = network.loss.value(last.net, last.out, Y)
        outputs = Y.shape[1]
        if self._over_outputs == "mean":
            per_sample = per_sample / outputs       # scikit-learn's squared error: the mean over outputs
        elif self._over_outputs == "sum":
            per_sample = per_sample * outputs       # its binary log loss: the sum over outputs (bce's mean × k)
        loss = float(np.average(per_sample, weights=weights))
        squares = sum(float(np.dot(layer.weights.ravel(), layer.weights.ravel())) for layer in network.layers)
        loss += (0.5 * alpha) * squares / total
        # δ of the output = out − y for each of the three (bce's is divided by k: undone by the factor)
        scale = None if weights is None else weights
        if self._over_outputs == "sum" and outputs > 1:
            scale = np.full(len(X), float(outputs), dtype=X.dtype) if scale is None else scale * outputs
        deltas = network.deltas(Y, values, sample_weights=scale)
        gradients = network.gradients(X, values, deltas, "sum")
        for i, layer in enumerate(network.layers):
            gradients[2 * i] += alpha * layer.weights
            gradients[2 * i] /= total
            gradients[2 * i + 1] /= total
        self._optimizer.step(network.parameters(), gradients)
        return loss

    def _update_no_improvement_count(self, early_stopping: bool, X_val, y_val, weights_val) -> None:
        if early_stopping:
            assert self.validation_scores_ is not None and self.best_validation_score_ is not None
            score = self._score(X_val, y_val, weights_val)
            self.validation_scores_.append(score)
            if self.verbose:
                print("Validation score: %f" % score)
            if score < self.best_validation_score_ + self.tol:
                self._no_improvement_count += 1
            else:
                self._no_improvement_count = 0
            if score > self.best_validation_score_:
                self.best_validation_score_ = score
                self._best = [p.copy() for p in self.network_.parameters()]
        else:
            assert self.best_loss_ is not None
            if self.loss_curve_[-1] > self.best_loss_ - self.tol:
                self._no_improvement_count += 1
            else:
                self._no_improvement_count = 0
            if self.loss_curve_[-1] < self.best_loss_:
                self.best_loss_ = self.loss_curve_[-1]

    # ---- predicting ----
    def _outputs(self, X, check_input: bool = True) -> np.ndarray:
        check_is_fitted(self, "network_")
        if check_input:
            X = _validated(self, X, reset=False, dtype=[np.float64, np.float32])
        with np.errstate(over="ignore", invalid="ignore"):
            return self.network_.forward(np.asarray(X, dtype=self.network_.dtype))[-1].out

    def _labels(self, outputs):
        return outputs

    # ---- explaining ----
    def explain(self, X, y, steps: int = 1):
        """The next ``steps`` training steps of the fitted network on (X, y) — all of it one batch — traced
        number by number without changing the estimator: chainrule's SGD or Adam in scikit-learn's form,
        its state (step count, velocities or moments) and learning rate going on from the fit, the mean
        over the batch.  The L2 penalty is not part of a traced step: with ``alpha`` > 0 a warning says that
        the traced updates leave out its α·W/n (``set_params(alpha=0)`` before fitting for a step that fit
        would take exactly); sample weights are not taken."""
        from ..explain import Explanation
        from ..training.trace import Tracer
        from ..training.train import TrainingConfig
        check_is_fitted(self, "network_")
        if not (_integer(steps) and 1 <= steps <= 1000):
            raise ConfigError("steps", "an integer from 1 to 1000", steps)
        if self.alpha:
            warnings.warn(f"explain: the traced step leaves out the L2 penalty alpha={self.alpha:g} (α·W/n added to "
                          "each weight's gradient by fit); its updates differ from fit's by that term", stacklevel=2)
        X, y = _validated(self, X, y, reset=False, multi_output=True, dtype=[np.float64, np.float32])
        Y = self._targets_of(y).reshape(len(X), -1).astype(self.network_.dtype)
        optimizer = copy.deepcopy(getattr(self, "_optimizer", None) or self._new_optimizer())
        config = TrainingConfig(optimizer=optimizer.name, learning_rate=optimizer.learning_rate, reduction="mean",
                                batch="full", **optimizer.settings)
        tracer = Tracer(copy.deepcopy(self.network_), X, Y, config, optimizer=optimizer,
                        steps_before=optimizer.t, epochs_before=self.n_iter_)
        return Explanation([tracer.next() for _ in range(int(steps))])

    def _targets_of(self, y) -> np.ndarray:
        raise NotImplementedError


class MLPClassifier(ClassifierMixin, _MLP):
    """A multilayer perceptron classifier, as ``sklearn.neural_network.MLPClassifier`` (see the module):
    softmax outputs and log loss for more than two classes, one logistic output (per label) and binary
    log loss for two classes or several labels."""

    def _output(self, Y):
        if self._label_binarizer.y_type_ == "multiclass":
            return "softmax", "softmax", "cross_entropy", "one"
        return "logistic", "sigmoid", "bce", "sum"

    def _validate_input(self, X, y, incremental, reset):
        X, y = _validated(self, X, y, multi_output=True, dtype=(np.float64, np.float32), reset=reset)
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        if not hasattr(self, "classes_") or (not self.warm_start and not incremental):
            self._label_binarizer = LabelBinarizer()
            self._label_binarizer.fit(y)
            self.classes_ = self._label_binarizer.classes_
        else:
            classes = unique_labels(y)
            if self.warm_start:
                if set(classes) != set(self.classes_):
                    raise ValueError(f"y: expected the classes of the earlier fit with warm_start "
                                     f"{self.classes_.tolist()}, got {classes.tolist()}")
            elif len(np.setdiff1d(classes, self.classes_, assume_unique=True)):
                raise ValueError(f"y: expected labels among classes_ {self.classes_.tolist()}, got "
                                 f"{np.setdiff1d(classes, self.classes_).tolist()[0]!r}")
        if len(self.classes_) < 2 and type_of_target(y) != "multilabel-indicator":
            raise ValueError(f"y: expected labels of at least 2 classes, got one class ({self.classes_.tolist()[0]!r})")
        return X, self._label_binarizer.transform(y).astype(bool)

    def _targets_of(self, y) -> np.ndarray:
        if np.ndim(y) == 2 and np.shape(y)[1] == 1:
            y = column_or_1d(y)
        unseen = np.setdiff1d(unique_labels(y), self.classes_)
        if unseen.size:
            raise ValueError(f"y: expected labels among classes_ {self.classes_.tolist()}, got {unseen.tolist()[0]!r}")
        return self._label_binarizer.transform(y).astype(float)

    def partial_fit(self, X, y, sample_weight=None, classes=None):
        """One epoch on (X, y); the first call needs ``classes`` (every label there will ever be)."""
        if "network_" not in self.__dict__ or not hasattr(self, "_label_binarizer"):
            if classes is None:
                raise ValueError("classes: expected every class label on the first partial_fit, got None")
            self._label_binarizer = LabelBinarizer()
            if type_of_target(y).startswith("multilabel"):
                self._label_binarizer.fit(y)
            else:
                self._label_binarizer.fit(classes)
            self.classes_ = self._label_binarizer.classes_
        elif classes is not None and not np.array_equal(unique_labels(classes), self.classes_):
            raise ValueError(f"classes: expected the classes of the first partial_fit {self.classes_.tolist()}, "
                             f"got {unique_labels(classes).tolist()}")
        return self._fit(X, y, sample_weight, incremental=True)

    def _labels(self, outputs):
        if self.n_outputs_ == 1:
            outputs = outputs.ravel()
        return self._label_binarizer.inverse_transform(outputs)

    def predict(self, X) -> np.ndarray:
        """The class of each row (the label of the largest probability; for one output, output > 0.5)."""
        return self._labels(self._outputs(X))

    def _score(self, X, y, sample_weight) -> float:
        outputs = self._outputs(X, check_input=False)
        if not np.isfinite(outputs).all():
            return np.nan
        return float(accuracy_score(y, self._labels(outputs), sample_weight=sample_weight))

    def predict_proba(self, X) -> np.ndarray:
        """The probability of each class in ``classes_`` (two columns for one logistic output)."""
        outputs = self._outputs(X)
        if self.n_outputs_ == 1:
            p = outputs.ravel()
            return np.vstack([1 - p, p]).T
        return outputs

    def predict_log_proba(self, X) -> np.ndarray:
        """The logarithm of ``predict_proba``."""
        p = self.predict_proba(X)
        with np.errstate(divide="ignore"):
            return np.log(p, out=p)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = True
        tags.classifier_tags.multi_label = True
        return tags


class MLPRegressor(RegressorMixin, _MLP):
    """A multilayer perceptron regressor, as ``sklearn.neural_network.MLPRegressor`` (see the module):
    identity outputs trained on half the squared error. A 1-D ``y`` gives 1-D predictions."""

    def __init__(self, loss="squared_error", hidden_layer_sizes=(100,), activation="relu", *, solver="adam",
                 alpha=0.0001, batch_size="auto", learning_rate="constant", learning_rate_init=0.001, power_t=0.5,
                 max_iter=200, shuffle=True, random_state=None, tol=1e-4, verbose=False, warm_start=False,
                 momentum=0.9, nesterovs_momentum=True, early_stopping=False, validation_fraction=0.1, beta_1=0.9,
                 beta_2=0.999, epsilon=1e-8, n_iter_no_change=10, max_fun=15000):
        super().__init__(hidden_layer_sizes, activation, solver=solver, alpha=alpha, batch_size=batch_size,
                         learning_rate=learning_rate, learning_rate_init=learning_rate_init, power_t=power_t,
                         max_iter=max_iter, shuffle=shuffle, random_state=random_state, tol=tol, verbose=verbose,
                         warm_start=warm_start, momentum=momentum, nesterovs_momentum=nesterovs_momentum,
                         early_stopping=early_stopping, validation_fraction=validation_fraction, beta_1=beta_1,
                         beta_2=beta_2, epsilon=epsilon, n_iter_no_change=n_iter_no_change, max_fun=max_fun)
        self.loss = loss

    def _check_parameters(self) -> list[int]:
        if self.loss == "poisson":
            raise ConfigError("loss", "'squared_error' (chainrule has no exponential output for 'poisson'; for it "
                              "use sklearn.neural_network.MLPRegressor)", "poisson")
        if self.loss != "squared_error":
            raise ConfigError("loss", "'squared_error'", self.loss)
        return super()._check_parameters()

    def _output(self, Y):
        return "identity", "identity", "half_sse", "mean"

    def _validate_input(self, X, y, incremental, reset):
        X, y = _validated(self, X, y, multi_output=True, y_numeric=True, dtype=(np.float64, np.float32),
                             reset=reset)
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        return X, y

    def _targets_of(self, y) -> np.ndarray:
        return np.asarray(y, dtype=float)

    def partial_fit(self, X, y, sample_weight=None):
        """One epoch on (X, y) (the network is built on the first call)."""
        return self._fit(X, y, sample_weight, incremental=True)

    def predict(self, X) -> np.ndarray:
        """The outputs: 1-D for one output, else one column per output."""
        y = self._outputs(X)
        return y.ravel() if y.shape[1] == 1 else y

    def _score(self, X, y, sample_weight) -> float:
        outputs = self._outputs(X, check_input=False)
        if not np.isfinite(outputs).all():
            return np.nan
        return float(r2_score(y, outputs.ravel() if outputs.shape[1] == 1 else outputs, sample_weight=sample_weight))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = True
        return tags


def explain(estimator, X, y, steps: int = 1):
    """The next ``steps`` steps of a fitted chainrule estimator, or of the chainrule estimator ending a
    fitted ``Pipeline``, traced on (X, y): X goes through the pipeline's steps before it (their
    ``transform``) first."""
    from sklearn.pipeline import Pipeline
    if isinstance(estimator, Pipeline):
        *before, (name, last) = estimator.steps
        if not isinstance(last, _MLP):
            raise ConfigError("estimator", "a Pipeline ending in chainrule.sklearn's MLPClassifier or MLPRegressor",
                              Described(f"one ending in {type(last).__name__} ({name!r})"))
        for step_name, step in before:
            if step is None or step == "passthrough":
                continue
            if not hasattr(step, "transform"):
                raise ConfigError("estimator", "steps before the network that transform X",
                                  Described(f"step {step_name!r} ({type(step).__name__}) with no transform"))
            X = step.transform(X)
        return last.explain(X, y, steps=steps)
    if not isinstance(estimator, _MLP):
        raise ConfigError("estimator", "a chainrule.sklearn MLPClassifier or MLPRegressor, or a Pipeline ending "
                          "in one", Described(type(estimator).__name__))
    return estimator.explain(X, y, steps=steps)
