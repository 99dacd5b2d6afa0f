"""Tests backprop.core.data: the shipped digits, the split and scaling, MNIST from IDX files built here."""

import gzip
import struct
from importlib import resources

import numpy as np
import pytest

import backprop as bp
from backprop.core.data import load_digits, load_idx_pair, read_idx, stratified_split
from strategies import assert_explained

#: instances per digit 0..9 in the UCI test set (optdigits.tes), as published
DIGIT_COUNTS = [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]


# -- the 8x8 digits -------------------------------------------------------------------------------
def test_digits_load_offline_with_the_published_class_counts():
    images, labels = load_digits()
    assert images.shape == (1797, 8, 8) and images.dtype == np.uint8
    assert labels.shape == (1797,) and labels.dtype == np.int64
    assert images.min() == 0 and images.max() == 16
    assert np.bincount(labels).tolist() == DIGIT_COUNTS


def test_digits_file_is_small_and_carries_its_attribution():
    data = resources.files("backprop").joinpath("_data")
    assert len(data.joinpath("digits.npz").read_bytes()) < 60_000
    readme = data.joinpath("README.md").read_text()
    for fragment in ["Alpaydin", "Kaynak", "1998", "CC BY 4.0", "https://archive.ics.uci.edu/dataset/80"]:
        assert fragment in readme


def test_a_digit_looks_like_its_label():
    """The first image is a 0: inked around a hollow centre (the npz kept the pixel layout)."""
    images, labels = load_digits()
    zero = images[0].astype(float)
    assert labels[0] == 0
    assert zero[3:5, 3:5].mean() < zero[[1, 6], 2:6].mean() / 4


# -- the split -----------------------------------------------------------------------------------------
def test_stratified_split_is_deterministic_disjoint_and_keeps_proportions():
    _, labels = load_digits()
    train, test = stratified_split(labels, 0.25, rng=np.random.default_rng(7))
    again = stratified_split(labels, 0.25, rng=np.random.default_rng(7))
    other = stratified_split(labels, 0.25, rng=np.random.default_rng(8))
    np.testing.assert_array_equal(train, again[0])
    np.testing.assert_array_equal(test, again[1])
    assert not np.array_equal(test, other[1])
    assert np.intersect1d(train, test).size == 0
    np.testing.assert_array_equal(np.sort(np.concatenate([train, test])), np.arange(len(labels)))
    assert np.bincount(labels[test]).tolist() == [round(0.25 * n) for n in DIGIT_COUNTS]


@pytest.mark.parametrize("kwargs, exc, fragments", [
    ({"test_fraction": 0.0}, ValueError, ["'test_fraction'", "in (0, 1)", "got 0"]),
    ({"test_fraction": 1.5}, ValueError, ["'test_fraction'", "got 1.5"]),
    ({"rng": 0}, TypeError, ["'rng'", "numpy.random.Generator", "got int"]),
])
def test_stratified_split_refuses_bad_arguments(kwargs, exc, fragments):
    args = {"test_fraction": 0.25, "rng": np.random.default_rng(0)} | kwargs
    assert_explained(lambda: stratified_split(np.arange(10) % 2, **args), exc, fragments)


def test_split_labels_must_be_integer_classes():
    for labels in (np.array([0.5, 1.0]), np.array([], dtype=int), np.zeros((2, 2), dtype=int)):
        assert_explained(lambda: stratified_split(labels, rng=np.random.default_rng(0)), ValueError,
                         ["'labels' expected non-empty integer class labels of shape (T,)"])


# -- scaling and the dataset --------------------------------------------------------------------------------
def test_digits_dataset_is_scaled_with_training_statistics_only():
    data = bp.digits_dataset(rng=np.random.default_rng(0))
    assert data.X_train.shape == (1347, 64) and data.X_test.shape == (450, 64)
    assert data.X_train.dtype == np.float64 and data.images_test.shape == (450, 8, 8)
    np.testing.assert_allclose(data.X_train.mean(axis=0), 0, atol=1e-12)
    train_pixels = data.images_train.reshape(-1, 64) / 16
    np.testing.assert_array_equal(data.scaling.std, train_pixels.std())  # one scale for every pixel
    expected_test = (data.images_test.reshape(-1, 64) / 16 - train_pixels.mean(axis=0)) / train_pixels.std()
    np.testing.assert_allclose(data.X_test, expected_test, rtol=1e-12, atol=1e-12)
    assert abs(data.X_test.mean()) > 1e-6  # the test set's own mean was not used


