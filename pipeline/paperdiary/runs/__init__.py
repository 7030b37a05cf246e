"""Runs of the stages: one paper (``draft``), many pipelined and resumable (``catchup``), and their inputs."""
