"""Enterprise (legal-person) accounts: claim, delegated roles, audit; and acting for one."""
from flask import g
from flask.views import MethodView

from api.enterprises import grants
from api.enterprises import services as enterprises
from api.enterprises.schemas import (
    ActAsRequest,
    ActAsToken,
    EnterpriseActingSchema,
    EnterpriseAuditPage,
    EnterpriseAuditQuery,
    EnterpriseClaimRequest,
    EnterpriseGrantRequest,
    EnterpriseGrantResult,
    EnterpriseInvitationList,
    EnterpriseList,
    EnterpriseMemberList,
    EnterpriseMemberSchema,
    EnterpriseSchema,
)
from api.extensions import Blueprint, enterprise_registry, now

blp = Blueprint("enterprises", __name__, url_prefix="/v1/enterprises",
                description="Enterprise (legal-person) accounts and delegated roles")
act_blp = Blueprint("enterprise_act_as", __name__, url_prefix="/v1/auth",
                    description="Acting for an enterprise")
blueprints = [blp, act_blp]


@blp.route("")
class MyEnterprises(MethodView):
    @blp.auth()
    @blp.response(200, EnterpriseList)
    def get(self):
        """The enterprises I am a member of, with my role in each

        The signed-in resident's memberships (administrator, manager, handler, viewer)."""
        return enterprises.list_my_enterprises(g.principal.user_id)


@blp.route("/claim")
class Claim(MethodView):
    @blp.auth()
    @blp.arguments(EnterpriseClaimRequest)
    @blp.response(200, EnterpriseSchema)
    @blp.errors("INVALID_CREDIT_CODE", "ENTERPRISE_NOT_FOUND", "REAL_NAME_REQUIRED", "NOT_LEGAL_REPRESENTATIVE",
                "RATE_LIMITED", "UPSTREAM_UNAVAILABLE", "ACCOUNT_DISABLED")
    def post(self, body):
        """Claim an enterprise as its registered legal representative (becoming its administrator)

        A signed-in, real-name verified resident. The credit code is checked (GB 32100) before any registry look-up; the caller must be
        real-name verified and be the registry's legal representative."""
        return enterprises.claim(g.principal.user_id, credit_code=body["credit_code"], now=now(),
                                 registry=enterprise_registry())


@blp.route("/acting")
class Acting(MethodView):
    @blp.auth()
    @blp.response(200, EnterpriseActingSchema)
    @blp.errors("NOT_ACTING_FOR_ENTERPRISE", "ENTERPRISE_MEMBERSHIP_REVOKED", "ENTERPRISE_ROLE_REQUIRED")
    def get(self):
        """The enterprise this (act-as) token acts for and the role it acts in, checked right now

        A caller holding an act-as token (`POST /v1/auth/act-as`); a personal token answers
        `NOT_ACTING_FOR_ENTERPRISE`, a role revoked since answers `ENTERPRISE_MEMBERSHIP_REVOKED`."""
        return enterprises.acting_context(g.principal, now=now())


@blp.route("/<int:enterprise_id>")
class EnterpriseItem(MethodView):
    @blp.auth()
    @blp.response(200, EnterpriseSchema)
    @blp.errors("ENTERPRISE_NOT_FOUND")
    def get(self, enterprise_id):
        """An enterprise I am a member of

        Members of the enterprise, any role; to anyone else it does not exist (404)."""
        return enterprises.get_enterprise(g.principal.user_id, enterprise_id)


@blp.route("/<int:enterprise_id>/members")
class Members(MethodView):
    @blp.auth()
    @blp.response(200, EnterpriseMemberList)
    @blp.errors("ENTERPRISE_NOT_FOUND", "ENTERPRISE_ROLE_REQUIRED")
    def get(self, enterprise_id):
        """Members and their roles (managers and administrators)

        The enterprise's managers and administrators; members with a lower role get
        `ENTERPRISE_ROLE_REQUIRED`, non-members 404. Phones and names masked."""
        return enterprises.list_members(g.principal.user_id, enterprise_id)

    @blp.auth()
    @blp.arguments(EnterpriseGrantRequest)
    @blp.response(201, EnterpriseGrantResult)
    @blp.alt_response(202, schema=EnterpriseGrantResult, description="Invited: the same answer whoever holds the number")
    @blp.errors("ENTERPRISE_NOT_FOUND", "ENTERPRISE_ROLE_REQUIRED", "ROLE_ESCALATION", "INVALID_PHONE",
                "LEGAL_REP_PROTECTED", "SELF_ROLE_CHANGE")
    def post(self, body, enterprise_id):
        """Grant a role by phone: a member's changes at once, any other number is invited

        The enterprise's managers and administrators. Administrators grant any role; managers
        grant handler and viewer only (ROLE_ESCALATION). A number that is not a member gets an
        invitation (202 `invited`), answered identically whether a real-name verified resident,
        an unverified account or nobody holds it; its holder accepts in their app (GET
        /v1/enterprises/invitations)."""
        result = grants.grant_role(g.principal.user_id, enterprise_id, phone=body["phone"], role=body["role"],
                                   now=now())
        return result, 202 if result["status"] == "invited" else 201


