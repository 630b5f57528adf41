import uuid


def uuid_or_none(value) -> uuid.UUID | None:
    """A UUID from untrusted text (a URL part, a frame field), or None."""
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None
