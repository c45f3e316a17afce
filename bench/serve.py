#!/usr/bin/env python3
"""Benchmark `blameless serve` on a generated site (figures only, no assertions).

    python3 bench/serve.py [--incidents 10000] [--bin target/release/blameless]

1. Generates a site with bench/gen_site.py (under /dev/shm when it exists; removed at
   the end), starts `blameless serve --port 0` on it and waits for the first build
   and the search index.
2. Edit latency, median of --edits runs each: the time from writing a file to
   (a) the live-reload event naming the page and (b) the page served with the change,
   with the page open (a live stream naming it, as live.js in a browser does),
   for a story edit (its title) and a pattern edit (its title, shown on every story
   page of its chain). Then, median of --search-edits story edits, the time from
   writing a new word into a story's title to /api/search answering that word with
   the story first, and the server's RSS around those edits.
3. Load: --clients threads for --seconds, each on one keep-alive connection,
   alternating story pages, list pages and /api/search queries, while a story is
   edited every 0.5 s. Prints requests, errors (non-2xx/3xx answers or failed
   connections) and the server's RSS before and after.

Every step is bounded in time; the server is stopped at the end.
"""

import argparse
import http.client
import os
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def get(port, path, timeout=10):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    c.request("GET", path)
    r = c.getresponse()
    body = r.read()
    c.close()
    return r.status, body


def wait(pred, timeout, what):
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if pred():
            return time.monotonic() - start
        time.sleep(0.02)
    sys.exit(f"serve.py: timed out waiting for {what}")


class Live:
    """A live-reload stream: records (time, data) of every reload event."""

    def __init__(self, port, page=None):
        # With `page`, the stream says which page it reloads, as live.js does in a
        # browser: the server renders the open pages first.
        self.events = []
        self.hello = threading.Event()
        self.sock = socket.create_connection(("127.0.0.1", port))
        query = "?page=" + urllib.parse.quote(page, safe="") if page else ""
        self.sock.sendall(
            f"GET /__blameless/live{query} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode()
        )
        self.sock.settimeout(1.0)
        self.stop = False
        threading.Thread(target=self.run, daemon=True).start()

    def run(self):
        buf = b""
        while not self.stop:
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                continue
            except OSError:
                return
            if not chunk:
                return
            buf += chunk
            while b"\n\n" in buf:
                msg, buf = buf.split(b"\n\n", 1)
                text = msg.decode()
                if "event: hello" in text:
                    self.hello.set()
                if "event: reload" in text:
                    data = text.split("data: ", 1)[1]
                    self.events.append((time.monotonic(), data))

    def wait_for(self, path, since, timeout=30):
        start = time.monotonic()
        while time.monotonic() - start < timeout:
            for t, data in list(self.events):
                if t >= since and (path in data or data == '"*"'):
                    return t
            time.sleep(0.001)
        return None


def edit_latency(port, file, old, new, page, needle):
    """Write → reload event for `page` and → `page` served with `needle`, with `page`
    open (a live stream naming it, as a browser showing it has)."""
    live = Live(port, page)
    if not live.hello.wait(10):
        sys.exit("serve.py: the live stream never said hello")
    with open(file) as f:
        text = f.read()
    assert old in text, f"{old!r} not in {file}"
    t0 = time.monotonic()
    with open(file, "w") as f:
        f.write(text.replace(old, new, 1))
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    served = None
    while time.monotonic() - t0 < 60:
        c.request("GET", page)
        r = c.getresponse()
        body = r.read()
        if needle.encode() in body:
            served = time.monotonic() - t0
            break
        time.sleep(0.002)
    c.close()
    event = live.wait_for(page, t0)
    live.stop = True
    live.sock.close()
    return (event - t0 if event else float("nan")), served