@blp.route("/invitations")
class MyInvitations(MethodView):
    @blp.auth()
    @blp.response(200, EnterpriseInvitationList)
    def get(self):
        """Roles enterprises offer me (by my phone number), waiting for my answer

        Any signed-in resident: the invitations to my phone number that have not expired (7
        days), with the enterprise and the inviter (masked). The enterprise learns nothing about
        my number until I accept."""
        return grants.my_invitations(g.principal.user_id, now=now())


@blp.route("/invitations/<int:invitation_id>/accept")
class AcceptInvitation(MethodView):
    @blp.auth()
    @blp.response(201, EnterpriseMemberSchema)
    @blp.errors("INVITATION_NOT_FOUND", "REAL_NAME_REQUIRED")
    def post(self, invitation_id):
        """Accept an invitation: I become a member with the offered role

        The invited resident only (another account: INVITATION_NOT_FOUND), real-name verified
        (REAL_NAME_REQUIRED). The enterprise's audit records the grant."""
        return grants.accept_invitation(g.principal.user_id, invitation_id, now=now())


@blp.route("/invitations/<int:invitation_id>")
class Invitation(MethodView):
    @blp.auth()
    @blp.response(204)
    @blp.errors("INVITATION_NOT_FOUND")
    def delete(self, invitation_id):
        """Decline an invitation; the enterprise is not told

        The invited resident only. The invitation goes away unaudited: to the enterprise a
        decline looks the same as no answer."""
        grants.decline_invitation(g.principal.user_id, invitation_id, now=now())


@blp.route("/<int:enterprise_id>/members/<int:user_id>")
class Member(MethodView):
    @blp.auth()
    @blp.response(204)
    @blp.errors("ENTERPRISE_NOT_FOUND", "ENTERPRISE_ROLE_REQUIRED", "MEMBER_NOT_FOUND", "ROLE_ESCALATION",
                "LEGAL_REP_PROTECTED")
    def delete(self, enterprise_id, user_id):
        """Revoke a member's role; takes effect at once, also for tokens already acting

        The enterprise's managers (below their own role) and administrators; the legal
        representative's role follows the registry and cannot be revoked here."""
        enterprises.revoke_member(g.principal.user_id, enterprise_id, user_id, now=now())


@blp.route("/<int:enterprise_id>/audit")
class Audit(MethodView):
    @blp.auth()
    @blp.arguments(EnterpriseAuditQuery, location="query")
    @blp.response(200, EnterpriseAuditPage)
    @blp.errors("ENTERPRISE_NOT_FOUND", "ENTERPRISE_ROLE_REQUIRED")
    def get(self, query, enterprise_id):
        """Grants, revocations, act-as and registry changes, newest first (administrators)

        The enterprise's administrators only; keyset pages via `cursor`."""
        before = int(query["cursor"]) if query["cursor"] else None
        return enterprises.list_audit(g.principal.user_id, enterprise_id, before_id=before,
                                      limit=query["limit"])


@act_blp.route("/act-as")
class ActAs(MethodView):
    @act_blp.auth()
    @act_blp.arguments(ActAsRequest)
    @act_blp.response(200, ActAsToken)
    @act_blp.errors("ENTERPRISE_NOT_FOUND", "ENTERPRISE_ROLE_REQUIRED", "ACCOUNT_DISABLED")
    def post(self, body):
        """An access token (same session) acting for an enterprise within my role in it

        A signed-in member of the enterprise. The answer is an access token whose `act` claim
        names the enterprise and role: enterprise licences, codes in the `enterprise` scene and
        member management then act for it. Each use re-checks the membership, so a revoked role
        stops the token at once."""
        return enterprises.act_as(g.principal, body["enterprise_id"], now=now())
