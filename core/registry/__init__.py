"""Where assets, endpoint versions and deployments came from, and what uses them."""
