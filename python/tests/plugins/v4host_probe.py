"""Test plugin for dirhost / sdhost (tests/v4host): exercises the whole
`bareosdir` / `bareossd` surface and reports it as info job messages
starting with `v4probe`:

* `daemon=sd` uses `bareossd` (default `bareosdir`);
* `tag=X` is part of every message (tells instances apart);
* while loading: GetInstanceCount, DebugMessage at level 10, RegisterEvents
  of every event the module can register (director 1..10, storage
  daemon 1..24);
* at every event: `v4probe[X] event N`, then every variable of
  `bDirVariable` / `bsdVariable` as `v4probe[X] value NAME=<repr>`;
* `set=N`: at event N, SetValue of VolumeName "PyVol", Priority 5,
  JobLevel 'I', JobReport "r" and an unknown variable 99 (results
  reported);
* `crash=N`: at event N, read address 0 (a segfault in the plugin);
* `fatal=N`: at event N, an M_FATAL job message.
"""

import ctypes
import importlib

state = {"m": None, "opts": {}, "tag": ""}


def _options(plugindef):
    return dict(item.split("=", 1) for item in plugindef.split(":") if "=" in item)


def _say(text):
    m = state["m"]
    m.JobMessage(m.M_INFO, "v4probe[%s] %s" % (state["tag"], text))


def load_bareos_plugin(plugindef):
    opts = _options(plugindef)
    state["opts"] = opts
    state["tag"] = opts.get("tag", "")
    sd = opts.get("daemon") == "sd"
    m = importlib.import_module("bareossd" if sd else "bareosdir")
    state["m"] = m
    _say("load %s count=%r" % (m.__name__, m.GetInstanceCount()))
    m.DebugMessage(10, "v4probe[%s] debug message" % state["tag"])
    events = range(1, 25) if sd else range(1, 11)
    _say("registered %r" % m.RegisterEvents(list(events)))
    return m.bRC_OK


def parse_plugin_definition(plugindef):
    _say("parse %s" % plugindef)
    return state["m"].bRC_OK


def handle_plugin_event(event):
    m = state["m"]
    opts = state["opts"]
    _say("event %d" % event)
    variables = m.bsdVariable if m.__name__ == "bareossd" else m.bDirVariable
    for name, number in sorted(variables.items(), key=lambda kv: kv[1]):
        _say("value %s=%r" % (name, m.GetValue(number)))
    if opts.get("set") == str(event):
        if m.__name__ == "bareossd":
            w = (m.bsdwVarVolumeName, m.bsdwVarPriority, m.bsdwVarJobLevel, m.bsdwVarJobReport)
        else:
            w = (m.bwDirVarVolumeName, m.bwDirVarPriority, m.bwDirVarJobLevel, m.bwDirVarJobReport)
        results = (
            m.SetValue(w[0], "PyVol"),
            m.SetValue(w[1], 5),
            m.SetValue(w[2], ord("I")),
            m.SetValue(w[3], "r"),
            m.SetValue(99, 1),
        )
        _say("set %r" % (results,))
    if opts.get("fatal") == str(event):
        m.JobMessage(m.M_FATAL, "v4probe[%s] fatal at event %d" % (state["tag"], event))
    if opts.get("crash") == str(event):
        ctypes.string_at(0)
    return m.bRC_OK
