import marshmallow as ma

from api.schemas import Schema


class OtpRequest(Schema):
    phone = ma.fields.String(required=True, validate=ma.validate.Length(min=5, max=20),
                             metadata={"example": "13812345678"})


class OtpAccepted(Schema):
    sent = ma.fields.Boolean(required=True)
    resend_after = ma.fields.Integer(required=True, metadata={"description": "seconds before another code"})
    dev_code = ma.fields.String(metadata={
        "description": "development only (DEV_SHOW_OTP with the console or file SMS backend): the code "
                       "itself; never present otherwise"})


class LoginRequest(Schema):
    phone = ma.fields.String(required=True, validate=ma.validate.Length(min=5, max=20))
    otp = ma.fields.String(required=True, validate=ma.validate.Regexp(r"^\d{6}$"))
    device_id = ma.fields.String(required=True, validate=ma.validate.Regexp(r"^[A-Za-z0-9._:\-]{1,128}$"))


class TokenPairSchema(Schema):
    access_token = ma.fields.String(required=True)
    refresh_token = ma.fields.String(required=True)
    token_type = ma.fields.String(required=True)
    expires_in = ma.fields.Integer(required=True)


class RefreshRequest(Schema):
    refresh_token = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=256))


class SessionSchema(Schema):
    id = ma.fields.String(required=True)
    device_id = ma.fields.String(required=True)
    user_agent = ma.fields.String(allow_none=True)
    created_at = ma.fields.DateTime(required=True)
    last_seen_at = ma.fields.DateTime(required=True)
    current = ma.fields.Boolean(required=True)



# OpenAPI examples of the sign-in flow.
OTP_REQUEST_EXAMPLE = {"phone": "13800138000"}
OTP_ACCEPTED_EXAMPLE = {"sent": True, "resend_after": 60}
LOGIN_REQUEST_EXAMPLE = {"phone": "13800138000", "otp": "123456", "device_id": "my-phone"}
TOKEN_PAIR_EXAMPLE = {"access_token": "eyJhbGciOiJFZERTQSIsImtpZCI6IjE3MzU2ODk2MDAiLCJ0eXAiOiJhdCtqd3QifQ.eyJpc3Mi...",
                      "refresh_token": "rt_6xkq2Yw0c1mB8pQyJt3dUo9nLrA5sVeZ7hKfGi4MjNw",
                      "token_type": "Bearer", "expires_in": 900}
REFRESH_REQUEST_EXAMPLE = {"refresh_token": "rt_6xkq2Yw0c1mB8pQyJt3dUo9nLrA5sVeZ7hKfGi4MjNw"}
