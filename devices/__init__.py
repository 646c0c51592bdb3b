"""Drivers for the station hardware, each with a simulator behind the same interface."""
