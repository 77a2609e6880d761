"""Family (亲友): guardians act for children and for elders who agree."""
from flask import g
from flask.views import MethodView

from api.extensions import Blueprint, now, population_registry
from api.family import acting, activity, consents, links
from api.family.schemas import (
    ActivityPage,
    ActivityQuery,
    ConsentRecorded,
    DependentLink,
    DependentPage,
    DependentRequest,
    ElderConsentRequest,
    GuardianLink,
    GuardianPage,
)
from api.schemas import CursorPageQuery

blp = Blueprint("family", __name__, description="Family (亲友): acting for a child or an elder")


@blp.record_once
def _answer_lower_capabilities(state):
    acting.install(state.app)


def _cursor(query) -> int | None:
    return int(query["cursor"]) if query["cursor"] else None


@blp.route("/v1/me/dependents")
class Dependents(MethodView):
    @blp.auth()
    @blp.arguments(CursorPageQuery, location="query")
    @blp.response(200, DependentPage)
    def get(self, query):
        """The family members I act for (or asked to), any status, newest first

        The signed-in guardian's own links, names and numbers masked. `id` is what `for=` takes
        on codes and licences."""
        return links.list_dependents(g.principal, before_id=_cursor(query), limit=query["limit"], now=now())

    @blp.auth()
    @blp.arguments(DependentRequest)
    @blp.response(201, DependentLink)
    @blp.errors("FAMILY_REAL_NAME_REQUIRED", "FAMILY_PERSONAL_TOKEN_REQUIRED", "FAMILY_SELF", "INVALID_ID_NUMBER",
                "REAL_NAME_MISMATCH", "FAMILY_NOT_REGISTERED_GUARDIAN", "FAMILY_NOT_A_MINOR", "FAMILY_NOT_AN_ELDER",
                "FAMILY_LINK_EXISTS", "FAMILY_TOO_MANY_DEPENDENTS", "FAMILY_TOO_MANY_GUARDIANS", "CONFLICT",
                "RATE_LIMITED", "UPSTREAM_UNAVAILABLE", "ACCOUNT_DISABLED")
    def post(self, body):
        """Ask to act for a child or an elder

        The signed-in resident with a personal (not act-as) token.

        Needs my verified real name. `minor_child`: active at once when the population registry
        names me the child's guardian (403 FAMILY_NOT_REGISTERED_GUARDIAN otherwise); it ends by
        itself on the child's 18th birthday. `elder` (60 or over): pending until the elder agrees
        in their app or in person at a community centre. Name and number must match the
        registry (422 REAL_NAME_MISMATCH). At most 5 dependents per guardian, 3 guardians per
        elder (409); attempts are rate-limited per guardian (429)."""
        return links.request_link(g.principal, name=body["name"], id_type=body["id_type"], id_number=body["id_number"],
                                  relation=body["relation"], now=now(), registry=population_registry())


@blp.route("/v1/me/dependents/<string:link_id>")
class Dependent(MethodView):
    @blp.auth()
    @blp.response(204)
    @blp.errors("FAMILY_LINK_NOT_FOUND")
    def delete(self, link_id):
        """Stop acting for a family member (or withdraw my request); idempotent

        The guardian of the link only: their codes and licences for the dependent stop working
        at once; the dependent is told."""
        links.end_by_guardian(g.principal, link_id, now=now())


@blp.route("/v1/me/dependents/<string:link_id>/activity")
class DependentActivity(MethodView):
    @blp.auth()
    @blp.arguments(ActivityQuery, location="query")
    @blp.response(200, ActivityPage)
    @blp.errors("FAMILY_LINK_NOT_FOUND")
    def get(self, query, link_id):
        """What I did for this family member, and who scanned or verified what I showed, newest first

        The guardian of the link only: the dependent's access records that this guardian caused."""
        return activity.for_guardian(g.principal, link_id, before_id=_cursor(query), limit=query["limit"])


