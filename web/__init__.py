"""Browser pages served by the API process: the venue staff scanner (/scan) and the resident's
随申码 (/code). Plain HTML/CSS/JS; third-party JS is vendored by scripts/vendor_js.sh."""


def init_app(app, api) -> None:
    from api import register_blueprints
    register_blueprints(app, api, ("web.routes",))
