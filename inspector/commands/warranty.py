"""``inspector warranty``: back-office tasks for warranty staff and admins.

Record a sale, check a certificate's coverage, list and act on claims, print reports and export
CSV. The command line acts with admin rights (whoever runs it has the database), and every
action is still written to the claim's audit log under ``cli:<login name>``.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.engine import Engine

from inspector.auth.tenancy import EVERYTHING
from inspector.cli import CommandError, command_engine
from inspector.config import get_settings
from inspector.db import session_scope
from inspector.photostore import Shelf, photo_store

if TYPE_CHECKING:
    from warranty.service import Actor


def _engine() -> Engine:
    return command_engine(get_settings())


@contextmanager
def _refusals() -> Iterator[None]:
    """The service's refusals (not allowed now, unknown claim, bad input) as plain CLI errors."""
    from warranty.errors import WarrantyError

    try:
        yield
    except WarrantyError as exc:
        raise CommandError(exc.message) from exc


def _actor() -> Actor:
    from warranty.service import Actor

    try:
        login = getpass.getuser()
    except (KeyError, OSError):
        login = "unknown"
    return Actor(f"cli:{login}"[:64], "admin")


def _price_minor(args: argparse.Namespace) -> int:
    if args.price_minor is not None:
        return int(args.price_minor)
    try:
        value = Decimal(args.price)
    except (InvalidOperation, TypeError) as exc:
        raise CommandError(f"price {args.price!r} is not a number (e.g. 1299.00)") from exc
    minor = value * 100
    if minor != minor.to_integral_value():
        raise CommandError("price has more than 2 decimals; give --price-minor instead")
    return int(minor)


def _plans(args: argparse.Namespace) -> int:
    from warranty.plans import PLANS_DIR, PlanError, load_plans

    try:
        plans = load_plans(Path(args.dir) if args.dir else PLANS_DIR)
    except PlanError as exc:
        raise CommandError(str(exc)) from exc
    for p in plans.values():
        extra = []
        if p.return_window_days:
            extra.append(f"{p.return_window_days}-day return")
        if p.authenticity_multiple:
            extra.append(f"fake pays {p.authenticity_multiple}x")
        default = " (default)" if p.default else ""
        print(f"{p.plan_id:24} {p.item_kind:8} {p.days:4} days  {', '.join(extra)}{default}")
    return 0


def _sale(args: argparse.Namespace) -> int:
    from warranty.service import record_sale

    sold_at = None
    if args.sold_at:
        try:
            sold_at = datetime.fromisoformat(args.sold_at)
        except ValueError as exc:
            raise CommandError(f"--sold-at {args.sold_at!r} is not an ISO date-time") from exc
    with _refusals(), session_scope(_engine()) as s:
        sale = record_sale(
            s,
            _actor(),
            cert_human_id=args.cert,
            order_ref=args.order,
            price_minor=_price_minor(args),
            currency=args.currency,
            sold_at=sold_at,
            buyer_contact=args.contact or "",
            plan_id=args.plan,
        )
        print(f"sale recorded: {sale.cert_human_id} order {sale.order_ref}, plan {sale.plan_id}")
    return 0


def _coverage(args: argparse.Namespace) -> int:
    from warranty.coverage import UnknownCertificate, coverage_for

    with session_scope(_engine()) as s:
        try:
            cov = coverage_for(s, args.cert)
        except UnknownCertificate as exc:
            raise CommandError(str(exc)) from exc
    state = f"active, {cov.days_left} days left" if cov.active else f"not active: {cov.inactive_reason}"
    print(f"{cov.human_id}: {cov.plan.title} ({cov.plan.plan_id})")
    print(f"  from {cov.start:%Y-%m-%d} ({cov.basis}) to {cov.end:%Y-%m-%d}: {state}")
    print("  excluded: " + "; ".join(e.code for e in cov.exclusions))
    return 0


def _claims(args: argparse.Namespace) -> int:
    from warranty.service import QueueFilter, queue

    f = QueueFilter(
        state=args.state,
        station=args.station or "",
        kind=args.kind or "",
        q=args.search or "",
        limit=args.limit,
    )
    with _refusals(), session_scope(_engine()) as s:
        rows, total = queue(s, f, EVERYTHING)
        for c in rows:
            print(
                f"{c.ref}  {c.cert_human_id:12} {c.item_kind:8} {c.state:14} {c.station_id:12} "
                f"{c.created_at:%Y-%m-%d}  {c.order_ref}"
            )
    print(f"{len(rows)} of {total} claim(s)", file=sys.stderr)
    return 0


def _show(args: argparse.Namespace) -> int:
    from warranty.service import events, get_claim

    with _refusals(), session_scope(_engine()) as s:
        c = get_claim(s, args.ref, EVERYTHING)
        print(
            f"{c.ref}: {c.state} (version {c.version}), "
            f"certificate {c.cert_human_id}, order {c.order_ref or '-'}"
        )
        print(f"  {c.item_kind} {c.device_model} graded {c.grade} at {c.station_id}; problem {c.problem}")
        if c.outcome or c.deny_reason:
            print(f"  decision: {c.outcome or 'denied: ' + str(c.deny_reason)}")
        for e in events(s, c):
            print(
                f"  {e.at:%Y-%m-%d %H:%M} {e.actor} ({e.actor_role}) {e.action}: "
                f"{e.from_state or '-'} -> {e.to_state}  {e.reason}"
            )
    return 0


def _act(args: argparse.Namespace) -> int:
    from warranty.service import transition

    with _refusals(), session_scope(_engine()) as s:
        c = transition(
            s,
            args.ref,
            args.action,
            _actor(),
            expected_version=args.version,
            note=args.note or "",
            outcome=args.outcome,
            reason_code=args.reason,
            identity_value=args.identity,
            weight_mg=args.weight_mg,
        )
        print(f"{c.ref}: now {c.state}")
    return 0


