"""net.to_torch(), cr.from_torch(module) and PyTorch's state_dict names. Oracle: PyTorch's own forward
pass and autograd on the exported module (float64), against chainrule's predict and backprop; the
hand-written twin of conftest (torch_twin) for from_torch."""

import numpy as np
import pytest

import chainrule as cr
from chainrule import ConfigError, Dense, Network
from conftest import random_network, torch_twin

HIDDEN = ["sigmoid", "tanh", "relu", "softplus", "silu", cr.get_activation("leaky_relu", slope=0.2),
          cr.get_activation("elu", alpha=0.7), "identity"]


def torch_loss(torch, loss_name, y, t):
    """The losses written out in torch by their definitions."""
    if loss_name == "half_sse":
        return 0.5 * ((t - y) ** 2).sum()
    return -(t * torch.log(y)).sum()                # cross-entropy of softmax outputs


@pytest.mark.parametrize("hidden", HIDDEN, ids=str)
@pytest.mark.parametrize("bias_mode", ["per_neuron", "none"])
def test_to_torch_gives_the_same_outputs_and_gradients(torch, hidden, bias_mode):
    rng = np.random.default_rng(7)
    for output, loss in (("sigmoid", "half_sse"), ("softmax", "cross_entropy")):
        net = random_network(rng, [3, 5, 4, 3], hidden, output, loss, bias_mode=bias_mode)
        x = rng.normal(0, 2, (6, 3))
        t = np.eye(3)[rng.integers(0, 3, 6)] if output == "softmax" else rng.uniform(0, 1, (6, 3))
        module = net.to_torch()
        assert isinstance(module, torch.nn.Sequential)
        y = module(torch.from_numpy(x))
        assert y.dtype == torch.float64
        np.testing.assert_allclose(y.detach().numpy(), net.predict(x), rtol=1e-12, atol=1e-14)
        torch_loss(torch, loss, y, torch.from_numpy(t)).backward()
        _, _, grads = net.backprop(x, t)
        theirs = [p.grad.numpy() for p in module.parameters()]
        assert len(theirs) == len(grads)
        for ours, their in zip(grads, theirs):
            np.testing.assert_allclose(ours, their, rtol=1e-10, atol=1e-13)


def test_state_dict_names_agree_both_ways(torch):
    rng = np.random.default_rng(1)
    net = random_network(rng, [2, 3, 3, 1], "tanh", "identity", "half_sse")
    module = net.to_torch()
    assert list(net.state_dict()) == list(module.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias",
                                                                  "4.weight", "4.bias"]
    other = random_network(np.random.default_rng(2), [2, 3, 3, 1], "tanh", "identity", "half_sse")
    other.load_state_dict(module.state_dict())                     # tensors in
    np.testing.assert_array_equal(other.predict([[0.3, -1.0]]), net.predict([[0.3, -1.0]]))
    fresh = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.Tanh(), torch.nn.Linear(3, 3), torch.nn.Tanh(),
                                torch.nn.Linear(3, 1)).double()
    fresh.load_state_dict({k: torch.from_numpy(v) for k, v in net.state_dict().items()})     # arrays out
    np.testing.assert_allclose(fresh(torch.tensor([[0.3, -1.0]], dtype=torch.float64)).detach().numpy(),
                               net.predict([[0.3, -1.0]]), rtol=1e-13)


def test_from_torch_takes_a_sequential_back(torch):
    rng = np.random.default_rng(3)
    original = random_network(rng, [4, 6, 3], "softplus", "softmax", "cross_entropy")
    module = torch_twin(original)                                  # the tests' own hand-made module
    module.append(torch.nn.Softmax(dim=1))
    net = cr.from_torch(module, loss="cross_entropy")
    assert [layer.activation for layer in net.layers] == [layer.activation for layer in original.layers]
    x = rng.normal(0, 1, (5, 4))
    np.testing.assert_allclose(net.predict(x), module(torch.from_numpy(x)).detach().numpy(), rtol=1e-12)
    back = cr.from_torch(original.to_torch(), loss="cross_entropy")   # a round trip is exact
    for a, b in zip(back.parameters(), original.parameters()):
        np.testing.assert_array_equal(a, b)


