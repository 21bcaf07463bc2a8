"""Checks of notebook 10's exercises (autoencoders).

1. :func:`check_pca_reconstruction` (quick): reconstruct images from their first k principal
   components, the linear autoencoder's answer.
2. :func:`check_copied_not_compressed` (needs thought): an image that the wide autoencoder (no
   bottleneck) gives back well but the bottleneck autoencoder cannot.
3. :func:`check_compression` (open-ended): a bottleneck size k and a number of bits per code
   number that store an image in as few bits as possible at a PSNR of at least 17 dB.

Each check takes the models and images it is about, so that it measures the answer itself.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping

import numpy as np

from course_utils import autoencoders, metrics
from course_utils.exercises import Feedback, attempted, correct, incorrect, not_attempted

__all__ = [
    "COMPRESSION_MAX_BITS",
    "COMPRESSION_MIN_PSNR",
    "COPY_GAP_DB",
    "COPY_MIN_PSNR",
    "PCA_EXERCISE_K",
    "check_compression",
    "check_copied_not_compressed",
    "check_pca_reconstruction",
    "quantised_psnrs",
]

PCA_EXERCISE_K = 10
"""Components the PCA exercise reconstructs from."""
COPY_MIN_PSNR = 17.0
"""dB the wide autoencoder must reach on the answer image (it copies it)."""
COPY_GAP_DB = 5.0
"""dB by which the bottleneck autoencoder must do worse on it."""
COMPRESSION_MIN_PSNR = 17.0
"""dB the decoded images must reach in the compression exercise."""
COMPRESSION_MAX_BITS = 64
"""Bits per image to get below: a quarter of JPEG's smallest file of these images."""

_PSNR_CAP = 100.0  # dB; an exact copy counts as this


def _predict(model, x: np.ndarray) -> np.ndarray:
    return np.asarray(model.predict(np.asarray(x, dtype=np.float32), batch_size=1000, verbose=0))


# ----------------------------------------------------------------------- 1. PCA reconstruction


def _pca_reconstruction(flat: np.ndarray, pca, k: int, centre: bool = True,
                        add_mean: bool = True) -> np.ndarray:
    components = pca.components_[:k]
    shifted = flat - pca.mean_ if centre else flat
    return shifted @ components.T @ components + (pca.mean_ if add_mean else 0.0)


def check_pca_reconstruction(answer, pca, images, k: int = PCA_EXERCISE_K) -> Feedback:
    """Check the reconstruction of ``images`` from their first k principal components.

    Parameters
    ----------
    answer : array, shape (N, 784) or (N, 28, 28, 1)
        The student's reconstruction: project the centred images onto the first k principal
        directions (``pca.components_[:k]``) and add the mean back.
    pca : sklearn.decomposition.PCA
        Fitted on the flattened training images.
    images : array, shape (N, 28, 28, 1)
        The images to reconstruct.
    k : int
        Number of components.

    Returns
    -------
    feedback : Feedback
    """
    if not attempted(answer):
        return not_attempted(f"set answer = the reconstruction of the images from their first {k} "
                             "principal components, an (N, 784) array.")
    x = np.asarray(images, dtype=np.float64)
    flat = x.reshape(len(x), -1)
    try:
        got = np.asarray(answer, dtype=np.float64)
    except (TypeError, ValueError):
        return incorrect(f"answer must be an array of numbers, got {type(answer).__name__}.")
    if got.size != flat.size or len(got) != len(flat):
        return incorrect(f"answer has shape {got.shape}; it needs one reconstructed image per input "
                         f"image: shape {flat.shape} (or {x.shape}). Hint: (N, 784) @ (784, k) "
                         "@ (k, 784) keeps the shape.")
    got = got.reshape(flat.shape)
    right = _pca_reconstruction(flat, pca, k)
    error = np.abs(got - right).max()
    if error < 1e-3:
        mse = float(np.mean((right - flat) ** 2))
        return correct(f"x̂ = (x - μ) Vₖᵀ Vₖ + μ with the first {k} rows of pca.components_ as Vₖ: "
                       f"MSE {mse:.4f}, PSNR {metrics.psnr(right, flat):.1f} dB. A linear "
                       "autoencoder trained with the squared loss ends up in the same subspace.")
    if np.abs(got - _pca_reconstruction(flat, pca, k, add_mean=False)).max() < 1e-3:
        return incorrect("your images are centred: add the mean image pca.mean_ back after "
                         "projecting.")
    if np.abs(got - _pca_reconstruction(flat, pca, k, centre=False)).max() < 1e-3:
        return incorrect("subtract the mean image pca.mean_ before projecting: the principal "
                         "directions describe how images vary around their mean.")
    if np.abs(got - _pca_reconstruction(flat, pca, pca.n_components_)).max() < 1e-3:
        return incorrect(f"that uses all {pca.n_components_} components; keep only the first {k} "
                         f"rows of pca.components_.")
    if np.abs(got - pca.inverse_transform(pca.transform(flat))).max() < 1e-3:
        return incorrect(f"pca.inverse_transform uses all {pca.n_components_} components; "
                         f"project onto the first {k} yourself.")
    return incorrect(f"the reconstruction is off by up to {error:.3f} in some pixel. Project the "
                     f"centred images (x - μ) onto the first {k} principal directions, "
                     "(x - μ) Vₖᵀ Vₖ, then add μ back.")


