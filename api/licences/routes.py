"""E-licences (电子证照): departments push and revoke, residents hold and show, staff verify."""
from flask import g
from flask.views import MethodView

from api.errors import AppError
from api.extensions import Blueprint, now, rate_limit
from api.identity.auth import bearer_token
from api.licences import issuers, issuing, presentations, reminders, wallet
from api.licences.catalogue import CATALOGUE
from api.licences.schemas import (
    PRESENTATION_EXAMPLE,
    PRESENTATION_REQUEST_EXAMPLE,
    VERIFICATION_EXAMPLE,
    VERIFY_PRESENTATION_REQUEST_EXAMPLE,
    AccessLogPage,
    DependentQuery,
    IssuerCreated,
    IssuerCreateRequest,
    IssuerLicenceSchema,
    IssuerTokenRequest,
    IssuerTokenSchema,
    Licence,
    LicenceAccessLogQuery,
    LicencePresentation,
    LicencePresentationRequest,
    LicenceTypeInfo,
    LicenceUpsertRequest,
    LicenceVerification,
    LicenceVerifyRequest,
    LicenceWallet,
)

ISSUER_SCHEME = "issuerAuth"

admin_blp = Blueprint("licence_issuers_admin", __name__, url_prefix="/v1/admin/issuers",
                      description="Operators register issuing departments")
issuer_blp = Blueprint("licence_issuer", __name__, url_prefix="/v1/issuer",
                       description="Departments push and revoke e-licences (client-credentials tokens)")
blp = Blueprint("licences", __name__, url_prefix="/v1", description="E-licences: wallet, presentation, verification",
                cli_group="licences")
blueprints = [admin_blp, issuer_blp, blp]


def authenticate_issuer(*, required_roles: frozenset = frozenset()):
    """Issuer endpoints accept only `ssb-issuer+jwt` department tokens; resident tokens fail here."""
    token = bearer_token()
    if token is None:
        raise AppError("UNAUTHENTICATED")
    return issuers.decode_issuer_token(token, now=now())


@issuer_blp.record_once
def _register_issuer_scheme(state):
    api = state.app.extensions["flask-smorest"]["blp_name_to_api"].get(issuer_blp.name)
    if api is not None and ISSUER_SCHEME not in api.spec.components.security_schemes:
        api.spec.components.security_scheme(ISSUER_SCHEME, {
            "type": "http", "scheme": "bearer", "bearerFormat": "JWT",
            "description": "Department token (typ ssb-issuer+jwt) from POST /v1/issuer/token"})


@blp.cli.command("send-reminders")
def send_reminders_command():
    """Send due e-licence expiry reminders now (run daily from cron)."""
    import click
    click.echo(f"sent {reminders.send_expiry_reminders()} reminder(s)")


# --- operators ---

@admin_blp.route("")
class IssuerAdmin(MethodView):
    @admin_blp.auth(roles=("operator",))
    @admin_blp.arguments(IssuerCreateRequest)
    @admin_blp.response(201, IssuerCreated)
    @admin_blp.errors("UNKNOWN_LICENCE_TYPE", "UNKNOWN_PROOF_TYPE")
    def post(self, body):
        """Register an issuing department; its client secret is shown only in this answer

        Operators only. The department then exchanges `client_id` + `client_secret` for issuer
        tokens (`POST /v1/issuer/token`); only a hash of the secret is kept. `licence_types`: the e-licences it pushes; `proof_types`: the e-proofs whose requests it
        decides. At least one of the two; an unknown type is 422."""
        return issuers.create_issuer(name=body["name"], licence_types=body["licence_types"],
                                     proof_types=body["proof_types"], created_by=g.principal.user_id, now=now())


# --- departments ---

@issuer_blp.route("/token")
class IssuerToken(MethodView):
    decorators = [rate_limit("30/minute")]

    @issuer_blp.arguments(IssuerTokenRequest)
    @issuer_blp.response(200, IssuerTokenSchema)
    @issuer_blp.errors("ISSUER_CREDENTIALS_INVALID", "RATE_LIMITED")
    def post(self, body):
        """Exchange department client credentials for a short-lived issuer token

        A registered department (client credentials from `POST /v1/admin/issuers`). The token
        (`typ` `ssb-issuer+jwt`, 10 minutes) works on `/v1/issuer/...` only; resident endpoints
        refuse it. Limited per client_id (ISSUER_TOKENS_PER_MINUTE) and per IP."""
        return issuers.issue_token(client_id=body["client_id"], client_secret=body["client_secret"], now=now())


