"""Test plugin for the director and the storage daemon (the runner's
dispatcher tests and the shim's end-to-end tests): every entry point call
is reported as an info job message `probe <entry point> <argument>`, and
the options make it misbehave on request:

* `module=bareossd` imports the storage daemon's module (default
  `bareosdir`);
* `register=1,2,...` registers these events while loading;
* `raise=load|parse|event` raises ValueError in that entry point;
* `rc_load=N`, `rc_parse=N`, `rc_event=N` return N instead of bRC_OK
  (`none` returns None);
* `values=1,2,...` reports GetValue of these variables at every event.
"""

import importlib

state = {"module": None, "opts": {}}


def _options(plugindef):
    return dict(item.split("=", 1) for item in plugindef.split(":") if "=" in item)


def _report(entry, arg):
    m = state["module"]
    m.JobMessage(m.M_INFO, "probe %s %r" % (entry, arg))


def _finish(entry):
    opts = state["opts"]
    if opts.get("raise") == entry:
        raise ValueError("probe: %s failed" % entry)
    rc = opts.get("rc_" + entry)
    if rc is None:
        return state["module"].bRC_OK
    if rc == "none":
        return None
    return int(rc)


def load_bareos_plugin(plugindef):
    state["opts"] = _options(plugindef)
    state["module"] = importlib.import_module(state["opts"].get("module", "bareosdir"))
    _report("load", plugindef)
    if "register" in state["opts"]:
        events = [int(e) for e in state["opts"]["register"].split(",")]
        _report("registered", state["module"].RegisterEvents(events))
    return _finish("load")


def parse_plugin_definition(plugindef):
    state["opts"].update(_options(plugindef))
    _report("parse", plugindef)
    return _finish("parse")


def handle_plugin_event(event):
    _report("event", event)
    for var in state["opts"].get("values", "").split(","):
        if var:
            _report("value %s" % var, state["module"].GetValue(int(var)))
    return _finish("event")
