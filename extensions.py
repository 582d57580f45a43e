"""Extensions, created once without an app and bound in ``create_app``."""

from flask_babel import Babel
from flask_caching import Cache
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_migrate import Migrate
from flask_security import Security
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect

from accounts.passwords import PolicyPasswordUtil
from models.base import Base

db = SQLAlchemy(model_class=Base)
migrate = Migrate()
csrf = CSRFProtect()
# Our password policy also on Flask-Security's own change-password form (a
# constructor argument only: ``init_app`` ignores it).
security = Security(password_util_cls=PolicyPasswordUtil)
babel = Babel()
# The public catalog's option lists and totals (``public.catalog``): in-process by
# default, Redis when REDIS_URL is set so that every worker shares them.
cache = Cache()


def new_limiter() -> Limiter:
    """The login rate limiter (``accounts.login_security``): one per app, since
    Flask-Limiter keeps its storage (memory, or the Redis of ``REDIS_URL``) on the
    instance and the tests run several apps."""
    return Limiter(key_func=get_remote_address)
