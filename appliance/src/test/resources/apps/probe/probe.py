"""An app that tries to escape its sandbox, one way per URL, and answers what it managed.

GET /<probe>?<args> answers {"escaped": bool, "detail": "..."}; "escaped" true means the
sandbox let it through. Serves HTTP/1.0 on the Unix socket the daemon names.
"""
import ctypes
import errno
import http.server
import json
import os
import socket
import socketserver
import subprocess
import sys
import urllib.parse

libc = ctypes.CDLL(None, use_errno=True)
SYS_PTRACE, SYS_MOUNT, SYS_UNSHARE, SYS_BPF, SYS_KEYCTL, SYS_PERF_EVENT_OPEN = 101, 165, 272, 321, 250, 298
CLONE_NEWUSER, CLONE_NEWNET = 0x10000000, 0x40000000


def syscall(nr, *args):
    r = libc.syscall(nr, *[ctypes.c_long(a) if isinstance(a, int) else a for a in args])
    return r, ctypes.get_errno()


def host_tcp(q):
    port = int(q["port"])
    try:
        with socket.create_connection((q.get("host", "127.0.0.1"), port), timeout=2) as s:
            return True, "connected to %s:%d" % (q.get("host", "127.0.0.1"), port)
    except OSError as e:
        return False, str(e)


def read(q):
    try:
        with open(q["path"], "rb") as f:
            return True, "read %d bytes" % len(f.read(1 << 20))
    except OSError as e:
        return False, str(e)


def scan(q):
    secret = q["secret"].encode()
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                with open("/proc/%s/environ" % pid, "rb") as f:
                    if secret in f.read():
                        return True, "found in /proc/%s/environ" % pid
            except OSError:
                pass
    for top in ("/", "/tmp", "/run", "/data", "/app", "/etc", "/home", "/root", "/var", "/srv", "/opt", "/work"):
        if not os.path.isdir(top):
            continue
        for root, dirs, files in os.walk(top):
            if root == "/":
                dirs[:] = [d for d in dirs if d not in ("usr", "proc", "sys", "dev")]
            for name in files:
                p = os.path.join(root, name)
                try:
                    if os.path.isfile(p) and os.path.getsize(p) < (1 << 20):
                        with open(p, "rb") as f:
                            if secret in f.read():
                                return True, "found in " + p
                except OSError:
                    pass
            if top == "/":
                break
    return False, "not found"


def ptrace(q):
    child = os.fork()
    if child == 0:
        import time
        time.sleep(5)
        os._exit(0)
    try:
        r, err = syscall(SYS_PTRACE, 16, child, 0, 0)  # PTRACE_ATTACH
        if r == 0:
            syscall(SYS_PTRACE, 17, child, 0, 0)  # PTRACE_DETACH
        return r == 0, "ptrace attach: " + ("ok" if r == 0 else errno.errorcode.get(err, str(err)))
    finally:
        os.kill(child, 9)
        os.waitpid(child, 0)


def mount(q):
    target = "/tmp/mnt-probe"
    os.makedirs(target, exist_ok=True)
    r, err = syscall(SYS_MOUNT, b"none", target.encode(), b"tmpfs", 0, None)
    if r == 0:
        libc.umount2(target.encode(), 0)
    return r == 0, "mount: " + ("ok" if r == 0 else errno.errorcode.get(err, str(err)))


def unshare(q):
    r, err = syscall(SYS_UNSHARE, CLONE_NEWUSER | CLONE_NEWNET)
    return r == 0, "unshare(user|net): " + ("ok" if r == 0 else errno.errorcode.get(err, str(err)))


def denied(q):
    """System calls an app never needs: each must fail with EPERM (seccomp), not EINVAL/EFAULT."""
    results = {}
    for name, nr in (("bpf", SYS_BPF), ("keyctl", SYS_KEYCTL), ("perf_event_open", SYS_PERF_EVENT_OPEN)):
        r, err = syscall(nr, 0, 0, 0, 0, 0)
        results[name] = errno.errorcode.get(err, str(err)) if r != 0 else "ok"
    return any(v != "EPERM" for v in results.values()), json.dumps(results)


