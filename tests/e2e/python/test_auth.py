"""--auth jwt: token logins by URL and by first message, every refusal, expiry, impersonation."""
import asyncio
import os
import re
import subprocess
import time
import unittest
import urllib.request

import websockets

import auth_keys as keys
from e2ecase import WspushTestCase
from rawws import RawClient
from wspush_server import BINARY, SLOW, WspushServer

POLICY_VIOLATION = 1008
HS_OPTIONS = {"--auth": "jwt", "--jwt-secret-file": keys.SECRET_FILE}


class TokenCase(WspushTestCase):
    def url_with(self, token):
        return f"{self.server.url}?token={token}"

    async def login_token(self, token, uid="alice"):
        ws = await self.connect()
        await ws.send(token)
        self.assertEqual(await self.recv(ws), f"login success, your uid is {uid}")
        return ws

    async def login_url(self, token, uid="alice"):
        ws = await websockets.connect(self.url_with(token), ping_interval=None, open_timeout=self.PROMPT,
                                      close_timeout=1.0 * SLOW, **self.tls_kwargs())
        self.addAsyncCleanup(self._close_quietly, ws)
        self.assertEqual(await self.recv(ws), f"login success, your uid is {uid}")
        return ws

    async def assertTokenRefused(self, token, error="error: invalid token"):
        ws = await self.connect()
        await ws.send(token)
        self.assertEqual(await self.recv(ws), error)
        await self.assertClosedWith(ws, POLICY_VIOLATION)
        self.assertEqual(ws.close_reason, error[len("error: "):])

    async def assertUrlRefused(self, token, error="invalid token"):
        raw = await self.raw()
        await raw.send((f"GET /?token={token} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
                        "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                        "Sec-WebSocket-Version: 13\r\n\r\n").encode())
        resp = await raw.read_http_response(self.PROMPT)
        self.assertEqual(resp.status, 401)
        self.assertIn(error.encode(), resp.body)
        self.assertEqual(resp.headers.get("www-authenticate"), "Bearer")


class Hs256Login(TokenCase):
    server_options = HS_OPTIONS

    async def test_valid_token_as_first_message_logs_in_as_its_sub(self):
        ws = await self.login_token(keys.hs256("alice"))
        await self.assertStillOpen(ws, "alice")

    async def test_valid_token_in_url_logs_in_without_a_login_message(self):
        ws = await self.login_url(keys.hs256("alice"))
        await self.assertStillOpen(ws, "alice")

    async def test_url_token_is_found_among_other_query_parameters(self):
        ws = await self.login_url(keys.hs256("bob") + "&lang=en", uid="bob")
        await self.assertStillOpen(ws, "bob")

    async def test_bad_url_token_gets_401_from_a_real_client(self):
        with self.assertRaises(websockets.exceptions.InvalidStatusCode) as cm:
            await websockets.connect(self.url_with(keys.hs256(secret=keys.OTHER_SECRET)), open_timeout=self.PROMPT,
                                     **self.tls_kwargs())
        self.assertEqual(cm.exception.status_code, 401)

    async def test_bad_url_tokens_get_401_with_the_reason(self):
        await self.assertUrlRefused(keys.hs256(secret=keys.OTHER_SECRET))
        await self.assertUrlRefused("")
        await self.assertUrlRefused(keys.hs256(ttl=-10), "token expired")

    async def test_expired_token_gets_token_expired_and_close_1008(self):
        await self.assertTokenRefused(keys.hs256(ttl=-1), "error: token expired")

    async def test_token_expiring_this_second_is_refused(self):
        await self.assertTokenRefused(keys.hs256(ttl=0), "error: token expired")

    async def test_not_yet_valid_token_is_refused(self):
        await self.assertTokenRefused(keys.hs256(nbf=int(time.time()) + 60))

    async def test_nbf_a_few_seconds_ahead_is_accepted(self):
        await self.login_token(keys.hs256(nbf=int(time.time()) + 2))

    async def test_token_without_exp_is_refused(self):
        token = keys.jwt.encode({"sub": "alice"}, keys.SECRET, algorithm="HS256")
        await self.assertTokenRefused(token)

    async def test_token_signed_with_another_secret_is_refused(self):
        await self.assertTokenRefused(keys.hs256(secret=keys.OTHER_SECRET))

    async def test_alg_none_is_refused(self):
        await self.assertTokenRefused(keys.hand_made({"alg": "none", "typ": "JWT"}, keys.claims(), None))

    async def test_another_hmac_algorithm_with_the_right_secret_is_refused(self):
        token = keys.jwt.encode(keys.claims(), keys.SECRET, algorithm="HS384")
        await self.assertTokenRefused(token)

    async def test_rs256_and_es256_tokens_are_refused_under_an_hmac_secret(self):
        await self.assertTokenRefused(keys.rs256())
        await self.assertTokenRefused(keys.es256())

    async def test_token_with_an_audience_is_refused_when_none_is_configured(self):
        await self.assertTokenRefused(keys.hs256(aud="billing"))

    async def test_garbage_tokens_are_refused_and_the_server_stays_up(self):
        good = keys.hs256()
        garbage = ["", "alice", "a.b.c", "...", good + ".", good[:-5], good.replace(".", "..", 1),
                   "eyJhbGciOiJIUzI1NiJ9." * 3, "\u00e9" * 100, "x" * 5000, good[::-1],
                   "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.!!!!"]
        for token in garbage:
            await self.assertTokenRefused(token)
        await self.login_token(good)

    async def test_binary_first_message_is_refused(self):
        ws = await self.connect()
        await ws.send(keys.hs256().encode())
        self.assertTrue((await self.recv(ws)).startswith("error: "))
        await self.assertClosedWith(ws, POLICY_VIOLATION)

    async def test_bad_subjects_are_refused(self):
        await self.assertTokenRefused(keys.hs256(sub="a:b"))
        await self.assertTokenRefused(keys.hs256(sub=""))
        await self.assertTokenRefused(keys.hs256(sub="u" * 257))
        await self.assertTokenRefused(keys.jwt.encode({"exp": int(time.time()) + 60}, keys.SECRET, algorithm="HS256"))


class Impersonation(TokenCase):
    server_options = HS_OPTIONS

    async def test_a_bare_uid_cannot_log_in(self):
        await self.assertTokenRefused("alice")

    async def test_nobody_without_alices_token_reads_alices_messages(self):
        alice = await self.login_token(keys.hs256("alice"))
        # Every way in as alice without the secret: a bare uid, a forged signature, alg none,
        # HMAC'd with a guessable key, bob's token with its payload swapped.
        bob_token = keys.hs256("bob")
        swapped = bob_token.split(".")
        swapped[1] = keys.b64(b'{"sub":"alice","exp":9999999999}')
        attempts = ["alice", keys.hs256("alice", secret=keys.OTHER_SECRET),
                    keys.hand_made({"alg": "none"}, keys.claims("alice"), None),
                    keys.hand_made({"alg": "HS256"}, keys.claims("alice"), b""), ".".join(swapped)]
        for token in attempts:
            await self.assertTokenRefused(token)
        bob = await self.login_token(bob_token, uid="bob")
        await bob.send("alice:for alice only")
        self.assertEqual(await self.recv(alice), "for alice only")
        await self.assertReceivesNothing(bob)


class Expiry(TokenCase):
    server_options = HS_OPTIONS

    async def test_connection_is_closed_1008_within_a_second_of_its_exp(self):
        now = int(time.time())
        exp = now + 2
        token = keys.jwt.encode({"sub": "alice", "exp": exp}, keys.SECRET, algorithm="HS256")
        alice = await self.login_url(token)
        other = await self.login_token(keys.hs256("bob", ttl=600), uid="bob")
        await asyncio.wait_for(alice.wait_closed(), 5.0 * SLOW)
        closed_at = time.time()
        self.assertEqual(alice.close_code, POLICY_VIOLATION)
        self.assertEqual(alice.close_reason, "token expired")
        self.assertGreaterEqual(closed_at, exp)
        self.assertLess(closed_at, exp + 1.0 * SLOW)
        await self.assertStillOpen(other, "bob")  # only the expired one

    async def test_many_connections_expire_each_at_its_own_second(self):
        now = int(time.time())
        conns = []
        for i, ttl in enumerate([1, 2, 3, 2, 1]):
            token = keys.jwt.encode({"sub": f"u{i}", "exp": now + 1 + ttl}, keys.SECRET, algorithm="HS256")
            conns.append((now + 1 + ttl, await self.login_url(token, uid=f"u{i}")))
        for exp, ws in sorted(conns, key=lambda x: x[0]):
            await asyncio.wait_for(ws.wait_closed(), 6.0 * SLOW)
            self.assertLess(time.time(), exp + 1.0 * SLOW)
            self.assertEqual(ws.close_reason, "token expired")


class AudienceAndIssuer(TokenCase):
    server_options = dict(HS_OPTIONS, **{"--jwt-audience": "wspush", "--jwt-issuer": "https://shop.example"})

    async def test_token_with_audience_and_issuer_logs_in(self):
        await self.login_token(keys.hs256(aud="wspush", iss="https://shop.example"))
        await self.login_token(keys.hs256(aud=["billing", "wspush"], iss="https://shop.example"))

    async def test_wrong_or_missing_audience_is_refused(self):
        await self.assertTokenRefused(keys.hs256(aud="billing", iss="https://shop.example"))
        await self.assertTokenRefused(keys.hs256(iss="https://shop.example"))

    async def test_wrong_or_missing_issuer_is_refused(self):
        await self.assertTokenRefused(keys.hs256(aud="wspush", iss="https://evil.example"))
        await self.assertTokenRefused(keys.hs256(aud="wspush"))


class Rs256Login(TokenCase):
    server_options = {"--auth": "jwt", "--jwt-public-key": keys.RSA_PUBLIC_FILE}

    async def test_rs256_token_logs_in(self):
        await self.login_token(keys.rs256())
        await self.login_url(keys.rs256("bob"), uid="bob")

    async def test_hs256_macd_with_the_public_key_pem_is_refused(self):
        await self.assertTokenRefused(keys.hand_made({"alg": "HS256", "typ": "JWT"}, keys.claims(), keys.RSA_PUBLIC_PEM))

    async def test_es256_and_hs256_tokens_are_refused(self):
        await self.assertTokenRefused(keys.es256())
        await self.assertTokenRefused(keys.hs256())


class Es256Login(TokenCase):
    server_options = {"--auth": "jwt", "--jwt-public-key": keys.EC_PUBLIC_FILE}

    async def test_es256_token_logs_in(self):
        await self.login_token(keys.es256())
        await self.login_url(keys.es256("bob"), uid="bob")

    async def test_hs256_macd_with_the_public_key_pem_is_refused(self):
        await self.assertTokenRefused(keys.hand_made({"alg": "HS256"}, keys.claims(), keys.EC_PUBLIC_PEM))

    async def test_rs256_token_is_refused(self):
        await self.assertTokenRefused(keys.rs256())


class AuthCounters(TokenCase):
    server_options = dict(HS_OPTIONS, **{"--api-listen": "127.0.0.1:0"})

    def metrics(self):
        m = re.search(rb"listening on 127\.0\.0\.1:(\d+) \(api", self.server.log())
        with urllib.request.urlopen(f"http://127.0.0.1:{int(m.group(1))}/metrics", timeout=self.PROMPT) as r:
            return r.read().decode()

    async def test_refused_tokens_are_counted_by_reason(self):
        await self.assertTokenRefused(keys.hs256(secret=keys.OTHER_SECRET))
        await self.assertTokenRefused(keys.hs256(ttl=-5), "error: token expired")
        await self.assertTokenRefused("garbage")
        await self.assertUrlRefused(keys.hs256(secret=keys.OTHER_SECRET))
        text = self.metrics()
        self.assertIn('wspush_auth_failures_total{reason="bad_signature"} 2', text)
        self.assertIn('wspush_auth_failures_total{reason="expired"} 1', text)
        self.assertIn('wspush_auth_failures_total{reason="malformed"} 1', text)
        self.assertIn("wspush_login_failures_total 4", text)


class StartupChecks(unittest.TestCase):
    """Bad auth configuration is an error at start (exit 2), never a server that lets anyone in."""

    def run_server(self, *args):
        return subprocess.run([BINARY, "--host", "127.0.0.1", "--port", "0", "--api-listen", "off", *args],
                              capture_output=True, timeout=10 * SLOW, text=True)

    def assertExit2(self, needle, *args):
        r = self.run_server(*args)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn(needle, r.stderr)

    def test_jwt_without_a_key(self):
        self.assertExit2("needs a key", "--auth", "jwt")

    def test_missing_key_file(self):
        self.assertExit2("does not exist", "--auth", "jwt", "--jwt-secret-file", "/nonexistent/secret")

    def test_bad_pem(self):
        self.assertExit2("no PEM public key", "--auth", "jwt", "--jwt-public-key", keys.SECRET_FILE)

    def test_short_secret(self):
        path = os.path.join(keys.DIR, "short")
        with open(path, "w") as f:
            f.write("too short\n")
        self.assertExit2("at least 32", "--auth", "jwt", "--jwt-secret-file", path)

    def test_both_keys(self):
        self.assertExit2("not both", "--auth", "jwt", "--jwt-secret-file", keys.SECRET_FILE,
                         "--jwt-public-key", keys.EC_PUBLIC_FILE)

    def test_jwt_options_without_auth_jwt(self):
        self.assertExit2("need --auth jwt", "--jwt-secret-file", keys.SECRET_FILE)

    def test_auth_none_on_a_public_address_warns_at_start(self):
        server = WspushServer({"--host": "0.0.0.0"})
        server.start()
        try:
            self.assertIn(b"anyone who can reach this port can log in as any uid", server.log())
        finally:
            server.stop()

    def test_auth_none_on_loopback_does_not_warn(self):
        server = WspushServer()
        server.start()
        try:
            self.assertNotIn(b"anyone who can reach", server.log())
        finally:
            server.stop()


class TokenCommand(unittest.TestCase):
    def test_prints_an_hs256_token_pyjwt_accepts(self):
        r = subprocess.run([BINARY, "token", "--uid", "alice", "--ttl", "120", "--jwt-secret-file", keys.SECRET_FILE,
                            "--send", "uid"], capture_output=True, timeout=10 * SLOW, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        claims = keys.jwt.decode(r.stdout.strip(), keys.SECRET, algorithms=["HS256"])
        self.assertEqual(claims["sub"], "alice")
        self.assertEqual(claims["send"], "uid")
        self.assertAlmostEqual(claims["exp"] - time.time(), 120, delta=5)

    def test_refuses_a_uid_with_a_colon(self):
        r = subprocess.run([BINARY, "token", "--uid", "a:b", "--jwt-secret-file", keys.SECRET_FILE],
                           capture_output=True, timeout=10 * SLOW, text=True)
        self.assertEqual(r.returncode, 2)


class AuthNoneIgnoresUrlTokens(WspushTestCase):
    async def test_seed_login_is_unchanged_and_a_token_parameter_means_nothing(self):
        ws = await websockets.connect(f"{self.server.url}?token=whatever", ping_interval=None,
                                      open_timeout=self.PROMPT, **self.tls_kwargs())
        self.addAsyncCleanup(self._close_quietly, ws)
        await ws.send("alice")
        self.assertEqual(await self.recv(ws), "login success, your uid is alice")
