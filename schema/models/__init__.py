"""The ticket store: every table the gateway uses, as SQLAlchemy 2 typed models."""

from schema.models.audit import AuditEvent
from schema.models.base import Base
from schema.models.inbox import InboxItem
from schema.models.mailboxes import Mailbox, MailboxUid
from schema.models.media import MediaFetch
from schema.models.messages import Attachment, KnownMessageId, Message
from schema.models.outbox import OutboxItem, UnmatchedStatusCallback
from schema.models.people import Agent, Contact, ContactIdentity
from schema.models.queues import Queue, QueueAddress, queue_members
from schema.models.sla import SlaHoliday, SlaPolicy
from schema.models.sla_escalations import SlaEscalation
from schema.models.tickets import Ticket, TicketTag

__all__ = [
    "Agent",
    "Attachment",
    "AuditEvent",
    "Base",
    "Contact",
    "ContactIdentity",
    "InboxItem",
    "KnownMessageId",
    "Mailbox",
    "MailboxUid",
    "MediaFetch",
    "Message",
    "OutboxItem",
    "Queue",
    "QueueAddress",
    "SlaEscalation",
    "SlaHoliday",
    "SlaPolicy",
    "Ticket",
    "TicketTag",
    "UnmatchedStatusCallback",
    "queue_members",
]
