"""The Python API as a notebook user meets it: cr.mlp, cr.example, net.fit/predict/score/accuracy/explain,
class labels, and every refused argument (one line, naming the argument).

Oracles: seed 000's hand-worked numbers (w5⁺ = 0.35891648, E_total = 0.298371109), numpy's own draws
for the initialisers, np.eye for one-hot targets, scikit-learn's r2_score, and counts done in numpy."""

import copy
import pickle

import numpy as np
import pytest

import chainrule as cr
from chainrule.core.settings import ConfigError

XOR_X = [[0, 0], [0, 1], [1, 0], [1, 1]]
XOR_T = [0, 1, 1, 0]


# ----- building ------------------------------------------------------------------
def test_mlp_draws_xavier_weights_layer_by_layer_from_one_seeded_generator():
    net = cr.mlp([3, 4, 2], activation="tanh", init="xavier", seed=7)
    rng = np.random.default_rng(7)
    for layer, (units, fan_in) in zip(net.layers, [(4, 3), (2, 4)]):
        a = np.sqrt(6.0 / (fan_in + units))
        np.testing.assert_array_equal(layer.weights, rng.uniform(-a, a, size=(units, fan_in)))
        np.testing.assert_array_equal(layer.bias, np.zeros(units))
    assert [layer.activation.name for layer in net.layers] == ["tanh", "tanh"]
    assert net.inputs == 3 and net.outputs == 2 and net.shape_text() == "3-4-2"


def test_mlp_per_layer_arguments_explicit_weights_and_the_loss_choosing_the_output():
    net = cr.mlp([2, 2, 2], activation="sigmoid", bias=[0.35, 0.6], bias_mode="shared",
                 weights=[[[0.15, 0.2], [0.25, 0.3]], [[0.4, 0.45], [0.5, 0.55]]])
    assert net.layers[0].bias == 0.35 and net.layers[1].bias_mode == "shared"
    # seed 000's forward pass from these weights: out_o1 = 0.75136507 (printed by the seed)
    assert net.predict([0.05, 0.1])[0, 0] == pytest.approx(0.75136507, abs=5e-9)
    classifier = cr.mlp([4, 8, 3], activation="relu", loss="cross_entropy", init="he", seed=0)
    assert [layer.activation.name for layer in classifier.layers] == ["relu", "softmax"]
    assert classifier.is_classifier
    mixed = cr.mlp([1, 3, 2, 1], activation=["leaky_relu", "elu", "identity"], slope=0.2, alpha=0.5,
                   bias_mode=["per_neuron", "none", "shared"], init=[{"kind": "normal", "std": 0.1}, "he", "xavier"])
    assert mixed.layers[0].activation.params == {"slope": 0.2}
    assert mixed.layers[1].activation.params == {"alpha": 0.5} and mixed.layers[1].bias is None
    assert mixed.layers[2].activation.name == "identity"
    column = cr.mlp([2, 3, 1], weight_labels="column", seed=3)
    assert column.labels["w2"].index == (1, 0)


def test_mlp_legacy_seed_reproduces_numpy_random_seed():
    net = cr.mlp([1, 2, 1], activation="softplus", output_activation="identity",
                 init={"kind": "normal", "legacy_seed": 42}, bias=0.0)
    np.random.seed(42)      # seed 004's own draws: w1, w2 then w3, w4
    expected = [np.random.normal() for _ in range(4)]
    drawn = [*net.layers[0].weights.ravel(), *net.layers[1].weights.ravel()]
    assert drawn == expected


def test_network_takes_its_inputs_from_the_first_layer():
    net = cr.Network([cr.Dense([[1.0, 2.0, 3.0]], activation="identity")])
    assert net.inputs == 3
    assert net.predict([1, 1, 1]).tolist() == [[6.0]]


def test_example_gives_the_seed_network_data_and_settings():
    ex = cr.example("mazur")
    assert ex.network.shape_text() == "2-2-2"
    assert ex.x.tolist() == [[0.05, 0.10]] and ex.t.tolist() == [[0.01, 0.99]]
    assert ex.config.learning_rate == 0.5 and ex.config.batch == "online"
    assert "mazur" in repr(ex)
    assert cr.example("mazur").network is not ex.network       # built fresh each time


# ----- training --------------------------------------------------------------------
def test_fit_with_keywords_gives_seed_000s_update():
    ex = cr.example("mazur")
    history = ex.network.fit(ex.x, ex.t, epochs=1, learning_rate=0.5, batch="online")
    w5 = ex.network.layers[1].weights[0, 0]
    assert w5 == pytest.approx(0.35891648, abs=5e-9)          # the seed's w5⁺
    assert history.initial_loss == pytest.approx(0.298371109, abs=5e-10)
    assert history.epochs_run == 1


