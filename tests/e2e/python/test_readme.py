"""README.md's examples run the way a reader runs them, and print what the README shows.

- "Example session": its `$ python3 -m websockets ...` runs, the lines after `> ` are typed,
  Ctrl-D at the end; the terminal must show exactly the other lines.
- "From Python", "From Node": each snippet runs as a script (Node's as an ES module), with
  uid 42 logged in twice; the `-> X` comment at its end is exactly what it prints. (PHP is not
  installed by make run; its snippet is not run.)
- "HTTP push API": three python3-websockets terminals log in as the block's comment says
  (42, 42, 43), then the block runs in one bash, command by command; each `# -> X` is the
  exact output of the command above it, every command exits 0, and the paragraph after the
  block names what the terminals show.
The only changes to what the reader types: the ports (the test's server listens on free ones)
and python3 (this interpreter, which has python3-websockets).
"""
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import unittest

from wspush_server import ROOT, SLOW, WspushServer

README = os.path.join(ROOT, "README.md")
PROMPT = 5.0 * SLOW
ANSI = re.compile(rb"\x1b(?:[78]|\[[0-9;]*[A-Za-z])|\r")


def readme():
    with open(README, encoding="utf-8") as f:
        return f.read()


def block_after(heading, fence):
    """The first fenced block (```fence) after the line `heading`, as a list of lines."""
    text = readme()
    start = text.index("\n" + heading + "\n")
    m = re.compile(r"^```" + fence + r"\n(.*?)^```$", re.M | re.S).search(text, start)
    return m.group(1).rstrip("\n").split("\n"), text[m.end():]


