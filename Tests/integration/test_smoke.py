def test_person_cycle_from_the_spec(client):
    """SPEC §2.3's worked exchange, end to end."""
    assert client.call("subscribe", events=["finalize", "freed", "gc.stop"]) == {"events": ["finalize", "freed", "gc.stop"]}
    alice = client.call("allocate", type="Person", data={"name": "Alice"})["id"]
    bob = client.call("allocate", type="Person", data={"name": "Bob"}, finalizer=True)["id"]
    assert client.call("set", id=alice, fields={"partner": bob})["refcount"] == 1
    assert client.call("set", id=bob, fields={"partner": alice})["refcount"] == 2
    assert client.call("unref", id=alice) == {"id": alice, "refcount": 1, "freed": []}
    assert client.call("unref", id=bob) == {"id": bob, "refcount": 1, "freed": []}
    result = client.call("collect")
    assert (result["collected"], result["unreachable"], result["uncollectable"]) == (2, 2, 0)
    methods = [n["method"] for n in client.take_notifications()]
    assert methods == ["finalize", "freed", "gc.stop"]
    reply = client.request("get", {"id": alice})
    assert reply["error"]["code"] == -32001
    assert reply["error"]["data"] == {"id": alice, "state": "freed"}
