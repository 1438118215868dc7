"""The Cloud Functions' entry points, one module per kind of trigger: decode the event, call a
service, map errors to what the trigger does next.

Every trigger retries a call that fails (Pub/Sub redelivers, Eventarc and Cloud Tasks retry,
Meta resends webhooks), so the rule is one: a :class:`~shared.domain.errors.TransientError`
fails the call (a retry may succeed), and anything a retry cannot fix — a malformed event
(:class:`~shared.entrypoints.decoding.MalformedEvent`), a
:class:`~shared.domain.errors.PermanentError` — is logged and acknowledged, since a retry
would fail the same way forever.

* :mod:`~shared.entrypoints.pubsub`: the hourly tick, a tenant's job, the sweeper's schedule.
* :mod:`~shared.entrypoints.firestore`: a target was created.
* :mod:`~shared.entrypoints.http`: the send task and an API campaign's occurrence task (Cloud
  Tasks), and the public ``api`` function (the WhatsApp webhook, and everything else to the
  REST API and the console).
* :mod:`~shared.entrypoints.decoding`: what the events carry, and ``MalformedEvent``.

Nothing is imported here, so a function loads only the trigger module it uses.
"""
