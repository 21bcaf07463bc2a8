"""Tests of the data layer: verification, atomic downloads, offline behaviour, loaders."""

import gzip
import hashlib
import io
import json
import os
import re
import stat
import urllib.error

import numpy as np
import pytest

from course_utils import data

# The natural images the notebooks rely on: each must load offline from a package.
REQUIRED_IMAGES = ["camera", "brick", "grass", "gravel", "coins", "page", "text",
                   "chelsea", "coffee", "astronaut", "china", "flower"]  # fmt: skip


@pytest.fixture
def caches(tmp_path, monkeypatch):
    """Point both caches at empty temporary folders, and forget datasets loaded by earlier tests."""
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "course"))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    data.clear_memory_cache()
    data.reset_network()
    yield tmp_path
    data.clear_memory_cache()
    data.reset_network()


@pytest.fixture
def offline(monkeypatch):
    """Make every download fail as it does on a machine without internet; count the attempts."""
    attempts = []

    def no_network(*args, **kwargs):
        attempts.append(args[0] if args else kwargs.get("url"))
        raise urllib.error.URLError("Name or service not known")

    monkeypatch.setattr(data.urllib.request, "urlopen", no_network)
    return attempts


class Response(io.BytesIO):
    """What urlopen returns: a readable body with headers, usable as a context manager."""

    def __init__(self, body: bytes):
        super().__init__(body)
        self.headers = {"Content-Length": str(len(body))}


@pytest.fixture
def captive_portal(monkeypatch):
    """A network that answers every request with status 200 and a login page."""
    attempts = []

    def login_page(*args, **kwargs):
        attempts.append(args[0] if args else kwargs.get("url"))
        return Response(b"<html><body>Please log in to the campus Wi-Fi</body></html>")

    monkeypatch.setattr(data.urllib.request, "urlopen", login_page)
    return attempts


def write_file(path, payload: bytes):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(payload)
    return hashlib.sha256(payload).hexdigest()


def file_entry(tmp_path, payload=b"real bytes of a dataset", **extra):
    """A manifest file entry whose origin is a local file:// URL."""
    origin = tmp_path / "origin" / "thing.bin"
    digest = write_file(origin, payload)
    return {
        "name": "thing.bin",
        "url": origin.as_uri(),
        "sha256": digest,
        "size": len(payload),
        **extra,
    }


# -------------------------------------------------------------------------------- manifest


def test_manifest_entries_are_complete():
    m = data.manifest()
    for name, entry in m["datasets"].items():
        assert entry["title"] and entry["licence"] and entry["provenance"], name
        for file in entry["files"]:
            assert file["url"].startswith("https://"), file
            assert re.fullmatch(r"[0-9a-f]{64}", file["sha256"]), file
            assert file["size"] > 0
    assert set(REQUIRED_IMAGES) <= set(m["images"])


def test_unknown_dataset_names_the_known_ones():
    with pytest.raises(ValueError, match="fashion_mnist"):
        data.dataset_entry("cifar")


# ------------------------------------------------------------------------ download and verify


def test_download_writes_verified_file(caches):
    entry = file_entry(caches)
    dest = caches / "out" / "thing.bin"
    data.download(entry["url"], dest, entry["sha256"], progress=False)
    assert dest.read_bytes() == b"real bytes of a dataset"
    assert list(dest.parent.iterdir()) == [dest]  # no temporary file left behind


def test_download_with_wrong_hash_leaves_nothing(caches):
    entry = file_entry(caches)
    dest = caches / "out" / "thing.bin"
    with pytest.raises(data.ChecksumError, match="not the expected file"):
        data.download(entry["url"], dest, "0" * 64, progress=False)
    assert not dest.exists()
    assert list(dest.parent.iterdir()) == []


def test_interrupted_download_leaves_no_partial_file(caches, monkeypatch):
    entry = file_entry(caches, payload=b"x" * 300_000)
    dest = caches / "out" / "thing.bin"

    class Dropped:
        """A response that breaks after the first chunk, like a lost connection."""

        headers = {"Content-Length": "300000"}

        def __init__(self):
            self.calls = 0

        def read(self, n):
            self.calls += 1
            if self.calls > 1:
                raise ConnectionResetError("connection reset by peer")
            return b"x" * n

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

    monkeypatch.setattr(data.urllib.request, "urlopen", lambda *a, **k: Dropped())
    with pytest.raises(data.DatasetUnavailable, match="connection reset"):
        data.download(entry["url"], dest, entry["sha256"], progress=False)
    assert not dest.parent.exists() or list(dest.parent.iterdir()) == []


