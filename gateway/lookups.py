"""What the inbound pipeline reads, answered from memory for a whole batch of mails.

Threading, the duplicate screen, contacts, agents, the circuit breaker and the
acknowledgement cap each ask a small question per mail ("which ticket knows this
Message-ID?", "who owns this address?"). Asked of the database one at a time, those
questions were most of the round trips of a mail, and each one made the session flush
what the mail had written so far. :meth:`Lookups.prefetch` answers them for every mail of
a batch with one query per kind; what the batch itself writes (a new ticket, a Message-ID,
a contact) is added as it is written, so a later mail of the same batch sees it exactly as
if it had been committed. Anything not prefetched is read once and remembered. The SMS
pipeline asks its own questions of the same cache ("is this MessageSid on a ticket?",
"which is this number's open ticket?", and the number's identity, which holds its opt-out):
:meth:`Lookups.prefetch_sms` answers them for a batch of SMS.

The cache belongs to one transaction's unit of work (``gateway.unit_of_work``), which
drops it when the transaction or any of its savepoints ends.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import and_, func, literal, or_, select
from sqlalchemy.orm import Session, joinedload, selectinload

from gateway.identities import domain_of
from schema.models import (
    Agent,
    Contact,
    ContactIdentity,
    InboxItem,
    KnownMessageId,
    Message,
    OutboxItem,
    Ticket,
)

BREAKER_WINDOW = timedelta(minutes=1)
ACK_WINDOW = timedelta(hours=1)

ThreadRow = tuple[str, bool, str | None]  # (Message-ID, outbound, party)
IdentityKind = Literal["email", "phone"]
# Tickets a bare reply may still thread onto by its subject (resolved ones only within
# the reopen window, checked by the query).
_OPEN = ("new", "open", "pending")


@dataclass(slots=True)
class Lookups:
    session: Session
    known: dict[str, tuple[int, bool]] = field(default_factory=dict)
    known_missing: set[str] = field(default_factory=set)
    identities: dict[tuple[str, str], ContactIdentity | None] = field(default_factory=dict)
    agents: dict[str, Agent] | None = None
    tickets: dict[int, Ticket] = field(default_factory=dict)
    conversations: dict[tuple[str, int], Ticket | None] = field(default_factory=dict)
    with_messages: set[int] = field(default_factory=set)
    without_messages: set[int] = field(default_factory=set)
    senders: dict[str, int] = field(default_factory=dict)
    domains: dict[str, int] = field(default_factory=dict)
    acks: Counter[tuple[str, str]] = field(default_factory=Counter)
    acks_read: set[tuple[str, str]] = field(default_factory=set)
    threads: dict[int, list[ThreadRow]] = field(default_factory=dict)
    outbox_keys: set[str] = field(default_factory=set)
    by_subject: dict[str, set[int]] = field(default_factory=dict)
    subjects_read: set[str] = field(default_factory=set)
    participants: dict[int, set[str]] = field(default_factory=dict)
    sms_sids: set[str] = field(default_factory=set)  # on a message of a ticket
    sms_sids_read: set[str] = field(default_factory=set)
    open_tickets: dict[int, OpenTicket] = field(default_factory=dict)  # by contact id

    # -- prefetching ---------------------------------------------------------------------

    def prefetch(
        self,
        *,
        message_ids: Iterable[str] = (),
        ticket_ids: Iterable[int] = (),
        emails: Iterable[str] = (),
        phones: Iterable[str] = (),
    ) -> None:
        """Read what a batch will ask about: one query per kind, in chunks."""
        wanted = {
            m for m in message_ids if m and m not in self.known and m not in self.known_missing
        }
        for chunk in _chunks(sorted(wanted)):
            rows = self.session.execute(
                select(
                    KnownMessageId.message_id, KnownMessageId.ticket_id, KnownMessageId.outbound
                ).where(KnownMessageId.message_id.in_(chunk))
            )
            for mid, ticket_id, outbound in rows:
                self.known[mid] = (ticket_id, bool(outbound))
        self.known_missing |= wanted - self.known.keys()
        ids = {t for t in ticket_ids if t not in self.tickets}
        ids |= {t for t, _ in self.known.values() if t not in self.tickets}
        for chunk in _chunks(sorted(ids)):
            found = self.session.scalars(
                select(Ticket).where(Ticket.id.in_(chunk)).options(selectinload(Ticket.contact))
            )
            for ticket in found:
                self.tickets[ticket.id] = ticket
            self._read_with_messages(chunk)
        self._read_identities("email", emails)
        self._read_identities("phone", phones)

    def _read_identities(self, kind: IdentityKind, values: Iterable[str]) -> None:
        wanted = {v for v in values if v and (kind, v) not in self.identities}
        for chunk in _chunks(sorted(wanted)):
            identities = self.session.scalars(
                select(ContactIdentity)
                .where(ContactIdentity.kind == kind, ContactIdentity.value.in_(chunk))
                .options(joinedload(ContactIdentity.contact).selectinload(Contact.identities))
            )
            for identity in identities:
                self.identities[(kind, identity.value)] = identity
        for value in wanted:
            self.identities.setdefault((kind, value), None)

    def prefetch_rates(
        self,
        senders: Collection[str],
        now: datetime,
        exclude: Iterable[int] = (),
        ack: str = "ack",
    ) -> None:
        """Read the circuit breaker's counts and the acknowledgement cap's for a batch.

        ``exclude`` are the batch's own inbox items: each is counted as it is processed.
        The cap applies to the acknowledgement of a new ticket (template ``ack``, for SMS
        ``sms_ack``), addressed to its sender.
        """
        self._read_mail_counts(senders, now, exclude)
        self._read_notification_counts(senders, ack, now)

    def _read_mail_counts(
        self, senders: Collection[str], now: datetime, exclude: Iterable[int]
    ) -> None:
        skip = list(exclude)
        wanted = {s for s in senders if s and s not in self.senders}
        domains = {domain_of(s) for s in senders if s} - self.domains.keys() - {""}
        for column, names, into in (
            (InboxItem.sender, wanted, self.senders),
            (InboxItem.sender_domain, domains, self.domains),
        ):
            for chunk in _chunks(sorted(names)):
                rows = self.session.execute(
                    select(column, func.count())
                    .where(
                        column.in_(chunk),
                        InboxItem.received_at >= now - BREAKER_WINDOW,
                        InboxItem.id.not_in(skip),
                    )
                    .group_by(column)
                )
                into.update((name, count) for name, count in rows if name is not None)
                into.update({name: 0 for name in chunk if name not in into})

    def _read_notification_counts(
        self, recipients: Collection[str], template: str, now: datetime
    ) -> None:
        keys = {(r, template) for r in recipients if r} - self.acks_read
        for chunk in _chunks(sorted(r for r, _ in keys)):
            rows = self.session.execute(
                select(OutboxItem.recipient, func.count())
                .where(
                    OutboxItem.recipient.in_(chunk),
                    OutboxItem.template == template,
                    OutboxItem.created_at >= now - ACK_WINDOW,
                )
                .group_by(OutboxItem.recipient)
            )
            for recipient, count in rows:
                self.acks[(recipient, template)] += count
        self.acks_read |= keys

    # -- Message-IDs and tickets ------------------------------------------------------------

    def ticket_of_message_id(self, message_id: str) -> tuple[int, bool] | None:
        """``(ticket id, outbound)`` of a Message-ID we stored or sent, else ``None``."""
        if message_id in self.known:
            return self.known[message_id]
        if message_id in self.known_missing:
            return None
        self.prefetch(message_ids=[message_id])
        return self.known.get(message_id)

    def add_message_id(self, message_id: str, ticket_id: int, outbound: bool) -> None:
        self.known.setdefault(message_id, (ticket_id, outbound))
        self.known_missing.discard(message_id)

    def ticket(self, ticket_id: int) -> Ticket | None:
        if ticket_id not in self.tickets:
            found = self.session.get(Ticket, ticket_id)
            if found is None:
                return None
            self.tickets[ticket_id] = found
        return self.tickets[ticket_id]

    def add_ticket(self, ticket: Ticket) -> None:
        self.tickets[ticket.id] = ticket
        self.without_messages.add(ticket.id)
        self.by_subject.setdefault(ticket.subject, set()).add(ticket.id)
        self.participants[ticket.id] = set()
        self._touched(ticket)

    def has_messages(self, ticket_id: int) -> bool:
        if ticket_id not in self.with_messages and ticket_id not in self.without_messages:
            self._read_with_messages([ticket_id])
        return ticket_id in self.with_messages

    def _read_with_messages(self, ticket_ids: list[int]) -> None:
        found = set(
            self.session.scalars(
                select(Message.ticket_id).where(Message.ticket_id.in_(ticket_ids)).distinct()
            )
        )
        self.with_messages |= found
        self.without_messages |= set(ticket_ids) - found

    def add_message(self, message: Message, ticket: Ticket, contact_id: int | None) -> None:
        self.with_messages.add(ticket.id)
        self.without_messages.discard(ticket.id)
        if message.sms_sid:
            self.sms_sids.add(message.sms_sid)
        self._touched(ticket)
        if message.thread_index and contact_id is not None:
            self.conversations[(message.thread_index, contact_id)] = ticket
        if message.email_message_id and ticket.id in self.threads:
            self.threads[ticket.id].append((message.email_message_id, False, message.sender))
        if ticket.id in self.participants:
            self.participants[ticket.id].update(message.recipients or ())

    # -- bare replies: tickets by subject and who took part ------------------------------

    def prefetch_subjects(self, subjects: Iterable[str], resolved_since: datetime) -> None:
        """Read the tickets a bare reply may thread onto, and their participants.

        One query for the tickets whose subject is one of ``subjects`` and that are open,
        pending, or resolved since ``resolved_since``; one for the To/Cc addresses of
        their messages.
        """
        wanted = {s[:500] for s in subjects if s} - self.subjects_read
        found: set[int] = set()
        for chunk in _chunks(sorted(wanted)):
            rows = self.session.scalars(
                select(Ticket).where(
                    Ticket.subject.in_(chunk),
                    or_(
                        Ticket.status.in_(_OPEN),
                        and_(Ticket.status == "resolved", Ticket.resolved_at >= resolved_since),
                    ),
                )
            )
            for ticket in rows:
                self.tickets.setdefault(ticket.id, ticket)
                self.by_subject.setdefault(ticket.subject, set()).add(ticket.id)
                found.add(ticket.id)
        self.subjects_read |= wanted
        self._read_participants(found - self.participants.keys())

    def tickets_with_subject(
        self, subjects: Iterable[str], resolved_since: datetime
    ) -> list[Ticket]:
        """Tickets whose subject is exactly one of ``subjects`` (see :meth:`prefetch_subjects`)."""
        subjects = [s[:500] for s in subjects]
        self.prefetch_subjects(subjects, resolved_since)
        ids = sorted({i for s in subjects for i in self.by_subject.get(s, ())})
        return [self.tickets[i] for i in ids if i in self.tickets]

    def ticket_recipients(self, ticket_id: int) -> set[str]:
        """Every address that was on To/Cc of a message of the ticket."""
        if ticket_id not in self.participants:
            self._read_participants({ticket_id})
        return self.participants[ticket_id]

    def _read_participants(self, ticket_ids: set[int]) -> None:
        for chunk in _chunks(sorted(ticket_ids)):
            self.participants.update({t: set() for t in chunk})
            rows = self.session.execute(
                select(Message.ticket_id, Message.recipients).where(Message.ticket_id.in_(chunk))
            )
            for ticket_id, recipients in rows:
                self.participants[ticket_id].update(a.lower() for a in recipients or ())

    def conversation(self, key: str, contact_id: int) -> Ticket | None:
        """The latest ticket of this contact with a message in Outlook conversation ``key``."""
        if (key, contact_id) not in self.conversations:
            self.conversations[(key, contact_id)] = self.session.scalars(
                select(Ticket)
                .join(Message, Message.ticket_id == Ticket.id)
                .where(Message.thread_index == key, Ticket.contact_id == contact_id)
                .order_by(Message.id.desc())
                .limit(1)
            ).first()
        return self.conversations[(key, contact_id)]

    # -- people ------------------------------------------------------------------------------

    def identity(self, value: str, kind: IdentityKind = "email") -> ContactIdentity | None:
        """The contact identity of an email address, or of a phone number."""
        if (kind, value) not in self.identities:
            self._read_identities(kind, [value])
        return self.identities[(kind, value)]

    def add_identity(self, identity: ContactIdentity) -> None:
        """An identity this transaction created, with a contact of its own: no tickets yet."""
        if identity.kind in ("email", "phone"):
            self.identities[(identity.kind, identity.value)] = identity
        self.open_tickets.setdefault(identity.contact_id, OpenTicket(None, None))

    def agent(self, address: str) -> Agent | None:
        """The agent (active or not) with this address."""
        if self.agents is None:
            self.agents = {a.email: a for a in self.session.scalars(select(Agent))}
        return self.agents.get(address.strip().lower())

    def all_agents(self) -> list[Agent]:
        """Every agent, active or not, by address."""
        self.agent("")
        assert self.agents is not None
        return sorted(self.agents.values(), key=lambda a: a.email)

    # -- rates -------------------------------------------------------------------------------

    def recent_mail(
        self, sender: str, domain: str, now: datetime, item_id: int | None
    ) -> tuple[int, int]:
        """Mails from ``sender`` and from ``domain`` received in the breaker's window.

        Read once per sender and domain per transaction (excluding ``item_id``, which is
        counted by :meth:`add_mail` like every later item of the batch).
        """
        if sender not in self.senders or (domain and domain not in self.domains):
            self._read_mail_counts([sender], now, [item_id] if item_id is not None else [])
        return self.senders[sender], self.domains.get(domain, 0)

    def add_mail(self, sender: str, domain: str) -> None:
        self.senders[sender] = self.senders.get(sender, 0) + 1
        if domain:
            self.domains[domain] = self.domains.get(domain, 0) + 1

    def recent_notifications(self, recipient: str, template: str, now: datetime) -> int:
        """Outbox rows of ``template`` to ``recipient`` in the last hour (the ack cap)."""
        key = (recipient, template)
        self._read_notification_counts([recipient], template, now)
        return self.acks[key]

    def add_notification(self, recipient: str, template: str) -> None:
        self.acks[(recipient, template)] += 1

    def add_outbox_key(self, key: str) -> bool:
        """Claim an outbox idempotency key for this transaction; ``False`` if it was used."""
        if key in self.outbox_keys:
            return False
        self.outbox_keys.add(key)
        return True

    # -- a ticket's mail thread, for the headers of our notifications ---------------------

    def prefetch_threads(self, ticket_ids: Iterable[int]) -> None:
        """Read the mail threads of several tickets at once (see :meth:`thread_rows`)."""
        wanted = {t for t in ticket_ids if t not in self.threads}
        fresh = {t for t in wanted if t in self.without_messages and t in self.tickets}
        self.threads.update({t: [] for t in fresh})
        for chunk in _chunks(sorted(wanted - fresh)):
            self.threads.update({t: [] for t in chunk})
            for ticket_id, mid, outbound, party in _read_threads(self.session, chunk):
                self.threads[ticket_id].append((mid, outbound, party))

    def thread_rows(self, ticket: Ticket) -> list[ThreadRow]:
        """``(message_id, outbound, party)`` of the ticket, oldest first; party is the sender
        of a stored message or the recipient of one of our notifications."""
        if ticket.id not in self.threads:
            if ticket.id in self.without_messages and ticket.id in self.tickets:
                self.threads[ticket.id] = []  # opened by this transaction: nothing stored yet
            else:
                self.prefetch_threads([ticket.id])
        return self.threads[ticket.id]

    def add_outbound(self, ticket: Ticket, message_id: str, recipient: str) -> None:
        self.add_message_id(message_id, ticket.id, True)
        if ticket.id in self.threads:
            self.threads[ticket.id].append((message_id, True, recipient))

    # -- SMS: MessageSids, and a contact's open ticket --------------------------------------

    def prefetch_sms(self, sids: Iterable[str], phones: Iterable[str]) -> None:
        """Read what a batch of SMS asks: which MessageSids are on a ticket already, the
        senders' identities (with their opt-out) and each sender's open ticket."""
        wanted = {s for s in sids if s} - self.sms_sids_read
        for chunk in _chunks(sorted(wanted)):
            self.sms_sids.update(
                self.session.scalars(select(Message.sms_sid).where(Message.sms_sid.in_(chunk)))
            )
        self.sms_sids_read |= wanted
        numbers = list(phones)
        self._read_identities("phone", numbers)
        contacts = {
            identity.contact_id
            for n in numbers
            if (identity := self.identities.get(("phone", n))) is not None
        }
        self._read_open_tickets(contacts - self.open_tickets.keys())

    def has_sms_sid(self, sid: str) -> bool:
        """Whether a message of a ticket carries this MessageSid."""
        if sid not in self.sms_sids_read:
            self.prefetch_sms([sid], ())
        return sid in self.sms_sids

    def open_ticket(self, contact_id: int) -> Ticket | None:
        """The contact's ticket with the latest activity that is not closed (nor merged away).

        Answered from the ticket read for the contact and the contact's tickets this
        transaction opened or added to since; read again when the one read has changed
        in a way that might let a ticket not held here come first.
        """
        entry = self.open_tickets.get(contact_id)
        if entry is None or not entry.still_first():
            self._read_open_tickets({contact_id})
            entry = self.open_tickets[contact_id]
        candidates = [t for t in (entry.read, *entry.touched.values()) if t is not None]
        return max(filter(_is_open, candidates), key=_recency, default=None)

    def _touched(self, ticket: Ticket) -> None:
        entry = self.open_tickets.get(ticket.contact_id)
        if entry is not None:
            entry.touched[ticket.id] = ticket

    def _read_open_tickets(self, contact_ids: set[int]) -> None:
        for chunk in _chunks(sorted(contact_ids)):
            rank = (
                func.row_number()
                .over(
                    partition_by=Ticket.contact_id,
                    order_by=(Ticket.updated_at.desc(), Ticket.id.desc()),
                )
                .label("rank")
            )
            ranked = (
                select(Ticket.id, rank)
                .where(
                    Ticket.contact_id.in_(chunk),
                    Ticket.status != "closed",
                    Ticket.merged_into_id.is_(None),
                )
                .subquery()
            )
            found = {
                ticket.contact_id: ticket
                for ticket in self.session.scalars(
                    select(Ticket).join(ranked, ranked.c.id == Ticket.id).where(ranked.c.rank == 1)
                )
            }
            for contact_id in chunk:
                ticket = found.get(contact_id)
                self.open_tickets[contact_id] = OpenTicket(
                    ticket, _recency(ticket) if ticket is not None else None
                )
            for ticket in found.values():
                self.tickets.setdefault(ticket.id, ticket)
            unknown = [t.id for t in found.values() if t.id not in self.with_messages]
            if unknown:
                self._read_with_messages(unknown)


@dataclass(slots=True)
class OpenTicket:
    """A contact's most recent ticket that is not closed, as read, and the contact's tickets
    the transaction opened or added to since (one of them may have come first)."""

    read: Ticket | None
    read_as: tuple[datetime, int] | None  # its recency when read
    touched: dict[int, Ticket] = field(default_factory=dict)

    def still_first(self) -> bool:
        """Whether the ticket read still comes before every ticket of the contact not held
        here: it is still open and no less recent (or none was found)."""
        if self.read is None or self.read_as is None:
            return True
        return _is_open(self.read) and _recency(self.read) >= self.read_as


def _is_open(ticket: Ticket) -> bool:
    return ticket.status != "closed" and ticket.merged_into_id is None


def _recency(ticket: Ticket) -> tuple[datetime, int]:
    return (ticket.updated_at, ticket.id)


def lookups(session: Session) -> Lookups:
    """The transaction's lookups: its unit of work's."""
    from gateway.unit_of_work import UnitOfWork  # which holds a Lookups: imported late

    return UnitOfWork.of(session).lookups


def _read_threads(session: Session, ticket_ids: list[int]) -> list[tuple[int, str, bool, str]]:
    """``(ticket id, Message-ID, outbound, party)`` of these tickets, oldest first."""
    seen_in = select(
        Message.ticket_id,
        Message.email_message_id,
        literal(False),
        Message.sender,
        Message.created_at,
    ).where(Message.ticket_id.in_(ticket_ids), Message.email_message_id.is_not(None))
    seen_out = select(
        KnownMessageId.ticket_id,
        KnownMessageId.message_id,
        KnownMessageId.outbound,
        KnownMessageId.recipient,
        KnownMessageId.created_at,
    ).where(KnownMessageId.ticket_id.in_(ticket_ids), KnownMessageId.outbound.is_(True))
    rows = session.execute(seen_in.union_all(seen_out).order_by("created_at")).all()
    return [(r[0], r[1], bool(r[2]), r[3]) for r in rows if r[1]]


def _chunks(values: list[Any], size: int = 500) -> Iterable[list[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]
