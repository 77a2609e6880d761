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
    register_blueprints(app, api, ("miniprogram_adapter.routes",))
