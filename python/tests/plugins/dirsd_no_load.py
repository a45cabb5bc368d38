"""Test plugin for the director and the storage daemon without
`load_bareos_plugin`: it never counts as loaded."""


def parse_plugin_definition(plugindef):
    return 0


def handle_plugin_event(event):
    return 0
