"""Extensions, created once without an app and bound in ``create_app``."""

from flask_babel import Babel
from flask_migrate import Migrate
from flask_security import Security
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect

from models.base import Base

db = SQLAlchemy(model_class=Base)
migrate = Migrate()
csrf = CSRFProtect()
security = Security()
babel = Babel()
