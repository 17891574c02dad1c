"""scikit-learn estimators over chainrule networks (the sklearn extra): ``MLPClassifier``, ``MLPRegressor``.

They follow scikit-learn's conventions — parameters stored as given and checked in ``fit``, fitted
attributes ending in ``_``, ``random_state`` — so they work in ``Pipeline``, ``GridSearchCV`` (any
joblib backend: the networks pickle in memory) and pass ``check_estimator``. One check is skipped,
``check_array_api_input``: it runs only with SCIPY_ARRAY_API set and array-api-strict installed, and
chainrule computes in numpy (inputs of other array libraries are converted by ``validate_data``).
The fitted ``network_`` is an ordinary ``chainrule.Network``: ``clf.explain(X[:1], y[:1])`` traces
one step of it, number by number, without changing it.

The settings are chainrule's own (``TrainingConfig``'s names): ``hidden_layer_sizes`` and
``activation`` build the hidden layers, the output is softmax with cross-entropy for a classifier
and identity with the ``loss`` for a regressor (mse by default); ``optimizer``, ``learning_rate``,
``epochs``, ``batch``, ``weight_decay``, ``shuffle``, ``init`` and ``dtype`` are passed on.
``partial_fit`` runs one epoch on the data it is given, going on with the run of the calls before
(the optimiser's step count and moments, the shuffling generator): three calls on the same data end
where ``fit`` with ``epochs=3`` does.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import check_classification_targets, unique_labels
from sklearn.utils.validation import check_is_fitted, column_or_1d, validate_data

from .build import mlp
from .network import Network
from .settings import ConfigError, is_integer

__all__ = ["MLPClassifier", "MLPRegressor"]


class _MLP(BaseEstimator):
    """What both estimators share: the network built from the parameters, training and prediction."""

    _output_activation = "identity"

    def __init__(self, hidden_layer_sizes=(100,), activation="relu", *, optimizer="adam", learning_rate=0.001,
                 epochs=200, batch=200, weight_decay=0.0, shuffle=True, init="xavier", dtype="float64",
                 random_state=None):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.epochs = epochs
        self.batch = batch
        self.weight_decay = weight_decay
        self.shuffle = shuffle
        self.init = init
        self.dtype = dtype
        self.random_state = random_state

    # ---- what the subclasses say ----
    def _training_loss(self) -> str:
        raise NotImplementedError

    def _targets(self, y, first: bool) -> np.ndarray:
        raise NotImplementedError

    # ---- building and training ----
    def _settings(self, epochs: int, samples: int) -> dict[str, Any]:
        """TrainingConfig's settings for the next ``epochs`` epochs on ``samples`` rows (a batch larger than
        the data is the whole data; each call's shuffling is seeded by the epochs run before it)."""
        batch = self.batch if isinstance(self.batch, str) else min(int(self.batch), samples)
        settings: dict[str, Any] = {"optimizer": self.optimizer, "learning_rate": self.learning_rate,
                                    "epochs": epochs, "batch": batch, "reduction": "mean", "shuffle": self.shuffle,
                                    "seed": self._seed + self.n_iter_}
        if self.weight_decay:
            settings["weight_decay"] = self.weight_decay
        return settings

    def _build(self, inputs: int, outputs: int, seed: int) -> Network:
        given: Any = self.hidden_layer_sizes
        hidden: list[Any] = [given] if np.isscalar(given) else list(given)
        if not all(is_integer(n) and n >= 1 for n in hidden):
            raise ConfigError("hidden_layer_sizes", "sizes ≥ 1 such as (100,) or (64, 32)", given)
        return mlp([inputs, *hidden, outputs], activation=self.activation, loss=self._training_loss(),
                   output_activation=self._output_activation, init=self.init, seed=seed, dtype=self.dtype)

    def _train(self, X, y, epochs: int, first: bool):
        X, y = validate_data(self, X, y, reset=first, dtype=[np.float64, np.float32], y_numeric=False,
                             multi_output=True)
        T = self._targets(y, first)
        seeds = check_random_state(self.random_state)
        if first:
            self._seed = int(seeds.randint(np.iinfo(np.int32).max))
            self.network_ = self._build(X.shape[1], T.shape[1], self._seed)
            self.loss_curve_: list[float] = []
            self.n_iter_ = 0
        history = self.network_.fit(X, T, **self._settings(epochs, len(X)))
        self.loss_curve_ = [*self.loss_curve_, *history.loss_history]
        self.n_iter_ += history.epochs_run
        return self

    def fit(self, X, y):
        """Build the network from the parameters and train it for ``epochs`` epochs."""
        return self._train(X, y, self.epochs, first=True)

    def _outputs(self, X) -> np.ndarray:
        check_is_fitted(self, "network_")
        X = validate_data(self, X, reset=False, dtype=[np.float64, np.float32])
        return self.network_.predict(X)

    def explain(self, X, y, steps: int = 1):
        """The next ``steps`` training steps of the fitted network on (X, y), traced without changing it."""
        check_is_fitted(self, "network_")
        X, y = validate_data(self, X, y, reset=False, multi_output=True)
        return self.network_.explain(X, self._targets(y, False), steps=steps, **self._settings(steps, len(X)))


