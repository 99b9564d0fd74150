"""gunicorn settings for production: `gunicorn -c gunicorn.conf.py wsgi:app`.

Override any of these per host with GUNICORN_CMD_ARGS, e.g. GUNICORN_CMD_ARGS="--bind=0.0.0.0:9000 --workers=8".
"""

import multiprocessing

bind = "0.0.0.0:8000"
# Threads overlap database and storage waits; one process per core keeps CPU work (signing) parallel.
worker_class = "gthread"
workers = max(2, multiprocessing.cpu_count())
threads = 4
timeout = 60
graceful_timeout = 30
keepalive = 5
# Recycle workers now and then so slow leaks cannot grow without bound.
max_requests = 10000
max_requests_jitter = 1000
# Request size is also capped by the app (MAX_CONTENT_LENGTH); these bound headers.
limit_request_line = 8190
limit_request_fields = 100
accesslog = "-"
errorlog = "-"
# The app reads X-Forwarded-* only through PROXY_FIX_HOPS; gunicorn itself trusts the local proxy.
forwarded_allow_ips = "127.0.0.1"
preload_app = True
