"""Inspection station service: pipeline, grading, certificates and web pages."""

__version__ = "0.1.0"
