"""The adapters create_app built from configuration (SMS via the OTP service, population registry)."""
from flask import current_app


def otp_service():
    return current_app.extensions["ssb.otp"]


def population_registry():
    return current_app.extensions["ssb.population_registry"]
