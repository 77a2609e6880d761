"""Background jobs on Dramatiq with the Redis broker.

Jobs are declared with `@job(...)` in the modules that define them (imported by create_app and
its plugins before the broker binds); nothing binds at import. `init_broker` (called by
create_app) creates the app's broker and declares every job on it as a Dramatiq actor, so the
API process (which only sends) and the worker (which runs them) share one definition, and two
apps in one process (tests) never share a broker. Each job runs inside an app context, so
services work there exactly as in a request.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import dramatiq
from dramatiq.brokers.redis import RedisBroker
from dramatiq.middleware import Middleware
from flask import current_app

_declared: dict[str, tuple[Callable, dict]] = {}


class JobHandle:
    def __init__(self, name: str, fn: Callable) -> None:
        self.name = name
        self.fn = fn

    @property
    def actor(self) -> dramatiq.Actor:
        return current_app.extensions["ssb.broker"].get_actor(self.name)

    def send(self, *args, **kwargs):
        return self.actor.send(*args, **kwargs)

    def send_with_options(self, *, args=(), kwargs=None, **options):
        return self.actor.send_with_options(args=args, kwargs=kwargs or {}, **options)

    def __call__(self, *args, **kwargs):
        """Run in-process (the worker calls this; tests may too)."""
        return self.fn(*args, **kwargs)


def job(*, queue_name: str = "default", max_retries: int = 10, min_backoff: int = 500,
        max_backoff: int = 60_000, time_limit: int = 600_000, **options):
    def decorator(fn: Callable) -> JobHandle:
        name = f"{fn.__module__}.{fn.__name__}"
        _declared[name] = (fn, dict(queue_name=queue_name, max_retries=max_retries, min_backoff=min_backoff,
                                    max_backoff=max_backoff, time_limit=time_limit, **options))
        return JobHandle(name, fn)

    return decorator


class AppContextMiddleware(Middleware):
    """Runs every message inside an app context and cleans the db session afterwards."""

    def __init__(self, app) -> None:
        self.app = app
        self._contexts: dict[str, Any] = {}

    def before_process_message(self, broker, message):
        ctx = self.app.app_context()
        ctx.push()
        self._contexts[message.message_id] = ctx

    def _pop(self, message):
        ctx = self._contexts.pop(message.message_id, None)
        if ctx is not None:
            from api.extensions import db
            db.session.remove()
            ctx.pop()

    def after_process_message(self, broker, message, *, result=None, exception=None):
        self._pop(message)

    def after_skip_message(self, broker, message):
        self._pop(message)


def init_broker(app, redis_url: str, *, namespace: str = "ssb-jobs", connection_class: type | None = None,
                heartbeat_timeout_ms: int = 30_000, maintenance_chance: int = 1000) -> dramatiq.Broker:
    import redis

    from api.extensions import redis_options

    # Our client, not one built from the URL: Dramatiq's default has no socket timeout, so an
    # enqueue against a frozen Redis would hang the request. Messages stay in the worker's
    # unacked set until processed; a worker that dies (no heartbeat for heartbeat_timeout) has
    # its messages requeued by the others. connection_class: the embedded Redis's, which starts
    # the server when first needed (api.embedded_redis).
    client = redis.Redis.from_url(redis_url, **redis_options(redis_url, connection_class))
    broker = RedisBroker(client=client, namespace=namespace, heartbeat_timeout=heartbeat_timeout_ms,
                         maintenance_chance=maintenance_chance)
    broker.add_middleware(AppContextMiddleware(app))
    for name, (fn, options) in _declared.items():
        dramatiq.actor(fn, actor_name=name, broker=broker, **options)  # type: ignore[call-overload]
    # The worker CLI (`dramatiq wsgi:broker`) finds the process-wide broker.
    dramatiq.set_broker(broker)
    return broker
