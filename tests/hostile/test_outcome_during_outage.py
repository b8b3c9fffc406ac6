"""The second at-least-once window: the relay said 250, and the database was away.

The worker sent the mail, then could not record ``sent``: the row stayed ``sending``, and
after the lease the sweep put it back to ``pending`` and it went out a second time (six
notifications twice after one outage). The outcome is now kept and written as soon as the
database answers again, before the lease runs out.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest
from aiosmtpd.controller import Controller

from gateway.config import load_settings
from gateway.runtime import Runtime, open_runtime
from tests.tcp_proxy import TcpProxy, proxied_database
from tests.waiting import wait_until
from tests.workers.conftest import FAST, AddRows, row
from tests.workers.sink import Recorder
from workers.broker import setup_broker, start_workers


@pytest.fixture
def proxied_runtime(worker_env: dict[str, str]) -> Iterator[tuple[Runtime, TcpProxy]]:
    with proxied_database(worker_env) as (env, proxy):
        rt = open_runtime(load_settings(env))
        yield rt, proxy
        rt.close()


def test_a_mail_sent_while_the_database_is_away_is_not_sent_again(
    runtime: Runtime,
    proxied_runtime: tuple[Runtime, TcpProxy],
    sink: tuple[Recorder, Controller],
    add_rows: AddRows,
    namespace: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    worker_rt, proxy = proxied_runtime
    recorder, _ = sink
    recorder.on_accept = proxy.cut  # the relay's 250 is the last thing before the outage
    [row_id] = add_rows(1)
    options = replace(FAST, lease=5.0)  # the sweep would resend after 5 s
    broker = setup_broker(
        worker_rt.settings, options=options, runtime=worker_rt, namespace=namespace
    )
    handle = start_workers(broker, threads=2)
    try:
        wait_until(lambda: len(recorder.messages) == 1, 60, "the relay to accept the mail")
        recorder.on_accept = None
        wait_until(lambda: "outbox outcomes failed" in caplog.text, 60, "the recording to fail")
        proxy.restore()
        wait_until(lambda: row(runtime, row_id).status == "sent", 60, "the row to be sent")
    finally:
        handle.stop()
        broker.close()
    assert len(recorder.messages) == 1, "sent twice"
