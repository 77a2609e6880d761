"""The app's OtpService instance (built in create_app from configuration)."""
from flask import current_app


def otp_service():
    return current_app.extensions["ssb.otp"]


def population_registry():
    return current_app.extensions["ssb.population_registry"]
