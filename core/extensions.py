"""Flask extensions, created unbound and attached in ``create_app``."""

from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_migrate import Migrate
from flask_smorest import Api
from flask_wtf import CSRFProtect

from core.db import db

migrate = Migrate(compare_type=True, render_as_batch=True)
api = Api()
csrf = CSRFProtect()
limiter = Limiter(key_func=get_remote_address)

__all__ = ["api", "csrf", "db", "limiter", "migrate"]
