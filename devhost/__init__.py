"""devhost: run the Functions app locally without the Azure Functions host.

``python -m devhost`` serves the app's HTTP functions on loopback (uvicorn), drives
its orchestrations with the Durable SDK's own replay engine (activities on worker
processes), and fires its blob triggers from Azurite. Module map:

- ``app_index``  what the app registered (routes, auth levels, bindings)
- ``routes``     Functions route templates and matching order
- ``http``       the ASGI app: HTTP triggers, auth, durable HTTP API, readiness
- ``durable`` / ``history`` / ``activities``  the local durable runtime
- ``durable_api`` the durable client binding and the durable HTTP API
- ``blobs``      the blob trigger poller
- ``invoke``     calling user functions like the Python worker does
- ``settings``   local.settings.json and host.json
- ``server``     wiring it all together; ``__main__`` the command line
- ``azurite``    start/stop the storage emulator (tests and scripts)
"""
