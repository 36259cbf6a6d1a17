"""Builds the connector of an account: Sandbox directly, X and Facebook from keyring tokens."""

from __future__ import annotations

from app.connectors.base import AuthExpired, Connector
from app.services.polling import AccountRef, ConnectorFactory
from app.services.tokens import TokenStore


def connector_factory(tokens: TokenStore, *, sandbox_pace_s: float = 20.0) -> ConnectorFactory:
    """A :data:`~app.services.polling.ConnectorFactory` using ``tokens``."""

    def build(ref: AccountRef) -> Connector:
        if ref.network == "sandbox":
            from app.connectors.sandbox import SandboxConnector

            return SandboxConnector(
                ref.handle, ref.external_user_id or ref.handle, seed=ref.id, pace_s=sandbox_pace_s
            )
        if ref.network == "x":
            token = tokens.get("x", ref.uuid, "access_token")
            if not token or not ref.external_user_id:
                raise AuthExpired("no X token stored for this account: connect it in Settings")
            import tweepy

            from app.connectors.x import XConnector

            client = tweepy.Client(token, return_type=dict, wait_on_rate_limit=False)
            return XConnector(client, ref.external_user_id)
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
