"""Where a client goes when its node stops answering: entry first, then each listed node."""

from server.live.cluster_urls import NodeUrls


def test_the_entry_node_then_each_listed_node_in_turn_from_the_entry_again_after_a_join() -> None:
    urls = NodeUrls("http://a/")
    assert [urls.next(), urls.next()] == ["http://a", "http://a"]  # nothing listed yet
    urls.joined({"nodes": ["http://b/", "http://a", "http://c", 7, ""]})
    assert [urls.next() for _ in range(4)] == ["http://a", "http://b", "http://c", "http://a"]
    urls.update({"nodes": ["http://c"]})  # cluster.nodes: B died
    assert urls.listed == ["http://c"]
    urls.joined({"ok": True})  # an answer without a list keeps the last one
    assert [urls.next(), urls.next()] == ["http://a", "http://c"]
    urls.update("not a dict")
    assert urls.listed == ["http://c"]


def test_a_node_that_refused_a_connection_is_skipped_for_a_few_seconds() -> None:
    urls = NodeUrls("http://a")
    urls.joined({"nodes": ["http://a", "http://b", "http://c"]})
    urls.failed("http://b/")
    assert urls.dead("http://b") and not urls.dead("http://c")
    assert [urls.next() for _ in range(3)] == ["http://a", "http://c", "http://a"]
    for url in ("http://a", "http://c"):
        urls.failed(url)
    assert urls.next() == "http://a"  # all refused: the entry
