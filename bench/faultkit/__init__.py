"""Parts of the fault campaign (``bench/faults.py``): the station process, the disk, the checks."""
