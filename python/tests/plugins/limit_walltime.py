"""Test plugin: sleeps far longer than any test waits (limits.rs: walltime)."""

import time

import limit_common


def hog(options):
    time.sleep(float(options.get("seconds", "600")))


globals().update(limit_common.plugin(hog))
