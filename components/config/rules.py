"""The rules of the systems that consume our configuration values, as plain checks.

Each check follows the rule of the system that will read the value, and cites it, so that a value is
refused at config time for the same reason the daemon or the API server would refuse it at deploy time.
Each returns the value or raises ValueError with a message that names the rule.
"""

from __future__ import annotations

import ipaddress
import re
from datetime import UTC, datetime

INT32_MAX = 2**31 - 1
"""Kubernetes `int32` fields (replicas, minReplicas/maxReplicas) and Kafka `INT` configs stop here."""
INT64_MAX = 2**63 - 1
INT64_MIN = -(2**63)

# Kubernetes apimachinery `validation.IsDNS1123Label` / `IsDNS1123Subdomain` (used for namespaces, object
# names such as StorageClass, and Ingress hosts).
DNS1123_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
DNS1123_LABEL_MAX = 63
DNS1123_SUBDOMAIN_MAX = 253


def _is_label(value: str) -> bool:
    """IsDNS1123Label: the pattern over the whole text (never a prefix, nor up to a trailing newline)
    and the 63-character bound that RFC 1035 sets on every label of a name."""
    return len(value) <= DNS1123_LABEL_MAX and DNS1123_LABEL.fullmatch(value) is not None


def is_ascii_number(text: str) -> bool:
    """ASCII digits only: `str.isdigit` also accepts '²' and other scripts' digits, which no consumer
    (Go's strconv, the cron parser, the Kubernetes API) reads as a number."""
    return text.isascii() and text.isdigit()


def dns1123_label(value: str) -> str:
    """Kubernetes IsDNS1123Label: at most 63 of [a-z0-9-], starting and ending alphanumeric."""
    if not _is_label(value):
        raise ValueError(
            f"expected an RFC 1123 label (Kubernetes name rule: at most 63 lowercase letters, digits or '-', "
            f"starting and ending with a letter or digit), got {value!r}"
        )
    return value


def dns1123_subdomain(value: str) -> str:
    """Kubernetes IsDNS1123Subdomain: dot-separated RFC 1123 labels, at most 253 characters in all."""
    labels = value.split(".")
    if len(value) > DNS1123_SUBDOMAIN_MAX or not all(_is_label(label) for label in labels):
        raise ValueError(
            f"expected an RFC 1123 subdomain (Kubernetes object name rule: lowercase labels of [a-z0-9-] "
            f"joined by '.', at most 253 characters), got {value!r}"
        )
    return value


def domain_name(value: str) -> str:
    """A public DNS name: labels of at most 63, 253 characters in all (RFC 1035 2.3.4), a letters-only
    top-level label (RFC 3696 2), and, as an Ingress host, an RFC 1123 subdomain."""
    labels = value.split(".")
    if (
        len(labels) < 2
        or len(value) > DNS1123_SUBDOMAIN_MAX
        or not all(_is_label(label) for label in labels)
        or not re.fullmatch(r"[a-z]{2,63}", labels[-1])
    ):
        raise ValueError(
            f"expected a DNS domain such as 'dreamscape.example.com' (lowercase labels of at most 63 "
            f"characters, at most 253 in all, a letters-only top-level label), got {value!r}"
        )
    return value


# Prometheus `model.ParseDuration` (prometheus/common model/time.go): units from largest to smallest,
# each at most once, or the bare "0".
_PROM_DURATION = re.compile(
    r"(?:(?:([0-9]+)y)?(?:([0-9]+)w)?(?:([0-9]+)d)?(?:([0-9]+)h)?(?:([0-9]+)m)?(?:([0-9]+)s)?(?:([0-9]+)ms)?|0)"
)
_PROM_UNIT_MS = (365 * 86400_000, 7 * 86400_000, 86400_000, 3600_000, 60_000, 1000, 1)


def prometheus_duration_ms(value: str) -> int:
    """Milliseconds of a Prometheus duration; refuses what `model.ParseDuration` refuses (units out of
    order or repeated, unknown units, empty, overflow of its int64 milliseconds)."""
    match = _PROM_DURATION.fullmatch(value)
    if not value or not match:
        raise ValueError(
            f"expected a Prometheus duration such as '30d' or '1h30m' (units y, w, d, h, m, s, ms from "
            f"largest to smallest, each at most once), got {value!r}"
        )
    total = sum(int(n) * unit for n, unit in zip(match.groups(), _PROM_UNIT_MS, strict=True) if n)
    if total > INT64_MAX:
        raise ValueError(f"Prometheus duration {value!r} overflows its int64 milliseconds")
    return total


