"""Notifications: eligibility rules, campaign fan-out and push provider clients."""
