"""OAuth tokens in the operating system's keyring: one secret per entry, never in the database."""

from __future__ import annotations

import logging

log = logging.getLogger("quiver.services.tokens")

NAMES = ("access_token", "refresh_token", "client_secret", "page_token", "user_token", "app_secret")


class TokenStore:
    """Service ``quiver/<network>``, user name ``<account uuid>/<name>`` (connectors.md §0)."""

    @staticmethod
    def _service(network: str) -> str:
        return f"quiver/{network}"

    def get(self, network: str, account_uuid: str, name: str) -> str | None:
        import keyring  # late: keyring's backend discovery is not needed on start-up
        from keyring.errors import KeyringError

        try:
            return keyring.get_password(self._service(network), f"{account_uuid}/{name}")
        except KeyringError as exc:
            log.warning("keyring unavailable for %s: %s", network, exc.__class__.__name__)
            return None

    def set(self, network: str, account_uuid: str, name: str, secret: str) -> None:
        import keyring

        if name not in NAMES:
            raise ValueError(f"unknown secret name {name!r}")
        keyring.set_password(self._service(network), f"{account_uuid}/{name}", secret)

    def forget(self, network: str, account_uuid: str) -> None:
        """Remove every secret of an account (disconnect)."""
        import keyring
        from keyring.errors import PasswordDeleteError

        for name in NAMES:
            try:
                keyring.delete_password(self._service(network), f"{account_uuid}/{name}")
            except PasswordDeleteError:
                continue
