"""The error types every layer raises; the web layer maps them to HTTP statuses.

Messages are written for the person reading them and must never contain personal data: an error
message can end up in a log line, a response body or a bug report.
"""

from __future__ import annotations

from collections.abc import Mapping


class DatabankError(Exception):
    """Base class of every error the databank raises on purpose."""

    status = 500
    code = "error"

    def __init__(self, message: str, errors: Mapping[str, list[str]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.errors: dict[str, list[str]] = {k: list(v) for k, v in (errors or {}).items()}


class BadRequest(DatabankError):
    """The request itself is malformed (e.g. an unknown purpose): nothing was looked up."""

    status = 400
    code = "bad_request"


class NotFound(DatabankError):
    status = 404
    code = "not_found"


class PermissionDenied(DatabankError):
    status = 403
    code = "permission_denied"


class ValidationFailed(DatabankError):
    status = 422
    code = "validation_failed"


class Conflict(DatabankError):
    status = 409
    code = "conflict"


class Erased(DatabankError):
    """The person was erased: their keys are gone and no field of theirs can be read."""

    status = 410
    code = "erased"


class ConfigurationError(DatabankError):
    """The deployment is misconfigured (missing keys, mis-sized blind index...)."""

    code = "configuration_error"


class DecryptionFailed(DatabankError):
    """A ciphertext could not be opened.

    One opaque type for every cause (tampered byte, wrong key, moved ciphertext, truncated blob,
    unknown key id) so that an attacker learns nothing from which check failed.
    """

    code = "decryption_failed"

    def __init__(self) -> None:
        super().__init__("the protected value could not be read")
