"""Uploads lose what identifies their author before they are stored: PDF, office files and 3D models.

Each test sends a file that carries a student's name (or a real exporter's path) where writers put it,
and checks that the stored bytes no longer contain it and still open, with the same pages or triangles.
"""

import base64
import io
import json
import random
import struct
import zipfile

import openpyxl
import pytest
from pypdf import PdfReader, PdfWriter
from pypdf.generic import NameObject, StreamObject

from catalogue.media.errors import Deadline
from catalogue.media.gltf import parse_glb
from catalogue.media.meshes import MeshLimits
from catalogue.media.validation import UploadError, validate_upload
from tests.helpers import fixture_bytes

NAME = "Иванов Артём"
CORE = "http://schemas.microsoft.com/3dmanufacturing/core/2015/02"


def leaks(data: bytes, *texts: str) -> list[str]:
    """Which of ``texts`` appear in ``data`` in any encoding a writer uses (UTF-8, UTF-16, PDF escapes)."""
    found = []
    for text in texts:
        forms = {text.encode(), text.encode("utf-16-be"), text.encode("utf-16-le")}
        if text.isascii():
            forms.add(text.lower().encode())
        if any(form in data for form in forms):
            found.append(text)
    return found


def zip_bytes(entries: dict[str, bytes], first_stored: str | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data, zipfile.ZIP_STORED if name == first_stored else zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


# -- PDF --------------------------------------------------------------------------------------


def pdf_with_metadata(pages: int = 3) -> bytes:
    """A PDF whose Info dictionary, catalog XMP and page XMP name the student; saved twice (incrementally)."""
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(595, 842)
    writer.add_metadata(
        {"/Author": NAME, "/Title": f"Проект {NAME}", "/Creator": "Ivanov-PC Word", "/Subject": "Ivanov subject"}
    )
    xmp = StreamObject()
    xmp.set_data(f'<x:xmpmeta xmlns:x="adobe:ns:meta/"><dc:creator>{NAME}</dc:creator></x:xmpmeta>'.encode())
    xmp.update({NameObject("/Type"): NameObject("/Metadata"), NameObject("/Subtype"): NameObject("/XML")})
    reference = writer._add_object(xmp)
    writer.root_object[NameObject("/Metadata")] = reference
    writer.pages[1][NameObject("/Metadata")] = reference
    buffer = io.BytesIO()
    writer.write(buffer)
    # An incremental save keeps the earlier Info dictionary in the file after a newer one
    writer = PdfWriter(buffer, incremental=True)
    writer.add_metadata({"/Author": "Kuznetsova Maria"})
    writer.write(buffer)
    return buffer.getvalue()


def test_pdf_is_stored_without_its_author_title_and_xmp():
    original = pdf_with_metadata()
    assert leaks(original, NAME, "Ivanov", "Kuznetsova") == [NAME, "Ivanov", "Kuznetsova"]
    upload = validate_upload("document", "проект.pdf", original)
    # Nothing of the author is left, in any encoding
    assert leaks(upload.data, NAME, "Ivanov", "Kuznetsova") == []
    # The copy is a PDF that opens, with every page
    reader = PdfReader(io.BytesIO(upload.data))
    assert len(reader.pages) == 3 and upload.facts["pages"] == 3
    assert reader.metadata is None and "/Metadata" not in reader.root_object
    assert all("/Metadata" not in page for page in reader.pages)


def test_pdf_made_by_the_site_itself_keeps_its_pages():
    from weasyprint import HTML

    original = HTML(string="<h1>Отчёт</h1><p style='page-break-after: always'>Страница</p><p>Вторая</p>").write_pdf()
    upload = validate_upload("document", "отчёт.pdf", original)
    reader = PdfReader(io.BytesIO(upload.data))
    assert len(reader.pages) == 2 and reader.metadata is None
    assert "Отчёт" in reader.pages[0].extract_text()


def test_pdf_that_cannot_be_rewritten_is_refused_rather_than_stored_with_metadata():
    # Looks like a PDF, ends like one, but has no cross-reference table or pages to write again
    fake = b"%PDF-1.4\n1 0 obj << /Type /Catalog /Author (" + NAME.encode() + b") >> endobj\n%%EOF\n"
    with pytest.raises(UploadError) as refused:
        validate_upload("document", "скан.pdf", fake)
    assert str(refused.value).startswith("Файл «скан.pdf» не удалось проверить и очистить от сведений об авторе")


def test_password_protected_pdf_is_refused_in_russian():
    writer = PdfWriter()
    writer.add_blank_page(100, 100)
    writer.encrypt(user_password="секрет", owner_password="секрет")
    buffer = io.BytesIO()
    writer.write(buffer)
    with pytest.raises(UploadError, match="защищён паролем"):
        validate_upload("document", "закрытый.pdf", buffer.getvalue())


# -- office documents -------------------------------------------------------------------------


def test_xlsx_loses_creator_and_last_editor_and_still_opens():
    workbook = openpyxl.Workbook()
    workbook.active["A1"] = "Количество участников"
    workbook.properties.creator = NAME
    workbook.properties.lastModifiedBy = "Ivanov Artyom"
    workbook.properties.title = f"Таблица {NAME}"
    buffer = io.BytesIO()
    workbook.save(buffer)
    assert leaks(buffer.getvalue(), "Ivanov") == []  # compressed: the names are inside the zip
    upload = validate_upload("document", "таблица.xlsx", buffer.getvalue())
    with zipfile.ZipFile(io.BytesIO(upload.data)) as archive:
        unpacked = b"".join(archive.read(name) for name in archive.namelist())
    assert leaks(unpacked, NAME, "Ivanov") == []
    reopened = openpyxl.load_workbook(io.BytesIO(upload.data))
    assert reopened.active["A1"].value == "Количество участников"
    # (openpyxl names itself the creator of a workbook that names nobody)
    assert reopened.properties.creator in (None, "openpyxl")
    assert reopened.properties.lastModifiedBy is None and reopened.properties.title is None


def test_docx_core_and_app_properties_are_blanked_and_the_text_kept():
    core = (
        '<?xml version="1.0" encoding="UTF-8"?><cp:coreProperties '
        'xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
        f'xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:creator>{NAME}</dc:creator>'
        "<cp:lastModifiedBy>Ivanov Artyom</cp:lastModifiedBy></cp:coreProperties>"
    )
    app = (
        '<?xml version="1.0"?><Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/'
        'extended-properties"><Company>Школа Ivanov</Company><Manager>Petrova</Manager></Properties>'
    )
    document = "<w:document><w:body>Текст работы</w:body></w:document>".encode()
    original = zip_bytes(
        {
            "[Content_Types].xml": b"<Types/>",
            "_rels/.rels": b"<Relationships/>",
            "docProps/core.xml": core.encode(),
            "docProps/app.xml": app.encode(),
            "word/document.xml": document,
        }
    )
    upload = validate_upload("document", "работа.docx", original)
    with zipfile.ZipFile(io.BytesIO(upload.data)) as archive:
        assert archive.testzip() is None
        assert archive.read("word/document.xml") == document
        properties = archive.read("docProps/core.xml") + archive.read("docProps/app.xml")
        assert {info.date_time for info in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}
    assert leaks(properties, NAME, "Ivanov", "Petrova") == []
    assert b"coreProperties" in properties  # an empty part of the same kind, so the package stays whole


def test_odt_meta_is_blanked_and_mimetype_stays_first_and_uncompressed():
    meta = (
        '<office:document-meta xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:meta="urn:oasis:names:tc:opendocument:xmlns:meta:1.0"><office:meta>'
        f"<meta:initial-creator>{NAME}</meta:initial-creator></office:meta></office:document-meta>"
    )
    original = zip_bytes(
        {"mimetype": b"application/vnd.oasis.opendocument.text", "meta.xml": meta.encode(), "content.xml": b"<c/>"},
        first_stored="mimetype",
    )
    upload = validate_upload("document", "план.odt", original)
    with zipfile.ZipFile(io.BytesIO(upload.data)) as archive:
        first = archive.infolist()[0]
        assert (first.filename, first.compress_type) == ("mimetype", zipfile.ZIP_STORED)
        assert leaks(archive.read("meta.xml"), NAME) == []
        assert archive.read("content.xml") == b"<c/>"
    # Readers find the type at a fixed offset of the file
    assert upload.data[30:38] == b"mimetype"
    assert upload.format == "odt"


# -- STL --------------------------------------------------------------------------------------


def test_blender_path_in_a_binary_stl_header_is_not_stored():
    original = fixture_bytes("teapot.stl")
    assert b"/home/phooky" in original[:80]
    upload = validate_upload("model", "teapot.stl", original)
    assert b"phooky" not in upload.data and b"Blender" not in upload.data
    # Only the header changed: the triangles are the same bytes
    assert upload.data[80:] == original[80:] and upload.facts["triangles"] == 894


def test_student_name_in_a_binary_stl_header_is_not_stored():
    cube = fixture_bytes("20mm-xyz-cube.stl")
    upload = validate_upload("model", "куб.stl", NAME.encode().ljust(80, b" ") + cube[80:])
    assert leaks(upload.data, NAME) == [] and upload.facts["triangles"] == 260


@pytest.mark.parametrize(
    ("name", "names", "triangles"),
    [
        ("multibody.stl", ["bodyA", "bodyB"], 32),
        ("two_objects_mixed_case_names.stl", ["CubeExportedFromCAD"], 24),
    ],
)
def test_names_of_ascii_stl_solids_are_removed(name, names, triangles):
    upload = validate_upload("model", name, fixture_bytes(name))
    assert leaks(upload.data, *names) == []
    assert upload.facts["triangles"] == triangles


def test_ascii_stl_named_after_the_student_is_stored_unnamed():
    facet = "facet normal 0 0 1\nouter loop\nvertex 0 0 0\nvertex 1 0 0\nvertex 0 1 0\nendloop\nendfacet\n"
    text = f"\ufeffsolid {NAME}\n{facet}endsolid {NAME}\nsolid Ivanov_part2\n{facet}endsolid Ivanov_part2\n"
    upload = validate_upload("model", "модель.stl", text.encode())
    assert leaks(upload.data, NAME, "Ivanov") == []
    assert upload.facts["triangles"] == 2


# -- OBJ --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "texts", "triangles"),
    [
        ("fuze.obj", ["Meshlab", "fuze.obj.mtl", "a-super-duper-material"], 1000),
        ("box.obj", ["box.mtl", "Cube", "Material"], 12),
    ],
)
def test_real_obj_loses_comments_names_and_material_files(name, texts, triangles):
    original = fixture_bytes(name)
    assert leaks(original, *texts) == texts
    upload = validate_upload("model", name, original)
    assert leaks(upload.data, *texts) == []
    assert upload.facts["triangles"] == triangles
    # Lines are emptied, not removed: line numbers in messages stay those of the file people have
    assert upload.data.count(b"\n") == original.count(b"\n")


