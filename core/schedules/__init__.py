"""Schedules of published pipelines: records, recurrences and the tick that starts what is due."""
