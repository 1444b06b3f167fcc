"""Imports every package's models so `Base.metadata` (and so Alembic) sees every table.
A package that adds tables adds its models module here."""

from workroom import accounts, timers  # noqa: F401
from workroom.billing import models as billing_models  # noqa: F401
from workroom.feedback import models as feedback_models  # noqa: F401
from workroom.rooms import models as rooms_models  # noqa: F401
from workroom.email_bridge import models as email_models  # noqa: F401
from workroom.support import models as support_models  # noqa: F401
