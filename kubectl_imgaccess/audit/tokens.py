"""Short-lived registry tokens in pull Secrets (IA021): which entries hold one, and how long it lives.

ECR's `aws ecr get-login-password` gives user `AWS` and a token valid 12 hours; Google's
`gcloud auth print-access-token` gives user `oauth2accesstoken` and an OAuth access token valid 1 hour (for
gcr.io and Artifact Registry); ACR's `az acr login --expose-token` gives the all-zero user and a token valid
3 hours. Long-lived forms (`_json_key`, service principals, ACR token users) are not matched.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Optional, Tuple

from kubectl_imgaccess.kubelet.keyring import key_matches, normalize_key
from kubectl_imgaccess.objects import Credential


@dataclass(frozen=True)
class TokenKind:
    registry: str  # for messages
    hosts: Tuple[str, ...]  # kubelet-style keys (globs per host label)
    username: str
    life: timedelta
    what: str
    refresh: str

    @property
    def life_text(self) -> str:
        return f"{self.life.total_seconds() / 3600:.0f} h"


TOKENS: Tuple[TokenKind, ...] = (
    TokenKind("ECR", ("*.dkr.ecr.*.amazonaws.com", "*.dkr.ecr.*.amazonaws.com.cn"), "AWS", timedelta(hours=12),
              "an ECR authorization token", "aws ecr get-login-password, or External Secrets' ECRAuthorizationToken"),
    TokenKind("GCR/Artifact Registry", ("gcr.io", "*.gcr.io", "*-docker.pkg.dev"), "oauth2accesstoken",
              timedelta(hours=1), "a Google OAuth access token",
              "gcloud auth print-access-token, or External Secrets' GCRAccessToken"),
    TokenKind("ACR", ("*.azurecr.io",), "00000000-0000-0000-0000-000000000000", timedelta(hours=3),
              "an ACR access token", "az acr login --expose-token, or External Secrets' ACRAccessToken"),
)


def short_lived_token(cred: Credential) -> Optional[TokenKind]:
    """The kind of short-lived token this entry holds, or None."""
    if not cred.password or cred.provided_by:
        return None
    key = normalize_key(cred.key)
    if key is None:
        return None
    host = key.split("/", 1)[0]
    for kind in TOKENS:
        if cred.username == kind.username and any(key_matches(h, host + "/x") for h in kind.hosts):
            return kind
    return None


__all__ = ["TOKENS", "TokenKind", "short_lived_token"]
