"""The rule catalog, as data: `rules`, `explain`, docs/rules.md and SARIF's rule metadata all come from here."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, Literal, Optional, Tuple

from kubectl_imgaccess import __version__

Severity = Literal["info", "warning", "error"]
SEVERITIES: Tuple[Severity, ...] = ("info", "warning", "error")  # ascending
FailOn = Literal["error", "warning", "info", "never"]  # --fail-on: the lowest severity that fails the gate
FAIL_ON: Tuple[FailOn, ...] = ("error", "warning", "info", "never")
DEFAULT_FAIL_ON: FailOn = "error"  # --fail-on's default, and the gate of fix (which has no --fail-on)

# Where the rule documentation is published: docs/ of the release this version was built from, so that a
# SARIF `helpUri` keeps pointing at the text that matches the rules which produced the result.
PROJECT_URL = "https://github.com/kubectl-imgaccess/kubectl-imgaccess"
DOCS_URL = f"{PROJECT_URL}/blob/v{__version__}/docs"


def _example_domain(namespace: str = "apps", name: str = "d1") -> str:
    """The head of the examples' Domain, up to `spec:`; each example writes its own spec."""
    return (
        "apiVersion: weblogic.oracle/v9\n"
        "kind: Domain\n"
        "metadata:\n"
        f"  name: {name}\n"
        f"  namespace: {namespace}\n"
        "spec:\n"
    )


def _example_pull_secret(namespace: str) -> str:
    """The examples' pull Secret ocr-cred: a made-up credential for container-registry.oracle.com, as the YAML
    document that follows an example's Domain."""
    return (
        "---\n"
        "apiVersion: v1\n"
        "kind: Secret\n"
        "metadata:\n"
        "  name: ocr-cred\n"
        f"  namespace: {namespace}\n"
        "type: kubernetes.io/dockerconfigjson\n"
        "stringData:\n"
        "  .dockerconfigjson: '{\"auths\": {\"container-registry.oracle.com\": "
        "{\"auth\": \"cm9ib3Q6ZXhhbXBsZS10b2tlbi0x\"}}}'\n"
    )


def severity_rank(severity: Severity) -> int:
    return SEVERITIES.index(severity)


@dataclass(frozen=True)
class Rule:
    id: str
    name: str
    severity: Severity  # the default; some rules raise or lower it as `adjust` says
    summary: str  # one line, for `rules`
    why: str  # what happens in the cluster, for `explain`
    fix: str  # how to fix it, for `explain` and SARIF help
    adjust: str = ""  # when the severity differs from the default
    needs: str = "manifests"  # "manifests" | "cluster" | "probe": what it takes to decide
    example: str = ""  # a minimal case that fires the rule (YAML, or a short transcript), for docs/rules.md
    fix_tool: str = ""  # what `kubectl imgaccess fix` does about it ("" = nothing: fix it by hand)

    @property
    def anchor(self) -> str:
        """The rule's section in docs/rules.md."""
        return self.id.lower()

    @property
    def help_uri(self) -> str:
        return f"{DOCS_URL}/rules.md#{self.anchor}"


