"""Exceptions the library raises; the command line turns them into one line and an exit code."""


class GenbenchError(Exception):
    """An error a user can act on. The message says what is wrong and how to fix it."""

    exit_code = 1


class DatasetError(GenbenchError):
    """A dataset folder does not follow the data contract."""


class NothingAccepted(GenbenchError):
    """A generator run whose inputs were all rejected: nothing was written. The message gives the reasons."""


def require_at_least(option: str, value: int, least: int = 1, what: str = "") -> None:
    """Raise GenbenchError "OPTION must be >= LEAST (WHAT), got VALUE" for a command-line number out of range."""
    if value < least:
        raise GenbenchError(f"{option} must be >= {least}{f' ({what})' if what else ''}, got {value}")


def require_all(checks: list[tuple[bool, str]]) -> None:
    """Raise GenbenchError with the message of the first failed (condition, message) check."""
    for ok, message in checks:
        if not ok:
            raise GenbenchError(message)
