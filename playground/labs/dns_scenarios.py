"""The break-fix lab of a name with a typo: the client reads its backend's URL from its
ConfigMap (as an app reads it from its environment), and that names `wbe`, which no Service
is; the fix is the configuration with the name spelled right."""

from __future__ import annotations

from playground.cluster.cluster import Cluster
from playground.cluster.configmap import ConfigMap
from playground.cluster.objects import ObjectMeta

CONFIG = "client-config"   # default/client-config, pod/client's configuration
URL_KEY = "BACKEND_URL"
TYPO_URL = "http://wbe/"

MANIFESTS = {
    "dns-typo-fix.yaml": f"""\
# pod/client's configuration with its backend's name spelled right: web, the Service.
apiVersion: v1
kind: ConfigMap
metadata: {{name: {CONFIG}, namespace: default}}
data:
  {URL_KEY}: http://web/
""",
}


async def client_configured_with_a_typo(cluster: Cluster) -> None:
    await cluster.add_config_map(ConfigMap(ObjectMeta(CONFIG, "default"), {URL_KEY: TYPO_URL}))