def positive_prometheus_duration(value: str) -> str:
    if prometheus_duration_ms(value) <= 0:
        raise ValueError(f"expected a Prometheus duration greater than zero, got {value!r}")
    return value


# cert-manager's `duration` and `renewBefore` are `metav1.Duration`, parsed by Go's `time.ParseDuration`:
# one or more decimal numbers, each with a unit of ns, us (or µs), ms, s, m or h (no days).
_GO_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")
_GO_UNIT_SECONDS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
CERT_MANAGER_MIN_DURATION_S = 3600
"""cert-manager refuses a Certificate whose duration is below `MinimumCertificateDuration` (1h,
pkg/apis/certmanager/v1/const.go; checked by the webhook's `ValidateDuration`)."""
CERT_MANAGER_MIN_RENEW_BEFORE_S = 300
"""... and a renewBefore below `MinimumRenewBefore` (5m), or one not below the duration."""


def go_duration_seconds(value: str) -> float:
    """Seconds of a Go duration (`2160h`, `1h30m`), refusing what `time.ParseDuration` refuses and the
    units it does not know (`d`, `w`): Kubernetes would reject the object at apply time otherwise."""
    position, total = 0, 0.0
    for match in _GO_DURATION_PART.finditer(value):
        if match.start() != position:
            break
        total += float(match.group(1)) * _GO_UNIT_SECONDS[match.group(2)]
        position = match.end()
    if not value or position != len(value):
        raise ValueError(f"expected a Go duration such as '2160h' or '1h30m' (units h, m, s, ms, us, ns; "
                         f"no days), got {value!r}")
    return total


def certificate_duration(value: str) -> str:
    if go_duration_seconds(value) < CERT_MANAGER_MIN_DURATION_S:
        raise ValueError(f"cert-manager refuses a certificate duration below 1h, got {value!r}")
    return value


def certificate_renew_before(value: str) -> str:
    if go_duration_seconds(value) < CERT_MANAGER_MIN_RENEW_BEFORE_S:
        raise ValueError(f"cert-manager refuses a renewBefore below 5m, got {value!r}")
    return value


REDIS_TLS_SETTINGS = frozenset({
    "tls-port", "tls-cert-file", "tls-key-file", "tls-key-file-pass", "tls-client-cert-file",
    "tls-client-key-file", "tls-client-key-file-pass", "tls-dh-params-file", "tls-ca-cert-file",
    "tls-ca-cert-dir", "tls-auth-clients", "tls-replication", "tls-cluster", "tls-protocols", "tls-ciphers",
    "tls-ciphersuites", "tls-prefer-server-ciphers", "tls-session-caching", "tls-session-cache-size",
    "tls-session-cache-timeout",
})
"""Every TLS directive redis-server has (`CONFIG GET tls-*` on Redis 7.0 and 8.2; redis.conf's TLS section).
A name outside it stops the server at start ("Bad directive or wrong number of arguments")."""
REDIS_TLS_OWNED = frozenset({
    "tls-port", "tls-cert-file", "tls-key-file", "tls-key-file-pass", "tls-client-cert-file",
    "tls-client-key-file", "tls-client-key-file-pass", "tls-ca-cert-file", "tls-ca-cert-dir", "tls-auth-clients",
    "tls-replication", "tls-cluster", "tls-dh-params-file",
})
"""Set by the program from the certificate it mounts (components/infra/redis.py, docs/security.md)."""


def redis_tls_setting(name: str) -> str:
    if name not in REDIS_TLS_SETTINGS:
        raise ValueError(f"redis-server has no TLS setting {name!r} (it has {', '.join(sorted(REDIS_TLS_SETTINGS))})")
    if name in REDIS_TLS_OWNED:
        raise ValueError(f"{name} is set by the program from the certificate it mounts; it cannot be overridden")
    return name


