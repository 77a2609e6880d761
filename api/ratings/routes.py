"""好差评 routes: residents rate services, anyone reads ratings, the rated reply and rectify."""
from flask import g
from flask.views import MethodView

from api.extensions import Blueprint, now
from api.ratings import cases, services
from api.ratings.catalogue import catalogue
from api.ratings.schemas import (
    CaseListQuery,
    CasePage,
    CaseSchema,
    CaseSummarySchema,
    FeedbackRequest,
    OwnRatingPage,
    OwnRatingSchema,
    PublicListQuery,
    PublicRatingPage,
    PublicRatingSchema,
    RatingCreate,
    ReplyRequest,
    ResolveRequest,
    SummarySchema,
    TagCatalogueSchema,
    TagQuery,
)
from api.ratings.subjects import Subject
from api.schemas import CursorPageQuery

blp = Blueprint("ratings", __name__, description="好差评: service ratings, replies and rectification")


def _cursor(query: dict) -> int | None:
    return int(query["cursor"]) if query["cursor"] else None


def _case_filters(query: dict) -> dict:
    return {"status": query["status"], "overdue": query["overdue"], "cursor": _cursor(query),
            "limit": query["limit"], "now": now()}


@blp.route("/v1/ratings")
class Ratings(MethodView):
    @blp.auth()
    @blp.arguments(RatingCreate)
    @blp.response(201, OwnRatingSchema)
    @blp.errors("RATING_TARGET_NOT_FOUND", "ALREADY_RATED", "RATING_WINDOW_CLOSED", "NOT_RATEABLE",
                "UNKNOWN_RATING_TAG", "OWN_SERVICE_NOT_RATEABLE", "RATE_LIMITED")
    def post(self, body):
        """Rate a service I received, once

        `access_id` is an entry of my access log (a scan of my code, a check-in, a licence
        shown at a venue, a mini-program's read). 404 when it is not mine, 410 after 15 days,
        409 the second time, 422 for a kind of service that cannot be rated or unfit tags. The
        comment is published with personal data masked; 1 or 2 stars open a rectification case.
        Residents; limited per resident per hour."""
        return services.rate_service(g.principal, now=now(), **body)


@blp.route("/v1/ratings/tags")
class RatingTags(MethodView):
    @blp.arguments(TagQuery, location="query")
    @blp.response(200, TagCatalogueSchema)
    def get(self, query):
        """The tags a rating may carry, per kind of service (zh-CN and en)

        Public, no sign-in."""
        return {"items": catalogue(query["kind"])}


@blp.route("/v1/me/ratings")
class MyRatings(MethodView):
    @blp.auth()
    @blp.arguments(CursorPageQuery, location="query")
    @blp.response(200, OwnRatingPage)
    def get(self, query):
        """My ratings, newest first, with their rectification cases

        The signed-in resident only."""
        return services.my_ratings(g.principal, cursor=_cursor(query), limit=query["limit"], now=now())


@blp.route("/v1/me/ratings/<string:rating_id>")
class MyRating(MethodView):
    @blp.auth()
    @blp.response(200, OwnRatingSchema)
    @blp.errors("RATING_NOT_FOUND")
    def get(self, rating_id):
        """One of my ratings, with its case (where an inbox message about the outcome links to)

        The signed-in resident only; another resident's rating is 404."""
        return services.my_rating(g.principal, rating_id, now=now())


@blp.route("/v1/ratings/<string:rating_id>/reply")
class RatingReply(MethodView):
    @blp.auth()
    @blp.arguments(ReplyRequest)
    @blp.response(200, PublicRatingSchema)
    @blp.errors("RATING_NOT_FOUND", "NOT_RATING_RESPONDER", "ALREADY_REPLIED")
    def post(self, body, rating_id):
        """Reply publicly to a rating, once

        Staff with an active grant at the rated venue; operators for a mini-program. The reply
        is masked like comments. 403 for anyone else, 409 the second time."""
        return services.reply(g.principal, rating_id, text=body["text"], now=now())


