"""Secrets as the API server takes them: base64 data, stringData folded in, a TLS Secret's
two keys required; the PEM shape a TLS listener looks for."""

import base64

import pytest

from playground.cluster.cluster import ClusterError
from playground.cluster.manifests import apply_files
from playground.cluster.objects import ObjectMeta
from playground.cluster.secret import Secret, pem_problem


def write(tmp_path, text: str) -> str:
    path = tmp_path / "secret.yaml"
    path.write_text(text)
    return str(path)


async def test_string_data_is_stored_encoded(lab, tmp_path):
    await apply_files(lab, [write(tmp_path, "apiVersion: v1\nkind: Secret\nmetadata: "
                                            "{name: db}\nstringData: {password: hunter2}\n")])
    secret = lab.api.get("Secret", "default", "db")
    assert secret.type == "Opaque" and secret.data == {"password": "aHVudGVyMg=="}


@pytest.mark.parametrize("body, error", [
    ("type: kubernetes.io/tls\ndata: {tls.crt: aGk=}\n",
     'The Secret "s" is invalid: data[tls.key]: Required value'),
    ("data: {tls.crt: '%%%'}\n", "error decoding data[tls.crt]: illegal base64 data"),
    ("data: {'a b': aGk=}\n", "data[a b]: Invalid value: \"a b\": a valid config key"),
])
async def test_what_the_api_server_refuses(lab, tmp_path, body, error):
    path = write(tmp_path, f"apiVersion: v1\nkind: Secret\nmetadata: {{name: s}}\n{body}")
    with pytest.raises(ClusterError, match=error.replace("[", r"\[").replace("]", r"\]")):
        await apply_files(lab, [path])
    assert lab.api.peek("Secret", "default", "s") is None


def test_a_tls_listener_wants_pem_blocks():
    def tls(cert: bytes, key: bytes) -> Secret:
        return Secret(ObjectMeta("c", "default"), "kubernetes.io/tls",
                      {"tls.crt": base64.b64encode(cert).decode(),
                       "tls.key": base64.b64encode(key).decode()})
    cert = b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
    key = b"-----BEGIN EC PRIVATE KEY-----\nMHcC\n-----END EC PRIVATE KEY-----\n"
    assert pem_problem(tls(cert, key)) == ""
    assert "tls.crt does not contain a valid PEM-encoded certificate" in \
        pem_problem(tls(b"not pem", key))
    assert "tls.key does not contain a valid PEM-encoded private key" in \
        pem_problem(tls(cert, cert))
    assert pem_problem(tls(cert, cert), check_type=False) == "", \
        "cloud-provider-kind's pem.Decode takes any block"
    assert "of type Opaque" in pem_problem(Secret(ObjectMeta("o", "default")))
