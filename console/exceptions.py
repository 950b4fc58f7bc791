class ServiceError(Exception):
    """A business rule refused an operation; the message is safe to show to the user."""

    status_code = 400

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class Conflict(ServiceError):
    """The operation clashes with the current state (409 in the API)."""

    status_code = 409