@blp.route("/v1/ratings/<string:rating_id>/feedback")
class RatingFeedback(MethodView):
    @blp.auth()
    @blp.arguments(FeedbackRequest)
    @blp.response(200, CaseSummarySchema)
    @blp.errors("RATING_NOT_FOUND", "CASE_NOT_RESOLVED", "FEEDBACK_ALREADY_GIVEN")
    def post(self, body, rating_id):
        """Say whether the rectification outcome satisfies me, once

        The rater only (404 for anyone else); 409 before the case is resolved or the second time."""
        return cases.answer(g.principal, rating_id, satisfied=body["satisfied"], now=now())


@blp.route("/v1/venues/<string:venue_id>/ratings")
class VenueRatings(MethodView):
    @blp.arguments(PublicListQuery, location="query")
    @blp.response(200, PublicRatingPage)
    @blp.errors("VENUE_NOT_FOUND")
    def get(self, query, venue_id):
        """A venue's ratings, newest first

        Public, no sign-in: stars, tags, the comment with personal data masked, the reply;
        never the rater."""
        return services.list_ratings(Subject("venue", venue_id), cursor=query["cursor"], limit=query["limit"])


@blp.route("/v1/venues/<string:venue_id>/ratings/summary")
class VenueRatingSummary(MethodView):
    @blp.response(200, SummarySchema)
    @blp.errors("VENUE_NOT_FOUND")
    def get(self, venue_id):
        """A venue's rating summary

        Public, no sign-in: count, average, ratings per number of stars, share replied to."""
        return services.rating_summary(Subject("venue", venue_id))


@blp.route("/v1/miniprograms/<string:appid>/ratings")
class MiniProgramRatings(MethodView):
    @blp.arguments(PublicListQuery, location="query")
    @blp.response(200, PublicRatingPage)
    @blp.errors("MP_NOT_FOUND")
    def get(self, query, appid):
        """A mini-program's ratings, newest first

        Public, no sign-in; as for venues."""
        return services.list_ratings(Subject("miniprogram", appid), cursor=query["cursor"], limit=query["limit"])


@blp.route("/v1/miniprograms/<string:appid>/ratings/summary")
class MiniProgramRatingSummary(MethodView):
    @blp.response(200, SummarySchema)
    @blp.errors("MP_NOT_FOUND")
    def get(self, appid):
        """A mini-program's rating summary

        Public, no sign-in; as for venues."""
        return services.rating_summary(Subject("miniprogram", appid))


@blp.route("/v1/admin/rating-cases")
class AdminRatingCases(MethodView):
    @blp.auth(roles=("operator",))
    @blp.arguments(CaseListQuery, location="query")
    @blp.response(200, CasePage)
    def get(self, query):
        """Rectification cases of every venue and mini-program, newest first

        Operators; filter by `status` (open, resolved) and `overdue`."""
        return cases.list_cases(subject=None, **_case_filters(query))


@blp.route("/v1/venues/<string:venue_id>/rating-cases")
class VenueRatingCases(MethodView):
    @blp.auth()
    @blp.arguments(CaseListQuery, location="query")
    @blp.response(200, CasePage)
    @blp.errors("VENUE_NOT_FOUND", "NOT_RATING_RESPONDER")
    def get(self, query, venue_id):
        """The venue's rectification cases, newest first

        Staff with an active grant at the venue."""
        return cases.list_venue_cases(g.principal, venue_id, **_case_filters(query))


@blp.route("/v1/rating-cases/<int:case_id>/resolve")
class ResolveRatingCase(MethodView):
    @blp.auth()
    @blp.arguments(ResolveRequest)
    @blp.response(200, CaseSchema)
    @blp.errors("RATING_CASE_NOT_FOUND", "NOT_RATING_RESPONDER", "CASE_ALREADY_RESOLVED")
    def post(self, body, case_id):
        """Resolve a rectification case with a note; the rater is told in the inbox

        Staff with an active grant at the rated venue; operators for a mini-program. 409 once
        resolved."""
        return cases.resolve_case(g.principal, case_id, note=body["note"], now=now())
