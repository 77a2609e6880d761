"""Named hooks: how `api` wakes a higher layer (push delivery) without importing it.

A plugin registers its handlers at start-up (`push.init_app`); `api` fires them, usually from an
after-commit callback. With no handler registered (an app built without push), firing does nothing.
"""
from __future__ import annotations

from collections.abc import Callable

from flask import current_app

INBOX_PUSH_PENDING = "inbox_push_pending"   # (not_before: int | None, now: int): a push waits in the outbox
CAMPAIGN_CREATED = "campaign_created"       # (campaign_id: int): plan and fan out a new campaign

KNOWN = frozenset({INBOX_PUSH_PENDING, CAMPAIGN_CREATED})


def register(app, name: str, handler: Callable) -> None:
    if name not in KNOWN:
        raise ValueError(f"unknown hook {name!r}")
    app.extensions.setdefault("ssb.hooks", {}).setdefault(name, []).append(handler)


def fire(name: str, *args, **kwargs) -> None:
    for handler in current_app.extensions.get("ssb.hooks", {}).get(name, ()):
        handler(*args, **kwargs)


# --------------------------------------------------------------------------- answers
# A question a lower capability asks and one higher capability answers (at most one handler
# each), registered when that capability's blueprint joins the app.

# Acting for a dependent (api.family answers; codes and licences ask). Each answer is an
# `api.family.acting.Acting` (the dependent's `holder()`, `bidx`, the guardian's holder id and
# masked name, `record(...)` to write the dependent's access log) or raises AppError.
DEPENDENT_FOR_CALLER = "dependent_for_caller"       # (principal, dependent_id: str, now: int)
DEPENDENT_OF_CODE = "dependent_of_code"             # (claims: dict, now: int): a code with `act`
DEPENDENT_OF_PRESENTATION = "dependent_of_presentation"   # (guardian_user_id: int, holder_bidx: str, now: int)

# The e-proof type codes a department may be registered for (api.proofs answers; licences'
# issuer registration asks). A frozenset of codes.
PROOF_TYPES = "proof_types"                         # ()

# The venue a staff member checks a licence for (api.codes answers; licences' presentation check
# asks). The venue's row (`id`, `public_id`, `name`, `district`), or AppError VENUE_NOT_FOUND /
# NOT_STAFF_OF_VENUE.
VENUE_SERVED_BY = "venue_served_by"                 # (venue_public_id: str, user_id: int)

ANSWERS = frozenset({DEPENDENT_FOR_CALLER, DEPENDENT_OF_CODE, DEPENDENT_OF_PRESENTATION, PROOF_TYPES,
                     VENUE_SERVED_BY})


def answer(app, name: str, handler: Callable) -> None:
    if name not in ANSWERS:
        raise ValueError(f"unknown question {name!r}")
    app.extensions.setdefault("ssb.answers", {})[name] = handler


def ask(name: str, *args, **kwargs):
    """The registered handler's answer; LookupError when no capability answers `name`."""
    handler = current_app.extensions.get("ssb.answers", {}).get(name)
    if handler is None:
        raise LookupError(name)
    return handler(*args, **kwargs)
