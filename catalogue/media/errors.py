"""The refusal of an upload, the time budget of a parse, and Russian sizes for messages."""

import time

from catalogue.formatting import plural

MiB = 1024 * 1024


class UploadError(Exception):
    """An uploaded file is refused; the message is a Russian sentence for the person who sent it."""


class Deadline:
    """A parse's time budget; :meth:`check` in loops keeps hostile files from taking a worker hostage."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.ends_at = time.monotonic() + seconds

    def check(self) -> None:
        """:raise UploadError: the budget is spent."""
        if time.monotonic() > self.ends_at:
            seconds = plural(round(self.seconds), "секунду", "секунды", "секунд")
            raise UploadError(f"Файл слишком сложный: его не удалось проверить за {seconds}.")


def human_size(size: int) -> str:
    """``20 МБ``, ``1,5 МБ``, ``300 КБ``, ``134 байта``: a size as people say it in Russian."""
    if size >= MiB:
        value, unit = size / MiB, "МБ"
    elif size >= 1024:
        value, unit = size / 1024, "КБ"
    else:
        return plural(size, "байт", "байта", "байт")
    text = f"{value:.1f}".rstrip("0").rstrip(".").replace(".", ",")
    return f"{text} {unit}"
