"""Operational endpoints: liveness, readiness, Prometheus metrics."""
import marshmallow as ma
from flask import Response
from flask.views import MethodView

from api.extensions import Blueprint
from api.observability import render_metrics
from api.ops.health import readiness
from api.schemas import Schema

blp = Blueprint("ops", __name__, description="Operations")


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
    @blp.response(200, content_type="text/plain")
    def get(self):
        """Prometheus metrics: request counts and latency by endpoint

        For the Prometheus scraper (text exposition format), aggregated across gunicorn workers;
        restrict it to the monitoring network at the proxy."""
        body, content_type = render_metrics()
        return Response(body, content_type=content_type)
