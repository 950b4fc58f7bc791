"""The one error of client-side encryption."""

from cloud.errors import ServiceError


class CseError(ServiceError):
    """An object could not be encrypted or decrypted on the console's side.

    The message says why in words (wrong key, altered envelope, unsupported algorithm, length mismatch); it never
    holds a data key, an IV or a private key, and no traceback reaches the user.
    """
