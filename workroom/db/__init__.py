from workroom.db.base import Base, UTCDateTime
from workroom.db.database import Database

__all__ = ["Base", "Database", "UTCDateTime"]
