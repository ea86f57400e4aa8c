"""Verify the hash chain in a second process while this one reads the lineage.

A gate refuses to decide on a ledger whose chain is broken, and recomputing 100,000 hashes costs as
much as the lineage query itself; on a machine with two cores they can overlap. Where processes
cannot be forked (or only one core is available) the chain is verified in this process, when the
result is asked for (also when other threads run: forking them is unsafe). Either way the caller
must not act on a decision before asking.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import threading
from collections.abc import Callable
from multiprocessing.connection import Connection as Pipe

from sqlalchemy import Engine

from policyengine.ledger import db
from policyengine.ledger.verify import Verification, verify_chain


def verify_chain_meanwhile(engine: Engine) -> Callable[[], Verification]:
    """Start verifying the chain of ``engine``'s ledger; returns the function that waits for it."""
    if (
        (os.cpu_count() or 1) < 2
        or "fork" not in multiprocessing.get_all_start_methods()
        or threading.active_count() > 1  # forking a threaded process can deadlock the child
    ):
        return lambda: _verify(engine)
    url = engine.url.render_as_string(hide_password=False)
    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)
    child = context.Process(target=_child, args=(engine, url, sender), daemon=True)
    child.start()
    sender.close()

    def wait() -> Verification:
        try:
            result = pickle.loads(receiver.recv_bytes())
        except EOFError:  # the child died without a word: verify here instead
            result = _verify(engine)
        finally:
            receiver.close()
            child.join()
        assert isinstance(result, Verification)
        return result

    return wait


def _child(parent: Engine, url: str, sender: Pipe) -> None:
    # The parent's pooled connections belong to the parent: leave them alone, open our own.
    parent.dispose(close=False)
    try:
        engine = db.engine_for(url)
        try:
            result = _verify(engine)
        finally:
            engine.dispose()
        sender.send_bytes(pickle.dumps(result))
    finally:
        sender.close()
        os._exit(0)  # no atexit handlers, no flushing of buffers inherited from the parent


def _verify(engine: Engine) -> Verification:
    with engine.connect() as connection:
        return verify_chain(connection)
