"""One exception family whose messages a user can read (already translated, lazily)."""


class BookingError(Exception):
    """A refusal the user should see, with a message in their language."""

    def __init__(self, message, field: str | None = None) -> None:
        super().__init__(str(message))
        self.message = message
        self.field = field


class NotAllowed(BookingError):
    """The current user may not do this to this record."""
