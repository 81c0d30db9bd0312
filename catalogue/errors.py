"""The one family of refusals that services raise and views show next to a form field.

``InvalidInput`` (a business rule), ``AccountError`` and ``TaxonomyError`` are its members; a view
that catches one puts the message on the form with :func:`catalogue.forms.field_error`, and one
that does not answers 422 with the message (see :mod:`catalogue.web`).
"""


class DomainError(Exception):
    """A request the rules refuse; the message is for the person, ``field`` names the form field it concerns."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


class InvalidInput(DomainError):
    """Input that fails a business rule; the message is for the person (HTTP 422)."""
