"""Resident sign-in: SMS one-time code, token refresh, sign-out, device sessions."""
from flask import g, request
from flask.views import MethodView

from api.extensions import Blueprint, client_ip, now, otp_service, rate_limit
from api.identity import sessions
from api.identity.phones import normalise_phone
from api.identity.schemas import LoginRequest, OtpAccepted, OtpRequest, RefreshRequest, SessionSchema, TokenPairSchema
from api.responses import json_response

blp = Blueprint("auth", __name__, url_prefix="/v1/auth", description="Sign-in and sessions")


@blp.route("/otp")
class Otp(MethodView):
    decorators = [rate_limit("20/minute")]

    @blp.arguments(OtpRequest)
    @blp.response(202, OtpAccepted)
    @blp.errors(422, 429, 503)
    def post(self, body):
        """Send a one-time login code by SMS

        The same answer for registered and unknown numbers. Resend cooldown 60 s; caps per
        phone, per IP and per day answer 429 with Retry-After."""
        wait = otp_service().request_code(normalise_phone(body["phone"]), client_ip=client_ip())
        return {"sent": True, "resend_after": wait}


@blp.route("/login")
class Login(MethodView):
    decorators = [rate_limit("30/minute")]

    @blp.arguments(LoginRequest)
    @blp.response(200, TokenPairSchema)
    @blp.errors(401, 403, 422, 429)
    def post(self, body):
        """Sign in with phone and one-time code (the first sign-in creates the account)"""
        return sessions.login(phone=normalise_phone(body["phone"]), otp=body["otp"], device_id=body["device_id"],
                              user_agent=request.user_agent.string, now=now(), otp_service=otp_service())


@blp.route("/refresh")
class Refresh(MethodView):
    decorators = [rate_limit("60/minute")]

    @blp.arguments(RefreshRequest)
    @blp.response(200, TokenPairSchema)
    @blp.errors(401, 409, 422, 429)
    def post(self, body):
        """Rotate the refresh token; a reused one signs its whole session out

        A repeat of the same token within REFRESH_REUSE_GRACE seconds of its rotation (a retry,
        parallel refreshes) answers the same new pair; once that pair's refresh token has been
        rotated too, such a repeat answers 409 REFRESH_TOKEN_ROTATED and signs nobody out. A
        repeat after the grace window is reuse: 401 REFRESH_TOKEN_REUSED, the session is signed
        out."""
        return json_response(sessions.refresh(refresh_token=body["refresh_token"], now=now()).as_json())


@blp.route("/logout")
class Logout(MethodView):
    @blp.auth()
    @blp.response(204)
    def post(self):
        """Sign out this device; its access token stops working at once"""
        sessions.logout(g.principal, now=now())


@blp.route("/sessions")
class Sessions(MethodView):
    @blp.auth()
    @blp.response(200, SessionSchema(many=True))
    def get(self):
        """My signed-in devices"""
        return sessions.list_sessions(g.principal.user_id, current_session_id=g.principal.session_id)


@blp.route("/sessions/<string:session_id>")
class SessionItem(MethodView):
    @blp.auth()
    @blp.response(204)
    @blp.errors(404)
    def delete(self, session_id):
        """Sign out one of my devices remotely"""
        sessions.revoke_session(g.principal.user_id, session_id, now=now())