def setuid(q):
    out = subprocess.run([q["path"], "-u"], capture_output=True, text=True, timeout=5)
    uid = out.stdout.strip()
    return uid == "0", "setuid binary ran as uid %r (stderr %r)" % (uid, out.stderr.strip())


def write_code(q):
    try:
        with open(q.get("path", "/app/probe.py"), "ab") as f:
            f.write(b"")
        return True, "opened %s for writing" % q.get("path", "/app/probe.py")
    except OSError as e:
        return False, str(e)


def fork_bomb(q):
    limit = int(q.get("max", "4096"))
    children = []
    detail = ""
    try:
        while len(children) < limit:
            pid = os.fork()
            if pid == 0:
                import time
                time.sleep(30)
                os._exit(0)
            children.append(pid)
    except OSError as e:
        detail = str(e)
    finally:
        for pid in children:
            os.kill(pid, 9)
        for pid in children:
            os.waitpid(pid, 0)
    return len(children) >= limit, "forked %d processes; %s" % (len(children), detail)


def memory(q):
    hog = []
    for _ in range(int(q["mib"])):
        hog.append(b"x" * (1 << 20))
    return True, "allocated %d MiB" % len(hog)


def interfaces(q):
    names = sorted(os.listdir("/sys/class/net")) if os.path.isdir("/sys/class/net") else []
    if not names:
        with open("/proc/net/dev") as f:
            names = sorted(l.split(":")[0].strip() for l in f.readlines()[2:])
    return names != ["lo"], "interfaces: %s" % names


def call_app(q):
    """Asks the daemon, on its socket, for another app; 'escaped' means it answered 2xx."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(20)
    s.connect(os.environ["INTRUSTD_DAEMON_SOCKET"])
    s.sendall(("GET /health HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n" % q["app"]).encode())
    answer = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        answer += chunk
    s.close()
    status = answer.split(b"\r\n", 1)[0].decode(errors="replace")
    return status.split(" ")[1:2] == ["200"], status


def egress(q):
    """CONNECT through the egress proxy at 127.0.0.1:3128 (the sandbox's only way out); with
    hold=1, keeps the tunnel open until the far end or the proxy closes it."""
    s = socket.create_connection(("127.0.0.1", 3128), timeout=10)
    try:
        s.sendall(("CONNECT %s:%s HTTP/1.1\r\nHost: %s:%s\r\n\r\n" % (q["host"], q["port"], q["host"], q["port"])).encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = s.recv(4096)
            if not chunk:
                break
            head += chunk
        status = head.split(b"\r\n", 1)[0].decode(errors="replace")
        if " 200 " not in status + " ":
            return False, "proxy answered: " + status
        s.sendall(b"ping")
        echo = s.recv(4)
        if q.get("hold") != "1":
            return echo == b"ping", "echo %r" % echo
        s.settimeout(30)
        while s.recv(4096):
            pass
        return True, "tunnel closed"
    finally:
        s.close()


def whoami(q):
    return False, json.dumps({"uid": os.getuid(), "gid": os.getgid(), "pid": os.getpid(), "cwd": os.getcwd(),
                              "env": sorted(os.environ)})


PROBES = {"host-tcp": host_tcp, "read": read, "scan": scan, "ptrace": ptrace, "mount": mount, "unshare": unshare,
          "denied": denied, "setuid": setuid, "write-code": write_code, "fork-bomb": fork_bomb, "memory": memory,
          "interfaces": interfaces, "whoami": whoami, "call-app": call_app, "egress": egress}


class Handler(http.server.BaseHTTPRequestHandler):
    def address_string(self):
        return "daemon"

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        if url.path == "/health":
            return self.answer(200, {"ok": True})
        probe = PROBES.get(url.path.lstrip("/"))
        if probe is None:
            return self.answer(404, {"error": "no probe " + url.path})
        query = dict(urllib.parse.parse_qsl(url.query))
        try:
            escaped, detail = probe(query)
        except Exception as e:  # a probe that breaks did not escape, but say why
            escaped, detail = False, "%s: %s" % (type(e).__name__, e)
        self.answer(200, {"escaped": escaped, "detail": detail})

    def answer(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


if __name__ == "__main__":
    path = os.environ["INTRUSTD_APP_SOCKET"]
    if os.path.exists(path):
        os.unlink(path)
    Server(path, Handler).serve_forever()
