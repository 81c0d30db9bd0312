"""Subscriptions to any search or filtered list (issue #13 §3): its Atom feed, «Подписаться», «Мои подписки»,
the digest letters (``flask --app catalogue digests send``) and the signed one-click unsubscribe."""

from flask import Flask


def init_app(app: Flask) -> None:
    from catalogue.subscriptions.digests import digests_cli
    from catalogue.subscriptions.views import bp

    app.register_blueprint(bp)
    app.cli.add_command(digests_cli)
