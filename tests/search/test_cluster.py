"""A cluster, not a node: three real Elasticsearch nodes, one index with a replica of each shard;
one node stops and searches still answer, writes resume.

The nodes are separate JVMs of the distribution ``scripts/services.sh`` prepared
(``KHO_TEST_ELASTICSEARCH_HOME``, with Kho's analysis plugin), on free loopback ports.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from search import open_backend
from search.documents import IndexDocument
from search.elasticsearch import ElasticsearchBackend
from search.query import Principal, parse_query

ES_HOME = os.environ.get("KHO_TEST_ELASTICSEARCH_HOME", "")

pytestmark = [
    pytest.mark.elasticsearch,
    pytest.mark.slow,
    pytest.mark.skipif(not ES_HOME,
                       reason="KHO_TEST_ELASTICSEARCH_HOME is not set (scripts/services.sh env)"),
]

NODES = 3
HEAP = "256m"
JIT = "-XX:TieredStopAtLevel=1"  # C1 only: a node that lives one test needs no C2 (half the CPU)
AUDITOR = Principal("kt1", everything=True)  # Kho's own checks: every document


def doc(doc_id: str, **kw: object) -> IndexDocument:
    return IndexDocument(id=doc_id, version=1, direction="den", owner_unit="UNIT-A", **kw)  # type: ignore[arg-type]


DOCS = [
    doc(f"d-{i:03d}", title=f"Quyết định số {i} ban hành quy chế văn bản điện tử",
        so_ky_hieu=f"{i}/QĐ-UBND", text=f"Quy chế quản lý văn bản điện tử, phần {i}.")
    for i in range(1, 41)
]


def _free_ports(count: int) -> list[int]:
    socks = []
    for _ in range(count):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        socks.append(s)
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


def _java_home() -> str:
    java = Path(shutil.which("java") or "java").resolve()
    return str(java.parent.parent)


class Node:
    def __init__(self, name: str, base: Path, http: int, transport: int) -> None:
        self.name, self.base, self.http, self.transport = name, base, http, transport
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http}"

    def start(self, cluster: str, seeds: list[int], masters: list[str]) -> None:
        for sub in ("data", "logs", "tmp"):
            (self.base / sub).mkdir(parents=True, exist_ok=True)
        shutil.copytree(Path(ES_HOME) / "config", self.base / "config", dirs_exist_ok=True)
        prefix: list[str] = []
        if os.geteuid() == 0:  # Elasticsearch refuses root: run as nobody, as services.sh does
            for path in [self.base, *self.base.rglob("*")]:
                os.chown(path, 65534, 65534)
            prefix = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--"]
        env = {**os.environ, "ES_JAVA_HOME": _java_home(), "ES_PATH_CONF": str(self.base / "config"),
               "ES_TMPDIR": str(self.base / "tmp"), "ES_JAVA_OPTS": f"-Xms{HEAP} -Xmx{HEAP} {JIT}"}
        settings = {
            "cluster.name": cluster, "node.name": self.name, "network.host": "127.0.0.1",
            "http.port": self.http, "transport.port": self.transport,
            "discovery.seed_hosts": ",".join(f"127.0.0.1:{p}" for p in seeds),
            "cluster.initial_master_nodes": ",".join(masters),
            "path.data": self.base / "data", "path.logs": self.base / "logs",
            "xpack.security.enabled": "false",
            "cluster.routing.allocation.disk.threshold_enabled": "false",
        }
        args = [f"-E{k}={v}" for k, v in settings.items()]
        log = open(self.base / "out.log", "wb")  # noqa: SIM115 - owned by the process
        self.proc = subprocess.Popen([*prefix, str(Path(ES_HOME) / "bin" / "elasticsearch"), *args],
                                     env=env, stdout=log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, start_new_session=True)

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def log_tail(self) -> str:
        path = self.base / "out.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""


def _health(url: str, **params: str) -> dict:
    import requests

    return requests.get(f"{url}/_cluster/health", params=params, timeout=40).json()


@pytest.fixture
def cluster() -> Iterator[list[Node]]:
    base = Path(tempfile.mkdtemp(prefix="kho-es-cluster-"))
    base.chmod(0o755)  # readable by the unprivileged node user
    ports = _free_ports(2 * NODES)
    nodes = [Node(f"kho-{i + 1}", base / f"node-{i + 1}", ports[i], ports[NODES + i])
             for i in range(NODES)]
    names = [n.name for n in nodes]
    try:
        for node in nodes:
            node.start(f"kho-cluster-{base.name}", [n.transport for n in nodes], names)
        deadline = time.monotonic() + 300
        while True:
            for node in nodes:
                if node.proc is not None and node.proc.poll() is not None:
                    pytest.fail(f"{node.name} exited while starting:\n{node.log_tail()}")
            try:
                health = _health(nodes[0].url, wait_for_nodes=str(NODES), timeout="2s")
                if health.get("number_of_nodes") == NODES:
                    break
            except Exception:  # not listening yet
                pass
            if time.monotonic() > deadline:
                pytest.fail("the 3-node cluster did not form in 300 s:\n" + nodes[0].log_tail())
            time.sleep(1)
        yield nodes
    finally:
        for node in nodes:
            node.stop()
        shutil.rmtree(base, ignore_errors=True)


def test_one_node_stops_searches_answer_and_writes_resume(cluster, monkeypatch):
    urls = ",".join(n.url for n in cluster)
    monkeypatch.setenv("KHO_ELASTICSEARCH_INDEX", "kho-cluster")
    monkeypatch.setenv("KHO_ELASTICSEARCH_SHARDS", "2")
    monkeypatch.setenv("KHO_ELASTICSEARCH_REPLICAS", "1")
    backend = open_backend(urls)
    assert isinstance(backend, ElasticsearchBackend)
    backend.refresh = True
    backend._live.refresh = True
    try:
        (index,) = backend._indices_of("kho-cluster")
        settings = backend.es.indices.get_settings(index=index)[index]["settings"]["index"]
        assert (settings["number_of_shards"], settings["number_of_replicas"]) == ("2", "1")
        assert backend.index(DOCS) == len(DOCS)
        assert _health(cluster[0].url, wait_for_status="green", timeout="60s")["status"] == "green"
        # Every shard has a copy on two different nodes: stopping any one loses nothing.
        before = backend.search(parse_query("quy chế văn bản điện tử", AUDITOR)).ids

        cluster[2].stop()
        health = _health(cluster[0].url, wait_for_nodes=str(NODES - 1), timeout="60s")
        assert health["number_of_nodes"] == NODES - 1
        assert backend.search(parse_query("quy chế văn bản điện tử", AUDITOR)).ids == before
        assert backend.count() == len(DOCS)
        # Writes resume (the replicas of the lost node's primaries were promoted).
        assert backend.index([doc("d-after", title="Văn bản sau khi một nút dừng")]) == 1
        assert backend.search(parse_query("sau khi một nút dừng", AUDITOR)).ids == ["d-after"]
        assert _health(cluster[0].url, wait_for_status="yellow", timeout="30s")["status"] in (
            "yellow", "green")
    finally:
        backend.drop_all()
        backend.close()