def test_locate_prefers_verified_copy_and_deletes_corrupt_cache(caches):
    entry = file_entry(caches)
    target = data.download_target(entry)
    write_file(target, b"truncated")
    with pytest.warns(UserWarning, match="corrupted"):
        assert data.locate(entry) is None
    assert not target.exists()  # the broken copy is gone, so a fresh download can take its place


def test_locate_uses_mirror_with_its_own_hash_and_skips_bad_mirror(caches):
    good = caches / "mirror" / "good.bin"
    bad = caches / "mirror" / "bad.bin"
    good_hash = write_file(good, b"recompressed copy")
    write_file(bad, b"garbage")
    entry = file_entry(
        caches,
        mirrors=[
            {"path": str(bad), "sha256": good_hash, "source": "bad mirror"},
            {"path": str(good), "sha256": good_hash, "source": "good mirror"},
        ],
    )
    with pytest.warns(UserWarning, match="bad mirror"):
        assert data.locate(entry) == (good, "good mirror")
    assert bad.exists()  # mirrors are not ours to delete


def test_fetch_downloads_then_reuses_cache(caches, monkeypatch):
    entry = file_entry(caches)
    monkeypatch.setitem(
        data.manifest()["datasets"],
        "toy",
        {"title": "toy", "licence": "-", "provenance": "-", "files": [entry]},
    )
    first = data.fetch("toy", progress=False)["thing.bin"]
    assert first == data.download_target(entry) and first.is_file()
    assert data.source_of("toy") == "course cache"


def test_fetch_offline_raises_clear_error(caches, offline, monkeypatch):
    entry = {"name": "thing.bin", "url": "https://example.invalid/thing.bin", "sha256": "0" * 64}
    monkeypatch.setitem(
        data.manifest()["datasets"],
        "toy",
        {"title": "Toy data", "licence": "-", "provenance": "-", "files": [entry]},
    )
    with pytest.raises(data.DatasetUnavailable) as err:
        data.fetch("toy", progress=False)
    message = str(err.value)
    assert "python -m course_utils prefetch" in message
    assert "https://example.invalid/thing.bin" in message


def test_keras_datasets_are_downloaded_into_keras_cache(caches):
    entry = data.dataset_entry("mnist")["files"][0]
    assert data.download_target(entry) == caches / "keras" / "datasets" / "mnist.npz"


# ------------------------------------------------------------------------------------ formats


def test_read_idx_roundtrip_and_truncation(tmp_path):
    images = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    header = b"\x00\x00\x08\x03" + np.array([2, 3, 4], ">u4").tobytes()
    path = tmp_path / "x-idx3-ubyte.gz"
    path.write_bytes(gzip.compress(header + images.tobytes()))
    np.testing.assert_array_equal(data.read_idx(path), images)
    path.write_bytes(gzip.compress(header + images.tobytes()[:-5]))
    with pytest.raises(ValueError, match="header says shape"):
        data.read_idx(path)


def test_as_images_scales_and_rejects_wrong_sizes():
    x = data.as_images(np.full((3, 784), 255.0))
    assert x.shape == (3, 28, 28, 1) and x.dtype == np.float32 and x.max() == 1.0
    with pytest.raises(ValueError, match="784"):
        data.as_images(np.zeros((3, 780)))


# -------------------------------------------------------------------------------------- MNIST


def test_mnist_offline_uses_real_subset(caches, offline, capsys):
    (x_train, y_train), (x_test, y_test) = data.load_mnist()
    assert "offline subset" in capsys.readouterr().out
    assert x_train.shape == (4000, 28, 28, 1) and x_test.shape == (1000, 28, 28, 1)
    assert x_train.dtype == np.float32 and 0.0 <= x_train.min() and x_train.max() == 1.0
    assert np.bincount(y_test).tolist() == [100] * 10
    assert np.bincount(y_train).tolist() == [400] * 10
    # Real digits, not noise: a digit's ink is a minority of its pixels, and all are the same shape.
    ink = (x_train > 0.5).mean(axis=(1, 2, 3))
    assert 0.05 < ink.mean() < 0.3


