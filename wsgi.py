"""The composition root: the API with push delivery, the mini-program adapter and the web pages.

`gunicorn wsgi:app`, `flask --app wsgi ...` and the job worker `dramatiq wsgi:broker` all build
the app here, once per process, when they first ask for it.
"""
from __future__ import annotations

import api
import miniprogram_adapter
import push
import web

PLUGINS = (push, miniprogram_adapter, web)


def create_app(config=None):
    return api.create_app(config, plugins=PLUGINS)


def __getattr__(name: str):
    # Built on first use, not at import: importing wsgi (a test, a tool) starts nothing.
    if name == "app":
        globals()["app"] = create_app()
        return globals()["app"]
    if name == "broker":
        return __getattr__("app").extensions["ssb.broker"]
    raise AttributeError(name)
