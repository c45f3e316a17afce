#!/usr/bin/env python3
"""Generate a synthetic blameless site root with N incidents, for benchmarks.

    gen_site.py --incidents N --out DIR [--from SITE_ROOT] [--seed S] [--prose zipf]

Copies site.yaml, content/symptoms.yaml, content/patterns/ and content/pages/ from
the --from site root (default: the repository this script lives in) and writes N
synthetic incidents into DIR/content/incidents/<id>.md. Every incident fills every
field of the incident schema with valid values; the symptom and pattern vocabularies
are read from the copied site at run time, so the incidents stay valid when the
vocabulary changes. The Markdown bodies are ~600-1200 words with headings, lists,
links, the odd table and, in about 30% of the stories, a fenced yaml or sh block.
With --prose zipf (the search benchmark, bench/search.sh), every paragraph also gets
free sentences over a realistic Zipf vocabulary (see `Prose`); the default keeps the
templates only, byte-identical to the output before that option existed.

It also writes DIR/bench-manifest.json (outside content/, which blameless ignores):
the structured front matter of every incident plus the vocabularies, for
bench/hugo_site.py, so that converter needs no YAML parser.

Python 3 standard library only; the output depends only on --seed, N and the
copied vocabulary (byte-identical across runs).
"""

import argparse
import json
import os
import random
import re
import shutil
import sys

SLUG_RE = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")

# --- closed vocabularies of the schema (src/model.rs) ------------------------------

SOURCE_TYPES = ["blog-post", "postmortem", "incident-report", "status-page", "talk", "slides",
                "thread", "podcast"]
SOURCE_TYPE_WEIGHTS = [40, 18, 10, 6, 14, 5, 4, 3]
PLATFORM_SETS = [(["aws"], 10), (["aws", "eks"], 14), (["eks"], 6), (["gcp", "gke"], 14),
                 (["gke"], 10), (["azure", "aks"], 8), (["aks"], 3), (["on-prem"], 10),
                 (["openstack"], 3), (["digitalocean"], 3), (["other"], 2), (["aws", "on-prem"], 3),
                 (["gke", "eks"], 2)]
ENVIRONMENTS = [("production", 70), ("staging", 10), ("development", 5), ("ci", 6),
                ("non-production", 9)]
IMPACT_LEVELS = [("full-outage", 20), ("partial-outage", 30), ("degradation", 32),
                 ("no-user-impact", 10), ("near-miss", 8)]
DETECTIONS = [("alert", 45), ("customer-report", 20), ("internal-user", 18),
              ("manual-check", 9), ("unknown", 8)]
TRIGGERS = [("code-deploy", 20), ("config-change", 18), ("cluster-upgrade", 9),
            ("infra-change", 9), ("node-maintenance", 6), ("autoscaling-event", 6),
            ("traffic-spike", 8), ("batch-workload", 5), ("provider-change", 4),
            ("capacity-exhaustion", 5), ("hardware-failure", 3), ("manual-operation", 6),
            ("security-attack", 2), ("latent-bug", 6), ("unknown", 2)]
STATUSES = [("done", 55), ("planned", 30), ("considered", 15)]

# --- pools -------------------------------------------------------------------------

ORG_HEADS = ["Acme", "Northwind", "Globex", "Initech", "Umbrella", "Hooli", "Vandelay", "Stark",
             "Wayne", "Tyrell", "Cyberdyne", "Soylent", "Aperture", "Black Mesa", "Oscorp",
             "Wonka", "Gringotts", "Monarch", "Dunder", "Pied Piper", "Blue Harbor", "Red Kite",
             "Silver Fern", "Quantum", "Polar", "Lumen", "Kestrel", "Nimbus", "Orbit", "Fjord",
             "Tundra", "Saffron", "Copper", "Basalt", "Zephyr", "Mosaic", "Juniper", "Harbor",
             "Atlas", "Beacon"]
ORG_TAILS = ["Cloud", "Labs", "Payments", "Health", "Games", "Media", "Logistics", "Bank",
             "Travel", "Retail", "Mobility", "Energy", "Insurance", "Analytics", "Security",
             "Systems", "Foods", "Telecom", "Robotics", "Learning"]
ORG_SPECIAL = ["NU.nl", "anonymous", "Zürich Verkehrsbetriebe", "Café Olé", "AT&T-ish Networks",
               "Ōkami Studios", "data.world.example", "k8s-shop.io", "Smith & Sons", "O'Reilly-like Media",
               "São Paulo Fintech", "Ünicorn GmbH", "ACME (EU)", "moonlight-work", "Tiny Startup",
               "CI Team @ BigCorp", "Gov.example", "la-Poste-ish", "Möbel Direkt", "3D Printworks"]

COMPONENTS_REAL = [
    "kubelet", "kube-apiserver", "kube-scheduler", "kube-controller-manager", "kube-proxy",
    "etcd", "CoreDNS", "kube-dns", "NodeLocal DNSCache", "containerd", "Docker", "CRI-O",
    "runc", "cluster-autoscaler", "Horizontal Pod Autoscaler", "Vertical Pod Autoscaler",
    "Karpenter", "AWS VPC CNI", "Calico", "Cilium", "Flannel", "Weave Net", "Canal",
    "kube-router", "Istio", "Linkerd", "Envoy", "Consul", "nginx-ingress-controller",
    "ingress-nginx", "Traefik", "HAProxy", "Contour", "AWS Load Balancer Controller",
    "GCE Ingress", "Azure Application Gateway", "MetalLB", "ExternalDNS", "cert-manager",
    "Let's Encrypt", "Vault", "external-secrets", "kube2iam", "KIAM", "IRSA",
    "Workload Identity", "Open Policy Agent", "Gatekeeper", "Kyverno", "Falco", "Helm",
    "Helmfile", "Kustomize", "Argo CD", "Flux", "Jenkins", "GitLab CI", "GitHub Actions",
    "Tekton", "Spinnaker", "Terraform", "kops", "kubeadm", "eksctl", "Rancher", "OpenShift",
    "Prometheus", "Alertmanager", "Grafana", "Thanos", "Cortex", "VictoriaMetrics",
    "kube-state-metrics", "node-exporter", "metrics-server", "Datadog agent", "New Relic",
    "Elasticsearch", "Logstash", "Kibana", "Fluentd", "fluent-bit", "Loki", "Promtail",
    "Vector", "ElastAlert", "Jaeger", "OpenTelemetry Collector", "Zipkin", "PagerDuty",
    "Redis", "Memcached", "PostgreSQL", "MySQL", "MongoDB", "Cassandra", "Kafka", "ZooKeeper",
    "RabbitMQ", "NATS", "MinIO", "Ceph", "Rook", "Longhorn", "EBS CSI driver",
    "GCE PD CSI driver", "Azure Disk CSI driver", "NFS provisioner", "Velero", "Harbor",
    "Docker Hub", "Amazon ECR", "Google Artifact Registry", "Quay", "Nexus", "Artifactory",
    "kube-state-metrics exporter", "Kubernetes Dashboard", "Weave Scope", "Lens",
    "Node Problem Detector", "descheduler", "kured", "Cluster API", "Crossplane", "KEDA",
    "Knative", "Argo Workflows", "Airflow", "Spark operator", "Strimzi", "Zalando Postgres Operator",
    "CloudNativePG", "Prometheus Operator", "PodDisruptionBudget", "PriorityClass",
    "CronJob controller", "Job controller", "StatefulSet controller", "DaemonSet controller",
    "Endpoints controller", "EndpointSlice controller", "conntrack", "iptables", "IPVS",
    "Linux kernel", "CFS scheduler", "systemd", "Ubuntu", "Container-Optimized OS",
    "Amazon Linux 2", "Bottlerocket", "Flatcar", "AWS ELB", "AWS NLB", "AWS ALB", "Route 53",
    "Cloud DNS", "Cloudflare", "Akamai", "Fastly", "CloudFront", "Google Cloud Load Balancer",
    "Azure Load Balancer", "NAT gateway", "Cloud NAT", "AWS IAM", "GCP IAM", "Azure AD",
    "Dex", "Keycloak", "OAuth2 Proxy", "Sentry", "Statuspage", "Slack", "Opsgenie",
]
INTERNAL_NOUNS = ["checkout", "payments", "search", "catalog", "billing", "auth", "profile",
                  "inventory", "recommendations", "notifications", "ledger", "pricing",
                  "orders", "shipping", "media", "feed"]
