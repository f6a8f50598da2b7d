"""nwcheck's local Azure: managed identity, ARM Network Watcher and Logs Ingestion over HTTPS.

A development and test tool. The app never imports it; it only gets pointed at it by settings.
"""
