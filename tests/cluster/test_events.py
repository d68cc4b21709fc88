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
