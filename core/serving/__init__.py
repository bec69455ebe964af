"""Models leaving the service: MLflow model directories and ONNX files."""