# Kubernetes CronJob schedules are parsed by robfig/cron v3's standard parser (`cron.ParseStandard`):
# five fields, names for months and weekdays, `*`, `?` (day fields), ranges, steps, lists, and the
# `@yearly` ... `@hourly` descriptors.
_CRON_FIELDS: tuple[tuple[str, int, int, dict[str, int]], ...] = (
    ("minute", 0, 59, {}),
    ("hour", 0, 23, {}),
    ("day of month", 1, 31, {}),
    ("month", 1, 12, {name: i + 1 for i, name in enumerate(
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"])}),
    ("day of week", 0, 6, {name: i for i, name in enumerate(["sun", "mon", "tue", "wed", "thu", "fri", "sat"])}),
)
_CRON_DESCRIPTORS = frozenset({"@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"})


def cron_schedule(value: str) -> str:
    """A schedule the Kubernetes CronJob controller accepts (robfig/cron v3 ParseStandard), written as
    fields separated by single spaces: the parser would skip a trailing newline or a tab, but the value is
    also rendered into the manifest and shown in messages, where stray whitespace only hides mistakes."""
    if value != " ".join(value.split()) or not value.isascii():
        raise ValueError(f"expected a cron schedule of ASCII fields separated by single spaces, got {value!r}")
    if value in _CRON_DESCRIPTORS:
        return value
    fields = value.split()
    if len(fields) != 5:
        raise ValueError(
            f"expected a 5-field cron schedule (minute hour day-of-month month day-of-week), got {value!r}"
        )
    for text, (what, low, high, names) in zip(fields, _CRON_FIELDS, strict=True):
        for part in text.split(","):
            _cron_part(value, part, what, low, high, names)
    return value


def _cron_part(value: str, part: str, what: str, low: int, high: int, names: dict[str, int]) -> None:
    def bad(reason: str) -> ValueError:
        return ValueError(f"cron schedule {value!r}: {what} field {part!r} {reason} (allowed {low}-{high})")

    def number(text: str) -> int:
        if text.lower() in names:
            return names[text.lower()]
        if not is_ascii_number(text):
            raise bad("is not a number")
        return int(text)

    span, slash, step = part.partition("/")
    if slash and (not is_ascii_number(step) or int(step) == 0):
        raise bad("has a step that is not a positive number")
    if span in ("*", "?"):
        if span == "?" and what not in ("day of month", "day of week"):
            raise bad("uses '?' outside the day fields")
        return
    start_text, dash, end_text = span.partition("-")
    start = number(start_text)
    end = number(end_text) if dash else start
    if not (low <= start <= high and low <= end <= high):
        raise bad("is out of range")
    if start > end:
        raise bad("has a range whose start is after its end")


# Kafka `Topic.validate` (clients/src/main/java/org/apache/kafka/common/internals/Topic.java).
KAFKA_TOPIC_MAX = 249
_KAFKA_TOPIC = re.compile(r"[a-zA-Z0-9._-]+")


def majority_quorum(members: int, what: str) -> int:
    """A majority quorum (Raft) stays available while a majority of its voters is up: 2N+1 voters tolerate
    N failures, and an even count adds a voter without tolerating one more failure (4 voters survive 1
    loss, as 3 do). Kafka's KRaft docs (operations, "Controllers"): "A majority of the controllers must
    be alive in order to maintain availability. With 3 controllers, the cluster can tolerate 1 controller
    failure; with 5 controllers, the cluster can tolerate 2". One voter (a development cluster) is odd."""
    if members % 2 == 0:
        raise ValueError(
            f"{what}: {members} voters form a majority quorum that tolerates no more failures than "
            f"{members - 1}; use an odd count (1, 3, 5, ...)"
        )
    return members


def kafka_topic(value: str) -> str:
    """Kafka's topic rule: 1-249 of [a-zA-Z0-9._-], not '.' or '..'; '__'-prefixed names are internal."""
    if value in (".", ".."):
        raise ValueError(f"Kafka refuses the topic names '.' and '..', got {value!r}")
    if not value or len(value) > KAFKA_TOPIC_MAX or not _KAFKA_TOPIC.fullmatch(value):
        raise ValueError(
            f"expected a Kafka topic name (1-249 characters of [a-zA-Z0-9._-], Kafka's Topic.validate), "
            f"got {value!r}"
        )
    if value.startswith("__"):
        raise ValueError(f"topic names starting with '__' are Kafka's internal topics, got {value!r}")
    return value


def kafka_topic_collisions(topics: list[str]) -> list[str]:
    """Pairs Kafka refuses to hold together: '.' and '_' map to the same metric name
    (Topic.hasCollision), and duplicates."""
    seen: dict[str, str] = {}
    problems = []
    for topic in topics:
        key = topic.replace(".", "_")
        if key in seen:
            other = seen[key]
            why = "is listed twice" if other == topic else f"collides with {other!r} ('.' and '_' collide in Kafka)"
            problems.append(f"topic {topic!r} {why}")
        else:
            seen[key] = topic
    return problems


def s3_bucket(value: str) -> str:
    """MinIO's bucket rule (minio-go `s3utils.CheckValidBucketNameStrict`, the S3 naming rules): 3-63
    characters of [a-z0-9.-], starting and ending alphanumeric, no '..', '.-' or '-.', not an IP
    address; S3 also reserves the 'xn--' prefix and the '-s3alias' / '--ol-s3' suffixes."""
    problems = []
    if not re.fullmatch(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]", value):
        problems.append("3-63 lowercase letters, digits, '.' or '-', starting and ending with a letter or digit")
    if ".." in value or ".-" in value or "-." in value:
        problems.append("no '..', '.-' or '-.'")
    try:
        ipaddress.IPv4Address(value)
        problems.append("not an IP address")
    except ValueError:
        pass
    if value.startswith("xn--") or value.endswith(("-s3alias", "--ol-s3")):
        problems.append("not starting with 'xn--' nor ending with '-s3alias' or '--ol-s3'")
    if problems:
        raise ValueError(f"expected a MinIO/S3 bucket name ({'; '.join(problems)}), got {value!r}")
    return value


# PostgreSQL identifiers (docs: "SQL Syntax - Identifiers and Key Words"): the bootstrap SQL writes the
# role and database names unquoted, so they must be lowercase identifiers of at most NAMEDATALEN - 1 = 63
# bytes that the grammar does not reserve.
_SQL_IDENTIFIER = re.compile(r"[a-z_][a-z0-9_]{0,62}")
POSTGRES_RESERVED_KEYWORDS = frozenset({
    "all", "analyse", "analyze", "and", "any", "array", "as", "asc", "asymmetric", "both", "case", "cast",
    "check", "collate", "column", "constraint", "create", "current_catalog", "current_date", "current_role",
    "current_time", "current_timestamp", "current_user", "default", "deferrable", "desc", "distinct", "do",
    "else", "end", "except", "false", "fetch", "for", "foreign", "from", "grant", "group", "having", "in",
    "initially", "intersect", "into", "lateral", "leading", "limit", "localtime", "localtimestamp", "not",
    "null", "offset", "on", "only", "or", "order", "placing", "primary", "references", "returning", "select",
    "session_user", "some", "symmetric", "system_user", "table", "then", "to", "trailing", "true", "union",
    "unique", "user", "using", "variadic", "when", "where", "window", "with",
})
"""`pg_get_keywords()` category R (kwlist.h RESERVED_KEYWORD; `system_user` since 16): never a bare name."""
POSTGRES_TYPE_FUNC_NAME_KEYWORDS = frozenset({
    "authorization", "binary", "collation", "concurrently", "cross", "current_schema", "freeze", "full",
    "ilike", "inner", "is", "isnull", "join", "left", "like", "natural", "notnull", "outer", "overlaps",
    "right", "similar", "tablesample", "verbose",
})
"""Category T: allowed as a role name (RoleId), not as a database name (ColId) in `CREATE DATABASE`."""
POSTGRES_SUPERUSER = "postgres"
"""The superuser the official image creates (POSTGRES_USER); the infra and the exporter log in as it."""
POSTGRES_SYSTEM_DATABASES = frozenset({"postgres", "template0", "template1"})


def _sql_identifier(value: str, what: str) -> None:
    if not _SQL_IDENTIFIER.fullmatch(value):
        raise ValueError(f"expected a lowercase PostgreSQL identifier for the {what} (a letter or '_', then "
                         f"letters, digits or '_', at most 63 bytes), got {value!r}")
    if value in POSTGRES_RESERVED_KEYWORDS:
        raise ValueError(f"{value!r} is a reserved SQL key word in PostgreSQL; the {what} cannot be named so")


def postgres_role(value: str) -> str:
    """The application's login role: a bare identifier, not the superuser, not a reserved role name."""
    _sql_identifier(value, "role")
    if value == POSTGRES_SUPERUSER:
        raise ValueError(f"{value!r} is the superuser; the application must log in as its own role, or it could "
                         "drop any database and read every role's password hash")
    if value.startswith("pg_"):
        raise ValueError(f"{value!r}: PostgreSQL reserves role names starting with 'pg_' (CREATE ROLE fails)")
    if value in ("public", "none"):
        raise ValueError(f"{value!r} is a reserved role name in PostgreSQL")
    return value


def postgres_table(value: str) -> str:
    """A table named `schema.table` (or `table`, in `public`), each part a bare lowercase identifier: the
    check query names it without quoting, so PostgreSQL's rule for unquoted identifiers applies (SQL
    Syntax, "Identifiers and Key Words": a letter or '_', then letters, digits or '_'; NAMEDATALEN-1 = 63
    bytes; reserved key words need quotes)."""
    parts = value.split(".")
    if len(parts) > 2:
        raise ValueError(f"expected `table` or `schema.table`, got {value!r}")
    for part in parts:
        _sql_identifier(part, "table")
    return value


def postgres_database(value: str) -> str:
    """The application's database: a bare identifier that is not one of the cluster's own databases."""
    _sql_identifier(value, "database")
    if value in POSTGRES_TYPE_FUNC_NAME_KEYWORDS:
        raise ValueError(f"{value!r} is a key word PostgreSQL does not take as a bare database name")
    if value in POSTGRES_SYSTEM_DATABASES:
        raise ValueError(f"{value!r} is one of the cluster's own databases (postgres, template0, template1); "
                         "the application gets a database of its own")
    return value


_RFC3339 = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2})")


def rfc3339_in_the_past(value: str, now: datetime | None = None) -> str:
    """A point-in-time recovery target: CloudNativePG reads `recoveryTarget.targetTime` as RFC 3339 (and
    would take a time without a zone as UTC: a zone is required here, so nobody restores to the wrong hour).
    A target in the future can never be reached: recovery would replay every WAL and then fail."""
    if not _RFC3339.fullmatch(value):
        raise ValueError(f"expected an RFC 3339 time with a zone such as '2026-03-01T14:30:00Z', got {value!r}")
    try:
        moment = datetime.fromisoformat(value.replace("z", "Z").replace("Z", "+00:00"))
    except ValueError as error:
        raise ValueError(f"{value!r} is not a valid time: {error}") from None
    if moment > (now or datetime.now(UTC)):
        raise ValueError(f"{value!r} is in the future; a recovery target must be a moment already archived")
    return value


_BARMAN_RETENTION = re.compile(r"[1-9][0-9]*[dwm]")


def barman_retention(value: str) -> str:
    """The Barman Cloud plugin's `ObjectStore.spec.retentionPolicy`: `XXu`, a positive integer and a unit
    of d, w or m (pattern `^[1-9][0-9]*[dwm]$` in its CRD, barmancloud.cnpg.io v0.13.0)."""
    if not _BARMAN_RETENTION.fullmatch(value):
        raise ValueError(f"expected a retention such as '30d', '4w' or '3m' (days, weeks, months), got {value!r}")
    return value


def odd_members(value: int) -> int:
    """Members that elect a primary by majority (CloudNativePG's failover quorum and a quorum of
    synchronous standbys): an even count adds a member without tolerating one more failure."""
    if value % 2 == 0:
        raise ValueError(f"{value} members cannot hold a majority better than {value - 1}; use an odd count")
    return value


def config_int(value: object) -> object:
    """An integer as written: a JSON number, or ASCII digits as the engine passes scalars ("3").

    pydantic's lax `int` also takes `true` (as 1), `" 3\\n"`, `"1_0"` and `3.0`; none of them is an
    integer to the systems downstream (Go's `strconv.Atoi`, the Kubernetes API's int32/int64 fields), and
    a boolean is always a mistake. Anything else is passed on for pydantic's own bounds."""
    if isinstance(value, bool):
        raise ValueError(f"Input should be a valid integer, not the boolean {str(value).lower()}")
    if isinstance(value, float):
        raise ValueError(f"Input should be a valid integer, not the number {value!r}")
    if isinstance(value, str):
        if not re.fullmatch(r"-?[0-9]+", value):
            raise ValueError(f"Input should be a valid integer (the digits 0-9 only), got {value!r}")
        return int(value)
    return value


def config_bool(value: object) -> object:
    """A boolean as written: `true`/`false` (JSON, or the engine's "true"/"false" text). pydantic's lax
    `bool` also takes 1, 0, "yes", "on" and "t", which YAML 1.1, YAML 1.2 and the Pulumi CLI do not agree on."""
    if isinstance(value, bool):
        return value
    if value in ("true", "false"):
        return value == "true"
    raise ValueError(f"Input should be a valid boolean, true or false, got {value!r}")


def https_url(value: str, what: str) -> str:
    """An https URL with a host, as Go's `net/url.Parse` plus an HTTP client need it (Traefik's ACME
    `caServer`, Slack's webhook): ASCII, no whitespace, a DNS name or IP address, an optional port."""
    from urllib.parse import urlsplit

    problem = None
    if not value.isascii() or any(c.isspace() or not c.isprintable() for c in value):
        problem = "only printable ASCII without spaces"
    else:
        parts = urlsplit(value)
        host = parts.hostname or ""
        try:
            port = parts.port
        except ValueError:
            port, problem = None, "a port from 1 to 65535"
        if parts.scheme != "https":
            problem = "the https:// scheme"
        elif not host or not (_is_host_name(host) or _is_ip(host)):
            problem = "a host (a DNS name or an IP address) after https://"
        elif port == 0:
            problem = "a port from 1 to 65535"
    if problem:
        raise ValueError(f"{what} must be an https:// URL with {problem}, got {value!r}")
    return value


def _is_host_name(host: str) -> bool:
    return len(host) <= DNS1123_SUBDOMAIN_MAX and all(
        len(label) <= DNS1123_LABEL_MAX and re.fullmatch(r"[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?", label)
        for label in host.split("."))


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


# RFC 2606 and RFC 6761 reserve these names for documentation and tests; Let's Encrypt's Boulder refuses
# an account contact there (policy `ValidEmail`: "contact email has forbidden domain").
RESERVED_EMAIL_DOMAINS = frozenset({"example.com", "example.net", "example.org"})
RESERVED_TOP_LEVEL = frozenset({"example", "invalid", "localhost", "test", "local"})


def acme_email(value: str) -> str:
    """An ACME account contact Let's Encrypt accepts: one ASCII address whose domain is a public DNS name,
    not a reserved documentation or test domain."""
    local, at, domain = value.rpartition("@")
    if not at or not local or not re.fullmatch(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+", local):
        raise ValueError(f"expected an e-mail address such as 'ops@dreamscape.ai', got {value!r}")
    domain_name(domain.lower())
    if domain.lower() in RESERVED_EMAIL_DOMAINS or domain.lower().rsplit(".", 1)[-1] in RESERVED_TOP_LEVEL \
            or any(domain.lower().endswith(f".{reserved}") for reserved in RESERVED_EMAIL_DOMAINS):
        raise ValueError(f"{value!r} is at a reserved domain (RFC 2606/6761); Let's Encrypt refuses it as an "
                         "account contact, so no certificate would ever be issued")
    return value


# The Docker client's host grammar (docker/cli `opts.ParseHost`, docker/go-connections `sockets`, and the
# `ssh://` connection helper): one of these schemes, then an address the scheme can dial.
DOCKER_HOST_SCHEMES = ("unix", "tcp", "ssh", "npipe")


def docker_host(value: str) -> str:
    """A Docker daemon address the Docker client can dial (what pulumi-docker's `host` hands it)."""
    from urllib.parse import urlsplit

    scheme, sep, rest = value.partition("://")
    problem = None
    if not value.isascii() or any(c.isspace() for c in value) or not sep or scheme not in DOCKER_HOST_SCHEMES:
        problem = f"one of {', '.join(s + '://' for s in DOCKER_HOST_SCHEMES)} followed by an address"
    elif scheme in ("unix", "npipe"):
        if not rest.startswith("/"):
            problem = f"an absolute socket path after {scheme}://"
    else:
        parts = urlsplit(value)
        try:
            port = parts.port
        except ValueError:
            port, problem = None, "a port from 1 to 65535"
        if problem is None and not parts.hostname:
            problem = f"a host after {scheme}://"
        elif problem is None and scheme == "tcp" and port is None:
            problem = "a port (tcp://host:2376): the Docker client does not guess one for a remote daemon"
        elif problem is None and port == 0:
            problem = "a port from 1 to 65535"
        elif problem is None and scheme == "tcp" and parts.path not in ("", "/"):
            problem = "no path after tcp://host:port"
    if problem:
        raise ValueError(f"docker.host must be {problem}, got {value!r}")
    return value
