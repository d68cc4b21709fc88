"""Secret (v1), stored as the API server keeps it: `data` base64-encoded, `stringData` folded
into it on write, checked as ValidateSecret does (keys, size, the keys a type needs). The lab
does no cryptography: a TLS Secret's PEM blocks are only looked at for their shape."""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass, field

from playground.cluster import validation
from playground.cluster.errors import ClusterError
from playground.cluster.objects import Named, ObjectMeta

TLS = "kubernetes.io/tls"
TLS_CERT, TLS_KEY = "tls.crt", "tls.key"
KEY = re.compile(r"^[-._a-zA-Z0-9]+$")   # IsConfigMapKey
MAX_BYTES = 1024 * 1024   # MaxSecretSize
PEM = re.compile(rb"-----BEGIN ([A-Z0-9 ]+)-----\r?\n[A-Za-z0-9+/=\r\n]+-----END \1-----")


@dataclass
class Secret(Named):
    metadata: ObjectMeta
    type: str = "Opaque"
    data: dict[str, str] = field(default_factory=dict)   # base64, as the API returns it
    kind: str = "Secret"

    def value(self, key: str) -> bytes | None:
        found = self.data.get(key)
        return base64.b64decode(found) if found is not None else None


def decoded(key: str, text: str) -> bytes:
    """A `data` value: base64, as encoding/json decodes []byte."""
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ClusterError(f"error decoding data[{key}]: illegal base64 data") from None


def secret_errors(secret: Secret) -> list[validation.FieldError]:
    meta = secret.metadata
    errors = validation.meta_errors("Secret", secret.name, meta.namespace, meta.labels,
                                    meta.annotations)
    total = 0
    for key in secret.data:
        if not KEY.match(key):
            errors.append(validation.FieldError(
                f"data[{key}]", "Invalid value", key, "a valid config key must consist of "
                "alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  "
                "or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')"))
        total += len(secret.value(key) or b"")
    if total > MAX_BYTES:
        errors.append(validation.FieldError("data", "Too long",
                                            detail=f"may not be more than {MAX_BYTES} bytes"))
    if secret.type == TLS:
        errors += [validation.FieldError(f"data[{key}]", "Required value")
                   for key in (TLS_CERT, TLS_KEY) if key not in secret.data]
    return errors


def pem_problem(secret: Secret, check_type: bool = True) -> str:
    """What a TLS listener finds wrong with the Secret ("" when it can serve it): the type
    (unless told not to look), the two keys, each a PEM block (the certificate's a
    CERTIFICATE)."""
    if check_type and secret.type != TLS:
        return f"secret {secret.key} is of type {secret.type}, not {TLS}"
    for key, wanted in ((TLS_KEY, "PRIVATE KEY"), (TLS_CERT, "CERTIFICATE")):
        found = secret.value(key)
        if found is None:
            return f"secret {secret.key} does not contain key {key}"
        block = PEM.search(found)
        if block is None or (check_type and not block.group(1).decode().endswith(wanted)):
            return f"secret {secret.key} key {key} does not contain a valid PEM-encoded " + \
                ("private key" if key == TLS_KEY else "certificate chain")
    return ""