def test_obj_with_the_students_name_in_comments_objects_groups_and_paths():
    text = (
        f"# Exported by {NAME}\n"
        "mtllib C:\\Users\\Ivanov\\Desktop\\model.mtl\n"
        f"o {NAME}\n"
        "v 0 0 0 # corner of Ivanov\nv 1 0 0\nv 0 1 0\nv 0 0 1\n"
        "g Ivanov_group\nusemtl Ivanov_material\n"
        "f 1 2 3\nf 1 2 4\n"
    )
    upload = validate_upload("model", "модель.obj", text.encode())
    assert leaks(upload.data, NAME, "Ivanov", "Users") == []
    assert upload.facts["triangles"] == 2


# -- GLB --------------------------------------------------------------------------------------


def glb_document(data: bytes) -> dict:
    (json_length,) = struct.unpack_from("<I", data, 12)
    return json.loads(data[20 : 20 + json_length])


def check_glb_layout(data: bytes) -> None:
    """The header's length is the file's, and every chunk is a multiple of four bytes long."""
    magic, version, length = struct.unpack_from("<4sII", data)
    assert (magic, version, length) == (b"glTF", 2, len(data))
    offset = 12
    while offset < len(data):
        chunk_length, _ = struct.unpack_from("<II", data, offset)
        assert chunk_length % 4 == 0
        offset += 8 + chunk_length
    assert offset == len(data)


