"""Test PKI: a CA, a loopback server certificate and the token server's signing key.

Made with `cryptography` so the tests need no openssl CLI; the CA and server certificate come from
tools/pki.py, shared with the sandbox API server.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import os
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tools.pki import CertificateAuthority


@dataclass(frozen=True)
class RegistryPKI:
    """Paths of the PEM files in one directory, and the signing key for tokens."""

    ca_file: str
    server_cert: str
    server_key: str
    signing_cert: str  # rootcertbundle of the token-auth registry
    signing_key: ec.EllipticCurvePrivateKey
    signing_kid: str  # libtrust key id of the signing key


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def libtrust_kid(public_key: ec.EllipticCurvePublicKey) -> str:
    """The key id Distribution looks a token's `kid` up by: SHA-256 of the DER SPKI, 30 bytes, base32."""
    der = public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    b32 = base64.b32encode(hashlib.sha256(der).digest()[:30]).decode().rstrip("=")
    return ":".join(b32[i : i + 4] for i in range(0, 48, 4))


def make_pki(directory: str) -> RegistryPKI:
    """Write a CA, a server cert for 127.0.0.1/localhost and a self-signed token signing cert."""
    os.makedirs(directory, exist_ok=True)
    now = datetime.datetime.now(datetime.timezone.utc)
    ca = CertificateAuthority(directory, "imgaccess test CA")
    server_cert, server_key = ca.server_pair("localhost")

    signing_key = ec.generate_private_key(ec.SECP256R1())
    signing_cert = (
        x509.CertificateBuilder()
        .subject_name(_name("imgaccess token signer"))
        .issuer_name(_name("imgaccess token signer"))
        .public_key(signing_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .sign(signing_key, hashes.SHA256())
    )
    pki = RegistryPKI(
        ca_file=ca.ca_file,
        server_cert=server_cert,
        server_key=server_key,
        signing_cert=os.path.join(directory, "token-signer.pem"),
        signing_key=signing_key,
        signing_kid=libtrust_kid(signing_key.public_key()),
    )
    with open(pki.signing_cert, "wb") as fh:
        fh.write(signing_cert.public_bytes(serialization.Encoding.PEM))
    return pki
