"""随申码: residents' rotating codes and their images; staff verification; the revocation feed."""
from flask import Response, g
from flask.views import MethodView

from api.codes import services as codes
from api.codes.schemas import (
    CODES_EXAMPLE,
    VERIFY_REQUEST_EXAMPLE,
    VERIFY_RESULT_EXAMPLE,
    CodeQuery,
    CodesSchema,
    CodeVerifyRequest,
    CodeVerifyResult,
    ImageQuery,
    RevocationPage,
    RevocationQuery,
)
from api.extensions import Blueprint, now
from api.responses import json_response

blp = Blueprint("codes", __name__, description="随申码 (Suishen codes) and their verification")

_IMAGE = {"type": "string", "format": "binary"}


@blp.route("/v1/codes/suishen")
class SuishenCode(MethodView):
    @blp.auth()
    @blp.arguments(CodeQuery, location="query")
    @blp.response(200, CodesSchema, example=CODES_EXAMPLE)
    @blp.errors("NOT_A_VETERAN", "HOME_SERVICE_CERT_REQUIRED", "REAL_NAME_REQUIRED", "NOT_ACTING_FOR_ENTERPRISE",
                "ACCOUNT_DISABLED", "USER_NOT_FOUND", "FAMILY_LINK_NOT_FOUND", "FAMILY_LINK_PENDING",
                "FAMILY_LINK_ENDED")
    def get(self, query):
        """A fresh code (or N consecutive codes for offline display) for a scene

        The signed-in resident, for themselves (or with `for=`, a dependent they act for). Each code is a compact JWS (EdDSA, typ `ssb-code+jwt`) valid for CODE_TTL seconds; code
        i is valid from now + i × CODE_TTL. A scene the resident is not entitled to answers 403
        NOT_A_VETERAN, HOME_SERVICE_CERT_REQUIRED, REAL_NAME_REQUIRED or NOT_ACTING_FOR_ENTERPRISE.

        `for=<link id>`: a code of my dependent (`sub` theirs, `act.sub` mine, their
        entitlements); 404 FAMILY_LINK_NOT_FOUND, 403 FAMILY_LINK_PENDING or FAMILY_LINK_ENDED."""
        return json_response(codes.issue(principal=g.principal, scene=query["scene"], count=query["count"],
                                         now=now(), dependent=query["dependent"]))


@blp.route("/v1/codes/suishen/image")
class SuishenCodeImage(MethodView):
    @blp.auth()
    @blp.arguments(ImageQuery, location="query")
    @blp.doc(responses={"200": {"description": "The current code as a QR image (not cacheable)",
                                "content": {"image/png": {"schema": _IMAGE}, "image/svg+xml": {"schema": _IMAGE}}}})
    @blp.errors("NOT_A_VETERAN", "HOME_SERVICE_CERT_REQUIRED", "REAL_NAME_REQUIRED", "NOT_ACTING_FOR_ENTERPRISE",
                "ACCOUNT_DISABLED", "USER_NOT_FOUND", "FAMILY_LINK_NOT_FOUND", "FAMILY_LINK_PENDING",
                "FAMILY_LINK_ENDED")
    def get(self, query):
        """The current code as a PNG or SVG QR image

        The signed-in resident (or a guardian with `for=`), as for `GET /v1/codes/suishen`: the
        same code drawn as a QR image, not cacheable; `X-Code-Expires-At` says when to fetch the
        next one."""
        body, media_type, expires_at = codes.image(principal=g.principal, scene=query["scene"],
                                                   fmt=query["format"], now=now(), dependent=query["dependent"])
        return Response(body, mimetype=media_type, headers={"Cache-Control": "no-store",
                                                            "X-Code-Expires-At": str(expires_at)})


@blp.route("/v1/verify")
class Verify(MethodView):
    @blp.auth()
    @blp.arguments(CodeVerifyRequest, example=VERIFY_REQUEST_EXAMPLE)
    @blp.response(200, CodeVerifyResult, example=VERIFY_RESULT_EXAMPLE)
    @blp.errors("MALFORMED_CODE", "CODE_WRONG_TYPE", "CODE_BAD_SIGNATURE", "CODE_UNKNOWN_KEY", "CODE_WRONG_ISSUER",
                "CODE_EXPIRED", "CODE_NOT_YET_VALID", "CODE_REPLAYED", "CODE_REFRESH_REQUIRED", "CODE_REVOKED",
                "SCENE_NOT_ALLOWED",
                "NOT_STAFF_OF_VENUE", "VENUE_NOT_FOUND", "FAMILY_LINK_ENDED", "CODE_HEADER_NOT_ALLOWED",
                "CODE_SCENE_NOT_TRUSTED", "CODE_ISSUER_KEYS_EXPIRED")
    def post(self, body):
        """Verify a resident's code at a venue (its staff only)

        Staff of the venue `venue_id` (granted by an operator for some scenes; `GET
        /v1/me/venues` lists them), the code's scene among their granted scenes. Answers the
        holder masked and only the entitlement the scene needs, and writes an access record the
        resident reads in `GET /v1/me/access-log`. Refusals: 422 MALFORMED_CODE, CODE_WRONG_TYPE, CODE_BAD_SIGNATURE, CODE_UNKNOWN_KEY,
        CODE_EXPIRED, CODE_NOT_YET_VALID; 409 CODE_REPLAYED (transport codes are single-use),
        CODE_REFRESH_REQUIRED (a single-use code issued before the store of used codes restarted
        cannot be proven unused: the resident shows a fresh one);
        403 CODE_REVOKED, SCENE_NOT_ALLOWED, NOT_STAFF_OF_VENUE; 404 VENUE_NOT_FOUND.

        A code a guardian shows for a dependent (claim `act`) answers the dependent as `holder`
        with `shown_by_guardian: true` and the guardian (masked); its link is checked again
        (403 FAMILY_LINK_ENDED once it ended).

        A code of a trusted peer platform (长三角互认, /v1/admin/trust/peers) is verified with that
        peer's keys only; the answer then names `issuer`. Its own refusals: 422
        CODE_HEADER_NOT_ALLOWED (jku/jwk/x5u... headers), 403 CODE_SCENE_NOT_TRUSTED, 503
        CODE_ISSUER_KEYS_EXPIRED (the peer unreachable for longer than TRUST_KEYS_MAX_AGE)."""
        return json_response(codes.verify(principal=g.principal, payload=body["payload"], venue_id=body["venue_id"],
                                          now=now()))


@blp.route("/v1/codes/revocations")
class Revocations(MethodView):
    @blp.auth(roles=("staff", "operator"))
    @blp.arguments(RevocationQuery, location="query")
    @blp.response(200, RevocationPage)
    def get(self, query):
        """Revoked holders and retired keys since a cursor, oldest first (for offline scanners)

        Staff and operators. An offline scanner keeps the feed: refuse codes whose `sub` is a
        revoked holder, and keys (`kid`) past their `until`. Pass the previous `next_cursor` as
        `since`; `more` says another page waits."""
        since = int(query["since"]) if query["since"] else None
        return codes.list_revocations(since=since, limit=query["limit"])
