"""The demo data's mini-program (`flask --app wsgi demo`): registered by the demo operator with
a secret derived from SECRET_KEY, so every run prints the same appid and secret (a deployment
with another SECRET_KEY gets another secret; a secret rotated by hand is set back)."""
from __future__ import annotations

import hashlib
import hmac

from api.demo import DemoContext

NAME = "随申办示例小程序（演示）"
OWNER_ORG = "演示开发者"
SCOPES = ["scope.userinfo", "scope.phone", "scope.realname", "scope.licence.driving_licence",
          "scope.subscribe_message"]


def demo_secret(secret_key: str) -> str:
    return hmac.new(secret_key.encode(), b"ssb demo miniprogram secret v1", hashlib.sha256).hexdigest()[:32]


def register_demo_miniprogram(ctx: DemoContext) -> None:
    from api.extensions import get_config
    from miniprogram_adapter import apps

    assert ctx.operator is not None
    secret = demo_secret(get_config().SECRET_KEY)
    app = apps.miniprogram_named(NAME, owner_org=OWNER_ORG, created_by=ctx.operator.user_id)
    if app is None:
        app = apps.register_miniprogram(name=NAME, owner_org=OWNER_ORG, scopes=SCOPES, request_domain=None,
                                            created_by=ctx.operator.user_id, now=ctx.now, secret=secret)
    elif not apps.secret_matches(app["appid"], secret):
        apps.rotate_secret(appid=app["appid"], now=ctx.now, secret=secret)
    ctx.out["miniprogram"] = {"appid": app["appid"], "secret": secret, "name": NAME,
                              "secret_source": "derived from SECRET_KEY: the same on every run"}
