"""Tests of the local Functions host (devhost)."""
