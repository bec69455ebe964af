"""Serving trained pipelines: the compiled row path of real-time endpoints, and models leaving
the service as MLflow model directories and ONNX files."""
