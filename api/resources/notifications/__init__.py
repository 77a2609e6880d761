"""Notifications and policies: inbox, devices, preferences, policy catalogue, campaigns."""
