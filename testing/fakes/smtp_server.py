"""A fake SMTP server on 127.0.0.1 for tests: it takes the mail (a minimal SMTP dialogue) or, while
`unavailable`, answers every connection `421` as a busy server does. `.connected_at` records when each
client connected (monotonic seconds), `.messages` the raw DATA of each delivered message."""

import socketserver
import threading
import time


class FakeSMTP:
    def __init__(self):
        self.unavailable = False
        self.connected_at: list[float] = []
        self.messages: list[bytes] = []
        fake = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self):
                fake.connected_at.append(time.monotonic())
                if fake.unavailable:
                    self.wfile.write(b"421 4.3.2 Service not available, try again later\r\n")
                    return
                self.wfile.write(b"220 fake.smtp ESMTP\r\n")
                while line := self.rfile.readline():
                    command = line.strip().upper()
                    if command.startswith((b"EHLO", b"HELO")):
                        self.wfile.write(b"250 fake.smtp\r\n")
                    elif command == b"DATA":
                        self.wfile.write(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                        fake.messages.append(self._read_data())
                        self.wfile.write(b"250 2.0.0 Ok: queued\r\n")
                    elif command == b"QUIT":
                        self.wfile.write(b"221 2.0.0 Bye\r\n")
                        return
                    else:  # MAIL FROM, RCPT TO, RSET, NOOP
                        self.wfile.write(b"250 2.0.0 Ok\r\n")

            def _read_data(self) -> bytes:
                lines = []
                while (line := self.rfile.readline()) not in (b".\r\n", b""):
                    lines.append(line)
                return b"".join(lines)

        self._server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)

    @property
    def url(self) -> str:
        """The EMAIL_URL that points at this server."""
        return f"smtp://127.0.0.1:{self.port}"

    def start(self) -> "FakeSMTP":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
