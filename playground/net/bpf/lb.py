"""Cilium's load-balancing maps: frontends with their backend slots, backends by ID, and
the reverse-NAT table, kept as the agent writes them and dumped as `cilium` prints them.

Slot 0 of a frontend is its master entry (backend count, rev-NAT ID, flags); slots 1..n
each name a backend ID, looked up in the backend map.
"""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Address

from playground.net.bpf.maps import BpfMap
from playground.net.bpf.tabwriter import tabwrite

SERVICES, BACKENDS, REVNAT = "cilium_lb4_services_v2", "cilium_lb4_backends_v3", \
    "cilium_lb4_reverse_nat"
ANY = IPv4Address("0.0.0.0")


@dataclass(frozen=True, slots=True, order=True)
class Frontend:
    address: IPv4Address
    port: int
    proto: str  # "TCP" or "UDP"

    def text(self) -> str:
        return f"{self.address}:{self.port}/{self.proto}"


@dataclass(frozen=True, slots=True)
class ServiceKey:
    frontend: Frontend
    slot: int


@dataclass(frozen=True, slots=True)
class ServiceValue:
    backend_id: int
    count: int
    rev_nat: int
    flags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Backend:
    address: IPv4Address
    port: int
    proto: str

    def text(self) -> str:
        return f"{self.address}:{self.port}/{self.proto}"


@dataclass(frozen=True, slots=True)
class Selection:
    """What a lookup found: the frontend's master entry and, if any, the chosen backend."""

    frontend: Frontend
    master: ServiceValue
    slot: int = 0
    backend_id: int = 0
    backend: Backend | None = None

    def entry(self) -> str:
        """The map entries that decided, as `cilium bpf lb list` shows them."""
        head = f"{SERVICES} {self.frontend.text()} → 0.0.0.0:0 ({self.master.rev_nat}) (0) " \
               f"[{', '.join(self.master.flags)}]"
        if self.backend is None:
            return head
        return (f"{head}; slot {self.slot} → backend {self.backend_id}; {BACKENDS} "
                f"{self.backend_id} → {self.backend.text()}")


class LoadBalancerMaps:
    def __init__(self) -> None:
        self.services = BpfMap(SERVICES, "hash", 65536)
        self.backends = BpfMap(BACKENDS, "hash", 65536)
        self.reverse_nat = BpfMap(REVNAT, "hash", 65536)
        self.rev_nat_ids: dict[Frontend, int] = {}
        self.backend_ids: dict[Backend, int] = {}
        self.backend_users: dict[int, set[Frontend]] = {}

    # writing, as the agent does: backends first, then the frontend's slots

    def upsert(self, frontend: Frontend, backends: list[Backend], flags: tuple[str, ...],
               revnat_address: Frontend | None = None) -> None:
        rev_nat = self.rev_nat_ids.get(frontend) or self._free_id(set(self.rev_nat_ids.values()))
        self.rev_nat_ids[frontend] = rev_nat
        ids = [self._backend_id(backend, frontend) for backend in backends]
        old = self.services.lookup(ServiceKey(frontend, 0))
        for slot, backend_id in enumerate(ids, start=1):
            self.services.update(ServiceKey(frontend, slot), ServiceValue(backend_id, 0, rev_nat))
        self.services.update(ServiceKey(frontend, 0), ServiceValue(0, len(ids), rev_nat, flags))
        for slot in range(len(ids) + 1, (old.count if old else 0) + 1):
            self.services.delete(ServiceKey(frontend, slot))
        self._release_unused(frontend, set(ids))
        self.reverse_nat.update(rev_nat, revnat_address or frontend)

    def delete(self, frontend: Frontend) -> None:
        master = self.services.lookup(ServiceKey(frontend, 0))
        if master is None:
            return
        for slot in range(master.count + 1):
            self.services.delete(ServiceKey(frontend, slot))
        self.reverse_nat.delete(master.rev_nat)
        del self.rev_nat_ids[frontend]
        self._release_unused(frontend, set())

    def _backend_id(self, backend: Backend, frontend: Frontend) -> int:
        backend_id = self.backend_ids.get(backend)
        if backend_id is None:
            backend_id = self._free_id(set(self.backend_ids.values()))
            self.backend_ids[backend] = backend_id
            self.backends.update(backend_id, backend)
        self.backend_users.setdefault(backend_id, set()).add(frontend)
        return backend_id

    def _release_unused(self, frontend: Frontend, keep: set[int]) -> None:
        for backend_id, users in list(self.backend_users.items()):
            if backend_id in keep:
                continue
            users.discard(frontend)
            if not users:
                del self.backend_users[backend_id]
                backend = self.backends.lookup(backend_id)
                self.backends.delete(backend_id)
                self.backend_ids.pop(backend, None)

    @staticmethod
    def _free_id(taken: set[int]) -> int:
        candidate = 1
        while candidate in taken:
            candidate += 1
        return candidate

    # reading, as the programs do

    def master(self, frontend: Frontend) -> ServiceValue | None:
        return self.services.lookup(ServiceKey(frontend, 0))

    def select(self, frontend: Frontend, slot: int) -> Selection:
        master = self.services.lookup(ServiceKey(frontend, 0))
        value = self.services.lookup(ServiceKey(frontend, slot))
        backend = self.backends.lookup(value.backend_id)
        return Selection(frontend, master, slot, value.backend_id, backend)

    def backend_of(self, frontend: Frontend, backend_id: int) -> Selection | None:
        """The frontend's selection for a backend a conntrack entry remembers."""
        master = self.master(frontend)
        backend = self.backends.lookup(backend_id)
        if master is None or backend is None:
            return None
        return Selection(frontend, master, 0, backend_id, backend)

    # dumps

    def frontends(self) -> list[Frontend]:
        return sorted(key.frontend for key in self.services.entries if key.slot == 0)

    def lb_list(self) -> str:
        """`cilium bpf lb list`."""
        rows = [["SERVICE ADDRESS", "BACKEND ADDRESS (REVNAT_ID) (SLOT)"]]
        for frontend in self.frontends():
            master = self.master(frontend)
            rows.append([frontend.text(), f"0.0.0.0:0 ({master.rev_nat}) (0) "
                         f"[{', '.join(master.flags)}]"])
            for slot in range(1, master.count + 1):
                value = self.services.lookup(ServiceKey(frontend, slot))
                backend = self.backends.lookup(value.backend_id)
                text = f"{backend.text()} ({master.rev_nat}) ({slot})" if backend else \
                    f"backend {value.backend_id} not found"
                rows.append(["", text])
        return tabwrite(rows)

    def service_list(self) -> str:
        """`cilium service list`."""
        rows = [["ID", "Frontend", "Service Type", "Backend"]]
        by_id = sorted(self.frontends(), key=lambda f: self.master(f).rev_nat)
        for frontend in by_id:
            master = self.master(frontend)
            kind = master.flags[0] if master.flags else ""
            backends = [self.backends.lookup(self.services.lookup(ServiceKey(frontend, s))
                                             .backend_id) for s in range(1, master.count + 1)]
            first = f"1 => {backends[0].text()} (active)" if backends else ""
            rows.append([str(master.rev_nat), frontend.text(), kind, first])
            for number, backend in enumerate(backends[1:], start=2):
                rows.append(["", "", "", f"{number} => {backend.text()} (active)"])
        return "".join(line.rstrip() + "\n" for line in tabwrite(rows).splitlines())
