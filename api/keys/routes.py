"""Public keys for third parties (offline scanners) that verify our signed tokens."""
import marshmallow as ma
from flask.views import MethodView

from api.extensions import Blueprint, get_keyring, now
from api.schemas import Schema

blp = Blueprint("keys", __name__, description="Public keys")


class JwkSchema(Schema):
    kty = ma.fields.String(required=True)
    crv = ma.fields.String(required=True)
    alg = ma.fields.String(required=True)
    use = ma.fields.String(required=True)
    kid = ma.fields.String(required=True)
    x = ma.fields.String(required=True)


class JwksSchema(Schema):
    keys = ma.fields.List(ma.fields.Nested(JwkSchema), required=True)


@blp.route("/.well-known/jwks.json")
class Jwks(MethodView):
    @blp.response(200, JwksSchema)
    def get(self):
        """Every published Ed25519 public key (JWKS), retired keys until their last token expires

        Anyone, no sign-in; cacheable 5 minutes. Scanner vendors, mini-program backends and
        departments verify our tokens (随申码, licence presentations, proofs, place codes) with
        these keys offline: pin `alg` EdDSA and the token's `typ`, pick the key by `kid`."""
        return get_keyring().jwks(now()), 200, {"Cache-Control": "public, max-age=300"}
