"""Keys and tokens for the --auth jwt tests, minted with PyJWT (Debian's python3-jwt), the
library a Python backend would use. Files live in one temp directory for the whole run."""
import atexit
import base64
import hashlib
import hmac
import json
import os
import shutil
import tempfile
import time

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

DIR = tempfile.mkdtemp(prefix="wspush-auth-")
atexit.register(shutil.rmtree, DIR, True)

SECRET = os.urandom(32).hex()          # what `openssl rand -hex 32` gives
OTHER_SECRET = os.urandom(32).hex()


def _write(name, data):
    path = os.path.join(DIR, name)
    with open(path, "wb") as f:
        f.write(data)
    return path


SECRET_FILE = _write("secret", (SECRET + "\n").encode())  # with the newline openssl writes

RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
EC_KEY = ec.generate_private_key(ec.SECP256R1())


def _public_pem(key):
    return key.public_key().public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo)


RSA_PUBLIC_PEM = _public_pem(RSA_KEY)
EC_PUBLIC_PEM = _public_pem(EC_KEY)
RSA_PUBLIC_FILE = _write("rsa.pub.pem", RSA_PUBLIC_PEM)
EC_PUBLIC_FILE = _write("ec.pub.pem", EC_PUBLIC_PEM)


def claims(sub="alice", ttl=60, **extra):
    now = int(time.time())
    c = {"sub": sub, "iat": now, "exp": now + ttl}
    c.update(extra)
    return {k: v for k, v in c.items() if v is not None}


def hs256(sub="alice", ttl=60, secret=SECRET, **extra):
    return jwt.encode(claims(sub, ttl, **extra), secret, algorithm="HS256")


def rs256(sub="alice", ttl=60, **extra):
    return jwt.encode(claims(sub, ttl, **extra), RSA_KEY, algorithm="RS256")


def es256(sub="alice", ttl=60, **extra):
    return jwt.encode(claims(sub, ttl, **extra), EC_KEY, algorithm="ES256")


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def hand_made(header, payload, key):
    """A token PyJWT refuses to make (alg none, HMAC with a public key's PEM as secret)."""
    signing_input = b64(json.dumps(header).encode()) + "." + b64(json.dumps(payload).encode())
    if key is None:
        return signing_input + "."
    sig = hmac.new(key, signing_input.encode(), hashlib.sha256).digest()
    return signing_input + "." + b64(sig)