class Terminal:
    """`python3 -m websockets URL` in a pipe: what a reader's terminal would show, as lines."""

    def __init__(self, url):
        self.proc = subprocess.Popen([sys.executable, "-m", "websockets", url], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.raw = b""
        self.lock = threading.Lock()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        while True:
            chunk = os.read(self.proc.stdout.fileno(), 65536)
            if not chunk:
                return
            with self.lock:
                self.raw += chunk

    def lines(self):
        """The screen without cursor movements: prompts dropped, received lines as `< ...`."""
        with self.lock:
            text = ANSI.sub(b"", self.raw).decode("utf-8", "replace")
        out = []
        for line in text.split("\n"):
            while line.startswith("> "):
                line = line[2:]
            if line not in ("", ">"):
                out.append(line)
        return out

    def type(self, text):
        self.proc.stdin.write(text.encode() + b"\n")
        self.proc.stdin.flush()

    def ctrl_d(self):
        self.proc.stdin.close()

    def wait_for_lines(self, n, timeout=PROMPT):
        deadline = time.monotonic() + timeout
        while len(self.lines()) < n and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.lines()

    def wait_for(self, line, timeout=PROMPT):
        deadline = time.monotonic() + timeout
        while line not in self.lines() and time.monotonic() < deadline:
            time.sleep(0.02)
        return line in self.lines()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self.reader.join(2)


class ReadmeTestCase(unittest.TestCase):
    def start_server(self, options=None):
        s = WspushServer(options).start()
        self.addCleanup(s.stop)
        return s

    def terminal(self, url):
        t = Terminal(url)
        self.addCleanup(t.stop)
        return t


class ExampleSession(ReadmeTestCase):
    def test_example_session_shows_what_the_readme_shows(self):
        lines, _ = block_after("### Example session", "")
        command = "$ python3 -m websockets ws://127.0.0.1:1234/"
        self.assertEqual(lines[0], command)
        s = self.start_server()
        ours = lambda line: line.replace("ws://127.0.0.1:1234/", s.url)
        term = self.terminal(s.url)
        script = lines[1:]
        shown = []
        for i, line in enumerate(script):
            if line.startswith("> "):
                term.type(line[2:])
                continue
            shown.append(ours(line))
            if not any(l.startswith("> ") for l in script[i:]) and i == len(script) - 1:
                term.ctrl_d()  # the README's last line is what Ctrl-D prints
            self.assertEqual(term.wait_for_lines(len(shown))[:len(shown)], shown)
        term.proc.wait(PROMPT)
        self.assertEqual(term.lines(), shown)


class ApiBlock(ReadmeTestCase):
    TERMINALS = ("# Clients to push to: three terminals, each running\n"
                 "#   python3 -m websockets ws://127.0.0.1:1234/\n"
                 "# then type 42 in two of them (uid 42 with two tabs open) and 43 in the third.\n")

    @staticmethod
    def commands(lines):
        """[(command text, expected output or None)]: continuation lines joined, comments skipped."""
        out = []
        i = 0
        while i < len(lines):
            line = lines[i]
            i += 1
            stripped = line.strip()
            if stripped.startswith("# -> "):
                cmd, expected = out[-1]
                assert expected is None, f"two outputs for {cmd!r}"
                out[-1] = (cmd, stripped[len("# -> "):])
                continue
            if not stripped or stripped.startswith("#"):
                continue
            cmd = line
            while cmd.rstrip().endswith(("|", "\\")) and i < len(lines):
                cmd += "\n" + lines[i]
                i += 1
            out.append((cmd, None))
        return out

    def test_api_block_prints_the_outputs_it_shows(self):
        lines, after = block_after("## HTTP push API", "sh")
        self.assertTrue("\n".join(lines).startswith(self.TERMINALS), "the block's first lines changed: update the test")
        s = self.start_server({"--api-listen": "127.0.0.1:0"})
        api_port = None
        deadline = time.monotonic() + PROMPT
        while api_port is None and time.monotonic() < deadline:
            m = re.search(rb"listening on \S+:(\d+) \(api", s.log())
            api_port = m and int(m.group(1))
            time.sleep(0.02)
        self.assertIsNotNone(api_port, s.log_tail())

        terms = {}
        for name, uid in (("42 (first tab)", "42"), ("42 (second tab)", "42"), ("43", "43")):
            terms[name] = t = self.terminal(s.url)
            t.type(uid)
            self.assertTrue(t.wait_for(f"< login success, your uid is {uid}"), t.lines())

        cmds = self.commands(lines)
        api_line = "API=http://127.0.0.1:1235"
        self.assertEqual(cmds[0][0], api_line)
        cmds[0] = (f"API=http://127.0.0.1:{api_port}", None)
        with tempfile.TemporaryDirectory() as d:
            script = []
            for n, (cmd, _) in enumerate(cmds):
                script.append(f"{{\n{cmd}\n}} >{d}/{n}.out 2>{d}/{n}.err; echo $? >{d}/{n}.rc")
            env = {k: v for k, v in os.environ.items() if k != "WSPUSH_API_KEY"}
            subprocess.run(["bash", "-c", "\n".join(script)], env=env, check=True, timeout=60 * SLOW)
            for n, (cmd, expected) in enumerate(cmds):
                read = lambda ext: open(f"{d}/{n}.{ext}", encoding="utf-8").read()
                self.assertEqual(read("rc").strip(), "0", f"{cmd}\n{read('err')}")
                if expected is not None:
                    self.assertEqual(read("out"), expected + "\n", cmd)
                elif "curl" in cmd:
                    self.assertNotIn('"error"', read("out"), cmd)

        # The paragraph after the block: every `< ...` and `Connection closed...` it names is
        # on some terminal.
        paragraph = after.strip().split("\n\n")[0]
        shown = re.findall(r"`((?:< |Connection closed)[^`]*)`", paragraph)
        self.assertGreaterEqual(len(shown), 5, paragraph)
        for item in shown:
            deadline = time.monotonic() + PROMPT
            while time.monotonic() < deadline and not any(item in t.lines() for t in terms.values()):
                time.sleep(0.02)
            self.assertTrue(any(item in t.lines() for t in terms.values()),
                            f"{item!r} on no terminal: {[t.lines() for t in terms.values()]}")
        self.assertEqual(terms["43"].lines(), ["Connected to " + s.url + ".", "< login success, your uid is 43",
                                               "< Sale starts now", "< a", "< d", "< Maintenance at 22:00"])


class ClientSnippets(ReadmeTestCase):
    def run_snippet(self, heading, fence, argv, comment):
        lines, _ = block_after(heading, fence)
        self.assertTrue(lines[-1].startswith(comment + "-> "), lines[-1])
        expected = lines[-1][len(comment + "-> "):]
        s = self.start_server({"--api-listen": "127.0.0.1:0"})
        deadline = time.monotonic() + PROMPT
        m = None
        while not m and time.monotonic() < deadline:
            m = re.search(rb"listening on \S+:(\d+) \(api", s.log())
            time.sleep(0.02)
        self.assertIsNotNone(m, s.log_tail())
        code = "\n".join(lines).replace("1235", m.group(1).decode())
        tabs = [self.terminal(s.url) for _ in range(2)]
        for t in tabs:
            t.type("42")
            self.assertTrue(t.wait_for("< login success, your uid is 42"), t.lines())
        env = {k: v for k, v in os.environ.items() if k != "WSPUSH_API_KEY"}
        p = subprocess.run(argv, input=code, capture_output=True, text=True, env=env, timeout=30 * SLOW)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout, expected + "\n")
        for t in tabs:
            self.assertTrue(t.wait_for("< Your order shipped"), t.lines())

    def test_python_snippet_prints_what_the_readme_shows(self):
        self.run_snippet("### From Python", "python", [sys.executable, "-"], "# ")

    def test_node_snippet_prints_what_the_readme_shows(self):
        self.run_snippet("### From Node (18+)", "js", ["node", "--input-type=module", "--no-warnings"], "// ")


if __name__ == "__main__":
    unittest.main()
