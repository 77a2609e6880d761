"""Mini-program adapter: WeChat-compatible server API over Suishenban's core.

- `routes.py`: operator, resident and WeChat-compatible blueprints (plugged in by `init_app`).
- `apps.py`: registration, secret rotation, app access tokens (token, stable_token).
- `consents.py`: the resident's consents, granted, listed, revoked and checked.
- `login.py`: single-use login and phone codes; jscode2session.
- `releases.py`: user info, phone number, real name and licences released with consent.
- `messages.py`: subscription messages into the resident's inbox.
- `common.py`: pairwise ids, app lookup, rate limits, the resident's session_key.
- `wechat_errors.py`: WeChat's `{errcode, errmsg}` envelope and the mapping from our errors.
- `crypto.py`: session_key signatures and AES-128-CBC `encryptedData`, as WeChat does them.
"""


def init_app(app, api) -> None:
    from api import register_blueprints
    from api.demo import register_step
    from miniprogram_adapter.demo import register_demo_miniprogram

    register_blueprints(app, api, ("miniprogram_adapter.routes",))
    declare_security_schemes(api)
    register_step(app, register_demo_miniprogram)   # `flask --app wsgi demo`: the demo app


SECURITY_SCHEMES = {
    "wechatAppId": {"type": "apiKey", "in": "query", "name": "appid",
                    "description": "The mini-program's appid (POST /v1/admin/miniprograms); with wechatAppSecret"},
    "wechatAppSecret": {"type": "apiKey", "in": "query", "name": "secret",
                        "description": "The mini-program's secret, shown once at registration or rotation"},
    "wechatAccessToken": {"type": "apiKey", "in": "query", "name": "access_token",
                          "description": "An app access token from GET /cgi-bin/token or POST /cgi-bin/stable_token"},
}


def declare_security_schemes(api) -> None:
    """How WeChat-compatible calls authenticate, as WeChat's own server API does: query parameters."""
    for name, scheme in SECURITY_SCHEMES.items():
        if name not in api.spec.components.security_schemes:
            api.spec.components.security_scheme(name, scheme)