def test_from_torch_reads_settings_dtypes_and_missing_biases(torch):
    module = torch.nn.Sequential(torch.nn.Linear(2, 3, bias=False), torch.nn.LeakyReLU(0.3), torch.nn.Linear(3, 2),
                                 torch.nn.ELU(alpha=0.5), torch.nn.Linear(2, 1))
    net = cr.from_torch(module)
    assert [layer.bias_mode for layer in net.layers] == ["none", "per_neuron", "per_neuron"]
    assert net.layers[0].activation.slope == pytest.approx(0.3) and net.layers[1].activation.alpha == 0.5
    assert net.layers[2].activation.name == "identity" and net.dtype == np.float32
    x = np.array([[0.5, -2.0], [1.5, 0.25]], dtype=np.float32)
    np.testing.assert_allclose(net.predict(x), module(torch.from_numpy(x)).detach().numpy(), rtol=1e-6)
    assert cr.from_torch(torch.nn.Linear(3, 2)).shape_text() == "3-2"


@pytest.mark.parametrize("make, key", [
    (lambda t: t.nn.Sequential(t.nn.Linear(2, 2), t.nn.Dropout(0.5)), "module[1]"),
    (lambda t: t.nn.Sequential(t.nn.Conv1d(1, 1, 2)), "module[0]"),
    (lambda t: t.nn.Sequential(t.nn.Sigmoid(), t.nn.Linear(2, 2)), "module[0]"),
    (lambda t: t.nn.Sequential(t.nn.Linear(2, 2), t.nn.Tanh(), t.nn.Tanh()), "module[2]"),
    (lambda t: t.nn.Sequential(t.nn.Linear(2, 2), t.nn.Softplus(beta=2)), "module[1].beta"),
    (lambda t: t.nn.Sequential(t.nn.Linear(2, 2), t.nn.Softmax(dim=0)), "module[1].dim"),
    (lambda t: t.nn.Sequential(t.nn.Linear(2, 2).half()), "layers[1].weight"),
    (lambda t: t.nn.Sequential(), "module"),
    (lambda t: t.nn.ReLU(), "module"),
])
def test_from_torch_refuses_what_it_cannot_hold_naming_the_module(torch, make, key):
    with pytest.raises(ConfigError) as error:
        cr.from_torch(make(torch))
    assert str(error.value).startswith(f"{key}: expected ") and "\n" not in str(error.value)


def test_a_shared_bias_cannot_go_to_torch(torch):
    mazur = cr.example("mazur").network
    for call in (mazur.to_torch, mazur.state_dict):
        with pytest.raises(ConfigError, match=r"^layers\[1\]\.bias_mode: expected per_neuron or none .* got 'shared'$"):
            call()


def test_a_refused_state_dict_changes_nothing():
    net = Network([Dense([[1.0, 2.0]], [0.5], activation="tanh")])
    before = [p.copy() for p in net.parameters()]
    cases = [({"0.weight": np.ones((1, 2))}, r"state_dict: expected the keys 0.weight, 0.bias, got missing 0.bias"),
             ({"0.weight": np.ones((1, 2)), "0.bias": np.ones(1), "1.weight": 0}, "got unexpected 1.weight"),
             ({"0.weight": np.ones((2, 1)), "0.bias": np.ones(1)}, r"state_dict\['0.weight'\]: expected shape \(1, 2\)"),
             ({"0.weight": np.ones((1, 2)), "0.bias": np.array([np.nan])}, "expected finite numbers"),
             ({"0.weight": np.array([["a", "b"]]), "0.bias": np.ones(1)}, "expected an array of numbers"),
             ([1, 2], "expected a mapping")]
    for state, message in cases:
        with pytest.raises(ConfigError, match=message):
            net.load_state_dict(state)
        for p, q in zip(net.parameters(), before):
            np.testing.assert_array_equal(p, q)


# ---- wrapped models, logits, what cannot be held ----
def test_the_state_of_a_ddp_or_compiled_model_loads(torch, tmp_path):
    rng = np.random.default_rng(4)
    net = random_network(rng, [3, 4, 2], "tanh", "identity", "half_sse")
    module = net.to_torch()
    other = random_network(np.random.default_rng(5), [3, 4, 2], "tanh", "identity", "half_sse")
    compiled = torch.compile(module)                                   # state_dict without compiling anything
    assert list(compiled.state_dict())[0] == "_orig_mod.0.weight"
    other.load_state_dict(compiled.state_dict())
    np.testing.assert_array_equal(other.parameters()[0], net.parameters()[0])
    import torch.distributed as dist
    from torch.nn.parallel import DistributedDataParallel
    dist.init_process_group("gloo", init_method=f"file://{tmp_path / 'store'}", rank=0, world_size=1)
    try:
        wrapped = DistributedDataParallel(module)
        assert list(wrapped.state_dict())[0] == "module.0.weight"
        third = random_network(np.random.default_rng(6), [3, 4, 2], "tanh", "identity", "half_sse")
        third.load_state_dict(wrapped.state_dict())
        twice = {f"module._orig_mod.{k}": v for k, v in module.state_dict().items()}     # DDP over a compiled model
        third.load_state_dict(twice)
    finally:
        dist.destroy_process_group()
    for a, b in zip(third.parameters(), net.parameters()):
        np.testing.assert_array_equal(a, b)