# ------------------------------------------------------------------ 2. copied, not compressed


def _one_image(answer, shape: tuple[int, ...]) -> np.ndarray | str:
    try:
        image = np.asarray(answer, dtype=np.float32)
    except (TypeError, ValueError):
        return f"answer must be an image array, got {type(answer).__name__}"
    if image.size != math.prod(shape):
        return f"answer has shape {image.shape}; give one image of shape {shape[:2]} or {shape}"
    if not np.all(np.isfinite(image)) or image.min() < 0 or image.max() > 1:
        return "pixel values must be in [0, 1] (use np.clip)"
    return image.reshape(shape)


def check_copied_not_compressed(answer, wide, bottleneck) -> Feedback:
    """Check an image that the wide autoencoder copies and the bottleneck autoencoder cannot.

    Parameters
    ----------
    answer : array, shape (28, 28) or (28, 28, 1)
        One image, values in [0, 1].
    wide : keras.Model
        The autoencoder without a bottleneck (its code is as long as the image); its output is
        clipped to [0, 1].
    bottleneck : keras.Model
        The dense autoencoder with k = 32.

    Returns
    -------
    feedback : Feedback
        Correct when the wide autoencoder reaches ``COPY_MIN_PSNR`` on the image and the
        bottleneck one stays ``COPY_GAP_DB`` below it.
    """
    if not attempted(answer):
        return not_attempted("set answer = one 28 x 28 image with values in [0, 1].")
    shape = tuple(int(s) for s in wide.input_shape[1:])
    image = _one_image(answer, shape)
    if isinstance(image, str):
        return incorrect(image + ".")
    copy = np.clip(_predict(wide, image[None])[0], 0, 1)
    squeezed = _predict(bottleneck, image[None])[0]
    # Capped, so that two perfect copies (infinite PSNR) compare as equal.
    wide_db, bottleneck_db = (min(metrics.psnr(out, image), _PSNR_CAP) for out in (copy, squeezed))
    numbers_text = (f"wide autoencoder {wide_db:.1f} dB, bottleneck autoencoder "
                    f"{bottleneck_db:.1f} dB")
    if wide_db < COPY_MIN_PSNR:
        return incorrect(f"{numbers_text}: not even the wide one gives it back (it needs "
                         f"{COPY_MIN_PSNR:.0f} dB). It learned the identity only along the "
                         "directions in which its training images vary; pure noise or very fine "
                         "detail goes through badly. Try a smooth shape, e.g. a drawn digit.")
    if bottleneck_db > wide_db - COPY_GAP_DB:
        return incorrect(f"{numbers_text}: the bottleneck one does nearly as well, so your image "
                         "is like the clothes it was trained on. What can 32 numbers describing "
                         f"clothes not express? (It must stay {COPY_GAP_DB:.0f} dB below the wide "
                         "one.)")
    return correct(f"{numbers_text}. The wide autoencoder copies what it is given, garment or not: "
                   "it has learned (nearly) the identity and nothing about clothes. The bottleneck "
                   "autoencoder can only express what its 32 numbers learned to describe, clothes, "
                   "so it turns your image into something like a garment.")


