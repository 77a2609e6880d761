"""HTML pages for venue staff (/scan) and residents (/code), and their static assets.

The pages are clients of the public API (sign-in, codes, verify) and hold no server-side state.
They are HTML, not API operations, so they stay out of the OpenAPI document: `PageBlueprint`
adds its rules with Flask's own `add_url_rule` instead of flask-smorest's documenting one.

Every response from this blueprint (pages and assets) carries a strict content security policy:
scripts only from this origin, no inline scripts or event-handler attributes.
"""
from __future__ import annotations

import flask
from flask import render_template

from api.extensions import Blueprint

CONTENT_SECURITY_POLICY = "; ".join((
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data: blob:",
    "media-src 'self' blob: mediastream:",
    "connect-src 'self'",
    "font-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
))

SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "Permissions-Policy": "camera=(self), microphone=(), geolocation=()",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
}


class PageBlueprint(Blueprint):
    """A project Blueprint (so create_app can register it) whose routes are not documented."""

    def add_url_rule(self, rule, endpoint=None, view_func=None, provide_automatic_options=None, *,
                     parameters=None, tags=None, **options):
        flask.Blueprint.add_url_rule(self, rule, endpoint, view_func, provide_automatic_options, **options)


blp = PageBlueprint("web", __name__, description="Browser pages (/scan, /code); not API operations",
                    static_folder="static", static_url_path="/web/static", template_folder="templates")


@blp.after_request
def _security_headers(response: flask.Response) -> flask.Response:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if response.mimetype == "text/html":
        # Pages are tiny and change with deployments; tokens never appear in them.
        response.headers["Cache-Control"] = "no-cache"
    return response


@blp.route("/scan")
def scan():
    """Venue staff: sign in, pick the venue, scan codes with the camera or a keyboard-wedge scanner."""
    return render_template("web/scan.html")


@blp.route("/code")
def code():
    """Residents: sign in and show the rotating 随申码 for a scene."""
    return render_template("web/code.html")
