"""The clock: moments are stored as naive UTC, and the oblast lives by Irkutsk time (UTC+8 all year)."""

import datetime as dt

LOCAL_TZ = dt.timezone(dt.timedelta(hours=8), "Иркутск")


def utcnow() -> dt.datetime:
    """Now, as the models store moments: naive UTC."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def local(value: dt.datetime) -> dt.datetime:
    """A stored moment (naive UTC, or aware) as Irkutsk wall-clock time."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(LOCAL_TZ)


def local_today() -> dt.date:
    """Today's date in the oblast (the server may run in UTC, eight hours behind)."""
    return dt.datetime.now(LOCAL_TZ).date()
