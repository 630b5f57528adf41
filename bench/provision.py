"""Calls for the signaling benchmark, made with the product's own services in
the benchmark's database: each one a one-on-one session whose customer
accepted the terms and joined, answered by its own operator. Prints (or
writes) what the clients need to knock: the socket path and the session
cookie each side's browser would hold.

With --links it makes fresh, unjoined sessions of a business that
seed_demo made (one-on-one and multi-user) and writes their customer links,
for the browser benchmarks: every call they time starts from a new link.

Runs inside the product's environment (DJANGO_SETTINGS_MODULE and the bench
server's VERITY_VAR_DIR / DATABASE_URL), so it is started as a subprocess:

    python -m bench.provision --calls 1000 --out calls.json
    python -m bench.provision --links --business demo --one-on-one 12 --out links.json
"""

import argparse
import json
import os
import sys
import time


def main(argv=None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=0)
    parser.add_argument("--business", default="bench-signaling")
    parser.add_argument("--out", required=True)
    parser.add_argument("--links", action="store_true")
    parser.add_argument("--one-on-one", type=int, default=0)
    parser.add_argument("--multi-user", type=int, default=0)
    parser.add_argument("--participants", type=int, default=3)
    args = parser.parse_args(argv)

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kyc.settings")
    import django

    django.setup()
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.test import Client

    from accounts.models import Business
    from accounts.services import operator_create
    from sessions_app.audit import Actor
    from sessions_app.models import VerificationSession
    from sessions_app.selectors import OPERATOR_PEER_ID, customer_session_bind
    from sessions_app.services import (
        ParticipantSpec,
        participant_accept_terms,
        participant_join,
        session_assign_operator,
        session_create,
    )
    from workflows.models import WorkflowTemplate

    started = time.monotonic()
    if args.links:
        business = Business.objects.get(slug=args.business)
        workflow = WorkflowTemplate.objects.filter(business=business).order_by("pk").first()
        made = {"one_on_one": [], "multi_user": []}
        for number in range(args.one_on_one):
            created = session_create(
                business=business,
                workflow=workflow,
                kind=VerificationSession.Kind.ONE_ON_ONE,
                participants=[ParticipantSpec(name=f"Customer {number}")],
                actor=Actor.system(),
            )
            made["one_on_one"].append([url for _, url in created.links])
        for number in range(args.multi_user):
            created = session_create(
                business=business,
                workflow=workflow,
                kind=VerificationSession.Kind.MULTI_USER,
                participants=[ParticipantSpec(name=f"Customer {number}-{p}") for p in range(args.participants)],
                actor=Actor.system(),
            )
            made["multi_user"].append([url for _, url in created.links])
        with open(args.out, "w") as out:
            json.dump(made, out)
        return 0
    business, _ = Business.objects.get_or_create(slug=args.business, defaults={"name": "Bench Signaling"})
    workflow, _ = WorkflowTemplate.objects.get_or_create(
        business=business,
        name="Bench call",
        defaults={
            "steps": [
                {"kind": "terms", "terms_version": "bench", "terms_text": "Benchmark."},
                {"kind": "device_check"},
                {"kind": "notes"},
            ]
        },
    )
    store_class = import_module(settings.SESSION_ENGINE).SessionStore
    user_model = get_user_model()
    calls = []
    offset = VerificationSession.objects.filter(business=business).count()
    for number in range(offset, offset + args.calls):
        created = session_create(
            business=business,
            workflow=workflow,
            kind=VerificationSession.Kind.ONE_ON_ONE,
            participants=[ParticipantSpec(name=f"Customer {number}")],
            business_reference=f"BENCH-{number}",
            actor=Actor.system(),
        )
        participant = created.links[0][0]
        participant_accept_terms(participant=participant, ip_address="127.0.0.1", user_agent="bench")
        participant_join(participant=participant)
        # One operator per call, as at a real desk: each heartbeat touches
        # its own operator row.
        user = user_model.objects.create_user(username=f"bench-op-{number}")
        operator = operator_create(user=user, business=business, display_name=f"Operator {number}")
        session_assign_operator(session_id=created.session.pk, operator=operator)
        customer_store = store_class()
        customer_session_bind(customer_store, participant)
        customer_store.save()
        # A real login (session rotation, auth hash) without a password round.
        client = Client()
        client.force_login(user)
        calls.append(
            {
                "path": f"/ws/call/{created.session.public_id.hex}/",
                "customer": {"peer_id": participant.public_id.hex, "cookie": customer_store.session_key},
                "operator": {"peer_id": OPERATOR_PEER_ID, "cookie": client.cookies[settings.SESSION_COOKIE_NAME].value},
            }
        )
    with open(args.out, "w") as out:
        json.dump(
            {
                "cookie_name": settings.SESSION_COOKIE_NAME,
                "database": settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1],
                "seconds": time.monotonic() - started,
                "calls": calls,
            },
            out,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