RULES: Tuple[Rule, ...] = (
    Rule(
        "IA001", "secret-not-found", "error",
        "A pull Secret on a pod's effective list does not exist in the Domain's namespace.",
        "The kubelet skips a missing pull Secret with a FailedToRetrieveImagePullSecret warning and pulls with "
        "whatever else is listed, often anonymously. Pull Secrets are namespace-local: one in another "
        "namespace does not count.",
        "Create the Secret in the Domain's namespace (kubectl create secret docker-registry NAME -n NS ...), "
        "or correct the name in spec.imagePullSecrets / the ServiceAccount.",
        adjust="warning when another credential on the same pod path matches every image of those pods",
        example=(
            _example_domain() +
            '  image: container-registry.oracle.com/middleware/weblogic:14.1.2.0\n'
            '  imagePullSecrets:\n'
            '    - name: ocr-credentials   # no Secret of that name in apps\n'
        ),
        fix_tool=(
            "With `--secret NAME` and a credential source (`--docker-server/--docker-username/--password-stdin`, "
            "`--from-docker-config FILE` or `--copy-from NS/NAME`) `fix` creates the missing Secret under the "
            "name the Domain already lists."
        ),
    ),
    Rule(
        "IA002", "secret-wrong-type", "error",
        "A pull Secret exists but the kubelet ignores it (wrong type/key pair or empty value).",
        "The kubelet only reads type kubernetes.io/dockerconfigjson with key .dockerconfigjson, or "
        "kubernetes.io/dockercfg with key .dockercfg, and skips anything else silently: an Opaque Secret "
        "holding a .dockerconfigjson is never used.",
        "Recreate it with `kubectl create secret docker-registry` (type kubernetes.io/dockerconfigjson, key "
        ".dockerconfigjson).",
        adjust="warning when another credential on the same pod path matches every image of those pods",
        example=(
            _example_domain() +
            '  image: container-registry.oracle.com/middleware/weblogic:14.1.2.0\n'
            '  imagePullSecrets:\n'
            '    - name: ocr-opaque\n'
            '---\n'
            'apiVersion: v1\n'
            'kind: Secret\n'
            'metadata:\n'
            '  name: ocr-opaque\n'
            '  namespace: apps\n'
            'type: Opaque          # ignored by the kubelet\n'
            'data:\n'
            '  .dockerconfigjson: eyJhdXRocyI6e319\n'
        ),
        fix_tool=(
            "`fix` writes a correctly typed sibling Secret NAME-dockerconfigjson from the payload (never changing"
            " or deleting the original) and references it where the original is referenced."
        ),
    ),
    Rule(
        "IA003", "secret-malformed", "error",
        "The kubelet cannot parse a pull Secret on the pod's list: every pull of that pod fails.",
        "One unparseable pull Secret (not a JSON object, wrong field types, `auth` not base64 or without ':') "
        "fails the credential lookup for the whole pod, public images included. The API server only checks "
        "that the value is a JSON object, so such Secrets can be stored.",
        "Recreate the Secret with `kubectl create secret docker-registry`, or fix its JSON. A payload that "
        "parses but holds no usable entry (legacy layout under .dockerconfigjson, identity tokens only) is a "
        "warning: it contributes nothing.",
        adjust="warning when the payload parses but holds no usable entry",
        example=(
            _example_domain() +
            '  image: container-registry.oracle.com/middleware/weblogic:14.1.2.0\n'
            '  imagePullSecrets:\n'
            '    - name: ocr-broken\n'
            '---\n'
            'apiVersion: v1\n'
            'kind: Secret\n'
            'metadata:\n'
            '  name: ocr-broken\n'
            '  namespace: apps\n'
            'type: kubernetes.io/dockerconfigjson\n'
            'stringData:\n'
            '  .dockerconfigjson: \'{"auths": {"container-registry.oracle.com": {"auth": "not*base64"}}}\'\n'
        ),
    ),
    Rule(
        "IA004", "no-credential-for-registry", "error",
        "No credential on the pod's pull path matches the image: the pull is anonymous.",
        "The kubelet matches each credential's registry key against the image (exact port, per-label globs, "
        "path prefix, Docker Hub fallback). With no match it pulls anonymously, which fails on registries "
        "that need authentication. Node-level credentials cannot be seen through the API and are not counted.",
        "Add a pull Secret whose registry key matches the image's registry (host[:port][/path]) to the "
        "Domain's spec.imagePullSecrets or, when the Domain lists none, to the pods' ServiceAccount.",
        adjust="error for a registry known to need authentication, or when another finding shows a credential "
               "was meant for it (IA001, IA002, IA003, IA006, IA007, IA008: its causes); else warning",
        example=(
            _example_domain() +
            '  image: container-registry.oracle.com/middleware/weblogic:14.1.2.0\n'
            '  imagePullSecrets:\n'
            '    - name: dockerhub      # holds a credential for docker.io only\n'
        ),
        fix_tool=(
            "`fix` references an existing Secret of the namespace that matches the image; with `--secret NAME` "
            "and a credential source it creates one first. Where it is referenced follows `--strategy`."
        ),
    ),
    Rule(
        "IA005", "serviceaccount-not-found", "error",
        "The pod's ServiceAccount does not exist: the API server rejects the pod.",
        "Pod admission looks up the ServiceAccount and refuses the pod when it is missing, so the operator "
        "cannot create the server or introspector pod at all.",
        "Create the ServiceAccount in the Domain's namespace or correct serviceAccountName.",
        example=(
            _example_domain() +
            '  image: container-registry.oracle.com/middleware/weblogic:14.1.2.0\n'
            '  serverPod:\n'
            '    serviceAccountName: weblogic-sa   # no such ServiceAccount in apps\n'
        ),
        fix_tool='`fix` creates the ServiceAccount (empty, then referenced credentials are added as for IA004).',
    ),
    Rule(
        "IA006", "serviceaccount-secrets-ignored", "warning",
        "The Domain lists spec.imagePullSecrets, so its ServiceAccount's imagePullSecrets never apply.",
        "ServiceAccount admission copies the ServiceAccount's imagePullSecrets into a pod only when the pod "
        "has none. The operator puts the Domain's list on every pod, so the ServiceAccount's list is dead.",
        "Add the ServiceAccount's Secret to the Domain's spec.imagePullSecrets, or remove the Domain's list "
        "if the ServiceAccount should provide them.",
        adjust="error when the ServiceAccount holds the only matching credential for an image",
        example=(
            _example_domain() +
            '  image: container-registry.oracle.com/middleware/weblogic:14.1.2.0\n'
            '  imagePullSecrets:\n'
            '    - name: dockerhub\n'
            '---\n'
            'apiVersion: v1\n'
            'kind: ServiceAccount\n'
            'metadata:\n'
            '  name: default\n'
            '  namespace: apps\n'
            'imagePullSecrets:\n'
            '  - name: ocr-cred        # never reaches the pods\n'
        ),
        fix_tool=(
            "`fix` (strategy `auto` or `domain`) appends the ServiceAccount's usable Secrets to the Domain's "
            "spec.imagePullSecrets; `--strategy serviceaccount` is refused for such a Domain."
        ),
    ),
    Rule(
        "IA007", "credential-not-referenced", "error",
        "A Secret in the namespace holds a matching credential, but the pod's pull path does not use it.",
        "A pull Secret only counts when it is on the pod's effective list: the Domain's spec.imagePullSecrets, "
        "or, when that is empty, the pod's ServiceAccount's imagePullSecrets.",
        "Reference the Secret in spec.imagePullSecrets (or on the ServiceAccount when the Domain lists none).",
        example=(
            _example_domain() +
            '  image: container-registry.oracle.com/middleware/weblogic:14.1.2.0\n'
            '  # no imagePullSecrets, and the default ServiceAccount lists none\n'
            + _example_pull_secret("apps")
        ),
        fix_tool=(
            "`fix` references the matching Secret on the pods' pull path (the Domain or its ServiceAccount, per "
            "`--strategy`)."
        ),
    ),
    Rule(
        "IA008", "credential-in-other-namespace", "error",
        "A matching pull Secret exists only in another namespace.",
        "Pull Secrets are namespace-local: a Secret in another namespace is never used by the Domain's pods.",
        "Copy it into the Domain's namespace (type and data; the annotations may carry other tools' state) "
        "and reference it.",
        needs="cluster",
        example=(
            _example_domain("team-d") +
            '  image: container-registry.oracle.com/middleware/weblogic:14.1.2.0\n'
            + _example_pull_secret("weblogic-operator")
        ),
        fix_tool=(
            "`fix --copy-from weblogic-operator/ocr-cred` copies the Secret's type and data (never its "
            "annotations) into the Domain's namespace and references it."
        ),
    ),
    Rule(
        "IA009", "image-pull-failing", "error",
        "Live evidence: a pod of the Domain fails to pull an image.",
        "A container or init container waits in ErrImagePull, ImagePullBackOff, ErrImageNeverPull or "
        "InvalidImageName, a FailedToRetrieveImagePullSecret event was seen, or the Domain has a Failed "
        "condition about pulling an image.",
        "Fix the cause the other findings name, then have the operator recreate the pods: change "
        "spec.restartVersion (spec.introspectVersion when the introspector is the failing pod).",
        needs="cluster",
        example=(
            '$ kubectl get pods -n apps\n'
            'NAME              READY   STATUS             RESTARTS   AGE\n'
            'd1-introspector   0/1     ImagePullBackOff   0          2m\n'
        ),
        fix_tool=(
            "With `--restart`, `fix` bumps spec.restartVersion (or spec.introspectVersion when the introspector "
            "is the failing pod) after its other changes, so that the operator creates the pods again."
        ),
    ),
    Rule(
        "IA010", "invalid-image-reference", "error",
        "The image string does not parse as a reference (the kubelet reports InvalidImageName).",
        "The kubelet parses the image with the distribution reference grammar before anything else; an "
        "uppercase repository path, a bad tag or digest, or stray characters make the pod fail without any "
        "credential being consulted.",
        "Correct the image reference (repository paths are lowercase; tag [A-Za-z0-9_.-]{1,128}; "
        "digest algorithm:hex).",
        example=(
            _example_domain() +
            '  image: container-registry.oracle.com/middleware/WebLogic:14.1.2.0   # uppercase path\n'
        ),
    ),
    Rule(
        "IA011", "node-local-image", "warning",
        "The image can only come from a node's local cache.",
        "With imagePullPolicy: Never the kubelet never pulls; the pod starts only on nodes that already hold "
        "the image. On a cluster of more than one node, an image that exists only where it was built strands "
        "pods scheduled elsewhere.",
        "Push the image to a registry and use IfNotPresent or Always, with a pull Secret for that registry.",
        example=(
            _example_domain() +
            '  image: wls-custom:dev\n'
            '  imagePullPolicy: Never\n'
        ),
    ),
    Rule(
        "IA012", "credential-rejected", "error",
        "--probe: the registry rejected every matching credential (401).",
        "The kubelet tries each matching credential in order and never falls back to anonymous; when all "
        "are rejected the pull fails with 'unauthorized: authentication required'.",
        "Update the Secret with a valid username and password or token (expired passwords are common).",
        needs="probe",
        example=(
            '$ kubectl imgaccess check -n apps d1 --probe\n'
            '  spec.image: error IA012 credential-rejected: container-registry.oracle.com rejected '
            'apps/ocr-cred (401)\n'
        ),
    ),
    Rule(
        "IA013", "pull-denied", "error",
        "--probe: the registry denied the pull (403 DENIED or no pull right).",
        "The credential is valid but may not read this repository. On container-registry.oracle.com this "
        "means the repository's license terms were not accepted for that account.",
        "Grant the account pull access; for container-registry.oracle.com, sign in to the registry's web page "
        "and accept the terms for this repository.",
        needs="probe",
        example=(
            '$ kubectl imgaccess check -n apps d1 --probe\n'
            '  spec.image: error IA013 pull-denied: container-registry.oracle.com denied the pull (403 DENIED)\n'
        ),
    ),
    Rule(
        "IA014", "image-not-found", "error",
        "--probe: the repository or the tag/digest does not exist.",
        "The registry answered NAME_UNKNOWN or MANIFEST_UNKNOWN: the pull fails with 'manifest unknown'.",
        "Correct the repository or tag, or push the image.",
        needs="probe",
        example=(
            '$ kubectl imgaccess check -n apps d1 --probe\n'
            '  spec.image: error IA014 image-not-found: container-registry.oracle.com/middleware/weblogic:99.0: '
            'MANIFEST_UNKNOWN\n'
        ),
    ),
    Rule(
        "IA015", "registry-unreachable", "warning",
        "--probe: the registry did not answer usefully (connection, TLS, timeout, rate limit).",
        "The probe could not decide; the nodes may or may not reach the registry.",
        "Check network access, proxies and CA trust from the nodes; pass --registry-ca for private CAs.",
        needs="probe",
        example=(
            '$ kubectl imgaccess check -n apps d1 --probe\n'
            '  spec.image: warning IA015 registry-unreachable: registry.internal:5000: timed out\n'
        ),
    ),
    Rule(
        "IA016", "registry-terms-required", "info",
        "An image from container-registry.oracle.com was not probed: its license terms must be accepted.",
        "Oracle's registry refuses pulls of a repository until the account has accepted its license terms in "
        "the registry's web page, once per repository (middleware/weblogic and middleware/weblogic_cpu are "
        "separate).",
        "Accept the terms for the repository in the registry's web page, then run check --probe.",
        example=(
            _example_domain() +
            '  image: container-registry.oracle.com/middleware/weblogic:14.1.2.0\n'
            '  imagePullSecrets:\n'
            '    - name: ocr-cred\n'
            + _example_pull_secret("apps")
        ),
    ),
    Rule(
        "IA017", "audit-incomplete", "warning",
        "Objects needed for a verdict could not be read: verdicts that depend on them are unknown.",
        "A forbidden or timed-out read leaves the audit blind; it never reports a pass built on missing data.",
        "Grant get/list on the objects named (kubectl auth can-i list secrets -n NS), or narrow the scope.",
        needs="cluster",
        example=(
            '$ kubectl imgaccess check -n apps\n'
            '  warning IA017 audit-incomplete: cannot read Secret apps/ocr-cred: forbidden\n'
            '$ echo $?\n'
            '3\n'
        ),
    ),
    Rule(
        "IA018", "anonymous-pull", "info",
        "The image is pulled without credentials from a registry known to serve it anonymously.",
        "Anonymous pulls work, but may be rate-limited by the registry.",
        "Nothing to do, unless the registry rate-limits anonymous pulls; then add a pull Secret.",
        example=(
            _example_domain() +
            '  image: container-registry.oracle.com/middleware/weblogic:14.1.2.0\n'
            '  imagePullSecrets:\n'
            '    - name: ocr-cred\n'
            '  monitoringExporter:       # its sidecar image, ghcr.io/oracle/weblogic-monitoring-exporter, is public\n'
            '    configuration:\n'
            '      domainQualifier: true\n'
            + _example_pull_secret("apps")
        ),
    ),
    Rule(
        "IA019", "operator-ignored-field", "info",
        "An image field the Domain's author wrote is never pulled by the operator, so it is not audited.",
        "The operator pulls model.auxiliaryImages only when domainHomeSourceType is FromModel and "
        "domainCreationImages only when it is PersistentVolume; it converts v8 serverPod.auxiliaryImages only "
        "with spec.auxiliaryImageVolumes; it adds the monitoring exporter only with a configuration; a "
        "same-named container at a more specific serverPod level replaces a less specific one; servers with "
        "serverStartPolicy Never get no pod; and the API server prunes fields the Domain schema lacks (such "
        "as spec.introspector.serverPod.initContainers). A Domain with serverStartPolicy Never runs no pod now "
        "and is audited as it will run once started.",
        "If the image should be pulled, correct the Domain (domainHomeSourceType, the exporter's "
        "configuration, a container's name); otherwise remove the field.",
    ),
    Rule(
        "IA020", "credential-unverifiable", "warning",
        "A credential for the image may exist but its content cannot be read: a Secret made from a SealedSecret, "
        "ExternalSecret, SOPS file or Vault, or the node's own credentials.",
        "A Secret produced by a controller (Sealed Secrets, External Secrets, Vault Secrets Operator) or kept "
        "encrypted with SOPS exists with its name and type, but its registry entries are unknown until it is "
        "made, so the tool cannot tell whether it matches the image. Node-level credentials (the kubelet's "
        "credential provider on EKS, GKE and AKS, or `auth: node` in the config) are not visible through the "
        "API at all: the kubelet asks the provider when it pulls.",
        "Declare the registries the Secret serves: the annotation imgaccess.weblogic.oracle/registries: "
        "\"HOST[,HOST...]\" on the source object (SealedSecret, ExternalSecret, VaultStaticSecret ...), or a "
        "config entry under provided: (namespace, name, type, registries). Then the Secret counts as a "
        "credential for those registries and this warning goes away; --probe cannot read it either.",
        adjust="info when the node's credential provider serves the registry (cloud registries on their cloud, "
               "or auth: node in the config)",
    ),
    Rule(
        "IA021", "short-lived-token", "warning",
        "A pull Secret holds a short-lived registry token (ECR 12 h, Google oauth2accesstoken 1 h, ACR 3 h) "
        "that something must keep refreshing.",
        "Entries with user AWS for ECR, oauth2accesstoken for GCR/Artifact Registry, or the all-zero user "
        "00000000-0000-0000-0000-000000000000 for ACR carry tokens that expire within hours. Unless a "
        "refresher rewrites the Secret, pulls start failing with 401 once the token expires, typically when "
        "pods are rescheduled on a node that does not cache the image.",
        "Prefer the node's credential provider (no Secret at all), or run a refresher (a CronJob, External "
        "Secrets' ECRAuthorizationToken/GCRAccessToken/ACRAccessToken generators) that rewrites the Secret "
        "well within the token's life. `check --probe` confirms whether the token still works.",
        adjust="error when the Secret was last written (newest of creationTimestamp and managedFields times) "
               "longer ago than the token's life",
    ),
    Rule(
        "IA022", "cached-image-needs-credential", "warning",
        "Pods pull an image IfNotPresent without a credential and run only because nodes cache it: from "
        "kubelet 1.35 (KEP-2535) they stop starting.",
        "The kubelet's KubeletEnsureSecretPulledImages feature (KEP-2535; beta and on by default from "
        "Kubernetes 1.35) records which credentials pulled each image. A pod that asks for an image already "
        "on the node with IfNotPresent must now present credentials that could pull it too, unless the image "
        "was pulled anonymously or with node-wide credentials, or was on the node before the kubelet kept "
        "records (the default policy NeverVerifyPreloadedImages: an image already on a node upgraded in place "
        "is not re-checked until it is pulled again; nodes replaced by an upgrade, the usual way on managed "
        "clusters, start with an empty cache). A Domain whose pods have no credential and start today only "
        "because another pod's Secret pulled the image onto the node fails with ErrImagePull once its nodes "
        "run kubelet 1.35.",
        "Give the Domain's pods their own credential for the registry (spec.imagePullSecrets, or the "
        "ServiceAccount when the Domain lists none): `kubectl imgaccess fix`. Do it before upgrading the nodes.",
        adjust="error when nodes that cache the image run kubelet 1.35 or newer",
        needs="cluster",
    ),
    Rule(
        "IA023", "cluster-unreachable", "error",
        "One of the clusters named with --context or --all-contexts could not be read at all: unreachable, "
        "unauthorized, or its kubeconfig entry is unusable; none of its Domains were audited.",
        "A fleet audit reads every cluster it is given; one that does not answer, or refuses the credentials, "
        "says nothing about its Domains. The other clusters' results are printed in full, but the run cannot "
        "claim the fleet passes: the exit code is 2.",
        "Check the context on its own (kubectl --context NAME get domains -A): its server address, network "
        "path, credentials and expiry; or leave it out of --context.",
        needs="cluster",
    ),
)

BY_ID: Dict[str, Rule] = {r.id: r for r in RULES}
BY_NAME: Dict[str, Rule] = {r.name: r for r in RULES}


def find_rule(text: str) -> Optional[Rule]:
    """A rule by id (case-insensitive) or name."""
    t = text.strip()
    return BY_ID.get(t.upper()) or BY_NAME.get(t.lower())