INTERNAL_SUFFIX = ["-api", "-service", "-worker", "-gateway"]

TAG_POOL = ["resource-limits", "requests", "helm", "gitops", "terraform", "upgrade", "dns",
            "ndots", "alpine", "musl", "conntrack", "snat", "cfs", "throttling", "oom",
            "systemoom", "eviction", "autoscaling", "spot-instances", "preemptible",
            "node-pools", "anti-affinity", "topology-spread", "pdb", "readiness", "liveness",
            "prestop", "sigterm", "graceful-shutdown", "webhooks", "admission", "opa", "rbac",
            "security-groups", "cryptomining", "certificates", "tls", "mtls", "service-mesh",
            "sidecars", "ingress", "load-balancer", "externaltrafficpolicy", "ip-exhaustion",
            "subnets", "cni", "mtu", "etcd", "quorum", "backups", "restore", "logging",
            "monitoring", "alerting", "slo", "on-call", "runbooks", "game-day", "chaos",
            "capacity-planning", "cost", "multi-tenancy", "noisy-neighbour", "cronjobs",
            "batch", "statefulsets", "databases", "kafka", "redis", "images", "registry",
            "rate-limits", "qps", "api-server", "control-plane", "managed-kubernetes",
            "near-miss", "contributing-factors", "blameless", "talk", "postmortem"]

DOMAINS = ["engineering.{o}.example.com", "blog.{o}.example.org", "tech.{o}.example.net",
           "medium.com/@{o}-eng", "{o}.example.dev/blog", "dev.to/{o}", "www.{o}.example.com/blog"]
TALK_VENUES = ["KubeCon + CloudNativeCon Europe", "KubeCon + CloudNativeCon North America",
               "ContainerDays", "DevOpsCon", "SREcon", "Cloud Native Meetup", "Velocity",
               "FOSDEM", "All Day DevOps", "Kubernetes Community Days"]
LANGS = ["en", "en", "en", "en", "en", "de", "fr", "nl", "pt-BR", "ja", "es"]

REF_LINKS = [
    ("the Kubernetes documentation on resource management",
     "https://kubernetes.io/docs/concepts/configuration/manage-resources-containers/"),
    ("the pod lifecycle documentation", "https://kubernetes.io/docs/concepts/workloads/pods/pod-lifecycle/"),
    ("the DNS for Services and Pods page", "https://kubernetes.io/docs/concepts/services-networking/dns-pod-service/"),
    ("the upstream issue", "https://github.com/kubernetes/kubernetes/issues/{n}"),
    ("the etcd operations guide", "https://etcd.io/docs/v3.5/op-guide/"),
    ("the cluster-autoscaler FAQ", "https://github.com/kubernetes/autoscaler/blob/master/cluster-autoscaler/FAQ.md"),
    ("the kernel patch that fixed it", "https://git.kernel.org/pub/scm/linux/kernel/git/torvalds/linux.git/commit/?id={h}"),
    ("the Google SRE book chapter on postmortems", "https://sre.google/sre-book/postmortem-culture/"),
    ("the vendor's status page", "https://status.{o}.example.com/incidents/{n}"),
    ("a related discussion on the mailing list", "https://groups.google.com/g/kubernetes-users/c/{h}"),
    ("the Helm chart's values file", "https://github.com/{o}/charts/blob/main/values.yaml"),
    ("our internal runbook template", "https://github.com/{o}/runbooks/blob/main/README.md"),
    ("the pull request with the fix", "https://github.com/{o}/platform/pull/{n}"),
    ("the Kubernetes release notes", "https://kubernetes.io/releases/notes/"),
    ("the conntrack write-up by another team", "https://www.example.org/conntrack-races-{n}/"),
]

TEAMS = ["the platform team", "the on-call engineer", "the SRE team", "the infrastructure team",
         "an engineer from the payments team", "the incident commander", "the cluster operations group",
         "the developer on call", "a support engineer", "the networking team"]
METRICS = ["p99 latency", "error rate", "node memory usage", "CPU throttling ratio",
           "API server request latency", "DNS query rate", "conntrack table usage",
           "pod restart count", "queue depth", "disk fsync latency", "free pod IPs"]
REGIONS = ["eu-west-1", "us-east-1", "europe-west4", "us-central1", "westeurope", "ap-southeast-2",
           "the Frankfurt data centre", "the primary region"]
NAMESPACES = ["kube-system", "monitoring", "ingress", "default", "payments", "batch", "logging",
              "platform", "tooling", "checkout"]

# --- sentence templates --------------------------------------------------------------
# Slots: {org} {comp} {comp2} {sym} {pat} {team} {metric} {region} {ns} {svc} {n} {m}
#        {pct} {ver} {code}

