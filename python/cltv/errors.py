"""The exceptions of cltv: one class per kind of core error, with the core's message and hint."""


class Error(Exception):
    """Any cltv failure. ``message`` says what failed and where; ``hint`` what to do about it."""

    kind = "internal"

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message + (f"\nhint: {hint}" if hint else ""))
        self.message = message
        self.hint = hint


class InputError(Error, ValueError):
    """The data is unusable: a malformed row, a missing column, NaN in an array, wrong lengths."""

    kind = "input"


class IOError(Error, OSError):  # noqa: A001 - the core's kind, as the issue names it
    """A file or object could not be read or written (missing file, permissions, S3)."""

    kind = "io"


class ConfigError(Error, ValueError):
    """A setting is wrong: an unknown name, a value out of range, dates the data does not cover."""

    kind = "config"


class ModelError(Error):
    """A model cannot be fitted, loaded or applied (divergence, an altered bundle, wrong features)."""

    kind = "model"


class InternalError(Error):
    """A bug in cltv; please report it with the call that caused it."""

    kind = "internal"
