"""Image folders: layouts, exact pixel values, resizing, and the decompression-bomb guard."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from memae.data import images
from memae.data.images import list_images, load_image_folder, read_image


def _save(path: Path, array: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path)


@pytest.fixture
def class_folder(tmp_path: Path) -> Path:
    rng = np.random.default_rng(0)
    for cls, count in (("good", 3), ("bad", 2)):
        for i in range(count):
            _save(tmp_path / cls / f"{i}.png", rng.integers(0, 256, (6, 5), dtype=np.uint8))
    (tmp_path / "good" / "notes.txt").write_text("not an image")
    return tmp_path


def test_class_folders_give_classes_and_exact_values(class_folder: Path) -> None:
    folder = load_image_folder(class_folder)
    assert folder.images.shape == (5, 1, 6, 5) and folder.images.dtype == np.float32
    assert folder.paths == ("bad/0.png", "bad/1.png", "good/0.png", "good/1.png", "good/2.png")
    assert folder.classes == ("bad", "bad", "good", "good", "good")
    raw = np.asarray(Image.open(class_folder / "good" / "1.png"), dtype=np.float32)
    np.testing.assert_array_equal(folder.images[3, 0], raw / 255.0)


def test_classes_filter_and_unknown_class(class_folder: Path) -> None:
    assert load_image_folder(class_folder, classes=["good"]).classes == ("good",) * 3
    with pytest.raises(ValueError, match=r"classes names \['ugly'\].*\['bad', 'good'\]"):
        list_images(class_folder, classes=["ugly"])


def test_flat_folder_rgb_and_resize(tmp_path: Path) -> None:
    pixel = np.zeros((4, 4, 3), dtype=np.uint8)
    pixel[..., 0] = 255
    _save(tmp_path / "a.png", pixel)
    _save(tmp_path / "b.jpg", pixel)
    folder = load_image_folder(tmp_path, color="rgb", size=(8, 6))
    assert folder.images.shape == (2, 3, 8, 6)
    assert folder.classes == ("", "")
    np.testing.assert_allclose(folder.images[0, 0], 1.0)  # red channel, PNG is lossless
    np.testing.assert_allclose(folder.images[0, 1:], 0.0)
    gray = read_image(tmp_path / "a.png", color="gray")
    assert gray.shape == (1, 4, 4)
    np.testing.assert_allclose(gray, round(0.299 * 255) / 255, atol=1 / 255)


def test_mixed_sizes_need_a_size(tmp_path: Path) -> None:
    _save(tmp_path / "a.png", np.zeros((4, 4), np.uint8))
    _save(tmp_path / "b.png", np.zeros((5, 4), np.uint8))
    with pytest.raises(ValueError, match="--image-size"):
        load_image_folder(tmp_path)
    assert load_image_folder(tmp_path, size=(4, 4)).images.shape == (2, 1, 4, 4)


def test_decompression_bomb_is_refused_before_decoding(tmp_path: Path) -> None:
    _save(tmp_path / "big.png", np.zeros((200, 300), np.uint8))
    with pytest.raises(ValueError, match="300x200 pixels, more than max_pixels=10000"):
        read_image(tmp_path / "big.png", max_pixels=10_000)
    assert read_image(tmp_path / "big.png", max_pixels=60_000).shape == (1, 200, 300)


def test_bad_layouts_and_files(tmp_path: Path) -> None:
    with pytest.raises(NotADirectoryError, match="not a directory"):
        list_images(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="no images"):
        list_images(tmp_path / "empty")
    _save(tmp_path / "mixed" / "a.png", np.zeros((2, 2), np.uint8))
    _save(tmp_path / "mixed" / "cls" / "b.png", np.zeros((2, 2), np.uint8))
    with pytest.raises(ValueError, match="both images and class folders"):
        list_images(tmp_path / "mixed")
    (tmp_path / "fake").mkdir()
    (tmp_path / "fake" / "x.png").write_bytes(b"not a png at all")
    with pytest.raises(ValueError, match="cannot read image"):
        load_image_folder(tmp_path / "fake")


@pytest.mark.parametrize("color", ["gray", "rgb"])
def test_16_bit_images_are_scaled_by_their_bit_depth(tmp_path, color: str) -> None:
    pixels = np.random.default_rng(0).integers(0, 65536, size=(6, 7), dtype=np.uint16)
    path = tmp_path / "wide.png"
    Image.fromarray(pixels).save(path)
    image = read_image(path, color=color)
    assert image.shape == ((1 if color == "gray" else 3), 6, 7)
    np.testing.assert_allclose(image[0], pixels / 65535.0, atol=1e-6)
    resized = read_image(path, size=(3, 3))
    assert 0.0 <= resized.min() and resized.max() <= 1.0 and (resized < 1.0).mean() > 0.5


def test_image_folders_that_would_not_fit_in_memory_are_refused(tmp_path, monkeypatch) -> None:
    for i in range(4):
        Image.fromarray(np.full((16, 16), 60 * i, np.uint8)).save(tmp_path / f"{i}.png")
    monkeypatch.setattr(images, "physical_memory", lambda: 2048)  # a 2 KiB machine
    with pytest.raises(ValueError, match=r"4 images .* need .* GiB as float32, more than"):
        images.load_image_folder(tmp_path)
    assert images.load_image_folder(tmp_path, size=(8, 8)).images.shape == (4, 1, 8, 8)
