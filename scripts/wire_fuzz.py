"""A live wire fuzzer for the real `tenantgate serve` binary (issue 23). Loopback only, bounded in time.

    python3 scripts/wire_fuzz.py --bin .build/release/tenantgate --seconds 60 [--connections 32] [--seed N]
        [--rss-bound-mib 400] [--policies policies] [--keep]

It builds a throwaway PKI (openssl), starts a mock upstream that plays Entra's token endpoint over TLS and a plain
HTTP origin, both of which misbehave on purpose (close mid-answer, garbage, two answers, stalls, bytes nobody asked
for on a kept-alive connection, oversized and gzip bodies), starts `tenantgate serve` against them, and sends from
many concurrent connections:
- mutated request heads, bodies and chunked framing, pipelined requests and sequences of requests on one connection,
  plain (`http://`) and inside intercepted TLS sessions (CONNECT, TLS, then mutated HTTP), to Entra's token endpoint
  and to a resource host judged per request (`--resource-host`: bearer tokens in headers, queries and form bodies,
  two of them, opaque ones, none);
- mutated CONNECT heads and maker tokens, raw garbage;
- aborts mid-head and mid-body, half-closes and resets.
A well-formed token exchange (which the mock always answers well) runs every second alongside.

It fails (exit 1) when the process dies, when a well-formed exchange fails twice in a row or any of those after the
fuzzing fails, or when the proxy's resident set grows past --rss-bound-mib. It prints counts and RSS, and closes
with a line 'wire-fuzz: N passed, N failed' (the checks). Every loop is bounded by --seconds.
"""
import argparse
import asyncio
import base64
import gzip
import hashlib
import json
import logging
import multiprocessing
import os
import random
import shutil
import signal
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
import time

ENTRA = "login.microsoftonline.com"
# Well-formed exchanges go to another Entra host, backed by an upstream that never misbehaves: a kept-alive upstream
# connection that sends bytes after its answer cannot be told from an answer to the next request by any proxy, so
# the fuzzed host's pool is not where an ordinary exchange is measured.
HEALTH_HOST = "login.windows.net"
# A resource host: every request on it is judged by the bearer tokens it carries.
GRAPH = "graph.microsoft.com"
# The well-formed exchanges come from another loopback address than the fuzzing clients: one client address may hold
# at most --max-connections-per-client connections, and the fuzzers, at thousands of connections a second, fill
# theirs (stalled upstreams hold exchanges open). The check is that they cannot starve anybody else.
HEALTH_SOURCE = "127.0.0.2"
CONTOSO = "bb1b10fb-a1ff-4ca4-b979-03fcf4af49a0"
FABRIKAM = "0da59725-89fe-4a2f-bf22-fd4536c9baac"
NORTHWIND = "8ac90d1b-d459-4375-a421-dd0005f9d0d1"
ADATUM = "4760d329-4de4-4d52-bfed-ecc7ef0af950"
TENANTS = [CONTOSO, FABRIKAM, NORTHWIND, ADATUM]
MAKER_AUDIENCE = "https://service.powerapps.com/"
CLIENT_ID = "e002ab83-2360-4092-bd0b-5a4c52f2f15a"


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class PKI:
    """A CA for the mock upstream's certificate and an RSA key that signs JWTs, made with the openssl command."""

    def __init__(self, folder):
        self.folder = folder
        self.ca = os.path.join(folder, "upstream-ca.pem")
        self.cert = os.path.join(folder, "upstream.pem")
        self.key = os.path.join(folder, "upstream.key")
        self.jwt_key = os.path.join(folder, "jwt.key")
        self.jwks = os.path.join(folder, "jwks.json")
        run = lambda *args: subprocess.run(args, check=True, capture_output=True)
        ca_key = os.path.join(folder, "upstream-ca.key")
        run("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", ca_key, "-out", self.ca, "-days", "2", "-subj", "/CN=wire-fuzz upstream CA")
        csr = os.path.join(folder, "upstream.csr")
        run("openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", self.key, "-out", csr, "-subj", f"/CN={ENTRA}")
        ext = os.path.join(folder, "ext.cnf")
        with open(ext, "w") as f:
            f.write(f"subjectAltName=DNS:{ENTRA},DNS:{HEALTH_HOST},DNS:{GRAPH},DNS:*.microsoftonline.com,DNS:localhost\n")
        run("openssl", "x509", "-req", "-in", csr, "-CA", self.ca, "-CAkey", ca_key, "-CAcreateserial",
            "-out", self.cert, "-days", "2", "-extfile", ext)
        run("openssl", "genrsa", "-out", self.jwt_key, "2048")
        der = run("openssl", "pkey", "-in", self.jwt_key, "-pubout", "-outform", "DER").stdout
        self.kid = b64url(hashlib.sha1(der).digest())
        modulus = run("openssl", "rsa", "-in", self.jwt_key, "-noout", "-modulus").stdout.decode()
        n = bytes.fromhex(modulus.strip().split("=", 1)[1])
        with open(self.jwks, "w") as f:
            json.dump({"keys": [{"kty": "RSA", "use": "sig", "alg": "RS256", "kid": self.kid, "n": b64url(n),
                                 "e": "AQAB"}]}, f)

    def jwt(self, claims):
        header = b64url(json.dumps({"typ": "JWT", "alg": "RS256", "kid": self.kid}).encode())
        payload = b64url(json.dumps(claims).encode())
        signing_input = f"{header}.{payload}".encode()
        signature = subprocess.run(["openssl", "dgst", "-sha256", "-sign", self.jwt_key, "-binary"],
                                   input=signing_input, check=True, capture_output=True).stdout
        return f"{header}.{payload}.{b64url(signature)}"

    def maker_token(self, tenant):
        now = int(time.time())
        return self.jwt({"aud": MAKER_AUDIENCE, "iss": f"https://{ENTRA}/{tenant}/v2.0", "iat": now, "nbf": now,
                         "exp": now + 86400, "tid": tenant, "oid": "11111111-2222-3333-4444-555555555555",
                         "sub": "maker", "ver": "2.0", "azp": CLIENT_ID, "scp": "user_impersonation"})

    def access_token(self, tenant):
        now = int(time.time())
        return self.jwt({"aud": "https://graph.microsoft.com", "iss": f"https://sts.windows.net/{tenant}/",
                         "iat": now, "nbf": now, "exp": now + 86400, "tid": tenant, "appid": CLIENT_ID,
                         "idtyp": "app", "ver": "1.0"})


