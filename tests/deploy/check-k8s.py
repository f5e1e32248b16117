#!/usr/bin/env python3
"""check-k8s.py - deploy/k8s/alertd.yaml checked without a cluster (none runs
where this project is tested): parsed with PyYAML, then the settings that
matter: a Deployment whose pods run as user 10001 with a read-only root
filesystem, no privilege escalation and no capabilities, with liveness on
/healthz and readiness on /readyz, resource requests and limits, a grace
period above alertd's shutdown grace; a PodDisruptionBudget and a Service
that select those pods; every ALERTD_* variable an alertd option. The
validation against the Kubernetes API schemas is k8s-schema.test.js."""
import os
import re
import subprocess
import sys

import yaml

root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
docs = list(yaml.safe_load_all(open(os.path.join(root, "deploy", "k8s", "alertd.yaml"), encoding="utf-8")))
kinds = {d["kind"]: d for d in docs}
failures = []


def check(ok, what):
    print(("ok: " if ok else "FAIL: ") + what)
    if not ok:
        failures.append(what)


check(sorted(kinds) == ["Deployment", "PodDisruptionBudget", "Service"], "kinds: %s" % sorted(kinds))
dep = kinds["Deployment"]
labels = dep["spec"]["template"]["metadata"]["labels"]
check(dep["spec"]["selector"]["matchLabels"].items() <= labels.items(), "the Deployment selects its own pods")
pod = dep["spec"]["template"]["spec"]
check(pod["securityContext"].get("runAsNonRoot") is True and pod["securityContext"].get("runAsUser") == 10001, "pods run as non-root user 10001")
check(pod.get("automountServiceAccountToken") is False, "no service-account token in the pods")
check(pod.get("terminationGracePeriodSeconds", 30) > 10, "grace period above http.shutdown_grace_seconds (10)")
ref = subprocess.run([os.path.join(root, "build", "alertd"), "config-reference"], capture_output=True, text=True, check=True).stdout
options = set(re.findall(r"^\|[^|]*\|\s*`(ALERTD_[A-Z0-9_]+)`\s*\|", ref, re.M))
for c in pod["containers"]:
    sc = c.get("securityContext", {})
    check(sc.get("readOnlyRootFilesystem") is True, "%s: read-only root filesystem" % c["name"])
    check(sc.get("allowPrivilegeEscalation") is False, "%s: no privilege escalation" % c["name"])
    check(sc.get("capabilities", {}).get("drop") == ["ALL"], "%s: all capabilities dropped" % c["name"])
    res = c.get("resources", {})
    check({"cpu", "memory"} <= set(res.get("limits", {})) and {"cpu", "memory"} <= set(res.get("requests", {})), "%s: CPU and memory requests and limits" % c["name"])
    check(c.get("livenessProbe", {}).get("httpGet", {}).get("path") == "/healthz", "%s: liveness probe on /healthz" % c["name"])
    check(c.get("readinessProbe", {}).get("httpGet", {}).get("path") == "/readyz", "%s: readiness probe on /readyz" % c["name"])
    for e in c.get("env", []):
        check(e["name"] in options, "%s: %s is an alertd option" % (c["name"], e["name"]))
        check("value" not in e or not re.search(r"PASSWORD|TOKEN|SECRET_KEY|URL", e["name"]), "%s: %s is not written inline" % (c["name"], e["name"]))
pdb = kinds["PodDisruptionBudget"]
check(pdb["spec"]["selector"]["matchLabels"].items() <= labels.items(), "the PodDisruptionBudget selects the pods")
check(0 < pdb["spec"].get("minAvailable", 0) < dep["spec"]["replicas"], "the PodDisruptionBudget leaves room for one disruption")
svc = kinds["Service"]
check(svc["spec"]["selector"].items() <= labels.items(), "the Service selects the pods")
print("check-k8s: %d failures" % len(failures))
sys.exit(1 if failures else 0)
