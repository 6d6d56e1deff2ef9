"""stdin_fixture.py: a Go test fixture driven line by line through its
standard input (tests/fixtures/phases, tests/fixtures/grow): it says
"READY <pid>" when it starts and answers each command with one line."""
import os
import select
import subprocess


class StdinFixture:
    def __init__(self, path, tmp, command_timeout=60):
        self.command_timeout = command_timeout
        self.stderr = open(os.path.join(tmp, "fixture.stderr"), "w")
        self.proc = subprocess.Popen([path], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.stderr,
                                     text=True, bufsize=1)
        line = self.read_line(30)
        if not line.startswith("READY "):
            raise RuntimeError("fixture said %r instead of READY <pid>" % line)
        self.pid = int(line.split()[1])

    def read_line(self, timeout):
        r, _, _ = select.select([self.proc.stdout], [], [], timeout)
        if not r:
            return "(nothing within %.0f s)" % timeout
        return self.proc.stdout.readline().strip() or "(end of output: exit %r)" % self.proc.poll()

    def command(self, cmd):
        """Sends cmd; the fixture's one-line answer."""
        self.proc.stdin.write(cmd + "\n")
        self.proc.stdin.flush()
        return self.read_line(self.command_timeout)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self.stderr.close()
