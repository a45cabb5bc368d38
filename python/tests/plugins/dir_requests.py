"""Test director plugin that imports `requests` at module level (a package
with C-extension dependencies: charset_normalizer, urllib3's ssl): in
process, python3-dir stalled on the third job that loaded such a module
(bareos/bareos#2218). Registers bDirEventJobStart and bDirEventJobEnd and
logs an info job message at each:

    dir_requests: requests <version> at JobStart (jobid N)
    dir_requests: requests <version> at JobEnd (jobid N)

Dir Plugin Options = "python3:instance=0:module_path=<this dir>:module_name=dir_requests"
"""

import requests

import bareosdir


def _say(where):
    jobid = bareosdir.GetValue(bareosdir.bDirVarJobId)
    bareosdir.JobMessage(
        bareosdir.M_INFO,
        "dir_requests: requests %s at %s (jobid %s)" % (requests.__version__, where, jobid),
    )


def load_bareos_plugin(plugindef):
    bareosdir.RegisterEvents([bareosdir.bDirEventJobStart, bareosdir.bDirEventJobEnd])
    return bareosdir.bRC_OK


def parse_plugin_definition(plugindef):
    return bareosdir.bRC_OK


def handle_plugin_event(event):
    if event == bareosdir.bDirEventJobStart:
        _say("JobStart")
    elif event == bareosdir.bDirEventJobEnd:
        _say("JobEnd")
    return bareosdir.bRC_OK
