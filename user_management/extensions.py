"""Extension objects, created once here and bound to an app in `create_app`."""
from flask_cors import CORS
from flask_jwt_extended import JWTManager
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_talisman import Talisman

jwt = JWTManager()
limiter = Limiter(key_func=get_remote_address, headers_enabled=True)
cors = CORS()
talisman = Talisman()
