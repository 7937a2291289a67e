"""Registry knowledge and ignore rules: built-in defaults, then the user's config file (user entries first)."""

from __future__ import annotations

import datetime
import fnmatch
import functools
import os
from dataclasses import dataclass
from typing import Any, List, Mapping, Optional, Sequence, Tuple

from kubectl_imgaccess.audit.snapshot import ProvidedSecret
from kubectl_imgaccess.catalog import find_rule
from kubectl_imgaccess.errors import InputError
from kubectl_imgaccess.kubelet.keyring import key_matches
from kubectl_imgaccess.objects import Location, ObjectKey

AUTH_VALUES = ("required", "anonymous", "unknown", "node")  # node: the nodes' own credentials serve it
CLOUDS = ("aws", "gcp", "azure")
CLOUD_CHOICES = (*CLOUDS, "none")  # --cloud
# node.spec.providerID prefix -> the cloud whose credential provider the kubelet runs there
PROVIDER_ID_PREFIXES = {"aws://": "aws", "gce://": "gcp", "azure://": "azure"}
# the kubelet credential provider each cloud's nodes run for its registry
CREDENTIAL_PROVIDERS = {
    "aws": "ecr-credential-provider (EKS)",
    "gcp": "the GCP credential provider, auth-provider-gcp (GKE)",
    "azure": "acr-credential-provider (AKS)",
}


@dataclass(frozen=True)
class RegistryRule:
    match: str  # kubelet-style key: host[:port][/path prefix], globs per host label
    auth: str = "unknown"
    terms: bool = False
    cloud: Optional[str] = None  # a cloud's registry: served by the nodes' credential provider on that cloud

    def auth_on(self, cloud: Optional[str]) -> str:
        """The registry's auth on a cluster running on `cloud` (None: not known; "none": no cloud)."""
        if self.cloud is None:
            return self.auth
        if cloud == self.cloud:
            return "node"
        return "unknown" if cloud is None else "required"

    def node_provider(self, cloud: Optional[str]) -> str:
        """Who supplies the nodes' credentials, for messages."""
        if self.cloud is not None and cloud == self.cloud:
            return f"the kubelet's credential provider {CREDENTIAL_PROVIDERS[self.cloud]}"
        return f"the nodes' own credentials (config: auth: node for {self.match})"


@dataclass(frozen=True)
class IgnoreRule:
    rule: str  # a rule id (names are resolved to ids on load)
    namespace: str = "*"
    domain: str = "*"
    reason: Optional[str] = None  # why it is ignored, shown with every finding it suppresses
    expires: Optional[datetime.datetime] = None  # UTC; from then on it suppresses nothing (and says so)
    where: str = "config"  # "FILE:LINE ignore[i]": what a suppressed finding names as its suppressor

    def applies(self, rule_id: str, namespace: str, domain: str) -> bool:
        return (
            self.rule == rule_id
            and fnmatch.fnmatchcase(namespace, self.namespace)
            and fnmatch.fnmatchcase(domain, self.domain)
        )

    def expired(self, now: datetime.datetime) -> bool:
        return self.expires is not None and now >= self.expires


ANNOTATION_POLICIES = ("allow", "deny")  # suppressions.annotations: may a Domain exempt itself?


BUILTIN_REGISTRIES: Tuple[RegistryRule, ...] = (
    RegistryRule("container-registry.oracle.com", auth="required", terms=True),
    RegistryRule("ghcr.io/oracle/weblogic-monitoring-exporter", auth="anonymous"),
    RegistryRule("docker.io/fluent/fluentd-kubernetes-daemonset", auth="anonymous"),
    RegistryRule("docker.io/fluent/fluent-bit", auth="anonymous"),
    # Cloud registries: the kubelet's credential provider serves them on that cloud's nodes, with no Secret.
    RegistryRule("*.dkr.ecr.*.amazonaws.com", auth="required", cloud="aws"),
    RegistryRule("*.dkr.ecr.*.amazonaws.com.cn", auth="required", cloud="aws"),
    RegistryRule("*-docker.pkg.dev", auth="required", cloud="gcp"),
    RegistryRule("gcr.io", auth="required", cloud="gcp"),
    RegistryRule("*.gcr.io", auth="required", cloud="gcp"),
    RegistryRule("*.azurecr.io", auth="required", cloud="azure"),
)


@dataclass(frozen=True)
class Config:
    registries: Tuple[RegistryRule, ...] = BUILTIN_REGISTRIES
    ignore: Tuple[IgnoreRule, ...] = ()
    source: Optional[str] = None  # the file it came from
    provided: Tuple[ProvidedSecret, ...] = ()  # Secrets made out of band, content unreadable here
    annotations: str = "allow"  # suppressions.annotations: "deny" = Domains cannot suppress their own findings

    def registry_for(self, repository: str) -> RegistryRule:
        """The first entry whose key matches the normalized repository; unknown when none does."""
        return _registry_for(self.registries, repository)

    def ignore_entries(self, rule_id: str, namespace: str, domain: str) -> List[IgnoreRule]:
        """The entries that name this rule for this Domain, in file order (expired ones included)."""
        return [i for i in self.ignore if i.applies(rule_id, namespace, domain)]


@functools.lru_cache(maxsize=4096)
def _registry_for(registries: Tuple[RegistryRule, ...], repository: str) -> RegistryRule:
    for entry in registries:
        if key_matches(entry.match, repository):
            return entry
    return RegistryRule(match="", auth="unknown")


DEFAULT = Config()


def default_config_path(environ: Mapping[str, str]) -> Optional[str]:
    base = environ.get("XDG_CONFIG_HOME") or os.path.join(environ.get("HOME", "~"), ".config")
    path = os.path.join(os.path.expanduser(base), "kubectl-imgaccess", "config.yaml")
    return path if os.path.isfile(path) else None


