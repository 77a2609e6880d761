"""The machine codes of 好差评 (registered once, on import)."""
from api.errors import register_codes

register_codes(
    ("RATING_TARGET_NOT_FOUND", 404, "No such service in your access log.", "您的访问记录中没有这项服务。"),
    ("NOT_RATEABLE", 422, "This kind of service cannot be rated.", "该类服务暂不支持评价。"),
    ("RATING_WINDOW_CLOSED", 410, "A service can only be rated within 15 days.", "服务只能在办理后 15 天内评价。"),
    ("ALREADY_RATED", 409, "You have already rated this service.", "您已评价过这项服务。"),
    ("UNKNOWN_RATING_TAG", 422, "Some tags do not apply to this kind of service.", "部分标签不适用于该类服务。"),
    ("RATING_NOT_FOUND", 404, "No such rating.", "评价不存在。"),
    ("ALREADY_REPLIED", 409, "This rating already has a reply.", "该评价已回复。"),
    ("NOT_RATING_RESPONDER", 403, "Only the rated venue's staff (operators, for a mini-program) may do this.",
     "仅被评价场所的工作人员（小程序由运营人员）可以操作。"),
    ("RATING_CASE_NOT_FOUND", 404, "No such rectification case.", "整改工单不存在。"),
    ("CASE_ALREADY_RESOLVED", 409, "This case is already resolved.", "该整改工单已办结。"),
    ("CASE_NOT_RESOLVED", 409, "There is no rectification outcome to answer yet.", "暂无可评价的整改结果。"),
    ("FEEDBACK_ALREADY_GIVEN", 409, "You have already answered.", "您已反馈过。"),
    ("OWN_SERVICE_NOT_RATEABLE", 403, "Staff cannot rate the venue they work for.", "工作人员不能评价本场所。"),
    ("MINIPROGRAM_NOT_FOUND", 404, "No such mini-program.", "小程序不存在。"),
)
