"""Front-end tasks that misbehave on chosen TUs, for crash-isolation tests.

A plain module (not a test file): worker processes started with "spawn" import
it by name, so it must live on sys.path as pytest sets it up for tests/.
"""
import os
import signal
import time

from gfplint.parallel import parse_unit_task


def crash_on_marked(unit, root, catalog, kernel):
    """Die like a libclang segfault (SIGSEGV) on files named crash*.c, hang on hang*.c, raise on raise*.c."""
    name = os.path.basename(unit.file)
    if name.startswith("crash"):
        os.kill(os.getpid(), signal.SIGSEGV)
    if name.startswith("killed"):
        os.kill(os.getpid(), signal.SIGKILL)
    if name.startswith("hang"):
        time.sleep(3600)
    if name.startswith("raise"):
        raise RuntimeError("front end bug")
    return parse_unit_task(unit, root, catalog, kernel)
