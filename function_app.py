"""nwcheck's Azure Functions app: a switchboard.

Each function decodes its trigger, calls one function in ``shared/`` and returns. All the domain
code lives in ``shared/`` so it is testable without the Functions host. The check pipeline
(timer sweep, requests and polls queues) is registered here as it lands; see the README.
"""

from __future__ import annotations

import azure.functions as func

app = func.FunctionApp(http_auth_level=func.AuthLevel.FUNCTION)
