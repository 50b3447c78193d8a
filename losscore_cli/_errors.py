"""The errors the command-line tool reports: one line on stderr, exit status 1, no traceback.

A :class:`CliError` carries the *field* it concerns (a command-line option such as
``--prediction``, a file, or the field a server named) and a human *reason*, like the
library's :class:`losscore.errors.LosscoreError`, so both print the same way:
``error: --features: column 'petal_widht' is not in the table (columns: …)``.
"""

from __future__ import annotations

__all__ = ["CliError", "RemoteError"]


class CliError(Exception):
    """A user error found by the tool itself (a file it cannot read, an option it cannot use)."""

    def __init__(self, reason: str, *, field: str | None = None) -> None:
        self.field = field
        self.reason = reason
        super().__init__(self.describe())

    def describe(self) -> str:
        """``field: reason`` (or the reason alone)."""
        return f"{self.field}: {self.reason}" if self.field else self.reason


class RemoteError(CliError):
    """An error answer of the server (its ``{"error": {...}}`` body), or no answer at all.

    ``status`` is the HTTP status (0 when the server could not be reached), ``code`` the
    service's machine-readable code and ``details`` its ``(field, reason)`` pairs.
    """

    def __init__(
        self,
        reason: str,
        *,
        status: int = 0,
        code: str = "",
        details: list[tuple[str, str]] | None = None,
    ) -> None:
        self.status = status
        self.code = code
        self.details = details or []
        super().__init__(reason)

    def lines(self) -> list[str]:
        """The message, then each detail that the message does not already state."""
        out = [self.reason]
        for field, reason in self.details:
            if reason not in self.reason:
                out.append(f"  {field}: {reason}")
        if self.status:
            out[0] += f" (HTTP {self.status}{' ' + self.code if self.code else ''})"
        return out