@pytest.mark.parametrize(("name", "triangles"), [("monkey.glb", 968), ("cube.glb", 12)])
def test_real_glb_keeps_only_the_version_of_its_asset_and_no_names(name, triangles):
    original = fixture_bytes(name)
    assert "generator" in glb_document(original)["asset"]
    upload = validate_upload("model", name, original)
    document = glb_document(upload.data)
    assert document["asset"] == {"version": "2.0"}
    assert not any("name" in item for key in ("nodes", "meshes", "materials") for item in document.get(key, []))
    assert leaks(upload.data, "Suzanne", "Blender", "trimesh") == []
    check_glb_layout(upload.data)
    assert parse_glb(upload.data, name, MeshLimits(), Deadline(10)).triangles.shape == (triangles, 3, 3)
    assert upload.facts["triangles"] == triangles


def test_glb_with_copyright_extras_and_xmp_of_the_student():
    cube = fixture_bytes("cube.glb")
    document = glb_document(cube)
    (json_length,) = struct.unpack_from("<I", cube, 12)
    binary = cube[20 + json_length + 8 :]
    document["asset"].update({"copyright": NAME, "extras": {"author": "Ivanov"}})
    document["nodes"][0].update({"name": f"Модель {NAME}", "extras": {"school": "Ivanov school"}})
    document["meshes"][0]["name"] = "Ivanov mesh"
    document["materials"][0].update({"name": "Ivanov paint", "extras": {"by": NAME}})
    document["extensionsUsed"] = ["KHR_xmp_json_ld"]
    document["extensions"] = {"KHR_xmp_json_ld": {"packets": [{"dc:creator": [NAME]}]}}
    text = json.dumps(document, ensure_ascii=False).encode()
    text += b" " * (-len(text) % 4)
    chunks = struct.pack("<II", len(text), 0x4E4F534A) + text + struct.pack("<II", len(binary), 0x004E4942) + binary
    original = struct.pack("<4sII", b"glTF", 2, 12 + len(chunks)) + chunks
    upload = validate_upload("model", "куб.glb", original)
    assert leaks(upload.data, NAME, "Ivanov", "KHR_xmp_json_ld") == []
    check_glb_layout(upload.data)
    assert upload.facts["triangles"] == 12


