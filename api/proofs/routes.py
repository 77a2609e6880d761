"""E-proofs (电子证明): residents ask, departments decide and revoke, anyone verifies."""
from flask import Response, g
from flask.views import MethodView

from api import hooks
from api.extensions import Blueprint, client_ip, now, population_registry
from api.identity.auth import authenticate_access_token, bearer_token
from api.licences.routes import ISSUER_SCHEME, authenticate_issuer
from api.proofs import departments, requests, verification, wallet
from api.proofs.catalogue import CATALOGUE
from api.proofs.schemas import (
    IssuedProofSchema,
    ProofIssueRequest,
    ProofPage,
    ProofQueueItemSchema,
    ProofQueuePage,
    ProofQueueQuery,
    ProofRefuseRequest,
    ProofRequestCreate,
    ProofRequestPage,
    ProofRequestSchema,
    ProofRevocationPage,
    ProofSchema,
    ProofTypeList,
    ProofVerificationSchema,
    ProofVerifyRequest,
)
from api.schemas import CursorPageQuery

blp = Blueprint("proofs", __name__, url_prefix="/v1", description="E-proofs (电子证明): requests, proofs, verification")
issuer_blp = Blueprint("proof_issuer", __name__, url_prefix="/v1/issuer",
                       description="Departments decide e-proof requests and revoke proofs (issuer tokens)")
blueprints = [blp, issuer_blp]


@blp.record_once
def _answer_proof_types(state):
    """Licences' issuer registration asks which proof types exist (it sits below us)."""
    hooks.answer(state.app, hooks.PROOF_TYPES, lambda: frozenset(CATALOGUE))

_PDF = {"type": "string", "format": "binary"}


def _cursor(query) -> int | None:
    return int(query["cursor"]) if query["cursor"] else None


def _optional_verifier():
    """A bearer token names a signed-in verifier; a bad one is refused rather than ignored."""
    if bearer_token() is None:
        return None
    return authenticate_access_token()


# --- catalogue ---

@blp.route("/proof-types")
class ProofTypes(MethodView):
    @blp.response(200, ProofTypeList)
    def get(self):
        """The proof types, their fields, and which are issued at once (public)

        Anyone, no sign-in: names (zh-CN, en), fields, and `instant` (issued at once from
        registry data) or decided by the department registered for the type."""
        return {"items": [t.as_dict() for t in CATALOGUE.values()]}


# --- residents ---

@blp.route("/proofs/requests")
class ProofRequests(MethodView):
    @blp.auth()
    @blp.arguments(ProofRequestCreate)
    @blp.response(201, ProofRequestSchema)
    @blp.errors("REAL_NAME_REQUIRED", "PROOF_REQUEST_DUPLICATE", "RATE_LIMITED", "UPSTREAM_UNAVAILABLE",
                "ACCOUNT_DISABLED")
    def post(self, body):
        """Ask for a proof

        A signed-in, real-name verified resident, for themselves. An instant type is `issued` at once when the population registry's data allow;
        otherwise the request is `pending` until a department registered for the type decides.
        403 REAL_NAME_REQUIRED; 409 PROOF_REQUEST_DUPLICATE (one pending request per type);
        429 past the per-resident limit; 503 when the registry cannot be reached."""
        return requests.create_request(g.principal.user_id, proof_type=body["type"], purpose=body["purpose"],
                                       registry=population_registry(), now=now())

    @blp.auth()
    @blp.arguments(CursorPageQuery, location="query")
    @blp.response(200, ProofRequestPage)
    def get(self, query):
        """My proof requests, newest first

        The signed-in resident's own requests with their status (pending, issued, refused,
        withdrawn); keyset pages via `cursor`."""
        return requests.list_requests(g.principal.user_id, before_id=_cursor(query), limit=query["limit"])


@blp.route("/proofs/requests/<int:request_id>")
class ProofRequestItem(MethodView):
    @blp.auth()
    @blp.response(200, ProofRequestSchema)
    @blp.errors("PROOF_REQUEST_NOT_FOUND")
    def get(self, request_id):
        """One of my proof requests

        Its requester only (another's is `PROOF_REQUEST_NOT_FOUND`), with the department's
        reason when refused."""
        return requests.get_request(g.principal.user_id, request_id)


@blp.route("/proofs/requests/<int:request_id>/withdraw")
class ProofRequestWithdraw(MethodView):
    @blp.auth()
    @blp.response(200, ProofRequestSchema)
    @blp.errors("PROOF_REQUEST_NOT_FOUND", "PROOF_REQUEST_NOT_PENDING")
    def post(self, request_id):
        """Withdraw one of my requests while it is pending (409 PROOF_REQUEST_NOT_PENDING after)

        Its requester only; it leaves the department's queue."""
        return requests.withdraw_request(g.principal.user_id, request_id, now=now())


@blp.route("/proofs")
class Proofs(MethodView):
    @blp.auth()
    @blp.arguments(CursorPageQuery, location="query")
    @blp.response(200, ProofPage)
    def get(self, query):
        """My issued proofs, newest first, with their status (identifiers masked)

        The signed-in resident's own proofs: valid, expired or revoked; keyset pages via `cursor`."""
        return wallet.list_proofs(g.principal.user_id, before_id=_cursor(query), limit=query["limit"], now=now())


@blp.route("/proofs/<int:proof_id>")
class ProofItem(MethodView):
    @blp.auth()
    @blp.response(200, ProofSchema)
    @blp.errors("PROOF_NOT_FOUND")
    def get(self, proof_id):
        """One of my proofs with its payload (the QR content, ssb-proof+jwt)

        Its holder only. Anyone the holder shows the QR to checks it with `POST
        /v1/proofs/verify`, or offline with the JWKS."""
        return wallet.get_proof(g.principal.user_id, proof_id, now=now())


