#!/bin/bash
# Lambda Web Adapter's wrapper (/opt/bootstrap) runs this instead of a Python handler: serve the
# streaming app on the port the adapter forwards to. The core layer's packages are under /opt.
export PYTHONPATH="${LAMBDA_TASK_ROOT:-/var/task}:/opt/python:/opt/python/lib/python3.11/site-packages${PYTHONPATH:+:$PYTHONPATH}"
exec python -m uvicorn --host 127.0.0.1 --port "${AWS_LWA_PORT:-8080}" --no-access-log \
  --timeout-keep-alive 900 app:app
