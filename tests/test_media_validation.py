"""Upload validation of documents and images: by content, within limits, with Russian reasons."""

import contextlib
import io
import zipfile

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, PngImagePlugin

from catalogue.media.errors import MiB
from catalogue.media.images import ImageLimits
from catalogue.media.validation import UploadError, safe_filename, validate_upload
from tests.helpers import PDF

GPS_IFD = 0x8825
ORIENTATION = 0x0112


def image_bytes(fmt: str = "PNG", size=(40, 20), colour=(200, 30, 30), **save) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, format=fmt, **save)
    return buffer.getvalue()


def zip_bytes(entries: dict[str, bytes], compression=zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def office(folder: str, extra: dict[str, bytes] | None = None) -> bytes:
    entries = {
        "[Content_Types].xml": b'<?xml version="1.0"?><Types/>',
        "_rels/.rels": b'<?xml version="1.0"?><Relationships/>',
        f"{folder}document.xml": b"<document>Hello</document>",
    }
    return zip_bytes({**entries, **(extra or {})})


def opened(data: bytes) -> Image.Image:
    return Image.open(io.BytesIO(data))


# -- documents --------------------------------------------------------------------------------


def test_pdf_is_accepted_with_its_media_type_and_name():
    upload = validate_upload("document", "Отчёт о проекте.pdf", PDF)
    assert (upload.format, upload.media_type, upload.kind) == ("pdf", "application/pdf", "document")
    assert upload.filename == "Отчёт о проекте.pdf"
    assert upload.data == PDF


def test_pdf_cut_short_is_refused():
    with pytest.raises(UploadError, match="загружен не полностью"):
        validate_upload("document", "report.pdf", PDF[:-8])


@pytest.mark.parametrize(
    ("folder", "expected"),
    [("word/", "docx"), ("ppt/", "pptx"), ("xl/", "xlsx")],
)
def test_office_files_are_told_apart_by_their_parts(folder, expected):
    upload = validate_upload("document", "whatever.bin", office(folder))
    assert upload.format == expected
    assert upload.filename == f"whatever.{expected}"


def test_opendocument_is_recognised_by_its_mimetype_entry():
    data = zip_bytes({"mimetype": b"application/vnd.oasis.opendocument.text", "content.xml": b"<office/>"})
    upload = validate_upload("document", "План.odt", data)
    assert (upload.format, upload.media_type) == ("odt", "application/vnd.oasis.opendocument.text")


def test_office_file_with_macros_is_refused():
    data = office("word/", {"word/vbaProject.bin": b"\0" * 100})
    with pytest.raises(UploadError, match="содержит макросы"):
        validate_upload("document", "letter.docx", data)


def test_docx_zip_bomb_is_refused_without_unpacking():
    # A small file whose one entry would unpack to 60 MB of zeros
    data = office("word/", {"word/media/padding.bin": bytes(60 * MiB)})
    assert len(data) < 200_000
    with pytest.raises(UploadError, match="zip-бомб"):
        validate_upload("document", "bomb.docx", data)


def test_zip_too_large_when_unpacked_is_refused():
    # Stored uncompressed parts add up to more than 100 MB
    entries = {"[Content_Types].xml": b"<Types/>", "word/a.bin": bytes(51 * MiB), "word/b.bin": bytes(51 * MiB)}
    data = zip_bytes(entries, compression=zipfile.ZIP_STORED)
    with pytest.raises(UploadError, match="больше 100 МБ"):
        validate_upload("document", "big.docx", data, max_size=200 * MiB)


def test_zip_with_too_many_entries_is_refused():
    data = zip_bytes({f"word/{i}.xml": b"" for i in range(2001)} | {"[Content_Types].xml": b""})
    with pytest.raises(UploadError, match="больше 2000 файлов"):
        validate_upload("document", "many.docx", data)


def test_a_plain_zip_is_not_a_document():
    with pytest.raises(UploadError, match="не поддерживается: ожидается PDF, DOCX"):
        validate_upload("document", "archive.docx", zip_bytes({"readme.txt": b"hi"}))


def test_broken_zip_is_refused_in_russian():
    with pytest.raises(UploadError, match="повреждён"):
        validate_upload("document", "broken.docx", b"PK\x03\x04" + b"\x00" * 100)


def test_pdf_that_is_really_a_png_is_taken_as_the_image_it_is():
    upload = validate_upload("document", "scan.pdf", image_bytes("PNG"))
    assert (upload.format, upload.kind, upload.media_type) == ("png", "image", "image/png")
    assert upload.filename == "scan.png"


def test_pdf_only_field_refuses_a_png_and_says_what_it_is():
    with pytest.raises(UploadError) as refused:
        validate_upload("document", "note.pdf", image_bytes("PNG"), allowed={"pdf"})
    assert str(refused.value) == "Формат файла «note.pdf» не подходит: это изображение PNG, а ожидается PDF."


def test_unknown_content_lists_the_expected_formats():
    with pytest.raises(UploadError) as refused:
        validate_upload("document", "notes.txt", "Просто текст".encode())
    assert "ожидается PDF, DOCX, PPTX, XLSX, ODT, ODP, ODS, JPEG или PNG" in str(refused.value)


def test_html_posing_as_a_pdf_is_refused():
    with pytest.raises(UploadError, match="не поддерживается"):
        validate_upload("document", "invoice.pdf", b"<html><script>alert(1)</script></html>")


def test_oversize_file_is_refused_and_a_stream_is_not_read_past_the_limit():
    stream = io.BytesIO(PDF + bytes(3 * MiB))
    with pytest.raises(UploadError) as refused:
        validate_upload("document", "big.pdf", stream, max_size=1 * MiB)
    assert str(refused.value) == "Файл «big.pdf» больше 1 МБ."
    assert stream.tell() <= 1 * MiB + 1


def test_empty_file_is_refused():
    with pytest.raises(UploadError, match="пустой"):
        validate_upload("document", "empty.pdf", b"")


@pytest.mark.parametrize(
    ("given_name", "expected"),
    [
        ("../../etc/passwd.pdf", "passwd.pdf"),
        ("C:\\Users\\Маша\\Проект.pdf", "Проект.pdf"),
        ('a<b>:"c"|?*.pdf', "a_b___c____.pdf"),
        ("  .hidden. ", "hidden"),
        ("line\nbreak.pdf", "line_break.pdf"),
        ("", "файл"),
        ("я" * 300 + ".pdf", "я" * 116 + ".pdf"),
    ],
)
def test_display_names_are_made_safe(given_name, expected):
    assert safe_filename(given_name) == expected


# -- images -----------------------------------------------------------------------------------


def photo_with_gps(orientation: int | None = None) -> bytes:
    """A JPEG 40x20, left half red, right half blue, with GPS coordinates (and an orientation) in EXIF."""
    image = Image.new("RGB", (40, 20), (0, 0, 255))
    image.paste((255, 0, 0), (0, 0, 20, 20))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    exif.get_ifd(GPS_IFD).update({1: "N", 2: (52.0, 17.0, 0.0), 3: "E", 4: (104.0, 18.0, 0.0)})
    if orientation:
        exif[ORIENTATION] = orientation
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", exif=exif, quality=95)
    return buffer.getvalue()


def test_photo_loses_its_exif_and_gps_when_reencoded():
    original = photo_with_gps()
    with opened(original) as before:
        assert before.getexif().get_ifd(GPS_IFD)
    upload = validate_upload("image", "фото.jpg", original)
    with opened(upload.data) as after:
        assert not after.getexif()
        assert "exif" not in after.info
        assert after.size == (40, 20)
    assert upload.format == "jpeg" and upload.filename == "фото.jpg"


def test_exif_orientation_is_applied_before_it_is_dropped():
    # Orientation 6: the camera was turned; the picture must be turned 90° clockwise to stand upright
    upload = validate_upload("image", "turned.jpg", photo_with_gps(orientation=6))
    with opened(upload.data) as after:
        assert after.size == (20, 40)
        assert ORIENTATION not in after.getexif()
        top, bottom = after.getpixel((10, 5)), after.getpixel((10, 35))
    # The left (red) half of the stored picture is now on top
    assert top[0] > 200 and top[2] < 60
    assert bottom[2] > 200 and bottom[0] < 60


def test_png_text_chunks_are_dropped():
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "Иванова Анна, 8 класс")
    upload = validate_upload("image", "drawing.png", image_bytes("PNG", pnginfo=info))
    with opened(upload.data) as after:
        assert after.format == "PNG"
        assert "Author" not in after.info


