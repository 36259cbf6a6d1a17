"""Builds the connector of an account: Sandbox directly, X and Facebook from keyring tokens."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from app.connectors.base import AuthExpired, Connector
from app.services.polling import AccountRef, ConnectorFactory
from app.services.tokens import TokenStore


def connector_factory(
    tokens: TokenStore,
    *,
    sandbox_pace_s: float = 20.0,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> ConnectorFactory:
    """A :data:`~app.services.polling.ConnectorFactory` using ``tokens`` (and ``clock``)."""

    def build(ref: AccountRef) -> Connector:
        if ref.network == "sandbox":
            from app.connectors.sandbox import SandboxConnector

            return SandboxConnector(
                ref.handle,
                ref.external_user_id or ref.handle,
                seed=ref.id,
                pace_s=sandbox_pace_s,
                clock=clock,
            )
        if ref.network == "x":
            token = tokens.get("x", ref.uuid, "access_token")
            if not token or not ref.external_user_id:
                raise AuthExpired("no X token stored for this account: connect it in Settings")
            import tweepy

            from app.connectors.x import XConnector

            client = tweepy.Client(token, return_type=dict, wait_on_rate_limit=False)
            # Direct messages only where the granted scopes include them (plan and consent).
            return XConnector(client, ref.external_user_id, dm_enabled="dm.read" in ref.scopes)
        if ref.network == "facebook":
            token = tokens.get("facebook", ref.uuid, "page_token")
            if not token or not ref.external_user_id:
                raise AuthExpired("no Page token stored for this account: connect it in Settings")
            import facebook
            import requests

            from app.connectors.facebook import FacebookConnector

            graph = facebook.GraphAPI(access_token=token, timeout=30, session=requests.Session())
            return FacebookConnector(graph, ref.external_user_id)
        raise AuthExpired(f"unknown network {ref.network!r}")

    return build
