"""chainrule.sklearn's estimators: scikit-learn's own MLP as the oracle (the same parameters fitted side by
side give the same coefs_, intercepts_, loss_curve_, n_iter_ and validation_scores_), scikit-learn's
check_estimator for its conventions, its optimisers for chainrule's optimisers in form="sklearn",
Pipeline and GridSearchCV(n_jobs=2), and scikit-learn's metrics (log_loss) for an explained step."""

import pickle
import warnings

import numpy as np
import pytest

sklearn = pytest.importorskip("sklearn")
from sklearn import neural_network                          # noqa: E402
from sklearn.datasets import load_iris                      # noqa: E402
from sklearn.metrics import log_loss                        # noqa: E402
from sklearn.model_selection import GridSearchCV            # noqa: E402
from sklearn.neural_network._stochastic_optimizers import AdamOptimizer, SGDOptimizer  # noqa: E402
from sklearn.pipeline import make_pipeline                  # noqa: E402
from sklearn.preprocessing import StandardScaler            # noqa: E402
from sklearn.utils.estimator_checks import check_estimator  # noqa: E402

import chainrule.sklearn as crs                             # noqa: E402
from chainrule.core.optim import SGD, Adam                  # noqa: E402
from chainrule.sklearn import MLPClassifier, MLPRegressor   # noqa: E402

# the checks not run, and why: array-api needs SCIPY_ARRAY_API and array-api-strict (chainrule computes in
# numpy); the decision_function one because, like scikit-learn's MLP, the classifier has none
SKIPPED = {"check_array_api_input", "check_classifiers_multilabel_output_format_decision_function"}
TOLERANCE = 1e-8          # the acceptance bound; measured differences are 0 to ~1e-14 in float64


@pytest.fixture(scope="module")
def iris():
    x, y = load_iris(return_X_y=True)
    return StandardScaler().fit_transform(x), y


@pytest.fixture(scope="module")
def regression():
    rng = np.random.default_rng(0)
    x = rng.uniform(-2, 2, (120, 3))
    y = np.c_[np.sin(x[:, 0]) + x[:, 1] * x[:, 2], np.cos(x[:, 1])]
    return x, y


