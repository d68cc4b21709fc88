"""Hubble's flow log of the lab's packets: who each address is, where a packet was seen,
what became of it, and the two shapes `hubble observe` prints (compact and JSON)."""
