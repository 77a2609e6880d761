"""Browser pages served by the API process: the venue staff scanner (/scan) and the resident's
随申码 (/code). Plain HTML/CSS/JS; third-party JS is vendored by scripts/vendor_js.sh."""