def test_unit_scaling_keeps_pixels_in_zero_one():
    data = bp.digits_dataset(rng=np.random.default_rng(0), scaling="unit")
    np.testing.assert_array_equal(data.X_train, data.images_train.reshape(-1, 64) / 16)
    assert_explained(lambda: bp.digits_dataset(rng=np.random.default_rng(0), scaling="minmax"), ValueError,
                     ["'scaling' expected one of", "got 'minmax'"])


def test_one_hot_targets_and_two_or_not_two():
    data = bp.digits_dataset(rng=np.random.default_rng(0))
    np.testing.assert_array_equal(data.D_train.argmax(axis=1), data.labels_train)
    np.testing.assert_array_equal(data.D_test.sum(axis=1), 1.0)
    _, labels = load_digits()
    binary = bp.two_or_not_two(labels)
    assert binary.shape == (1797, 1) and binary.dtype == np.float64
    assert binary.sum() == DIGIT_COUNTS[2]
    np.testing.assert_array_equal(binary[:, 0] == 1.0, labels == 2)
    assert_explained(lambda: bp.two_or_not_two([1, 12]), ValueError, ["'labels' expected labels in 0..9, got 12"])
    assert_explained(lambda: bp.two_or_not_two([1.5]), TypeError, ["'labels'", "non-integer value 1.5"])


def test_scaling_refuses_images_of_another_size():
    data = bp.digits_dataset(rng=np.random.default_rng(0))
    assert_explained(lambda: data.scaling(np.zeros((2, 28, 28))), ValueError,
                     ["'images' expected (T, ...) with 64 pixels per image", "got array of shape (2, 28, 28)"])


# -- IDX files, built here ---------------------------------------------------------------------------------------
def idx_bytes(array, type_code=0x08, magic=None):
    array = np.asarray(array)
    dtype = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}[type_code]
    head = magic if magic is not None else bytes([0, 0, type_code, array.ndim])
    return head + struct.pack(f">{array.ndim}I", *array.shape) + array.astype(dtype).tobytes()


def write(path, payload, compress=False):
    path.write_bytes(gzip.compress(payload) if compress else payload)
    return path


@pytest.mark.parametrize("compress", [False, True], ids=["raw", "gzip"])
@pytest.mark.parametrize("type_code, values", [
    (0x08, np.arange(24).reshape(2, 3, 4)),
    (0x0C, np.array([-70000, 5, 2**31 - 1])),
    (0x0E, np.array([[1.5, -2.25], [np.pi, 0.0]])),
])
def test_read_idx_round_trips(tmp_path, compress, type_code, values):
    path = write(tmp_path / "a.idx", idx_bytes(values, type_code), compress)
    out = read_idx(path)
    np.testing.assert_array_equal(out, values)
    assert out.dtype.isnative


@pytest.mark.parametrize("payload, fragments", [
    (b"\x00\x00\x08", ["is truncated", "3 bytes"]),
    (idx_bytes(np.zeros((2, 2)), magic=b"\x00\x00\x07\x02"), ["is not an IDX file", "0x00000702", "0x00000803"]),
    (idx_bytes(np.zeros((2, 2)), magic=b"\x08\x03\x00\x00"), ["is not an IDX file", "0x08030000"]),
    (b"\x00\x00\x08\x03\x00\x00\x00\x02", ["is truncated", "header needs 16 bytes"]),
    (idx_bytes(np.zeros((3, 4, 4)))[:-5], ["is truncated", "shape (3, 4, 4)", "48 bytes", "holds 43"]),
    (idx_bytes(np.zeros(5)) + b"\x00\x00", ["2 bytes after the data"]),
], ids=["shorter than the magic", "unknown type", "magic bytes swapped", "header cut", "data cut", "trailing bytes"])
@pytest.mark.parametrize("compress", [False, True], ids=["raw", "gzip"])
def test_read_idx_explains_a_bad_file_and_names_it(tmp_path, payload, fragments, compress):
    path = write(tmp_path / "broken-idx3-ubyte", payload, compress)
    with pytest.raises(ValueError) as info:
        read_idx(path)
    assert str(path) in str(info.value)
    for fragment in fragments:
        assert fragment in str(info.value)


