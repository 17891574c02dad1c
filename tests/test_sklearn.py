"""chainrule.sklearn's estimators: scikit-learn's own check_estimator (the oracle for its conventions),
Pipeline and GridSearchCV(n_jobs=2), and numbers against scikit-learn's metrics (log_loss, r2_score)."""

import warnings

import numpy as np
import pytest

sklearn = pytest.importorskip("sklearn")
from sklearn.datasets import load_iris                      # noqa: E402
from sklearn.metrics import log_loss, r2_score              # noqa: E402
from sklearn.model_selection import GridSearchCV            # noqa: E402
from sklearn.pipeline import make_pipeline                  # noqa: E402
from sklearn.preprocessing import StandardScaler            # noqa: E402
from sklearn.utils.estimator_checks import check_estimator  # noqa: E402

from chainrule.sklearn import MLPClassifier, MLPRegressor   # noqa: E402

# the one check not run, and why: it needs SCIPY_ARRAY_API and array-api-strict, and chainrule computes in numpy
SKIPPED = {"check_array_api_input"}


@pytest.mark.parametrize("estimator", [MLPClassifier(), MLPRegressor()], ids=lambda e: type(e).__name__)
def test_check_estimator_passes(estimator):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = check_estimator(estimator, on_fail=None)
    failed = [(r["check_name"], str(r["exception"])[:200]) for r in results if r["status"] == "failed"]
    assert failed == []
    assert {r["check_name"] for r in results if r["status"] == "skipped"} <= SKIPPED
    assert len(results) > 50


def test_a_pipeline_in_grid_search_on_two_processes():
    x, y = load_iris(return_X_y=True)
    names = np.array(["setosa", "versicolor", "virginica"])[y]         # string labels
    pipeline = make_pipeline(StandardScaler(), MLPClassifier(hidden_layer_sizes=(8,), epochs=60, batch=16,
                                                             learning_rate=0.01, random_state=0))
    search = GridSearchCV(pipeline, {"mlpclassifier__hidden_layer_sizes": [(4,), (8,)],
                                     "mlpclassifier__activation": ["tanh", "relu"]}, cv=3, n_jobs=2)
    search.fit(x, names)
    assert search.best_score_ > 0.9
    assert set(search.predict(x[:10])) <= set(names)
    classifier = search.best_estimator_[-1]
    assert classifier.classes_.tolist() == sorted(set(names)) and classifier.n_features_in_ == 4
    assert len(classifier.loss_curve_) == 60 and classifier.loss_curve_[-1] < classifier.loss_curve_[0]


def test_probabilities_and_an_explained_step_against_sklearn_log_loss():
    x, y = load_iris(return_X_y=True)
    x = StandardScaler().fit_transform(x)
    clf = MLPClassifier(hidden_layer_sizes=(5,), epochs=20, random_state=1).fit(x, y)
    p = clf.predict_proba(x)
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-12)
    assert (clf.predict(x) == p.argmax(axis=1)).all()
    before = [w.copy() for w in clf.network_.parameters()]
    step = clf.explain(x[:150], y[:150])                      # one step of the whole data (batch 150 ≤ 200)
    assert step[0].loss_before == pytest.approx(log_loss(y, p), rel=1e-12)   # mean cross-entropy = sklearn's
    for w, v in zip(clf.network_.parameters(), before):
        np.testing.assert_array_equal(w, v)                   # explaining changed nothing


def test_partial_fit_runs_one_epoch_a_call_and_needs_the_classes_first():
    x, y = load_iris(return_X_y=True)
    clf = MLPClassifier(hidden_layer_sizes=(6,), random_state=0)
    with pytest.raises(ValueError, match=r"^classes: expected every class label on the first partial_fit, got None$"):
        clf.partial_fit(x, y)
    clf.partial_fit(x[y < 2], y[y < 2], classes=[0, 1, 2])    # a class not yet seen is still a column
    clf.partial_fit(x, y)
    assert clf.n_iter_ == 2 and len(clf.loss_curve_) == 2 and clf.predict_proba(x).shape == (150, 3)
    with pytest.raises(ValueError, match=r"^y: expected labels among classes_ \[0, 1, 2\], got 7$"):
        clf.partial_fit(x[:2], [0, 7])


def test_partial_fit_carries_the_optimiser_state_so_three_calls_equal_a_fit_of_three_epochs():
    x, y = load_iris(return_X_y=True)
    settings = dict(hidden_layer_sizes=(5,), optimizer="adam", learning_rate=0.01, epochs=3, batch=16, shuffle=True,
                    random_state=0)
    whole = MLPClassifier(**settings).fit(x, y)
    calls = MLPClassifier(**settings)
    for _ in range(3):
        calls.partial_fit(x, y, classes=[0, 1, 2])
    assert calls.loss_curve_ == whole.loss_curve_
    assert all(np.array_equal(p, q) for p, q in zip(calls.network_.parameters(), whole.network_.parameters()))
    assert calls.network_.run.optimizer.t == whole.network_.run.optimizer.t == 30     # 10 batches an epoch


def test_the_regressor_fits_a_curve_and_keeps_the_shape_of_y():
    rng = np.random.default_rng(0)
    x = rng.uniform(-3, 3, (200, 1))
    y = np.sin(x[:, 0])
    reg = MLPRegressor(hidden_layer_sizes=(20,), activation="tanh", epochs=300, batch=20, learning_rate=0.01,
                       random_state=0).fit(x, y)
    assert reg.predict(x).shape == (200,)
    assert r2_score(y, reg.predict(x)) == pytest.approx(reg.score(x, y), rel=1e-12) and reg.score(x, y) > 0.95
    two = MLPRegressor(hidden_layer_sizes=(4,), epochs=5, random_state=0).fit(x, np.c_[y, -y])
    assert two.predict(x).shape == (200, 2)
    with pytest.raises(ValueError, match="X has 2 features, but MLPRegressor is expecting 1 features"):
        reg.predict(np.zeros((3, 2)))
