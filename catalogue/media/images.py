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
ORIENTATION = 0x0112


# Bytes Pillow keeps per pixel while decoding; palettes and 1-bit images are counted as the RGBA they become.
BYTES_PER_PIXEL = {"L": 1, "I;16": 2, "I;16L": 2, "I;16B": 2, "I;16N": 2}
FULL_PIXEL = 4


@dataclass(frozen=True)
class ImageLimits:
    """Per call: the most pixels and bytes decoded, and the longest side kept (larger images are scaled down).

    The memory an image takes is about ``max_decoded_bytes`` plus a little while it is scaled down: it is
    shrunk right after decoding (JPEG even while decoding), before anything else makes a copy.
    """

    max_pixels: int = 40_000_000
    max_side: int = 2560
    max_decoded_bytes: int = 128 * 1024 * 1024


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
    image, upright_size = _decode(data, file_format, display_name, limits)
    image = ImageOps.exif_transpose(image)
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


def _decode(
    data: bytes, file_format: str, display_name: str, limits: ImageLimits
) -> tuple[Image.Image, tuple[int, int]]:
    """The decoded first frame, already at most ``limits.max_side`` long, and its full size upright.

    The size is read from the header (Pillow decodes lazily) and checked before any pixel is decoded.

    :raise UploadError: broken, or more pixels or decoded bytes than allowed.
    """
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
    upright = (height, width) if _turned(image) else (width, height)
    try:
        if file_format == "jpeg":
            # JPEG decodes at 1/2, 1/4 or 1/8 of its size when asked: the full picture is never in memory.
            image.draft(image.mode, (limits.max_side, limits.max_side))
        per_pixel = BYTES_PER_PIXEL.get(image.mode, FULL_PIXEL)
        if image.size[0] * image.size[1] * per_pixel > limits.max_decoded_bytes:
            image.close()
            raise _too_many_pixels(display_name, limits, (width, height), limits.max_decoded_bytes // per_pixel)
        image.load()
        if image.mode in ("1", "P"):
            image = image.convert("RGBA" if "transparency" in image.info else "RGB")
        if max(image.size) > limits.max_side:
            image.thumbnail((limits.max_side, limits.max_side), Image.Resampling.LANCZOS)
    except UploadError:
        raise
    except Exception as e:  # truncated data, bad chunks, decoder errors
        image.close()
        raise UploadError(f"Файл «{display_name}» повреждён: изображение не удалось прочитать.") from e
    return image, upright


def _turned(image: Image.Image) -> bool:
    """True when the EXIF orientation turns the picture by 90° (width and height swap)."""
    try:
        return image.getexif().get(ORIENTATION) in (5, 6, 7, 8)
    except Exception:  # a broken EXIF block: exif_transpose will not turn it either
        return False


def _too_many_pixels(
    display_name: str, limits: ImageLimits, size: tuple[int, int] | None = None, max_pixels: int | None = None
) -> UploadError:
    allowed = min(limits.max_pixels, max_pixels or limits.max_pixels)
    megapixels = f"{allowed / 1_000_000:.2f}".rstrip("0").rstrip(".").replace(".", ",")
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
