"""Every building action through its form, by keys and by clicks: the model changes."""

from driving import app
from textual.widgets import Checkbox, Input, Select, Static, TabbedContent

from playground.tui.forms import FormScreen
from playground.tui.widgets.text_pane import TextPane


async def fill(pilot, **values) -> None:
    """Set form fields by id, as typing or picking would."""
    form = pilot.app.screen
    for name, value in values.items():
        widget = form.query_one(f"#{name.replace('_', '-')}")
        if isinstance(widget, Input):
            widget.value = str(value)
        elif isinstance(widget, Checkbox):
            widget.value = value
        else:
            widget.value = value
    await pilot.pause()


async def add(pilot, key: str) -> None:
    await pilot.press("a", key)
    await pilot.pause()
    assert isinstance(pilot.app.screen, FormScreen)


async def test_add_node_then_a_pod_on_it_by_keys():
    async with app().run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        await add(pilot, "n")
        assert pilot.app.screen.query_one("#name", Input).value == "kind-worker3"
        await pilot.press("enter")
        await pilot.pause()
        lab = pilot.app.cluster
        assert "kind-worker3" in [n.name for n in lab.nodes()]
        await add(pilot, "p")
        await fill(pilot, name="dbg", port="8080", labels="app=dbg", node="kind-worker3")
        preview = str(pilot.app.screen.query_one(".form-preview", Static).render())
        assert "kubectl run dbg --image=nginx:1.27 --port=8080 --labels=app=dbg" in preview
        await pilot.press("ctrl+s")
        await pilot.pause()
        pod = lab.find_pod("dbg")
        assert pod.spec.node_name == "kind-worker3" and pod.metadata.labels == {"app": "dbg"}
        assert not isinstance(pilot.app.screen, FormScreen)


async def test_deployment_and_load_balancer_with_local_policy_by_clicks():
    async with app().run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        await add(pilot, "d")
        await fill(pilot, name="shop", replicas="3")
        await pilot.click("#submit")
        await pilot.pause()
        lab = pilot.app.cluster
        assert len(lab.owned_pods(lab.api.peek("Deployment", "default", "shop"))) == 3
        await add(pilot, "s")
        assert pilot.app.screen.query_one("#name", Input).value == "shop"
        await fill(pilot, policy="Local")
        await pilot.click("#submit")
        await pilot.pause()
        service = lab.find_service("shop")
        assert service.spec.type == "LoadBalancer" and service.status.load_balancer_ips
        assert service.spec.external_traffic_policy == "Local"
        assert service.spec.selector == {"app": "shop"}


async def test_a_form_error_keeps_the_form_open_and_changes_nothing():
    async with app().run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        await add(pilot, "p")
        await fill(pilot, name="web-1")  # a pod of that name exists
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(pilot.app.screen, FormScreen)
        error = str(pilot.app.screen.query_one(".form-error", Static).render())
        assert error.startswith("✗ ") and "web-1" in error and "already exists" in error
        await pilot.press("escape")
        assert len(pilot.app.cluster.pods("default")) == 4


async def test_ingress_form_routes_a_host_to_a_service():
    async with app().run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        await add(pilot, "i")
        await fill(pilot, host="web.example", path="/")
        await pilot.press("ctrl+s")
        await pilot.pause()
        ingress = pilot.app.cluster.ingresses()[0]
        assert ingress.rules[0].host == "web.example"
        assert ingress.rules[0].paths[0].backend.service == "web"


