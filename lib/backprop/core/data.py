"""Handwritten digits for training, offline: the 8x8 digits shipped with the library, and real MNIST.

Everything ends in one structure, :class:`Dataset`: inputs as rows ``X`` of shape
``(T, width_0)`` (one flattened, scaled image per row, float64), integer labels
``(T,)``, and the raw images ``(T, rows, cols)`` for showing them.

* :func:`load_digits` -- the 1,797 8x8 digits (UCI "Optical Recognition of
  Handwritten Digits", E. Alpaydin and C. Kaynak, 1998, CC BY 4.0; attribution
  in ``backprop/_data/README.md``) from a 45 KB file inside the package: no
  network, no scikit-learn.
* :func:`stratified_split` -- train/test indices with every digit in the same
  proportion in both parts, drawn from an explicit ``numpy.random.Generator``.
* :class:`Scaling` -- pixels divided by their maximum, then (by default)
  centred per pixel and divided by one standard deviation, all from the
  *training* images.
* :func:`digits_dataset`, :func:`mnist_dataset` -- the whole pipeline.
* :func:`two_or_not_two` -- the binary targets "is it a 2?", shape ``(T, 1)``,
  for one sigmoid output and binary cross-entropy.
* :func:`read_idx`, :func:`load_idx_pair` -- the IDX format of MNIST (raw or
  gzip-compressed), with errors that name the file: a wrong magic number, a
  truncated file, image and label counts that disagree.
"""

from __future__ import annotations

import gzip
import os
import struct
import zlib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from .checks import check_choice, check_labels, check_real, check_rng, describe
from .divergences import one_hot

__all__ = [
    "Dataset",
    "Scaling",
    "load_digits",
    "stratified_split",
    "digits_dataset",
    "two_or_not_two",
    "read_idx",
    "load_idx_pair",
    "mnist_dataset",
    "MNIST_FILES",
]

#: IDX type codes (the third byte of the magic number) and the big-endian dtypes they stand for
IDX_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}

#: the four MNIST files, as published (each may also end in .gz, or use ".idx" for "-idx")
MNIST_FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}

SCALINGS = ("standardise", "unit")


# -- the structure every loader returns -------------------------------------------------------
@dataclass(frozen=True)
class Scaling:
    """Pixels to network inputs: ``x = (pixels / max_value - mean) / std``.

    ``mean`` (width_0,) is each pixel's mean over the training images; ``std``
    (width_0,) holds one number for every pixel, the standard deviation of all
    training pixel values.  Both come from the training images only (:meth:`fit`),
    so the test set is scaled with the same numbers.  One common scale, not one
    per pixel: a border pixel that is inked in a handful of images would
    otherwise be blown up to tens of standard deviations (on the 8x8 digits,
    per-pixel scaling costs about half a point of test accuracy).
    """

    max_value: float
    mean: np.ndarray
    std: np.ndarray

    @classmethod
    def fit(cls, images, max_value: float, how: str = "standardise") -> "Scaling":
        """The scaling for training ``images`` (T, rows, cols): ``"standardise"`` or ``"unit"`` (only / max_value)."""
        check_choice(how, "how", SCALINGS)
        flat = np.asarray(images, dtype=np.float64).reshape(len(images), -1) / max_value
        width = flat.shape[1]
        if how == "unit":
            return cls(float(max_value), np.zeros(width), np.ones(width))
        std = float(flat.std())
        return cls(float(max_value), flat.mean(axis=0), np.full(width, std if std > 0 else 1.0))

    def __call__(self, images) -> np.ndarray:
        """``X`` of shape (T, width_0), float64: one scaled, flattened image per row."""
        images = np.asarray(images)
        if images.ndim < 2 or int(np.prod(images.shape[1:])) != self.mean.shape[0]:
            raise ValueError(
                f"argument 'images' expected (T, ...) with {self.mean.shape[0]} pixels per image, got {describe(images)}"
            )
        X = images.reshape(len(images), -1).astype(np.float64)
        X /= self.max_value
        X -= self.mean
        X /= self.std
        return X


