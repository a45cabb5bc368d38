"""A minimal DAP (Debug Adapter Protocol) client, as an IDE would speak it
to debugpy: attach, set one breakpoint, wait until the plugin stops there,
read a variable, continue, detach. Prints one JSON line with what it saw;
exits non-zero on any protocol failure or timeout.

usage: dap_client.py HOST PORT FILE LINE EXPRESSION [TIMEOUT_S]"""

import json
import socket
import sys
import time


class Client:
    def __init__(self, host, port, timeout):
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.sock = socket.create_connection((host, port), timeout=2)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        self.sock.settimeout(timeout)
        self.buf = b""
        self.seq = 0
        self.pending = []

    def send(self, command, **arguments):
        self.seq += 1
        body = json.dumps(
            {"seq": self.seq, "type": "request", "command": command, "arguments": arguments}
        ).encode()
        self.sock.sendall(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        return self.seq

    def read(self):
        while b"\r\n\r\n" not in self.buf:
            self.recv()
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        length = int(
            [l.split(b":")[1] for l in head.split(b"\r\n") if l.lower().startswith(b"content-length")][0]
        )
        while len(self.buf) < length:
            self.recv()
        body, self.buf = self.buf[:length], self.buf[length:]
        return json.loads(body)

    def recv(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise EOFError("debugpy closed the connection")
        self.buf += chunk

    def wait(self, match):
        for i, m in enumerate(self.pending):
            if match(m):
                return self.pending.pop(i)
        while True:
            m = self.read()
            if match(m):
                return m
            self.pending.append(m)

    def request(self, command, **arguments):
        seq = self.send(command, **arguments)
        r = self.wait(lambda m: m.get("type") == "response" and m.get("request_seq") == seq)
        if not r.get("success"):
            raise RuntimeError("%s failed: %s" % (command, r.get("message")))
        return r.get("body", {})

    def event(self, name):
        return self.wait(lambda m: m.get("type") == "event" and m.get("event") == name)


def main():
    host, port, path, line, expression = sys.argv[1:6]
    timeout = float(sys.argv[6]) if len(sys.argv) > 6 else 60
    c = Client(host, int(port), timeout)
    c.request("initialize", clientID="sidecar-test", adapterID="python",
              linesStartAt1=True, columnsStartAt1=True, pathFormat="path")
    attach = c.send("attach", justMyCode=False)
    c.event("initialized")
    bps = c.request("setBreakpoints", source={"path": path}, breakpoints=[{"line": int(line)}])
    c.request("configurationDone")
    c.wait(lambda m: m.get("type") == "response" and m.get("request_seq") == attach)
    stopped = c.event("stopped")["body"]
    thread = stopped["threadId"]
    frame = c.request("stackTrace", threadId=thread, levels=1)["stackFrames"][0]
    value = c.request("evaluate", expression=expression, frameId=frame["id"], context="watch")
    c.request("continue", threadId=thread)
    c.request("disconnect", terminateDebuggee=False)
    print(json.dumps({
        "verified": [b.get("verified") for b in bps.get("breakpoints", [])],
        "reason": stopped.get("reason"),
        "file": frame["source"]["path"],
        "line": frame["line"],
        "function": frame["name"],
        "value": value["result"],
    }))


if __name__ == "__main__":
    main()
