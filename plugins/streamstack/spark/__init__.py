"""Spark Structured Streaming jobs: connector jars, submissions, checkpoints, lifecycle control."""
