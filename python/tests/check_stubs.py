"""Checks a stub file (python/bareosfd.pyi, bareosdir.pyi, bareossd.pyi)
against the real module it is named after: every public name of the module
(functions, constants, dicts, classes and their attributes) is in the stubs,
and the stubs declare nothing the module lacks.

Run with the module importable, e.g. `sidecar-runner python check_stubs.py
bareosfd.pyi`; exits non-zero listing the differences.
"""

import ast
import importlib
import os
import sys

CLASSES = ["StatPacket", "SavePacket", "RestorePacket", "IoPacket", "AclPacket", "XattrPacket", "RestoreObject"]


def declared(body):
    names = set()
    for node in body:
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
        elif isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
    return names


def public(names):
    return {n for n in names if not n.startswith("_")}


def main(path):
    module_name = os.path.basename(path).split(".")[0]
    module = importlib.import_module(module_name)
    tree = ast.parse(open(path).read())
    problems = []
    stub = public(declared(tree.body))
    real = public(dir(module))
    for name in sorted(real - stub):
        problems.append("missing from the stubs: %s" % name)
    for name in sorted(stub - real):
        problems.append("in the stubs but not in %s: %s" % (module_name, name))
    classes = {n.name: n for n in tree.body if isinstance(n, ast.ClassDef)}
    for cls in CLASSES:
        if cls not in classes:
            continue
        stub_attrs = public(declared(classes[cls].body))
        real_attrs = public(dir(getattr(module, cls)))
        for name in sorted(real_attrs - stub_attrs):
            problems.append("%s.%s missing from the stubs" % (cls, name))
        for name in sorted(stub_attrs - real_attrs):
            problems.append("%s.%s in the stubs but not in %s" % (cls, name, module_name))
    for p in problems:
        print(p)
    print("%d names checked, %d problems" % (len(stub), len(problems)))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
