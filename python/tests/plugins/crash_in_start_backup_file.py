"""Test plugin: the Python process dies of SIGSEGV in start_backup_file."""

import ctypes

from bareosfd import bRC_OK


def load_bareos_plugin(plugindef):
    return bRC_OK


def parse_plugin_definition(plugindef):
    return bRC_OK


def handle_plugin_event(event):
    return bRC_OK


def start_backup_file(savepkt):
    ctypes.string_at(0)  # reads address 0: segmentation fault
    return bRC_OK


def end_backup_file():
    return bRC_OK
