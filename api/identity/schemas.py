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


class SessionPath(Schema):
    session_id = ma.fields.String(required=True, validate=ma.validate.Regexp(r"^[0-9a-f]{32}$"))
