"""Delivery: the outbox relay, campaign fan-out and the push provider clients (APNs, FCM, HMS).

`init_app` plugs it into the API (wsgi.py): it builds the provider clients (push/clients.py),
answers api's hooks (a push waiting in the outbox wakes the relay; a new campaign is planned)
and adds the `flask push` commands. Its jobs are declared when these modules are imported,
before create_app binds the broker.
"""


def init_app(app, api) -> None:
    from api import hooks
    from api.demo import register_step
    from push import campaigns, clients, outbox
    from push.cli import push_cli
    from push.demo import deliver_demo_campaign

    clients.init_app(app)
    hooks.register(app, hooks.INBOX_PUSH_PENDING,
                   lambda not_before, now: outbox.kick(delay_until=not_before, now=now))
    hooks.register(app, hooks.CAMPAIGN_CREATED, campaigns.enqueue_campaign)
    app.cli.add_command(push_cli)
    register_step(app, deliver_demo_campaign)   # `flask --app wsgi demo`: the inbox filled at once
