"""The simulated Telegram: accounts, channels, groups and their rules, behind the engine's port.

``World`` implements ``core.ports.AccountFactory``; each port it opens is one account. Failures are
raised as real ``telethon.errors`` instances, so ``engine.outcomes.classify`` treats the simulation and
Telegram alike. The world enforces the rules that keep real accounts alive and records every breach in
``violations`` (tests assert it stays empty):

* a flood wait is remembered per account and method class (``sandbox.world.waits``): a request of that
  class before it ends raises ``FloodWaitError`` again (a ``flood_wait`` violation), other classes go on;
* slow mode is a window per (account, group): a post inside it raises ``SlowModeWaitError``;
* only members may post, nobody is ever joined automatically; a non-member's send is refused as
  Telegram refuses it (CHANNEL_PRIVATE in a private group, CHAT_WRITE_FORBIDDEN in a public one, and
  CHANNEL_PRIVATE wherever the account is banned);
* each account has its own access hash per chat, and a marked id ('-100<id>', '-<id>') resolves only for
  an account that was given that hash (the chat was in its dialogs, or it resolved the chat's username),
  as a Telethon session answers from its entity table: otherwise CHANNEL_INVALID / PEER_ID_INVALID.
  ``@name`` resolves for non-members too (Telegram answers it with the account's ``left`` flag);
* ``dialogs()`` is read in pages of 100, main list then archive, one "dialogs" request per page, as
  Telethon's ``iter_dialogs`` reads ``messages.getDialogs`` (``sandbox.world.dialogs``);
* memberships can change during a test: ``remove_member``, ``add_member`` and ``ban`` (which leaves the
  chat in the account's dialogs as kicked);
* a repeated ``random_id`` from one account to one chat is delivered once (the original message id is
  returned), as Telegram does;
* one live connection per account (a second one is recorded as ``two_live_ports``);
* a frozen account connects and reads its app config (which carries its freeze dates and appeal link)
  but every other request is FROZEN_METHOD_INVALID, and asking again is a ``frozen`` violation
  (``sandbox.world.frozen``);
* an account keeps the API id and device it first connected with (``identity``): a connect with another
  is recorded as ``identity_change``.

Accounts are keyed by the sha256 of the session file's auth key (read read-only from the real file),
so an account added for a test still matches after the pool has imported and renamed the file; a
session without a readable file is keyed ``session-<id>``.

Lenient mode (``World(clock, lenient=True)``, the demo's default) differs from a strict world in exactly
three places, all at first sight of something the world was not told about: an unknown account is let
in; an unknown ``@name`` or marked id resolves to a chat it makes up that every account is a member of,
where any topic and any ``@channel/<id>`` post exists; a marked id resolves without the account having
seen the chat's hash (a non-member of a private chat still gets CHANNEL_PRIVATE). Chats the world
was told about keep their members and rules in both modes. Scripted worlds come from code or a JSON file (see
``World.from_dict``). With a log path, delivered posts and the chats a lenient world made up outlive
the process (``sandbox.world.logs``).

Modules: ``model`` (accounts, chats, deliveries, violations), ``faults`` (scripted failures), ``logs``
(the JSON-lines logs), ``waits`` (flood waits per method class), ``dialogs`` (an account's dialogs and
their pages), ``port`` (``SimPort``, one
account's connection), ``simulation`` (``World``), ``joins`` (joining: public chats, invite links, approval,
the channel cap; ``World.joins``), ``posts`` (reading a source post and its album, a forward's source
rules, closed topics: a forward carrying part of an album is a ``partial_album`` violation), ``frozen``
(frozen accounts and their app config), ``identity`` (each account's first API id and device), ``media``
(own media posts: one upload per connection and file, album and chat media rules).
"""

from sandbox.world.simulation import World

__all__ = ["World"]
