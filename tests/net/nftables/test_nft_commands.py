"""nft's input as a transaction: all or nothing, errors as nft's first line."""

import pytest

from playground.net.nftables import Nftables, NftError
from playground.net.nftables.tool import nft

BASE = """
add table ip t
add chain ip t c
add chain ip t other
add rule ip t c tcp dport 22 accept
add rule ip t c tcp dport 80 accept
"""


@pytest.fixture
def tables() -> Nftables:
    made = Nftables()
    made.run(BASE)
    return made


def rules(tables: Nftables) -> list[str]:
    return [rule.text() for rule in tables.tables["ip", "t"].chains["c"].rules]


def handles(tables: Nftables) -> list[int]:
    return [rule.handle for rule in tables.tables["ip", "t"].chains["c"].rules]


def test_a_failing_command_leaves_the_whole_batch_unapplied(tables):
    before = tables.list_ruleset()
    with pytest.raises(NftError) as caught:
        tables.run("add rule ip t c udp dport 53 accept\nadd rule ip t nosuch accept", "f.nft")
    assert str(caught.value) == ("f.nft:2:15-20: Error: Could not process rule: No such file "
                                 "or directory")
    assert tables.list_ruleset() == before


@pytest.mark.parametrize("text, error", [
    ("add rule ip t c jump nowhere", "1:22-28: Error: Could not process rule: No such file or "
                                     "directory"),
    ("add rule ip t c ip saddr @nosuch accept", "1:27-32: Error: No such file or directory"),
    ("add rule ip t c tcp dport 99999", "1:27-31: Error: Could not resolve service: "),
    ("delete rule ip t c handle 99", "1:27-28: Error: Could not process rule: No such file or "
                                     "directory"),
    ("add chain ip t d { type filter hook prerouting priority srcnat ; }",
     "Error: invalid priority expression value in this context."),
    ("add chain ip t d { type filter hook ingress priority 0 ; }",
     "Error: The ip family does not support this hook"),
    ("create chain ip t c", "Error: Could not process rule: File exists"),
    ("add rule ip t other jump c\ndelete chain ip t c",
     "Error: Could not process rule: Device or resource busy"),
    ("add set ip t s { type ipv4_addr ; }\nadd element ip t s { 10.0.0.0/8 }",
     "Error: Set member cannot be prefix, missing interval flag on declaration"),
    ("add set ip t p { type inet_service ; }\nadd rule ip t c meta mark @p",
     "Error: datatype mismatch, expected packet mark, expression has type internet network "
     "service"),
    ("add map ip t m { type ipv4_addr . inet_proto . inet_service : verdict ; }\n"
     "add rule ip t c ip daddr vmap @m", "Error: datatype mismatch, map expects concatenation "
     "of (IPv4 address, Internet protocol, internet network service), mapping expression has "
     "type IPv4 address"),
    ("add set ip t p { type inet_service ; }\nadd rule ip t c ip saddr vmap @p",
     "Error: Expression is not a map"),
    ("add chain ip t in { type filter hook input priority 0 ; }\nadd rule ip t in jump c\n"
     "add rule ip t c jump other\nadd rule ip t other goto c",
     "Error: Could not process rule: Too many links"),
    ("add rule ip t c tcp dport 1 udp sport 2 drop",
     "Error: conflicting protocols specified: tcp vs. udp"),
    ("add chain ip t n { type nat hook postrouting priority 100 ; }\n"
     "add rule ip t n masquerade to :1024-2048",
     "Error: transport protocol mapping is only valid after transport protocol match"),
])
def test_refusals_say_what_nft_says(tables, text, error):
    with pytest.raises(NftError) as caught:
        tables.run(text, "in")
    assert error in str(caught.value)
    assert "\n" not in str(caught.value)


def test_a_loop_no_base_chain_reaches_is_allowed_as_the_kernel_allows_it(tables):
    tables.run("add rule ip t c jump other\nadd rule ip t other jump c")
    chains = "".join(f"add chain ip t d{i}\n" for i in range(16))
    jumps = "".join(f"add rule ip t d{i} jump d{i + 1}\n" for i in range(15))
    tables.run(f"{chains}{jumps}add chain ip t in {{ type filter hook input priority 0 ; }}\n"
               "add rule ip t in jump d1")   # d15 at depth 15: the deepest allowed
    with pytest.raises(NftError, match="Too many links"):
        tables.run("delete rule ip t in handle "
                   f"{tables.tables['ip', 't'].chains['in'].rules[0].handle}\n"
                   "add rule ip t in jump d0")


def test_insert_add_position_and_replace(tables):
    first, second = handles(tables)
    tables.run(f"insert rule ip t c tcp dport 21 accept\n"
               f"add rule ip t c position {first} tcp dport 23 accept\n"
               f"insert rule ip t c position {second} tcp dport 79 accept\n"
               f"replace rule ip t c handle {second} tcp dport 8080 accept")
    assert rules(tables) == ["tcp dport 21 accept", "tcp dport 22 accept",
                             "tcp dport 23 accept", "tcp dport 79 accept",
                             "tcp dport 8080 accept"]
    tables.run(f"delete rule ip t c handle {first}")
    assert "tcp dport 22 accept" not in rules(tables)


def test_flush_then_delete_is_how_a_chain_goes(tables):
    tables.run("flush chain ip t c\ndelete chain ip t c")
    assert "c" not in tables.tables["ip", "t"].chains
    tables.run("flush ruleset")
    assert tables.list_ruleset() == ""


def test_elements_come_and_go_and_a_map_keeps_its_verdicts(tables):
    tables.run("add map ip t m { type inet_proto . inet_service : verdict ; }\n"
               "add element ip t m { tcp . 80 : goto other, udp . 53 : drop }\n"
               "delete element ip t m { udp . 53 }")
    assert "elements = { tcp . 80 : goto other }" in tables.list(["map", "ip", "t", "m"])
    with pytest.raises(NftError, match="No such file or directory"):
        tables.run("delete element ip t m { udp . 53 }")
    with pytest.raises(NftError, match="No such file or directory"):
        tables.run("add element ip t m { tcp . 81 : goto nowhere }")
    tables.run("add element ip t m { tcp . 80 : goto other }")   # the same again: fine
    with pytest.raises(NftError, match="File exists"):
        tables.run("add element ip t m { tcp . 80 : drop }")   # a new verdict: delete first


def test_the_nft_command_line(tables):
    output, changed = nft(tables, ["-a", "list", "chain", "ip", "t", "c"])
    assert "# handle" in output and not changed
    output, changed = nft(tables, ["add", "rule", "ip", "t", "c", "counter", "comment",
                                   "two words"])
    assert changed and 'counter packets 0 bytes 0 comment "two words"' in \
        nft(tables, ["list", "ruleset"])[0]
    assert nft(tables, ["-j", "list", "tables"])[0].startswith('{"nftables": [{"metainfo"')
    with pytest.raises(NftError, match="Could not open file"):
        nft(tables, ["-f", "/nonexistent/rules.nft"])
    with pytest.raises(NftError, match="unrecognized option"):
        nft(tables, ["-x", "list", "ruleset"])


def test_nft_f_reads_a_file(tmp_path):
    path = tmp_path / "rules.nft"
    path.write_text("table inet f {\n\tchain in {\n\t\ttype filter hook input priority 0; "
                    "policy drop;\n\t\ttcp dport ssh accept\n\t}\n}\n")
    tables = Nftables()
    nft(tables, ["-f", str(path)])
    assert "\t\ttcp dport 22 accept\n" in tables.list_ruleset()
