"""The kubernetes plugin's answers, asked of the CoreDNS program of the default lab."""

import dns.message
import dns.rcode
import dns.rdatatype
import pytest

from playground.cluster.dns.kubernetes import NameError_, parse_request
from playground.cluster.service import ServicePort


def ask(lab, name, rdtype="A", forward=lambda query: None):
    query = dns.message.make_query(name, rdtype, id=7)
    return lab.coredns.serve("pod/kube-system/coredns-x", query, lab.network.clock, forward)


def records(response, rdtype="A"):
    return sorted(item.to_text() for r in response.answer if r.rdtype ==
                  dns.rdatatype.from_text(rdtype) for item in r)


def test_a_cluster_ip_service_answers_its_cluster_ip_authoritatively(lab):
    served = ask(lab, "web.default.svc.cluster.local.")
    web = lab.api.peek("Service", "default", "web")
    assert records(served.response) == [web.spec.cluster_ip]
    assert served.response.answer[0].ttl == 30
    assert dns.flags.to_text(served.response.flags) == "QR AA RD"
    assert served.how == "kubernetes"


def test_names_are_case_insensitive(lab):
    assert records(ask(lab, "WEB.Default.SVC.cluster.local.").response)


@pytest.mark.parametrize("name", ["nope.default.svc.cluster.local.",
                                  "web.nosuchns.svc.cluster.local.",
                                  "web.default.nothing.cluster.local.",
                                  "a.b.c.web.default.svc.cluster.local."])
def test_names_that_do_not_exist_are_nxdomain_with_the_zone_soa(lab, name):
    response = ask(lab, name).response
    assert response.rcode() == dns.rcode.NXDOMAIN
    soa = response.authority[0]
    assert soa.name.to_text() == "cluster.local." and soa.rdtype == dns.rdatatype.SOA
    assert soa[0].mname.to_text() == "ns.dns.cluster.local." and soa[0].minimum == 30


@pytest.mark.parametrize("name,rdtype", [("web.default.svc.cluster.local.", "AAAA"),
                                         ("web.default.svc.cluster.local.", "TXT"),
                                         ("default.svc.cluster.local.", "A"),
                                         ("svc.cluster.local.", "A")])
def test_names_that_exist_without_the_type_are_nodata(lab, name, rdtype):
    response = ask(lab, name, rdtype).response
    assert response.rcode() == dns.rcode.NOERROR and not response.answer
    assert response.authority[0].rdtype == dns.rdatatype.SOA


def test_srv_for_a_named_port_points_at_the_service_with_its_address_as_extra(lab):
    response = ask(lab, "_http._tcp.web.default.svc.cluster.local.", "SRV").response
    assert records(response, "SRV") == ["0 100 80 web.default.svc.cluster.local."]
    web = lab.api.peek("Service", "default", "web")
    assert [r.to_text() for r in response.additional] == [
        f"web.default.svc.cluster.local. 30 IN A {web.spec.cluster_ip}"]
    assert ask(lab, "_http._udp.web.default.svc.cluster.local.", "SRV").response.rcode() \
        == dns.rcode.NXDOMAIN


def test_srv_of_kube_dns_names_both_protocols(lab):
    response = ask(lab, "kube-dns.kube-system.svc.cluster.local.", "SRV").response
    assert records(response, "SRV") == [
        "0 33 53 kube-dns.kube-system.svc.cluster.local.",
        "0 33 9153 kube-dns.kube-system.svc.cluster.local."]


def endpoint_ips(lab, service):
    slices = [s for s in lab.api.list("EndpointSlice", "default") if s.service == service]
    return sorted(e.address for s in slices for e in s.endpoints if e.ready)


def test_an_endpoint_name_answers_that_endpoint(lab):
    first = endpoint_ips(lab, "default/web")[0]
    name = f"{first.replace('.', '-')}.web.default.svc.cluster.local."
    assert records(ask(lab, name).response) == [first]


def test_ptr_of_a_cluster_ip_names_the_service_and_of_an_endpoint_its_name(lab):
    web = lab.api.peek("Service", "default", "web")
    reverse = dns.reversename.from_address(web.spec.cluster_ip).to_text()
    assert records(ask(lab, reverse, "PTR").response, "PTR") == [
        "web.default.svc.cluster.local."]
    endpoint = endpoint_ips(lab, "default/web")[0]
    reverse = dns.reversename.from_address(endpoint).to_text()
    assert records(ask(lab, reverse, "PTR").response, "PTR") == [
        f"{endpoint.replace('.', '-')}.web.default.svc.cluster.local."]


def test_a_reverse_name_the_cluster_does_not_know_falls_through_to_forward(lab):
    asked = []
    client = lab.api.peek("Pod", "default", "client").status.pod_ip
    served = ask(lab, dns.reversename.from_address(client).to_text(), "PTR",
                 lambda query: asked.append(query) or None)
    assert len(asked) == 1 and served.how == "forward"
    assert served.response.rcode() == dns.rcode.SERVFAIL  # no upstream answered


def test_pods_insecure_answers_the_address_in_the_name(lab):
    assert records(ask(lab, "10-244-1-2.default.pod.cluster.local.").response) == ["10.244.1.2"]
    assert ask(lab, "10-244-1.default.pod.cluster.local.").response.rcode() == \
        dns.rcode.NXDOMAIN


async def test_a_service_without_ready_endpoints_still_has_its_cluster_ip(lab):
    await lab.add_service("empty", [ServicePort(80, name="http")], selector={"app": "none"})
    assert records(ask(lab, "empty.default.svc.cluster.local.").response)


def test_parse_request_reads_port_and_protocol():
    request = parse_request(dns.name.from_text("_http._tcp.web.default.svc.cluster.local."))
    assert (request.port, request.protocol, request.service, request.namespace) == (
        "http", "tcp", "web", "default")
    with pytest.raises(NameError_):
        parse_request(dns.name.from_text("web.default.cluster.local."))


def test_apex_soa_and_ns(lab):
    assert records(ask(lab, "cluster.local.", "NS").response, "NS") == ["ns.dns.cluster.local."]
    assert ask(lab, "cluster.local.", "SOA").response.answer[0].rdtype == dns.rdatatype.SOA


async def test_a_headless_service_answers_one_a_record_per_ready_endpoint(lab):
    await lab.add_service("web-h", [ServicePort(80, name="http")], selector={"app": "web"},
                          cluster_ip="None")
    response = ask(lab, "web-h.default.svc.cluster.local.").response
    assert records(response) == endpoint_ips(lab, "default/web-h")
    srv = ask(lab, "_http._tcp.web-h.default.svc.cluster.local.", "SRV").response
    assert records(srv, "SRV") == sorted(
        f"0 50 80 {ip.replace('.', '-')}.web-h.default.svc.cluster.local."
        for ip in endpoint_ips(lab, "default/web-h"))
    assert len(srv.additional) == 2


async def test_an_external_name_is_a_cname_followed_outside_through_forward(lab):
    await lab.add_service("search", [], type="ExternalName", external_name="example.com")
    asked = []

    def forward(query):
        from playground.cluster.dns import upstream
        asked.append(query.question[0].name.to_text())
        return upstream.answer(query)

    response = ask(lab, "search.default.svc.cluster.local.", "A", forward).response
    assert [r.to_text() for r in response.answer] == [
        "search.default.svc.cluster.local. 30 IN CNAME example.com.",
        "example.com. 30 IN A 203.0.113.100"]
    assert asked == ["example.com."]
    cname = ask(lab, "search.default.svc.cluster.local.", "CNAME").response
    assert records(cname, "CNAME") == ["example.com."]