def test_read_idx_reports_a_truncated_gzip_stream(tmp_path):
    path = tmp_path / "cut.gz"
    path.write_bytes(gzip.compress(idx_bytes(np.zeros((10, 28, 28))))[:-20])
    with pytest.raises(ValueError, match=f"IDX file {path}: the gzip data is truncated or damaged"):
        read_idx(path)


def test_read_idx_needs_a_path(tmp_path):
    assert_explained(lambda: read_idx(3), TypeError, ["'path' expected a path", "got int"])
    with pytest.raises(FileNotFoundError):
        read_idx(tmp_path / "missing")


def test_image_and_label_counts_must_agree(tmp_path):
    images = write(tmp_path / "img", idx_bytes(np.zeros((3, 28, 28))))
    labels = write(tmp_path / "lab", idx_bytes(np.array([1, 2])))
    with pytest.raises(ValueError) as info:
        load_idx_pair(images, labels)
    message = str(info.value)
    assert "counts disagree" in message and f"{images} holds 3 images" in message and f"{labels} holds 2 labels" in message


def test_idx_pair_checks_dimensions_and_label_values(tmp_path):
    flat = write(tmp_path / "flat", idx_bytes(np.zeros((3, 784))))
    labels = write(tmp_path / "lab", idx_bytes(np.array([1, 2, 3])))
    with pytest.raises(ValueError, match=f"IDX file {flat} expected images \\(T, rows, cols\\), got 2-D"):
        load_idx_pair(flat, labels)
    images = write(tmp_path / "img", idx_bytes(np.zeros((3, 2, 2))))
    bad = write(tmp_path / "bad", idx_bytes(np.array([1, 12, 3])))
    with pytest.raises(ValueError, match=f"IDX file {bad} expected digit labels 0..9, got 12 at index 1"):
        load_idx_pair(images, bad)


def make_mnist(folder, rng, compress, n_train=30, n_test=12):
    sets = {"train": n_train, "t10k": n_test}
    out = {}
    for prefix, n in sets.items():
        images = rng.integers(0, 256, size=(n, 28, 28))
        labels = np.arange(n) % 10
        suffix = ".gz" if compress else ""
        write(folder / f"{prefix}-images-idx3-ubyte{suffix}", idx_bytes(images), compress)
        write(folder / f"{prefix}-labels-idx1-ubyte{suffix}", idx_bytes(labels), compress)
        out[prefix] = (images, labels)
    return out


@pytest.mark.parametrize("compress", [False, True], ids=["raw", "gzip"])
def test_mnist_dataset_returns_the_same_structure_as_the_digits(tmp_path, compress):
    made = make_mnist(tmp_path, np.random.default_rng(0), compress)
    data = bp.mnist_dataset(tmp_path)
    digits = bp.digits_dataset(rng=np.random.default_rng(0))
    assert type(data) is type(digits) and data.num_classes == 10
    assert data.X_train.shape == (30, 784) and data.X_test.shape == (12, 784)
    np.testing.assert_array_equal(data.images_train, made["train"][0])
    np.testing.assert_array_equal(data.labels_test, made["t10k"][1])
    pixels = made["train"][0].reshape(30, -1) / 255
    np.testing.assert_allclose(data.X_train, (pixels - pixels.mean(axis=0)) / pixels.std(), rtol=1e-12)
    assert data.D_train.shape == (30, 10)
    assert "MNIST" in repr(data)


def test_mnist_dataset_names_what_is_missing(tmp_path):
    make_mnist(tmp_path, np.random.default_rng(0), False)
    (tmp_path / "t10k-labels-idx1-ubyte").unlink()
    with pytest.raises(FileNotFoundError) as info:
        bp.mnist_dataset(tmp_path)
    assert "t10k-labels-idx1-ubyte" in str(info.value) and "t10k-labels-idx1-ubyte.gz" in str(info.value)
    with pytest.raises(NotADirectoryError, match="'directory' expected a folder"):
        bp.mnist_dataset(tmp_path / "t10k-images-idx3-ubyte")


def test_mnist_dataset_accepts_the_dotted_names(tmp_path):
    make_mnist(tmp_path, np.random.default_rng(1), False)
    for path in tmp_path.iterdir():
        path.rename(tmp_path / path.name.replace("-idx", ".idx"))
    assert bp.mnist_dataset(tmp_path).X_test.shape == (12, 784)
