"""nwcheck's domain package: everything the functions in ``function_app.py`` do."""
