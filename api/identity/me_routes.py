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
    @blp.errors("USER_NOT_FOUND", "ACCOUNT_DISABLED")
    def get(self):
        """My profile, with phone and identity number masked

        The signed-in caller's own account: masked phone, roles, and the real-name status (masked
        name and identity number once verified). Never anyone else's."""
        return json_response(accounts.profile(g.principal.user_id))


@blp.route("/real-name")
class RealName(MethodView):
    @blp.auth()
    @blp.arguments(RealNameRequest)
    @blp.response(200, ProfileSchema)
    @blp.errors("INVALID_ID_NUMBER", "REAL_NAME_MISMATCH", "REAL_NAME_TAKEN", "ALREADY_VERIFIED", "RATE_LIMITED",
                "ACCOUNT_DISABLED")
    def post(self, body):
        """Verify my real name against the population registry

        The signed-in caller, once per account: name and identity number must match a registry
        person (`flask --app wsgi registry import-persons` loads the local registry). A wrong
        name and an unknown number get the same `REAL_NAME_MISMATCH`, so the endpoint cannot
        tell who is registered; 5 tries a day. The number is then kept encrypted and shown masked."""
        return accounts.verify_real_name(g.principal.user_id, name=body["name"], id_type=body["id_type"],
                                         id_number=body["id_number"], now=now(), registry=population_registry())


@blp.route("/access-log")
class AccessLog(MethodView):
    @blp.auth()
    @blp.arguments(AccessLogQuery, location="query")
    @blp.response(200, AccessLogPage)
    def get(self, query):
        """Who scanned my code, viewed my licences or which mini-program read what, newest first

        The signed-in caller's own access records: each scan of their 随申码 (venue, scene), each
        licence or proof verification (fields seen), each check-in, and each mini-program data
        release; `kind` filters. Keyset pages via `cursor` (the previous page's `next_cursor`)."""
        before = int(query["cursor"]) if query["cursor"] else None
        return access_log.list_access(g.principal.user_id, before_id=before, limit=query["limit"], kind=query["kind"])
