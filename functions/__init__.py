"""Thin adapters between Azure Functions triggers and ``core.service``: parse, authorise, call, map errors."""
