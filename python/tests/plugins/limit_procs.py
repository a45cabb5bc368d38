"""Test plugin: a bounded fork bomb. Forks children that wait on a pipe
until fork fails (or 500 children), then releases and reaps them and lets
the error end the job (limits.rs: procs)."""

import os

import limit_common


def hog(options):
    r, w = os.pipe()
    children = []
    try:
        for _ in range(500):
            pid = os.fork()
            if pid == 0:
                os.close(w)
                os.read(r, 1)  # EOF when the parent closes its end
                os._exit(0)
            children.append(pid)
    finally:
        os.close(w)
        os.close(r)
        for pid in children:
            os.waitpid(pid, 0)
    raise RuntimeError("forked %d children without hitting a limit" % len(children))


globals().update(limit_common.plugin(hog))
