"""Machine codes of the family capability (registered into the one catalogue, api.errors)."""
from api.errors import register_codes

register_codes(
    ("FAMILY_LINK_NOT_FOUND", 404, "No such family link.", "亲友关系不存在。"),
    ("FAMILY_REAL_NAME_REQUIRED", 403, "Verify your real name before adding a family member.",
     "添加亲友前请先完成实名认证。"),
    ("FAMILY_PERSONAL_TOKEN_REQUIRED", 403, "Act for a family member with your personal sign-in, not as an enterprise.",
     "请以个人身份（而非企业身份）代亲友办事。"),
    ("FAMILY_SELF", 422, "You cannot add yourself as your own family member.", "不能添加本人为亲友。"),
    ("FAMILY_NOT_REGISTERED_GUARDIAN", 403, "The population registry does not name you as this child's guardian.",
     "人口登记信息中您不是该未成年人的监护人。"),
    ("FAMILY_NOT_A_MINOR", 422, "This person is not a minor; add an adult as an elder, with their agreement.",
     "该人员不是未成年人；成年人请以长辈身份添加并经其同意。"),
    ("FAMILY_NOT_AN_ELDER", 422, "Only residents aged 60 or over can be added as elders.",
     "仅可添加年满 60 周岁的长辈。"),
    ("FAMILY_LINK_EXISTS", 409, "You already have a link with this person.", "您与该人员已有亲友关系或待确认的申请。"),
    ("FAMILY_TOO_MANY_DEPENDENTS", 409, "You already act for the maximum number of family members.",
     "您代办的亲友数量已达上限。"),
    ("FAMILY_TOO_MANY_GUARDIANS", 409, "This elder already has the maximum number of guardians.",
     "该长辈的代办人数量已达上限。"),
    ("FAMILY_LINK_PENDING", 403, "The family member has not agreed yet.", "亲友尚未同意。"),
    ("FAMILY_LINK_ENDED", 403, "This family link was refused or has ended.", "该亲友关系已被拒绝或已终止。"),
    ("FAMILY_LINK_NOT_PENDING", 409, "This request was already answered.", "该申请已处理。"),
    ("FAMILY_MINOR_LINK_FIXED", 403, "A registered guardian's link ends only when the child comes of age.",
     "登记监护人的关系在未成年人成年时自动终止，不能手动解除。"),
    ("FAMILY_VENUE_NOT_ALLOWED", 403, "Agreements are recorded only at community service or government centres.",
     "仅社区事务受理中心或政务服务中心可现场确认。"),
)
