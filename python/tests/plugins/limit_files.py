"""Test plugin: opens /dev/null until the open files limit stops it, closes
them and lets the error end the job (limits.rs: files)."""

import os

import limit_common


def hog(options):
    fds = []
    try:
        while True:
            fds.append(os.open("/dev/null", os.O_RDONLY))
    except OSError:
        for fd in fds:
            os.close(fd)
        raise


globals().update(limit_common.plugin(hog))
