"""The product: pipeline documents, components, planning, execution and use cases.

Pure Python. Nothing here imports azure.functions or reads the environment at import time;
storage is reached only through the :class:`core.storage.store.Store` each use case is handed.

Read it top-down; each package imports only from those below it (import-linter checks this,
see ``pyproject.toml``):

- ``service``: the door the HTTP layer comes through, one ``Service`` and its sub-services;
- ``schedules`` and ``serving``: schedules of published pipelines; scoring outside a run
  (real-time deployments, file-drop scoring, ONNX, model export);
- ``execution``: running a plan (the run state machine, one node, mini-batches, reuse);
- ``pipelines``: the pipeline document, its validation, plan, drafts, inference conversion and
  file formats;
- ``registry``: the records of datasets, assets, runs and pipeline endpoints;
- ``storage``: the store over Blob and Table storage, the record mapping, artifacts;
- ``components``: the designer's component catalogue;
- ``tables``: the CSV reader and column profiles;
- ``names``, ``settings``, ``clock``, ``errors``: what every layer shares.
"""
