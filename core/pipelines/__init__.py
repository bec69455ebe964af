"""Pipeline documents as files: YAML, Python scripts, and differences between versions."""
