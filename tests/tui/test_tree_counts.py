"""The tree counts a Deployment's pods as kubectl's READY does: terminating pods left out."""

from driving import app, command

from playground.cluster.tables import deployments_table


async def test_a_rolled_out_deployment_does_not_count_its_terminating_pods():
    async with app().run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        await command(pilot, "kubectl create deployment shop --image=nginx --replicas=3 "
                             "--port=80")
        await command(pilot, "kubectl set image deployment/shop nginx=nginx:2")
        await command(pilot, "sleep 4")   # rolled out; the old pods' 30 s grace runs on
        lab = pilot.app.cluster
        deployment = lab.api.peek("Deployment", "default", "shop")
        shop = [p for p in lab.pods("default") if p.metadata.labels.get("app") == "shop"]
        assert len(shop) == 6 and sum(p.terminating for p in shop) == 3
        assert "shop   3/3 " in deployments_table(lab, "default"), "kubectl's READY"
        labels = [str(node.label) for node in pilot.app.query_one("#objects")._all_nodes()]
        assert f"shop {deployment.status.ready_replicas}/3" in labels
        assert "shop 3/3" in labels
