"""Agents: the people who answer tickets. Admin operations over a session."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.errors import Conflict, InvalidInput, NotFound
from gateway.identities import normalize_email, normalize_phone
from schema.models import Agent
from schema.models.people import ROLES


def _check_role(role: str) -> str:
    if role not in ROLES:
        raise InvalidInput(f"unknown role {role!r}: use one of {', '.join(ROLES)}")
    return role


def find_agent(session: Session, email: str) -> Agent | None:
    return session.scalars(select(Agent).where(Agent.email == email.strip().lower())).one_or_none()


def get_agent(session: Session, email: str) -> Agent:
    agent = find_agent(session, email)
    if agent is None:
        raise NotFound(f"no agent with address {email.strip().lower()}")
    return agent


def add_agent(
    session: Session, email: str, name: str, phone: str | None = None, role: str = "agent"
) -> Agent:
    email = normalize_email(email)
    if find_agent(session, email) is not None:
        raise Conflict(f"agent {email} already exists")
    if not name.strip():
        raise InvalidInput("an agent needs a name")
    agent = Agent(
        email=email,
        name=name.strip(),
        phone=normalize_phone(phone) if phone else None,
        role=_check_role(role),
        active=True,
    )
    session.add(agent)
    session.flush()
    return agent


def update_agent(
    session: Session,
    email: str,
    *,
    name: str | None = None,
    phone: str | None = None,
    role: str | None = None,
    new_email: str | None = None,
) -> Agent:
    agent = get_agent(session, email)
    if new_email is not None:
        new_email = normalize_email(new_email)
        if new_email != agent.email and find_agent(session, new_email) is not None:
            raise Conflict(f"agent {new_email} already exists")
        agent.email = new_email
    if name is not None:
        if not name.strip():
            raise InvalidInput("an agent needs a name")
        agent.name = name.strip()
    if phone is not None:
        agent.phone = normalize_phone(phone) if phone else None
    if role is not None:
        agent.role = _check_role(role)
    session.flush()
    return agent


def set_active(session: Session, email: str, active: bool) -> Agent:
    agent = get_agent(session, email)
    agent.active = active
    session.flush()
    return agent


def list_agents(session: Session) -> list[Agent]:
    return list(session.scalars(select(Agent).order_by(Agent.email)))