def search_edit_latency(port, pid, log, site, incidents, edits):
    """Write → /api/search reflects the edit, for `edits` story edits: each adds a new
    word to a story's title, and the time runs until a search for that word answers
    with the story first. Prints the median, the server's own re-index times from its
    log (`search index updated in N ms`) and its RSS before and after."""
    import json
    import urllib.parse
    rss_before = rss_mb(pid)
    log.seek(0, os.SEEK_END)
    log_start = log.tell()
    times = []
    for i in range(edits):
        name = incidents[(i * 104729 + 17) % len(incidents)]
        path = os.path.join(site, "content/incidents", name)
        word = f"quokkasearch{i}x"
        with open(path) as f:
            text = f.read()
        title = re.search(r"^title: (.*)$", text, re.M).group(1)
        new = title[:-1] + f" {word}\"" if title.endswith('"') else f"{title} {word}"
        t0 = time.monotonic()
        with open(path, "w") as f:
            f.write(text.replace(f"title: {title}", f"title: {new}", 1))
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        found = None
        while time.monotonic() - t0 < 60:
            c.request("GET", f"/api/search?q={urllib.parse.quote(word)}&limit=1")
            r = c.getresponse()
            body = r.read()
            if r.status == 200:
                hits = json.loads(body)["results"]
                if hits and hits[0]["id"] == name[:-3]:
                    found = time.monotonic() - t0
                    break
            time.sleep(0.005)
        c.close()
        if found is None:
            sys.exit(f"serve.py: /api/search never found the edit of {name}")
        times.append(found)
        time.sleep(0.3)
    time.sleep(2)
    log.seek(log_start)
    reindex = [int(m) for m in re.findall(r"search index updated in (\d+) ms", log.read())]
    print(f"story edit (title) → /api/search finds the new word: median "
          f"{statistics.median(times) * 1000:.0f} ms (max {max(times) * 1000:.0f}) over "
          f"{edits} edits; the server's re-index after the page rebuild: median "
          f"{statistics.median(reindex) if reindex else float('nan'):.0f} ms over {len(reindex)}; "
          f"server RSS {rss_before:.0f} MB before, {rss_mb(pid):.0f} MB after")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--incidents", type=int, default=10000)
    ap.add_argument("--bin", default=os.path.join(ROOT, "target/release/blameless"))
    ap.add_argument("--edits", type=int, default=5)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--search-edits", type=int, default=5,
                    help="story edits timed until /api/search reflects them")
    args = ap.parse_args()
    if (not 1 <= args.incidents <= 100000 or args.seconds > 300 or args.clients > 64
            or not 1 <= args.search_edits <= 200):
        sys.exit("serve.py: --incidents 1..100000, --seconds <= 300, --clients <= 64, "
                 "--search-edits 1..200")

    base = "/dev/shm" if os.path.isdir("/dev/shm") else None
    work = tempfile.mkdtemp(prefix="blameless-serve-bench-", dir=base)
    site = os.path.join(work, "site")
    proc = None
    try:
        subprocess.run(
            [sys.executable, os.path.join(HERE, "gen_site.py"), "--incidents",
             str(args.incidents), "--out", site, "--from", ROOT],
            check=True, stdout=subprocess.DEVNULL,
        )
        log = open(os.path.join(work, "serve.log"), "w+")
        t0 = time.monotonic()
        proc = subprocess.Popen(
            [args.bin, "--root", site, "serve", "--port", "0"],
            stdout=log, stderr=log,
        )

        def port_of():
            log.seek(0)
            m = re.search(r"serving http://127\.0\.0\.1:(\d+)/", log.read())
            return int(m.group(1)) if m else None

        wait(lambda: port_of() is not None, 60, "the server to listen")
        port = port_of()
        wait(lambda: get(port, "/")[0] == 200, 600, "the first build")
        t_first = time.monotonic() - t0
        wait(lambda: get(port, "/api/search?q=oom")[0] == 200, 600, "the search index")
        t_index = time.monotonic() - t0
        print(f"site: {args.incidents} incidents; first build served after {t_first:.1f} s, "
              f"search index after {t_index:.1f} s")

        incidents = sorted(os.listdir(os.path.join(site, "content/incidents")))

        def retitle(path, marker, page):
            """Append `marker` to the title of the file at `path` (quoted or not)."""
            with open(path) as f:
                title = re.search(r"^title: (.*)$", f.read(), re.M).group(1)
            new = title[:-1] + f" {marker}\"" if title.endswith('"') else f"{title} {marker}"
            return edit_latency(port, path, f"title: {title}", f"title: {new}", page, marker)

        def story_edit(i):
            name = incidents[(i * 7919) % len(incidents)]
            path = os.path.join(site, "content/incidents", name)
            return retitle(path, f"Edited{i}x", f"/incidents/{name[:-3]}/")

        def pattern_edit(i):
            pdir = os.path.join(site, "content/patterns")
            # A pattern in some story's chain, and one such story.
            for name in incidents[i * 13:]:
                with open(os.path.join(site, "content/incidents", name)) as f:
                    m = re.search(r"- pattern: ([a-z0-9-]+)", f.read())
                if m:
                    break
            path = os.path.join(pdir, m.group(1) + ".md")
            return retitle(path, f"Renamed{i}x", f"/incidents/{name[:-3]}/")

        def rebuilds():
            """How many rebuilds the server has finished (its `rebuilt (...)` lines)."""
            log.flush()
            with open(log.name) as f:
                return f.read().count("rebuilt (")

        for label, edit in [("story edit (title)", story_edit), ("pattern edit (title)", pattern_edit)]:
            events, served = [], []
            for i in range(args.edits):
                done = rebuilds()
                e, s = edit(i)
                events.append(e)
                served.append(s)
                # The open page is shown before a large rebuild ends; let it end, so
                # that each edit is timed on its own, not queued behind the last.
                wait(lambda: rebuilds() > done, 120, "the rebuild to finish")
                time.sleep(0.3)
            print(f"{label}: write → reload event median {statistics.median(events) * 1000:.0f} ms "
                  f"(max {max(events) * 1000:.0f}), write → changed page served median "
                  f"{statistics.median(served) * 1000:.0f} ms (max {max(served) * 1000:.0f}) "
                  f"over {args.edits} edits")

        search_edit_latency(port, proc.pid, log, site, incidents, args.search_edits)

        # Load.
        wait(lambda: get(port, "/api/search?q=oom")[0] == 200, 600, "the search index")
        time.sleep(1)
        rss_before = rss_mb(proc.pid)
        pages = [f"/incidents/{n[:-3]}/" for n in incidents[:500]] + ["/", "/patterns/", "/symptoms/"]
        queries = ["oom", "502+during+deploys", "dns+timeout", "crashloopbackoff", "etcd+disk", "certificate+expired"]
        stop = time.monotonic() + args.seconds
        counts = {"requests": 0, "errors": 0, "search": 0}
        lock = threading.Lock()

        def client(seed):
            rnd = random.Random(seed)
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            n = e = s = 0
            while time.monotonic() < stop:
                if rnd.random() < 0.3:
                    path = f"/api/search?q={rnd.choice(queries)}&limit=10"
                    s += 1
                else:
                    path = rnd.choice(pages)
                try:
                    c.request("GET", path)
                    r = c.getresponse()
                    r.read()
                    if r.status >= 400:
                        e += 1
                except (OSError, http.client.HTTPException):
                    e += 1
                    c.close()
                    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                n += 1
            c.close()
            with lock:
                counts["requests"] += n
                counts["errors"] += e
                counts["search"] += s

        def editor():
            i = 0
            name = incidents[1]
            path = os.path.join(site, "content/incidents", name)
            with open(path) as f:
                original = f.read()
            while time.monotonic() < stop:
                with open(path, "w") as f:
                    f.write(original.replace("summary: ", f"summary: Load edit {i}. ", 1))
                i += 1
                time.sleep(0.5)
            counts["edits"] = i

        samples = []

        def sampler():
            # RSS at even intervals: a plateau and a leak look different here.
            step = args.seconds / 8
            while time.monotonic() < stop:
                samples.append(rss_mb(proc.pid))
                time.sleep(step)

        threads = [threading.Thread(target=client, args=(k,)) for k in range(args.clients)]
        threads.append(threading.Thread(target=editor))
        threads.append(threading.Thread(target=sampler))
        t = time.monotonic()
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        elapsed = time.monotonic() - t
        time.sleep(2)
        rss_after = rss_mb(proc.pid)
        print(f"load: {args.clients} keep-alive clients for {elapsed:.0f} s, {counts['edits']} edits: "
              f"{counts['requests']} requests ({counts['search']} searches, "
              f"{counts['requests'] / elapsed:.0f}/s), {counts['errors']} errors; "
              f"server RSS {rss_before:.0f} MB before, {rss_after:.0f} MB after")
        print("server RSS during the load, every " f"{args.seconds / 8:.0f} s (MB): "
              + ", ".join(f"{x:.0f}" for x in samples))
    finally:
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
