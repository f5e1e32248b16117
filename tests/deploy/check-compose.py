#!/usr/bin/env python3
"""check-compose.py - deploy/compose.yaml checked without a container engine
(none runs where this project is tested): parsed with PyYAML, then its shape:
PostgreSQL, a one-shot migrate service, two alertd instances and nginx; alertd
built from deploy/Containerfile and started only after the migration
succeeded; every ALERTD_<SECTION>_<KEY> variable names an option of
`alertd config-reference`; no password, key or token written inline; the
instances run read-only, non-root, without capabilities. What it cannot
check: that the images build and the services start."""
import os
import re
import subprocess
import sys

import yaml

root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
doc = yaml.safe_load(open(os.path.join(root, "deploy", "compose.yaml"), encoding="utf-8"))
failures = []


def check(ok, what):
    print(("ok: " if ok else "FAIL: ") + what)
    if not ok:
        failures.append(what)


services = doc.get("services", {})
check(set(services) == {"postgres", "migrate", "alertd-1", "alertd-2", "nginx"},
      "services are postgres, migrate, alertd-1, alertd-2, nginx: %s" % sorted(services))
check(services["migrate"]["build"]["dockerfile"] == "deploy/Containerfile", "alertd is built from deploy/Containerfile")
check(services["migrate"]["command"][0] == "migrate", "the migrate service runs `alertd migrate`")
check("healthcheck" in services["postgres"], "PostgreSQL has a health check")
check(services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy", "migrate waits for a healthy PostgreSQL")

ref = subprocess.run([os.path.join(root, "build", "alertd"), "config-reference"], capture_output=True, text=True, check=True).stdout
options = set(re.findall(r"^\|[^|]*\|\s*`(ALERTD_[A-Z0-9_]+)`\s*\|", ref, re.M))
check(len(options) > 50, "%d options read from `alertd config-reference`" % len(options))
secretish = re.compile(r"(password|secret|token|key)", re.I)
for name in ("alertd-1", "alertd-2"):
    svc = services[name]
    check(svc["image"] == services["migrate"]["image"], "%s runs the image the migrate service builds" % name)
    check(svc["command"][0] == "serve", "%s runs `alertd serve`" % name)
    check(svc["depends_on"]["migrate"]["condition"] == "service_completed_successfully", "%s starts after the migration succeeded" % name)
    check(svc.get("read_only") is True and svc.get("user") == "10001:10001" and svc.get("cap_drop") == ["ALL"],
          "%s: read-only root, user 10001, no capabilities" % name)
    for var, value in (svc.get("environment") or {}).items():
        check(var in options, "%s: %s is an alertd option" % (name, var))
        check(not secretish.search(var) or str(value).startswith("/run/secrets/"),
              "%s: %s holds no inline secret" % (name, var))
for name, svc in services.items():
    for var, value in (svc.get("environment") or {}).items():
        if re.search(r"PASSWORD$|TOKEN$|SECRET$", var):
            check(False, "%s: %s is written inline" % (name, var))
check(all(s.get("file", "").startswith("secrets/") for s in doc.get("secrets", {}).values()), "secrets come from files under deploy/secrets/")
nginx = services["nginx"]
check(any("nginx-alertd.conf" in v for v in nginx["volumes"]), "nginx uses deploy/nginx-alertd.conf")
check("alertd-1:8080" in " ".join(nginx["command"]) and "alertd-2:8080" in " ".join(nginx["command"]), "nginx's upstream lists both instances")
print("check-compose: %d failures" % len(failures))
sys.exit(1 if failures else 0)
