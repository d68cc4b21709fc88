"""The CLI with lab files: -f, open, export --yaml, labs."""

from __future__ import annotations

from pathlib import Path

import yaml

from playground.cli import main
from playground.labs.catalogue import LESSONS

SAVES = Path(__file__).resolve().parents[1] / "saves"  # the committed labs
BROKEN = str(SAVES / "broken-selector.k8slab")
INGRESS = str(SAVES / "ingress.k8slab")


def test_labs_lists_every_guided_lab(capsys):
    assert main(["labs"]) == 0
    *lines, blank, how = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == [lesson.id for lesson in LESSONS]
    assert not blank and "k8s-playground labs ID" in how


def test_labs_refuses_an_unknown_lesson_in_one_line(capsys):
    assert main(["labs", "no-such-lab"]) == 2
    assert capsys.readouterr().err == ("k8s-playground: labs: no guided lab 'no-such-lab' "
                                       "(`k8s-playground labs` lists them)\n")


def test_a_lab_file_given_with_f_is_the_lab_the_command_runs_on(capsys):
    assert main(["trace", "pod/client", "svc/shop", "-f", BROKEN]) == 0
    assert "verdict: rejected" in capsys.readouterr().out


def test_a_lab_file_and_manifests_together(tmp_path, capsys):
    manifest = tmp_path / "extra.yaml"
    manifest.write_text("apiVersion: v1\nkind: Pod\nmetadata: {name: extra, labels: {app: "
                        "shop-v2}}\nspec:\n  containers: [{name: web, image: nginx, ports: "
                        "[{containerPort: 80, name: http}]}]\n")
    assert main(["trace", "pod/client", "svc/shop", "-f", BROKEN, "-f", str(manifest)]) == 0
    assert "delivered to web" in capsys.readouterr().out


def test_open_refuses_a_bad_file_in_one_line(tmp_path, capsys):
    bad = tmp_path / "bad.k8slab"
    bad.write_bytes(Path(INGRESS).read_bytes()[:2000])
    assert main(["open", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "truncated" in err


def test_export_yaml_writes_manifests_and_a_kind_config(tmp_path, capsys):
    config = tmp_path / "kind.yaml"
    assert main(["export", INGRESS, "--yaml", "--kind-config", str(config)]) == 0
    documents = list(yaml.safe_load_all(capsys.readouterr().out))
    kinds = sorted({d["kind"] for d in documents})
    assert kinds == ["Deployment", "Ingress", "Pod", "Service"]
    assert not any("status" in d or "clusterIP" in d.get("spec", {}) for d in documents)
    assert not any(d["metadata"]["namespace"] in ("kube-system", "ingress-nginx")
                   for d in documents)
    kind = yaml.safe_load(config.read_text())
    assert kind["apiVersion"] == "kind.x-k8s.io/v1alpha4"
    assert kind["networking"] == {"podSubnet": "10.244.0.0/16", "serviceSubnet": "10.96.0.0/12"}
    assert [n["role"] for n in kind["nodes"]] == ["control-plane", "worker", "worker"]


def test_export_needs_a_form(capsys):
    assert main(["export", INGRESS]) == 2
    assert "--yaml" in capsys.readouterr().err


def test_export_of_a_vxlan_lab_turns_kindnet_off_and_the_shell_makes_the_tunnel(tmp_path,
                                                                                capsys):
    lab = str(Path(INGRESS).with_name("cni-vxlan.k8slab"))
    config = tmp_path / "kind.yaml"
    assert main(["export", lab, "--yaml", "--kind-config", str(config)]) == 0
    capsys.readouterr()
    text = config.read_text()
    assert yaml.safe_load(text)["networking"]["disableDefaultCNI"] is True
    assert "install flannel" in text
    assert main(["export", lab, "--shell"]) == 0
    script = capsys.readouterr().out
    assert "link add flannel.1 type vxlan id 1 local 172.18.0.2 dev eth0 dstport 8472 " \
        "nolearning" in script
    assert script.count(" fdb append ") == 6 and script.count(" nud permanent") == 6
