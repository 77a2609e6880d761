"""Load testing for the Suishenban backend.

``loadtests.model`` turns a few published or assumed figures (monthly active users, actions per
daily user, the morning-commute peak) into per-endpoint request rates, so that Locust task
weights and capacity arithmetic come from one documented place instead of guesses scattered
through a locustfile. ``loadtests.capacity`` turns Locust's CSV output plus that model into a
capacity report. See ``loadtests/README.md`` for the defaults and their sources.
"""
