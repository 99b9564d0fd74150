"""Several hosts, one service: two gunicorn app processes and a task-queue worker sharing one PostgreSQL, one S3
bucket (moto's server) and one Redis, driven over HTTP as a load balancer would spread one person's requests.

- a session made by signing in on one host is honoured by the other;
- the login rate limit counts attempts on both hosts together (Redis), not per process;
- a key rotated through one host signs the next badge issued through the other (no process keeps a stale key);
- a badge revoked through one host is revoked on the other's page and verifier at once (no stale cache);
- the revocation's notice is delivered by the worker, a third process;
- evidence uploaded through one host is downloaded through the other (S3).
"""

from __future__ import annotations

import base64
import io
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pikepdf
import pytest
import redis
import requests
import sqlalchemy as sa

from core.config import PROJECT_ROOT
from core.demo import DEMO_DOMAIN, DEMO_ORG_SLUG, demo_password
from tests.conftest import S3_TEST_SETTINGS, TEST_SECRET_KEY, make_test_config, recreate_database

pytestmark = [pytest.mark.postgres, pytest.mark.redis]
RATE = 8  # login attempts per minute per client address, across hosts


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Service:
    def __init__(self, env: dict[str, str], logs: Path) -> None:
        self.env, self.logs = env, logs
        self.processes: list[subprocess.Popen[bytes]] = []
        self.hosts: list[str] = []

    def flask(self, *args: str) -> str:
        done = subprocess.run(  # noqa: S603 (our own interpreter, fixed arguments)
            [sys.executable, "-m", "flask", *args], cwd=PROJECT_ROOT, env=self.env, capture_output=True, check=False
        )
        assert done.returncode == 0, done.stdout.decode() + done.stderr.decode()
        return done.stdout.decode()

    def _start(self, name: str, argv: list[str]) -> subprocess.Popen[bytes]:
        log = (self.logs / f"{name}.log").open("wb")
        process = subprocess.Popen(  # noqa: S603 (our own interpreter, fixed arguments)
            argv, cwd=PROJECT_ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        self.processes.append(process)
        return process

    def start_host(self) -> str:
        port = _free_port()
        name = f"host-{len(self.hosts)}"
        self._start(
            name,
            [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "--bind", f"127.0.0.1:{port}",
             "--workers", "1", "--threads", "4", "--access-logfile", "-", "wsgi:app"],
        )  # fmt: skip
        url = f"http://127.0.0.1:{port}"
        self._wait(lambda: requests.get(url + "/healthz", timeout=2).ok, f"{name} to start")
        self.hosts.append(url)
        return url

    def start_worker(self) -> None:
        self._start("worker", [sys.executable, "-m", "flask", "worker", "--threads", "2"])

    def _wait(self, condition: Any, what: str, timeout: float = 60) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                result = condition()
            except requests.RequestException:
                result = None
            if result:
                return result
            time.sleep(0.2)
        raise AssertionError(f"timed out waiting for {what}\n{self.tail()}")

    def tail(self) -> str:
        return "\n".join(p.read_text(errors="replace")[-2500:] for p in sorted(self.logs.glob("*.log")))

    def close(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)


@pytest.fixture
def service(redis_url: str, s3_server: str, s3_bucket: str, tmp_path: Path) -> Iterator[Service]:
    prefix = f"microcred-hosts-{uuid.uuid4().hex[:10]}"
    settings = make_test_config(
        recreate_database("hosts"),
        **S3_TEST_SETTINGS,
        S3_ENDPOINT_URL=s3_server,
        STORAGE_URL=f"s3://{s3_bucket}/{prefix}",
        TASK_QUEUE_URL=redis_url,
        TASK_QUEUE_PREFIX=prefix,
        TASK_SCHEDULE="",
        RATELIMIT_STORAGE_URI=redis_url,
        LOGIN_RATE_LIMIT=f"{RATE} per minute",
    )
    env = {**os.environ, **{k: str(v) for k, v in settings.items()}, "SECRET_KEY": TEST_SECRET_KEY}
    env |= {"FLASK_APP": "wsgi", "PYTHONUNBUFFERED": "1", "GUNICORN_CMD_ARGS": ""}
    made = Service(env, tmp_path)
    try:
        made.flask("db", "upgrade")
        made.flask("demo")
        made.start_host()
        made.start_host()
        made.start_worker()
        yield made
    finally:
        made.close()
        client = redis.Redis.from_url(redis_url)
        keys = list(client.scan_iter(match=f"*{prefix}*", count=1000)) + list(client.scan_iter("LIMITS*", count=1000))
        if keys:
            client.delete(*keys)
        recreate_database("hosts", create=False)


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', html
    )
    assert match, "no CSRF token on the page"
    return match.group(1)


def _kid(jwt: str) -> str:
    header = jwt.split(".")[0]
    kid = json.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4)))["kid"]
    return kid.rsplit("/", 1)[-1]  # the key's URL ends in its id


