"""The simulated Telegram: accounts, channels, groups and their rules, behind the engine's port.

``World`` implements ``core.ports.AccountFactory``; each port it opens is one account. Failures are
raised as real ``telethon.errors`` instances, so ``engine.outcomes.classify`` treats the simulation and
Telegram alike. The world enforces the rules that keep real accounts alive and records every breach in
``violations`` (tests assert it stays empty):

* a flood wait is remembered per account: a request before it ends raises ``FloodWaitError`` again;
* slow mode is a window per (account, group): a post inside it raises ``SlowModeWaitError``;
* only members may post, nobody is ever joined automatically;
* a repeated ``random_id`` from one account to one chat is delivered once (the original message id is
  returned), as Telegram does;
* one live connection per account (a second one is recorded as ``two_live_ports``).

Accounts are keyed by the sha256 of the session file's auth key (read read-only from the real file),
so an account added for a test still matches after the pool has imported and renamed the file; a
session without a readable file is keyed ``session-<id>``.

Lenient mode (the demo's default): any group reference resolves to a group every account is a member
of, and any ``@channel/<id>`` post exists. Scripted worlds come from code or a JSON file (see
``World.from_dict``). With a log path, delivered posts and the chats a lenient world made up outlive
the process (``sandbox.world.logs``).

Modules: ``model`` (accounts, chats, deliveries, violations), ``faults`` (scripted failures), ``logs``
(the JSON-lines logs), ``port`` (``SimPort``, one account's connection), ``simulation`` (``World``),
``joins`` (joining: public chats, invite links, approval, the channel cap; ``World.joins``).
"""

from sandbox.world.simulation import World

__all__ = ["World"]
