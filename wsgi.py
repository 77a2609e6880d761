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


def _freeze_startup_objects() -> None:
    """The app's own objects (modules, schemas, mappers, compiled statements) live as long as the
    process: move them out of the collector's reach, so the collections that requests trigger
    only scan what requests allocate (issue 14: full collections over ~1M start-up objects)."""
    import gc
    gc.collect()
    gc.freeze()


def __getattr__(name: str):
    # Built on first use, not at import: importing wsgi (a test, a tool) starts nothing.
    if name == "app":
        globals()["app"] = create_app()
        _freeze_startup_objects()
        return globals()["app"]
    if name == "broker":
        return __getattr__("app").extensions["ssb.broker"]
    raise AttributeError(name)
