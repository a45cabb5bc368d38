"""Test plugin: fails in start_backup_file with a Python exception."""

from bareosfd import bRC_OK


def load_bareos_plugin(plugindef):
    return bRC_OK


def parse_plugin_definition(plugindef):
    return bRC_OK


def handle_plugin_event(event):
    return bRC_OK


def explode():
    raise RuntimeError("boom from the test plugin")


def start_backup_file(savepkt):
    explode()
    return bRC_OK


def end_backup_file():
    return bRC_OK
