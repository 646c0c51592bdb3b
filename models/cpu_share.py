"""How many cores a batch tool (calibrate, evaluate) may use.

`make models` runs two of them side by side on a 2-core machine. With onnxruntime's and OpenCV's
default of a thread per core in each, four busy threads share two cores; onnxruntime's waiting
threads spin, so each tool ran slower than the two one after the other (the shipped and a candidate
model's full evaluations side by side: 417 s at 2 threads each, 346 s at 1; one alone at 2: 173 s)."""

from __future__ import annotations

import argparse

import cv2


def add_threads_argument(ap: argparse.ArgumentParser) -> None:
    ap.add_argument(
        "--threads",
        type=int,
        default=2,
        help="threads for the network and OpenCV (default %(default)s; 1 with another tool beside it)",
    )


def use_threads(ap: argparse.ArgumentParser, threads: int) -> int:
    """Check ``--threads`` and hold OpenCV to it; the number for the ONNX sessions."""
    if threads < 1:
        ap.error(f"--threads must be 1 or more, not {threads}")
    cv2.setNumThreads(threads)
    return threads
