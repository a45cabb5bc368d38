"""Test plugin for the director and the storage daemon with nothing but
`load_bareos_plugin`: the other entry points are missing."""


def load_bareos_plugin(plugindef):
    return 0
