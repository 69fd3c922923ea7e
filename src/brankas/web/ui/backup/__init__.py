"""The backup pages: a backup, checking a disk, the disks, the runs and their control lists."""
