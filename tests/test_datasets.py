"""Data: the IDX reader, directories of IDX files, CSV with one-hot targets and a standardiser, and a subset
of MNIST trained against PyTorch."""

import numpy as np
import pytest

import chainrule as cr
from chainrule.datasets import Standardizer, load_csv, load_mnist, one_hot, read_idx, train_test_split
from chainrule.training.train import TrainingConfig
from conftest import fashion_like_directory, random_network, torch_twin


def test_idx_reader_reads_and_rejects(tmp_path):
    good = tmp_path / "a.idx"
    good.write_bytes(bytes([0, 0, 8, 2]) + (2).to_bytes(4, "big") + (3).to_bytes(4, "big") + bytes(range(6)))
    np.testing.assert_array_equal(read_idx(good), [[0, 1, 2], [3, 4, 5]])
    bad = tmp_path / "b.idx"
    bad.write_bytes(b"PK\x03\x04rest")
    with pytest.raises(ValueError, match="b.idx: expected an IDX file"):
        read_idx(bad)
    short = tmp_path / "c.idx"
    short.write_bytes(bytes([0, 0, 8, 1]) + (5).to_bytes(4, "big") + bytes(3))
    with pytest.raises(ValueError, match="expected 5 bytes of values for shape \\(5,\\), got 3"):
        read_idx(short)


def test_an_idx_directory_loads_gzipped_files_as_rows_in_0_1(tmp_path):
    train, y, test, y_test = fashion_like_directory(tmp_path / "fashion", np.random.default_rng(0))
    x, labels, x_test, labels_test = cr.datasets.load_idx_directory(tmp_path / "fashion", dtype=np.float64)
    np.testing.assert_allclose(x, train.reshape(400, 36) / 255, rtol=1e-15)
    np.testing.assert_allclose(x_test, test.reshape(100, 36) / 255, rtol=1e-15)
    assert labels.tolist() == y.tolist() and labels_test.tolist() == y_test.tolist()
    (tmp_path / "fashion" / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(ValueError, match="fashion: expected the four IDX files .* got none of t10k-labels-idx1-ubyte$"):
        cr.datasets.load_idx_directory(tmp_path / "fashion")


def test_csv_one_hot_and_standardisation_fitted_on_train_only(tmp_path):
    path = tmp_path / "iris.csv"
    path.write_text("a,b,kind\n1,10,x\n2,20,y\n3,30,x\n4,40,z\n")
    x, t, classes = load_csv(path, "kind")
    assert classes == ["x", "y", "z"] and t.tolist()[1] == [0, 1, 0] and x.shape == (4, 2)
    train, test = train_test_split(4, 0.25, seed=0)
    scaler = Standardizer.fit(x[train])
    z = scaler.transform(x[train])
    np.testing.assert_allclose(z.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(scaler.mean, x[train].mean(axis=0))
    assert one_hot([2, 0], 3).tolist() == [[0, 0, 1], [1, 0, 0]]
    (tmp_path / "bad.csv").write_text("a,kind\nfoo,x\n")
    with pytest.raises(ValueError, match="bad.csv:2: column 1: expected a finite number, got 'foo'"):
        load_csv(tmp_path / "bad.csv", "kind")


def test_one_epoch_on_1000_mnist_samples_matches_pytorch_to_1e_9(torch):
    x, y, _, _ = load_mnist(dtype=np.float64)
    x, y = x[:1000], y[:1000]
    rng = np.random.default_rng(0)
    network = random_network(rng, [784, 64, 32, 10], "relu", "softmax", "cross_entropy")
    model = torch_twin(network)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    config = TrainingConfig(learning_rate=0.1, batch=50, reduction="mean", epochs=1, shuffle=True, seed=5)
    from chainrule.training.train import epoch_batches
    order = np.concatenate(epoch_batches(1000, config, np.random.default_rng((config.seed, 1))))
    cr.fit(network, x, one_hot(y, 10), config)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    for start in range(0, 1000, 50):
        batch = torch.from_numpy(order[start:start + 50])
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(model(xt[batch]), yt[batch]).backward()
        optimizer.step()
    for a, b in zip(network.parameters(), [p.detach().numpy() for p in model.parameters()]):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)
