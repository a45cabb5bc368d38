"""Test plugin: a memory bomb. Allocates 32 MiB blocks until MemoryError,
frees them and lets the error end the job (limits.rs: memory)."""

import limit_common


def hog(options):
    blocks = []
    try:
        while True:
            blocks.append(bytearray(32 << 20))
    except MemoryError:
        n = len(blocks)
        blocks.clear()
        raise MemoryError("block %d of 32 MiB could not be allocated" % (n + 1))


globals().update(limit_common.plugin(hog))
