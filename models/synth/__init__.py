"""Procedural scene renderer: training data for the grading models and the simulated station camera."""
