"""Running a pipeline: the run state machine, per-node run settings and the typed step results."""
