"""Which pages may open a socket on a node: its own, and in a cluster every live node's (a page
served by node B follows the room to node A)."""

import dataclasses

from server.accounts.socket_server import allowed_origins
from server.config import Config


def test_own_origin_and_the_live_nodes_origins_only(config: Config) -> None:
    node = dataclasses.replace(config, public_url="https://a.concord.example/")
    live = ["https://a.concord.example", "http://127.0.0.1:8081/"]
    allowed = allowed_origins(node, lambda: live)
    assert allowed("https://a.concord.example")
    assert allowed("http://127.0.0.1:8081")
    assert not allowed("http://127.0.0.1:8082")
    assert not allowed("https://evil.example")
    assert not allowed(None)
    live.clear()  # node 8081 died: its pages no longer
    assert not allowed("http://127.0.0.1:8081")
    assert allowed_origins(node, list)("https://a.concord.example")
