"""One start per check id, across redeliveries, repeated sweeps and duplicate producers.

Before its first POST a check claims its id: a blob ``{check_id}`` created only if absent
(``If-None-Match: *``), recording the queue message that claimed it. A message carrying a claimed
id is a duplicate and starts nothing, unless it is the claiming message itself delivered again
(its invocation died before finishing): then it may start again, since it cannot know whether
its POST got through. Old claims are deleted by a lifecycle rule on the container (``infra/``).
"""

from __future__ import annotations

from azure.core.exceptions import ResourceExistsError
from azure.storage.blob import ContainerClient


class CheckClaims:
    def __init__(self, container: ContainerClient) -> None:
        self.container = container

    def __call__(self, check_id: str, message_id: str) -> bool:
        """True if this message may start the check."""
        blob = self.container.get_blob_client(check_id)
        try:
            blob.upload_blob(b"", overwrite=False, metadata={"message_id": message_id})
            return True
        except ResourceExistsError:
            return blob.get_blob_properties().metadata.get("message_id") == message_id
