"""The file formats the site accepts, what they are called, and what each upload kind allows."""

from dataclasses import dataclass

DOCUMENT = "document"
IMAGE = "image"
MODEL = "model"


@dataclass(frozen=True)
class FileFormat:
    """One accepted format: its name in messages, its media type and file extension, and its category."""

    name: str
    label: str
    media_type: str
    extension: str
    category: str
    # How a message names a file of this format: «это изображение PNG».
    described: str


FORMATS: dict[str, FileFormat] = {
    f.name: f
    for f in (
        FileFormat("pdf", "PDF", "application/pdf", "pdf", DOCUMENT, "документ PDF"),
        FileFormat(
            "docx",
            "DOCX",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "docx",
            DOCUMENT,
            "документ Word (DOCX)",
        ),
        FileFormat(
            "pptx",
            "PPTX",
            "application/vnd.openxmlformats-officedocument.presentationml.presentation",
            "pptx",
            DOCUMENT,
            "презентация PowerPoint (PPTX)",
        ),
        FileFormat(
            "xlsx",
            "XLSX",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "xlsx",
            DOCUMENT,
            "таблица Excel (XLSX)",
        ),
        FileFormat("odt", "ODT", "application/vnd.oasis.opendocument.text", "odt", DOCUMENT, "документ ODT"),
        FileFormat("odp", "ODP", "application/vnd.oasis.opendocument.presentation", "odp", DOCUMENT, "презентация ODP"),
        FileFormat("ods", "ODS", "application/vnd.oasis.opendocument.spreadsheet", "ods", DOCUMENT, "таблица ODS"),
        FileFormat("jpeg", "JPEG", "image/jpeg", "jpg", IMAGE, "изображение JPEG"),
        FileFormat("png", "PNG", "image/png", "png", IMAGE, "изображение PNG"),
        FileFormat("webp", "WebP", "image/webp", "webp", IMAGE, "изображение WebP"),
        FileFormat("stl", "STL", "model/stl", "stl", MODEL, "3D-модель STL"),
        FileFormat("obj", "OBJ", "model/obj", "obj", MODEL, "3D-модель OBJ"),
        FileFormat("glb", "GLB", "model/gltf-binary", "glb", MODEL, "3D-модель GLB"),
        FileFormat("3mf", "3MF", "model/3mf", "3mf", MODEL, "3D-модель 3MF"),
    )
}

# What each upload kind accepts, in the order messages list them.
KIND_FORMATS: dict[str, tuple[str, ...]] = {
    DOCUMENT: ("pdf", "docx", "pptx", "xlsx", "odt", "odp", "ods", "jpeg", "png"),
    IMAGE: ("jpeg", "png", "webp"),
    MODEL: ("stl", "obj", "glb", "3mf"),
}


def labels(formats: tuple[str, ...] | list[str]) -> str:
    """``PDF, DOCX или PNG``: formats listed as a Russian sentence does."""
    names = [FORMATS[f].label for f in formats]
    if len(names) == 1:
        return names[0]
    return f"{', '.join(names[:-1])} или {names[-1]}"


def accept_attribute(formats: tuple[str, ...] | list[str]) -> str:
    """The ``accept`` attribute of a file input for these formats (extensions and media types)."""
    parts = []
    for name in formats:
        parts.append(".jpg,.jpeg" if name == "jpeg" else "." + FORMATS[name].extension)
        if FORMATS[name].category != MODEL:
            # Browsers do not know 3D media types: a model's only hint is its extension.
            parts.append(FORMATS[name].media_type)
    return ",".join(parts)
