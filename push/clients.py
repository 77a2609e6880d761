"""The app's push provider clients (APNs, FCM, HMS), built once at start-up from configuration
(PUSH_APNS_*, PUSH_FCM_*, PUSH_HMS_*) and kept on ``app.extensions``: they hold connections and
access tokens, so every relay run of a process shares them.

``rebuild_providers`` closes them and builds them again from the configuration as it is then:
the documented way for tests (and an operator's reload) to point a provider elsewhere.
"""
from __future__ import annotations

from flask import Flask, current_app

EXTENSION = "ssb.push_providers"


def build_providers(cfg) -> dict:
    """A client per platform whose credentials are configured; the others are absent."""
    providers: dict = {}
    if cfg.PUSH_APNS_KEY_FILE and cfg.PUSH_APNS_TEAM_ID and cfg.PUSH_APNS_KEY_ID:
        from push.providers.apns import PRODUCTION_URL, ApnsProvider
        with open(cfg.PUSH_APNS_KEY_FILE, "rb") as fh:
            key = fh.read()
        providers["apns"] = ApnsProvider(team_id=cfg.PUSH_APNS_TEAM_ID, key_id=cfg.PUSH_APNS_KEY_ID, private_key=key,
                                         topic=cfg.PUSH_APNS_TOPIC, base_url=cfg.PUSH_APNS_URL or PRODUCTION_URL)
    if cfg.PUSH_FCM_CREDENTIALS_FILE:
        from push.providers.fcm import PRODUCTION_URL, FcmProvider, ServiceAccount
        providers["fcm"] = FcmProvider(service_account=ServiceAccount.from_file(cfg.PUSH_FCM_CREDENTIALS_FILE),
                                       base_url=cfg.PUSH_FCM_URL or PRODUCTION_URL)
    if cfg.PUSH_HMS_APP_ID and cfg.PUSH_HMS_CLIENT_SECRET:
        from push.providers.hms import PRODUCTION_URL, TOKEN_URL, HmsProvider
        providers["hms"] = HmsProvider(app_id=cfg.PUSH_HMS_APP_ID, client_secret=cfg.PUSH_HMS_CLIENT_SECRET,
                                       base_url=cfg.PUSH_HMS_URL or PRODUCTION_URL,
                                       token_url=cfg.PUSH_HMS_TOKEN_URL or TOKEN_URL)
    return providers


def init_app(app: Flask) -> None:
    app.extensions[EXTENSION] = build_providers(app.extensions["ssb.config"])


def push_providers() -> dict:
    """The current app's provider clients by platform."""
    return current_app.extensions[EXTENSION]


def rebuild_providers(app: Flask) -> dict:
    """Close the app's clients and build them again from its configuration as it is now."""
    for provider in app.extensions.pop(EXTENSION, {}).values():
        provider.close()
    init_app(app)
    return app.extensions[EXTENSION]