# -- 3MF --------------------------------------------------------------------------------------


def test_real_3mf_loses_its_object_names_and_keeps_every_triangle():
    original = fixture_bytes("pyramids.3mf")
    upload = validate_upload("model", "pyramids.3mf", original)
    with zipfile.ZipFile(io.BytesIO(upload.data)) as archive:
        model = archive.read("3D/3dmodel.model")
    assert b'name="Pyramid' not in model and b"Composed Part" not in model
    assert upload.facts["triangles"] == 3276


def test_3mf_metadata_core_properties_and_slicer_settings_of_the_student_are_removed():
    vertices = "".join(f'<vertex x="{x}" y="{y}" z="{z}"/>' for x, y, z in [(0, 0, 0), (9, 0, 0), (0, 9, 0), (0, 0, 9)])
    triangles = "".join(f'<triangle v1="{a}" v2="{b}" v3="{c}"/>' for a, b, c in [(0, 2, 1), (0, 1, 3), (0, 3, 2)])
    model = (
        f'<?xml version="1.0" encoding="UTF-8"?><model unit="millimeter" xmlns="{CORE}">'
        f'<metadata name="Title">Ракета {NAME}</metadata><metadata name="Designer">{NAME}</metadata>'
        '<metadata name="Copyright" preserve="1">(c) Ivanov</metadata><metadata name="Application"/>'
        f'<resources><object id="1" name="{NAME}.stl" type="model">'
        '<metadatagroup><metadata name="Designer">Ivanov</metadata></metadatagroup>'
        f"<mesh><vertices>{vertices}</vertices><triangles>{triangles}</triangles></mesh></object></resources>"
        '<build><item objectid="1"/></build></model>'
    )
    core = f'<cp:coreProperties xmlns:cp="x" xmlns:dc="y"><dc:creator>{NAME}</dc:creator></cp:coreProperties>'
    original = zip_bytes(
        {
            "[Content_Types].xml": b"<Types/>",
            "3D/3dmodel.model": model.encode(),
            "docProps/core.xml": core.encode(),
            "Metadata/Slic3r_PE_model.config": b'<config><metadata key="source_file" value="C:\\Users\\Ivanov"/>',
            "Metadata/thumbnail.png": b"\x89PNG",
        }
    )
    upload = validate_upload("model", "ракета.3mf", original)
    with zipfile.ZipFile(io.BytesIO(upload.data)) as archive:
        unpacked = b"".join(archive.read(name) for name in archive.namelist())
        assert "Metadata/Slic3r_PE_model.config" not in archive.namelist()
        assert "Metadata/thumbnail.png" in archive.namelist()
    assert leaks(unpacked, NAME, "Ivanov") == []
    assert b"<metadata" not in unpacked
    assert upload.facts["triangles"] == 3