def test_mnist_subset_split_is_deterministic_and_disjoint():
    (a_train, _), (a_test, _) = data.load_mnist(source="subset", verbose=False)
    data.clear_memory_cache()
    (b_train, _), (b_test, _) = data.load_mnist(source="subset", verbose=False)
    np.testing.assert_array_equal(a_test, b_test)
    train_rows = {row.tobytes() for row in a_train}
    assert not any(row.tobytes() in train_rows for row in a_test)


def test_mnist_full_offline_raises_with_instructions(caches, offline):
    with pytest.raises(data.DatasetUnavailable, match="prefetch"):
        data.load_mnist(source="full")


def test_loaders_return_fresh_copies():
    (x, y), _ = data.load_mnist(source="subset", verbose=False)
    x[:] = 0.0
    y[:] = -1
    (x2, y2), _ = data.load_mnist(source="subset", verbose=False)
    assert x2.max() == 1.0 and y2.min() == 0  # a caller's in-place edit does not leak into the next load


def test_mnist_rejects_unknown_source():
    with pytest.raises(ValueError, match="subset"):
        data.load_mnist(source="half")


# ------------------------------------------------------------------------------ Fashion-MNIST


def test_fashion_mnist_from_a_verified_copy(caches):
    if data.source_of("fashion_mnist").startswith("not on this machine"):
        pytest.skip("no copy of Fashion-MNIST here: apt-get install dataset-fashion-mnist")
    (x_train, y_train), (x_test, y_test) = data.load_fashion_mnist(verbose=False)
    assert x_train.shape == (60000, 28, 28, 1) and x_test.shape == (10000, 28, 28, 1)
    assert np.bincount(y_train).tolist() == [6000] * 10
    assert np.bincount(y_test).tolist() == [1000] * 10
    assert x_train.dtype == np.float32 and x_train.max() == 1.0


def test_fashion_mnist_corrupt_system_copy_is_not_used(caches, offline, monkeypatch, tmp_path):
    entry = json.loads(json.dumps(data.dataset_entry("fashion_mnist")))
    for file in entry["files"]:
        fake = tmp_path / "debian" / file["name"]
        write_file(fake, b"not the real file")
        file["mirrors"] = [
            {"path": str(fake), "sha256": file["mirrors"][0]["sha256"], "source": "Debian"}
        ]
    monkeypatch.setitem(data.manifest()["datasets"], "fashion_mnist", entry)
    with (
        pytest.warns(UserWarning, match="sha256 does not match"),
        pytest.raises(data.DatasetUnavailable, match="Fashion-MNIST"),
    ):
        data.load_fashion_mnist(verbose=False)


# ------------------------------------------------------------------------------------- images


@pytest.mark.parametrize("name", REQUIRED_IMAGES)
def test_every_named_image_loads_offline(name):
    img = data.load_image(name)
    assert img.ndim in (2, 3) and 0.0 <= img.min() and img.max() <= 1.0 and img.max() > 0.5
    assert img.dtype == np.float32  # like every other loader
    grey = data.load_image(name, color="grey")
    rgb = data.load_image(name, color="rgb")
    assert grey.shape == img.shape[:2] and rgb.shape == (*img.shape[:2], 3)


def test_grey_is_luminance_of_rgb():
    rgb = data.load_image("coffee")
    grey = data.load_image("coffee", color="grey")
    np.testing.assert_allclose(grey, rgb @ np.array([0.2125, 0.7154, 0.0721]), rtol=1e-5)


def test_unknown_image_lists_choices():
    with pytest.raises(ValueError, match="camera"):
        data.load_image("lena")
    with pytest.raises(ValueError, match="rgb"):
        data.load_image("camera", color="cmyk")


# --------------------------------------------------------------------------------- synthetic 2D


@pytest.mark.parametrize("name", ["rings", "xor", "spirals"])
def test_2d_datasets_are_balanced_and_seeded(name):
    x, y = data.make_2d_dataset(name, n=400, seed=3)
    assert x.shape == (400, 2) and x.dtype == np.float32 and set(np.unique(y)) == {0, 1}
    assert np.bincount(y).tolist() == [200, 200]
    x2, y2 = data.make_2d_dataset(name, n=400, seed=3)
    np.testing.assert_array_equal(x, x2)
    assert not np.array_equal(x, data.make_2d_dataset(name, n=400, seed=4)[0])


