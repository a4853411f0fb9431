"""Postgres-native talent <-> job matching engine."""

__version__ = "0.1.0"
