"""Yangtze River Delta trust federation: peer platforms (operators) and the signed trust list."""
from flask import g
from flask.views import MethodView

from api.extensions import Blueprint, now
from api.trust import registry
from api.trust.schemas import PeerCreate, PeerDetailSchema, PeerList, PeerSchema, TrustListSchema
from api.trust.trust_list import current_trust_list

blp = Blueprint("trust", __name__, description="Yangtze River Delta trust federation (长三角互认)")


@blp.route("/v1/admin/trust/peers")
class Peers(MethodView):
    @blp.auth(roles=("operator",))
    @blp.arguments(PeerCreate)
    @blp.response(201, PeerSchema)
    @blp.errors("PEER_ISSUER_TAKEN", "PEER_ISSUER_IS_OURS", "PEER_URL_NOT_ALLOWED", "PEER_TYPE_RESERVED")
    def post(self, body):
        """Register a peer platform (operators)

        Operators only; `POST /v1/verify` then accepts the peer's codes in `scenes`.

        Its JWKS is fetched right after, then as its Cache-Control says. Refused: 409
        PEER_ISSUER_TAKEN, 422 PEER_ISSUER_IS_OURS, PEER_URL_NOT_ALLOWED (https only; plain http
        to loopback hosts), PEER_TYPE_RESERVED (one of our own token types), a region outside
        沪苏浙皖 or an algorithm other than EdDSA/ES256 (VALIDATION_ERROR)."""
        return registry.create_peer(operator=g.principal, now=now(), **body)

    @blp.auth(roles=("operator",))
    @blp.response(200, PeerList)
    def get(self):
        """Every peer platform with its key status and last refresh (operators)

        Operators only: keys held, when they expire, the last refresh outcome."""
        return registry.list_peers(now=now())


@blp.route("/v1/admin/trust/peers/<int:peer_id>")
class Peer(MethodView):
    @blp.auth(roles=("operator",))
    @blp.response(200, PeerDetailSchema)
    @blp.errors("PEER_NOT_FOUND")
    def get(self, peer_id):
        """One peer platform with its recent refreshes (operators)

        Operators only: its registration, keys and the outcome of its latest key refreshes."""
        return registry.get_peer(peer_id, now=now())

    @blp.auth(roles=("operator",))
    @blp.response(204)
    @blp.errors("PEER_NOT_FOUND")
    def delete(self, peer_id):
        """Stop trusting a peer platform: its codes are refused at once (operators)

        Operators only; the next trust list leaves it out."""
        registry.delete_peer(peer_id)


@blp.route("/v1/admin/trust/peers/<int:peer_id>/refresh")
class PeerRefresh(MethodView):
    @blp.auth(roles=("operator",))
    @blp.response(200, PeerSchema)
    @blp.errors("PEER_NOT_FOUND", "PEER_REFRESH_IN_PROGRESS")
    def post(self, peer_id):
        """Fetch a peer's JWKS now (operators)

        Operators only, e.g. right after the peer announced a key rotation.

        A peer that cannot be reached is not an error here: `last_refresh` records the outcome
        and the last good keys stay in use until TRUST_KEYS_MAX_AGE. 409
        PEER_REFRESH_IN_PROGRESS when a refresh of this peer is already running."""
        return registry.refresh_now(peer_id, now=now())


@blp.route("/.well-known/trust-list.json")
class TrustList(MethodView):
    @blp.response(200, TrustListSchema)
    def get(self):
        """The signed trust list: every peer's issuer, region, scenes and keys, and ours

        Anyone, no sign-in; cacheable 5 minutes. For offline scanners that verify peers' codes.

        A compact JWS (EdDSA, typ `ssb-trust-list+jwt`) signed with our key: verify it with
        /.well-known/jwks.json. See docs/offline-verification.md."""
        return current_trust_list(now=now()), 200, {"Cache-Control": "public, max-age=300"}