SUMMARY_SENTENCES = [
    "{org} runs its customer-facing services on Kubernetes in {region}, with {comp} and {comp2} as core building blocks.",
    "On the day of the incident, {team} noticed {sym} across several services within minutes of each other.",
    "What began as a routine change turned into {m} minutes of {sym} for a large share of users.",
    "The write-up is unusually candid about the chain of conditions that had to line up before anything broke.",
    "Nobody had changed {comp} in weeks, which is why it took a while before anyone suspected it.",
    "The incident affected roughly {pct}% of requests at its peak, concentrated on the {svc}.",
    "Users mostly saw {sym}; internally, dashboards for {comp} went quiet at the worst possible moment.",
    "The team describes the event as a textbook case of {pat}, compounded by gaps elsewhere.",
    "Recovery was slow because the first hypotheses pointed at {comp2}, not at {comp}.",
    "The cluster had grown to {n} nodes over two years, and several defaults from its first week were still in place.",
    "This story is worth reading for the analysis more than for the trigger, which was mundane.",
    "In hindsight, the warning signs were visible in the {metric} graphs for days.",
]
TIMELINE_ENTRIES = [
    "A change to {comp} is merged and rolled out to the {ns} namespace.",
    "{metric} starts to climb on a handful of nodes.",
    "The first alert fires for {sym} on the {svc}.",
    "{team} acknowledges the page and opens an incident channel.",
    "Customer support reports a spike in tickets mentioning {sym}.",
    "`kubectl get nodes` shows several nodes flapping between Ready and NotReady.",
    "{team} suspects {comp2} and restarts it; the symptoms persist.",
    "A rollback of the {comp} change is started.",
    "Traffic is shifted away from {region} to reduce the blast radius.",
    "{comp} is scaled up from {n} to {n2} replicas.",
    "The root of the chain is identified in the {comp} configuration.",
    "A mitigation is deployed and {metric} returns to normal.",
    "Error rates are back to baseline; the incident is downgraded to monitoring.",
    "The incident is closed and a postmortem is scheduled.",
    "Stragglers in the {ns} namespace are restarted by hand.",
    "A status page update is published for affected customers.",
]
ANALYSIS_SENTENCES = [
    "The first contributing condition was that {comp} had no resource requests or limits, so the scheduler had no idea how much memory it would need.",
    "Because {comp} shared nodes with the {svc}, a problem in one quickly became a problem in both.",
    "The team's monitoring ran inside the same cluster, so the {metric} dashboards degraded together with everything else.",
    "None of the alerts covered {metric}, which is the one signal that moved early and clearly.",
    "The change itself had been reviewed, but the review could not have caught behaviour that only appears at production scale.",
    "{comp2} retried aggressively on failure, which multiplied the load on {comp} by roughly a factor of {k}.",
    "Kubernetes did exactly what it was configured to do; the configuration simply did not say what the team meant.",
    "Every replica of the {svc} had been scheduled onto the same node, so losing that node meant losing the service.",
    "A default that made sense for a cluster of ten nodes became a liability at {n} nodes.",
    "The readiness probe checked a downstream dependency, so a slow database marked every pod unready at once.",
    "Once {comp} was OOM-killed, its restarts added more pressure to an already struggling node.",
    "The upgrade to Kubernetes {ver} changed a behaviour that {comp} quietly relied on.",
    "The rollout happened everywhere at once, so there was no canary to show the problem early.",
    "DNS lookups from the {svc} went through five search domains before reaching the real name, multiplying query volume.",
    "The conntrack table on the busiest nodes filled up, and new connections were dropped without any log line.",
    "CPU limits on the {svc} caused throttling even though the nodes had idle CPU most of the time.",
    "The load balancer kept sending traffic to pods that had already received SIGTERM.",
    "Knowledge of how {comp} was configured lived with one engineer who was on holiday that week.",
    "The manual change was made from a laptop and never recorded, so nobody responding knew it had happened.",
    "The subnet had room for far fewer pod IPs than the autoscaler assumed, and new pods sat in Pending.",
    "The admission webhook was configured to fail closed for every namespace, including {ns}.",
    "An expired certificate between {comp} and {comp2} turned a quiet Sunday into a full outage.",
    "The backlog of unfinished Jobs in the {ns} namespace kept growing until it exhausted the API server's memory.",
    "Evictions moved the problem from node to node instead of containing it.",
    "Reading the logs afterwards, the first error appeared {m} minutes before anyone was paged.",
    "The team had run a similar failure in a game day, but only in staging, where the traffic pattern was very different.",
    "Nothing in the runbook described what to do when {comp} itself was the thing that failed.",
    "The blast radius was limited only because {comp2} happened to run in a separate node pool.",
    "It is tempting to call {pat} the root cause, but it only mattered because of the other conditions listed here.",
    "Several smaller incidents in the previous months had shown the same {sym}, but each was closed as a one-off.",
    "Pods were restarted {k} times in a row before the backoff slowed things down enough to investigate.",
    "Latency on the {svc} rose from a few milliseconds to several seconds while CPU usage looked unremarkable.",
    "The team measured the effect afterwards: removing the bottleneck cut the {metric} by {pct}%.",
    "Logs from the affected pods never reached the central store, because the log shipper ran on the same overloaded nodes.",
]
ANALYSIS_BULLETS = [
    "no alert on {metric}",
    "{comp} without requests or limits",
    "all replicas of the {svc} on one node",
    "the change was rolled out to every cluster at once",
    "monitoring ran inside the failing cluster",
    "the runbook for {comp} was out of date",
    "retries in {comp2} without backoff or jitter",
    "probe timeouts of one second on a busy service",
    "manual steps that nobody else knew about",
    "a webhook that failed closed for `{ns}`",
    "the default `ndots: 5` in every pod",
    "node pools shared between tooling and customer workloads",
    "no PodDisruptionBudget for the {svc}",
    "the `latest` image tag with `imagePullPolicy: Always`",
]
LESSON_SENTENCES = [
    "Set requests and limits on everything you run, including third-party charts.",
    "Keep monitoring and alerting outside the failure domain they watch.",
    "Alert on saturation signals such as {metric}, not only on errors.",
    "Roll out configuration changes gradually, with a canary and an automatic rollback.",
    "Spread replicas across nodes and zones with anti-affinity or topology spread constraints.",
    "Give every change a trace: a pipeline run, a commit, a deployment event.",
    "Practise failure in production-like conditions; staging rarely has the same traffic.",
    "Read the release notes of every Kubernetes upgrade with the questions 'what do we rely on?' in mind.",
    "Make sure more than one person can operate {comp}.",
    "Prefer failing open for non-critical admission webhooks, and scope them to the namespaces that need them.",
    "Budget for headroom: a cluster running at 95% has no room to absorb a failure.",
    "Treat repeated small incidents with the same symptom as one problem.",
]
CODE_BLOCKS = [
    ("yaml", """resources:
  requests:
    cpu: {cpu}m
    memory: {mem}Mi
  limits:
    memory: {mem2}Mi"""),
    ("yaml", """affinity:
  podAntiAffinity:
    requiredDuringSchedulingIgnoredDuringExecution:
      - labelSelector:
          matchLabels:
            app: {svc}
        topologyKey: kubernetes.io/hostname"""),
    ("yaml", """lifecycle:
  preStop:
    exec:
      command: ["sleep", "{k}5"]
terminationGracePeriodSeconds: 60"""),
    ("yaml", """apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {svc}
  namespace: {ns}
spec:
  minAvailable: {k}
  selector:
    matchLabels:
      app: {svc}"""),
    ("yaml", """dnsConfig:
  options:
    - name: ndots
      value: "2"
    - name: single-request-reopen"""),
    ("yaml", """webhooks:
  - name: validating.{ns}.example.com
    failurePolicy: Ignore
    namespaceSelector:
      matchExpressions:
        - key: admission
          operator: In
          values: ["enabled"]"""),
    ("sh", """kubectl get nodes -o wide
kubectl describe node ip-10-0-{k}-{n}.{region}.compute.internal | grep -A5 Conditions
kubectl -n {ns} get pods --field-selector=status.phase=Pending | wc -l"""),
    ("sh", """# how many conntrack entries are in use?
sysctl net.netfilter.nf_conntrack_count net.netfilter.nf_conntrack_max
conntrack -S | awk '{{print $6}}'"""),
    ("sh", """kubectl -n {ns} rollout undo deployment/{svc}
kubectl -n {ns} rollout status deployment/{svc} --timeout=300s"""),
    ("sh", """ETCDCTL_API=3 etcdctl endpoint status --write-out=table
ETCDCTL_API=3 etcdctl alarm list
ETCDCTL_API=3 etcdctl defrag --cluster"""),
    ("sh", """for n in $(kubectl get nodes -o name); do
  kubectl drain "$n" --ignore-daemonsets --delete-emptydir-data --timeout=10m
done"""),
]