def test_two_hosts_and_a_worker_behave_as_one_service(service: Service) -> None:
    a, b = service.hosts
    admin_email = f"admin@{DEMO_DOMAIN}"

    # Sessions: signed in on A, known on B.
    browser = requests.Session()
    form = browser.get(f"{a}/login", timeout=10).text
    signed_in = browser.post(
        f"{a}/login",
        data={"csrf_token": _csrf(form), "email": admin_email, "password": demo_password("admin")},
        allow_redirects=False,
        timeout=10,
    )
    assert signed_in.status_code == 302, signed_in.text[:500]
    on_b = browser.get(f"{b}/account", allow_redirects=False, timeout=10)
    assert on_b.status_code == 200 and admin_email in on_b.text

    token = requests.post(
        f"{b}/api/v1/auth/token", json={"email": admin_email, "password": demo_password("admin")}, timeout=10
    ).json()["access_token"]
    auth = {"Authorization": f"Bearer {token}"}
    orgs = requests.get(f"{a}/api/v1/organisations", headers=auth, timeout=10).json()
    org = next(o for o in orgs if o["slug"] == DEMO_ORG_SLUG)["id"]
    badges = requests.get(f"{a}/api/v1/organisations/{org}/badges?page_size=100", headers=auth, timeout=10).json()
    candidates = [x for x in badges if x["status"] == "valid" and not x["renewed_from_id"]]

    # Key rotation through A signs the next badge issued through B (B had signed with the old key before).
    old_jwt = requests.get(f"{b}/badges/{candidates[0]['id']}.jwt", timeout=10).text
    rotated = requests.post(f"{a}/api/v1/organisations/{org}/signing-keys/rotate", headers=auth, timeout=30)
    assert rotated.status_code == 201, rotated.text
    new_kids = {k["kid"] for k in rotated.json()}
    assert _kid(old_jwt) not in new_kids
    for valid in candidates:  # (a demo badge whose earner is renewing it by evidence answers 409)
        renewed = requests.post(f"{b}/api/v1/badges/{valid['id']}/renew", headers=auth, timeout=30)
        if renewed.status_code != 409:
            break
    assert renewed.status_code == 201, renewed.text
    fresh = renewed.json()["id"]
    fresh_jwt = requests.get(f"{a}/badges/{fresh}.jwt", timeout=10).text
    assert _kid(fresh_jwt) in new_kids
    method = requests.get(f"{b}/badges/{fresh}.json", timeout=10).json()["proof"][0]["verificationMethod"]
    old_method = requests.get(f"{b}/badges/{valid['id']}.json", timeout=10).json()["proof"][0]["verificationMethod"]
    assert method != old_method  # the Data Integrity proof too is made with the rotated key
    for host in (a, b):
        report = requests.post(f"{host}/api/v1/verify", json={"credential": fresh_jwt}, timeout=30).json()
        assert report["status"] == "valid" and report["verified"], report

    # Revoked through A: B's page and verifier say so at once, though B had just served and verified it.
    assert "VALID" in requests.get(f"{b}/badges/{fresh}", headers={"Accept": "text/html"}, timeout=10).text
    revoked = requests.post(
        f"{a}/api/v1/badges/{fresh}/revoke", json={"reason": "Issued twice"}, headers=auth, timeout=30
    )
    assert revoked.status_code == 200, revoked.text
    page = requests.get(f"{b}/badges/{fresh}", headers={"Accept": "text/html"}, timeout=10).text
    assert "REVOKED" in page and "Issued twice" in page
    report = requests.post(f"{b}/api/v1/verify", json={"credential": fresh_jwt}, timeout=30).json()
    assert report["status"] == "revoked"

    # The worker, a third process, delivers the earner's notice (no SMTP here: to its log, marked sent).
    service._wait(lambda: "has been revoked" in (service.logs / "worker.log").read_text(errors="replace"),
                  "the worker to deliver the revocation notice")  # fmt: skip

    # Evidence through A, read back through B (one S3 bucket).
    earner = requests.post(
        f"{a}/api/v1/auth/token",
        json={"email": f"earner@{DEMO_DOMAIN}", "password": demo_password("earner")},
        timeout=10,
    ).json()["access_token"]
    mine = {"Authorization": f"Bearer {earner}"}
    with sa.create_engine(service.env["DATABASE_URL"], poolclass=sa.pool.NullPool).connect() as db:
        draft, key = db.execute(
            sa.text(
                "SELECT s.id, r.key FROM submissions s JOIN users u ON u.id = s.earner_id"
                " JOIN requirements r ON r.version_id = s.version_id"
                " WHERE u.email = :email AND s.state = 'draft' AND r.evidence_kind = 'file' LIMIT 1"
            ),
            {"email": f"earner@{DEMO_DOMAIN}"},
        ).one()
    pdf = pikepdf.new()
    pdf.add_blank_page(page_size=(200, 100))
    pdf.docinfo["/Title"] = f"Plan {uuid.uuid4()}"
    out = io.BytesIO()
    pdf.save(out)
    document = out.getvalue()
    uploaded = requests.post(
        f"{a}/api/v1/submissions/{draft}/files",
        data={"requirement_key": key},
        files={"file": ("plan.pdf", document, "application/pdf")},
        headers=mine,
        timeout=30,
    )
    assert uploaded.status_code == 201, uploaded.text
    file_id = uploaded.json()[0]["id"]
    download = requests.get(f"{b}/api/v1/submissions/{draft}/files/{file_id}", headers=mine, timeout=30)
    assert download.status_code == 200 and download.content == document  # (B answers with S3's presigned URL)

    # The login rate limit is one count for the service: alternating hosts does not double it.
    answers = [
        requests.post(
            f"{(a, b)[i % 2]}/api/v1/auth/token", json={"email": admin_email, "password": "wrong"}, timeout=10
        ).status_code
        for i in range(RATE + 1)
    ]
    assert 429 in answers, answers  # per-process counters would allow 2 x RATE attempts
