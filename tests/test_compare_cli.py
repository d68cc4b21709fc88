"""`trace --compare`: the same packet through two dataplanes, as a user runs it."""

import json

from playground.cli import main


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_side_by_side_fits_160_columns_with_a_head_per_column(capsys):
    code, out, err = run(capsys, "trace", "pod/client", "pod/web-2", "--compare", "ptp",
                         "--width", "160")
    lines = out.splitlines()
    assert code == 0 and err == ""
    assert all(len(line) <= 160 for line in lines)
    assert lines[1].split() == ["bridge", "ptp"]
    assert any(" | " in line and "bridge" in line and " recv " in line for line in lines)
    assert any(line.startswith(" " * 79 + ">") and "forward" in line for line in lines)
    assert lines[-2] == "bridge  delivered to web in pod/default/web-2 after 10 hops"
    # ptp: forwarded by the node, past kube-network-policies' postrouting chain too
    assert lines[-1] == "ptp     delivered to web in pod/default/web-2 after 13 hops"


def test_the_same_packet_leaves_with_the_same_port_on_both(capsys):
    _, out, _ = run(capsys, "trace", "pod/client", "svc/web", "--compare", "ptp", "--json")
    data = json.loads(out)
    assert data["dataplanes"] == ["bridge", "ptp"]
    leg = data["legs"][0]
    assert leg["left"]["packet"] == leg["right"]["packet"]
    assert leg["left"]["delivered_to"] == leg["right"]["delivered_to"]
    statuses = {row["status"] for row in leg["rows"]}
    assert statuses <= {"same", "differs", "only-left", "only-right"} and "differs" in statuses
    lefts = [row["left"] for row in leg["rows"] if row["left"] is not None]
    assert lefts == list(range(1, len(leg["left"]["hops"]) + 1))


def test_a_narrow_terminal_gets_the_stacked_form(capsys):
    _, out, _ = run(capsys, "trace", "pod/client", "pod/web-2", "--compare", "ptp",
                    "--width", "80")
    lines = out.splitlines()
    assert all(len(line) <= 80 for line in lines)
    assert any(line.startswith("|") and "bridge ≠ recv: differs in event, device" in line
               for line in lines)
    assert any(line.startswith(">") and "forward: only on ptp" in line for line in lines)
    assert lines[-1].startswith("ptp ")


def test_a_lab_file_and_its_reply_compare_leg_by_leg(capsys):
    code, out, _ = run(capsys, "trace", "internet", "lb/shop-local", "-f",
                       "saves/loadbalancer.k8slab", "--compare", "ptp", "--reply",
                       "--width", "160")
    assert code == 0
    assert "\nthe answer:\n" in out
    assert out.count("bridge  delivered to") == 2 and out.count("ptp     delivered to") == 2


def test_the_same_dataplane_twice_is_the_same_everywhere(capsys):
    _, out, _ = run(capsys, "trace", "pod/client", "svc/web", "--cni", "ptp", "--compare",
                    "ptp", "--width", "160")
    assert "ptp (this lab)" in out and "ptp (a clone)" in out
    assert " 0 taken differently, 0 only on" in out


def test_mistakes_are_one_line(capsys):
    code, out, err = run(capsys, "trace", "pod/client", "svc/web", "--compare", "flannel")
    assert code == 2 and out == ""
    assert err.startswith("error: dataplane 'flannel': unknown CNI 'flannel'; choose one of ")
    assert err.count("\n") == 1
    code, _, err = run(capsys, "trace", "pod/client", "svc/web", "--width", "100")
    assert code == 2 and err == "k8s-playground: trace: --width goes with --compare\n"
    code, _, err = run(capsys, "trace", "pod/client", "svc/web", "--compare", "ptp",
                       "--width", "10")
    assert code == 2 and "at least 40" in err
    code, _, err = run(capsys, "trace", "pod/nobody", "svc/web", "--compare", "ptp")
    assert code == 2 and err.count("\n") == 1 and "nobody" in err


def test_the_same_command_prints_the_same_comparison(capsys):
    argv = ("trace", "pod/client", "svc/web", "--compare", "ptp", "--reply", "--width", "160")
    assert run(capsys, *argv)[1] == run(capsys, *argv)[1]


def test_size_and_df_go_to_both_sides(capsys):
    code, out, _ = run(capsys, "trace", "pod/client", "pod/web-1", "--compare", "vxlan",
                       "--size", "1500", "--df", "--width", "160")
    lines = out.splitlines()
    assert code == 0
    assert lines[-2] == "bridge  delivered to web in pod/default/web-1 after 20 hops"
    assert lines[-1].startswith("vxlan   dropped after ") and "mtu 1450" in lines[-1]