@blp.route("/proofs/<int:proof_id>/document")
class ProofDocument(MethodView):
    @blp.auth()
    @blp.doc(responses={"200": {"description": "The proof as a one-page PDF carrying a QR of its payload",
                                "content": {"application/pdf": {"schema": _PDF}}}})
    @blp.errors("PROOF_NOT_FOUND", "PROOF_REVOKED", "PROOF_EXPIRED", "RATE_LIMITED")
    def get(self, proof_id):
        """One of my proofs as a PDF (409 PROOF_REVOKED or PROOF_EXPIRED: no document then)

        Its holder only: a one-page PDF to print or send, carrying a QR of its payload."""
        body, filename = wallet.proof_document(g.principal.user_id, proof_id, now=now())
        return Response(body, mimetype="application/pdf", headers={
            "Cache-Control": "no-store", "Content-Disposition": f'attachment; filename="{filename}"'})


# --- anyone ---

@blp.route("/proofs/verify")
class VerifyProof(MethodView):
    @blp.arguments(ProofVerifyRequest)
    @blp.response(200, ProofVerificationSchema)
    @blp.errors("MALFORMED_PROOF", "PROOF_WRONG_TYPE", "PROOF_BAD_SIGNATURE", "UNAUTHENTICATED", "INVALID_TOKEN",
                "RATE_LIMITED")
    def post(self, body):
        """Check a proof's QR: valid, expired or revoked, its fields and issuer (no login)

        Anyone may call it; a bearer access token, if sent, names the verifier in the holder's
        access log (else the check is logged as a public check). Rate-limited per client IP.
        422 MALFORMED_PROOF, PROOF_WRONG_TYPE (a licence or code payload), PROOF_BAD_SIGNATURE."""
        return verification.verify(body["payload"], client=client_ip(), verifier=_optional_verifier(), now=now())


@blp.route("/proofs/revocations")
class ProofRevocations(MethodView):
    @blp.arguments(CursorPageQuery, location="query")
    @blp.response(200, ProofRevocationPage)
    @blp.errors("RATE_LIMITED")
    def get(self, query):
        """Revoked proof numbers since a cursor, oldest first, for offline verifiers (no login)

        Anyone, rate-limited per client IP. Pass the previous page's `next_cursor` as `cursor`."""
        return verification.list_revocations(after_id=_cursor(query), limit=query["limit"], client=client_ip())


# --- departments ---

@issuer_blp.route("/proof-requests")
class IssuerQueue(MethodView):
    @issuer_blp.auth(scheme=ISSUER_SCHEME, authenticate=authenticate_issuer)
    @issuer_blp.arguments(ProofQueueQuery, location="query")
    @issuer_blp.response(200, ProofQueuePage)
    def get(self, query):
        """The department's queue: pending requests of its types, oldest first

        A department with an issuer token, for the proof types it was registered for (with
        `status`, also those it issued or refused); the holder's full identity is given for its
        check."""
        return departments.queue(g.principal, status=query["status"], after_id=_cursor(query),
                                 limit=query["limit"], now=now())


@issuer_blp.route("/proof-requests/<int:request_id>/issue")
class IssuerIssue(MethodView):
    @issuer_blp.auth(scheme=ISSUER_SCHEME, authenticate=authenticate_issuer)
    @issuer_blp.arguments(ProofIssueRequest)
    @issuer_blp.response(201, IssuedProofSchema)
    @issuer_blp.errors("PROOF_REQUEST_NOT_FOUND", "PROOF_TYPE_NOT_ALLOWED", "PROOF_REQUEST_NOT_PENDING",
                       "INVALID_PROOF_FIELDS")
    def post(self, body, request_id):
        """Issue the proof asked for; the resident is told in the inbox

        A department with an issuer token, for a pending request of one of its types.

        403 PROOF_TYPE_NOT_ALLOWED for a type the department is not registered for; 409
        PROOF_REQUEST_NOT_PENDING; 422 INVALID_PROOF_FIELDS with the field errors."""
        return departments.issue(g.principal, request_id, fields=body["fields"], valid_days=body["valid_days"],
                                 now=now())


@issuer_blp.route("/proof-requests/<int:request_id>/refuse")
class IssuerRefuse(MethodView):
    @issuer_blp.auth(scheme=ISSUER_SCHEME, authenticate=authenticate_issuer)
    @issuer_blp.arguments(ProofRefuseRequest)
    @issuer_blp.response(200, ProofQueueItemSchema)
    @issuer_blp.errors("PROOF_REQUEST_NOT_FOUND", "PROOF_TYPE_NOT_ALLOWED", "PROOF_REQUEST_NOT_PENDING")
    def post(self, body, request_id):
        """Refuse a request with a reason the resident reads in the inbox

        A department with an issuer token, for a pending request of one of its types."""
        return departments.refuse_request(g.principal, request_id, reason=body["reason"], now=now())


@issuer_blp.route("/proofs/<int:proof_id>")
class IssuerProof(MethodView):
    @issuer_blp.auth(scheme=ISSUER_SCHEME, authenticate=authenticate_issuer)
    @issuer_blp.response(204)
    @issuer_blp.errors("PROOF_NOT_FOUND", "PROOF_OWNED_BY_OTHER_ISSUER")
    def delete(self, proof_id):
        """Revoke a proof the department issued

        The issuing department only, with an issuer token (another department's proof is
        `PROOF_OWNED_BY_OTHER_ISSUER`). Checks answer revoked at once; the number joins the
        revocation feed."""
        departments.revoke(g.principal, proof_id, now=now())