def test_large_image_is_scaled_down_to_2560_pixels():
    upload = validate_upload("image", "wide.png", image_bytes("PNG", size=(3000, 100)))
    assert (upload.facts["width"], upload.facts["height"]) == (2560, 85)
    assert upload.facts["original_width"] == 3000


def test_image_over_the_pixel_budget_is_refused_before_decoding():
    with pytest.raises(UploadError, match="слишком большое"):
        validate_upload("image", "huge.png", image_bytes("PNG", size=(400, 400)), image_limits=ImageLimits(10_000))


def test_webp_is_an_image_but_not_a_document():
    webp = image_bytes("WEBP")
    assert validate_upload("image", "pic.webp", webp).media_type == "image/webp"
    with pytest.raises(UploadError, match="это изображение WebP"):
        validate_upload("document", "pic.webp", webp)


def test_truncated_jpeg_is_refused():
    with pytest.raises(UploadError, match="повреждён"):
        validate_upload("image", "cut.jpg", photo_with_gps()[:300])


def test_pdf_is_not_an_image():
    with pytest.raises(UploadError, match="это документ PDF, а ожидается JPEG, PNG или WebP"):
        validate_upload("image", "photo.jpg", PDF)


def test_palette_png_with_transparency_keeps_its_alpha():
    image = Image.new("P", (10, 10), 0)
    image.putpalette([255, 0, 0, 0, 255, 0] + [0] * 762)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", transparency=0)
    upload = validate_upload("image", "icon.png", buffer.getvalue())
    with opened(upload.data) as after:
        assert after.mode == "RGBA"
        assert after.getpixel((0, 0))[3] == 0


# -- nothing but UploadError ------------------------------------------------------------------


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.binary(max_size=4096), kind=st.sampled_from(["document", "image"]))
def test_random_bytes_as_a_document_or_image_raise_only_upload_errors(data, kind):
    with contextlib.suppress(UploadError):
        validate_upload(kind, "random.bin", data)
