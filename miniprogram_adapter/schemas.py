"""Schemas for the mini-program endpoints.

Ours (operator and resident side) reject unknown fields like every other resource. The
WeChat-compatible ones follow WeChat: unknown parameters are ignored, every parameter is optional
at the schema level (a missing one is answered with WeChat's errcode, e.g. 41002 appid missing),
and each response schema documents both the success fields and the `{errcode, errmsg}` envelope.
"""
from __future__ import annotations

import marshmallow as ma

from api.schemas import Schema
from miniprogram_adapter.apps import SCOPE_RE

_scope = ma.fields.String(validate=ma.validate.Regexp(SCOPE_RE.pattern, error="unknown scope"))
_TEXT = ma.validate.Regexp(r"^[^\x00-\x1f]+$", error="control characters are not allowed")


# ---------------------------------------------------------------------------- operators

class MpRegisterRequest(Schema):
    name = ma.fields.String(required=True, validate=[ma.validate.Length(min=1, max=64), _TEXT])
    owner_org = ma.fields.String(required=True, validate=[ma.validate.Length(min=1, max=128), _TEXT],
                                 metadata={"description": "owning organisation: apps of one owner share unionids"})
    scopes = ma.fields.List(_scope, required=True, validate=ma.validate.Length(max=32),
                            metadata={"description": "scope.userinfo, scope.phone, scope.realname, "
                                                     "scope.licence.<type>, scope.subscribe_message"})
    request_domain = ma.fields.String(load_default=None, allow_none=True,
                                      validate=ma.validate.Regexp(r"^https://[A-Za-z0-9.\-]{1,240}(:\d{1,5})?$"),
                                      metadata={"description": "https origin the mini-program calls"})


class MpCreated(Schema):
    appid = ma.fields.String(required=True)
    secret = ma.fields.String(required=True, metadata={"description": "shown once; only a hash is kept"})
    name = ma.fields.String(required=True)
    owner_org = ma.fields.String(required=True)
    scopes = ma.fields.List(ma.fields.String(), required=True)
    request_domain = ma.fields.String(allow_none=True)
    created_at = ma.fields.DateTime(required=True)


class MpSecretRotated(Schema):
    appid = ma.fields.String(required=True)
    secret = ma.fields.String(required=True, metadata={"description": "shown once; the old one stops working"})


# ---------------------------------------------------------------------------- residents

class MpIssuedCode(Schema):
    code = ma.fields.String(required=True, metadata={"description": "single use"})
    expires_in = ma.fields.Integer(required=True)


class MpConsentRequest(Schema):
    scopes = ma.fields.List(_scope, required=True, validate=ma.validate.Length(min=1, max=32))


class MpConsentSchema(Schema):
    appid = ma.fields.String(required=True)
    name = ma.fields.String(required=True)
    owner_org = ma.fields.String(required=True)
    scopes = ma.fields.List(ma.fields.String(), required=True)
    granted_at = ma.fields.DateTime(allow_none=True)


class MpConsentList(Schema):
    items = ma.fields.List(ma.fields.Nested(MpConsentSchema), required=True)


class MpUserInfo(Schema):
    nickName = ma.fields.String(required=True)
    avatarUrl = ma.fields.String(required=True)
    gender = ma.fields.Integer(required=True)
    country = ma.fields.String(required=True)
    province = ma.fields.String(required=True)
    city = ma.fields.String(required=True)
    language = ma.fields.String(required=True)


class MpUserInfoBundle(Schema):
    userInfo = ma.fields.Nested(MpUserInfo, required=True)
    rawData = ma.fields.String(required=True, metadata={"description": "JSON string of userInfo"})
    signature = ma.fields.String(required=True, metadata={"description": "sha1(rawData + session_key), hex"})
    encryptedData = ma.fields.String(required=True,
                                     metadata={"description": "base64 AES-128-CBC (key = session_key), PKCS#7; "
                                                              "JSON with openId and watermark {appid, timestamp}"})
    iv = ma.fields.String(required=True, metadata={"description": "base64, 16 bytes"})


# ---------------------------------------------------------------------------- WeChat-compatible

class WxSchema(ma.Schema):
    """Foreign protocol: unknown parameters are ignored, as WeChat does."""

    class Meta:
        unknown = ma.EXCLUDE
        ordered = True


def _opt(**kw):
    return ma.fields.String(load_default=None, **kw)


class WxErrorFields(WxSchema):
    errcode = ma.fields.Integer(metadata={"description": "0 on success; WeChat's codes, or ours (8800001..)"})
    errmsg = ma.fields.String()


class WxCode2SessionQuery(WxSchema):
    appid = _opt()
    secret = _opt()
    js_code = _opt()
    grant_type = _opt(metadata={"description": "authorization_code"})


class WxCode2SessionResponse(WxErrorFields):
    openid = ma.fields.String(metadata={"description": "pairwise: differs per appid for one resident"})
    session_key = ma.fields.String()
    unionid = ma.fields.String(metadata={"description": "shared by the apps of one owner organisation"})


class WxTokenQuery(WxSchema):
    grant_type = _opt(metadata={"description": "client_credential"})
    appid = _opt()
    secret = _opt()


class StrictBoolean(ma.fields.Boolean):
    """JSON true/false only (marshmallow's Boolean also takes 0, 1, "yes"...)."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise self.make_error("invalid")
        return value


class WxStableTokenRequest(WxSchema):
    grant_type = _opt()
    appid = _opt()
    secret = _opt()
    force_refresh = StrictBoolean(load_default=False)


class WxTokenResponse(WxErrorFields):
    access_token = ma.fields.String()
    expires_in = ma.fields.Integer()


class WxAccessTokenQuery(WxSchema):
    access_token = _opt()


class WxPhoneCodeRequest(WxSchema):
    code = _opt()
    openid = _opt()       # accepted (WeChat lets backends pass it), not needed


class WxWatermark(WxSchema):
    appid = ma.fields.String(required=True)
    timestamp = ma.fields.Integer(required=True)


class WxPhoneInfo(WxSchema):
    phoneNumber = ma.fields.String(required=True)
    purePhoneNumber = ma.fields.String(required=True)
    countryCode = ma.fields.String(required=True)
    watermark = ma.fields.Nested(WxWatermark, required=True)


class WxPhoneNumberResponse(WxErrorFields):
    phone_info = ma.fields.Nested(WxPhoneInfo)


class WxOpenidRequest(WxSchema):
    openid = _opt()


class WxRealnameInfo(WxSchema):
    name = ma.fields.String(required=True, metadata={"description": "verified name"})
    id_type = ma.fields.String(required=True)
    id_number = ma.fields.String(required=True, metadata={"description": "masked"})
    verified_at = ma.fields.Integer(required=True)
    watermark = ma.fields.Nested(WxWatermark, required=True)


class WxRealnameResponse(WxErrorFields):
    realname_info = ma.fields.Nested(WxRealnameInfo)


class WxLicenceRequest(WxSchema):
    openid = _opt()
    type = _opt(metadata={"description": "licence type, as in scope.licence.<type>"})


class WxLicenceResponse(WxErrorFields):
    licence_info = ma.fields.Dict(metadata={"description": "the licence (masked where personal) with a watermark"})


class WxSubscribeMessageRequest(WxSchema):
    touser = _opt(metadata={"description": "openid"})
    template_id = _opt()
    page = _opt()
    data = ma.fields.Raw(load_default=None, metadata={"description": '{"thing1": {"value": "..."}, ...}'})
    miniprogram_state = _opt()
    lang = _opt()


class WxSubscribeMessageResponse(WxErrorFields):
    msgid = ma.fields.Integer()
