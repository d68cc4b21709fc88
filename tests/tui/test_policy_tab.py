"""The Policy tab: offered once a NetworkPolicy exists, the selection's namespace as a truth
table, the cells the last change turned starred; the tree marks an unenforced policy."""

from driving import app, command
from textual.widgets import TabbedContent

from playground.tui.widgets.inspector import Inspector

POLICY = """apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web-from-client, namespace: default}
spec:
  podSelector: {matchLabels: {app: web}}
  ingress:
  - from: [{podSelector: {matchLabels: {app: client}}}]
"""


async def test_policy_tab_stars_what_a_new_policy_changed(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text(POLICY)
    playground = app()
    async with playground.run_test(size=(160, 50)) as pilot:
        tabs = playground.query_one(TabbedContent)
        assert not tabs.get_tab("policy-tab").display
        playground.select("pod/default/app")
        await command(pilot, f"kubectl apply -f {path}")
        playground.select("pod/default/app")
        await pilot.pause()
        assert tabs.get_tab("policy-tab").display
        text = "\n".join(str(line) for line in playground.query_one(Inspector).pane("policy").lines)
        assert "the bridge CNI enforces no NetworkPolicy" in text
        row = next(line for line in text.splitlines() if line.startswith("default/app "))
        assert row.split()[1:] == [".", ".", "*X*", "*X*"]
        await command(pilot, "kubectl delete netpol web-from-client")
        await command(pilot, f"kubectl apply -f {path}")
        playground.select("pod/default/client")
        await pilot.pause()
        text = "\n".join(str(line) for line in playground.query_one(Inspector).pane("policy").lines)
        row = next(line for line in text.splitlines() if line.startswith("default/app "))
        assert row.split()[1:] == [".", ".", "*X*", "*X*"]   # the last change, still starred
        tree = str(playground.query_one("#objects").root.children[-2].children[0].label)
        assert "default/web-from-client" in tree or "web-from-client" in tree
        assert "not enforced by this CNI" in tree