@pytest.mark.parametrize("name", ["rings", "xor", "spirals"])
def test_2d_datasets_defeat_a_linear_classifier(name):
    from sklearn.linear_model import LogisticRegression
    from sklearn.neighbors import KNeighborsClassifier

    x, y = data.make_2d_dataset(name, n=800)
    x_tr, x_te, y_tr, y_te = x[:560], x[560:], y[:560], y[560:]
    linear = LogisticRegression().fit(x_tr, y_tr).score(x_te, y_te)
    local = KNeighborsClassifier(5).fit(x_tr, y_tr).score(x_te, y_te)
    assert linear < 0.75 and local > 0.9  # not linearly separable, yet learnable


# ------------------------------------------------------------------------- a classroom network


def test_a_captive_portal_ends_like_no_network_with_the_offline_fallback(caches, captive_portal,
                                                                         capsys):
    with pytest.raises(data.DatasetUnavailable, match="not the expected file"):
        data.fetch("mnist", progress=False)
    (x_train, _), _ = data.load_mnist()  # falls back instead of crashing
    assert len(x_train) == 4000 and "offline subset" in capsys.readouterr().out
    assert not (caches / "keras" / "datasets" / "mnist.npz").exists()  # the login page is not kept
    assert list((caches / "keras" / "datasets").iterdir()) == []


def test_the_network_is_tried_once_per_process(caches, offline):
    for _ in range(3):
        with pytest.raises(data.DatasetUnavailable):
            data.fetch("mnist", progress=False)
    assert len(offline) == 1
    with pytest.raises(data.DatasetUnavailable, match="failed earlier in this process"):
        data.fetch("mnist", progress=False)
    data.reset_network()
    with pytest.raises(data.DatasetUnavailable):
        data.fetch("mnist", progress=False)
    assert len(offline) == 2


def test_a_bad_file_in_the_shared_keras_cache_is_reported_not_deleted(caches, monkeypatch):
    entry = file_entry(caches, keras_cache="datasets/thing.bin")
    foreign = caches / "keras" / "datasets" / "thing.bin"
    write_file(foreign, b"someone else's different file")
    with pytest.warns(UserWarning, match="not deleted"):
        assert data.locate(entry) is None
    assert foreign.read_bytes() == b"someone else's different file"
    # A download then goes to our own cache instead of overwriting it.
    assert data.download_target(entry) == caches / "course" / "thing.bin"
    monkeypatch.setitem(data.manifest()["datasets"], "toy",
                        {"title": "toy", "licence": "-", "provenance": "-", "files": [entry]})
    with pytest.warns(UserWarning, match="not deleted"):
        path = data.fetch("toy", progress=False)["thing.bin"]
    assert path == caches / "course" / "thing.bin" and foreign.exists()


def test_downloads_get_normal_permissions(caches):
    entry = file_entry(caches)
    dest = caches / "out" / "thing.bin"
    umask = os.umask(0o022)
    try:
        data.download(entry["url"], dest, entry["sha256"], progress=False)
    finally:
        os.umask(umask)
    assert stat.S_IMODE(dest.stat().st_mode) == 0o644


def test_download_checks_files_without_a_pinned_hash(caches):
    entry = file_entry(caches, payload=b"<html>login</html>")
    dest = caches / "out" / "weights.h5"

    def must_be_hdf5(path):
        if not path.read_bytes().startswith(b"\x89HDF"):
            raise ValueError("not an HDF5 file")

    with pytest.raises(data.ChecksumError, match="not an HDF5 file"):
        data.download(entry["url"], dest, verify=must_be_hdf5, progress=False)
    assert not dest.exists() and data.network_failure() is not None


def test_status_lists_every_dataset(capsys, caches):
    data.status()
    out = capsys.readouterr().out
    assert all(name in out for name in ("mnist", "mnist_subset", "fashion_mnist"))


def test_prefetch_offline_reports_what_is_missing(capsys, caches, offline):
    assert data.prefetch_datasets(progress=False) is False
    out = capsys.readouterr().out
    assert "MISSING  mnist " in out and "ok       mnist_subset" in out
    assert "ok       camera" in out
