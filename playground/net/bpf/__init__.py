"""A small model of eBPF: maps, programs with a name and an ELF section, and the hooks
(cgroup socket calls, tc ingress/egress of a device) the packet walk runs them at.

Nothing here knows about Kubernetes; `cilium` holds the programs and maps Cilium loads.
"""
