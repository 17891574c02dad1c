"""The optimisers and schedules against PyTorch (float64, same weights, same batches), an optimiser's state
carried across fit calls, and early stopping."""

import numpy as np
import pytest

import chainrule as cr
from chainrule.training.train import TrainingConfig
from conftest import random_network, torch_twin


CASES = {
    "momentum": ({"momentum": 0.9}, lambda torch, p: torch.optim.SGD(p, lr=0.1, momentum=0.9), None),
    "nesterov": ({"momentum": 0.8, "nesterov": True}, lambda torch, p: torch.optim.SGD(p, lr=0.1, momentum=0.8,
                                                                                   nesterov=True), None),
    "weight decay": ({"weight_decay": 0.05, "momentum": 0.5},
                     lambda torch, p: torch.optim.SGD(p, lr=0.1, momentum=0.5, weight_decay=0.05), None),
    "adam": ({"optimizer": "adam", "learning_rate": 0.01, "weight_decay": 0.01},
             lambda torch, p: torch.optim.Adam(p, lr=0.01, weight_decay=0.01), None),
    "rmsprop": ({"optimizer": "rmsprop", "learning_rate": 0.01, "alpha": 0.95, "momentum": 0.3, "weight_decay": 0.01},
                lambda torch, p: torch.optim.RMSprop(p, lr=0.01, alpha=0.95, momentum=0.3, weight_decay=0.01), None),
    "rmsprop, no momentum": ({"optimizer": "rmsprop", "learning_rate": 0.01, "eps": 1e-6},
                             lambda torch, p: torch.optim.RMSprop(p, lr=0.01, eps=1e-6), None),
    "step schedule": ({"schedule": "step", "step_size": 2, "gamma": 0.5}, lambda torch, p: torch.optim.SGD(p, lr=0.1),
                      lambda torch, o: torch.optim.lr_scheduler.StepLR(o, step_size=2, gamma=0.5)),
    "exponential schedule": ({"schedule": "exponential", "gamma": 0.7}, lambda torch, p: torch.optim.SGD(p, lr=0.1),
                             lambda torch, o: torch.optim.lr_scheduler.ExponentialLR(o, gamma=0.7)),
    "inverse scaling": ({"schedule": "inverse_scaling", "power": 0.5, "optimizer": "adam", "learning_rate": 0.01},
                        lambda torch, p: torch.optim.Adam(p, lr=0.01),
                        lambda torch, o: torch.optim.lr_scheduler.LambdaLR(o, lambda e: 1 / (e + 1) ** 0.5)),
}


@pytest.mark.parametrize("case", CASES)
def test_optimiser_matches_pytorch_to_1e_10(case, torch):
    options, make_optimizer, make_schedule = CASES[case]
    rng = np.random.default_rng(3)
    network = random_network(rng, [4, 6, 5, 3], "tanh", "softmax", "cross_entropy")
    x = rng.normal(size=(40, 4))
    labels = rng.integers(0, 3, 40)
    model = torch_twin(network)
    optimizer = make_optimizer(torch, model.parameters())
    schedule = make_schedule(torch, optimizer) if make_schedule else None
    epochs = 5
    config = TrainingConfig(**{"learning_rate": 0.1, "batch": 8, "reduction": "mean", "epochs": epochs, **options})
    cr.fit(network, x, np.eye(3)[labels], config)
    xt, yt = torch.from_numpy(x), torch.from_numpy(labels)
    for _ in range(epochs):
        for start in range(0, 40, 8):
            optimizer.zero_grad()
            torch.nn.functional.cross_entropy(model(xt[start:start + 8]), yt[start:start + 8]).backward()
            optimizer.step()
        if schedule:
            schedule.step()
    ours = network.parameters()
    theirs = [p.detach().numpy() for p in model.parameters()]
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_an_optimiser_passed_to_fit_carries_its_state_across_calls():
    """Two calls of one epoch sharing the optimiser train exactly as one call of two epochs."""
    rng = np.random.default_rng(4)
    x, t = rng.normal(size=(12, 3)), rng.uniform(size=(12, 2))
    config = TrainingConfig(learning_rate=0.05, batch=4, epochs=2, momentum=0.9, reduction="mean")
    once = random_network(np.random.default_rng(4), [3, 5, 2], "tanh", "sigmoid", "mse")
    twice = random_network(np.random.default_rng(4), [3, 5, 2], "tanh", "sigmoid", "mse")
    cr.fit(once, x, t, config)
    from dataclasses import replace
    optimizer = config.build_optimizer()
    for _ in range(2):
        cr.fit(twice, x, t, replace(config, epochs=1), resume=optimizer)
    for a, b in zip(once.parameters(), twice.parameters()):
        np.testing.assert_allclose(a, b, rtol=1e-13)


def test_early_stopping_restores_the_best_validation_parameters():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(60, 2))
    t = (x[:, :1] * x[:, 1:] > 0).astype(float) + rng.normal(0, 0.4, (60, 1))   # noisy: overfits
    network = random_network(rng, [2, 30, 1], "tanh", "identity", "mse")
    config = TrainingConfig(learning_rate=0.05, batch=5, reduction="mean", epochs=400, validation_fraction=0.3,
                            patience=10, seed=2)
    history = cr.fit(network, x, t, config)
    assert history.stopped_because == "validation" and history.epochs_run < 400
    best = min(history.validation_loss_history)
    assert history.validation_loss_history[history.best_epoch - 1] == best
    assert history.epochs_run == history.best_epoch + config.patience
    from chainrule.training.train import validation_split
    _, held = validation_split(60, config)
    assert network.dataset_loss(x[held], t[held], "mean") == pytest.approx(best, rel=1e-12)


def test_the_mnist_recipes_rule_matches_pytorch_to_1e_10(torch):
    """specs/mnist-best.toml's rule as written there — SGD with momentum and L2 weight decay, the rate decaying
    exponentially by epoch, the mean over batches — on a small ReLU network, against torch.optim.SGD with
    ExponentialLR (its epochs, batch size and shuffling are the recipe's size, not its rule: set here)."""
    import tomllib
    from pathlib import Path
    training = tomllib.loads((Path(__file__).parent.parent / "specs" / "mnist-best.toml").read_text())["training"]
    rule = {k: v for k, v in training.items() if k not in ("epochs", "batch", "shuffle", "seed", "epoch_loss")}
    assert rule["optimizer"] == "sgd" and rule["schedule"] == "exponential" and rule["reduction"] == "mean"
    rng = np.random.default_rng(5)
    network = random_network(rng, [6, 9, 7, 3], "relu", "softmax", "cross_entropy")
    x, labels = rng.normal(size=(32, 6)), rng.integers(0, 3, 32)
    model = torch_twin(network)
    optimizer = torch.optim.SGD(model.parameters(), lr=rule["learning_rate"], momentum=rule["momentum"],
                                weight_decay=rule["weight_decay"])
    schedule = torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma=rule["gamma"])
    epochs, batch = 4, 8
    cr.fit(network, x, np.eye(3)[labels], TrainingConfig(**rule, epochs=epochs, batch=batch))
    xt, yt = torch.from_numpy(x), torch.from_numpy(labels)
    for _ in range(epochs):
        for start in range(0, 32, batch):
            optimizer.zero_grad()
            torch.nn.functional.cross_entropy(model(xt[start:start + batch]), yt[start:start + batch]).backward()
            optimizer.step()
        schedule.step()
    for a, b in zip(network.parameters(), (p.detach().numpy() for p in model.parameters())):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