TITLE_FORMS = [
    "{Sym} after {trig} takes down the {svc}",
    "How {pat_l} caused {sym} at {org}",
    "{Pat} during a routine {trig}",
    "The day {comp} ran out of room",
    "{Sym} in {region}: a {trig} and {k} other failures",
    "Why our {svc} went dark for {m} minutes",
    "A {trig} meets {pat_l}",
    "{comp} and the chain of failures behind {sym}",
    "Lessons from a {impact_word} caused by {comp}",
    "{Pat}: what we learned the hard way",
]
TRIG_WORDS = {
    "code-deploy": "deploy", "config-change": "config change", "cluster-upgrade": "cluster upgrade",
    "infra-change": "infrastructure change", "node-maintenance": "node maintenance",
    "autoscaling-event": "scale-up", "traffic-spike": "traffic spike",
    "batch-workload": "batch run", "provider-change": "provider change",
    "capacity-exhaustion": "capacity crunch", "hardware-failure": "hardware fault",
    "manual-operation": "manual fix", "security-attack": "intrusion", "latent-bug": "latent bug",
    "unknown": "quiet afternoon",
}
IMPACT_WORDS = {"full-outage": "full outage", "partial-outage": "partial outage",
                "degradation": "slowdown", "no-user-impact": "quiet failure",
                "near-miss": "near miss"}
STOP = {"a", "an", "the", "of", "in", "at", "and", "for", "to", "our", "after", "during", "how",
        "why", "what", "we", "from", "by", "behind", "with", "meets", "took", "takes", "went",
        "hard", "way", "learned", "other", "caused", "lessons", "day", "ran", "out", "room",
        "down", "dark"}


def slugify(text):
    out = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return out


def weighted(rng, pairs):
    values = [v for v, _ in pairs]
    weights = [w for _, w in pairs]
    return rng.choices(values, weights=weights, k=1)[0]


def zipf_weights(n, s=0.8):
    return [1.0 / ((i + 1) ** s) for i in range(n)]


# --- vocabulary from the copied site -------------------------------------------------

def read_front_matter_field(text, field):
    """The value of a top-level scalar `field:` in a Markdown file's front matter."""
    if not text.startswith("---"):
        return None
    end = text.find("\n---", 3)
    block = text[3:end if end > 0 else len(text)]
    for line in block.splitlines():
        m = re.match(r"^%s:\s*(.*?)\s*$" % re.escape(field), line)
        if m:
            v = m.group(1)
            if len(v) >= 2 and v[0] == v[-1] and v[0] in "\"'":
                v = v[1:-1]
            return v
    return None


def read_symptoms(path):
    """[(slug, title)] from symptoms.yaml; a small reader for its list-of-maps layout."""
    out = []
    cur = None
    with open(path, encoding="utf-8") as f:
        for line in f:
            m = re.match(r"^\s*(-\s+)?(slug|title):\s*(.*?)\s*$", line)
            if not m:
                continue
            key, val = m.group(2), m.group(3)
            if len(val) >= 2 and val[0] == val[-1] and val[0] in "\"'":
                val = val[1:-1]
            if key == "slug":
                cur = [val, val]
                out.append(cur)
            elif cur is not None:
                cur[1] = val
    return [(s, t) for s, t in out if SLUG_RE.match(s)]


def read_patterns(dirpath):
    """[(slug, title, category)] from content/patterns/*.md."""
    out = []
    for name in sorted(os.listdir(dirpath)):
        if not name.endswith(".md"):
            continue
        slug = name[:-3]
        if not SLUG_RE.match(slug):
            continue
        with open(os.path.join(dirpath, name), encoding="utf-8-sig") as f:
            text = f.read()
        title = read_front_matter_field(text, "title") or slug.replace("-", " ")
        category = read_front_matter_field(text, "category") or ""
        out.append((slug, title, category))
    return out


# --- YAML emission -----------------------------------------------------------------

PLAIN_OK = re.compile(r"^[A-Za-z][A-Za-z0-9 .,'()/_+-]*$")
YAML_WORDS = {"yes", "no", "true", "false", "null", "on", "off", "y", "n", "~"}


def ys(s, flow=False):
    """A YAML scalar for string s: plain when unambiguous, else double-quoted."""
    if (PLAIN_OK.match(s) and s.lower() not in YAML_WORDS and not s.endswith((" ", "."))
            and not (flow and ("," in s or "[" in s))):
        return s
    return json.dumps(s, ensure_ascii=False)


def flow_list(items):
    return "[" + ", ".join(ys(i, flow=True) for i in items) + "]"


def block_list(items, indent=""):
    return "".join(f"{indent}  - {ys(i)}\n" for i in items)


def wrap(text, width=100):
    words, lines, cur = text.split(), [], ""
    for w in words:
        if cur and len(cur) + 1 + len(w) > width:
            lines.append(cur)
            cur = w
        else:
            cur = f"{cur} {w}" if cur else w
    if cur:
        lines.append(cur)
    return lines


