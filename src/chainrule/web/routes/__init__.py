"""The API's routes, one module per part of it; ``server.create_app`` puts their ``ROUTES`` together.

    page.py        /, /favicon.ico, /static/…
    catalogue.py   /api/health, /api/examples, /api/choices, /api/initial: what the engine and this server offer
    runs.py        /api/sessions, …/{id}, …/train, …/reset, …/parameters, …/spec.toml: a session's run
    steps.py       …/step, …/steps/{k}, …/steps/{k}/explain, …/steps/{k}/check: traced steps
    views.py       …/boundary, …/heatmaps: the network over the input plane
"""