@issuer_blp.route("/licences/<string:licence_type>/<string:number>")
class IssuerLicence(MethodView):
    @issuer_blp.auth(scheme=ISSUER_SCHEME, authenticate=authenticate_issuer)
    @issuer_blp.arguments(LicenceUpsertRequest)
    @issuer_blp.response(200, IssuerLicenceSchema)
    @issuer_blp.errors("LICENCE_TYPE_NOT_FOUND", "LICENCE_TYPE_NOT_ALLOWED", "LICENCE_OWNED_BY_OTHER_ISSUER",
                       "INVALID_LICENCE_NUMBER", "INVALID_LICENCE_FIELDS", "INVALID_REGION", "INVALID_ID_NUMBER",
                       "INVALID_CREDIT_CODE")
    def put(self, body, licence_type, number):
        """Create or replace a licence (idempotent); only the department's own licence types

        A department with an issuer token, for the licence types it was registered for. Fields
        are checked against the type's schema (`GET /v1/licence-types`); sensitive ones are
        encrypted. The holder's wallet finds it by identity number, also if they verify their
        real name later. The same body again changes nothing; a changed one bumps `version`."""
        return issuing.upsert_licence(g.principal, licence_type=licence_type, number=number, holder=body["holder"],
                                       fields=body["fields"], valid_from=body["valid_from"],
                                       valid_until=body["valid_until"], region=body["region"], now=now())

    @issuer_blp.auth(scheme=ISSUER_SCHEME, authenticate=authenticate_issuer)
    @issuer_blp.response(204)
    @issuer_blp.errors("LICENCE_TYPE_NOT_FOUND", "LICENCE_TYPE_NOT_ALLOWED", "LICENCE_OWNED_BY_OTHER_ISSUER",
                       "LICENCE_NOT_FOUND", "INVALID_LICENCE_NUMBER")
    def delete(self, licence_type, number):
        """Revoke a licence: its holder sees it revoked and its presentations stop verifying at once

        The department that issued it, with an issuer token. A later PUT reinstates it."""
        issuing.revoke_licence(g.principal, licence_type=licence_type, number=number, now=now())


# --- catalogue ---

@blp.route("/licence-types")
class LicenceTypes(MethodView):
    @blp.response(200, LicenceTypeInfo(many=True))
    def get(self):
        """The licence types and their field schemas

        Anyone, no sign-in: each type's names (zh-CN, en), whether a person or an enterprise
        holds it, its fields (type, required, sensitive) and which fields may be disclosed."""
        return [t.as_dict() for t in CATALOGUE.values()]


# --- residents ---

@blp.route("/licences")
class Wallet(MethodView):
    @blp.auth()
    @blp.arguments(DependentQuery, location="query")
    @blp.response(200, LicenceWallet)
    @blp.errors("NOT_ACTING_FOR_ENTERPRISE", "ENTERPRISE_MEMBERSHIP_REVOKED", "ENTERPRISE_ROLE_REQUIRED", "FAMILY_LINK_NOT_FOUND", "FAMILY_LINK_PENDING", "FAMILY_LINK_ENDED", "ACCOUNT_DISABLED")
    def get(self, query):
        """My licences (the enterprise's when acting for one), masked, with status and expiry

        The signed-in resident's licences (matched by their verified identity number: empty until
        real-name verification), or the enterprise's with an act-as token. `for=<link id>`: the licences of a dependent I act for (api.family)."""
        return wallet.list_wallet(g.principal, now=now(), dependent=query["dependent"])


@blp.route("/licences/<int:licence_id>")
class LicenceItem(MethodView):
    @blp.auth()
    @blp.arguments(DependentQuery, location="query")
    @blp.response(200, Licence)
    @blp.errors("LICENCE_NOT_FOUND", "NOT_ACTING_FOR_ENTERPRISE", "ENTERPRISE_MEMBERSHIP_REVOKED", "ENTERPRISE_ROLE_REQUIRED", "FAMILY_LINK_NOT_FOUND", "FAMILY_LINK_PENDING", "FAMILY_LINK_ENDED", "ACCOUNT_DISABLED")
    def get(self, query, licence_id):
        """One of my licences (or, with `for=`, of a dependent I act for), masked

        Its holder only (another's licence is `LICENCE_NOT_FOUND`): fields with sensitive values
        masked, status, validity and issuer."""
        return wallet.get_licence(g.principal, licence_id, now=now(), dependent=query["dependent"])


