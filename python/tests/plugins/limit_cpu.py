"""Test plugin: spins on the CPU forever (limits.rs: cpu)."""

import limit_common


def hog(options):
    n = 0
    while True:
        n += 1


globals().update(limit_common.plugin(hog))