def _report(args: argparse.Namespace) -> int:
    from warranty.reports import DIMENSIONS, claim_rates, claims_csv, rates_csv, time_to_resolution

    with session_scope(_engine()) as s:
        if args.claims_csv:
            with open(args.claims_csv, "w", encoding="utf-8", newline="") as fh:
                for chunk in claims_csv(s, EVERYTHING):
                    fh.write(chunk)
            print(f"wrote {args.claims_csv}", file=sys.stderr)
        if args.csv:
            Path(args.csv).write_text(rates_csv(s, EVERYTHING), encoding="utf-8")
            print(f"wrote {args.csv}", file=sys.stderr)
        if args.csv or args.claims_csv:
            return 0
        for dim, label in DIMENSIONS.items():
            print(f"claim rate by {label.lower()}:")
            for r in claim_rates(s, dim, EVERYTHING):
                rate = f"{r.rate * 100:5.1f}%" if r.rate is not None else "    -"
                print(f"  {r.value or '(unknown)':24} sold {r.sold:6}  claims {r.claims:5}  {rate}")
        t = time_to_resolution(s, EVERYTHING)
        med = f"{t.median_hours:.1f} h" if t.median_hours is not None else "-"
        print(f"time to resolution: {t.resolved} resolved, median {med}, {t.open} not yet resolved")
    return 0


def _expire_uploads(args: argparse.Namespace) -> int:
    from warranty.uploads import UPLOAD_TTL, expire_unreferenced

    settings = get_settings()
    hours = UPLOAD_TTL.total_seconds() / 3600 if args.hours is None else args.hours
    if hours < 0:
        raise CommandError("--hours must be 0 or more")
    engine = _engine()
    uploads = photo_store(settings, engine, Shelf.UPLOADS)
    report = expire_unreferenced(engine, uploads, ttl=timedelta(hours=hours))
    print(
        f"deleted {report.deleted} uploaded photos no claim uses (older than {hours:g} h), "
        f"freed {report.freed_bytes / 1e6:.1f} MB; {report.kept} old uploads belong to claims"
    )
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    from warranty.service import STATES, TRANSITIONS

    p = sub.add_parser(
        "warranty",
        help="warranty back office: sales, coverage, claims, reports",
        description="Record sales, check coverage, list and act on claims, print reports and CSV exports.",
    )
    w = p.add_subparsers(dest="warranty_command", metavar="ACTION", required=True)

    pl = w.add_parser("plans", help="list (and validate) the coverage plans")
    pl.add_argument("--dir", help="validate the plan files in this folder instead of the shipped ones")
    pl.set_defaults(handler=_plans)

    sa = w.add_parser("sale", help="record the sale of a certified item (coverage then starts at the sale)")
    sa.add_argument("cert", help="certificate id")
    sa.add_argument("--order", required=True, help="order reference the buyer will quote")
    price = sa.add_mutually_exclusive_group(required=True)
    price.add_argument("--price", help="price paid, e.g. 1299.00")
    price.add_argument("--price-minor", type=int, help="price in minor units (cents/fen), e.g. 129900")
    sa.add_argument("--currency", default="CNY", help="ISO 4217 code (default CNY)")
    sa.add_argument("--sold-at", help="ISO date-time with zone (default: now)")
    sa.add_argument("--contact", help="buyer contact, kept private (staff only)")
    sa.add_argument("--plan", help="plan id (default: the certificate's plan)")
    sa.set_defaults(handler=_sale)

    co = w.add_parser("coverage", help="show a certificate's warranty window and exclusions")
    co.add_argument("cert")
    co.set_defaults(handler=_coverage)

    cl = w.add_parser("claims", help="list claims (the staff queue)")
    cl.add_argument("--state", default="open", help=f"open (default), all, or one of: {', '.join(STATES)}")
    cl.add_argument("--station")
    cl.add_argument("--kind", choices=["phone", "jewelry"])
    cl.add_argument("--search", help="certificate id, order reference or claim ref")
    cl.add_argument("--limit", type=int, default=100)
    cl.set_defaults(handler=_claims)

    sh = w.add_parser("show", help="show one claim and its audit log")
    sh.add_argument("ref")
    sh.set_defaults(handler=_show)

    ac = w.add_parser("act", help="move a claim (accept, receive, approve, deny, resolve, close, withdraw)")
    ac.add_argument("ref")
    ac.add_argument("action", choices=[a for a in TRANSITIONS if a != "reinspect"])
    ac.add_argument("--note", help="why (required for approve, deny, resolve)")
    ac.add_argument("--outcome", choices=["repair", "replace", "refund"])
    ac.add_argument("--reason", help="deny reason code from the claim's plan")
    ac.add_argument("--identity", help="IMEI/serial of the received phone")
    ac.add_argument("--weight-mg", type=int, help="weight of the received jewelry in mg")
    ac.add_argument("--version", type=int, help="refuse if the claim changed since this version")
    ac.set_defaults(handler=_act)

    ex = w.add_parser(
        "expire-uploads",
        help="delete uploaded photos no claim uses (the web app also does this hourly)",
    )
    ex.add_argument("--hours", type=float, help="age after which an unused upload goes (default 24)")
    ex.set_defaults(handler=_expire_uploads)

    rp = w.add_parser("report", help="claim rates by grade/station/model/grader and time to resolution")
    rp.add_argument("--csv", help="write claim rates as CSV to this file")
    rp.add_argument("--claims-csv", help="write every claim as CSV to this file")
    rp.set_defaults(handler=_report)