# --- free prose with a realistic vocabulary (--prose zipf) ------------------------------
# The sentence templates above use about 3,000 distinct words, and most of them occur in
# most stories; real write-ups have a long tail (names, identifiers, jargon) and bursty
# story-specific terms. Search benchmarks need that shape: the size of an inverted index
# and the bytes a query fetches depend on how many documents each word occurs in.
# `--prose zipf` mixes free sentences into every paragraph: function words at English
# frequencies, and content words drawn from a Zipf-Mandelbrot law over ranks 1..ZIPF_V,
# where the first ranks are the real words of the copied site's prose (by frequency) and
# the rest are made-up words, compounds and identifiers, a function of the rank. Each
# story also repeats a few topic words of its own. Tuned so that the distinct words of
# the corpus grow like Heaps' law for English (about 10^5 at 10k stories).

FUNCTION_WORDS = [
    ("the", 60), ("of", 30), ("and", 28), ("to", 26), ("a", 22), ("in", 19), ("is", 10),
    ("that", 10), ("for", 9), ("it", 8), ("was", 8), ("on", 7), ("with", 7), ("as", 6),
    ("by", 5), ("at", 5), ("this", 5), ("we", 5), ("from", 4), ("be", 4), ("or", 4),
    ("not", 4), ("are", 4), ("had", 3), ("have", 3), ("but", 3), ("our", 3), ("which", 3),
    ("when", 3), ("were", 3), ("an", 3), ("after", 2), ("then", 2), ("so", 2), ("all", 2),
    ("they", 2), ("than", 1.5), ("into", 1.5), ("its", 1.5), ("no", 1.5), ("one", 1.5),
    ("there", 1.5), ("their", 1.5), ("been", 1.5), ("more", 1.5), ("only", 1), ("also", 1),
    ("because", 1), ("until", 0.8), ("before", 0.8), ("while", 0.8), ("every", 0.5),
]
ZIPF_S = 1.3          # exponent
ZIPF_Q = 20.0         # Mandelbrot offset: flattens the head
ZIPF_V = 2_000_000    # ranks
SYL_ON = ["b", "br", "c", "ch", "d", "dr", "f", "fl", "g", "gr", "h", "j", "k", "kr", "l", "m",
          "n", "p", "pl", "qu", "r", "s", "sh", "st", "t", "tr", "v", "w", "z", ""]
SYL_NUC = ["a", "e", "i", "o", "u", "ai", "ea", "ou", "io", "y"]
SYL_CODA = ["", "", "n", "r", "s", "l", "t", "x", "m", "nd", "st", "k"]


def site_lexicon(src):
    """Content words of the prose of a site root, most frequent first (lowercase)."""
    counts = {}
    paths = [os.path.join(src, "content/symptoms.yaml")]
    for sub in ("content/patterns", "content/pages", "content/incidents"):
        d = os.path.join(src, sub)
        if os.path.isdir(d):
            paths += [os.path.join(d, n) for n in sorted(os.listdir(d)) if n.endswith(".md")]
    function = {w for w, _ in FUNCTION_WORDS}
    for path in paths:
        if not os.path.isfile(path):
            continue
        with open(path, encoding="utf-8-sig") as f:
            text = re.sub(r"https?://\S+", " ", f.read())
        text = re.sub(r"(?m)^\s*-?\s*[a-z_]+:", " ", text)  # front-matter keys
        for w in re.findall(r"[A-Za-z][A-Za-z0-9]+", text):
            w = w.lower()
            if w not in function:
                counts[w] = counts.get(w, 0) + 1
    return [w for w, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]


class Prose:
    def __init__(self, seed, lexicon):
        self.rng = random.Random(seed * 104729 + 17)
        self.seed = seed
        self.lexicon = lexicon
        self.fw = [w for w, _ in FUNCTION_WORDS]
        self.fw_cum = []
        total = 0.0
        for _, wt in FUNCTION_WORDS:
            total += wt
            self.fw_cum.append(total)
        a = 1.0 - ZIPF_S
        self._a = a
        self._lo = (1.0 + ZIPF_Q) ** a
        self._hi = (ZIPF_V + 1.0 + ZIPF_Q) ** a
        self.tail = {}

    def rank(self, u):
        x = (self._lo + u * (self._hi - self._lo)) ** (1.0 / self._a) - ZIPF_Q
        return max(1, min(ZIPF_V, int(x)))

    def word(self, rank):
        if rank <= len(self.lexicon):
            return self.lexicon[rank - 1]
        w = self.tail.get(rank)
        if w is None:
            w = self.tail[rank] = self.made_up(rank)
        return w

    def made_up(self, rank):
        r = random.Random(self.seed * 1_000_003 + rank)
        def pseudo(lo, hi):
            return "".join(r.choice(SYL_ON) + r.choice(SYL_NUC) + r.choice(SYL_CODA)
                           for _ in range(r.randint(lo, hi)))
        k = r.random()
        if k < 0.72:
            return pseudo(2, 4)
        if k < 0.87 and self.lexicon:
            a, b = r.choice(self.lexicon[:2000]), r.choice(self.lexicon[:2000])
            form = r.random()
            if form < 0.5:
                return f"{a}-{b}"
            if form < 0.8:
                return a + b[:1].upper() + b[1:]
            return f"{a}_{b}"
        if k < 0.95:
            return pseudo(1, 2) + str(r.randint(0, 99))
        return pseudo(1, 2).upper()

    def content(self):
        return self.word(self.rank(self.rng.random()))

    def topic(self):
        """Words one story keeps coming back to: mid-frequency and rare ones."""
        out = []
        for _ in range(self.rng.randint(3, 8)):
            r = 1
            while r <= 300:
                r = self.rank(self.rng.random())
            out.append(self.word(r))
        return out

    def sentence(self, topic):
        r = self.rng
        n = r.randint(7, 20)
        words = []
        for _ in range(n):
            if r.random() < 0.45:
                words.append(r.choices(self.fw, cum_weights=self.fw_cum, k=1)[0])
            else:
                words.append(self.content())
        if topic and r.random() < 0.6:
            words[r.randrange(n)] = r.choice(topic)
        if r.random() < 0.08:  # an identifier in inline code
            i = r.randrange(n)
            words[i] = f"`{words[i]}`"
        if r.random() < 0.15:
            words.insert(r.randrange(1, n), ",")
        text = " ".join(words).replace(" ,", ",")
        return text[0].upper() + text[1:] + "."


# --- the generator -------------------------------------------------------------------

