"""Serving deployed pipelines: the compiled row path of real-time endpoints."""