def test_fit_config_and_keywords_together_keywords_win():
    ex = cr.example("mazur")
    config = cr.TrainingConfig(learning_rate=0.5, epochs=7)
    history = ex.network.fit(ex.x, ex.t, config, epochs=2)
    assert history.epochs_run == 2
    assert config.replace(epochs=3).epochs == 3 and config.epochs == 7
    assert config.replace(optimizer="adam", beta1=0.8).beta1 == 0.8


def test_class_labels_are_one_hot_encoded_as_np_eye_would():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(30, 3))
    labels = rng.integers(0, 4, size=30)
    a = cr.mlp([3, 5, 4], activation="tanh", loss="cross_entropy", seed=2)
    b = a.copy()
    a.fit(x, labels, epochs=3, learning_rate=0.1, batch=5, engine="reference")
    b.fit(x, np.eye(4)[labels], epochs=3, learning_rate=0.1, batch=5, engine="reference")
    for p, q in zip(a.parameters(), b.parameters()):
        np.testing.assert_array_equal(p, q)
    # float labels that are whole numbers are labels too
    c = cr.mlp([3, 5, 4], activation="tanh", loss="cross_entropy", seed=2)
    c.fit(x, labels.astype(float), epochs=3, learning_rate=0.1, batch=5, engine="reference")
    np.testing.assert_array_equal(c.parameters()[0], a.parameters()[0])


def test_accuracy_and_score_against_counts_done_in_numpy():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(200, 2))
    labels = (x[:, 0] + x[:, 1] > 0).astype(int)
    net = cr.mlp([2, 4, 2], activation="tanh", loss="cross_entropy", seed=0)
    net.fit(x, labels, epochs=20, learning_rate=0.05, batch=10)
    out = net.forward(x)[-1].out
    expected = np.mean(np.argmax(out, axis=1) == labels)
    assert net.accuracy(x, labels) == expected == net.score(x, labels)
    assert net.accuracy(x, np.eye(2)[labels]) == expected
    assert net.predict_classes(x).tolist() == np.argmax(out, axis=1).tolist()
    assert expected > 0.9
    # one sigmoid output with bce: class 1 where the output is ≥ 0.5
    single = cr.mlp([2, 4, 1], activation="tanh", loss="bce", seed=0)
    single.fit(x, labels, epochs=20, learning_rate=0.05, batch=10)
    p = single.forward(x)[-1].out[:, 0]
    assert single.score(x, labels) == np.mean((p >= 0.5) == labels)


def test_score_of_a_regressor_is_sklearns_r2():
    metrics = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(2)
    x = rng.uniform(-1, 1, size=(50, 1))
    t = np.hstack([np.sin(2 * x), x ** 2])
    net = cr.mlp([1, 6, 2], activation="tanh", output_activation="identity", seed=0)
    net.fit(x, t, epochs=50, learning_rate=0.01)
    assert net.score(x, t) == pytest.approx(metrics.r2_score(t, net.predict(x)), abs=1e-12)
    assert net.loss_of(x, t) == pytest.approx(0.5 * np.sum((t - net.predict(x)) ** 2), rel=1e-12)


def test_one_dimensional_inputs_and_targets():
    net = cr.mlp([1, 3, 1], activation="tanh", output_activation="identity", seed=0)
    xs = np.linspace(-1, 1, 5)
    assert net.predict(xs).shape == (5, 1)
    net.fit(xs, xs ** 2, epochs=2, learning_rate=0.1)
    two = cr.mlp([2, 2], seed=0)
    assert two.predict([0.5, 0.5]).shape == (1, 2)           # one sample
    history = two.fit([0.5, 0.5], [0.1, 0.9], epochs=1)       # one sample, one target row
    assert history.epochs_run == 1


# ----- explaining --------------------------------------------------------------------
def test_explain_leaves_the_network_unchanged_unless_asked():
    ex = cr.example("mazur")
    before = [p.copy() for p in ex.network.parameters()]
    explanation = ex.explain()
    for p, q in zip(before, ex.network.parameters()):
        np.testing.assert_array_equal(p, q)
    assert len(explanation) == 1
    assert explanation[0].parameters_after[1]["weights"][0][0] == pytest.approx(0.35891648, abs=5e-9)
    text = explanation.render("text", param="w5")
    assert "w5⁺ = 0.4 − 0.5·0.0821670406 = 0.35891648" in text
    assert "$$" in explanation.render("markdown")
    assert "\\documentclass" in explanation.render("latex")
    assert "<math" in explanation.render("html")
    assert '"steps"' in explanation.render("json")
    assert "W̃" in explanation.render("text", matrix=True)
    assert explanation[0].render("text") == explanation.render("text")
    assert str(explanation) == explanation.render("text")
    applied = ex.network.explain(ex.x, ex.t, ex.config, apply=True)
    assert ex.network.layers[1].weights[0, 0] == pytest.approx(0.35891648, abs=5e-9)
    assert applied[0].loss_after == pytest.approx(ex.network.loss_of(ex.x, ex.t), rel=1e-15)


