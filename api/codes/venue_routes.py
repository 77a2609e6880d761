"""Venues (operators create them and grant staff), place codes (场所码), check-ins, and
disabling accounts (which revokes their codes)."""
from flask import g
from flask.views import MethodView

from api.codes import venues
from api.codes.venue_schemas import (
    CheckinRequest,
    CheckinSchema,
    DisableRequest,
    MyVenues,
    PlaceCodeSchema,
    UserStatusSchema,
    VenueCreate,
    VenueListQuery,
    VenuePage,
    VenueSchema,
    VenueStaffGrant,
    VenueStaffSchema,
)
from api.extensions import Blueprint, now
from api.identity.phones import normalise_phone

blp = Blueprint("venues", __name__, description="Venues, staff, place codes and check-ins")



@blp.route("/v1/admin/venues")
class AdminVenues(MethodView):
    @blp.auth(roles=("operator",))
    @blp.arguments(VenueCreate)
    @blp.response(201, VenueSchema)
    @blp.errors(422)
    def post(self, body):
        """Create a venue (operators)"""
        return venues.create_venue(operator=g.principal, now=now(), **body)

    @blp.auth(roles=("operator",))
    @blp.arguments(VenueListQuery, location="query")
    @blp.response(200, VenuePage)
    @blp.errors(422)
    def get(self, query):
        """List venues, newest first (operators)"""
        before = int(query["cursor"]) if query["cursor"] else None
        return venues.list_venues(before_id=before, limit=query["limit"])


@blp.route("/v1/admin/venues/<string:venue_id>")
class AdminVenue(MethodView):
    @blp.auth(roles=("operator",))
    @blp.response(200, VenueSchema)
    @blp.errors(404)
    def get(self, venue_id):
        """One venue (operators)"""
        return venues.get_venue(venue_id)


@blp.route("/v1/admin/venues/<string:venue_id>/staff")
class AdminVenueStaff(MethodView):
    @blp.auth(roles=("operator",))
    @blp.arguments(VenueStaffGrant)
    @blp.response(200, VenueStaffSchema)
    @blp.errors(404, 422)
    def post(self, body, venue_id):
        """Grant a person staff rights at a venue for some scenes (creates the account if new)"""
        return venues.grant_staff(operator=g.principal, venue_id=venue_id, phone=normalise_phone(body["phone"]),
                                  scenes=body["scenes"], now=now())

    @blp.auth(roles=("operator",))
    @blp.response(200, VenueStaffSchema(many=True))
    @blp.errors(404)
    def get(self, venue_id):
        """The venue's current staff (operators)"""
        return venues.list_staff(venue_id=venue_id)


@blp.route("/v1/admin/venues/<string:venue_id>/staff/<int:user_id>")
class AdminVenueStaffMember(MethodView):
    @blp.auth(roles=("operator",))
    @blp.response(204)
    @blp.errors(404)
    def delete(self, venue_id, user_id):
        """Revoke a staff member's rights at the venue; effective at once"""
        venues.revoke_staff(venue_id=venue_id, user_id=user_id, now=now())


@blp.route("/v1/admin/users/<int:user_id>/disable")
class AdminDisableUser(MethodView):
    @blp.auth(roles=("operator",))
    @blp.arguments(DisableRequest)
    @blp.response(200, UserStatusSchema)
    @blp.errors(404, 409, 422)
    def post(self, body, user_id):
        """Disable an account: signs it out, refuses its codes, publishes its holder as revoked"""
        return venues.disable_user(operator=g.principal, user_id=user_id, reason=body["reason"], now=now())


@blp.route("/v1/me/venues")
class MyVenueList(MethodView):
    @blp.auth()
    @blp.response(200, MyVenues)
    def get(self):
        """The venues where I am staff, with the scenes I may verify there

        Any signed-in account may ask; the list holds the active venues where an operator
        granted the caller staff rights (`POST /v1/admin/venues/{id}/staff`), empty otherwise.
        A grant counts here and in `POST /v1/verify` at once; `POST /v1/presentations/verify`
        needs the `staff` role in the access token, which a session started before the first
        grant gets at its next refresh. Scanners (`/scan`) offer this list to pick from."""
        return venues.my_venues(g.principal)


@blp.route("/v1/venues/<string:venue_id>/place-code")
class PlaceCode(MethodView):
    @blp.auth()
    @blp.response(200, PlaceCodeSchema)
    @blp.errors(404)
    def get(self, venue_id):
        """The venue's signed place code (场所码), for its staff and operators"""
        return venues.place_code(principal=g.principal, venue_id=venue_id, now=now())


@blp.route("/v1/checkins")
class Checkins(MethodView):
    @blp.auth()
    @blp.arguments(CheckinRequest)
    @blp.response(201, CheckinSchema)
    @blp.errors(404, 422)
    def post(self, body):
        """Check in at a venue by scanning its place code; recorded in my access log"""
        return venues.check_in(principal=g.principal, payload=body["payload"], now=now())
