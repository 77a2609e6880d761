"""Mini-program adapter: WeChat-compatible server API over Suishenban's core.

- `routes.py`: operator, resident and WeChat-compatible blueprints (plugged in by `init_app`).
- `services.py`: use cases (register apps, consents, codes, jscode2session, data releases).
- `wechat_errors.py`: WeChat's `{errcode, errmsg}` envelope and the mapping from our errors.
- `crypto.py`: session_key signatures and AES-128-CBC `encryptedData`, as WeChat does them.
"""


def init_app(app, api) -> None:
    from api import register_blueprints
    from api.demo import register_step
    from miniprogram_adapter.demo import register_demo_miniprogram

    register_blueprints(app, api, ("miniprogram_adapter.routes",))
    register_step(app, register_demo_miniprogram)   # `flask --app wsgi demo`: the demo app