@blp.route("/v1/me/guardians")
class Guardians(MethodView):
    @blp.auth()
    @blp.arguments(CursorPageQuery, location="query")
    @blp.response(200, GuardianPage)
    @blp.errors("FAMILY_PERSONAL_TOKEN_REQUIRED", "ACCOUNT_DISABLED")
    def get(self, query):
        """Who acts for me or asked to (any status), newest first; empty until my real name is verified

        The signed-in dependent (an elder or a minor with an account): each guardian masked, with
        the link's status, so they can agree, refuse or end it."""
        return links.list_guardians(g.principal, before_id=_cursor(query), limit=query["limit"], now=now())


@blp.route("/v1/me/guardians/<string:link_id>")
class Guardian(MethodView):
    @blp.auth()
    @blp.response(204)
    @blp.errors("FAMILY_LINK_NOT_FOUND", "FAMILY_MINOR_LINK_FIXED", "FAMILY_PERSONAL_TOKEN_REQUIRED",
                "ACCOUNT_DISABLED")
    def delete(self, link_id):
        """Refuse a request, or end a guardian's link, at any time; idempotent

        The dependent of the link only. A registered guardian's link to a minor ends only at 18 (403 FAMILY_MINOR_LINK_FIXED)."""
        links.end_by_dependent(g.principal, link_id, now=now())


@blp.route("/v1/me/guardians/<string:link_id>/approve")
class GuardianApproval(MethodView):
    @blp.auth()
    @blp.response(200, GuardianLink)
    @blp.errors("FAMILY_LINK_NOT_FOUND", "FAMILY_LINK_NOT_PENDING", "FAMILY_TOO_MANY_GUARDIANS",
                "FAMILY_PERSONAL_TOKEN_REQUIRED", "ACCOUNT_DISABLED")
    def post(self, link_id):
        """Agree that this family member acts for me (their request must be pending)

        The elder named in the request, signed in with their own account; the guardian is told
        and may act for them from now on."""
        return links.approve(g.principal, link_id, now=now())


@blp.route("/v1/me/guardians/<string:link_id>/activity")
class GuardianActivity(MethodView):
    @blp.auth()
    @blp.arguments(ActivityQuery, location="query")
    @blp.response(200, ActivityPage)
    @blp.errors("FAMILY_LINK_NOT_FOUND")
    def get(self, query, link_id):
        """What this guardian did for me, newest first (also before I had an account)

        The dependent of the link only: every code shown and licence presented for them by this
        guardian, with who scanned or verified it."""
        return activity.for_dependent(g.principal, link_id, before_id=_cursor(query), limit=query["limit"])


@blp.route("/v1/venues/<string:venue_id>/family/elder-consents")
class ElderConsents(MethodView):
    @blp.auth(roles=("staff",))
    @blp.arguments(ElderConsentRequest)
    @blp.response(201, ConsentRecorded)
    @blp.errors("VENUE_NOT_FOUND", "NOT_STAFF_OF_VENUE", "FAMILY_VENUE_NOT_ALLOWED", "FAMILY_LINK_NOT_FOUND",
                "FAMILY_LINK_NOT_PENDING", "FAMILY_TOO_MANY_GUARDIANS", "INVALID_ID_NUMBER", "INVALID_PHONE",
                "RATE_LIMITED")
    def post(self, body, venue_id):
        """A clerk records, in person, that an elder agrees to a guardian's pending request

        Staff with a grant at this venue, a community service or government centre only (403
        NOT_STAFF_OF_VENUE, FAMILY_VENUE_NOT_ALLOWED). The clerk checks the elder's identity
        document (`document_checked: true`) and names the request by `link_id` or by the
        guardian's phone. The elder's log shows the venue and clerk; both sides are told."""
        return consents.record_elder_consent(
            g.principal, venue_id, id_type=body["id_type"], id_number=body["id_number"], link_id=body["link_id"],
            guardian_phone=body["guardian_phone"], now=now())
