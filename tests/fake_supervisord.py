"""supervisord as the tests script it, for what a real one does not do on
demand: a Unix socket server that answers with canned bytes (broken,
hostile, slow) or accepts and never answers; XML-RPC answers and faults;
a scripted supervisord of given programs and states; answers by method;
one with no start program, and the config it stands for; a socket whose
listen queue is full; a resolver that never answers."""

import contextlib
import os
import socket
import threading
import time

import readiness_probe as rp


class MisbehavingServer(object):
    """Serve `answer` (bytes, or a function of the request that returns
    them) to every connection after reading the request (and `delay`
    seconds); answer=None means never answer. Use as a context manager."""

    def __init__(self, path, answer, delay=0.0):
        self.path = path
        self.answer = answer
        self.delay = delay  # seconds between reading a request and answering it
        self.requests = []
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(path)
        self.sock.listen(64)
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._serve)
        self.thread.daemon = True
        self.open_connections = []

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stopping.set()
        self.sock.shutdown(socket.SHUT_RDWR)
        self.sock.close()
        self.thread.join(10)
        for conn in self.open_connections:
            conn.close()
        if os.path.exists(self.path):
            os.unlink(self.path)

    def _serve(self):
        while not self.stopping.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.requests.append(read_request(conn))
            answer = self.answer(self.requests[-1]) if callable(self.answer) else self.answer
            if answer is None:
                self.open_connections.append(conn)  # hold it open, say nothing
                continue
            if self.delay:
                time.sleep(self.delay)  # a slow supervisord, as the probe sees it
            try:
                conn.sendall(answer)
            except OSError:
                pass
            conn.close()


def read_request(conn):
    """Read one HTTP request (headers and Content-Length body)."""
    conn.settimeout(10)
    data = b""
    try:
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(65536)
            if not chunk:
                return data
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        while len(body) < length:
            chunk = conn.recv(65536)
            if not chunk:
                break
            body += chunk
        return head + b"\r\n\r\n" + body
    except OSError:
        return data


def http_answer(body, status="200 OK", extra_headers=""):
    if isinstance(body, str):
        body = body.encode("utf-8")
    head = "HTTP/1.0 %s\r\nContent-Type: text/xml\r\nContent-Length: %d\r\n%s\r\n" % (status, len(body), extra_headers)
    return head.encode("latin-1") + body


def xmlrpc_answer(value):
    import xmlrpc.client

    return http_answer(xmlrpc.client.dumps((value,), methodresponse=True, allow_none=True))


def xmlrpc_fault(code, text):
    import xmlrpc.client

    return http_answer(xmlrpc.client.dumps(xmlrpc.client.Fault(code, text), methodresponse=True))


def untyped_strings(body):
    """An XML-RPC body with every <value><string>x</string></value> written
    as <value>x</value>: a string too, by the XML-RPC spec."""
    if isinstance(body, str):
        body = body.encode("utf-8")
    return body.replace(b"<value><string>", b"<value>").replace(b"</string></value>", b"</value>")


