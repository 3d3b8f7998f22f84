"""Imports every model module so `Base.metadata` knows the whole schema (for Alembic and tests)."""


def load_all() -> None:
    import newsletter.accounts.models  # noqa: F401
    import newsletter.issues.models  # noqa: F401
    import newsletter.review.models  # noqa: F401
    import subscribers.models  # noqa: F401
    import newsletter.delivery.models  # noqa: F401
