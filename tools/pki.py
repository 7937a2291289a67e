"""A throwaway certificate authority for the tests' servers (the sandbox API server, the registries).

kubectl only sends bearer tokens over TLS and verifies the server against the kubeconfig's CA, and the
probe verifies registries, so tests need a CA, a server certificate for 127.0.0.1/localhost, and client
certificates (CN = user, O = groups). The certificates carry the key identifiers that strict verifiers
(Go, Python 3.13's VERIFY_X509_STRICT) insist on.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
from typing import Sequence, Tuple

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _write(path: str, data: bytes) -> str:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    return path


class CertificateAuthority:
    """A P-256 CA kept in memory; issues server and client certificates as PEM files in `directory`."""

    def __init__(self, directory: str, common_name: str = "sandbox-ca") -> None:
        self.directory = directory
        self._key = ec.generate_private_key(ec.SECP256R1())
        self._name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
        now = datetime.datetime.now(datetime.timezone.utc)
        self._cert = (
            x509.CertificateBuilder()
            .subject_name(self._name)
            .issuer_name(self._name)
            .public_key(self._key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=2))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(self._key.public_key()), critical=False)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .sign(self._key, hashes.SHA256())
        )
        self.ca_file = _write(os.path.join(directory, "ca.crt"), self._cert.public_bytes(serialization.Encoding.PEM))

    def _issue(self, subject: x509.Name, server: bool) -> Tuple[bytes, bytes]:
        key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.datetime.now(datetime.timezone.utc)
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(self._name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(self._key.public_key()), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        )
        if server:
            builder = builder.add_extension(
                x509.SubjectAlternativeName(
                    [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
                ),
                critical=False,
            ).add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        else:
            builder = builder.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        cert = builder.sign(self._key, hashes.SHA256())
        return cert.public_bytes(serialization.Encoding.PEM), _key_pem(key)

    def server_pair(self, common_name: str = "sandbox-apiserver") -> Tuple[str, str]:
        """Write the server certificate (SAN IP:127.0.0.1, DNS:localhost) and key; return their paths."""
        cert, key = self._issue(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]), True)
        return (
            _write(os.path.join(self.directory, "server.crt"), cert),
            _write(os.path.join(self.directory, "server.key"), key),
        )

    def client_pair(self, user: str, groups: Sequence[str], directory: str) -> Tuple[str, str]:
        """Write a client certificate whose CN is the user and whose O entries are its groups."""
        attrs = [x509.NameAttribute(NameOID.COMMON_NAME, user)]
        attrs += [x509.NameAttribute(NameOID.ORGANIZATION_NAME, g) for g in groups]
        cert, key = self._issue(x509.Name(attrs), False)
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in user)
        return (
            _write(os.path.join(directory, f"{safe}.crt"), cert),
            _write(os.path.join(directory, f"{safe}.key"), key),
        )
