"""Extensions, created once without an app and bound in ``create_app``."""

from flask_babel import Babel
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