@dataclass(frozen=True, eq=False)
class Dataset:
    """A classification data set ready for a network.

    ``X_train`` (T, width_0) and ``X_test`` (T_test, width_0): scaled inputs,
    float64, one image per row.  ``labels_train`` (T,), ``labels_test``
    (T_test,): int64 class labels.  ``images_train``, ``images_test``: the raw
    pixels (T, rows, cols), for showing digits.  ``D_train``, ``D_test``: one-hot
    targets (T, num_classes) for a softmax output.
    """

    name: str
    X_train: np.ndarray
    labels_train: np.ndarray
    X_test: np.ndarray
    labels_test: np.ndarray
    images_train: np.ndarray
    images_test: np.ndarray
    scaling: Scaling
    num_classes: int = 10

    @property
    def D_train(self) -> np.ndarray:
        """One-hot training targets, (T, num_classes)."""
        return one_hot(self.labels_train, self.num_classes)

    @property
    def D_test(self) -> np.ndarray:
        """One-hot test targets, (T_test, num_classes)."""
        return one_hot(self.labels_test, self.num_classes)

    def __repr__(self) -> str:
        return (
            f"Dataset({self.name!r}: {len(self.labels_train)} training and {len(self.labels_test)} test "
            f"images of {'x'.join(map(str, self.images_train.shape[1:]))} pixels, width_0 = {self.X_train.shape[1]}, "
            f"{self.num_classes} classes)"
        )


def _dataset(name, images_train, labels_train, images_test, labels_test, max_value, scaling) -> Dataset:
    scale = Scaling.fit(images_train, max_value, scaling)
    return Dataset(name, scale(images_train), labels_train, scale(images_test), labels_test,
                   images_train, images_test, scale)


# -- the 8x8 digits -------------------------------------------------------------------------------
def load_digits() -> tuple[np.ndarray, np.ndarray]:
    """The 1,797 8x8 digits: ``images`` (1797, 8, 8) uint8 with values 0..16, ``labels`` (1797,) int64 0..9.

    Read from the package (``backprop/_data/digits.npz``, 45 KB); no network.
    Source and licence (CC BY 4.0): ``backprop/_data/README.md``.
    """
    with resources.files("backprop").joinpath("_data/digits.npz").open("rb") as f:
        with np.load(f, allow_pickle=False) as npz:
            return npz["images"].copy(), npz["labels"].astype(np.int64)


def stratified_split(labels, test_fraction: float = 0.25, *, rng: np.random.Generator):
    """``(train_idx, test_idx)``: every class split in the same proportion, indices sorted.

    Class c with n_c instances puts ``round(test_fraction * n_c)`` of them, drawn
    at random with ``rng``, into the test part.  The same generator state gives
    the same split.
    """
    check_rng(rng)
    labels = np.asarray(labels)
    if labels.ndim != 1 or labels.dtype.kind not in "iu" or labels.size == 0:
        raise ValueError(f"argument 'labels' expected non-empty integer class labels of shape (T,), got {describe(labels)}")
    test_fraction = check_real(test_fraction, "test_fraction")
    if not 0 < test_fraction < 1:
        raise ValueError(f"argument 'test_fraction' expected a share of each class in (0, 1), got {test_fraction:g}")
    train, test = [], []
    for c in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == c))
        n_test = int(round(test_fraction * len(members)))
        test.append(members[:n_test])
        train.append(members[n_test:])
    return np.sort(np.concatenate(train)), np.sort(np.concatenate(test))


def digits_dataset(*, rng: np.random.Generator, test_fraction: float = 0.25, scaling: str = "standardise") -> Dataset:
    """The 8x8 digits as a :class:`Dataset`: a stratified split, then scaling.

    Pixels are divided by 16; with ``scaling="standardise"`` (default) each pixel
    then loses its training mean and all are divided by the training pixels'
    standard deviation (see :class:`Scaling`); ``"unit"`` keeps them in [0, 1].  The default 75/25 split gives 1,347
    training and 450 test images (width_0 = 64).
    """
    check_choice(scaling, "scaling", SCALINGS)
    images, labels = load_digits()
    train, test = stratified_split(labels, test_fraction, rng=rng)
    return _dataset("digits 8x8", images[train], labels[train], images[test], labels[test], 16.0, scaling)


def two_or_not_two(labels) -> np.ndarray:
    """Binary targets "is it a 2?": (T, 1) float64, 1.0 for the digit 2 and 0.0 for any other.

    Shaped for one sigmoid output unit and the binary cross-entropy.
    """
    labels = check_labels(labels, "labels", 10)
    return (labels == 2).astype(np.float64)[:, None]


