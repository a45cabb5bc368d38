"""Module-level entry points forwarding to one plugin object, the way
Bareos's shipped plugins are wired. A plugin module does

    from bareos_style_wrapper import *      # the entry points python3-fd calls

    @BareosPlugin
    class MyPlugin(BareosStylePluginBase): ...

and `load_bareos_plugin` creates the object from the decorated class.
"""

from typing import Optional, TypeVar

from bareosfd import (
    AclPacket,
    IoPacket,
    RestoreObject,
    RestorePacket,
    SavePacket,
    XattrPacket,
    bRC_Error,
    bRC_OK,
)

from bareos_style_base import BareosStylePluginBase

P = TypeVar("P", bound=type[BareosStylePluginBase])

plugin_class: Optional[type[BareosStylePluginBase]] = None
plugin_object: BareosStylePluginBase = BareosStylePluginBase.unloaded()


def BareosPlugin(cls: P) -> P:
    """Class decorator: the class `load_bareos_plugin` instantiates."""
    global plugin_class
    plugin_class = cls
    return cls


def load_bareos_plugin(plugindef: str) -> int:
    global plugin_object
    if plugin_class is None:
        return bRC_Error
    plugin_object = plugin_class(plugindef)
    return bRC_OK


def parse_plugin_definition(plugindef: str) -> int:
    return plugin_object.parse_plugin_definition(plugindef)


def handle_plugin_event(event: int) -> int:
    return plugin_object.handle_plugin_event(event)


def start_backup_file(savepkt: SavePacket) -> int:
    return plugin_object.start_backup_file(savepkt)


def end_backup_file() -> int:
    return plugin_object.end_backup_file()


def start_restore_file(cmd: str) -> int:
    return plugin_object.start_restore_file(cmd)


def end_restore_file() -> int:
    return plugin_object.end_restore_file()


def restore_object_data(rop: RestoreObject) -> int:
    return plugin_object.restore_object_data(rop)


def plugin_io(IOP: IoPacket) -> int:
    return plugin_object.plugin_io(IOP)


def create_file(restorepkt: RestorePacket) -> int:
    return plugin_object.create_file(restorepkt)


def set_file_attributes(restorepkt: RestorePacket) -> int:
    return plugin_object.set_file_attributes(restorepkt)


def check_file(fname: str) -> int:
    return plugin_object.check_file(fname)


def get_acl(acl: AclPacket) -> int:
    return plugin_object.get_acl(acl)


def set_acl(acl: AclPacket) -> int:
    return plugin_object.set_acl(acl)


def get_xattr(xattr: XattrPacket) -> int:
    return plugin_object.get_xattr(xattr)


def set_xattr(xattr: XattrPacket) -> int:
    return plugin_object.set_xattr(xattr)


def handle_backup_file(savepkt: SavePacket) -> int:
    return plugin_object.handle_backup_file(savepkt)


__all__ = [
    "BareosPlugin",
    "load_bareos_plugin",
    "parse_plugin_definition",
    "handle_plugin_event",
    "start_backup_file",
    "end_backup_file",
    "start_restore_file",
    "end_restore_file",
    "restore_object_data",
    "plugin_io",
    "create_file",
    "set_file_attributes",
    "check_file",
    "get_acl",
    "set_acl",
    "get_xattr",
    "set_xattr",
    "handle_backup_file",
]
