"""gfplint: static analysis of Linux kernel memory-allocation call sites."""

__version__ = "0.1.0"