# -- the IDX format (MNIST) ----------------------------------------------------------------------------
def read_idx(path) -> np.ndarray:
    """The array stored in an IDX file (raw, or gzip-compressed: detected from its first bytes).

    Layout: a magic number ``00 00 TT DD`` (TT the type code, see ``IDX_TYPES``;
    DD the number of dimensions), DD big-endian 4-byte sizes, then the values,
    big-endian, in C order.  Errors name the file and say what is wrong: not an
    IDX file (its magic number), truncated (bytes promised and found), or bytes
    left over after the data.
    """
    path = _path(path, "path")
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (EOFError, OSError, zlib.error) as exc:
            raise ValueError(f"IDX file {path}: the gzip data is truncated or damaged ({exc})") from exc
    if len(raw) < 4:
        raise ValueError(f"IDX file {path} is truncated: {len(raw)} bytes, not even the 4-byte magic number")
    magic = raw[:4]
    if magic[0] != 0 or magic[1] != 0 or magic[2] not in IDX_TYPES or magic[3] == 0:
        raise ValueError(
            f"{path} is not an IDX file: its magic number is 0x{magic.hex()}, expected 0x0000TTDD with a type code TT "
            f"in {{{', '.join(f'{t:02x}' for t in IDX_TYPES)}}} and DD >= 1 dimensions "
            f"(MNIST images: 0x00000803, labels: 0x00000801)"
        )
    ndim, dtype = magic[3], np.dtype(IDX_TYPES[magic[2]])
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError(f"IDX file {path} is truncated: its header needs {header} bytes for {ndim} sizes, the file has {len(raw)}")
    shape = struct.unpack(f">{ndim}I", raw[4:header])
    needed = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    found = len(raw) - header
    if found < needed:
        raise ValueError(
            f"IDX file {path} is truncated: its header promises shape {shape} of {dtype.name} "
            f"({needed} bytes of data), the file holds {found}"
        )
    if found > needed:
        raise ValueError(
            f"IDX file {path} has {found - needed} bytes after the data its header describes "
            f"(shape {shape} of {dtype.name}, {needed} bytes): not a valid IDX file"
        )
    return np.frombuffer(raw, dtype=dtype, count=needed // dtype.itemsize, offset=header).reshape(shape).astype(
        dtype.newbyteorder("=")
    )


def load_idx_pair(images_path, labels_path) -> tuple[np.ndarray, np.ndarray]:
    """``images`` (T, rows, cols) and ``labels`` (T,) int64 from an IDX image file and its label file.

    The counts must agree; labels must be integers 0..9.  Errors name the files.
    """
    images, labels = read_idx(images_path), read_idx(labels_path)
    if images.ndim != 3:
        raise ValueError(f"IDX file {images_path} expected images (T, rows, cols), got {images.ndim}-D of shape {images.shape}")
    if labels.ndim != 1 or labels.dtype.kind not in "iu":
        raise ValueError(f"IDX file {labels_path} expected integer labels (T,), got {describe(labels)}")
    if len(images) != len(labels):
        raise ValueError(
            f"image and label counts disagree: {images_path} holds {len(images)} images, "
            f"{labels_path} holds {len(labels)} labels"
        )
    if labels.size and (labels.min() < 0 or labels.max() > 9):
        bad = int(np.argmax((labels < 0) | (labels > 9)))
        raise ValueError(f"IDX file {labels_path} expected digit labels 0..9, got {labels[bad]} at index {bad}")
    return images, labels.astype(np.int64)


def mnist_dataset(directory, *, scaling: str = "standardise") -> Dataset:
    """Real MNIST from the four IDX files in ``directory`` (see ``MNIST_FILES``; raw or .gz).

    Returns the same :class:`Dataset` as :func:`digits_dataset`: the official
    60,000 / 10,000 split, pixels divided by 255 and (by default) standardised
    with the training images' statistics; width_0 = 784.
    """
    check_choice(scaling, "scaling", SCALINGS)
    directory = _path(directory, "directory")
    if not directory.is_dir():
        raise NotADirectoryError(f"argument 'directory' expected a folder holding the MNIST files, got {str(directory)!r}")
    found = {key: _find_mnist_file(directory, stem) for key, stem in MNIST_FILES.items()}
    train = load_idx_pair(found["train_images"], found["train_labels"])
    test = load_idx_pair(found["test_images"], found["test_labels"])
    if train[0].shape[1:] != test[0].shape[1:]:
        raise ValueError(
            f"{found['train_images']} holds images of {train[0].shape[1:]} pixels, "
            f"{found['test_images']} of {test[0].shape[1:]}"
        )
    return _dataset("MNIST", *train, *test, 255.0, scaling)


def _find_mnist_file(directory: Path, stem: str) -> Path:
    names = [stem, stem + ".gz", stem.replace("-idx", ".idx"), stem.replace("-idx", ".idx") + ".gz"]
    for name in names:
        if (directory / name).is_file():
            return directory / name
    raise FileNotFoundError(f"no MNIST file {stem!r} in {str(directory)!r}: looked for {', '.join(names)}")


def _path(value, name) -> Path:
    if not isinstance(value, (str, os.PathLike)):
        raise TypeError(f"argument '{name}' expected a path (str or os.PathLike), got {describe(value)}")
    return Path(value)