def test_3mf_metadata_that_cannot_be_removed_safely_is_refused():
    model = (
        f'<model unit="millimeter" xmlns="{CORE}"><metadata name="Designer"><![CDATA[{NAME} <школа>]]></metadata>'
        '<resources><object id="1" type="model"><mesh><vertices><vertex x="0" y="0" z="0"/>'
        '<vertex x="1" y="0" z="0"/><vertex x="0" y="1" z="0"/></vertices>'
        '<triangles><triangle v1="0" v2="1" v3="2"/></triangles></mesh></object></resources>'
        '<build><item objectid="1"/></build></model>'
    )
    original = zip_bytes({"[Content_Types].xml": b"<Types/>", "3D/3dmodel.model": model.encode()})
    with pytest.raises(UploadError, match="не удалось убрать сведения об авторе"):
        validate_upload("model", "деталь.3mf", original)


def padded_model(before: bytes, after: bytes, size: int) -> bytes:
    """A model part where ``before`` ends ``size`` bytes in, behind comments of random text (it does not compress)."""
    head = f'<?xml version="1.0" encoding="UTF-8"?><model unit="millimeter" xmlns="{CORE}">'.encode()
    noise = base64.b64encode(random.Random(11).randbytes(size))
    padding = b"".join(b"<!-- " + noise[i : i + 90] + b" -->" for i in range(0, size, 90))
    head += padding[: size - len(before) - len(head)].rpartition(b"<")[0]
    return head + b" " * (size - len(before) - len(head)) + before + after


def test_3mf_metadata_across_the_blocks_of_a_large_model_part_is_removed_wherever_they_split_it():
    # The model part is cleaned a megabyte at a time: the split may fall anywhere in the metadata or a name.
    metadata = (
        f'<metadata name="Title">Ракета {NAME}</metadata><metadatagroup><metadata name="Designer">Ivanov</metadata>'
        f'</metadatagroup><resources><object id="1" name="{NAME}.stl" partnumber="Ivanov-1" type="model">'
    ).encode()
    mesh = (
        b'<mesh><vertices><vertex x="0" y="0" z="0"/><vertex x="9" y="0" z="0"/><vertex x="0" y="9" z="0"/></vertices>'
        b'<triangles><triangle v1="0" v2="1" v3="2"/></triangles></mesh></object></resources>'
        b'<build><item objectid="1" name="Ivanov"/></build></model>'
    )
    markers = [
        b"<metadata name",
        "Ракета".encode(),
        b"</metadata>",
        b"</metadata><meta",
        b"Ivanov<",
        b"</metadatagroup",
        b"<resources",
        b'name="' + NAME.encode()[:5],
        b"stl",
        b'Ivanov-1"',
    ]
    for marker in markers:
        split = metadata.index(marker) + len(marker) // 2
        original = zip_bytes(
            {
                "[Content_Types].xml": b"<Types/>",
                "3D/3dmodel.model": padded_model(metadata[:split], metadata[split:] + mesh, 1 << 20),
            }
        )
        upload = validate_upload("model", "ракета.3mf", original)
        with zipfile.ZipFile(io.BytesIO(upload.data)) as archive:
            model = archive.read("3D/3dmodel.model")
        assert leaks(model, NAME, "Ivanov") == [], marker
        assert b"<metadata" not in model and b"<resources>" in model
        assert upload.facts["triangles"] == 1


def test_3mf_metadata_left_open_for_more_than_a_megabyte_is_refused():
    metadata = f'<metadata name="Designer"><![CDATA[{NAME} <школа>]]></metadata>'.encode()
    model = padded_model(metadata, b"", 2000)
    model += b"<!-- " + base64.b64encode(random.Random(3).randbytes(1 << 20)) + b" --></model>"
    original = zip_bytes({"[Content_Types].xml": b"<Types/>", "3D/3dmodel.model": model})
    with pytest.raises(UploadError, match="не удалось убрать сведения об авторе"):
        validate_upload("model", "деталь.3mf", original)