# ---------------------------------------------------------------------------------------------------------------
# The mock upstream: Entra's token endpoint over TLS, and a plain origin. Each request draws a behaviour; the
# upstream behind HEALTH_HOST always answers well.

BEHAVIOURS = ["normal"] * 20 + ["gzip", "chunked", "close_mid_answer", "garbage", "twice", "stall",
                                "unsolicited_later", "huge", "continue_then_answer", "close_delimited",
                                "bad_status", "slow_trickle", "reset", "switch"]


async def read_request(reader, limit=1 << 20):
    """One request from the proxy: (head bytes, body bytes) or None at EOF. Bounded."""
    head = await reader.readuntil(b"\r\n\r\n")
    if len(head) > 128 * 1024:
        raise ValueError("head too large")
    lines = head.split(b"\r\n")
    headers = {}
    for line in lines[1:]:
        if b":" in line:
            name, value = line.split(b":", 1)
            headers[name.strip().lower()] = value.strip()
    body = b""
    if headers.get(b"transfer-encoding", b"").lower() == b"chunked":
        while True:
            size_line = await reader.readuntil(b"\r\n")
            size = int(size_line.split(b";")[0].strip() or b"0", 16)
            if size == 0:
                await reader.readuntil(b"\r\n")
                break
            if len(body) + size > limit:
                raise ValueError("body too large")
            body += await reader.readexactly(size)
            await reader.readexactly(2)
    elif b"content-length" in headers:
        length = int(headers[b"content-length"])
        if length > limit:
            raise ValueError("body too large")
        body = await reader.readexactly(length)
    return head, body