def test_explain_several_steps_and_slices():
    ex = cr.example("xor")
    explanation = ex.explain(steps=3)
    assert [trace.step for trace in explanation] == [1, 2, 3]
    assert [trace.step for trace in explanation[1:]] == [2, 3]
    assert explanation[0].loss_after == pytest.approx(explanation[1].loss_before, rel=1e-15)


def test_explain_refuses_a_whole_derivation_of_a_large_step_but_explains_one_parameter():
    net = cr.mlp([30, 60, 10], activation="relu", loss="cross_entropy", seed=0)
    x = np.random.default_rng(0).normal(size=(2, 30))
    explanation = net.explain(x, [1, 2])
    with pytest.raises(ConfigError, match="param: expected one parameter to explain"):
        explanation.render("text")
    assert "w1" in explanation.render("text", param="w1")


# ----- copies ---------------------------------------------------------------------------
def test_networks_traces_and_histories_deepcopy_and_pickle():
    ex = cr.example("xor")
    history = ex.fit(epochs=5)
    twin = pickle.loads(pickle.dumps(ex.network))
    np.testing.assert_array_equal(twin.predict(ex.x), ex.network.predict(ex.x))
    deep = copy.deepcopy(ex.network)
    deep.layers[0].weights[0, 0] += 1.0
    assert deep.layers[0].weights[0, 0] != ex.network.layers[0].weights[0, 0]
    explanation = ex.explain()
    assert pickle.loads(pickle.dumps(explanation)).render("text") == explanation.render("text")
    assert copy.deepcopy(explanation[0]).as_dict() == explanation[0].as_dict()
    assert pickle.loads(pickle.dumps(history)).loss_history == history.loss_history
    assert pickle.loads(pickle.dumps(ex.config)) == ex.config


# ----- refused ------------------------------------------------------------------------
NET = cr.mlp([2, 3, 1], seed=0)
CLASSES = cr.mlp([2, 3, 3], activation="tanh", loss="cross_entropy", seed=0)

