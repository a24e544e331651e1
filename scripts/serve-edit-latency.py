#!/usr/bin/env python3
"""How long `helpdesk serve` takes from an editor saving one FAQ to the new answer on /api/search.

Usage: scripts/serve-edit-latency.py HELPDESK_BINARY CONTENT_DIR [EDITS]

CONTENT_DIR is copied to a temporary directory first (the search bench's `--keep` corpus is a
good one: `cargo bench -p search-index --bench search -- 10000 --keep /tmp/sb`, then
`/tmp/sb/content`). The server runs on that copy; once its first build is done, EDITS articles
(default 20) are edited one after the other: a new word goes into the title, and the clock
runs from the file write until `/api/search` in the article's language answers with that
article first. Prints the median, the 90th percentile and the largest time.
"""

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def first_url(base, lang, query):
    q = urllib.parse.urlencode({"lang": lang, "q": query})
    with urllib.request.urlopen(f"{base}/api/search?{q}", timeout=5) as r:
        results = json.load(r).get("results", [])
    # A long article's result leads to its best section (`#anchor`).
    return results[0]["url"].split("#")[0] if results else None


def articles(content):
    out = []
    for root, _, files in os.walk(os.path.join(content, "faq")):
        out += [os.path.join(root, f) for f in files if f.endswith(".md") and f != "_index.md"]
    return sorted(out)


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    binary, source = os.path.abspath(sys.argv[1]), sys.argv[2]
    edits = int(sys.argv[3]) if len(sys.argv) > 3 else 20
    assert edits <= 26, "the edits' words are told apart by letter"
    work = tempfile.mkdtemp()
    content = os.path.join(work, "content")
    shutil.copytree(source, content)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [binary, "--content", content, "serve", "--addr", f"127.0.0.1:{port}", "--data-dir", os.path.join(work, "data")],
        stdout=subprocess.DEVNULL,
        stderr=open(os.path.join(work, "serve.log"), "w"),
    )
    try:
        deadline = time.time() + 120
        while True:
            try:
                first_url(base, "nl", "wachtwoord")
                break
            except Exception:
                if time.time() > deadline or server.poll() is not None:
                    sys.exit("serve did not come up; see " + os.path.join(work, "serve.log"))
                time.sleep(0.1)
        files = articles(content)
        times = []
        for k in range(edits):
            path = files[k * len(files) // edits]
            lang, category, name = os.path.relpath(path, os.path.join(content, "faq")).split(os.sep)
            url = f"/{lang}/{category}/{name[:-3]}/"
            # Three letters from any other edit's word: one or two off would be found as a typo.
            word = "zonnewijzer" + "".join(chr(ord("a") + (k + shift) % 26) for shift in (0, 9, 17))
            text = open(path, encoding="utf-8").read().replace('title = "', f'title = "{word} ', 1)
            start = time.perf_counter()
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
            while first_url(base, lang, word) != url:
                if time.perf_counter() - start > 30:
                    sys.exit(f"{word} not found on {url} after 30 s")
                time.sleep(0.002)
            times.append(time.perf_counter() - start)
            time.sleep(0.3)  # the next save comes later
        times.sort()
        ms = lambda t: f"{t * 1000:.0f} ms"
        print(
            f"edit -> new answer on /api/search ({edits} edits): p50 {ms(times[len(times) // 2])}, "
            f"p90 {ms(times[(len(times) - 1) * 9 // 10])}, max {ms(times[-1])}"
        )
    finally:
        server.terminate()
        server.wait()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
