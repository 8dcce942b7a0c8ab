"""Domain errors: what a user can be told in one clear sentence, never with a traceback.

Every error cxops raises on purpose derives from :class:`CxopsError`. The command line prints
``error: <message>`` (and ``hint: <hint>`` when there is one) and exits with :attr:`exit_code`;
the web service maps :attr:`http_status` to an RFC 9457 problem. Anything else that escapes is a
bug: the CLI says so and shows the traceback only with ``--debug``.

This module sits at the bottom of the layers: any package may import it, it imports nothing of
cxops.
"""

from __future__ import annotations


class CxopsError(Exception):
    """Base of every error cxops reports to a user.

    Parameters
    ----------
    message : str
        The sentence shown to the user: what is wrong and where (file, row, column, seller, date).
    hint : str, optional
        What to do about it, shown on its own line.
    """

    exit_code = 1
    http_status = 400

    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message)
        self.hint = hint


class InputError(CxopsError, ValueError):
    """A file, option or value given by the user cannot be used as it is (names file, row, column)."""


class NotFoundError(CxopsError, LookupError):
    """A seller, run, table, case or other named thing does not exist (or is not visible)."""

    http_status = 404


class StaleDataError(CxopsError):
    """An as-of date lies past the freshest complete day of data (``--allow-stale`` overrides)."""

    http_status = 409


class ConflictError(CxopsError):
    """The operation contradicts the current state: a lock is held, a run would go backwards,
    an action is impossible for the seller's state."""

    http_status = 409


class WarehouseError(CxopsError):
    """The warehouse cannot be opened or read (missing, locked, damaged, not a warehouse)."""

    http_status = 503


class StoreError(CxopsError):
    """The operations store cannot be opened or used (unreachable, not initialised, wrong revision)."""

    http_status = 503


class OutputError(CxopsError):
    """An output cannot be written (a file where a folder is needed, no space, no permission)."""


class AuthenticationError(CxopsError):
    """Not logged in, a wrong login or password, an expired session, a revoked or unknown token.

    The message never says which of login or password was wrong."""

    http_status = 401


class ForbiddenError(CxopsError):
    """Logged in, but the role does not allow the operation (a viewer acting, a seller on an
    operator's page). A resource of another seller is a :class:`NotFoundError`, never this."""

    http_status = 403


class RateLimitedError(CxopsError):
    """Too many attempts: a login name locked after failed logins, or an address over its limit.

    Parameters
    ----------
    retry_after : int
        Seconds until another attempt can succeed (the HTTP ``Retry-After`` header).
    """

    http_status = 429

    def __init__(self, message: str, hint: str | None = None, *, retry_after: int):
        super().__init__(message, hint)
        self.retry_after = retry_after


def disk_full(error: BaseException) -> OutputError | None:
    """The clear error for an engine's failure to write because the disk is full, else None.

    DuckDB raises ``IOException: … Could not write file "<warehouse>.tmp/…": No space left on device``
    when its spill past the memory cap (or a table, or a ``COPY``) does not fit: that is the machine's
    state, not a bug, and the message says which file and what to do.
    """
    text = str(error)
    if "No space left on device" not in text:
        return None
    return OutputError(
        f"the disk is full: {text.splitlines()[0].strip()}",
        hint="free space on that disk and run the command again; the engine spills past --memory-limit "
        "into <warehouse>.tmp beside the warehouse (a higher --memory-limit spills less), and "
        "`evaluate --out` needs room for its files as well (nothing was stored or replaced)",
    )