class MLPClassifier(ClassifierMixin, _MLP):
    """A multilayer perceptron classifier: softmax outputs (one per class) trained on cross-entropy.
    ``classes_`` are the labels seen by the first ``fit`` (or given to the first ``partial_fit``)."""

    _output_activation = "softmax"

    def _training_loss(self) -> str:
        return "cross_entropy"

    def _targets(self, y, first: bool) -> np.ndarray:
        y = column_or_1d(y, warn=True)
        check_classification_targets(y)
        if first and getattr(self, "_given_classes", None) is None:
            self.classes_ = unique_labels(y)
        if len(self.classes_) < 2:
            raise ValueError(f"y: expected labels of at least 2 classes, got one class ({self.classes_.tolist()[0]!r})")
        unseen = np.setdiff1d(y, self.classes_)
        if unseen.size:
            raise ValueError(f"y: expected labels among classes_ {self.classes_.tolist()}, got {unseen.tolist()[0]!r}")
        return np.eye(len(self.classes_))[np.searchsorted(self.classes_, y)]

    def fit(self, X, y):
        self._given_classes = None
        return super().fit(X, y)

    def partial_fit(self, X, y, classes=None):
        """One epoch on (X, y); the first call needs ``classes`` (every label there will ever be)."""
        first = not hasattr(self, "network_")
        if first:
            if classes is None:
                raise ValueError("classes: expected every class label on the first partial_fit, got None")
            self._given_classes = self.classes_ = unique_labels(classes)
        return self._train(X, y, 1, first=first)

    def predict_proba(self, X) -> np.ndarray:
        """The softmax outputs: one column per class in ``classes_``."""
        return self._outputs(X)

    def predict(self, X) -> np.ndarray:
        outputs = self._outputs(X)          # first: it says "not fitted" before classes_ is missed
        return self.classes_[np.argmax(outputs, axis=1)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = True
        return tags


class MLPRegressor(RegressorMixin, _MLP):
    """A multilayer perceptron regressor: identity outputs trained on ``loss`` (mse, sse or half_sse).
    A 1-D ``y`` gives 1-D predictions; a 2-D ``y`` one column per output."""

    def __init__(self, hidden_layer_sizes=(100,), activation="relu", *, loss="mse", optimizer="adam",
                 learning_rate=0.001, epochs=200, batch=200, weight_decay=0.0, shuffle=True, init="xavier",
                 dtype="float64", random_state=None):
        super().__init__(hidden_layer_sizes, activation, optimizer=optimizer, learning_rate=learning_rate,
                         epochs=epochs, batch=batch, weight_decay=weight_decay, shuffle=shuffle, init=init,
                         dtype=dtype, random_state=random_state)
        self.loss = loss

    def _training_loss(self) -> str:
        return self.loss

    def _targets(self, y, first: bool) -> np.ndarray:
        y = np.asarray(y, dtype=np.float64)
        if first:
            self._flat = y.ndim == 1
        return y.reshape(len(y), -1)

    def partial_fit(self, X, y):
        """One epoch on (X, y) (the network is built on the first call)."""
        return self._train(X, y, 1, first=not hasattr(self, "network_"))

    def predict(self, X) -> np.ndarray:
        y = self._outputs(X)
        return y.ravel() if self._flat else y

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = True
        return tags