class MockUpstream:
    def __init__(self, pki, rng, misbehaves=True):
        self.pki = pki
        self.rng = rng
        self.misbehaves = misbehaves
        self.tokens = {tenant: json.dumps({"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599,
                                           "access_token": pki.access_token(tenant)}).encode()
                       for tenant in TENANTS}
        self.requests = 0
        self.connections = set()

    def token_body(self, head):
        target = head.split(b" ", 2)[1] if head.count(b" ") >= 2 else b"/"
        for tenant in TENANTS:
            if tenant.encode() in target:
                return self.tokens[tenant]
        return self.tokens[FABRIKAM]

    async def serve(self, reader, writer):
        task = asyncio.current_task()
        self.connections.add(task)
        try:
            while True:
                try:
                    request = await asyncio.wait_for(read_request(reader), 70)
                except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError, ConnectionError,
                        asyncio.TimeoutError, ssl.SSLError, OSError):
                    return
                self.requests += 1
                head, body = request
                behaviour = self.rng.choice(BEHAVIOURS) if self.misbehaves else "normal"
                try:
                    keep = await self.answer(behaviour, head, writer)
                except (ConnectionError, ssl.SSLError, OSError):
                    return
                if not keep:
                    return
        finally:
            self.connections.discard(task)
            try:
                writer.close()
            except Exception:
                pass

    async def answer(self, behaviour, head, writer):
        """Writes one answer as `behaviour` says; False when the connection is to close."""
        body = self.token_body(head)
        ok = b"HTTP/1.1 200 OK\r\ncontent-type: application/json; charset=utf-8\r\ncache-control: no-store\r\n"
        if behaviour == "normal":
            writer.write(ok + b"content-length: %d\r\n\r\n" % len(body) + body)
        elif behaviour == "gzip":
            packed = gzip.compress(body)
            writer.write(ok + b"content-encoding: gzip\r\ncontent-length: %d\r\n\r\n" % len(packed) + packed)
        elif behaviour == "chunked":
            pieces = [body[i:i + 37] for i in range(0, len(body), 37)]
            writer.write(ok + b"transfer-encoding: chunked\r\n\r\n"
                         + b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in pieces) + b"0\r\n\r\n")
        elif behaviour == "close_mid_answer":
            writer.write(ok + b"content-length: %d\r\n\r\n" % len(body) + body[: len(body) // 2])
            await writer.drain()
            return False
        elif behaviour == "garbage":
            writer.write(os.urandom(self.rng.randint(1, 600)))
            await writer.drain()
            return False
        elif behaviour == "twice":
            one = ok + b"content-length: %d\r\n\r\n" % len(body) + body
            writer.write(one + one)
        elif behaviour == "stall":
            await asyncio.sleep(self.rng.choice([0.5, 2, 35]))
            writer.write(ok + b"content-length: %d\r\n\r\n" % len(body) + body)
        elif behaviour == "unsolicited_later":
            writer.write(ok + b"content-length: %d\r\n\r\n" % len(body) + body)
            await writer.drain()
            await asyncio.sleep(self.rng.choice([0.01, 0.05, 0.2]))
            writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 12\r\n\r\nnot-asked-fo")
        elif behaviour == "huge":
            size = self.rng.choice([1 << 20, (1 << 20) + 1, 3 << 20])
            writer.write(ok + b"content-length: %d\r\n\r\n" % size)
            chunk = b"x" * 65536
            sent = 0
            while sent < size:
                writer.write(chunk[: min(65536, size - sent)])
                sent += 65536
                await writer.drain()
        elif behaviour == "continue_then_answer":
            writer.write(b"HTTP/1.1 100 Continue\r\n\r\n" + ok + b"content-length: %d\r\n\r\n" % len(body) + body)
        elif behaviour == "close_delimited":
            writer.write(ok + b"connection: close\r\n\r\n" + body)
            await writer.drain()
            return False
        elif behaviour == "bad_status":
            writer.write(b"HTTP/1.1 2x0 Huh\r\ncontent-length: 2\r\n\r\nok")
        elif behaviour == "slow_trickle":
            whole = ok + b"content-length: %d\r\n\r\n" % len(body) + body
            for i in range(0, min(len(whole), 40)):
                writer.write(whole[i:i + 1])
                await writer.drain()
                await asyncio.sleep(0.02)
            writer.write(whole[40:])
        elif behaviour == "switch":
            # A 101 whether asked or not, then bytes that are no HTTP: spliced for a WebSocket, refused otherwise.
            writer.write(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"
                         + os.urandom(self.rng.randint(0, 300)))
            await writer.drain()
            await asyncio.sleep(self.rng.choice([0, 0.05]))
            return False
        elif behaviour == "reset":
            sock = writer.get_extra_info("socket")
            if sock is not None:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            writer.transport.abort()
            return False
        await writer.drain()
        return True


# ---------------------------------------------------------------------------------------------------------------
# Inputs and their mutations.

def token_request(tenant, extra_form=b"", connection=None, host=ENTRA):
    form = (b"grant_type=client_credentials&client_id=" + CLIENT_ID.encode()
            + b"&client_secret=wire-fuzz-secret&scope=https%3A%2F%2Fgraph.microsoft.com%2F.default" + extra_form)
    head = (b"POST /" + tenant.encode() + b"/oauth2/v2.0/token HTTP/1.1\r\nHost: " + host.encode()
            + b"\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\n" % len(form))
    if connection:
        head += b"Connection: " + connection + b"\r\n"
    return head + b"\r\n" + form


SPICE = [b"\r\n", b"\n", b"\r", b"\x00", b":", b" ", b"\t", b"0\r\n\r\n", b"Transfer-Encoding: chunked\r\n",
         b"Content-Length: 5\r\n", b"Content-Length: -1\r\n", b"Content-Length: 99999999999999999999\r\n",
         b"Content-Length: 18446744073709551615\r\n", b"Transfer-Encoding: gzip, chunked\r\n", b"Expect: 100-continue\r\n", b"Connection: close\r\n",
         b"Connection: keep-alive\r\n", b"Upgrade: websocket\r\nConnection: Upgrade\r\n", b"Host: evil.example\r\n",
         b"ffffffff\r\n", b"1;ext=\"x\"\r\nA\r\n", b"GET / HTTP/1.1\r\n\r\n", b"CONNECT a:443 HTTP/1.1\r\n\r\n",
         b"HTTP/1.1", b"HTTP/0.9", b"HTTP/2.0", b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", b"%00", b"%2e%2e/",
         b"Content-Encoding: gzip\r\n", b"\x16\x03\x01\x00\x05", b"\xff" * 8, b"x" * 9000,
         b"Proxy-Authorization: Bearer a.b.c\r\n", b"Content-Type: application/json\r\n", b"\r\n\r\n"]


def mutate(rng, data, spice=SPICE):
    data = bytearray(data)
    for _ in range(rng.randint(1, 6)):
        op = rng.randrange(9)
        at = rng.randint(0, len(data))
        if op == 0 and data:
            data[min(at, len(data) - 1)] = rng.randrange(256)
        elif op == 1:
            data[at:at] = rng.choice(spice)
        elif op == 2 and data:
            end = min(len(data), at + rng.randint(1, 64))
            del data[at:end]
        elif op == 3 and data:
            end = min(len(data), at + rng.randint(1, 128))
            data[at:at] = data[at:end] * rng.randint(1, 4)
        elif op == 4:
            data = data[:at]
        elif op == 5 and data:
            i = min(at, len(data) - 1)
            data[i] ^= 1 << rng.randrange(8)
        elif op == 6:
            data[at:at] = os.urandom(rng.randint(1, 32))
        elif op == 7:
            # swap a line ending style
            data = bytearray(bytes(data).replace(b"\r\n", rng.choice([b"\n", b"\r\r\n", b"\r\n "]), 1))
        else:
            data[at:at] = str(rng.choice([0, -1, 2**31, 2**63, 2**64 + 1])).encode()
    return bytes(data)


def chunked_token_request(rng, tenant):
    form = (b"grant_type=client_credentials&client_id=" + CLIENT_ID.encode() + b"&client_secret=s")
    pieces = []
    i = 0
    while i < len(form):
        n = rng.randint(1, 30)
        pieces.append(b"%x\r\n%s\r\n" % (len(form[i:i + n]), form[i:i + n]))
        i += n
    return (b"POST /" + tenant.encode() + b"/oauth2/v2.0/token HTTP/1.1\r\nHost: " + ENTRA.encode()
            + b"\r\nContent-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\n"
            + b"".join(pieces) + b"0\r\n\r\n")


def unsigned_access_token(tenant):
    """A Graph access token as a client holds it; the proxy reads its claims and never its signature."""
    header = b64url(json.dumps({"alg": "RS256", "typ": "JWT"}).encode())
    payload = b64url(json.dumps({"aud": f"https://{GRAPH}", "iss": f"https://sts.windows.net/{tenant}/",
                                 "tid": tenant, "appid": CLIENT_ID, "exp": int(time.time()) + 86400}).encode())
    return f"{header}.{payload}.c2ln"


def resource_request(rng):
    """A request on the resource host: every way a credential can be carried, or spelt, or not be there."""
    token = unsigned_access_token(rng.choice(TENANTS)).encode()
    other = unsigned_access_token(rng.choice(TENANTS)).encode()
    path = rng.choice([b"/v1.0/me", b"/v1.0/users?$top=5", b"/beta/sites/root", b"/"])
    headers = [b"Host: " + GRAPH.encode()]
    body = b""
    kind = rng.randrange(13)
    if kind <= 2:
        headers.append(b"Authorization: Bearer " + token)
    elif kind == 3:
        headers += [b"Authorization: Bearer " + token, b"Authorization: Bearer " + other]
    elif kind == 4:
        headers.append(b"Authorization: Bearer " + token + b", Bearer " + other)
    elif kind == 5:
        path += (b"&" if b"?" in path else b"?") + rng.choice([b"access_token=", b"ACCESS%5Ftoken="]) + token
    elif kind == 6:
        body = b"a=1&access_token=" + token
        headers.append(b"Content-Type: application/x-www-form-urlencoded")
    elif kind == 7:
        headers.append(rng.choice([b"Authorization: Basic dXNlcjpwYXNz", b"Authorization: Bearer EwBwA8l6-opaque"]))
    elif kind >= 9:
        # The streamed data path: a chunked body, an upload awaiting 100 Continue, a WebSocket or h2c upgrade.
        headers.append(b"Authorization: Bearer " + token)
        if kind == 9:
            pieces = [rng.randbytes(rng.randint(1, 3000)) for _ in range(rng.randint(1, 4))]
            chunked = b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in pieces) + b"0\r\n\r\n"
            base = (b"PUT /v1.0/me/drive/root:/f:/content HTTP/1.1\r\n" + b"\r\n".join(headers)
                    + b"\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked)
        elif kind == 10:
            upload = rng.randbytes(rng.choice([0, 10, 5000, 70000]))
            base = (b"PUT /v1.0/me/drive/root:/f:/content HTTP/1.1\r\n" + b"\r\n".join(headers)
                    + b"\r\nExpect: 100-continue\r\nContent-Length: %d\r\n\r\n" % len(upload) + upload)
        else:
            upgrade = (b"Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ=="
                       if kind == 11 else b"Upgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAoAAAAAIAAAAA")
            base = (b"GET /v1.0/subscriptions/socket HTTP/1.1\r\n" + b"\r\n".join(headers)
                    + b"\r\nConnection: Upgrade\r\n" + upgrade + b"\r\n\r\n" + rng.randbytes(rng.randint(0, 200)))
        return base if rng.random() < 0.4 else mutate(rng, base)
    method = b"POST" if body else rng.choice([b"GET", b"GET", b"DELETE"])
    if body:
        headers.append(b"Content-Length: %d" % len(body))
    base = method + b" " + path + b" HTTP/1.1\r\n" + b"\r\n".join(headers) + b"\r\n\r\n" + body
    return base if rng.random() < 0.4 else mutate(rng, base)


def inner_request(rng, host=ENTRA):
    """An HTTP request inside an intercepted session: well formed, mutated, chunked or something else."""
    if host == GRAPH:
        return resource_request(rng)
    tenant = rng.choice(TENANTS + ["organizations", "common", "fabrikam.onmicrosoft.com", "%2e%2e", ""])
    kind = rng.randrange(10)
    if kind == 0:
        base = chunked_token_request(rng, tenant)
    elif kind == 1:
        base = (b"GET /" + tenant.encode() + b"/v2.0/.well-known/openid-configuration HTTP/1.1\r\nHost: "
                + ENTRA.encode() + b"\r\n\r\n")
    elif kind == 2:
        # Large bodies are rare: building and encrypting them costs this process far more than the proxy.
        size = rng.choice([10, 4000, 4000, 70000]) if rng.random() < 0.97 else 1100000
        base = token_request(tenant, extra_form=b"&x=" + b"y" * size)
        if size > 4000:
            return base
    else:
        base = token_request(tenant, connection=rng.choice([None, b"close", b"keep-alive"]))
    return base if rng.random() < 0.35 else mutate(rng, base)


# ---------------------------------------------------------------------------------------------------------------
# The fuzzing clients.

class Counts:
    def __init__(self):
        self.connections = 0
        self.requests = 0
        self.statuses = {}
        self.client_errors = 0
        self.health_ok = 0
        self.health_failed = 0
        self.health_failures = []

    def status(self, line):
        parts = line.split(b" ", 2)
        key = parts[1].decode(errors="replace") if len(parts) > 1 else "?"
        self.statuses[key] = self.statuses.get(key, 0) + 1


async def drain_answers(reader, counts, quiet, seconds=3):
    """Reads what comes back until the proxy closes or is quiet for `quiet` seconds, counting status lines; never
    more than `seconds` or 4 MiB."""
    end = time.monotonic() + seconds
    got = b""
    while time.monotonic() < end and len(got) < 4 << 20:
        try:
            part = await asyncio.wait_for(reader.read(65536), max(0.001, min(quiet, end - time.monotonic())))
        except (asyncio.TimeoutError, ConnectionError, ssl.SSLError, OSError):
            break
        if not part:
            break
        got += part
    for line in got.split(b"\r\n"):
        if line.startswith(b"HTTP/1."):
            counts.status(line)


def finish(rng, writer):
    """Ends a connection the way a misbehaving client would: close, half-close, or reset."""
    how = rng.randrange(4)
    try:
        if how == 0:
            sock = writer.get_extra_info("socket")
            if sock is not None:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            writer.transport.abort()
        elif how == 1 and writer.can_write_eof():
            writer.write_eof()
            writer.close()
        else:
            writer.close()
    except Exception:
        pass


_UNVERIFIED = []


def unverified_client_context():
    """One client TLS context per process: making one loads the system's CA store, about 20 ms, which per session
    was most of what a fuzzing process spent."""
    if not _UNVERIFIED:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        _UNVERIFIED.append(context)
    return _UNVERIFIED[0]


def connect_head(rng, tokens, mutated, host=ENTRA):
    token = rng.choice(tokens + [None, None])
    head = f"CONNECT {host}:443 HTTP/1.1\r\nHost: {host}:443\r\n".encode()
    if token:
        if rng.random() < 0.1:
            token = token[:-rng.randint(1, 30)]
        head += b"Proxy-Authorization: Bearer " + token.encode() + b"\r\n"
    head += b"\r\n"
    return mutate(rng, head) if mutated else head


async def intercepted_session(rng, proxy, tokens, counts):
    reader, writer = await asyncio.open_connection(*proxy, local_addr=(rng.source, 0))
    counts.connections += 1
    host = GRAPH if rng.random() < 0.3 else ENTRA
    try:
        writer.write(connect_head(rng, tokens, mutated=rng.random() < 0.1, host=host))
        await writer.drain()
        line = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
        counts.status(line)
        if b" 200 " not in line.split(b"\r\n", 1)[0]:
            return
        await asyncio.wait_for(writer.start_tls(unverified_client_context(),
                                                server_hostname=rng.choice([host, host, None])), 10)
        for _ in range(rng.randint(1, 12)):
            requests = [inner_request(rng, host) for _ in range(rng.choice([1, 1, 2, 4, 8, 16]))]
            payload = b"".join(requests)
            counts.requests += len(requests)
            if rng.random() < 0.1:
                # abort mid-message
                writer.write(payload[: rng.randint(0, len(payload))])
                await writer.drain()
                return finish(rng, writer)
            if rng.random() < 0.03:
                for i in range(0, len(payload), 7):
                    writer.write(payload[i:i + 7])
                    await writer.drain()
            else:
                writer.write(payload)
                await writer.drain()
            await drain_answers(reader, counts, rng.choice([0.01, 0.03, 0.1]))
    finally:
        finish(rng, writer)


async def plain_session(rng, proxy, origin, tokens, counts):
    reader, writer = await asyncio.open_connection(*proxy, local_addr=(rng.source, 0))
    counts.connections += 1
    try:
        for _ in range(rng.randint(1, 4)):
            base = (f"GET http://127.0.0.1:{origin}/{rng.choice(TENANTS)}/x?q"
                    f" HTTP/1.1\r\nHost: 127.0.0.1:{origin}\r\n\r\n").encode()
            if rng.random() < 0.3:
                body = b"a=" + b"b" * rng.choice([1, 100, 70000])
                base = base.replace(b"GET ", b"POST ").replace(b"\r\n\r\n", b"\r\nContent-Length: %d\r\n\r\n"
                                                                % len(body)) + body
            request = base if rng.random() < 0.3 else mutate(rng, base)
            counts.requests += 1
            writer.write(request)
            await writer.drain()
            await drain_answers(reader, counts, rng.choice([0.01, 0.03, 0.1]))
    finally:
        finish(rng, writer)


async def garbage_session(rng, proxy, tokens, counts):
    reader, writer = await asyncio.open_connection(*proxy, local_addr=(rng.source, 0))
    counts.connections += 1
    try:
        kind = rng.randrange(4)
        if kind == 0:
            data = os.urandom(rng.randint(1, 2000))
        elif kind == 1:
            data = mutate(rng, connect_head(rng, tokens, mutated=False)) + os.urandom(rng.randint(0, 300))
        elif kind == 2:
            # CONNECT accepted, then a broken ClientHello (or none at all)
            data = connect_head(rng, tokens, mutated=False)
            data += mutate(rng, b"\x16\x03\x01\x00\xc8\x01\x00\x00\xc4\x03\x03" + os.urandom(40))
        else:
            data = b"".join(mutate(rng, token_request(rng.choice(TENANTS))) for _ in range(rng.randint(1, 5)))
        counts.requests += 1
        writer.write(data)
        await writer.drain()
        await drain_answers(reader, counts, rng.choice([0.005, 0.05]))
    finally:
        finish(rng, writer)


async def fuzz_worker(seed, proxy, origin, tokens, counts, end):
    rng = random.Random(seed)
    # Each worker connects from a loopback address of its own, as a fleet of clients would: one address may hold
    # at most --max-connections-per-client connections (stalled upstreams keep exchanges open for 35 s), and a
    # cap reached would answer most connections 503 at accept instead of fuzzing the parsers behind it.
    rng.source = f"127.0.{1 + seed % 200}.{1 + seed // 200 % 250}"
    while time.monotonic() < end:
        pick = rng.random()
        try:
            if pick < 0.55:
                await asyncio.wait_for(intercepted_session(rng, proxy, tokens, counts), 45)
            elif pick < 0.8:
                await asyncio.wait_for(plain_session(rng, proxy, origin, tokens, counts), 45)
            else:
                await asyncio.wait_for(garbage_session(rng, proxy, tokens, counts), 45)
        except (ConnectionError, asyncio.TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError,
                ssl.SSLError, OSError, ValueError):
            counts.client_errors += 1


def first_line(head):
    return head.split(b"\r\n", 1)[0]


def well_formed_exchange(proxy, token, timeout=15):
    """One exchange the way a connector makes it; returns None when it worked, or what went wrong."""
    try:
        with socket.create_connection(proxy, timeout=timeout, source_address=(HEALTH_SOURCE, 0)) as raw:
            raw.sendall(f"CONNECT {HEALTH_HOST}:443 HTTP/1.1\r\nHost: {HEALTH_HOST}:443\r\nProxy-Authorization: Bearer "
                        f"{token}\r\n\r\n".encode())
            head = b""
            while b"\r\n\r\n" not in head and len(head) < 65536:
                part = raw.recv(4096)
                if not part:
                    return f"CONNECT closed: {head[:80]!r}"
                head += part
            if b" 200 " not in head.split(b"\r\n", 1)[0]:
                return f"CONNECT answered {first_line(head)!r}"
            context = ssl.create_default_context()
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
            with context.wrap_socket(raw, server_hostname=HEALTH_HOST) as tls:
                tls.sendall(token_request(FABRIKAM, host=HEALTH_HOST))
                answer = b""
                while b"\r\n\r\n" not in answer:
                    part = tls.recv(65536)
                    if not part:
                        return f"no answer: {answer[:80]!r}"
                    answer += part
                head, _, body = answer.partition(b"\r\n\r\n")
                if b" 200 " not in head.split(b"\r\n", 1)[0]:
                    return f"exchange answered {first_line(head)!r}"
                length = next((int(l.split(b":", 1)[1]) for l in head.split(b"\r\n")
                               if l.lower().startswith(b"content-length:")), None)
                while length is not None and len(body) < length:
                    part = tls.recv(65536)
                    if not part:
                        break
                    body += part
                tid = json.loads(body).get("access_token", "").split(".")[1]
                claims = json.loads(base64.urlsafe_b64decode(tid + "=" * (-len(tid) % 4)))
                if claims.get("tid") != FABRIKAM:
                    return f"wrong token: tid {claims.get('tid')}"
        return None
    except Exception as error:  # noqa: BLE001 - every failure is a finding
        return f"{type(error).__name__}: {error}"


def rss_mib(pid):
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


async def health_loop(proxy, token, counts, process, end, rss_samples):
    consecutive = 0
    loop = asyncio.get_running_loop()
    while time.monotonic() < end and process.poll() is None:
        problem = await loop.run_in_executor(None, well_formed_exchange, proxy, token)
        rss = rss_mib(process.pid)
        if rss is not None:
            rss_samples.append(rss)
        if problem is None:
            counts.health_ok += 1
            consecutive = 0
        else:
            counts.health_failed += 1
            consecutive += 1
            counts.health_failures.append(problem)
            if consecutive >= 2:
                return f"two well-formed exchanges in a row failed: {counts.health_failures[-2:]}"
        await asyncio.sleep(1)
    return None


async def run_clients(seed, proxy, origin_port, tokens, connections, end):
    counts = Counts()
    workers = [fuzz_worker(seed * 1000 + i, proxy, origin_port, tokens, counts, end) for i in range(connections)]
    await asyncio.gather(*workers, return_exceptions=True)
    return counts


def client_process(seed, proxy, origin_port, tokens, connections, seconds, results):
    """One process of fuzzing clients (one Python process alone cannot keep the proxy busy)."""
    # asyncio warns on every write to a transport the proxy already closed: expected here, by the thousand.
    logging.getLogger("asyncio").setLevel(logging.ERROR)
    end = time.monotonic() + seconds
    counts = asyncio.run(run_clients(seed, proxy, origin_port, tokens, connections, end))
    results.put({"connections": counts.connections, "requests": counts.requests, "statuses": counts.statuses,
                 "client_errors": counts.client_errors})


async def fuzz(args, pki, process, proxy, origin_port, counts):
    """Fuzzes from --processes processes until --seconds pass or the process dies; then five well-formed
    exchanges. Returns (problem during the run, problems after it, RSS samples)."""
    tokens = [pki.maker_token(t) for t in (CONTOSO, CONTOSO, FABRIKAM)]
    end = time.monotonic() + args.seconds
    rss_samples = []
    spawn = multiprocessing.get_context("spawn")
    results = spawn.Queue()
    clients = [spawn.Process(target=client_process, daemon=True,
                             args=(args.seed * 100 + n, proxy, origin_port, tokens, args.connections // args.processes,
                                   args.seconds, results))
               for n in range(args.processes)]
    for client in clients:
        client.start()
    health = asyncio.create_task(health_loop(proxy, tokens[0], counts, process, end, rss_samples))
    died = None
    while time.monotonic() < end and not health.done():
        if process.poll() is not None:
            died = f"tenantgate exited with {process.returncode} while being fuzzed"
            break
        await asyncio.sleep(0.2)
    health.cancel()
    outcome = (await asyncio.gather(health, return_exceptions=True))[0]
    problem = died or (outcome if isinstance(outcome, str) else None)
    loop = asyncio.get_running_loop()
    for client in clients:
        report = await loop.run_in_executor(None, lambda: results.get(timeout=60) if client.is_alive() or
                                            not results.empty() else None)
        if report:
            counts.connections += report["connections"]
            counts.requests += report["requests"]
            counts.client_errors += report["client_errors"]
            for status, number in report["statuses"].items():
                counts.statuses[status] = counts.statuses.get(status, 0) + number
    for client in clients:
        client.join(5)
        if client.is_alive():
            client.kill()
    after = []
    for _ in range(5):
        after.append(await loop.run_in_executor(None, well_formed_exchange, proxy, tokens[0])
                     if process.poll() is None else "process is gone")
    return problem, after, rss_samples


def start_serve(args, folder, pki, sts_port, health_port):
    stdout = open(os.path.join(folder, "stdout.log"), "w")
    stderr = open(os.path.join(folder, "stderr.log"), "w")
    command = [args.bin, "serve", "--listen", "127.0.0.1:0", "--policies", args.policies,
               "--ca-cert", os.path.join(folder, "ca.pem"), "--ca-key", os.path.join(folder, "ca.key"),
               "--upstream-ca", pki.ca, "--upstream-override", f"{ENTRA}:443=127.0.0.1:{sts_port}",
               "--upstream-override", f"{HEALTH_HOST}:443=127.0.0.1:{health_port}",
               "--resource-host", GRAPH, "--upstream-override", f"{GRAPH}:443=127.0.0.1:{sts_port}",
               "--audit-log", os.path.join(folder, "audit.jsonl"), "--creator-jwks", pki.jwks,
               "--creator-audience", MAKER_AUDIENCE, "--allow-destination", "127.0.0.1/32",
               "--default-creator-tenant", CONTOSO]
    process = subprocess.Popen(command, stdout=stdout, stderr=stderr, stdin=subprocess.DEVNULL,
                               start_new_session=True)
    for _ in range(600):
        with open(os.path.join(folder, "stdout.log")) as f:
            for line in f:
                if line.startswith("listening on "):
                    host, port = line.split()[-1].rsplit(":", 1)
                    return process, (host, int(port))
        if process.poll() is not None:
            break
        time.sleep(0.1)
    process.kill()
    return process, None


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bin", required=True)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--connections", type=int, default=32, help="concurrent connections, over all processes")
    parser.add_argument("--processes", type=int, default=2, help="client processes")
    parser.add_argument("--seed", type=int, default=int(time.time()))
    parser.add_argument("--rss-bound-mib", type=float, default=400)
    parser.add_argument("--policies", default=os.path.join(os.path.dirname(__file__), "..", "policies"))
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (logs, audit) even on success")
    args = parser.parse_args()

    folder = tempfile.mkdtemp(prefix="tenantgate-wire-fuzz.")
    os.chmod(folder, 0o700)
    pki = PKI(folder)
    rng = random.Random(args.seed)
    upstream = MockUpstream(pki, rng)
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(pki.cert, pki.key)
    healthy = MockUpstream(pki, rng, misbehaves=False)
    listen = lambda upstream, tls: loop.run_until_complete(asyncio.start_server(upstream.serve, "127.0.0.1", 0, ssl=tls))
    sts, health, origin = listen(upstream, server_tls), listen(healthy, server_tls), listen(upstream, None)
    port_of = lambda server: server.sockets[0].getsockname()[1]
    process, proxy = start_serve(args, folder, pki, port_of(sts), port_of(health))
    if proxy is None:
        print(f"wire-fuzz: tenantgate did not start; see {folder}", file=sys.stderr)
        sys.exit(2)

    def stop_serve(number, _frame):
        """A fuzzer stopped from outside (a timeout, ^C) takes its proxy with it: serve runs in a session of its own."""
        if process.poll() is None:
            process.kill()
        sys.exit(128 + number)
    signal.signal(signal.SIGTERM, stop_serve)
    signal.signal(signal.SIGINT, stop_serve)

    started = time.monotonic()
    counts = Counts()
    rss_start = rss_mib(process.pid)
    print(f"wire-fuzz: tenantgate pid {process.pid} on {proxy[0]}:{proxy[1]}, seed {args.seed}, "
          f"{args.connections} connections, {args.seconds:.0f} s", flush=True)
    problem, after, rss_samples = loop.run_until_complete(fuzz(args, pki, process, proxy, port_of(origin), counts))
    rss_end = rss_mib(process.pid)
    peak = max(rss_samples + [rss_end or 0, rss_start or 0])
    checks = {
        "process alive": process.poll() is None,
        "well-formed exchanges during the run": problem is None,
        "well-formed exchanges after the run": all(a is None for a in after),
        f"RSS below {args.rss_bound_mib:.0f} MiB": peak < args.rss_bound_mib,
    }
    elapsed = time.monotonic() - started
    print(json.dumps({
        "seconds": round(elapsed, 1), "seed": args.seed, "connections_opened": counts.connections,
        "mutated_requests_sent": counts.requests, "requests_per_second": round(counts.requests / elapsed),
        "answers_by_status": dict(sorted(counts.statuses.items())), "client_side_errors": counts.client_errors,
        "upstream_requests": upstream.requests,
        "well_formed_exchanges": {"ok": counts.health_ok, "failed": counts.health_failed,
                                  "failures": counts.health_failures[:5], "after_run": after},
        "rss_mib": {"start": rss_start, "peak": round(peak, 1), "end": rss_end,
                    "by_quarter_of_the_run": [round(rss_samples[min(len(rss_samples) - 1, len(rss_samples) * q // 4)], 1)
                                              for q in (1, 2, 3, 4)] if rss_samples else []},
        "problem": problem,
    }, indent=1))
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
    else:
        with open(os.path.join(folder, "stderr.log")) as f:
            print("".join(f.readlines()[-60:]), file=sys.stderr)
    failed = [name for name, ok in checks.items() if not ok]
    for name, ok in checks.items():
        print(f"  {'ok  ' if ok else 'FAIL'} {name}")
    if failed or args.keep:
        print(f"wire-fuzz: logs and audit kept in {folder}")
    else:
        shutil.rmtree(folder, ignore_errors=True)
    print(f"wire-fuzz: {len(checks) - len(failed)} passed, {len(failed)} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
