"""The unit's equipment and the health of its backup disks (issue 17), plain Python.

Vocabulary:

- *item*: one piece of the SOP's equipment (PERALATAN/PERLENGKAPAN): its kind and
  condition are the official terms of ``core.terms`` (``EquipmentKind``, ``Condition``).
- *health*: what ``smartctl --json`` says of the disk under a backup folder
  (``smart.Health``): ``good`` only when the disk itself reported that its SMART
  self-assessment passed; ``failed`` when it reported failing; ``unknown`` whenever it
  could not be read (no smartctl, no block device, a USB bridge that passes no SMART
  commands, no permission, a timeout): never taken for good.
- *counters*: the failure-predicting counts (reallocated, pending and uncorrectable
  sectors, interface CRC errors, NVMe media errors); a counter that *rose* since the
  disk's previous reading is named in the warning.
- *runs left*: the disk's free space divided by what the recent runs added
  (``forecast.runs_left``).
- *advice*: each warning's text in Bahasa Indonesia and English, naming what to do
  (``advice.text``).
"""
