"""Images: recognised by magic bytes, decoded by Pillow within a pixel budget, and re-encoded clean.

Re-encoding applies the EXIF orientation and then drops every piece of metadata (EXIF with GPS, XMP,
comments, colour profiles after conversion to sRGB): photos of minors must not carry where they were taken.
"""

import io
from dataclasses import dataclass

from PIL import Image, ImageCms, ImageOps

from catalogue.media.errors import UploadError

JPEG_MAGIC = b"\xff\xd8\xff"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
PIL_FORMATS = {"jpeg": "JPEG", "png": "PNG", "webp": "WEBP"}
SAVE_OPTIONS = {
    "jpeg": {"format": "JPEG", "quality": 88, "optimize": True},
    "png": {"format": "PNG", "compress_level": 6},
    "webp": {"format": "WEBP", "quality": 85, "method": 4},
}
# Modes each output format stores as they are; others are converted first.
KEPT_MODES = {"jpeg": {"L", "RGB"}, "png": {"L", "LA", "RGB", "RGBA"}, "webp": {"RGB", "RGBA"}}
SRGB = ImageCms.createProfile("sRGB")


@dataclass(frozen=True)
class ImageLimits:
    """Per call: the most pixels decoded, and the longest side kept (larger images are scaled down)."""

    max_pixels: int = 40_000_000
    max_side: int = 2560


def image_format(data: bytes) -> str | None:
    """``jpeg``, ``png`` or ``webp`` by the magic bytes, or None."""
    if data.startswith(JPEG_MAGIC):
        return "jpeg"
    if data.startswith(PNG_MAGIC):
        return "png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    return None


def reencode_image(data: bytes, file_format: str, display_name: str, limits: ImageLimits) -> tuple[bytes, dict]:
    """The image upright, in sRGB, at most ``limits.max_side`` pixels long, without metadata; and its facts.

    :raise UploadError: the image cannot be decoded or has too many pixels.
    """
    image = _decode(data, file_format, display_name, limits)
    image = ImageOps.exif_transpose(image)
    upright_size = image.size
    image = _output_mode(_to_srgb(image), file_format)
    if max(image.size) > limits.max_side:
        image.thumbnail((limits.max_side, limits.max_side), Image.Resampling.LANCZOS)
    # Pillow copies some of these (XMP, comments, ICC) from ``info`` when saving.
    image.info = {}
    buffer = io.BytesIO()
    image.save(buffer, **SAVE_OPTIONS[file_format])
    facts = {"format": file_format, "width": image.width, "height": image.height}
    if image.size != upright_size:
        facts["original_width"], facts["original_height"] = upright_size
    return buffer.getvalue(), facts


def _decode(data: bytes, file_format: str, display_name: str, limits: ImageLimits) -> Image.Image:
    """The decoded first frame; :raise UploadError: broken, or more pixels than allowed."""
    try:
        image = Image.open(io.BytesIO(data), formats=[PIL_FORMATS[file_format]])
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as e:
        raise _too_many_pixels(display_name, limits) from e
    except Exception as e:  # Pillow's parsers raise many types on hostile input
        raise UploadError(f"Файл «{display_name}» повреждён: изображение не удалось прочитать.") from e
    width, height = image.size
    if width * height > limits.max_pixels:
        image.close()
        raise _too_many_pixels(display_name, limits, (width, height))
    try:
        image.load()
    except Exception as e:  # truncated data, bad chunks, decoder errors
        image.close()
        raise UploadError(f"Файл «{display_name}» повреждён: изображение не удалось прочитать.") from e
    return image


def _too_many_pixels(display_name: str, limits: ImageLimits, size: tuple[int, int] | None = None) -> UploadError:
    megapixels = f"{limits.max_pixels / 1_000_000:g}".replace(".", ",")
    actual = f" ({size[0]} × {size[1]} точек)" if size else ""
    return UploadError(
        f"Изображение «{display_name}» слишком большое{actual}: допускается не больше {megapixels} млн точек."
    )


def _to_srgb(image: Image.Image) -> Image.Image:
    """Colours converted from an embedded profile to sRGB, so that dropping the profile keeps them."""
    profile = image.info.get("icc_profile")
    if not profile or image.mode not in {"RGB", "RGBA", "CMYK", "L"}:
        return image
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(profile))
        output_mode = "RGBA" if image.mode == "RGBA" else "RGB"
        return ImageCms.profileToProfile(image, source, SRGB, outputMode=output_mode) or image
    except (ImageCms.PyCMSError, OSError, ValueError):
        # A broken profile: keep the pixels as they are rather than refuse the photo.
        return image


def _output_mode(image: Image.Image, file_format: str) -> Image.Image:
    """The image in a mode ``file_format`` stores: palettes, 16-bit, CMYK and 1-bit converted."""
    if image.mode in KEPT_MODES[file_format]:
        return image
    if image.mode.startswith("I"):
        # 16-bit greyscale: scale down to 8 bits (a plain conversion would clip).
        image = image.convert("I").point(lambda value: value / 256).convert("L")
        return image if file_format != "webp" else image.convert("RGB")
    has_alpha = "A" in image.mode or "transparency" in image.info
    if has_alpha and file_format != "jpeg":
        return image.convert("RGBA")
    return image.convert("RGB")
