"""Clients for external systems, each behind a small interface chosen by configuration."""
