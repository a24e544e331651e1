#!/usr/bin/env python3
"""SMTP sink for integration tests (needs aiosmtpd==1.4.6).

Usage: smtp_sink.py PORT DIR [USER PASSWORD]

Listens on 127.0.0.1:PORT (PORT 0 = pick a free port) without TLS. Every
accepted message is written to DIR as 000001.eml, 000002.eml, ... (the raw
DATA bytes, CRLF line endings, dot-unstuffed), next to 000001.json with the
envelope: {"mail_from": ..., "rcpt_tos": [...], "auth_user": ...}. The .json
is written first and the .eml is renamed into place, so once an .eml exists
both files are complete.

With USER and PASSWORD, AUTH PLAIN and AUTH LOGIN are offered over plain
text and required before MAIL FROM (530 otherwise; 535 on bad credentials).
Without them AUTH is not offered and any sender is accepted.

Prints "READY <port>" on stdout once listening. Exits when stdin reaches EOF
(give it a pipe and keep the write end open; /dev/null makes it exit at
once), or on SIGTERM/SIGINT.

Run with the repo venv: .venv/bin/python lambda/tests/smtp_sink.py ...
"""

import asyncio
import json
import logging
import os
import signal
import sys
import threading
import warnings

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


class SinkHandler:
    def __init__(self, directory):
        self.directory = directory
        self.count = 0

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        base = os.path.join(self.directory, "%06d" % self.count)
        auth_user = None
        if session.authenticated and isinstance(session.auth_data, LoginPassword):
            auth_user = session.auth_data.login.decode("utf-8", "replace")
        meta = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "auth_user": auth_user,
        }
        with open(base + ".json", "w") as f:
            json.dump(meta, f)
        content = envelope.original_content or b""
        with open(base + ".eml.tmp", "wb") as f:
            f.write(content)
        os.replace(base + ".eml.tmp", base + ".eml")
        return "250 OK"


def make_authenticator(user, password):
    want = LoginPassword(user.encode(), password.encode())

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and auth_data == want
        return AuthResult(success=ok, handled=False, auth_data=auth_data)

    return authenticator


def main():
    if len(sys.argv) not in (3, 5):
        sys.exit("usage: smtp_sink.py PORT DIR [USER PASSWORD]")
    port = int(sys.argv[1])
    directory = os.path.abspath(sys.argv[2])
    os.makedirs(directory, exist_ok=True)
    creds = sys.argv[3:5]

    # aiosmtpd warns loudly about AUTH without TLS; that is the point here.
    warnings.filterwarnings("ignore", message="Requiring AUTH while not requiring TLS")
    logging.getLogger("mail.log").setLevel(logging.ERROR)

    handler = SinkHandler(directory)
    kwargs = {}
    if creds:
        kwargs = dict(
            auth_required=True,
            auth_require_tls=False,
            authenticator=make_authenticator(*creds),
        )

    def factory():
        # Fixed hostname: the default socket.getfqdn() can stall on DNS.
        return SMTP(handler, hostname="smtp-sink.test", **kwargs)

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    server = loop.run_until_complete(loop.create_server(factory, "127.0.0.1", port))
    actual = server.sockets[0].getsockname()[1]

    def wait_stdin():
        try:
            while os.read(0, 65536):
                pass
        except OSError:
            pass
        loop.call_soon_threadsafe(loop.stop)

    threading.Thread(target=wait_stdin, daemon=True).start()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, loop.stop)

    print("READY %d" % actual, flush=True)
    try:
        loop.run_forever()
    finally:
        server.close()


if __name__ == "__main__":
    main()
