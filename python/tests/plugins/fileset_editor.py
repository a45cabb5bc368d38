"""Test plugin that edits the job's FileSet at bEventPluginCommand time
(options: exclude=PATH, wild=PATTERN (excluded files), regex=RE (excluded
files), include=PATH), reports AcceptFile answers for probe=PATH options,
and saves nothing itself."""

import bareosfd
from bareosfd import M_INFO, bRC_OK, bRC_Stop

done = {"edits": False}


def parse(plugindef):
    pairs = []
    for part in plugindef.split(":"):
        if "=" in part:
            pairs.append(tuple(part.split("=", 1)))
    return pairs


def load_bareos_plugin(plugindef):
    return bRC_OK


def parse_plugin_definition(plugindef):
    if done["edits"]:
        return bRC_OK
    done["edits"] = True
    results = []
    for key, value in parse(plugindef):
        if key == "exclude":
            results.append(("AddExclude", bareosfd.AddExclude(value)))
        elif key == "include":
            results.append(("AddInclude", bareosfd.AddInclude(value)))
        elif key == "wild":
            results.append(("NewOptions", bareosfd.NewOptions()))
            results.append(("AddWild", bareosfd.AddWild(value, ord("F"))))
            results.append(("AddOptions", bareosfd.AddOptions("e")))
        elif key == "regex":
            results.append(("NewOptions", bareosfd.NewOptions()))
            results.append(("AddRegex", bareosfd.AddRegex(value, ord("F"))))
            results.append(("AddOptions", bareosfd.AddOptions("e")))
    bareosfd.JobMessage(M_INFO, "fileset_editor: edits %s\n" % results)
    for key, value in parse(plugindef):
        if key == "probe":
            sp = bareosfd.SavePacket()
            sp.fname = value
            sp.statp = bareosfd.StatPacket()
            bareosfd.JobMessage(M_INFO, "fileset_editor: AcceptFile %s = %d\n" % (value, bareosfd.AcceptFile(sp)))
    return bRC_OK


def start_backup_file(savepkt):
    return bRC_Stop


def end_backup_file():
    return bRC_OK