# ------------------------------------------------------------------------------ 3. compression


def quantised_psnrs(encoder, decoder, images, train_images, bits_options) -> dict[int, float]:
    """PSNR of images sent as codes quantised to b bits per number, for several b.

    The quantiser spans, per code number, the range of the codes of ``train_images``
    (``autoencoders.quantize``).

    Parameters
    ----------
    encoder, decoder : keras.Model
        A trained autoencoder's parts.
    images : array, shape (N, H, W, C)
        The images to send.
    train_images : array, shape (M, H, W, C)
        Images that set the quantiser's range.
    bits_options : sequence of int
        The values of b to try, each 1 to 16.

    Returns
    -------
    psnrs : {b: PSNR in dB over all the images}
    """
    train_codes = _predict(encoder, train_images)
    low, high = train_codes.min(axis=0), train_codes.max(axis=0)
    codes = _predict(encoder, images)
    bits_options = [int(b) for b in bits_options]
    sent = [autoencoders.dequantize(autoencoders.quantize(codes, b, low, high), b, low, high)
            for b in bits_options]
    decoded = _predict(decoder, np.concatenate(sent)).reshape(len(bits_options), *np.shape(images))
    return {b: metrics.psnr(out, images) for b, out in zip(bits_options, decoded, strict=True)}


def check_compression(answer, models_by_k: Mapping[int, tuple], images, train_images) -> Feedback:
    """Check a (k, bits) choice that stores images in few bits at ``COMPRESSION_MIN_PSNR``.

    Parameters
    ----------
    answer : (int, int)
        (k, bits): the bottleneck size, a key of ``models_by_k``, and the bits per code number
        (1 to 16). An image then costs k * bits bits.
    models_by_k : {k: (encoder, decoder, autoencoder)}
        The trained dense autoencoders.
    images : array, shape (N, 28, 28, 1)
        Test images to compress.
    train_images : array, shape (M, 28, 28, 1)
        Training images that set the quantiser's range.

    Returns
    -------
    feedback : Feedback
        Correct at a PSNR of at least ``COMPRESSION_MIN_PSNR`` with at most
        ``COMPRESSION_MAX_BITS`` bits per image.
    """
    if not attempted(answer):
        return not_attempted("set answer = (k, bits), e.g. (32, 4) for 32 numbers of 4 bits each.")
    if (not isinstance(answer, tuple | list) or len(answer) != 2
            or not all(isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in answer)):
        return incorrect(f"answer must be a pair of ints (k, bits), got {answer!r}.")
    k, bits = (int(v) for v in answer)
    if k not in models_by_k:
        return incorrect(f"there is no trained autoencoder with k = {k}; choose one of "
                         f"{sorted(models_by_k)}.")
    if not 1 <= bits <= 16:
        return incorrect(f"bits must be between 1 and 16, got {bits}.")
    encoder, decoder, _ = models_by_k[k]
    psnr = quantised_psnrs(encoder, decoder, images, train_images, [bits])[bits]
    total = k * bits
    summary = f"k = {k} numbers x {bits} bits = {total} bits per image at {psnr:.2f} dB"
    if psnr < COMPRESSION_MIN_PSNR:
        hint = ("more bits per number" if bits < 4 else "a larger k")
        return incorrect(f"{summary}: below {COMPRESSION_MIN_PSNR:.0f} dB. Try {hint}; the "
                         "sweep's PSNR without quantisation is the most any bits can give.")
    if total > COMPRESSION_MAX_BITS:
        return incorrect(f"{summary}: good enough, but {total} bits is more than "
                         f"{COMPRESSION_MAX_BITS}. Fewer bits per number cost little until the "
                         "quantisation step gets close to the spread of the codes; a smaller k "
                         "might still reach the target.")
    return correct(f"{summary}, {784 * 8 / total:.0f}x smaller than the 8-bit pixels. Can you go "
                   "lower? Training a model with a k between the sweep's values, or longer, moves "
                   "the frontier.")
