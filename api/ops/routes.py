"""Operational endpoints: liveness, readiness, Prometheus metrics (operators only)."""
import hmac

import marshmallow as ma
from flask import Response
from flask.views import MethodView

from api.errors import AppError
from api.extensions import Blueprint, get_config
from api.identity.auth import bearer_token
from api.observability import render_metrics
from api.ops.health import readiness
from api.schemas import Schema

blp = Blueprint("ops", __name__, description="Operations")

METRICS_SCHEME = "metricsAuth"


def authenticate_metrics(*, required_roles: frozenset = frozenset()) -> str:
    """Per-endpoint counts and latencies are for operators: the METRICS_TOKEN bearer, compared
    in constant time. With no token configured nobody reads them."""
    expected = get_config().METRICS_TOKEN
    presented = bearer_token()
    if not expected or presented is None or not hmac.compare_digest(presented.encode(), expected.encode()):
        raise AppError("UNAUTHENTICATED")
    return "metrics-scraper"


@blp.record_once
def _register_metrics_scheme(state):
    api = state.app.extensions["flask-smorest"]["blp_name_to_api"].get(blp.name)
    if api is not None and METRICS_SCHEME not in api.spec.components.security_schemes:
        api.spec.components.security_scheme(METRICS_SCHEME, {
            "type": "http", "scheme": "bearer",
            "description": "The operators' METRICS_TOKEN (configuration), as Prometheus' `authorization` credentials"})


class HealthSchema(Schema):
    status = ma.fields.String(required=True)


class ReadySchema(Schema):
    status = ma.fields.String(required=True)
    checks = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.String(), required=True)


@blp.route("/healthz")
class Health(MethodView):
    @blp.response(200, HealthSchema)
    def get(self):
        """The process is alive

        Anyone, no sign-in; for a load balancer's liveness probe. Touches no store."""
        return {"status": "ok"}


@blp.route("/readyz")
class Ready(MethodView):
    @blp.response(200, ReadySchema)
    @blp.alt_response(503, schema=ReadySchema, description="A dependency is unreachable")
    def get(self):
        """Database and Redis are reachable (503 names the one that is not)

        Anyone, no sign-in; for a load balancer's readiness probe: take the instance out of
        rotation while it answers 503."""
        result = readiness()
        return result, (200 if result["status"] == "ok" else 503)


@blp.route("/metrics")
class Metrics(MethodView):
    @blp.auth(scheme=METRICS_SCHEME, authenticate=authenticate_metrics)
    @blp.response(200, content_type="text/plain")
    def get(self):
        """Prometheus metrics: request counts and latency by endpoint (operators only)

        For the Prometheus scraper (text exposition format), aggregated across gunicorn workers;
        only with `Authorization: Bearer <METRICS_TOKEN>` (configuration); none set: nobody."""
        body, content_type = render_metrics()
        return Response(body, content_type=content_type)