def fitted_pair(kind, x, y, sample_weight=None, **params):
    """scikit-learn's estimator and chainrule's, fitted on the same data with the same parameters."""
    ours = {"classifier": MLPClassifier, "regressor": MLPRegressor}[kind](**params)
    theirs = {"classifier": neural_network.MLPClassifier, "regressor": neural_network.MLPRegressor}[kind](**params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")           # ConvergenceWarning, from both
        fit = {} if sample_weight is None else {"sample_weight": sample_weight}
        theirs.fit(x, y, **fit)
        ours.fit(x, y, **fit)
    return theirs, ours


def assert_same_fit(theirs, ours, x):
    assert len(ours.coefs_) == len(theirs.coefs_)
    for a, b in zip([*theirs.coefs_, *theirs.intercepts_], [*ours.coefs_, *ours.intercepts_]):
        assert a.shape == b.shape
        np.testing.assert_allclose(b, a, rtol=0, atol=TOLERANCE)
    assert ours.n_iter_ == theirs.n_iter_ and ours.t_ == theirs.t_
    np.testing.assert_allclose(ours.loss_curve_, theirs.loss_curve_, rtol=1e-10, atol=0)
    for name in ("n_layers_", "n_outputs_", "out_activation_"):
        assert getattr(ours, name) == getattr(theirs, name), name
    if theirs.validation_scores_ is None:
        assert ours.validation_scores_ is None and ours.best_validation_score_ is None
        assert ours.best_loss_ == pytest.approx(theirs.best_loss_, rel=1e-10)
    else:
        np.testing.assert_allclose(ours.validation_scores_, theirs.validation_scores_, rtol=1e-12)
        assert ours.best_validation_score_ == pytest.approx(theirs.best_validation_score_, rel=1e-12)
        assert ours.best_loss_ is None
    np.testing.assert_array_equal(ours.predict(x), theirs.predict(x))
    if hasattr(theirs, "predict_proba"):
        np.testing.assert_allclose(ours.predict_proba(x), theirs.predict_proba(x), rtol=0, atol=1e-10)
        np.testing.assert_array_equal(ours.classes_, theirs.classes_)


CLASSIFIERS = {
    "adam": dict(hidden_layer_sizes=(10,), max_iter=60),
    "sgd, Nesterov momentum, invscaling": dict(hidden_layer_sizes=(8, 6), solver="sgd", learning_rate="invscaling",
                                                 learning_rate_init=0.2, momentum=0.9, nesterovs_momentum=True,
                                                 max_iter=40, batch_size=32),
    "sgd, momentum, adaptive, tanh": dict(hidden_layer_sizes=(6,), solver="sgd", learning_rate="adaptive",
                                          nesterovs_momentum=False, activation="tanh", tol=1e-2, n_iter_no_change=2,
                                          max_iter=80, batch_size=50),
    "logistic, alpha, small batches": dict(hidden_layer_sizes=(5,), activation="logistic", alpha=0.05,
                                           batch_size=16, max_iter=30, learning_rate_init=0.01),
    "early stopping": dict(hidden_layer_sizes=(10,), early_stopping=True, learning_rate_init=0.01, max_iter=200,
                           validation_fraction=0.2),
    "no shuffling, identity": dict(hidden_layer_sizes=(4,), activation="identity", shuffle=False, max_iter=25),
    "tol stops": dict(hidden_layer_sizes=(4,), tol=0.05, n_iter_no_change=3, max_iter=200),
}


@pytest.mark.parametrize("name", CLASSIFIERS)
def test_the_classifier_fits_what_scikit_learns_fits(iris, name):
    x, y = iris
    theirs, ours = fitted_pair("classifier", x, y, random_state=3, **CLASSIFIERS[name])
    assert_same_fit(theirs, ours, x)


def test_two_classes_are_one_logistic_output_and_string_labels_come_back(iris):
    x, y = iris
    names = np.array(["setosa", "other", "other"])[y]
    theirs, ours = fitted_pair("classifier", x, names, hidden_layer_sizes=(5,), max_iter=30, random_state=1)
    assert ours.out_activation_ == "logistic" and ours.coefs_[-1].shape == (5, 1)
    assert_same_fit(theirs, ours, x)


def test_several_labels_are_logistic_outputs(iris):
    x, y = iris
    labels = np.c_[y == 0, y == 1, x[:, 0] > 0].astype(int)
    theirs, ours = fitted_pair("classifier", x, labels, hidden_layer_sizes=(6,), max_iter=30, random_state=2)
    assert ours.out_activation_ == "logistic" and ours.n_outputs_ == 3
    assert_same_fit(theirs, ours, x)


@pytest.mark.parametrize("kind", ["classifier", "regressor"])
@pytest.mark.parametrize("early_stopping", [False, True])
def test_sample_weights_weigh_as_scikit_learns_do(iris, regression, kind, early_stopping):
    x, y = iris if kind == "classifier" else regression
    weights = np.random.default_rng(5).uniform(0.1, 3.0, len(x))
    theirs, ours = fitted_pair(kind, x, y, sample_weight=weights, hidden_layer_sizes=(7,), max_iter=40,
                               learning_rate_init=0.01, early_stopping=early_stopping, random_state=4)
    assert_same_fit(theirs, ours, x)


REGRESSORS = {
    "adam": dict(hidden_layer_sizes=(12,), max_iter=50, learning_rate_init=0.01),
    "sgd, Nesterov momentum, invscaling": dict(hidden_layer_sizes=(8,), solver="sgd", learning_rate="invscaling",
                                                 learning_rate_init=0.05, power_t=0.3, max_iter=40, batch_size=20),
    "early stopping, tanh": dict(hidden_layer_sizes=(8, 4), activation="tanh", early_stopping=True, max_iter=150,
                                 learning_rate_init=0.01, n_iter_no_change=5),
}


@pytest.mark.parametrize("name", REGRESSORS)
def test_the_regressor_fits_what_scikit_learns_fits(regression, name):
    x, y = regression
    theirs, ours = fitted_pair("regressor", x, y, random_state=7, **REGRESSORS[name])
    assert_same_fit(theirs, ours, x)
    one_theirs, one_ours = fitted_pair("regressor", x, y[:, 0], random_state=7, **REGRESSORS[name])
    assert one_ours.predict(x).shape == (len(x),)
    assert_same_fit(one_theirs, one_ours, x)


def test_warm_start_and_partial_fit_go_on_as_scikit_learns_do(iris):
    x, y = iris
    settings = dict(hidden_layer_sizes=(6,), max_iter=5, random_state=0, warm_start=True, solver="sgd",
                    learning_rate="invscaling", learning_rate_init=0.1)
    theirs, ours = neural_network.MLPClassifier(**settings), MLPClassifier(**settings)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(3):
            theirs.fit(x, y)
            ours.fit(x, y)
    assert_same_fit(theirs, ours, x)
    theirs, ours = neural_network.MLPRegressor(hidden_layer_sizes=(4,), random_state=0), MLPRegressor(
        hidden_layer_sizes=(4,), random_state=0)
    for rows in (slice(0, 60), slice(60, 150), slice(0, 150)):
        theirs.partial_fit(x[rows], y[rows].astype(float))
        ours.partial_fit(x[rows], y[rows].astype(float))
    assert_same_fit(theirs, ours, x)


# ---- the optimisers in scikit-learn's form, against scikit-learn's own optimisers ----
def gradients_of(step, shapes):
    rng = np.random.default_rng(step)
    return [rng.normal(size=s) for s in shapes]


@pytest.mark.parametrize("nesterov", [False, True])
def test_sgd_in_sklearn_form_steps_as_sklearns_sgd_optimizer(nesterov):
    shapes = [(3, 2), (2,)]
    start = gradients_of(99, shapes)
    theirs = [p.copy() for p in start]
    ours = [p.T.copy() if p.ndim == 2 else p.copy() for p in start]   # chainrule's layout: units × fan_in
    oracle = SGDOptimizer(theirs, 0.1, "invscaling", 0.8, nesterov, 0.5)
    rule = SGD(0.1, momentum=0.8, nesterov=nesterov, form="sklearn")
    for step in range(1, 6):
        grads = gradients_of(step, shapes)
        oracle.update_params(theirs, grads)
        rule.step(ours, [g.T if g.ndim == 2 else g for g in grads])
        oracle.iteration_ends(step * 10)
        rule.learning_rate = 0.1 / (step * 10 + 1) ** 0.5          # the rate changes between steps
        for a, b in zip(theirs, ours):
            np.testing.assert_array_equal(b.T if b.ndim == 2 else b, a)


def test_adam_in_sklearn_form_steps_as_sklearns_adam_optimizer_and_differs_from_pytorchs():
    shapes = [(4, 3), (3,)]
    theirs = gradients_of(98, shapes)
    ours = [p.copy() for p in theirs]
    pytorch_form = [p.copy() for p in theirs]
    oracle = AdamOptimizer(theirs, 0.01, 0.9, 0.99, 1e-3)
    rule = Adam(0.01, beta1=0.9, beta2=0.99, eps=1e-3, form="sklearn")
    other = Adam(0.01, beta1=0.9, beta2=0.99, eps=1e-3)
    for step in range(1, 6):
        grads = [0.01 * g for g in gradients_of(step, shapes)]     # small gradients: ε matters
        oracle.update_params(theirs, grads)
        rule.step(ours, grads)
        other.step(pytorch_form, grads)
        for a, b in zip(theirs, ours):
            np.testing.assert_array_equal(b, a)
    assert max(np.abs(a - b).max() for a, b in zip(theirs, pytorch_form)) > 1e-4


def test_the_forms_formulas_evaluate_to_the_step_taken():
    for rule in (SGD(0.1, momentum=0.9, nesterov=True, form="sklearn"), Adam(0.01, form="sklearn")):
        p, g = np.array([0.5]), np.array([0.2])
        rule.step([p], [g])
        values = rule.evaluate("w1", 0.5, 0.2, {})
        assert values[rule.equations("w1", True)[-1][0].text()] == pytest.approx(p[0], rel=1e-14)
        assert rule.heading()


# ---- scikit-learn's conventions ----
@pytest.mark.parametrize("estimator", [MLPClassifier(), MLPRegressor()], ids=lambda e: type(e).__name__)
def test_check_estimator_passes(estimator):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = check_estimator(estimator, on_fail=None)
    failed = [(r["check_name"], str(r["exception"])[:200]) for r in results if r["status"] == "failed"]
    assert failed == []
    assert {r["check_name"] for r in results if r["status"] == "skipped"} <= SKIPPED
    assert len(results) > 50


def test_the_parameters_are_scikit_learns_with_its_defaults():
    for ours, theirs in ((MLPClassifier(), neural_network.MLPClassifier()),
                         (MLPRegressor(), neural_network.MLPRegressor())):
        assert ours.get_params() == theirs.get_params()


@pytest.mark.parametrize("params, message", [
    (dict(solver="lbfgs"), r"^solver: expected 'sgd' or 'adam' \(chainrule has no L-BFGS; for it use "
                           r"sklearn.neural_network's estimators\), got 'lbfgs'$"),
    (dict(batch_size=1.5), r"^batch_size: expected 'auto' or an integer ≥ 1, got 1.5$"),
    (dict(learning_rate=0.01), r"^learning_rate: expected one of 'constant', 'invscaling', 'adaptive', got 0.01$"),
    (dict(activation="sigmoid"), r"^activation: expected one of 'identity', 'logistic', 'tanh', 'relu', got 'sigmoid'$"),
    (dict(hidden_layer_sizes=(4, 0)), r"^hidden_layer_sizes: expected sizes ≥ 1"),
    (dict(momentum=1.5), r"^momentum: expected a number in \[0, 1\), got 1.5$"),
    (dict(epsilon=float("nan")), r"^epsilon: expected a finite number > 0, got nan$"),
    (dict(max_iter=np.int64(0)), r"^max_iter: expected an integer from 1 to 10,000,000, got 0$"),
])
def test_bad_parameters_are_refused_naming_them(iris, params, message):
    x, y = iris
    with pytest.raises(ValueError, match=message):
        MLPClassifier(**params).fit(x, y)


def test_numpy_numbers_are_parameters_too(iris):
    x, y = iris
    clf = MLPClassifier(hidden_layer_sizes=(np.int64(4),), max_iter=np.int32(3), learning_rate_init=np.float32(0.01),
                        random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf.fit(x, y)
    assert clf.n_iter_ == 3


def test_poisson_is_refused_naming_scikit_learns_estimator(regression):
    x, y = regression
    with pytest.raises(ValueError, match=r"^loss: expected 'squared_error' \(chainrule has no exponential output"):
        MLPRegressor(loss="poisson").fit(x, y)


def test_partial_fit_needs_the_classes_first_and_refuses_other_classes_later(iris):
    x, y = iris
    clf = MLPClassifier(hidden_layer_sizes=(6,), random_state=0)
    with pytest.raises(ValueError, match=r"^classes: expected every class label on the first partial_fit, got None$"):
        clf.partial_fit(x, y)
    clf.partial_fit(x[y < 2], y[y < 2], classes=[0, 1, 2])    # a class not yet seen is still a column
    clf.partial_fit(x, y)
    assert clf.n_iter_ == 1 and len(clf.loss_curve_) == 2 and clf.predict_proba(x).shape == (150, 3)
    with pytest.raises(ValueError, match=r"^y: expected labels among classes_ \[0, 1, 2\], got 7$"):
        clf.partial_fit(x[:2], [0, 7])
    with pytest.raises(ValueError, match=r"^classes: expected the classes of the first partial_fit \[0, 1, 2\], "
                                         r"got \[0, 1, 2, 3\]$"):
        clf.partial_fit(x, y, classes=[0, 1, 2, 3])
    with pytest.raises(ValueError, match=r"^early_stopping: expected False with partial_fit"):
        MLPClassifier(early_stopping=True).partial_fit(x, y, classes=[0, 1, 2])


def test_coefs_are_views_of_the_network_and_survive_pickling(iris):
    x, y = iris
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf = MLPClassifier(hidden_layer_sizes=(5,), max_iter=5, random_state=0).fit(x, y)
    back = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(back.predict_proba(x), clf.predict_proba(x))
    back.coefs_ = [np.zeros_like(c) for c in back.coefs_]
    assert not back.network_.layers[0].weights.any() and clf.network_.layers[0].weights.any()
    with pytest.raises(ValueError, match=r"^coefs_\[0\]: expected finite numbers of shape \(4, 5\), got shape \(5, 4\)$"):
        back.coefs_ = [c.T for c in clf.coefs_]


# ---- Pipeline, GridSearchCV and explain ----
def test_a_pipeline_in_grid_search_on_two_processes():
    x, y = load_iris(return_X_y=True)
    names = np.array(["setosa", "versicolor", "virginica"])[y]         # string labels
    pipeline = make_pipeline(StandardScaler(), MLPClassifier(hidden_layer_sizes=(8,), max_iter=60, batch_size=16,
                                                             learning_rate_init=0.01, random_state=0))
    search = GridSearchCV(pipeline, {"mlpclassifier__hidden_layer_sizes": [(4,), (8,)],
                                     "mlpclassifier__activation": ["tanh", "relu"]}, cv=3, n_jobs=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        search.fit(x, names)
    assert search.best_score_ > 0.9
    assert set(search.predict(x[:10])) <= set(names)
    classifier = search.best_estimator_[-1]
    assert classifier.classes_.tolist() == sorted(set(names)) and classifier.n_features_in_ == 4
    assert len(classifier.loss_curve_) == 60 and classifier.loss_curve_[-1] < classifier.loss_curve_[0]


def test_an_explained_step_is_the_step_fit_takes_and_changes_nothing(iris):
    x, y = iris
    settings = dict(hidden_layer_sizes=(5,), alpha=0.0, batch_size=150, max_iter=3, random_state=1, shuffle=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf = MLPClassifier(**settings).fit(x, y)
        theirs = neural_network.MLPClassifier(**{**settings, "max_iter": 4}).fit(x, y)
    before = [w.copy() for w in clf.network_.parameters()]
    step = clf.explain(x, y)
    assert step[0].loss_before == pytest.approx(log_loss(y, clf.predict_proba(x)), rel=1e-12)
    for w, v in zip(clf.network_.parameters(), before):
        np.testing.assert_array_equal(w, v)                   # explaining changed nothing
    after = step[0].parameters_after                          # the 4th step, as scikit-learn's 4th epoch ends
    np.testing.assert_allclose(np.array(after[0]["weights"]).T, theirs.coefs_[0], rtol=0, atol=1e-12)
    np.testing.assert_allclose(after[1]["bias"], theirs.intercepts_[1], rtol=0, atol=1e-12)
    assert "Adam" in step.render("text", param="w1")


def test_explain_on_a_pipeline_transforms_x_first_or_says_it_cannot(iris):
    x, y = load_iris(return_X_y=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pipeline = make_pipeline(StandardScaler(), MLPClassifier(hidden_layer_sizes=(4,), max_iter=5, alpha=0.0,
                                                                 random_state=0)).fit(x, y)
    direct = pipeline[-1].explain(pipeline[0].transform(x[:3]), y[:3])
    assert crs.explain(pipeline, x[:3], y[:3])[0].loss_before == direct[0].loss_before
    with pytest.warns(UserWarning, match=r"explain: the traced step leaves out the L2 penalty alpha=0.0001"):
        MLPClassifier(hidden_layer_sizes=(3,), max_iter=2).fit(x, y).explain(x[:2], y[:2])
    other = make_pipeline(StandardScaler(), neural_network.MLPClassifier(max_iter=2)).fit(x, y)
    with pytest.raises(ValueError, match=r"^estimator: expected a Pipeline ending in chainrule.sklearn's "
                                         r"MLPClassifier or MLPRegressor, got one ending in MLPClassifier"):
        crs.explain(other, x, y)


def test_float32_data_fits_in_float32_as_scikit_learns_does():
    from sklearn.datasets import load_digits
    x, y = load_digits(return_X_y=True)
    x = (x[:400] / 16).astype(np.float32)
    theirs, ours = fitted_pair("classifier", x, y[:400], hidden_layer_sizes=(16,), max_iter=15, random_state=0)
    assert ours.coefs_[0].dtype == theirs.coefs_[0].dtype == np.float32
    for a, b in zip([*theirs.coefs_, *theirs.intercepts_], [*ours.coefs_, *ours.intercepts_]):
        np.testing.assert_allclose(b, a, rtol=0, atol=1e-5)        # float32's rounding (measured ≤ 1.2e-7)
    np.testing.assert_array_equal(ours.predict(x), theirs.predict(x))
