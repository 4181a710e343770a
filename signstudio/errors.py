"""Errors that reach the user.

Every failure a user can cause (a missing file, a file that is not a video, an unknown model) is
raised as a :class:`SignStudioError` whose message is one readable line. The CLI prints it and
exits non-zero; the GUI shows it in a message box. Anything else is a bug.
"""


class SignStudioError(Exception):
    """A failure caused by input or environment, with a one-line message meant for the user."""


class InputError(SignStudioError):
    """The input file is missing, unreadable or of the wrong kind."""


class NoSignerError(InputError):
    """The video was read, but MediaPipe found nobody in any frame."""


class OutOfDomainError(InputError):
    """The input is outside what a model knows, or not in the language it should be, and the
    caller asked to be stopped rather than warned (``strict``: ``--strict``, or the window before
    the user chose "Produce anyway").

    Attributes:
        warnings: the plain-language reasons, one line each.
        summary: one line on what judged the input (e.g. the glossing model, its OOV rate and
            confidence), or "".
    """

    def __init__(self, message: str, warnings: list[str] | tuple[str, ...] = (), summary: str = "") -> None:
        super().__init__(message)
        self.warnings = list(warnings)
        self.summary = summary


class ModelError(SignStudioError):
    """A model name or checkpoint cannot be resolved or loaded."""


class ConfigError(SignStudioError):
    """A configuration file is invalid (unknown keys, wrong types, missing data)."""


class Cancelled(SignStudioError):
    """A long job was cancelled through its task handle."""

    def __init__(self, message: str = "cancelled") -> None:
        super().__init__(message)


def os_error_message(exc: OSError, path: str | None = None) -> str:
    """One line for an :class:`OSError`: ``"PATH: REASON"``.

    ``path`` (what the user named) wins over the file the error names; the reason is the
    system's (``Permission denied``, ``No space left on device``, ...).
    """
    reason = exc.strerror or str(exc) or type(exc).__name__
    where = path if path is not None else exc.filename
    if where is None:
        return reason
    text = f"{where}: {reason}"
    if path is None and exc.filename2 is not None:
        text = f"{where} -> {exc.filename2}: {reason}"
    return text
