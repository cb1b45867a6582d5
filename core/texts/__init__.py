"""Every user-facing text of adbot, keyed for translation, in the bottom layer so every layer can use it.

One module per audience or subject; each text is a function, worded when called so it reads in the
reader's language (``core.i18n``): a fixed text keeps its UPPER_CASE name (``BTN_POST()``), the others
take the values they interpolate as named placeholders; each module is one translation domain
(``core/locales/<lang>/LC_MESSAGES/<module>.po``, ``scripts/i18n.py``):

* ``customer``: what a customer reads in the bot: menu, help, generic answers, interval, run/stop;
* ``post``: setting the customer's post (/post): the question, refusals, the saved post;
* ``posts``: the campaign's several posts (/posts): the list, a post's screen, rotation, copy options,
  the post of each group (issue 19);
* ``groups``: the customer's groups: /groups, adding, removing, resuming;
* ``status``: the campaign's state for the customer: /status, /stats, /logs;
* ``onboarding``: strangers, admins without a plan, ended plans;
* ``admin``: the admin panel, commands and reports, refused admin input (API pairs, plans), and the
  plain-text reports of the command line and start-up (pool status, session folder findings);
* ``pairs``: the API pairs as the admin manages them (/pairs, /addpair, /delpair);
* ``plans``: granting and revoking plans (/grant, /revoke): usage lines, refused numbers, reports;
* ``events``: the notifications of ``core.states.EventKind`` (to the customer, or to the admins);
* ``reach``: whether a customer's sessions can reach a group: the reasons in words, what to do, and
  the wording of the GROUP_UNREACHABLE / GROUP_REACHABLE notifications;
* ``errors``: the wording of domain errors raised below the bot and shared by its layers (pool,
  storage, failures);
* ``links``: refused post links and group references, and what is known of a group's chat;
* ``intake``: why an uploaded session file, sidecar or archive is refused;
* ``tdata``: why a Telegram Desktop tdata folder (zipped) is refused, and the passcode exchange (bot, CLI);
* ``config``: what a configuration problem says (``core.errors.ConfigError``);
* ``bot_profile``: the command menus, the bot's description and short description (issue 18);
* ``settings``: /settings: language, time zone, notification level (issue 18);
* ``schedule``: /schedule: the days and hours a campaign's cycles may start in (issue 19);
* ``limits``: the pacing limits and daily send cap as /health and ``adbot health`` show them, and
  ``adbot check-config``'s warnings about values less safe than the defaults;
* ``cli``: the operator's command line (``adbot``): each command's help and what it prints;
* ``reach``: whether a customer's sessions can post in each of their groups: the reasons, the events'
  wording (engine) and the screens (the customer's /groups states, the admins' reach screen);
* ``outcomes``: ``OUTCOME_TEXTS``, the human wording of ``core.outcomes.OutcomeKind``, and the stored
  reasons and error names said in words (never shown as names);
* ``customer_log``: the lines of a customer's own log (/logs, the day's file) in the reader's language;
* ``stats``: /stats by period and per group (with the proof of posting), the chart's words (issue 19);
* ``export``: /export: the period picker and the CSV document's caption (issue 19);
* ``proxy``: per-session proxies: why one is refused, /proxy and ``adbot pool proxy``, health lines;
* ``joins``: joins an admin asks for (``/join``, ``/joins``, ``adbot pool join``) and refused join targets;
* ``api``: what a customer is told of a change made through the integration API (issue 20 part C);
* ``fmt``: formatting helpers (escaping, numbers, times and durations in the reader's locale and zone);
* ``split``: counting and splitting: in Telegram's unit (UTF-16 code units) for its limits, and in
  characters as people see them (``char_count``, ``clip``: an emoji is one) for every length a text shows.

HTML parse mode: anything that came from a user (post text, group names, file names, error details)
goes through ``fmt.esc()`` before it is put into an HTML text. Texts documented as plain text become
``AdbotError.user_message``, which the bot's error handler escapes.
"""
