"""The chains: records that move from person to person, one step at a time.

Three things in the SOP go through a chain: a backup disk's custody (``custody``:
``CUSTODY``), a report's sign-off (``report``: ``REPORT``) and a request to send a message
(``request``: ``REQUEST``). Each is one ``base.Chain`` built from one table, and every
caller (services, selectors, views, the dashboard's inboxes, the CLI) asks the chain;
nobody else reads a table.

Vocabulary:

- *chain*: the state machine of one kind of record, with its table of transitions.
- *state*: where a record is now (a disk ``in_safe``, a report ``submitted``, a request
  ``ditugaskan-kasi``). Stored on the record as the state's value.
- *step*: what a person does to move a record on (a disk's *move*: ``checkout``; a
  report's ``approve``; a request's ``assign``). Each step taken is a history row and an
  audit entry.
- *transition*: a row of the table: a step, the states it may start from, the state it
  leads to, the access action it needs (whose roles are the access matrix's), and whether
  it needs a reason, is signed, is the holder's only, or hands the record to a role.
- *holder*: the role a record waits for in a state (requests: the Kadis for a new one, then
  the Kabid, the Kasi, the Sandiman). Once a record is *assigned* to a user, only that user
  holds it. A chain without holders (custody, reports) lets any user of the step's role act.
- *open step*: a step this user may take on this record now (``open_steps``; the buttons a
  page shows). ``may`` asks about one step, ``check`` refuses with the chain's own error.
- *inbox*: the records that wait for a user: some step is open to them
  (``waits_for``; ``waiting_states(role)`` is what an inbox selects).
"""

from brankas.core.chains.base import Chain, Transition

__all__ = ["Chain", "Transition"]
