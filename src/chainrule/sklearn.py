"""scikit-learn estimators backed by chainrule (``interop/sklearn.py``): ``MLPClassifier``, ``MLPRegressor``
and ``explain(estimator, X, y)``, the traced steps of a fitted estimator's next training."""

from .interop.sklearn import MLPClassifier, MLPRegressor, explain

__all__ = ["MLPClassifier", "MLPRegressor", "explain"]
