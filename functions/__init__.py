"""Thin adapters between Azure Functions triggers and ``core.service.facade``: parse, authorise, call,
map errors."""