REFUSED = [
    ("predict wrong width", lambda: NET.predict([[1, 2, 3]] * 4), "x: expected an array of shape (n, 2)"),
    ("predict 3-D", lambda: NET.predict(np.zeros((2, 2, 2))), "x: expected an array of shape (n, 2)"),
    ("predict scalar", lambda: NET.predict(3.0), "x: expected an array of shape (n, 2)"),
    ("predict nothing", lambda: NET.predict(np.zeros((0, 2))), "x: expected at least one sample"),
    ("predict text", lambda: NET.predict([["a", "b"]]), "x: expected real numbers, got text"),
    ("predict complex", lambda: NET.predict([[1j, 2]]), "x: expected real numbers, got complex numbers"),
    ("predict nan", lambda: NET.predict([[0, 0], [np.nan, 1]]), "x: expected finite numbers, got nan in row 1"),
    ("predict ragged", lambda: NET.predict([[1, 2], [3]]), "x: expected rows of equal length"),
    ("fit too few targets", lambda: NET.fit(XOR_X, [0, 1]), "t: expected 4 target rows"),
    ("fit wide targets", lambda: NET.fit(XOR_X, [[0, 1]] * 4), "t: expected 4 target rows of the network's 1 output"),
    ("fit inf target", lambda: NET.fit(XOR_X, [0, 1, np.inf, 0]), "t: expected finite numbers, got inf in row 2"),
    ("label too large", lambda: CLASSES.fit(XOR_X, [0, 1, 3, 0]), "t: expected class labels 0 … 2"),
    ("label negative", lambda: CLASSES.fit(XOR_X, [0, -1, 2, 0]), "t: expected class labels 0 … 2"),
    ("label fraction", lambda: CLASSES.fit(XOR_X, [0, 1.5, 2, 0]), "t: expected class labels: whole numbers"),
    ("setting misspelt", lambda: NET.fit(XOR_X, XOR_T, epoch=3), "epoch: expected 'epochs', or another training"),
    ("setting value", lambda: NET.fit(XOR_X, XOR_T, learning_rate=-1), "learning_rate: expected"),
    ("optimizer's setting", lambda: NET.fit(XOR_X, XOR_T, optimizer="adam", momentum=0.9), "momentum: expected no momentum with adam"),
    ("config type", lambda: NET.fit(XOR_X, XOR_T, {"epochs": 3}), "config: expected a TrainingConfig"),
    ("engine", lambda: NET.fit(XOR_X, XOR_T, engine="gpu"), "engine: expected one of"),
    ("explain steps", lambda: NET.explain(XOR_X, XOR_T, steps=0), "steps: expected an integer from 1 to 10,000"),
    ("explain apply", lambda: NET.explain(XOR_X, XOR_T, apply="yes"), "apply: expected True or False"),
    ("render format", lambda: NET.explain(XOR_X, XOR_T).render("pdf"), "format: expected one of text, markdown"),
    ("render param", lambda: NET.explain(XOR_X, XOR_T).render(param="w99"), "param: expected one of w1"),
    ("Dense(int)", lambda: cr.Dense(2, activation="tanh"), "weights: expected a matrix of weights"),
    ("Dense text", lambda: cr.Dense([["a"]]), "weights: expected real numbers, got text"),
    ("Dense nan", lambda: cr.Dense([[np.nan]]), "weights: expected finite numbers"),
    ("Network(inputs, layers)", lambda: cr.Network(2, [cr.Dense([[1.0, 2.0]])]), "layers: expected a list of Dense layers"),
    ("Network fan-in", lambda: cr.Network([cr.Dense([[1.0, 2.0]]), cr.Dense([[1.0, 2.0]])]), "layers[2].weights: expected 1 columns"),
    ("mlp sizes int", lambda: cr.mlp(3), "sizes: expected a list of at least two layer sizes"),
    ("mlp sizes short", lambda: cr.mlp([3]), "sizes: expected a list of at least two layer sizes"),
    ("mlp sizes zero", lambda: cr.mlp([3, 0, 1]), "sizes: expected"),
    ("mlp activation name", lambda: cr.mlp([2, 3, 1], activation="sigmoidd"), "activation of layer 1: expected one of"),
    ("mlp activation list", lambda: cr.mlp([2, 3, 1], activation=["relu"]), "activation: expected one value for all layers or a list of 2"),
    ("mlp softmax hidden", lambda: cr.mlp([2, 3, 1], activation="softmax", output_activation="identity"), "layers[1].activation: expected an element-wise"),
    ("mlp loss", lambda: cr.mlp([2, 3, 1], loss="hinge"), "loss: expected one of"),
    ("mlp loss vs output", lambda: cr.mlp([2, 3, 2], loss="cross_entropy", output_activation="sigmoid"), "loss: expected a softmax output layer"),
    ("mlp init kind", lambda: cr.mlp([2, 3, 1], init="glorot"), "init.kind of layer 1: expected one of constant"),
    ("mlp init setting", lambda: cr.mlp([2, 3, 1], init={"kind": "normal", "sd": 1}), "init.sd of layer 1: expected a setting of init kind 'normal'"),
    ("mlp init std", lambda: cr.mlp([2, 3, 1], init={"kind": "normal", "std": -1}), "init.std of layer 1: expected a finite number ≥ 0"),
    ("mlp weights shape", lambda: cr.mlp([2, 3, 1], weights=[np.zeros((3, 2)), np.zeros((2, 3))]), "weights of layer 2: expected a 1 × 3 matrix"),
    ("mlp weights count", lambda: cr.mlp([2, 3, 1], weights=[np.zeros((3, 2))]), "weights: expected one value for all layers or a list of 2"),
    ("mlp seed", lambda: cr.mlp([2, 3, 1], seed=-1), "seed: expected an integer ≥ 0"),
    ("mlp bias mode", lambda: cr.mlp([2, 3, 1], bias_mode="each"), "bias_mode of layer 1: expected one of per_neuron"),
    ("mlp setting not taken", lambda: cr.mlp([2, 3, 1], slope=0.1), "slope: expected a setting of one of this network's activations"),
    ("mlp unknown argument", lambda: cr.mlp([2, 3, 1], activations="relu"), "activations: expected an argument of mlp"),
    ("mlp dtype", lambda: cr.mlp([2, 3, 1], dtype="float16"), "dtype: expected"),
    ("example name", lambda: cr.example("mazurr"), "name: expected one of mazur"),
    ("one_hot", lambda: cr.one_hot([0, 1, 5], 3), "labels: expected class labels 0 … 2"),
]


@pytest.mark.parametrize("call, expected", [r[1:] for r in REFUSED], ids=[r[0] for r in REFUSED])
def test_refused_with_one_line_naming_the_argument(call, expected):
    with pytest.raises(ConfigError) as caught:
        call()
    message = str(caught.value)
    assert message.startswith(expected), message
    assert "\n" not in message and len(message) < 400


def test_refusals_leave_the_network_as_it_was():
    before = [p.copy() for p in NET.parameters()]
    for _, call, _ in REFUSED:
        try:
            call()
        except ConfigError:
            pass
    for p, q in zip(before, NET.parameters()):
        np.testing.assert_array_equal(p, q)
