"""A controller that fails on an event says so in one line of the lab's events, with no
traceback, and goes on serving the next events."""

from __future__ import annotations

import logging

from playground.cluster.service import ServicePort


async def test_a_failing_controller_reports_one_line_and_keeps_serving(lab, monkeypatch,
                                                                       capsys, caplog):
    controller = lab.lb.controller
    program = controller._program
    failures = ["the cloud's API is down"]

    def flaky(key: str) -> None:
        if failures:
            raise RuntimeError(failures.pop())
        program(key)
    monkeypatch.setattr(controller, "_program", flaky)
    caplog.set_level(logging.WARNING)
    await lab.add_service("first", [ServicePort(80, "http", name="http")],
                          selector={"app": "web"}, type="LoadBalancer")
    assert lab.api.events.lines() == [
        "Warning FailedSync service/default/first cloud-controller: MODIFIED the cloud's API "
        "is down"]
    assert not capsys.readouterr().err and not caplog.records, "no traceback reaches the user"
    await lab.add_service("second", [ServicePort(80, "http", name="http")],
                          selector={"app": "web"}, type="LoadBalancer")
    assert "second" in {key.split("/")[1] for key in controller.balanced}
    assert len(lab.api.events) == 1


async def test_kubectl_get_events_lists_them_in_their_namespaces(lab):
    from playground.shell import Shell
    shell = Shell(lab)
    assert (await shell.run("kubectl get events")).output == \
        "No resources found in default namespace.\n"
    lab.network.advance(30)
    lab.api.events.warn("cloud-controller", "service/default/first", "FailedSync",
                        "MODIFIED the cloud's API is down")
    lab.api.events.warn("kubelet/kind-worker", "node/kind-worker", "FailedSync", "no room")
    lab.network.advance(150)
    assert (await shell.run("kubectl get ev")).output.splitlines() == [
        "LAST SEEN   TYPE      REASON       OBJECT             MESSAGE",
        "2m30s       Warning   FailedSync   service/first      MODIFIED the cloud's API is down",
        "2m30s       Warning   FailedSync   node/kind-worker   no room"]
    assert "No resources found in kube-system" in \
        (await shell.run("kubectl get events -n kube-system")).output
    every = (await shell.run("kubectl get events -A")).output.splitlines()
    assert every[0].startswith("NAMESPACE   LAST SEEN") and len(every) == 3