def test_a_key_message_shows_the_keys_it_is_about():
    net = Network([Dense([[1.0, 2.0]], [0.5], activation="tanh")])
    state = {"model.0.weight": np.ones((1, 2)), "model.0.bias": np.ones(1)}
    with pytest.raises(ConfigError) as error:
        net.load_state_dict(state)
    assert str(error.value) == ("state_dict: expected the keys 0.weight, 0.bias, got missing 0.weight, 0.bias; "
                                "unexpected model.0.weight, model.0.bias")
    many = {f"extra.layer.{i}.weight": np.ones(1) for i in range(100)}
    with pytest.raises(ConfigError) as error:
        net.load_state_dict(many)
    assert "extra.layer.5.weight … and 94 more" in str(error.value) and len(str(error.value)) < 400


def test_logits_leave_out_the_final_softmax_or_sigmoid_for_torchs_losses(torch):
    rng = np.random.default_rng(8)
    x = rng.normal(0, 1, (6, 3))
    for output, loss, torch_loss_of in (("softmax", "cross_entropy", torch.nn.CrossEntropyLoss(reduction="sum")),
                                        ("sigmoid", "bce", torch.nn.BCEWithLogitsLoss(reduction="mean"))):
        net = random_network(rng, [3, 5, 2], "relu", output, loss)
        module = net.to_torch(logits=True)
        assert type(module[-1]).__name__ == "Linear"
        logits = module(torch.from_numpy(x))
        np.testing.assert_allclose(logits.detach().numpy(), net.forward(x)[-1].net, rtol=1e-12)
        t = np.eye(2)[rng.integers(0, 2, 6)]
        target = torch.from_numpy(t.argmax(axis=1)) if output == "softmax" else torch.from_numpy(t)
        torch_loss_of(logits, target).backward()
        _, _, grads = net.backprop(x, t, "sum" if output == "softmax" else "mean")
        for ours, p in zip(grads, module.parameters()):     # bce: the mean over outputs, then over samples, as torch's
            np.testing.assert_allclose(ours, p.grad.numpy(), rtol=1e-10)
    with pytest.raises(ConfigError, match=r"^logits: expected a network whose output layer is softmax or sigmoid "
                                          r"\(logits=True leaves it out\), got an output layer of tanh$"):
        random_network(rng, [2, 2], "tanh", "tanh", "half_sse").to_torch(logits=True)


@pytest.mark.parametrize("make, message", [
    (lambda t: t.nn.Linear(2, 3).to(t.bfloat16),
     r"^layers\[1\]\.weight: expected float32 or float64 values \(convert with \.float\(\) or \.double\(\)\), "
     r"got a tensor of dtype torch\.bfloat16$"),
    (lambda t: t.nn.Linear(2, 3, device="meta"), r"^layers\[1\]\.weight: expected a tensor with values \(on the meta"),
    (lambda t: t.nn.Linear(0, 3), r"^layers\[1\]: expected an nn.Linear of at least 1 input and 1 output, "
                                  r"got nn.Linear\(0, 3\)$"),
    (lambda t: t.nn.Linear(3, 0), r"^layers\[1\]: expected an nn.Linear of at least 1 input"),
])
def test_from_torch_refuses_dtypes_devices_and_empty_layers_naming_them(torch, make, message):
    with pytest.raises(ConfigError, match=message):
        cr.from_torch(make(torch))


def test_load_state_dict_refuses_bfloat16_and_meta_tensors_changing_nothing(torch):
    net = Network([Dense([[1.0, 2.0]], [0.5], activation="tanh")])
    for tensor, got in ((torch.ones(1, 2, dtype=torch.bfloat16), "got a tensor of dtype torch.bfloat16"),
                        (torch.ones(1, 2, dtype=torch.float16), "got a tensor of dtype torch.float16"),
                        (torch.ones(1, 2, device="meta"), "got a tensor on the meta device")):
        with pytest.raises(ConfigError, match=r"^state_dict\['0.weight'\]: expected .*" + got + "$"):
            net.load_state_dict({"0.weight": tensor, "0.bias": torch.ones(1)})
        assert net.parameters()[0].tolist() == [[1.0, 2.0]]
