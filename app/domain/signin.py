"""Sign-in rules: what a passphrase must be, and how long to wait after wrong ones."""

from __future__ import annotations

from datetime import timedelta

MIN_LENGTH = 12
MAX_LENGTH = 1024  # argon2 takes any length; a pasted novel is a mistake
FREE_ATTEMPTS = 2  # wrong passphrases before any waiting (typos happen)
MAX_DELAY = timedelta(minutes=15)


class PassphraseError(ValueError):
    """A new passphrase is not acceptable; the message says why."""


def check_new_passphrase(passphrase: str, *, name: str, email: str) -> str:
    """The passphrase if it may be used, as given (never trimmed: every character counts).

    Raises:
        PassphraseError: too short, too long, or the person's own name or email.
    """
    if len(passphrase) < MIN_LENGTH:
        raise PassphraseError(
            f"A passphrase has at least {MIN_LENGTH} characters: a few words are easy to "
            "remember and hard to guess."
        )
    if len(passphrase) > MAX_LENGTH:
        raise PassphraseError(f"A passphrase has at most {MAX_LENGTH} characters.")
    lowered = passphrase.strip().lower()
    if lowered in {name.strip().lower(), email.strip().lower()}:
        raise PassphraseError("A passphrase cannot be your name or your email address.")
    return passphrase


def delay_after(failures: int) -> timedelta:
    """How long signing in waits after ``failures`` wrong passphrases in a row.

    The first two cost nothing; then 2, 4, 8 … seconds, at most a quarter of an hour.
    """
    if failures <= FREE_ATTEMPTS:
        return timedelta(0)
    seconds = 2 ** min(failures - FREE_ATTEMPTS, 20)
    return min(timedelta(seconds=seconds), MAX_DELAY)
