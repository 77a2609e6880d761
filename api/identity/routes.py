"""Resident sign-in: SMS one-time code, token refresh, sign-out, device sessions."""
from flask import g, request
from flask.views import MethodView

from api.extensions import Blueprint, client_ip, now, otp_service, rate_limit
from api.identity import sessions
from api.identity.phones import normalise_phone
from api.identity.schemas import (
    LOGIN_REQUEST_EXAMPLE,
    OTP_ACCEPTED_EXAMPLE,
    OTP_REQUEST_EXAMPLE,
    REFRESH_REQUEST_EXAMPLE,
    TOKEN_PAIR_EXAMPLE,
    LoginRequest,
    OtpAccepted,
    OtpRequest,
    RefreshRequest,
    SessionSchema,
    TokenPairSchema,
)
from api.responses import json_response

blp = Blueprint("auth", __name__, url_prefix="/v1/auth", description="Sign-in and sessions")


@blp.route("/otp")
class Otp(MethodView):
    decorators = [rate_limit("20/minute")]

    @blp.arguments(OtpRequest, example=OTP_REQUEST_EXAMPLE)
    @blp.response(202, OtpAccepted, example=OTP_ACCEPTED_EXAMPLE)
    @blp.errors("INVALID_PHONE", "OTP_COOLDOWN", "RATE_LIMITED", "UPSTREAM_UNAVAILABLE")
    def post(self, body):
        """Send a one-time login code by SMS

        Anyone, no sign-in: the first step of signing in (`POST /v1/auth/login` is the second).
        A 6-digit code valid OTP_TTL (5 min) goes to the phone; in development the console
        backend prints it on the server's terminal. The same answer for registered and unknown
        numbers. Resend cooldown 60 s (`OTP_COOLDOWN`); caps per phone per day and per IP per
        hour answer 429 with Retry-After."""
        sent = otp_service().request_code(normalise_phone(body["phone"]), client_ip=client_ip())
        answer = {"sent": True, "resend_after": sent.resend_after}
        if sent.dev_code is not None:   # development only (DEV_SHOW_OTP)
            answer["dev_code"] = sent.dev_code
        return answer


@blp.route("/login")
class Login(MethodView):
    decorators = [rate_limit("30/minute")]

    @blp.arguments(LoginRequest, example=LOGIN_REQUEST_EXAMPLE)
    @blp.response(200, TokenPairSchema, example=TOKEN_PAIR_EXAMPLE)
    @blp.errors("INVALID_PHONE", "OTP_INVALID", "OTP_LOCKED", "ACCOUNT_DISABLED", "RATE_LIMITED")
    def post(self, body):
        """Sign in with phone and one-time code (the first sign-in creates the account)

        Anyone holding the code just sent to the phone. Answers an EdDSA access token (`at+jwt`,
        ACCESS_TOKEN_TTL, carries the account's roles) and an opaque refresh token; one session per
        `device_id` (signing in again on a device replaces its session). A code is single-use and
        dies after OTP_MAX_ATTEMPTS wrong tries (`OTP_LOCKED`)."""
        return sessions.login(phone=normalise_phone(body["phone"]), otp=body["otp"], device_id=body["device_id"],
                              user_agent=request.user_agent.string, now=now(), otp_service=otp_service())


@blp.route("/refresh")
class Refresh(MethodView):
    decorators = [rate_limit("60/minute")]

    @blp.arguments(RefreshRequest, example=REFRESH_REQUEST_EXAMPLE)
    @blp.response(200, TokenPairSchema, example=TOKEN_PAIR_EXAMPLE)
    @blp.errors("REFRESH_TOKEN_INVALID", "REFRESH_IN_PROGRESS", "REFRESH_TOKEN_REUSED", "RATE_LIMITED")
    def post(self, body):
        """Rotate the refresh token; a reused one signs its whole session out

        Whoever holds the refresh token (no access token needed). Answers a new pair; the old
        refresh token is spent. The same token again within REFRESH_REUSE_GRACE seconds of its
        rotation (an app racing or retrying itself) answers the very same new pair and revokes
        nothing; once that pair's refresh token has been rotated too, such a repeat gets 409
        `REFRESH_IN_PROGRESS`. Later (`REFRESH_TOKEN_REUSED`) it revokes the session: a stolen
        copy and the original cannot both live on. New roles granted since the last sign-in
        appear in the new access token."""
        return json_response(sessions.refresh(refresh_token=body["refresh_token"], now=now()).as_json())


@blp.route("/logout")
class Logout(MethodView):
    @blp.auth()
    @blp.response(204)
    def post(self):
        """Sign out this device; its access token stops working at once

        The signed-in caller, for their own current session: the session is revoked, its refresh
        token dies and its access token is refused from now on (not only when it expires)."""
        sessions.logout(g.principal, now=now())


@blp.route("/sessions")
class Sessions(MethodView):
    @blp.auth()
    @blp.response(200, SessionSchema(many=True))
    def get(self):
        """My signed-in devices

        The signed-in caller's active sessions, newest activity first; `current` marks the one
        making this request. Use it to spot a device you do not recognise."""
        return sessions.list_sessions(g.principal.user_id, current_session_id=g.principal.session_id)


@blp.route("/sessions/<string:session_id>")
class SessionItem(MethodView):
    @blp.auth()
    @blp.response(204)
    @blp.errors("SESSION_NOT_FOUND")
    def delete(self, session_id):
        """Sign out one of my devices remotely

        The signed-in caller, for one of their own sessions (another account's session id is
        `SESSION_NOT_FOUND`): its tokens stop working at once."""
        sessions.revoke_session(g.principal.user_id, session_id, now=now())
