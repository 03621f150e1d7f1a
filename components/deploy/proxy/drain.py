# The drain helper of a traffic switch (switch.ts), run in the draining container's network
# namespace from the proxy image. Usage: drain.py PORT SECONDS
# A firewall rule resets new connections (SYN) to PORT from outside; then it waits while
# connections to PORT are open (ESTABLISHED, queued ones included, or SYN_RECV), at most
# SECONDS. Exits non-zero only if no rule could be set (then nothing changed).
import subprocess
import sys
import time


def refuse_new_connections(port):
    rule = ["INPUT", "!", "-i", "lo", "-p", "tcp", "--syn", "--dport", str(port), "-j", "REJECT", "--reject-with", "tcp-reset"]
    errors = []
    for tool in ("iptables", "iptables-legacy"):
        try:
            r = subprocess.run([tool, "-I", *rule], capture_output=True, text=True)
        except OSError as e:
            errors.append(f"{tool}: {e}")
            continue
        if r.returncode == 0:
            return
        errors.append(f"{tool}: {r.stderr.strip()}")
    sys.exit("cannot refuse new connections: " + "; ".join(errors))


def open_connections(port):
    n = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as f:
            for line in f.read().splitlines()[1:]:
                fields = line.split()
                # local address "ip:PORT" in hex; state 01 ESTABLISHED, 03 SYN_RECV
                n += int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] in ("01", "03")
    return n


def drain(port, seconds):
    refuse_new_connections(port)
    deadline = time.monotonic() + seconds
    while (n := open_connections(port)) and time.monotonic() < deadline:
        time.sleep(0.1)
    print(f"{n} connections still open after {seconds:g}s" if n else "drained")


if __name__ == "__main__":
    drain(int(sys.argv[1]), float(sys.argv[2]))
