"""Alert-triggered investigations: an Azure Monitor alert (or a simple request) names resources;
nwcheck checks, at once, the stored targets that involve them, and reports what blocks them.

- ``payload``: what the webhook accepts (common alert schema, or a simple form), validated;
- ``bundle``: the matching targets, and the checks that explain a failure;
- ``store``: investigations and their results in Table storage;
- ``summary``: the one-sentence (and one-row) summary;
- ``service``: the webhook's logic, and completing investigations as results are ingested.
"""
