"""Names in the lab: CoreDNS's `kubernetes` plugin over the API objects, its `forward` and
`cache`, the internet's resolver, each pod's resolv.conf and glibc's stub resolver."""
