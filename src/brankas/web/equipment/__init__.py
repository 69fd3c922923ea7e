"""The equipment register, its maintenance log and the disks' health (issue 17)."""
