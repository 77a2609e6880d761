"""What the family capability tells people in their inbox (zh-CN and en), as composed writes:
the calling use case commits. Only masked names ever appear; a person without an account is
told nothing here (an elder without one agrees in person, where the clerk tells them)."""
from __future__ import annotations

from api.notifications.inbox import deliver_to_user

DEEP_LINK_GUARDIANS = "ssb://me/guardians"
DEEP_LINK_DEPENDENTS = "ssb://me/dependents"


def guardian_requested(elder_user_id: int, *, guardian_name: str, now: int) -> None:
    deliver_to_user(elder_user_id, category="security", now=now, deep_link=DEEP_LINK_GUARDIANS,
                    title="亲友代办申请", body=f"{guardian_name} 申请代您办理随申码、电子证照等事项，请在“我的亲友”中确认或拒绝。",
                    title_en="A family member asks to act for you",
                    body_en=f"{guardian_name} asks to act for you (your Suishen code, e-licences). "
                            "Agree or refuse under My family.")


def elder_agreed(guardian_user_id: int, *, elder_name: str, in_person: bool, now: int) -> None:
    where, where_en = ("已在现场确认", "agreed in person") if in_person else ("已同意", "agreed")
    deliver_to_user(guardian_user_id, category="service", now=now, deep_link=DEEP_LINK_DEPENDENTS,
                    title="亲友已同意代办", body=f"{elder_name} {where}由您代为办事。",
                    title_en="Your family member agreed", body_en=f"{elder_name} {where_en} that you act for them.")


def consent_recorded(elder_user_id: int, *, guardian_name: str, venue_name: str, now: int) -> None:
    deliver_to_user(elder_user_id, category="security", now=now, deep_link=DEEP_LINK_GUARDIANS,
                    title="已确认亲友代办", body=f"您已在{venue_name}确认由 {guardian_name} 代您办事，可随时在“我的亲友”中解除。",
                    title_en="You agreed to a guardian",
                    body_en=f"At {venue_name} you agreed that {guardian_name} acts for you. "
                            "You can end this at any time under My family.")


def link_ended(user_id: int, *, other_name: str, refused: bool, now: int) -> None:
    if refused:
        title, body = "代办申请被拒绝", f"{other_name} 拒绝了您的代办申请。"
        title_en, body_en = "Request refused", f"{other_name} refused your request to act for them."
    else:
        title, body = "亲友代办已解除", f"您与 {other_name} 的亲友代办关系已解除。"
        title_en, body_en = "Family link ended", f"The family link with {other_name} has ended."
    deliver_to_user(user_id, category="security", now=now, deep_link=DEEP_LINK_DEPENDENTS, title=title, body=body,
                    title_en=title_en, body_en=body_en)
