"""The baseline: a bare Flask app with the same server settings, answering similar JSON."""
from flask import Flask, jsonify, request

app = Flask(__name__)


@app.get("/bare")
def bare_get():
    return jsonify({"id": 1, "phone": "138****8000", "roles": ["resident"], "ok": True})


@app.post("/bare")
def bare_post():
    body = request.get_json(silent=True) or {}
    return jsonify({"ok": True, "keys": sorted(body)[:5]})
