"""Shipped ONNX grading models and the code that builds them."""