@blp.route("/licences/<int:licence_id>/presentations")
class Presentations(MethodView):
    @blp.auth()
    @blp.arguments(LicencePresentationRequest, example=PRESENTATION_REQUEST_EXAMPLE)
    @blp.response(201, LicencePresentation, example=PRESENTATION_EXAMPLE)
    @blp.errors("LICENCE_NOT_FOUND", "DISCLOSURE_INVALID", "LICENCE_REVOKED", "LICENCE_EXPIRED", "LICENCE_NOT_YET_VALID",
                "RATE_LIMITED", "NOT_ACTING_FOR_ENTERPRISE", "ENTERPRISE_MEMBERSHIP_REVOKED", "ENTERPRISE_ROLE_REQUIRED", "FAMILY_LINK_NOT_FOUND", "FAMILY_LINK_PENDING", "FAMILY_LINK_ENDED", "ACCOUNT_DISABLED")
    def post(self, body, licence_id):
        """Show a licence: a one-time ssb-licence+jwt (3 minutes) disclosing only the chosen fields

        The licence's holder (or a guardian with `for`). `payload` goes into a QR for staff to
        scan and `POST /v1/presentations/verify`: they see exactly `fields` (e.g. `holder_name`
        and `vehicle_class`), once. Limited per resident (LICENCE_PRESENTATIONS_PER_MINUTE). With `for`: a licence of a dependent I act for, shown by me (the token carries `act`)."""
        return presentations.create_presentation(g.principal, licence_id, fields=body["fields"],
                                                 purpose=body["purpose"], now=now(), dependent=body["dependent"])


@blp.route("/licences/<int:licence_id>/access-log")
class LicenceAccessLog(MethodView):
    @blp.auth()
    @blp.arguments(LicenceAccessLogQuery, location="query")
    @blp.response(200, AccessLogPage)
    @blp.errors("LICENCE_NOT_FOUND", "NOT_ACTING_FOR_ENTERPRISE", "ENTERPRISE_MEMBERSHIP_REVOKED", "ENTERPRISE_ROLE_REQUIRED", "ACCOUNT_DISABLED")
    def get(self, query, licence_id):
        """Who verified this licence and which fields they saw, newest first

        The licence's holder only; keyset pages via `cursor`."""
        before = int(query["cursor"]) if query["cursor"] else None
        return wallet.licence_access_log(g.principal, licence_id, before_id=before, limit=query["limit"],
                                           now=now())


# --- staff ---

@blp.route("/presentations/verify")
class VerifyPresentation(MethodView):
    @blp.auth()
    @blp.arguments(LicenceVerifyRequest, example=VERIFY_PRESENTATION_REQUEST_EXAMPLE)
    @blp.response(200, LicenceVerification, example=VERIFICATION_EXAMPLE)
    @blp.errors("MALFORMED_PRESENTATION", "PRESENTATION_BAD_SIGNATURE", "PRESENTATION_WRONG_TYPE",
                "PRESENTATION_EXPIRED", "PRESENTATION_REPLAYED", "PRESENTATION_STALE", "LICENCE_REVOKED",
                "LICENCE_EXPIRED", "LICENCE_NOT_YET_VALID", "FAMILY_LINK_ENDED", "VENUE_NOT_FOUND",
                "NOT_STAFF_OF_VENUE", "ROLE_REQUIRED")
    def post(self, body):
        """Verify a shown licence once: only the disclosed fields, and an access record for the holder

        With `venue_id` (a `vn_...` id): the caller must hold an active staff grant at that venue
        (any scenes; NOT_STAFF_OF_VENUE, VENUE_NOT_FOUND) and the holder's access log names the
        venue. Without it: only the `staff` role (inspectors designated by operators; read from
        the account, so a role granted after sign-in counts at once). Who may verify is checked
        before the presentation is consumed. Then signature, `typ`, expiry (3 minutes) and single
        use; the licence must still be valid and unchanged. The holder sees who verified which
        fields in their access log."""
        return presentations.verify_presentation(g.principal, payload=body["payload"], venue_id=body["venue_id"],
                                            now=now())