class Generator:
    def __init__(self, seed, symptoms, patterns, prose=None):
        self.rng = random.Random(seed)
        self.prose = prose  # a Prose for --prose zipf, else None (templates only)
        pool_rng = random.Random(seed * 7919 + 1)
        self.symptoms = symptoms
        self.patterns = patterns
        self.pattern_title = {s: t for s, t, _ in patterns}
        self.symptom_title = {s: t for s, t in symptoms}
        # Zipf-like popularity, in a seed-dependent order.
        self.pat_order = [p[0] for p in patterns]
        pool_rng.shuffle(self.pat_order)
        self.pat_w = zipf_weights(len(self.pat_order), 0.7)
        self.sym_order = [s[0] for s in symptoms]
        pool_rng.shuffle(self.sym_order)
        self.sym_w = zipf_weights(len(self.sym_order), 0.6)

        orgs = [f"{h} {t}" for h in ORG_HEADS for t in ORG_TAILS]
        pool_rng.shuffle(orgs)
        self.orgs = sorted(orgs[: 400 - len(ORG_SPECIAL)]) + ORG_SPECIAL
        self.org_w = zipf_weights(len(self.orgs), 0.5)
        pool_rng.shuffle(self.org_w)

        internal = [n + s for n in INTERNAL_NOUNS for s in INTERNAL_SUFFIX]
        pool_rng.shuffle(internal)
        self.components = COMPONENTS_REAL + internal[: max(0, 200 - len(COMPONENTS_REAL))]
        self.comp_w = zipf_weights(len(self.components), 0.9)
        self.services = [n + "-service" for n in INTERNAL_NOUNS] + [n + "-api" for n in INTERNAL_NOUNS]

        self.ids = []            # generated so far, in order
        self.ids_by_pattern = {}  # pattern -> [index]
        self.words = 0
        self.code_blocks = 0

    # small helpers
    def pick_patterns(self, k):
        out = []
        while len(out) < k:
            p = self.rng.choices(self.pat_order, weights=self.pat_w, k=1)[0]
            if p not in out or self.rng.random() < 0.1:  # a pattern may repeat in a chain
                out.append(p)
        return out

    def pick_unique(self, pool, weights, k):
        out = []
        while len(out) < k:
            v = self.rng.choices(pool, weights=weights, k=1)[0]
            if v not in out:
                out.append(v)
        return out

    def slots(self, ctx):
        r = self.rng
        comps = ctx["components"]
        return {
            "org": ctx["org"],
            "comp": r.choice(comps),
            "comp2": r.choice(comps),
            "sym": self.symptom_title[r.choice(ctx["symptoms"])].lower(),
            "pat": self.pattern_title[r.choice(ctx["patterns"])].lower(),
            "team": r.choice(TEAMS),
            "metric": r.choice(METRICS),
            "region": ctx["region"],
            "ns": r.choice(NAMESPACES),
            "svc": ctx["svc"],
            "n": r.randint(12, 900),
            "n2": r.randint(901, 2000),
            "m": r.randint(4, 400),
            "k": r.randint(2, 9),
            "pct": r.randint(3, 95),
            "ver": f"1.{r.randint(9, 31)}",
            "cpu": r.choice([100, 250, 500, 1000]),
            "mem": r.choice([128, 256, 512, 1024]),
            "mem2": r.choice([512, 1024, 2048]),
            "h": "%040x" % r.getrandbits(160),
        }

    def fill(self, template, ctx):
        s = template.format(**self.slots(ctx))
        return s[0].upper() + s[1:]

    def link(self, ctx):
        text, url = self.rng.choice(REF_LINKS)
        url = url.format(n=self.rng.randint(1000, 120000), h="%012x" % self.rng.getrandbits(48),
                         o=ctx["org_slug"] or "example")
        return f"[{text}]({url})"

    def paragraph(self, pool, ctx, lo, hi, with_link=0.0, inline_code=0.0):
        n = self.rng.randint(lo, hi)
        sents = [self.fill(t, ctx) for t in self.rng.sample(pool, min(n, len(pool)))]
        if self.prose:  # as many free sentences as template ones, interleaved
            sents = [x for t in sents for x in (t, self.prose.sentence(ctx["topic"]))]
        if self.rng.random() < with_link:
            i = self.rng.randrange(len(sents))
            sents.insert(i + 1, f"See {self.link(ctx)} for the background.")
        if self.rng.random() < inline_code:
            sents.append(self.rng.choice([
                "The relevant setting was `maxPods` in the kubelet configuration.",
                "The pods reported `CrashLoopBackOff` with exit code `137`.",
                "Events showed `FailedScheduling: 0/{} nodes are available`.".format(self.rng.randint(3, 90)),
                "The error in the logs read `context deadline exceeded`.",
                "Running `kubectl top pods -n {}` made the culprit obvious.".format(self.rng.choice(NAMESPACES)),
                "The flag in question was `--kube-api-qps`.",
            ]))
        return " ".join(sents)

    def body(self, ctx):
        r = self.rng
        target = r.randint(600, 1200)
        parts = []

        def words():
            return sum(len(p.split()) for p in parts)

        parts.append("## Summary\n")
        parts.append(self.paragraph(SUMMARY_SENTENCES, ctx, 3, 5, with_link=0.3) + "\n")
        parts.append(self.paragraph(SUMMARY_SENTENCES, ctx, 2, 4) + "\n")

        parts.append("## Timeline\n")
        if r.random() < 0.5:
            parts.append("All times are in UTC.\n")
        h, mi = r.randint(0, 20), r.randint(0, 59)
        entries = r.sample(TIMELINE_ENTRIES, r.randint(6, 11))
        if r.random() < 0.1:
            rows = ["| Time | Event |", "|---|---|"]
            for e in entries:
                mi += r.randint(2, 40)
                h, mi = (h + mi // 60) % 24, mi % 60
                rows.append(f"| {h:02d}:{mi:02d} | {self.fill(e, ctx)} |")
            parts.append("\n".join(rows) + "\n")
        else:
            lines = []
            for e in entries:
                mi += r.randint(2, 40)
                h, mi = (h + mi // 60) % 24, mi % 60
                lines.append(f"- **{h:02d}:{mi:02d}** {self.fill(e, ctx)}")
            parts.append("\n".join(lines) + "\n")

        parts.append("## Analysis\n")
        parts.append(self.paragraph(ANALYSIS_SENTENCES, ctx, 3, 5, with_link=0.4, inline_code=0.5) + "\n")
        bullets = r.sample(ANALYSIS_BULLETS, r.randint(3, 6))
        parts.append("The conditions that had to line up:\n\n" +
                     "\n".join("- " + self.fill(b, ctx) for b in bullets) + "\n")
        want_code = r.random() < 0.3
        for cf in ctx["failures"]:
            if words() > target * 0.8:
                break
            parts.append(f"### {self.pattern_title[cf]}\n")
            parts.append(self.paragraph(ANALYSIS_SENTENCES, ctx, 3, 6, with_link=0.25, inline_code=0.3) + "\n")
            if want_code:
                want_code = False
                lang, code = r.choice(CODE_BLOCKS)
                parts.append("The fix, roughly:\n\n```" + lang + "\n" + code.format(**self.slots(ctx)) + "\n```\n")
                self.code_blocks += 1
        if want_code:
            lang, code = r.choice(CODE_BLOCKS)
            parts.append("```" + lang + "\n" + code.format(**self.slots(ctx)) + "\n```\n")
            self.code_blocks += 1
        while words() < target * 0.85:
            parts.append(self.paragraph(ANALYSIS_SENTENCES, ctx, 3, 6, with_link=0.2) + "\n")
        if ctx["related"] and r.random() < 0.7:
            rid = r.choice(ctx["related"])
            parts.append(f"A similar chain played out in [an earlier story]({rid}.md).\n")

        parts.append("## Lessons\n")
        parts.append(self.paragraph(LESSON_SENTENCES, ctx, 2, 3) + "\n")
        lessons = r.sample(LESSON_SENTENCES, r.randint(3, 5))
        parts.append("\n".join(f"{i}. {self.fill(l, ctx)}" for i, l in enumerate(lessons, 1)) + "\n")
        while words() < target:
            parts.append(self.paragraph(LESSON_SENTENCES + ANALYSIS_SENTENCES, ctx, 2, 4) + "\n")
        if r.random() < 0.5:
            parts.append("Further reading: " + ", ".join(self.link(ctx) for _ in range(r.randint(1, 3))) + ".\n")
        text = "\n".join(parts)
        self.words += len(text.split())
        return text

    def incident(self, seq):
        r = self.rng
        year = r.randint(2015, 2025)
        month, day = r.randint(1, 12), r.randint(1, 28)
        org = self.rng.choices(self.orgs, weights=self.org_w, k=1)[0]
        org_slug = slugify(org)
        trig = weighted(r, TRIGGERS)
        n_fail = r.randint(2, 6)
        failures = self.pick_patterns(n_fail)
        symptoms = self.pick_unique(self.sym_order, self.sym_w, r.randint(1, min(3, len(self.sym_order))))
        components = self.pick_unique(self.components, self.comp_w, r.randint(2, 6))
        svc = r.choice(self.services)
        region = r.choice(REGIONS)
        impact_level = weighted(r, IMPACT_LEVELS)

        title_slots = {
            "Sym": self.symptom_title[symptoms[0]], "sym": self.symptom_title[symptoms[0]].lower(),
            "Pat": self.pattern_title[failures[0]], "pat_l": self.pattern_title[failures[0]].lower(),
            "trig": TRIG_WORDS[trig], "svc": svc, "org": org, "comp": components[0],
            "region": region, "k": n_fail - 1, "m": r.randint(5, 600),
            "impact_word": IMPACT_WORDS[impact_level],
        }
        title = r.choice(TITLE_FORMS).format(**title_slots)
        title = title[0].upper() + title[1:]
        words = [w for w in slugify(title).split("-") if w not in STOP and w not in org_slug.split("-")]
        words = words[: r.randint(2, 4)] or ["incident"]
        org_part = "-".join(org_slug.split("-")[:3])[:24].strip("-") or "org"
        iid = f"{year}-{org_part}-{seq:05d}-{'-'.join(words)}"[:100].rstrip("-")
        assert SLUG_RE.match(iid), iid

        # explicit related links: ~15% of stories, to earlier stories sharing a pattern if any
        related = []
        if self.ids and r.random() < 0.15:
            for _ in range(r.randint(1, 3)):
                cands = self.ids_by_pattern.get(r.choice(failures)) or list(range(len(self.ids)))
                rid = self.ids[r.choice(cands[-200:])]
                if rid not in related:
                    related.append(rid)

        ctx = {"org": org, "org_slug": org_slug, "components": components, "symptoms": symptoms,
               "patterns": failures, "failures": failures, "region": region, "svc": svc,
               "related": related, "topic": self.prose.topic() if self.prose else []}

        date_form = r.random()
        if date_form < 0.35:
            date = str(year)
        elif date_form < 0.6:
            date = f"{year}-{month:02d}"
        else:
            date = f"{year}-{month:02d}-{day:02d}"

        sources = []
        for i in range(r.choices([1, 2, 3], weights=[60, 30, 10])[0]):
            stype = r.choices(SOURCE_TYPES, weights=SOURCE_TYPE_WEIGHTS)[0]
            dom = r.choice(DOMAINS).format(o=org_slug or "anon")
            path = "-".join(words) + f"-{r.randint(1, 999)}"
            src = {"url": f"https://{dom}/{year}/{path}/", "title": title if i == 0 else
                   f"{title} (part {i + 1})", "type": stype}
            if stype in ("talk", "slides"):
                src["venue"] = f"{r.choice(TALK_VENUES)} {year}"
            elif r.random() < 0.6:
                src["venue"] = f"{org} engineering blog"
            if r.random() < 0.7:
                pm = min(12, month + r.randint(0, 2))
                src["published"] = f"{year}-{pm:02d}" if r.random() < 0.5 else f"{year}-{pm:02d}-{day:02d}"
            if r.random() < 0.3:
                src["language"] = r.choice(LANGS)
            if r.random() < 0.15:
                src["archive_url"] = f"https://web.archive.org/web/{year}0101000000/{src['url']}"
            sources.append(src)

        resolutions = []
        for _ in range(r.randint(1, 4)):
            pats = sorted(set(r.sample(failures, r.randint(1, min(2, len(failures))))))
            resolutions.append({
                "action": self.fill(r.choice(LESSON_SENTENCES), ctx),
                "status": weighted(r, STATUSES),
                "patterns": pats,
            })

        fm = {
            "title": title,
            "organization": org,
            "date": date,
            "summary": " ".join(self.fill(s, ctx) for s in r.sample(SUMMARY_SENTENCES, r.randint(1, 3))),
            "sources": sources,
            "platforms": weighted(r, PLATFORM_SETS),
            "kubernetes_version": f"1.{r.randint(5, 31)}" if r.random() < 0.6 else None,
            "environment": weighted(r, ENVIRONMENTS),
            "impact": self.fill(r.choice([
                "Users saw {sym} on the {svc} for about {m} minutes.",
                "{sym} for a share of customers in {region}; internal tools were slow.",
                "No customer impact, but {team} lost visibility into {comp} for hours.",
                "Checkout and login failed intermittently with {sym}.",
                "Deploys were blocked and {sym} hit the {svc}.",
            ]), ctx),
            "impact_level": impact_level,
            "duration_minutes": r.randint(3, 2880),
            "detection": weighted(r, DETECTIONS),
            "symptoms": symptoms,
            "components": components,
            "trigger": {"type": trig, "description": self.fill(r.choice(TIMELINE_ENTRIES), ctx)},
            "contributing_failures": [{"pattern": p, "description": self.fill(r.choice(ANALYSIS_SENTENCES), ctx)}
                                      for p in failures],
            "resolutions": resolutions,
            "lessons": [self.fill(s, ctx) for s in r.sample(LESSON_SENTENCES, r.randint(1, 4))],
            "related": related,
            "tags": r.sample(TAG_POOL, r.randint(1, 6)),
        }
        body = self.body(ctx)

        self.ids.append(iid)
        for p in set(failures):
            self.ids_by_pattern.setdefault(p, []).append(len(self.ids) - 1)
        return iid, fm, body

    def render(self, fm, body):
        r = self.rng
        out = ["---\n", f"title: {ys(fm['title'])}\n", f"organization: {ys(fm['organization'])}\n"]
        d = fm["date"]
        q = r.random()
        if len(d) == 4 and q < 0.5:
            out.append(f"date: {d}\n")  # a YAML number
        elif q < 0.75:
            out.append(f'date: "{d}"\n')
        elif q < 0.9:
            out.append(f"date: {d}\n")
        else:
            out.append(f"date: '{d}'\n")
        if len(fm["summary"]) > 100 and r.random() < 0.5:
            out.append("summary: >-\n" + "".join(f"  {l}\n" for l in wrap(fm["summary"])))
        else:
            out.append(f"summary: {ys(fm['summary'])}\n")
        out.append("sources:\n")
        for s in fm["sources"]:
            first = True
            for k in ("url", "title", "type", "venue", "published", "language", "archive_url"):
                if k not in s:
                    continue
                v = f'"{s[k]}"' if k == "published" else ys(s[k])
                out.append(f"  {'- ' if first else '  '}{k}: {v}\n")
                first = False
        out.append(f"platforms: {flow_list(fm['platforms'])}\n")
        if fm["kubernetes_version"]:
            out.append(f'kubernetes_version: "{fm["kubernetes_version"]}"\n')
        out.append(f"environment: {fm['environment']}\n")
        out.append(f"impact: {ys(fm['impact'])}\n")
        out.append(f"impact_level: {fm['impact_level']}\n")
        out.append(f"duration_minutes: {fm['duration_minutes']}\n")
        out.append(f"detection: {fm['detection']}\n")
        if r.random() < 0.5:
            out.append(f"symptoms: {flow_list(fm['symptoms'])}\n")
        else:
            out.append("symptoms:\n" + block_list(fm["symptoms"]))
        if r.random() < 0.5:
            out.append(f"components: {flow_list(fm['components'])}\n")
        else:
            out.append("components:\n" + block_list(fm["components"]))
        out.append("trigger:\n")
        out.append(f"  type: {fm['trigger']['type']}\n")
        out.append(f"  description: {ys(fm['trigger']['description'])}\n")
        out.append("contributing_failures:\n")
        for cf in fm["contributing_failures"]:
            out.append(f"  - pattern: {cf['pattern']}\n    description: {ys(cf['description'])}\n")
        out.append("resolutions:\n")
        for res in fm["resolutions"]:
            out.append(f"  - action: {ys(res['action'])}\n    status: {res['status']}\n"
                       f"    patterns: {flow_list(res['patterns'])}\n")
        out.append("lessons:\n" + block_list(fm["lessons"]))
        if fm["related"]:
            out.append(f"related: {flow_list(fm['related'])}\n")
        out.append(f"tags: {flow_list(fm['tags'])}\n")
        out.append("---\n\n")
        out.append(body)
        return "".join(out)


def copy_site(src, dst):
    for rel in ("site.yaml", "content/symptoms.yaml"):
        p = os.path.join(src, rel)
        if not os.path.isfile(p):
            sys.exit(f"gen_site.py: {p} is missing; --from must be a blameless site root")
        os.makedirs(os.path.dirname(os.path.join(dst, rel)), exist_ok=True)
        shutil.copyfile(p, os.path.join(dst, rel))
    for rel in ("content/patterns", "content/pages"):
        p = os.path.join(src, rel)
        if os.path.isdir(p):
            shutil.copytree(p, os.path.join(dst, rel))


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--incidents", type=int, required=True, metavar="N")
    ap.add_argument("--out", required=True, metavar="DIR", help="site root to create (must not exist or be empty)")
    ap.add_argument("--from", dest="src", default=os.path.dirname(here), metavar="SITE_ROOT")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--prose", choices=["templates", "zipf"], default="templates",
                    help="body text: sentence templates only (default), or mixed with free "
                         "sentences over a realistic Zipf vocabulary (for search benchmarks)")
    args = ap.parse_args()
    if args.incidents < 1:
        ap.error("--incidents must be at least 1")
    if os.path.exists(args.out) and os.listdir(args.out):
        ap.error(f"{args.out} exists and is not empty")

    copy_site(args.src, args.out)
    symptoms = read_symptoms(os.path.join(args.out, "content/symptoms.yaml"))
    pdir = os.path.join(args.out, "content/patterns")
    patterns = read_patterns(pdir) if os.path.isdir(pdir) else []
    if not symptoms or not patterns:
        sys.exit(f"gen_site.py: {args.src} has {len(symptoms)} symptoms and {len(patterns)} patterns; "
                 "need at least one of each")

    prose = Prose(args.seed, site_lexicon(args.src)) if args.prose == "zipf" else None
    gen = Generator(args.seed, symptoms, patterns, prose)
    idir = os.path.join(args.out, "content/incidents")
    os.makedirs(idir, exist_ok=True)
    manifest = {"seed": args.seed, "symptoms": symptoms, "patterns": patterns, "incidents": []}
    total_bytes = 0
    for seq in range(1, args.incidents + 1):
        iid, fm, body = gen.incident(seq)
        text = gen.render(fm, body)
        with open(os.path.join(idir, iid + ".md"), "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
        total_bytes += len(text.encode("utf-8"))
        manifest["incidents"].append({"id": iid, "front_matter": fm})
    with open(os.path.join(args.out, "bench-manifest.json"), "w", encoding="utf-8") as f:
        json.dump(manifest, f, ensure_ascii=False, separators=(",", ":"))
    print(f"gen_site.py: {args.incidents} incidents in {idir}: {total_bytes / 1e6:.1f} MB, "
          f"{gen.words / args.incidents:.0f} body words on average, {gen.code_blocks} code blocks, "
          f"{len(patterns)} patterns, {len(symptoms)} symptoms, {len(gen.orgs)} organizations, "
          f"{len(gen.components)} components (seed {args.seed})")


if __name__ == "__main__":
    main()
