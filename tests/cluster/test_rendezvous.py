"""Where new rooms go: rendezvous hashing weighted by load (``server.cluster.rendezvous``)."""

from __future__ import annotations

from collections import Counter

from server.cluster.rendezvous import choose
from tests.cluster.conftest import names_placing, node

ROOMS = range(1, 51)


def test_fifty_rooms_spread_over_three_idle_nodes() -> None:
    nodes = [node(f"node-{i}") for i in range(3)]
    placed = Counter(choose(room, nodes).id for room in ROOMS)  # type: ignore[union-attr]
    print(dict(placed))
    assert set(placed) == {"node-0", "node-1", "node-2"}
    assert min(placed.values()) >= 10, placed  # 16.7 each in expectation


def test_every_node_agrees_whatever_order_it_lists_the_nodes_in() -> None:
    nodes = [node(f"node-{i}") for i in range(5)]
    for room in ROOMS:
        assert choose(room, nodes) == choose(room, list(reversed(nodes)))


def test_a_node_leaving_moves_only_its_own_rooms_and_a_new_one_takes_only_rooms() -> None:
    three = [node(f"node-{i}") for i in range(3)]
    two = three[:2]
    before = {room: choose(room, three) for room in ROOMS}
    after = {room: choose(room, two) for room in ROOMS}
    moved = {room for room in ROOMS if before[room] != after[room]}
    assert moved == {room for room in ROOMS if before[room] == three[2]}


def test_a_busy_node_gets_fewer_new_rooms() -> None:
    idle = [node(f"node-{i}") for i in range(3)]
    busy = [node("node-0", cpu=1.5, sites=40), *idle[1:]]
    rooms = range(1, 601)
    fair = Counter(choose(room, idle).id for room in rooms)  # type: ignore[union-attr]
    loaded = Counter(choose(room, busy).id for room in rooms)  # type: ignore[union-attr]
    print(dict(fair), dict(loaded))
    # weight 1/(1 + 1.5 + 40/32) = 0.27 against 1: about 0.27/2.27 of the rooms, 12%
    assert loaded["node-0"] < fair["node-0"] / 2, (fair, loaded)
    assert 0.06 < loaded["node-0"] / len(rooms) < 0.2, loaded


def test_no_node_no_choice() -> None:
    assert choose(1, []) is None


def test_names_placing_a_room_are_found() -> None:
    a, b = names_placing(1, ("a", "b"))
    assert choose(1, [node(a, cpu=0.0), node(b, cpu=1.0)]).id == a  # type: ignore[union-attr]
    assert choose(1, [node(a, cpu=1.0), node(b, cpu=0.0)]).id == a  # type: ignore[union-attr]
