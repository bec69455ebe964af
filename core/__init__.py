"""The product: pipeline documents, components, planning, execution and use cases.

Pure Python. Nothing here imports azure.functions or reads the environment at import time;
storage is reached only through the :class:`core.storage.store.Store` each use case is handed.
"""