async def test_scale_delete_and_traffic():
    async with app().run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        await add(pilot, "d")
        await fill(pilot, name="api", replicas="1")
        await pilot.press("enter")
        await pilot.pause()
        lab = pilot.app.cluster
        await pilot.press("c")
        await pilot.pause()
        assert pilot.app.screen.query_one("#deployment", Select).value == "api"
        await fill(pilot, replicas="3")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert len(lab.owned_pods(lab.api.peek("Deployment", "default", "api"))) == 3
        await pilot.press("t")
        await pilot.pause()
        await fill(pilot, dst="svc/default/web", count="50")
        await pilot.press("ctrl+s")
        await pilot.pause()
        spread = pilot.app.query_one("#object", TextPane).text
        assert "50" in spread and "web-1" in spread and "web-2" in spread
        pilot.app.select("svc/default/web")
        await pilot.press("x")
        await pilot.pause()
        assert "kubectl delete service web" in str(
            pilot.app.screen.query_one(".form-preview", Static).render())
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "web" not in [s.name for s in lab.services()]


async def test_new_lab_switches_the_cni():
    async with app().run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        await pilot.press("ctrl+n")
        await pilot.pause()
        await fill(pilot, cni="ptp")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert pilot.app.cluster.cni.name == "ptp"
        assert "ptp" in pilot.app.sub_title
        assert "cni0" not in pilot.app.cluster.node_namespace("kind-worker").devices


async def test_new_lab_with_cilium_shows_the_bpf_tab_instead_of_iptables():
    async with app().run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        await pilot.press("ctrl+n")
        await pilot.pause()
        await fill(pilot, cni="cilium")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert pilot.app.cluster.cni.name == "cilium"
        tabs = pilot.app.query_one("#inspector").query_one(TabbedContent)
        assert tabs.get_tab("bpf-tab").display and not tabs.get_tab("iptables-tab").display
        assert "cil_from_netdev" in pilot.app.query_one("#bpf", TextPane).text


async def test_new_lab_picks_the_load_balancer_provider():
    async with app().run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        await pilot.press("ctrl+n")
        await pilot.pause()
        await fill(pilot, lb="metallb")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert pilot.app.cluster.lb.name == "metallb" and "LB metallb" in pilot.app.sub_title
        assert pilot.app.cluster.api.peek("Namespace", "", "metallb-system") is not None


async def test_new_lab_in_ipvs_mode_offers_the_ipvs_tab():
    async with app().run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        inspector = pilot.app.query_one("#inspector")
        assert not inspector.with_ipvs
        await pilot.press("ctrl+n")
        await pilot.pause()
        await fill(pilot, proxy_mode="ipvs")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert pilot.app.cluster.proxy_mode == "ipvs"
        assert "kube-proxy ipvs" in pilot.app.sub_title
        assert inspector.with_ipvs
        inspector.active = "ipvs-tab"
        await pilot.pause()
        assert "# ipvsadm -Ln" in inspector.query_one("#ipvs", TextPane).text


async def test_a_field_error_goes_once_the_field_is_mended():
    async with app().run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        await add(pilot, "p")
        await fill(pilot, name="")
        await pilot.press("ctrl+s")
        await pilot.pause()
        error = pilot.app.screen.query_one(".form-error", Static)
        assert str(error.render()) == "✗ name is required"
        await fill(pilot, image="")  # still wrong: the problem now first in line
        assert str(error.render()) == "✗ name is required"
        await fill(pilot, name="dbg", image="nginx")
        assert str(error.render()) == ""


async def test_send_with_the_client_selected_never_sends_it_to_itself():
    async with app().run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        for selected in ("pod/default/client", "pod/default/web-1", "node/kind-worker"):
            pilot.app.select(selected)
            await pilot.press("s")
            await pilot.pause()
            src = pilot.app.screen.query_one("#src", Select).value
            dst = pilot.app.screen.query_one("#dst", Select).value
            assert src != dst, selected
            assert selected in (src, dst) or selected.startswith("node/")
            await pilot.press("escape")
            await pilot.pause()


async def test_checkboxes_read_on_or_off_in_plain_text():
    async with app().run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        await pilot.press("s")
        await pilot.pause()
        box = pilot.app.screen.query_one("#df", Checkbox)
        assert str(box.render()).startswith("▐ ▌")
        box.value = True
        assert str(box.render()).startswith("▐✓▌")
