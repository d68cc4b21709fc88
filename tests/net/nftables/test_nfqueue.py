"""NFQUEUE: a userspace program bound to a queue answers for each queued packet; accept
goes on after the hook entry that queued it, drop ends the walk with its reason; without a
program the `bypass` flag accepts and its absence drops."""

from playground.net.nfqueue import QueueVerdict

TABLE = """
add table inet q
add chain inet q post {{ type filter hook postrouting priority srcnat - 5 ; }}
add rule inet q post ct state established,related accept
add rule inet q post ip daddr 192.168.2.2 queue num 7{flags}
add rule inet q post ip saddr 192.168.2.2 queue num 7{flags}
"""
SNAT = """
add table ip n
add chain ip n post { type nat hook postrouting priority srcnat ; }
add rule ip n post oifname "wan" masquerade
"""


class Program:
    name = "judge"

    def __init__(self, allowed_ports):
        self.allowed, self.seen = allowed_ports, []

    def verdict(self, ns_name, packet, hook, in_dev, out_dev):
        self.seen.append((ns_name, packet, hook))
        if packet.dport in self.allowed:
            return QueueVerdict("accept", f"port {packet.dport} is allowed", self.name)
        return QueueVerdict("drop", f"port {packet.dport} is not", self.name)


def world_with(world, flags="", program=None):
    router = world.namespace("router")
    router.nft.run(TABLE.format(flags=flags) + SNAT)
    if program is not None:
        router.bind_queue(7, program)
    return world


def queue_hops(trace):
    return [h for h in trace.hops if h.event == "nfqueue"]


def test_an_accepted_packet_goes_on_to_the_next_hook_entry(world):
    program = Program({80})
    world = world_with(world, program=program)
    trace = world.send("client", "192.168.2.2", "tcp", 80)
    assert trace.verdict == "delivered"
    hop, = queue_hops(trace)
    assert hop.detail == "queue 7: judge → accept: port 80 is allowed"
    assert hop.packet_before == hop.packet_after
    # the masquerade at srcnat, after the queue at srcnat - 5, still ran
    assert str(trace.delivered_packet.src) == "192.168.2.1"
    events = [h.event for h in trace.hops if h.where == "router"]
    assert events.index("nfqueue") < max(i for i, e in enumerate(events) if e == "nftables")
    assert len(program.seen) == 1 and program.seen[0][2] == "POSTROUTING"


def test_a_reply_passes_by_the_tables_conntrack_rule_unqueued(world):
    program = Program({53})
    world = world_with(world, program=program)
    ask = world.send("client", "192.168.2.2", "udp", 53)
    assert ask.verdict == "delivered" and len(program.seen) == 1
    arrived = ask.delivered_packet
    # from 192.168.2.2, which a rule queues, but established: accepted before the queue
    answer = world.send("server", arrived.src, "udp", arrived.sport, owner="dns", sport=53)
    assert answer.verdict == "delivered" and len(program.seen) == 1
    assert not queue_hops(answer)


def test_a_dropped_packet_ends_with_the_programs_reason(world):
    world = world_with(world, program=Program({80}))
    trace = world.send("client", "192.168.2.2", "tcp", 81)
    assert trace.verdict == "dropped"
    assert trace.reason == "dropped by judge (queue 7) in router: port 81 is not"
    assert queue_hops(trace)[0].detail.endswith("→ drop: port 81 is not")


def test_without_a_program_bypass_accepts_and_no_bypass_drops(world, new_world):
    open_world = world_with(world, " bypass")
    trace = open_world.send("client", "192.168.2.2", "tcp", 80)
    assert trace.verdict == "delivered"
    assert "no program is bound; the rule's bypass flag → accept" in queue_hops(trace)[0].detail
    closed = world_with(new_world()).send("client", "192.168.2.2", "tcp", 80)
    assert closed.verdict == "dropped" and "queued to 7" in closed.reason
    assert "no program listens" in closed.reason


def test_one_program_per_queue(world):
    world = world_with(world, program=Program({80}))
    router = world.namespace("router")
    try:
        router.bind_queue(7, Program({81}))
    except ValueError as error:
        assert str(error) == "queue 7 in router is already bound by judge"
    else:
        raise AssertionError("a second program bound queue 7")
    router.unbind_queue(7)
    assert "no program listens" in world.send("client", "192.168.2.2", "tcp", 80).reason