def scripted_supervisord(container, programs, version="4.3.0", groups=None):
    """A fake supervisord on /var/run/fake.sock: getProcessInfo(NAME) answers
    programs[NAME] (BAD_NAME for others), getAllProcessInfo all of them,
    getSupervisorVersion `version`, anything else a fault."""
    def answer(request):
        method = request.split(b"<methodName>")[1].split(b"</methodName>")[0].decode()
        if method == "supervisor.getSupervisorVersion":
            return xmlrpc_answer(version)
        if method.startswith("supervisor.tailProcess") and "log" in programs:
            return xmlrpc_answer([programs["log"], 100, False])
        if method == "supervisor.getAllProcessInfo":
            return xmlrpc_answer([dict(info, name=name.split(":")[-1], group=(groups or {}).get(name, name))
                                  for name, info in programs.items() if name != "log"])
        name = request.split(b"<string>")[1].split(b"</string>")[0].decode()
        if method == "supervisor.getProcessInfo" and name in programs:
            return xmlrpc_answer(dict(programs[name], name=name))
        return xmlrpc_fault(rp.FAULT_BAD_NAME, "BAD_NAME: %s" % name)

    return MisbehavingServer(container.path("/var/run/fake.sock"), answer)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def listen_on_tcp_only(container, port, ctl="serverurl=http://127.0.0.1:%(port)d\n", auth=""):
    main = open(container.path("/etc/supervisor/supervisord.conf")).read()
    main = main.replace("[unix_http_server]\nfile=/var/run/supervisor.sock",
                        "[inet_http_server]\nport=127.0.0.1:%d%s" % (port, auth))
    main = main.replace("serverurl=unix:///var/run/supervisor.sock ; use a unix:// URL  for a unix socket", ctl % {"port": port})
    container.write("/etc/supervisor/supervisord.conf", main)
    container.serverurl = "http://127.0.0.1:%d" % port


def process(state, exitstatus=0, start=1, spawnerr=""):
    return {"state": state, "statename": rp.STATE_NAMES.get(state, "UNKNOWN"), "exitstatus": exitstatus, "start": start,
            "spawnerr": spawnerr, "stdout_logfile": "", "stderr_logfile": ""}


def grouped_start(group, state, exitstatus):
    return {"name": "start", "group": group, "state": state, "statename": rp.STATE_NAMES[state],
            "exitstatus": exitstatus, "spawnerr": "", "stdout_logfile": "", "stderr_logfile": ""}


def answers_by_method(answers):
    """A server's answer to each XML-RPC method; a fault to any other."""
    def answer(request):
        for method, body in answers.items():
            if b"<methodName>%s</methodName>" % method.encode() in request:
                return body
        return xmlrpc_fault(1, "UNKNOWN_METHOD")
    return answer


# getProcessInfo("start")'s answer once start has exited 0
EXITED_ZERO = {"name": "start", "group": "start", "state": 100, "statename": "EXITED", "exitstatus": 0, "spawnerr": ""}


def without_start(request):
    """A supervisord with no program start, in a group or not."""
    if b"supervisor.getAllProcessInfo" in request:
        return xmlrpc_answer([dict(EXITED_ZERO, name="featured", group="featured")])
    return xmlrpc_fault(rp.FAULT_BAD_NAME, "BAD_NAME: start")


def no_start_in_the_config(container):
    """The config of the supervisord without_start stands for: one without
    [program:start] (one with it is an update in progress: see test_finding_supervisord.py)."""
    path = "/etc/supervisor/conf.d/supervisord.conf"
    container.write(path, open(container.path(path)).read().replace("[program:start]", "[program:init]"))


@contextlib.contextmanager
def listen_queue_full(path):
    """A Unix socket at path that never accepts, its listen queue filled
    until connect() is refused for want of room; removed on leaving."""
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    server.listen(0)  # and never accepts
    waiting = []
    try:
        while True:  # fill the queue until connect() is refused for want of room
            client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            client.setblocking(False)
            waiting.append(client)
            try:
                client.connect(path)
            except BlockingIOError:
                break
        yield
    finally:
        for sock in waiting + [server]:
            sock.close()
        os.unlink(path)


# A probe run by fake_container.run_caller whose resolver never answers a
# host name (numeric hosts are looked up as ever): no name server is needed.
UNANSWERED_LOOKUP = """
import _socket, sys, threading
sys.path[0] = sys.argv.pop(1)
numeric_only = _socket.getaddrinfo
def getaddrinfo(host, port, family=0, type=0, proto=0, flags=0):
    if flags & _socket.AI_NUMERICHOST:
        return numeric_only(host, port, family, type, proto, flags)
    threading.Event().wait()  # a resolver that never answers
_socket.getaddrinfo = getaddrinfo
import readiness_probe
sys.exit(readiness_probe.main())
"""
