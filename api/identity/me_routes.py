"""The signed-in resident's own account."""
from flask import g
from flask.views import MethodView

from api.access import records as access_log
from api.extensions import Blueprint, now, population_registry
from api.identity import accounts
from api.identity.me_schemas import AccessLogPage, AccessLogQuery, ProfileSchema, RealNameRequest
from api.responses import json_response

blp = Blueprint("me", __name__, url_prefix="/v1/me", description="My account")


@blp.route("")
class Me(MethodView):
    @blp.auth()
    @blp.response(200, ProfileSchema)
    @blp.errors(404)
    def get(self):
        """My profile, with phone and identity number masked"""
        return json_response(accounts.profile_json(accounts.profile(g.principal.user_id)))


@blp.route("/real-name")
class RealName(MethodView):
    @blp.auth()
    @blp.arguments(RealNameRequest)
    @blp.response(200, ProfileSchema)
    @blp.errors(409, 422, 429, 503)
    def post(self, body):
        """Verify my real name against the population registry"""
        return accounts.verify_real_name(g.principal.user_id, name=body["name"], id_type=body["id_type"],
                                         id_number=body["id_number"], now=now(), registry=population_registry())


@blp.route("/access-log")
class AccessLog(MethodView):
    @blp.auth()
    @blp.arguments(AccessLogQuery, location="query")
    @blp.response(200, AccessLogPage)
    @blp.errors(422)
    def get(self, query):
        """Who scanned my code, viewed my licences or which mini-program read what, newest first"""
        before = int(query["cursor"]) if query["cursor"] else None
        return access_log.list_access(g.principal.user_id, before_id=before, limit=query["limit"], kind=query["kind"])
