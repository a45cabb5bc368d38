"""Test plugin: writes the file named by option `target` (limits.rs:
sandbox); the sandbox's Landlock ruleset refuses it unless the path is one
of its write_paths."""

import limit_common


def hog(options):
    with open(options["target"], "w") as f:
        f.write("escaped the sandbox\n")


globals().update(limit_common.plugin(hog))