def config_from(path: str, data: Mapping[str, Any], locs: Mapping[str, Location]) -> Config:
    """The config in a parsed file (manifests.load_config reads it); `locs` maps a field path to where it
    is, so every error names file:line."""

    def fail(message: str, at: str) -> InputError:
        loc = locs.get(at) or locs.get("")
        return InputError(message, path, loc.line if loc else None)

    registries = []
    for i, reg in enumerate(_list_at(data, "registries", fail)):
        at = f"registries[{i}]"
        if not isinstance(reg, dict) or not isinstance(reg.get("match"), str) or not reg["match"]:
            raise fail("each registries entry needs a 'match' string", at)
        auth = reg.get("auth", "unknown")
        if auth not in AUTH_VALUES:
            raise fail(f"auth must be one of {', '.join(AUTH_VALUES)}, not {auth!r}", f"{at}.auth")
        terms = reg.get("terms", False)
        if not isinstance(terms, bool):
            raise fail("terms must be true or false", f"{at}.terms")
        registries.append(RegistryRule(reg["match"], auth, terms))
    ignores = []
    for i, ign in enumerate(_list_at(data, "ignore", fail)):
        at = f"ignore[{i}]"
        if not isinstance(ign, dict) or not isinstance(ign.get("rule"), str):
            raise fail("each ignore entry needs a 'rule' (id or name)", at)
        rule = find_rule(ign["rule"])
        if rule is None:
            raise fail(f"unknown rule {ign['rule']!r}", f"{at}.rule")
        reason = ign.get("reason")
        if reason is not None and not isinstance(reason, str):
            raise fail("reason must be a string", f"{at}.reason")
        _only_keys(ign, ("rule", "namespace", "domain", "reason", "expires"), fail, at)
        loc = locs.get(at)
        where = f"{path}:{loc.line} {at}" if loc else f"{path} {at}"
        ignores.append(IgnoreRule(rule.id, _glob(ign, "namespace", fail, at), _glob(ign, "domain", fail, at),
                                  reason or None, _expiry(ign.get("expires"), fail, f"{at}.expires"), where))
    provided = []
    for i, entry in enumerate(_list_at(data, "provided", fail)):
        at = f"provided[{i}]"
        if not isinstance(entry, dict):
            raise fail("each provided entry is a mapping: namespace, name, type, registries", at)
        for key in ("namespace", "name"):
            if not isinstance(entry.get(key), str) or not entry[key]:
                raise fail(f"each provided entry needs a {key!r} string", at)
        type_ = entry.get("type", "kubernetes.io/dockerconfigjson")
        if not isinstance(type_, str):
            raise fail("type must be a string", f"{at}.type")
        regs = entry.get("registries", [])
        if not isinstance(regs, list) or not all(isinstance(r, str) and r for r in regs):
            raise fail("registries must be a list of registry keys (host[:port][/path])", f"{at}.registries")
        _only_keys(entry, ("namespace", "name", "type", "registries"), fail, at)
        loc = locs.get(at)
        provided.append(ProvidedSecret(entry["namespace"], entry["name"], type_, tuple(regs),
                                       ObjectKey("config", "", at), loc))
    annotations = "allow"
    raw_sup = data.get("suppressions", {})
    if not isinstance(raw_sup, dict):
        raise fail("suppressions must be a mapping (annotations: allow|deny)", "suppressions")
    for key in raw_sup:
        if key != "annotations":
            raise fail(f"unknown key {key!r} under suppressions (expected annotations)", f"suppressions.{key}")
    if "annotations" in raw_sup:
        annotations = raw_sup["annotations"]
        if annotations not in ANNOTATION_POLICIES:
            raise fail(f"suppressions.annotations must be allow or deny, not {annotations!r}",
                       "suppressions.annotations")
    _only_keys(data, ("registries", "ignore", "provided", "suppressions"), fail, "")
    return Config(tuple(registries) + BUILTIN_REGISTRIES, tuple(ignores), path, tuple(provided), annotations)


def _list_at(data: Mapping[str, Any], key: str, fail: Any) -> List[Any]:
    """A top-level list of the file (absent: empty)."""
    value = data.get(key, [])
    if not isinstance(value, list):
        raise fail(f"{key} must be a list", key)
    return value


def _only_keys(entry: Mapping[str, Any], known: Sequence[str], fail: Any, at: str) -> None:
    """The first key (in sorted order) that is not one of `known` is an error at its own place."""
    extra = sorted(set(entry) - set(known))
    if extra:
        raise fail(f"unknown key {extra[0]!r} (expected {', '.join(known)})", f"{at}.{extra[0]}" if at else extra[0])


def _expiry(value: Any, fail: Any, at: str) -> Optional[datetime.datetime]:
    """`expires`: a date (YYYY-MM-DD, the end of that day is not included: it expires at its start, UTC) or
    an RFC 3339 time. YAML reads unquoted dates itself."""
    if value is None:
        return None
    if isinstance(value, datetime.datetime):
        moment = value
    elif isinstance(value, datetime.date):
        moment = datetime.datetime(value.year, value.month, value.day)
    elif isinstance(value, str):
        text = value.strip()
        try:
            moment = datetime.datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)
        except ValueError:
            raise fail(f"expires must be a date (2026-12-31) or an RFC 3339 time, not {value!r}", at) from None
    else:
        raise fail("expires must be a date (2026-12-31) or an RFC 3339 time", at)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.timezone.utc)
    return moment.astimezone(datetime.timezone.utc)


def _glob(entry: Mapping[str, Any], key: str, fail: Any, at: str) -> str:
    value = entry.get(key, "*")
    if not isinstance(value, str):
        raise fail(f"{key} must be a string glob", f"{at}.{key}")
    return value


