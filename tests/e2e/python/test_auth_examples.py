"""The README's Python token example, run exactly as printed, against a --auth jwt server."""
import os
import re

import auth_keys as keys
from e2ecase import WspushTestCase
from wspush_server import ROOT


def readme_example(language):
    with open(os.path.join(ROOT, "README.md")) as f:
        text = f.read()
    m = re.search(r"<!-- token-example: " + language + r" .*?-->\n```\w+\n(.*?)```", text, re.S)
    assert m, f"README has no token example for {language}"
    return m.group(1)


class ReadmePythonTokenExample(WspushTestCase):
    server_options = {"--auth": "jwt", "--jwt-secret-file": keys.SECRET_FILE}

    async def test_the_readme_python_example_mints_a_token_that_logs_in(self):
        os.environ["WSPUSH_JWT_SECRET_FILE"] = keys.SECRET_FILE
        scope = {}
        exec(readme_example("python"), scope)
        token = scope["wspush_token"]("alice")
        ws = await self.connect()
        await ws.send(token)
        self.assertEqual(await self.recv(ws), "login success, your uid is alice")
        claims = keys.jwt.decode(token, keys.SECRET, algorithms=["HS256"])
        self.assertEqual(claims["exp"] - claims["iat"], 600)
