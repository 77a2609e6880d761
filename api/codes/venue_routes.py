"""Venues (operators create them and grant staff), place codes (场所码), check-ins, and
disabling accounts (which revokes their codes)."""
from flask import g
from flask.views import MethodView

from api import hooks
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


@blp.record_once
def _answer_venue_served_by(state):
    """Licences' presentation check asks whether a staff member serves a venue (it sits below us)."""
    hooks.answer(state.app, hooks.VENUE_SERVED_BY, venues.venue_served_by)



@blp.route("/v1/admin/venues")
class AdminVenues(MethodView):
    @blp.auth(roles=("operator",))
    @blp.arguments(VenueCreate)
    @blp.response(201, VenueSchema)
    @blp.errors("SCENES_NOT_OFFERED")
    def post(self, body):
        """Create a venue (operators)

        Operators only. A place whose staff verify 随申码 and whose place code residents scan;
        `scenes` defaults by `kind` (a transit venue: general, transport, veteran). Answers its
        public id (`vn_...`), used in every other venue call."""
        return venues.create_venue(operator=g.principal, now=now(), **body)

    @blp.auth(roles=("operator",))
    @blp.arguments(VenueListQuery, location="query")
    @blp.response(200, VenuePage)
    def get(self, query):
        """List venues, newest first (operators)

        Operators only; keyset pages via `cursor` (the previous page's `next_cursor`)."""
        before = int(query["cursor"]) if query["cursor"] else None
        return venues.list_venues(before_id=before, limit=query["limit"])


@blp.route("/v1/admin/venues/<string:venue_id>")
class AdminVenue(MethodView):
    @blp.auth(roles=("operator",))
    @blp.response(200, VenueSchema)
    @blp.errors("VENUE_NOT_FOUND")
    def get(self, venue_id):
        """One venue (operators)

        Operators only: the venue's name, address, district, kind, accepted scenes and status."""
        return venues.get_venue(venue_id)


@blp.route("/v1/admin/venues/<string:venue_id>/staff")
class AdminVenueStaff(MethodView):
    @blp.auth(roles=("operator",))
    @blp.arguments(VenueStaffGrant)
    @blp.response(200, VenueStaffSchema)
    @blp.errors("VENUE_NOT_FOUND", "SCENES_NOT_OFFERED", "INVALID_PHONE", "ACCOUNT_DISABLED")
    def post(self, body, venue_id):
        """Grant a person staff rights at a venue for some scenes (creates the account if new)

        Operators only. The phone's account gets the `staff` role and may verify codes of these
        scenes (a subset of the venue's) at this venue at once; granting again replaces the
        scenes. The role reaches an existing session's access token at its next refresh."""
        return venues.grant_staff(operator=g.principal, venue_id=venue_id, phone=normalise_phone(body["phone"]),
                                  scenes=body["scenes"], now=now())

    @blp.auth(roles=("operator",))
    @blp.response(200, VenueStaffSchema(many=True))
    @blp.errors("VENUE_NOT_FOUND")
    def get(self, venue_id):
        """The venue's current staff (operators)

        Operators only: each active grant with the person's phone and name masked."""
        return venues.list_staff(venue_id=venue_id)


@blp.route("/v1/admin/venues/<string:venue_id>/staff/<int:user_id>")
class AdminVenueStaffMember(MethodView):
    @blp.auth(roles=("operator",))
    @blp.response(204)
    @blp.errors("VENUE_NOT_FOUND", "STAFF_NOT_FOUND")
    def delete(self, venue_id, user_id):
        """Revoke a staff member's rights at the venue; effective at once

        Operators only. The next verification by that person at this venue is refused
        (`NOT_STAFF_OF_VENUE`); their other venues are unaffected."""
        venues.revoke_staff(venue_id=venue_id, user_id=user_id, now=now())


@blp.route("/v1/admin/users/<int:user_id>/disable")
class AdminDisableUser(MethodView):
    @blp.auth(roles=("operator",))
    @blp.arguments(DisableRequest)
    @blp.response(200, UserStatusSchema)
    @blp.errors("USER_NOT_FOUND", "CANNOT_DISABLE_SELF")
    def post(self, body, user_id):
        """Disable an account: signs it out, refuses its codes, publishes its holder as revoked

        Operators only, never their own account. Idempotent. Every session ends at once, our
        verifier refuses the account's codes (`CODE_REVOKED`) and the revocation feed tells
        offline scanners."""
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
    @blp.errors("VENUE_NOT_FOUND", "NOT_VENUE_MANAGER")
    def get(self, venue_id):
        """The venue's signed place code (场所码), for its staff and operators

        The venue's staff or an operator. A JWS (`typ` `ssb-place+jwt`, valid a year) to print
        as a QR at the door; residents scan it with `POST /v1/checkins`."""
        return venues.place_code(principal=g.principal, venue_id=venue_id, now=now())


@blp.route("/v1/checkins")
class Checkins(MethodView):
    @blp.auth()
    @blp.arguments(CheckinRequest)
    @blp.response(201, CheckinSchema)
    @blp.errors("MALFORMED_CODE", "CODE_WRONG_TYPE", "CODE_BAD_SIGNATURE", "CODE_UNKNOWN_KEY", "CODE_WRONG_ISSUER",
                "CODE_EXPIRED", "CODE_NOT_YET_VALID", "VENUE_NOT_FOUND", "ACCOUNT_DISABLED")
    def post(self, body):
        """Check in at a venue by scanning its place code; recorded in my access log

        The signed-in resident: the place code's signature and expiry are checked, the visit is
        kept and shown in their access log (kind `checkin`)."""
        return venues.check_in(principal=g.principal, payload=body["payload"], now=now())
