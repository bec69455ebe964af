"""The door: the use cases the HTTP layer calls, one :class:`Service` and its sub-services."""
